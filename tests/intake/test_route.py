"""Intake routes a report in one query (assignment.route); it must give exactly what the rules stated one by
one give (assignment.place, assignee_for, district_covering), wherever the point falls."""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.gis.geos import Point

from gridgis.cases.assignment import assignee_for, district_covering, place, route
from gridgis.workforce.models import GridAssignment, GridWorker, StaffRole
from tests.territory_factories import make_user

pytest_plugins = ["tests.territory_factories"]


def _expected(point: Point):
    placement = place(point)
    district = district_covering(point) if placement.grid is None else None
    return placement, assignee_for(placement.grid), district.code if district else ""


def _same(point: Point) -> None:
    routed = route(point)
    placement, assignee, district = _expected(point)
    where = (point.x, point.y)
    assert routed.placement.rule == placement.rule, where
    assert routed.placement.distance_m == placement.distance_m, where
    assert (routed.placement.grid.pk if routed.placement.grid else None) == (
        placement.grid.pk if placement.grid else None), where
    assert (routed.assignee.worker.pk if routed.assignee.worker else None) == (
        assignee.worker.pk if assignee.worker else None), where
    assert (routed.assignee.staff.pk if routed.assignee.staff else None) == (
        assignee.staff.pk if assignee.staff else None), where
    assert routed.district_code == district, where


@pytest.mark.django_db
def test_route_agrees_with_the_rules_around_the_town(town, bob, charlie):
    rng = np.random.default_rng(5)
    points = [(122.995, 41.1), (123.0, 41.1), (123.0, 41.11), (123.004, 41.1103), (123.0, 41.1102),
              (122.98995, 41.1), (123.005, 41.115), (124.5, 41.5)]
    points += list(zip(rng.uniform(122.9887, 123.0113, 60), rng.uniform(41.0887, 41.1113, 60), strict=True))
    for x, y in points:
        _same(Point(float(x), float(y), srid=4326))


@pytest.mark.django_db
def test_route_finds_the_deputy_then_the_community_staff(town, bob):
    """The east grid: first no one (community staff answers), then a deputy, who comes before the staff."""
    cindy = make_user("cindy", full_name="社区 Cindy")
    StaffRole.objects.create(user=cindy, role=StaffRole.Role.COMMUNITY_STAFF, scope_code=town.community.code)
    east = Point(123.005, 41.1, srid=4326)
    routed = route(east)
    assert (routed.assignee.worker, routed.assignee.staff) == (None, cindy)
    assert routed.assignee.staff.get_full_name() == "社区 Cindy"
    deputy = GridWorker.objects.create(worker_id="W-dora", name="杜拉")
    GridAssignment.objects.create(worker=deputy, grid=town.east, role=GridAssignment.Role.DEPUTY)
    routed = route(east)
    assert (routed.assignee.worker, routed.assignee.staff) == (deputy, None)
    assert routed.assignee.worker.name == "杜拉"
    assert routed.placement.grid.community.street.name == town.street.name
    _same(east)
