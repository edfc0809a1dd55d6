"""Reads on cases, always through the caller's territorial scope."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from gridgis.territory.models import Building
from gridgis.workforce.models import StaffRole
from gridgis.workforce.selectors import in_scope

from .actors import Actor, actor_for, facts_for, with_facts
from .models import Case, CaseDepartment, CaseEvent, Category


def territorial_prefixes(user) -> tuple[str, ...]:
    """The territory code prefixes of the cases `user` sees by territory (see Actor.case_prefixes)."""
    return actor_for(user).case_prefixes


def cases_for(user, actor: Actor | None = None) -> QuerySet[Case]:
    """The one scope function for cases: every list, detail, count and transition goes through it.

    Visible: cases filed under the user's territory (grid workers: their grids; staff: their scope code),
    cases of the departments the user handles for (lead or co-handling), and cases the user took in,
    accepted or is the assigned grid worker of. Superusers see everything; anonymous and inactive users
    nothing. Pass the caller's `actor` (actors.actor_for) when it is at hand: no query then. Written with a
    subquery and no joins, so a transition can lock the row through it."""
    actor = actor if actor is not None else actor_for(user)
    if actor.user_id is None:
        return Case.objects.none()
    if actor.superuser:
        return Case.objects.all()
    visible = Q(created_by_id=actor.user_id) | Q(handler_id=actor.user_id)
    if actor.worker_id is not None:
        visible |= Q(assignee_id=actor.worker_id)
    if actor.case_prefixes:
        visible |= in_scope(actor.case_prefixes, field="territory_code", with_ancestors=False)
    if actor.department_ids:
        mine = CaseDepartment.objects.filter(department_id__in=actor.department_ids).values("case_id")
        visible |= Q(pk__in=mine)
    return Case.objects.filter(visible)


def for_display(cases: QuerySet[Case], *, many: bool = True) -> QuerySet[Case]:
    """Cases with everything CaseSerializer reads, in a fixed number of queries. Few joins: a query joining
    a dozen tables spent more time being compiled and planned than run. Territory nodes come without their
    polygons, which the case shape never shows (a street's thousands of vertices, parsed per case). For one
    case (`many=False`) the rarely-set links are left to load on access: prefetching a link that is empty
    costs more Python than the query it would save."""
    cases = (
        with_facts(cases)
        .select_related("category", "grid", "community", "street", "assignee", "handler")
        .defer("grid__geom", "community__geom", "street__geom")
        .prefetch_related("photos")
    )
    if not many:
        return cases
    return cases.prefetch_related("assignee_staff", "duplicate_of",
                                  Prefetch("geocode_building", Building.objects.defer("geom")))


def case_detail(user, pk: int, actor: Actor | None = None) -> Case | None:
    """The case, or None when it does not exist or lies outside the user's scope (never say which)."""
    return for_display(cases_for(user, actor), many=False).filter(pk=pk).first()


def _mine(actor: Actor) -> Q:
    """Cases the actor answers for now: accepted by them, dispatched to them or to their department."""
    answer = Q(handler_id=actor.user_id) | Q(assignee_staff_id=actor.user_id)
    if actor.worker_id is not None:
        answer |= Q(tier=Category.Tier.GRID, assignee_id=actor.worker_id)
    if actor.department_ids:
        leads = CaseDepartment.objects.filter(department_id__in=actor.department_ids, role=CaseDepartment.Role.LEAD)
        answer |= Q(pk__in=leads.values("case_id"))
    return answer


def case_list(user, *, actor: Actor | None = None, status: list[str] | None = None, overdue: bool | None = None,
              supervised: bool | None = None, grid: str = "", mine: bool = False,
              ordering: str = "-received_at") -> QuerySet[Case]:
    """The case list of the API, in the user's scope, ready for CaseSerializer (no query per case)."""
    actor = actor if actor is not None else actor_for(user)
    cases = cases_for(user, actor)
    if status:
        cases = cases.filter(status__in=status)
    if overdue is not None:
        cases = cases.filter(overdue=overdue)
    if supervised is not None:
        cases = cases.filter(supervised=supervised)
    if grid:
        cases = cases.filter(territory_code__startswith=grid)
    if mine:
        cases = cases.filter(_mine(actor))
    return for_display(cases).order_by(ordering, "-pk")


def case_timeline(user, pk: int, actor: Actor | None = None) -> QuerySet[CaseEvent] | None:
    """The case's timeline, or None when the case is not in the user's scope."""
    if not cases_for(user, actor).filter(pk=pk).exists():
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
