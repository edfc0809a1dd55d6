"""Deadlines in working hours on the official calendar, their pause during an extension request, the
overrides for years the calendar package does not know, and the sweep that marks and escalates."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from gridgis.cases import transitions as t
from gridgis.cases.calendar import calendar_overrides, forget_overrides
from gridgis.cases.deadlines import add_hours, handling_hours, hours_between
from gridgis.cases.models import CalendarDay, Case, CaseEvent, CaseExtension, Category
from gridgis.cases.sweep import escalation_rules, sweep_deadlines
from gridgis.cases.worktime import SHANGHAI

from .workflow_helpers import new_case, walk

pytest_plugins = ["tests.territory_factories", "tests.cases.workflow_fixtures"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_calendar():
    """Overrides are cached per process; rows a test made and rolled back must not outlive it."""
    forget_overrides()
    yield
    forget_overrides()


def sh(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_a_deadline_skips_the_national_day_holiday():
    # Wednesday 30 September 2026, 16:00: two hours left that day, then 1–7 October are holidays.
    assert add_hours(sh(2026, 9, 30, 16, 0), 8) == sh(2026, 10, 8, 16, 0)


def test_a_deadline_skips_the_weekend_and_the_lunch_break():
    assert add_hours(sh(2026, 11, 27, 17, 0), 2) == sh(2026, 11, 30, 9, 30)  # Friday → Monday
    assert add_hours(sh(2026, 11, 30, 11, 0), 2) == sh(2026, 11, 30, 14, 30)  # over the lunch break
    assert add_hours(sh(2026, 11, 28, 10, 0), 1) == sh(2026, 11, 30, 9, 30)  # starting on a Saturday


def test_an_adjusted_working_saturday_counts():
    # Saturday 10 October 2026 is a working day (调休) after the National Day week.
    assert add_hours(sh(2026, 10, 9, 17, 0), 2) == sh(2026, 10, 10, 9, 30)


@pytest.mark.parametrize(("start", "hours"), [
    (sh(2026, 9, 30, 16, 0), 8), (sh(2026, 11, 27, 17, 0), 2), (sh(2026, 2, 10, 9, 15), 40),
    (sh(2026, 11, 28, 22, 0), 0.5),
])
def test_hours_between_measures_what_add_hours_adds(start, hours):
    end = add_hours(start, hours)
    assert hours_between(start, end) == pytest.approx(hours)
    assert hours_between(end, start) == pytest.approx(-hours)


@pytest.mark.parametrize(("category_hours", "priority", "expected"), [
    (8, "normal", 8), (8, "urgent", 2), (40, "urgent", 8), (16, "urgent", 4), (1, "urgent", 1), (2, "urgent", 1),
])
def test_urgent_priority_shortens_the_handling_time(category_hours, priority, expected):
    assert handling_hours(Category(deadline_hours=category_hours), priority) == expected


def test_calendar_days_override_years_the_package_does_not_know(db):
    # 2027 is beyond chinese_calendar 1.11: without an override 1 January 2027 (a Friday) counts as working.
    assert add_hours(sh(2026, 12, 31, 17, 0), 2) == sh(2027, 1, 1, 9, 30)
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    assert add_hours(sh(2026, 12, 31, 17, 0), 2, calendar_overrides()) == sh(2027, 1, 4, 9, 30)
    CalendarDay.objects.create(date=dt.date(2027, 1, 2), is_workday=True, note="调休上班")
    assert add_hours(sh(2026, 12, 31, 17, 0), 2, calendar_overrides()) == sh(2027, 1, 2, 9, 30)


def test_a_calendar_fixture_loads_by_date_and_reloads_without_duplicates(db, tmp_path):
    fixture = tmp_path / "2027.json"
    fixture.write_text(json.dumps([
        {"model": "cases.calendarday", "fields": {"date": "2027-02-05", "is_workday": False, "note": "春节"}},
        {"model": "cases.calendarday", "fields": {"date": "2027-02-20", "is_workday": True, "note": "调休"}},
    ]))
    call_command("loaddata", str(fixture), verbosity=0)
    call_command("loaddata", str(fixture), verbosity=0)
    assert calendar_overrides() == {dt.date(2027, 2, 5): False, dt.date(2027, 2, 20): True}
    call_command("loaddata", str(ROOT / "fixtures/calendar/examples/2027-statutory-only.json"), verbosity=0)
    assert CalendarDay.objects.filter(date__year=2027, is_workday=False).count() == 13


def test_dispatch_sets_the_deadline_in_working_hours_from_the_category(people):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])  # 8 h
    assert case.deadline == add_hours(case.dispatched_at, 8)
    urgent = t.case_register(case=new_case(), by=people["alice"], priority="urgent")
    urgent = t.case_dispatch(case=urgent, by=people["alice"])
    assert urgent.deadline == add_hours(urgent.dispatched_at, 2)


def test_a_pending_extension_pauses_the_deadline_and_the_decision_adds_the_pause(people):
    alice, bob = people["alice"], people["bob"]
    case = walk(new_case(), "in_progress", dispatcher=alice, handler=bob)
    case = t.case_request_extension(case=case, by=bob, hours=16, reason="等待配件")
    paused_at = sh(2026, 11, 25, 10, 0)  # asked on Wednesday at 10:00 (pretend)
    deadline = sh(2026, 11, 25, 15, 0)
    Case.objects.filter(pk=case.pk).update(deadline_paused_at=paused_at, deadline=deadline)
    assert sweep_deadlines().marked == []  # the clock stands still: not overdue while waiting

    case = t.case_decide_extension(case=case, by=alice, approved=True)
    decided_at = CaseExtension.objects.get(case=case).decided_at
    assert case.deadline_paused_at is None
    assert case.deadline == add_hours(deadline, 16 + hours_between(paused_at, decided_at))
    assert case.overdue is False

    case = t.case_request_extension(case=case, by=bob, hours=8, reason="还需要一天")
    before = case.deadline
    case = t.case_decide_extension(case=case, by=alice, approved=False)
    assert before <= case.deadline <= add_hours(before, 0.01)  # rejected: only the (tiny) pause is added


def test_closing_after_the_deadline_is_not_on_time(people):
    case = walk(new_case(), "verified", dispatcher=people["alice"], handler=people["bob"])
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    assert t.case_close(case=case, by=people["alice"]).closed_on_time is False


def _overdue(case: Case, *, days: int) -> Case:
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - dt.timedelta(days=days),
                                           dispatched_at=timezone.now() - dt.timedelta(days=days + 1))
    case.refresh_from_db()
    return case


def test_the_sweep_marks_overdue_cases_once(people):
    case = _overdue(walk(new_case(), "accepted", dispatcher=people["alice"], handler=people["bob"]), days=0)
    fresh = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    first = sweep_deadlines()
    assert first.marked == [case.number]
    case.refresh_from_db()
    assert case.overdue is True
    assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1
    second = sweep_deadlines()
    assert (second.marked, second.escalated) == ([], [])
    assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1
    fresh.refresh_from_db()
    assert fresh.overdue is False


def test_the_sweep_escalates_by_the_rules_and_a_second_run_changes_nothing(people):
    alice, bob, cindy = people["alice"], people["bob"], people["cindy"]
    case = _overdue(walk(new_case(), "accepted", dispatcher=alice, handler=bob), days=20)
    first = sweep_deadlines()
    assert first.marked == [case.number]
    assert first.escalated == [(case.number, "grid", "community")]
    case.refresh_from_db()
    assert (case.status, case.tier, case.assignee_staff, case.handler) == ("dispatched", "community", cindy, None)
    escalation = CaseEvent.objects.get(case=case, action="escalate")
    assert escalation.actor is None
    assert escalation.data["from_tier"] == "grid"
    events = CaseEvent.objects.filter(case=case).count()
    modified = case.updated_at

    second = sweep_deadlines()
    assert (second.marked, second.escalated, second.stuck) == ([], [], [])
    case.refresh_from_db()
    assert CaseEvent.objects.filter(case=case).count() == events
    assert case.updated_at == modified
    # Much later, still overdue at the community: on to the street.
    later = sweep_deadlines(now=timezone.now() + dt.timedelta(days=20))
    assert later.escalated == [(case.number, "community", "street")]


def test_escalation_skips_a_tier_with_nobody_and_reports_cases_it_cannot_move(people, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "ESCALATION_RULES": [{"tier": "grid", "overdue_hours": 0}]}
    people["cindy"].staff_roles.all().delete()  # no community staff: the street takes it
    case = _overdue(walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"]), days=2)
    assert sweep_deadlines().escalated == [(case.number, "grid", "street")]

    people["steve"].staff_roles.all().delete()  # nobody above the grid, no department for this category
    stuck = _overdue(walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"]), days=2)
    result = sweep_deadlines()
    assert [number for number, _ in result.stuck] == [stuck.number]
    stuck.refresh_from_db()
    assert (stuck.tier, stuck.overdue) == ("grid", True)


@pytest.mark.parametrize("rule", [
    {"tier": "department", "overdue_hours": 8}, {"tier": "grid", "overdue_hours": -1},
    {"tier": "street", "overdue_hours": 8, "to": "community"}, {"tier": "grid"}, {"tier": "gird", "overdue_hours": 1},
])
def test_a_bad_escalation_rule_fails_loudly(settings, rule):
    settings.GRIDGIS = {**settings.GRIDGIS, "ESCALATION_RULES": [rule]}
    with pytest.raises(ImproperlyConfigured):
        escalation_rules()


def test_the_command_reports_what_it_did(people, capsys):
    _overdue(walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"]), days=0)
    call_command("sweep_deadlines")
    assert "overdue: 1 marked" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_skips_a_case_someone_is_changing_right_now(people):
    busy = _overdue(walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"]), days=0)
    idle = _overdue(walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"]), days=0)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=busy.pk)
                locked.set()
                release.wait(timeout=30)  # bounded: never a session left hanging
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        result = sweep_deadlines()  # SKIP LOCKED: no waiting on the holder
    finally:
        release.set()
        holder.join(timeout=30)
    assert result.marked == [idle.number]
    assert sweep_deadlines().marked == [busy.number]  # the next run picks it up
