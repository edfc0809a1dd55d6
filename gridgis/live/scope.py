"""Who sees which live event, decided once when a stream opens.

A stream cannot ask the database about every event for every viewer (a query per viewer per event), so
the rules of cases_for are applied in memory to the facts each event row carries (feed.Audience): the
territory code prefixes of the user's territorial roles (cases' own helper), the departments they handle
for, and the cases that are theirs (taken in, accepted, assigned). tests/live/test_scope.py holds this to
cases_for for every kind of viewer, so a rule added there fails the test until it is added here.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridgis.cases.selectors import territorial_prefixes
from gridgis.workforce.models import StaffRole
from gridgis.workforce.selectors import EVERYTHING

from .feed import Audience


@dataclass(frozen=True)
class ViewerScope:
    prefixes: tuple[str, ...] = ()
    user_id: int | None = None
    department_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, user) -> ViewerScope:
        if user is None or not user.is_authenticated or not user.is_active:
            return cls()
        if user.is_superuser:
            return cls(EVERYTHING, user.pk)
        departments = StaffRole.objects.filter(user=user, role=StaffRole.Role.DEPARTMENT_HANDLER,
                                               department__isnull=False).values_list("department_id", flat=True)
        return cls(territorial_prefixes(user), user.pk, frozenset(departments))

    def sees(self, audience: Audience) -> bool:
        return (
            audience.territory_code.startswith(self.prefixes)
            or self.user_id in audience.user_ids
            or not self.department_ids.isdisjoint(audience.department_ids)
        )

    def covers(self, community: str) -> bool:
        """Whether the viewer's territory overlaps the community: it lies within one of the viewer's prefixes
        (a street's or district's staff) or holds one (a grid worker of one of its grids)."""
        return any(community.startswith(p) or p.startswith(community) for p in self.prefixes)
