"""Writes about people: accounts, roles and their territorial scope."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from gridgis.territory.models import District

from .models import GridAssignment, GridWorker, StaffRole


@dataclass(frozen=True)
class NewAccount:
    username: str
    password: str
    description: str


def _new_user(username: str, *, full_name: str = "") -> tuple[object, str]:
    password = secrets.token_urlsafe(9)
    user = get_user_model().objects.create_user(username=username, password=password, first_name=full_name)
    return user, password


@transaction.atomic
def demo_accounts_create(*, workers: int = 3) -> list[NewAccount]:
    """Creates the demo accounts that do not exist yet (a command-centre user and a planner for the first
    district, logins for the first grid workers) and returns them with their one-time passwords."""
    district = District.objects.order_by("code").first()
    if district is None:
        return []
    User = get_user_model()
    created: list[NewAccount] = []
    staff = [
        ("command", StaffRole.Role.COMMAND_CENTRE, "指挥中心"),
        ("planner", StaffRole.Role.PLANNER, "网格规划员"),
    ]
    for username, role, label in staff:
        if User.objects.filter(username=username).exists():
            continue
        user, password = _new_user(username, full_name=label)
        StaffRole.objects.create(user=user, role=role, scope_code=district.code)
        created.append(NewAccount(username, password, f"{label} · {district.name} ({district.code})"))
    primaries = (
        GridWorker.objects.filter(assignments__role=GridAssignment.Role.PRIMARY)
        .order_by("worker_id").distinct()[:workers]
    )
    for worker in primaries:
        if worker.user_id is not None:
            continue
        username = f"worker{worker.worker_id}".lower()
        if User.objects.filter(username=username).exists():
            continue
        user, password = _new_user(username, full_name=worker.name)
        worker.user = user
        worker.save(update_fields=["user"])
        grids = ", ".join(worker.grids.order_by("code").values_list("code", flat=True))
        created.append(NewAccount(username, password, f"网格员 {worker.name} · {grids}"))
    return created
