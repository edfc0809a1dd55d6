"""Fixtures for the closed-loop tests: the town of tests.territory_factories, a second district, departments,
one user per role, cases made by the intake service and walked to any status by the workflow services.

Users (besides alice, bob and charlie):
cindy  community staff of the town's community     steve  street staff of its street
dave   deputy grid worker of the west grid (bob's)  paul   planner of the district (read only)
dora   handler of 210302-CGJ (城市管理局)            sam    handler of 210302-SWJ (水务局)
olga   command centre of the other district 210303  root   superuser
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from gridgis.territory.models import Community, District, Grid, Street
from gridgis.workforce.models import Department, GridAssignment, GridWorker, StaffRole
from tests.territory_factories import make_user, square


def staff(username: str, role: str, scope: str, department: Department | None = None):
    user = make_user(username, full_name=username.title())
    StaffRole.objects.create(user=user, role=role, scope_code=scope, department=department)
    return user


@pytest.fixture
def fast_hashing(settings):
    """A dozen users per test: PBKDF2 with a million rounds would make the setup the slowest part."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def far(town):
    """A second district with one grid and its worker (fred), and its command centre (olga)."""
    district = District.objects.create(code="210303", name="铁西区", geom=square(123.18, 41.28, 123.22, 41.32))
    street = Street.objects.create(code="210303001", name="兴盛街道", district=district,
                                   geom=square(123.18, 41.28, 123.22, 41.32))
    community = Community.objects.create(code="210303001001", name="兴盛社区", street=street,
                                         geom=square(123.19, 41.29, 123.21, 41.31))
    grid = Grid.objects.create(code="210303001001001", name="兴盛第一网格", community=community,
                               households=100, population=300, geom=square(123.19, 41.29, 123.21, 41.31))
    fred = make_user("fred", full_name="冯")
    worker = GridWorker.objects.create(worker_id="W-fred", user=fred, name="冯", phone="13700000000")
    GridAssignment.objects.create(worker=worker, grid=grid)
    return grid


@pytest.fixture
def departments(town):
    return {
        kind: Department.objects.create(code=f"210302-{kind}", name=name, district=town.district)
        for kind, name in [("CGJ", "城市管理局"), ("SWJ", "水务局"), ("ZJJ", "住建局")]
    }


@pytest.fixture
def people(fast_hashing, town, alice, bob, charlie, departments, far, root):
    """Every role, by name."""
    dave = make_user("dave", full_name="邓")
    GridAssignment.objects.create(
        worker=GridWorker.objects.create(worker_id="W-dave", user=dave, name="邓", phone="13600000000"),
        grid=town.west, role=GridAssignment.Role.DEPUTY,
    )
    return {
        "alice": alice, "bob": bob, "charlie": charlie, "dave": dave, "root": root,
        "cindy": staff("cindy", StaffRole.Role.COMMUNITY_STAFF, town.community.code),
        "steve": staff("steve", StaffRole.Role.STREET_STAFF, town.street.code),
        "paul": staff("paul", StaffRole.Role.PLANNER, town.district.code),
        "dora": staff("dora", StaffRole.Role.DEPARTMENT_HANDLER, town.district.code, departments["CGJ"]),
        "sam": staff("sam", StaffRole.Role.DEPARTMENT_HANDLER, town.district.code, departments["SWJ"]),
        "olga": staff("olga", StaffRole.Role.COMMAND_CENTRE, "210303"),
    }


