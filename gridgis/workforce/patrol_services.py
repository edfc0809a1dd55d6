"""Writes on patrols: start, append GPS points, end (rules in patrols.py). Only the worker who owns a patrol
writes to it; each service locks the row, so a retried batch racing its original is applied once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.gis.geos import LineString, Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import GridWorker, Patrol
from .patrols import IDLE_END, TrackPoint, usable

KEEP_BATCH_KEYS = 200


class NotAWorker(Exception):
    """Only a grid worker patrols (403)."""


class PatrolNotFound(Exception):
    """No such patrol of the caller's (404)."""


class PatrolEnded(Exception):
    """Points for a patrol that has ended (409)."""


@dataclass(frozen=True)
class Started:
    patrol: Patrol
    created: bool


@dataclass(frozen=True)
class Appended:
    patrol: Patrol
    accepted: int
    ignored: int
    replayed: bool = False


def _worker(user) -> GridWorker:
    worker = GridWorker.objects.filter(user=user).first() if user and user.is_authenticated else None
    if worker is None:
        raise NotAWorker
    return worker


def _last_activity(patrol: Patrol) -> dt.datetime:
    return patrol.last_point_at or patrol.started_at


@transaction.atomic
def patrol_start(*, by, started_at: dt.datetime | None = None) -> Started:
    """The caller's active patrol, or a new one from `started_at` (default now). An active patrol idle for
    longer than IDLE_END is ended at its last activity first."""
    worker = _worker(by)
    now = timezone.now()
    active = Patrol.objects.select_for_update().filter(worker=worker, ended_at__isnull=True).first()
    if active is not None:
        if now - _last_activity(active) <= IDLE_END:
            return Started(active, created=False)
        active.ended_at = _last_activity(active)
        active.save(update_fields=["ended_at"])
    try:
        with transaction.atomic():
            patrol = Patrol.objects.create(worker=worker, started_at=started_at or now)
    except IntegrityError:  # a concurrent start won the one active slot: that one is ours too
        return Started(Patrol.objects.get(worker=worker, ended_at__isnull=True), created=False)
    return Started(patrol, created=True)


def _locked(pk: int, by) -> Patrol:
    patrol = Patrol.objects.select_for_update().filter(pk=pk, worker__user=by).first() if by.is_authenticated else None
    if patrol is None:
        raise PatrolNotFound(pk)
    return patrol


def _coords(patrol: Patrol) -> list[tuple[float, float]]:
    if patrol.track is not None:
        return list(patrol.track.coords)
    if patrol.last_point is not None:
        return [patrol.last_point.coords]
    return []


@transaction.atomic
def patrol_append(*, patrol: int, by, points: list[TrackPoint], key: str = "") -> Appended:
    """Extends the track with the usable points of a batch; the same `key` twice applies it once."""
    row = _locked(patrol, by)
    if row.ended_at is not None:
        raise PatrolEnded(patrol)
    if key and key in row.batch_keys:
        return Appended(row, accepted=0, ignored=len(points), replayed=True)
    last = None
    if row.last_point is not None:
        last = TrackPoint(row.last_point.x, row.last_point.y, row.last_point_at)
    kept = usable(points, after=last, started_at=row.started_at)
    if key:
        row.batch_keys = [*row.batch_keys, key][-KEEP_BATCH_KEYS:]
    fields = ["batch_keys"]
    if kept:
        coords = _coords(row) + [(p.lon, p.lat) for p in kept]
        if len(coords) >= 2:
            row.track = LineString(coords, srid=4326)
        row.last_point = Point(kept[-1].lon, kept[-1].lat, srid=4326)
        row.last_point_at = kept[-1].t
        row.point_count += len(kept)
        fields += ["track", "last_point", "last_point_at", "point_count"]
    row.save(update_fields=fields)
    if kept and row.track is not None:
        row.distance_m = _geodesic_length(row.pk)
    return Appended(row, accepted=len(kept), ignored=len(points) - len(kept))


def _geodesic_length(pk: int) -> float:
    """The track's length on the WGS84 spheroid (PostGIS geography), stored and returned."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE workforce_patrol SET distance_m = COALESCE(ST_Length(track::geography), 0) WHERE id = %s "
            "RETURNING distance_m", [pk],
        )
        return cursor.fetchone()[0]


@transaction.atomic
def patrol_end(*, patrol: int, by, at: dt.datetime | None = None) -> Patrol:
    """Ends the patrol at `at` (default now; never before its last point). Ending twice changes nothing."""
    row = _locked(patrol, by)
    if row.ended_at is not None:
        return row
    end = min(at or timezone.now(), timezone.now())
    row.ended_at = max(end, _last_activity(row))
    row.save(update_fields=["ended_at"])
    return row
