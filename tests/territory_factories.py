"""A small territory built in code, and the named users who look at it.

One district (210302) around lon 123.0 lat 41.1 with one street, one community split into two grids (west
and east) and three buildings (two in the west grid, one in the east one). Users:
alice   command centre for the whole district (StaffRole)
bob     primary grid worker of the west grid
charlie primary grid worker of the east grid

Use it from a test module with `pytest_plugins = ["tests.territory_factories"]`. The territory fixture is
called `town` because tests/territory/conftest.py already has a `territory` (interchange layers).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon

from gridgis.territory.models import Building, Community, District, Grid, Street
from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole

PASSWORD = "grid-pass-2024"
PHONES = {"bob": "13800138001", "charlie": "13900139002"}


def square(minx: float, miny: float, maxx: float, maxy: float, *, per_side: int = 1) -> MultiPolygon:
    """A rectangle as a MultiPolygon; `per_side` > 1 puts extra vertices on each side, like survey data."""
    corners = [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)]
    ring = []
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        ring += [(x0 + (x1 - x0) * i / per_side, y0 + (y1 - y0) * i / per_side) for i in range(per_side)]
    return MultiPolygon(Polygon([*ring, ring[0]]), srid=4326)


@dataclass(frozen=True)
class Territory:
    district: District
    street: Street
    community: Community
    west: Grid
    east: Grid
    buildings: list[Building]


def build_territory() -> Territory:
    district = District.objects.create(
        code="210302", name="铁东区", geom=square(122.98, 41.08, 123.02, 41.12, per_side=200)
    )
    street = Street.objects.create(code="210302001", name="站前街道", district=district,
                                   geom=square(122.98, 41.08, 123.02, 41.12))
    community = Community.objects.create(code="210302001002", name="明达社区", street=street,
                                         geom=square(122.99, 41.09, 123.01, 41.11))
    west = Grid.objects.create(code="210302001002001", name="明达第一网格", community=community,
                               households=320, population=890, geom=square(122.99, 41.09, 123.00, 41.11))
    east = Grid.objects.create(code="210302001002002", name="明达第二网格", community=community,
                               households=280, population=760, geom=square(123.00, 41.09, 123.01, 41.11))
    buildings = [
        _building("B-001", "建国路12号1号楼", west, square(122.9930, 41.0990, 122.9934, 41.0993)),
        _building("B-002", "建国路12号2号楼", west, square(122.9960, 41.1020, 122.9964, 41.1023)),
        _building("B-003", "胜利路8号1号楼", east, square(123.0050, 41.1000, 123.0054, 41.1003)),
    ]
    return Territory(district, street, community, west, east, buildings)


def _building(code: str, street_address: str, grid: Grid, geom: MultiPolygon) -> Building:
    return Building.objects.create(
        code=code, address=f"辽宁省鞍山市铁东区站前街道明达社区{street_address}", grid=grid,
        households=24, population=60, geom=geom,
    )


def make_user(username: str, *, full_name: str = "", superuser: bool = False):
    model = get_user_model()
    if superuser:
        return model.objects.create_superuser(username=username, password=PASSWORD, first_name=full_name)
    return model.objects.create_user(username=username, password=PASSWORD, first_name=full_name)


# The west grid widened eastwards from lon 123.000 to 123.006: it takes part of the east grid, with B-003
# (胜利路8号1号楼).
WIDER_WEST = {"type": "Polygon", "coordinates": [[
    [122.99, 41.09], [123.006, 41.09], [123.006, 41.11], [122.99, 41.11], [122.99, 41.09],
]]}


def commit_wider_west(town: Territory) -> None:
    """A planner (pat) commits WIDER_WEST as the community's first change, as the planner page would."""
    from gridgis.territory.planning import services as planning

    planner = make_user("pat", full_name="规划员")
    StaffRole.objects.create(user=planner, role=StaffRole.Role.PLANNER, scope_code=town.street.code)
    edit = {"op": "reshape", "grid": town.west.code, "geometry": WIDER_WEST}
    planning.commit(user=planner, code=town.community.code, version=1, edit=edit, reason="东片楼栋划入第一网格")


def make_grid_worker(username: str, full_name: str, grid: Grid):
    user = make_user(username, full_name=full_name)
    worker = GridWorker.objects.create(worker_id=f"W-{username}", user=user, name=full_name, phone=PHONES[username])
    GridAssignment.objects.create(worker=worker, grid=grid, role=GridAssignment.Role.PRIMARY)
    return user


@pytest.fixture
def town(db) -> Territory:
    return build_territory()


@pytest.fixture
def alice(town):
    user = make_user("alice", full_name="指挥中心 Alice")
    StaffRole.objects.create(user=user, role=StaffRole.Role.COMMAND_CENTRE, scope_code=town.district.code)
    return user


@pytest.fixture
def bob(town):
    return make_grid_worker("bob", "王博", town.west)


@pytest.fixture
def charlie(town):
    return make_grid_worker("charlie", "陈晨", town.east)


@pytest.fixture
def root(db):
    """A superuser: sees everything, including buildings outside every grid."""
    return make_user("root", superuser=True)
