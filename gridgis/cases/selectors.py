"""Reads on cases, always through the caller's territorial scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from gridgis.workforce.models import StaffRole
from gridgis.workforce.selectors import in_scope, scope_prefixes

from .models import Case


def cases_for(user) -> QuerySet[Case]:
    """Cases filed under the user's territory, plus those the user took in themself."""
    visible = in_scope(scope_prefixes(user), field="territory_code", with_ancestors=False)
    if user is not None and user.is_authenticated:
        visible |= Q(created_by=user)
    return Case.objects.filter(visible)


def case_detail(user, pk: int) -> Case | None:
    """The case, or None when it does not exist or lies outside the user's scope (never say which)."""
    return (
        cases_for(user)
        .select_related("category", "grid", "community", "street", "assignee", "assignee_staff",
                        "geocode_building")
        .prefetch_related("photos")
        .filter(pk=pk)
        .first()
    )


_ROLES_THAT_CALL_BACK = {StaffRole.Role.COMMAND_CENTRE, StaffRole.Role.STREET_STAFF, StaffRole.Role.COMMUNITY_STAFF}


def may_see_reporter(user, case: Case) -> bool:
    """Whoever handles the case or calls the citizen back sees the phone number; others see it masked."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or case.created_by_id == user.pk:
        return True
    if case.assignee is not None and case.assignee.user_id == user.pk:
        return True
    if case.assignee_staff_id == user.pk:
        return True
    return user.staff_roles.filter(role__in=_ROLES_THAT_CALL_BACK).exists()


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not to call it."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
