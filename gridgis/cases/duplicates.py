"""Possible duplicates: a case of the same category within 50 m and 24 h of an open one is linked to it
(shown to the command centre, never merged automatically)."""

from __future__ import annotations

import datetime as dt
import math

from django.db.models.expressions import RawSQL

from .models import Case

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = dt.timedelta(hours=24)
_METRES_PER_DEGREE = 111_320.0


def possible_duplicate_of(case: Case) -> Case | None:
    """The nearest open case of the same category within 50 m, received within 24 h before this one."""
    if case.location is None or case.category_id is None:
        return None
    point = case.location
    # A degree box first, so the spatial index does the work; then the exact distance on the spheroid.
    box_deg = DUPLICATE_RADIUS_M / (_METRES_PER_DEGREE * max(math.cos(math.radians(point.y)), 0.01))
    distance = RawSQL(
        "ST_Distance(location::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)",
        (point.x, point.y),
    )
    return (
        Case.objects.filter(
            category_id=case.category_id,
            status__in=Case.OPEN_STATUSES,
            received_at__gte=case.received_at - DUPLICATE_WINDOW,
            received_at__lte=case.received_at,
            location__dwithin=(point, box_deg),
        )
        .exclude(pk=case.pk)
        .annotate(distance_m=distance)
        .filter(distance_m__lte=DUPLICATE_RADIUS_M)
        .order_by("distance_m", "received_at")
        .first()
    )
