"""Reads on cases, always through the caller's territorial scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole
from gridgis.workforce.selectors import in_scope

from .actors import Actor, actor_for, facts_for, with_facts
from .models import Case, CaseDepartment, CaseEvent, Category

# Department handlers see their department's cases, not the territory their role names (that only places
# them in a district); every other role sees the cases filed under its territory code prefixes.
_TERRITORIAL_ROLES = [r for r in StaffRole.Role.values if r != StaffRole.Role.DEPARTMENT_HANDLER]


def _territorial_prefixes(user) -> tuple[str, ...]:
    prefixes = set(StaffRole.objects.filter(user=user, role__in=_TERRITORIAL_ROLES)
                   .values_list("scope_code", flat=True))
    prefixes.update(GridAssignment.objects.filter(worker__user=user).values_list("grid__code", flat=True))
    return tuple(sorted(prefixes))


def cases_for(user) -> QuerySet[Case]:
    """The one scope function for cases: every list, detail, count and transition goes through it.

    Visible: cases filed under the user's territory (grid workers: their grids; staff: their scope code),
    cases of the departments the user handles for (lead or co-handling), and cases the user took in,
    accepted or is the assigned grid worker of. Superusers see everything; anonymous users nothing.
    Written with subqueries only (no joins), so a transition can lock the row through it."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    if user.is_superuser:
        return Case.objects.all()
    visible = Q(created_by=user) | Q(handler=user)
    visible |= Q(assignee__in=GridWorker.objects.filter(user=user).values("pk"))
    prefixes = _territorial_prefixes(user)
    if prefixes:
        visible |= in_scope(prefixes, field="territory_code", with_ancestors=False)
    departments = StaffRole.objects.filter(user=user, role=StaffRole.Role.DEPARTMENT_HANDLER,
                                           department__isnull=False).values("department_id")
    visible |= Q(pk__in=CaseDepartment.objects.filter(department__in=departments).values("case_id"))
    return Case.objects.filter(visible)


def case_detail(user, pk: int) -> Case | None:
    """The case, or None when it does not exist or lies outside the user's scope (never say which)."""
    return (
        with_facts(cases_for(user))
        .select_related("category", "grid", "community", "street", "assignee", "assignee_staff",
                        "geocode_building", "handler", "duplicate_of")
        .prefetch_related("photos")
        .filter(pk=pk)
        .first()
    )


def _mine(user) -> Q:
    """Cases the user answers for now: accepted by them, dispatched to them or to their department."""
    departments = StaffRole.objects.filter(user=user, role=StaffRole.Role.DEPARTMENT_HANDLER).values("department_id")
    leads = CaseDepartment.objects.filter(department__in=departments, role=CaseDepartment.Role.LEAD)
    return (Q(handler=user) | Q(assignee_staff=user) | Q(pk__in=leads.values("case_id"))
            | Q(tier=Category.Tier.GRID, assignee__in=GridWorker.objects.filter(user=user).values("pk")))


def case_list(user, *, status: list[str] | None = None, overdue: bool | None = None,
              supervised: bool | None = None, grid: str = "", mine: bool = False,
              ordering: str = "-received_at") -> QuerySet[Case]:
    """The case list of the API, in the user's scope, ready for CaseSerializer (no query per case)."""
    cases = cases_for(user)
    if status:
        cases = cases.filter(status__in=status)
    if overdue is not None:
        cases = cases.filter(overdue=overdue)
    if supervised is not None:
        cases = cases.filter(supervised=supervised)
    if grid:
        cases = cases.filter(territory_code__startswith=grid)
    if mine:
        cases = cases.filter(_mine(user))
    return (
        with_facts(cases)
        .select_related("category", "grid", "community", "street", "assignee", "assignee_staff",
                        "geocode_building", "handler", "duplicate_of")
        .prefetch_related("photos")
        .order_by(ordering, "-pk")
    )


def case_timeline(user, pk: int) -> QuerySet[CaseEvent] | None:
    """The case's timeline, or None when the case is not in the user's scope."""
    if not cases_for(user).filter(pk=pk).exists():
        return None
    return CaseEvent.objects.filter(case_id=pk).select_related("actor").prefetch_related("photos").order_by("at", "pk")


_ROLES_THAT_CALL_BACK = (StaffRole.Role.COMMAND_CENTRE, StaffRole.Role.STREET_STAFF,
                         StaffRole.Role.COMMUNITY_STAFF)


def may_see_reporter(user, case: Case, actor: Actor | None = None) -> bool:
    """Whoever handles the case or calls the citizen back sees the phone number; others see it masked.
    Pass the caller's `actor` (actors.actor_for) when deciding for many cases: no query per case."""
    if user is None or not user.is_authenticated:
        return False
    actor = actor or actor_for(user)
    if actor.superuser or user.pk in (case.created_by_id, case.handler_id, case.assignee_staff_id):
        return True
    if actor.worker_id is not None and case.assignee_id == actor.worker_id:
        return True
    if actor.department_ids and actor.department_ids & facts_for(case).department_ids:
        return True
    return actor.has_role(*_ROLES_THAT_CALL_BACK)


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not to call it."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
