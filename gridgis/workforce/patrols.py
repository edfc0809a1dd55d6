"""Patrols (巡查): the rules a GPS track follows, shared by the phone page (worker.js mirrors them) and the
server, which applies them again because a phone's clock and filter are not to be trusted.

- A point is (lon, lat) in WGS84 with its time `t` and horizontal `accuracy` in metres.
- Poor fixes are dropped: accuracy worse than 50 m, or a jump from the previous kept point that would take
  more than 120 km/h (GPS multipath in a street canyon, not a worker on foot or a scooter).
- Points append in time order only: a point no later than the track's last one (or from before the patrol
  started, give or take a minute of clock skew) is ignored, so a batch sent twice (the offline queue
  retries) changes nothing the second time.
- One active patrol per worker. Starting while one is active returns that one (the phone page reloaded in
  the middle of a patrol carries on); a patrol idle for IDLE_END (no point and no start) is ended at its
  last activity first, so yesterday's forgotten patrol does not swallow today's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyproj import Geod

MAX_ACCURACY_M = 50.0
MAX_SPEED_KMH = 120.0
MAX_BATCH = 1000
IDLE_END = dt.timedelta(hours=2)
# A phone's clock may run a little ahead of the server's; more than this is a wrong clock or a forgery.
MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)
START_SKEW = dt.timedelta(minutes=1)

WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True)
class TrackPoint:
    lon: float
    lat: float
    t: dt.datetime
    accuracy: float | None = None


def metres_between(a: TrackPoint, b: TrackPoint) -> float:
    return WGS84.inv(a.lon, a.lat, b.lon, b.lat)[2]


def usable(points: list[TrackPoint], *, after: TrackPoint | None, started_at: dt.datetime) -> list[TrackPoint]:
    """The points that extend a track ending at `after` of a patrol from `started_at`: sorted by time, later
    than both, accurate enough, and no faster than MAX_SPEED_KMH from the previous kept point."""
    kept: list[TrackPoint] = []
    previous = after
    for point in sorted(points, key=lambda p: p.t):
        if point.t < started_at - START_SKEW or (previous is not None and point.t <= previous.t):
            continue
        if point.accuracy is not None and point.accuracy > MAX_ACCURACY_M:
            continue
        if previous is not None:
            seconds = (point.t - previous.t).total_seconds()
            if metres_between(previous, point) / seconds * 3.6 > MAX_SPEED_KMH:
                continue
        kept.append(point)
        previous = point
    return kept
