"""Possible duplicates: a case of the same category within 50 m and 24 h of an open one is linked to it
(shown to the command centre, never merged automatically)."""

from __future__ import annotations

import datetime as dt
import math

from .models import Case

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = dt.timedelta(hours=24)
_METRES_PER_DEGREE = 111_320.0

# The open cases of one category received in a 24 h window are few, and the partial index
# case_open_cat_received_idx holds exactly those; a degree box narrows them by position, then the
# distance is measured on the spheroid. Plain SQL: this runs for every report, and the ORM's compiling
# cost more than the query.
# The statuses are written in, not passed: the index's predicate must be provable from the query's text.
_OPEN = ", ".join(f"'{status}'" for status in Case.OPEN_STATUSES)
NEAREST_OPEN = f"""
SELECT id, number FROM (
  SELECT id, number, received_at,
         ST_Distance(location::geography, ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)::geography) AS distance_m
  FROM cases_case
  WHERE category_id = %(category)s AND status IN ({_OPEN}) AND received_at BETWEEN %(since)s AND %(until)s
    AND ST_DWithin(location, ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326), %(box)s)
    AND id IS DISTINCT FROM %(pk)s
) near
WHERE distance_m <= %(radius)s
ORDER BY distance_m, received_at
LIMIT 1
"""  # noqa: S608 (constants only)


def nearest_open_params(case: Case) -> dict:
    """The parameters of NEAREST_OPEN for `case` (all None, which finds nothing, without a point or category)."""
    if case.location is None or case.category_id is None:
        return dict.fromkeys(("x", "y", "category", "since", "until", "box", "pk", "radius"))
    point = case.location
    box_deg = DUPLICATE_RADIUS_M / (_METRES_PER_DEGREE * max(math.cos(math.radians(point.y)), 0.01))
    return {
        "x": point.x, "y": point.y, "category": case.category_id, "since": case.received_at - DUPLICATE_WINDOW,
        "until": case.received_at, "box": box_deg, "pk": case.pk, "radius": DUPLICATE_RADIUS_M,
    }

