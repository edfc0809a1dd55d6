"""The state machine through its services: one case walked through every state and every exception path,
the timeline it leaves, and the rules that refuse (who, from where, with what)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import threading

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import make_conninfo

from gridgis.cases import transitions as t
from gridgis.cases.actors import actor_for, facts_for
from gridgis.cases.models import Case, CaseDepartment, CaseEvent, CaseExtension
from gridgis.cases.workflow import (
    ACTIONS,
    RULES,
    CaseNotFound,
    IllegalTransition,
    NotPermitted,
    TransitionError,
    allowed_actions,
)

from .workflow_helpers import EAST, new_case, walk

pytest_plugins = ["tests.territory_factories", "tests.cases.workflow_fixtures"]


def timeline(case: Case) -> list[tuple[str, str, str]]:
    return list(CaseEvent.objects.filter(case=case).order_by("at", "pk")
                .values_list("action", "from_status", "to_status"))


def test_every_rule_has_its_service():
    assert set(t.TRANSITIONS) == set(RULES)


def test_one_case_walks_through_every_state_and_every_exception_path(people, departments):
    alice, bob, cindy, steve, dora, sam = (people[n] for n in ("alice", "bob", "cindy", "steve", "dora", "sam"))
    case = new_case()
    assert case.status == "received"
    assert case.tier == "grid"

    case = t.case_register(case=case, by=alice, priority="urgent")
    case = t.case_supervise(case=case, by=alice, note="群众多次反映，请尽快处理")
    assert case.supervised
    assert case.supervision_note
    case = t.case_dispatch(case=case, by=alice)
    assert case.assignee.user == bob
    assert case.deadline is not None
    # 退回: not ours, back to the dispatcher, who sends it to the department instead (manual override).
    case = t.case_return(case=case, by=bob, reason="不属于网格处置范围")
    assert case.status == "registered"
    assert case.deadline is None
    case = t.case_dispatch(case=case, by=alice, to=["210302-CGJ", "210302-ZJJ"])
    assert case.tier == "department"
    assert case.department == departments["CGJ"]
    case = t.case_co_handle(case=case, by=dora, co_handlers=["210302-SWJ"])
    roles = dict(CaseDepartment.objects.filter(case=case).values_list("department__code", "role"))
    assert roles == {"210302-CGJ": "lead", "210302-ZJJ": "co", "210302-SWJ": "co"}
    with pytest.raises(NotPermitted):
        t.case_accept(case=case, by=sam)  # a co-handler helps; the lead accepts
    case = t.case_accept(case=case, by=dora)
    case = t.case_start(case=case, by=dora)
    deadline = case.deadline
    case = t.case_request_extension(case=case, by=dora, hours=16, reason="需要协调供水单位")
    assert case.deadline_paused_at is not None
    case = t.case_decide_extension(case=case, by=alice, approved=True)
    assert case.deadline_paused_at is None
    assert case.deadline > deadline
    case = t.case_hand_in(case=case, by=dora, note="已修复")
    # 核查 fails: back to the department (返工), counted.
    case = t.case_verify(case=case, by=bob, passed=False, note="现场仍有积水")
    assert (case.status, case.reopen_count, case.handler) == ("dispatched", 1, None)
    case = t.case_accept(case=case, by=dora)
    case = t.case_start(case=case, by=dora)
    case = t.case_hand_in(case=case, by=dora, note="已彻底修复")
    case = t.case_verify(case=case, by=cindy, passed=True)
    case = t.case_close(case=case, by=alice)
    assert case.closed_at
    assert case.closed_on_time is True
    # 回访: unsatisfied reopens with a new deadline.
    case = t.case_rate(case=case, by=alice, satisfaction="unsatisfied", note="问题反复")
    assert (case.status, case.reopen_count, case.closed_at) == ("dispatched", 2, None)
    case = t.case_accept(case=case, by=dora)
    case = t.case_start(case=case, by=dora)
    case = t.case_hand_in(case=case, by=dora, note="更换管道")
    case = t.case_verify(case=case, by=steve, passed=True)
    case = t.case_close(case=case, by=alice)
    case = t.case_rate(case=case, by=alice, satisfaction="satisfied")
    assert (case.status, case.satisfaction) == ("closed", "satisfied")

    assert timeline(case) == [
        ("receive", "", "received"),
        ("register", "received", "registered"),
        ("supervise", "registered", "registered"),
        ("dispatch", "registered", "dispatched"),
        ("return", "dispatched", "registered"),
        ("dispatch", "registered", "dispatched"),
        ("co_handle", "dispatched", "dispatched"),
        ("accept", "dispatched", "accepted"),
        ("start", "accepted", "in_progress"),
        ("request_extension", "in_progress", "in_progress"),
        ("decide_extension", "in_progress", "in_progress"),
        ("hand_in", "in_progress", "handled"),
        ("verify", "handled", "dispatched"),
        ("accept", "dispatched", "accepted"),
        ("start", "accepted", "in_progress"),
        ("hand_in", "in_progress", "handled"),
        ("verify", "handled", "verified"),
        ("close", "verified", "closed"),
        ("rate", "closed", "dispatched"),
        ("accept", "dispatched", "accepted"),
        ("start", "accepted", "in_progress"),
        ("hand_in", "in_progress", "handled"),
        ("verify", "handled", "verified"),
        ("close", "verified", "closed"),
        ("rate", "closed", "closed"),
    ]
    actors = CaseEvent.objects.filter(case=case, action="accept").values_list("actor__username", flat=True)
    assert set(actors) == {"dora"}


def test_escalation_climbs_the_tiers_and_voiding_ends_a_case(people, departments):
    alice, cindy, steve = (people[n] for n in ("alice", "cindy", "steve"))
    case = walk(new_case(category="SJ0103"), "dispatched", dispatcher=alice, handler=cindy)  # 积存垃圾: community
    assert case.tier == "community"
    assert case.assignee_staff == cindy
    case = t.case_accept(case=case, by=cindy)
    case = t.case_escalate(case=case, by=cindy, note="需要街道协调")
    assert (case.status, case.tier, case.assignee_staff, case.handler) == ("dispatched", "street", steve, None)
    case = t.case_escalate(case=case, by=steve)
    assert case.tier == "department"
    assert case.department.code == "210302-CGJ"
    with pytest.raises(IllegalTransition) as refused:
        t.case_escalate(case=case, by=alice)
    assert "escalate" not in refused.value.allowed
    assert timeline(case)[-2:] == [("escalate", "accepted", "dispatched"), ("escalate", "dispatched", "dispatched")]

    other = t.case_void(case=new_case(), by=alice, reason="重复上报")
    assert other.status == "voided"
    assert allowed_actions(actor_for(alice), other, facts_for(other)) == []


def test_a_grid_worker_dispatch_goes_to_the_assignee_and_a_deputy_may_accept(people):
    alice, dave = people["alice"], people["dave"]
    case = walk(new_case(), "dispatched", dispatcher=alice, handler=dave)
    case = t.case_accept(case=case, by=dave)
    assert case.handler == dave
    with pytest.raises(NotPermitted):
        t.case_start(case=case, by=people["bob"])  # only the one who accepted handles it


def test_verification_by_the_handler_themself_is_refused(people):
    alice, bob = people["alice"], people["bob"]
    case = walk(new_case(), "handled", dispatcher=alice, handler=bob)
    with pytest.raises(TransitionError) as refused:
        t.case_verify(case=case, by=bob, passed=True)
    assert refused.value.field == "non_field_errors"
    assert "verify" not in allowed_actions(actor_for(bob), case, facts_for(case))
    assert t.case_verify(case=case, by=people["dave"], passed=True).status == "verified"


def test_rating_an_open_case_is_bad_input_and_a_closed_one_is_rated_once(people):
    alice, bob = people["alice"], people["bob"]
    case = walk(new_case(), "verified", dispatcher=alice, handler=bob)
    with pytest.raises(TransitionError) as refused:
        t.case_rate(case=case, by=alice, satisfaction="satisfied")
    assert refused.value.field == "status"
    case = t.case_close(case=case, by=alice)
    case = t.case_rate(case=case, by=alice, satisfaction="basic")
    with pytest.raises(IllegalTransition):
        t.case_rate(case=case, by=alice, satisfaction="satisfied")


def test_extensions_are_bounded_at_ten_working_days(people):
    alice, bob = people["alice"], people["bob"]
    case = walk(new_case(), "in_progress", dispatcher=alice, handler=bob)
    case = t.case_request_extension(case=case, by=bob, hours=60, reason="等待配件")
    with pytest.raises(IllegalTransition):  # one request at a time
        t.case_request_extension(case=case, by=bob, hours=8, reason="再等等")
    case = t.case_decide_extension(case=case, by=alice, approved=True)
    with pytest.raises(TransitionError) as refused:
        t.case_request_extension(case=case, by=bob, hours=24, reason="还要更久")
    assert refused.value.field == "hours"
    case = t.case_request_extension(case=case, by=bob, hours=20, reason="最后一次")
    case = t.case_decide_extension(case=case, by=alice, approved=False)
    assert list(CaseExtension.objects.filter(case=case).values_list("decision", flat=True).order_by("pk")) == [
        "approved", "rejected"]


def test_returning_is_only_possible_within_two_working_days_of_dispatch(people):
    alice, bob = people["alice"], people["bob"]
    case = walk(new_case(), "dispatched", dispatcher=alice, handler=bob)
    Case.objects.filter(pk=case.pk).update(dispatched_at=case.dispatched_at - dt.timedelta(days=5))
    with pytest.raises(TransitionError):
        t.case_return(case=case, by=bob, reason="不归我管")


def test_an_illegal_step_lists_what_is_allowed_instead(people):
    alice, bob = people["alice"], people["bob"]
    case = walk(new_case(), "dispatched", dispatcher=alice, handler=bob)
    with pytest.raises(IllegalTransition) as refused:
        t.case_close(case=case, by=alice)
    assert refused.value.status == "dispatched"
    assert refused.value.allowed == ["dispatch", "escalate", "supervise"]
    with pytest.raises(IllegalTransition) as refused:
        t.case_hand_in(case=case, by=bob, note="x")
    assert refused.value.allowed == ["accept", "return", "escalate"]


def test_a_case_out_of_scope_does_not_exist_for_the_services(people):
    case = walk(new_case(at=EAST), "dispatched", dispatcher=people["alice"], handler=people["charlie"])
    with pytest.raises(CaseNotFound):
        t.case_accept(case=case, by=people["bob"])
    with pytest.raises(CaseNotFound):
        t.case_register(case=new_case(), by=people["olga"])


def test_the_timeline_cannot_be_changed_even_by_the_orm(people):
    case = t.case_register(case=new_case(), by=people["alice"])
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(case=case).delete()
    assert CaseEvent.objects.filter(case=case).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_committed_timeline_entry_rings_the_live_channel_once_and_a_rolled_back_one_never(people):
    params = connection.settings_dict
    conninfo = make_conninfo(**{k: str(v) for k, v in {
        "dbname": params["NAME"], "user": params.get("USER"), "password": params.get("PASSWORD"),
        "host": params.get("HOST"), "port": params.get("PORT")}.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute("LISTEN case_events")
        case = t.case_register(case=new_case(), by=people["alice"])
        with contextlib.suppress(RuntimeError), transaction.atomic():
            t.case_dispatch(case=case, by=people["alice"])
            raise RuntimeError("rolled back")
        rung = [note.payload for note in listener.notifies(timeout=2)]
    committed = CaseEvent.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)
    assert [int(p) for p in rung] == list(committed)  # the ids, one notification each: receive, register
    assert len(rung) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_accepting_at_once_exactly_one_wins(people, api):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def accept(name: str) -> None:
        client = api(people[name])  # bob, and dave his deputy: both may accept
        try:
            start.wait(timeout=10)
            answers[name] = client.post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json").status_code
        finally:
            connection.close()  # each thread has its own connection: never leave one open

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("bob", "dave")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers.values()) == [200, 409]
    case.refresh_from_db()
    assert case.status == "accepted"
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1
    assert case.handler.username == next(name for name, code in answers.items() if code == 200)
    assert timezone.now() - case.accepted_at < dt.timedelta(minutes=1)


def test_a_worker_named_by_the_command_centre_is_the_only_one_who_may_accept(people):
    alice = people["alice"]
    case = walk(new_case(at=EAST), "registered", dispatcher=alice, handler=people["charlie"])
    bob_worker = people["bob"].grid_worker
    case = t.case_dispatch(case=case, by=alice, to=bob_worker.pk)
    assert (case.assignee, case.assignment_rule) == (bob_worker, "manual")
    with pytest.raises(NotPermitted):
        t.case_accept(case=case, by=people["charlie"])  # the east grid's own worker, but not the one named
    assert t.case_accept(case=case, by=people["bob"]).handler == people["bob"]


# --- a case never skips a state, whatever anyone tries ----------------------------------------------

ARGS = {
    "register": {}, "void": {"reason": "重复"}, "dispatch": {}, "accept": {}, "start": {}, "hand_in": {"note": "好了"},
    "close": {}, "return": {"reason": "不归我们"}, "request_extension": {"hours": 8, "reason": "等"},
    "escalate": {}, "co_handle": {"co_handlers": ["210302-ZJJ"]}, "supervise": {"note": "督办"},
}
CHOICES = {"verify": [{"passed": True}, {"passed": False, "note": "没修好"}],
           "rate": [{"satisfaction": "satisfied"}, {"satisfaction": "unsatisfied"}],
           "decide_extension": [{"approved": True}, {"approved": False}]}
NEXT = {"received": "register", "registered": "dispatch", "dispatched": "accept", "accepted": "start",
        "in_progress": "hand_in", "handled": "verify", "verified": "close", "closed": "rate"}
ACTORS = ["alice", "bob", "dave", "cindy", "steve", "dora", "paul"]


def _outcomes(rule) -> set[str]:
    if rule.target is not None:
        return {rule.target}
    return {"verified", "dispatched", "closed"} | set(rule.sources)


def _pick_allowed(people, case: Case, pick: int) -> tuple[str, str] | None:
    """An action someone may take now (so that random walks get past the first steps)."""
    facts = facts_for(case)
    options = [(action, name) for name in ACTORS
               for action in allowed_actions(actor_for(people[name]), case, facts)
               if action != "void" or pick % 50 == 0]  # voiding ends the walk: rarely
    onwards = [(action, name) for action, name in options if action == NEXT.get(case.status)]
    if onwards and pick % 4:  # mostly onwards, so that walks reach the late states (and loop back)
        options = onwards
    return options[pick % len(options)] if options else None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(ACTIONS), st.sampled_from(ACTORS),
                                st.integers(0, 1), st.integers(0, 1000)), min_size=5, max_size=40))
def test_a_case_never_skips_a_state(people, departments, steps):
    case = new_case(category="SJ0102")
    reopened = 0
    for dice, action, name, choice, pick in steps:
        if dice:  # mostly something allowed now; one step in six anything by anyone
            allowed = _pick_allowed(people, Case.objects.get(pk=case.pk), pick)
            action, name = allowed or (action, name)
        kwargs = CHOICES[action][choice] if action in CHOICES else ARGS[action]
        before = case.status
        try:
            case = t.TRANSITIONS[action](case=case.pk, by=people[name], **kwargs)
        except (IllegalTransition, NotPermitted, TransitionError, CaseNotFound):
            case.refresh_from_db()
            assert case.status == before  # a refusal changes nothing
            continue
        assert before in RULES[action].sources
        assert case.status in _outcomes(RULES[action])
        reopened += before in ("handled", "closed") and case.status == "dispatched"
    chain = timeline(case)
    assert chain[0] == ("receive", "", "received")
    for (_, _, reached), (_, left, _) in itertools.pairwise(chain):
        assert left == reached  # every step starts where the previous one ended
    assert chain[-1][2] == case.status
    assert case.reopen_count == reopened
    event(f"ended {case.status}")
    event(f"{sum(1 for a, _, _ in chain if a in ('verify', 'rate'))} verifications and ratings")
