"""demo_cases: a deterministic set of cases across the closed loop, placed by the normal rules, idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from gridgis.cases.assignment import place
from gridgis.cases.models import Case, CaseEvent

pytest_plugins = ["tests.territory_factories"]


def run(**options) -> str:
    out = io.StringIO()
    call_command("demo_cases", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def staffed_town(town, alice, bob, charlie):
    return town


@pytest.mark.django_db
def test_demo_cases_cover_the_loop_in_the_right_grids(staffed_town):
    printed = run(count=300)
    cases = Case.objects.filter(number__startswith="DEMO")
    assert cases.count() == 300
    assert "300 made" in printed
    statuses = set(cases.values_list("status", flat=True))
    assert {"received", "dispatched", "in_progress", "closed", "voided"} <= statuses
    assert cases.filter(overdue=True).exists()
    assert cases.filter(supervised=True).exists()
    assert cases.filter(supervised=True, status__in=["closed", "voided"]).count() == 0
    assert set(cases.values_list("channel", flat=True)) == {"hotline", "app", "patrol", "open311"}
    assert cases.values("category").distinct().count() >= 5
    # Every case is on a building, in the grid covering it, with that grid's worker, as intake places it.
    for case in cases.select_related("grid", "assignee"):
        expected = place(case.location)
        assert (case.grid, case.assignment_rule) == (expected.grid, "covering_grid"), case.number
        assert case.assignee.user.username == ("bob" if case.grid == staffed_town.west else "charlie")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case c JOIN territory_grid g ON g.id = c.grid_id "
                       "WHERE c.number LIKE 'DEMO%%' AND ST_Covers(g.geom, c.location)")
        assert cursor.fetchone()[0] == 300
        cursor.execute("SELECT count(*) FROM cases_case c WHERE c.number LIKE 'DEMO%%' AND NOT EXISTS ("
                       "SELECT 1 FROM territory_building b WHERE ST_DWithin(b.geom, c.location, 0.0001))")
        assert cursor.fetchone()[0] == 0  # on (or, for GCJ-02 reports converted back, within metres of) a building


@pytest.mark.django_db
def test_each_case_has_a_consistent_history(staffed_town, bob, charlie):
    run(count=200)
    now = timezone.now()
    for case in Case.objects.filter(number__startswith="DEMO"):
        times = [t for t in (case.received_at, case.registered_at, case.dispatched_at, case.accepted_at,
                             case.handled_at, case.closed_at, case.rated_at) if t is not None]
        assert times == sorted(times), case.number
        assert times[-1] <= now, case.number
        actions = list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("action", flat=True))
        assert actions[0] == "receive", case.number
        if case.status == "closed":
            assert {"register", "dispatch", "accept", "hand_in", "verify", "close"} <= set(actions)
            assert case.closed_on_time == (case.closed_at <= case.deadline)
        if case.accepted_at is not None:
            assert case.handler in (bob, charlie), case.number  # the grid's worker took it
        if case.status not in ("closed", "voided"):
            assert case.overdue == (case.deadline < now), case.number


@pytest.mark.django_db
def test_demo_cases_are_made_once_and_remade_alike_on_reset(staffed_town):
    run(count=120)
    first = list(Case.objects.filter(number__startswith="DEMO").order_by("number")
                 .values_list("number", "description", "category__code", "channel"))
    assert "already there, nothing to do" in run(count=120)
    assert Case.objects.count() == 120
    printed = run(count=120, reset=True)
    assert "deleting 120" in printed
    again = list(Case.objects.filter(number__startswith="DEMO").order_by("number")
                 .values_list("number", "description", "category__code", "channel"))
    assert again == first
    assert CaseEvent.objects.filter(case__number__startswith="DEMO").values("case").distinct().count() == 120
