"""Who is asking: a user's roles, scopes, departments and grids, read once per request or transition, so
deciding what they may do with many cases costs no further queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Prefetch, Subquery

from gridgis.prepared import fetchall_prepared
from gridgis.territory.models import Grid
from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole

from .models import Case, CaseDepartment, CaseExtension

Role = StaffRole.Role


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    superuser: bool = False
    # role → territory code prefixes it covers (department handlers' scope comes from their department)
    prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    department_ids: frozenset[int] = frozenset()
    worker_id: int | None = None
    grid_ids: frozenset[int] = frozenset()
    grid_codes: tuple[str, ...] = ()

    def covers(self, role: str, code: str) -> bool:
        return any(code.startswith(prefix) for prefix in self.prefixes.get(role, ()))

    def has_role(self, *roles: str) -> bool:
        return any(self.prefixes.get(role) for role in roles)

    @property
    def case_prefixes(self) -> tuple[str, ...]:
        """The territory code prefixes of the cases this actor sees by territory: their grids and the
        scopes of every role but department handler (whose role's scope only places them in a district)."""
        codes = {p for role, scope in self.prefixes.items() if role != Role.DEPARTMENT_HANDLER for p in scope}
        return tuple(sorted(codes.union(self.grid_codes)))


NOBODY = Actor()


# The user's staff roles, then their grid worker record with one row per grid (one row with no grid when it
# has none; a user has at most one worker record). One prepared statement: this runs for every request, and
# the two ORM queries it replaces cost more to compile than to run.
_ROLES_AND_GRIDS = f"""
SELECT r.role, r.scope_code, r.department_id, NULL::bigint, NULL::bigint, NULL::text
FROM {StaffRole._meta.db_table} r WHERE r.user_id = %(user)s
UNION ALL
SELECT NULL, NULL, NULL, w.id, a.grid_id, g.code
FROM {GridWorker._meta.db_table} w
LEFT JOIN {GridAssignment._meta.db_table} a ON a.worker_id = w.id
LEFT JOIN {Grid._meta.db_table} g ON g.id = a.grid_id
WHERE w.user_id = %(user)s
"""  # noqa: S608 (table names only)


def actor_for(user) -> Actor:
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    if user.is_superuser:
        return Actor(user_id=user.pk, superuser=True)
    prefixes: dict[str, list[str]] = {}
    departments = set()
    worker_id, grids, codes = None, set(), []
    for role, scope, department, worker, grid, code in fetchall_prepared(_ROLES_AND_GRIDS, {"user": user.pk}):
        if worker is not None:
            worker_id = worker
            if grid is not None:
                grids.add(grid)
            if code:
                codes.append(code)
            continue
        prefixes.setdefault(role, []).append(scope)
        if role == Role.DEPARTMENT_HANDLER and department is not None:
            departments.add(department)
    return Actor(
        user_id=user.pk, prefixes={k: tuple(v) for k, v in prefixes.items()},
        department_ids=frozenset(departments), worker_id=worker_id, grid_ids=frozenset(grids),
        grid_codes=tuple(sorted(codes)),
    )


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need beyond the case row: its departments and whether an extension waits."""

    lead_department_id: int | None = None
    co_department_ids: frozenset[int] = frozenset()
    pending_extension: bool = False

    @property
    def department_ids(self) -> frozenset[int]:
        lead = {self.lead_department_id} if self.lead_department_id else set()
        return self.co_department_ids | lead


def _pending():
    return Exists(CaseExtension.objects.filter(case=OuterRef("pk"), decision=CaseExtension.Decision.PENDING))


def with_facts(queryset):
    """Cases with what facts_for (and the case shape's department list) need, in one more query (lists)."""
    departments = Prefetch("departments", CaseDepartment.objects.select_related("department"))
    return queryset.prefetch_related(departments).annotate(pending_extension=_pending())


def with_facts_inline(queryset):
    """Cases with what facts_for needs in the same row (a transition's locked read: no further query)."""
    roles = CaseDepartment.objects.filter(case=OuterRef("pk"))
    return queryset.annotate(
        pending_extension=_pending(),
        facts_lead=Subquery(roles.filter(role=CaseDepartment.Role.LEAD).values("department_id")[:1]),
        facts_co=ArraySubquery(roles.filter(role=CaseDepartment.Role.CO).values("department_id")),
    )


def facts_for(case: Case) -> CaseFacts:
    pending = getattr(case, "pending_extension", None)
    if pending is None:
        pending = case.extensions.filter(decision=CaseExtension.Decision.PENDING).exists()
    if hasattr(case, "facts_lead"):
        return CaseFacts(case.facts_lead, frozenset(case.facts_co), pending)
    roles = [(d.department_id, d.role) for d in case.departments.all()]
    lead = next((dept for dept, role in roles if role == CaseDepartment.Role.LEAD), None)
    co = frozenset(dept for dept, role in roles if role == CaseDepartment.Role.CO)
    return CaseFacts(lead, co, pending)
