"""Boundary changes on the live stream, served by uvicorn against the test database: the planner's commit
(NOTIFY gridgis_territory after it commits) reaches the streams whose viewer's territory overlaps the
community as `event: territory`, without an id, and no other stream; the listener stays one connection."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from gridgis.territory.models import Community, CommunityVersion, Street
from gridgis.workforce.models import StaffRole
from tests.territory_factories import commit_wider_west, make_user, square

from .sse import Stream
from .test_stream import listeners, report

pytest_plugins = ["tests.territory_factories"]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

@pytest.fixture
def stream(server):
    opened = []

    def open_stream(user, **kwargs) -> Stream:
        opened.append(Stream(server, Token.objects.get_or_create(user=user)[0].key, **kwargs))
        assert opened[-1].next(event="ping") is not None  # subscribed
        return opened[-1]

    yield open_stream
    for s in opened:
        s.close()


@pytest.fixture
def elsewhere(town):
    """olga: the command centre of another street of the district, where none of 明达社区 lies."""
    street = Street.objects.create(code="210302002", name="新兴街道", district=town.district,
                                   geom=square(123.02, 41.08, 123.04, 41.12))
    Community.objects.create(code="210302002001", name="新兴社区", street=street,
                             geom=square(123.02, 41.08, 123.04, 41.12))
    user = make_user("olga", full_name="王奥")
    StaffRole.objects.create(user=user, role=StaffRole.Role.COMMAND_CENTRE, scope_code=street.code)
    return user


def test_a_planners_commit_reaches_the_viewers_of_the_community_within_two_seconds_and_no_one_else(
        server, stream, town, alice, bob, elsewhere):
    to_alice, to_bob, to_olga = stream(alice), stream(bob), stream(elsewhere)
    commit_wider_west(town)  # bob's grid takes part of charlie's

    for viewer in (to_alice, to_bob):  # the district's command centre; the worker of a grid in it
        message = viewer.next(event="territory", timeout=2.0)
        assert message is not None, "no territory event within 2 s"
        assert message.json() == {"community": town.community.code, "version": 2}
        assert message.id is None  # a hint: the case events' resume cursor is not touched
    assert to_olga.next(event="territory", timeout=1.5) is None
    assert listeners() == 1


def test_a_hint_carries_no_cursor_and_case_events_resume_as_before(server, stream, town, alice):
    to_alice = stream(alice)
    key = Token.objects.get_or_create(user=alice)[0].key
    first = report(server, key)
    case_message = to_alice.next()
    assert case_message.json()["case_id"] == first["id"]
    with transaction.atomic(), connection.cursor() as cursor:  # any writer's committed NOTIFY is relayed
        cursor.execute("SELECT pg_notify('gridgis_territory', %s)",
                       [f'{{"community": "{town.community.code}", "version": 7}}'])
    hint = to_alice.next(event="territory", timeout=2.0)
    assert hint.json() == {"community": town.community.code, "version": 7}
    assert hint.id is None
    with transaction.atomic(), connection.cursor() as cursor:  # rolled back: never sent
        cursor.execute("SELECT pg_notify('gridgis_territory', %s)",
                       [f'{{"community": "{town.community.code}", "version": 8}}'])
        transaction.set_rollback(True)
    assert to_alice.next(event="territory", timeout=1.0) is None
    to_alice.close()

    # Reconnecting from the case event's id: exactly the case events after it, and no hint replayed.
    second = report(server, key)
    resumed = Stream(server, key, headers={"Last-Event-ID": case_message.id})
    try:
        assert [m.json()["case_id"] for m in resumed.until_idle()] == [second["id"]]
        assert resumed.next(event="territory", timeout=1.0) is None
    finally:
        resumed.close()


def test_a_malformed_notification_is_ignored_and_the_stream_goes_on(server, stream, town, alice):
    to_alice = stream(alice)
    with transaction.atomic(), connection.cursor() as cursor:
        for junk in ("", "not json", '{"community": "21030200100\\n2", "version": 1}', '{"community": 1}'):
            cursor.execute("SELECT pg_notify('gridgis_territory', %s)", [junk])
        cursor.execute("SELECT pg_notify('gridgis_territory', %s)",
                       [f'{{"community": "{town.community.code}", "version": 3}}'])
    message = to_alice.next(event="territory", timeout=2.0)
    assert message.json() == {"community": town.community.code, "version": 3}
    assert to_alice.next(event="territory", timeout=1.0) is None


def test_a_change_committed_while_the_listener_was_away_still_reaches_the_stream(server, stream, town, alice):
    to_alice = stream(alice)
    # A version written with no notification at all (as if it rang while the listener was down); then the
    # listener loses its connection: back, it reads the versions committed since it last looked.
    CommunityVersion.objects.create(community=town.community, version=5, effective_from=timezone.now(),
                                    summary="离线期间的调整")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = 'gridgis-live' AND datname = current_database()")
    message = to_alice.next(event="territory", timeout=5.0)
    assert message is not None
    assert message.json() == {"community": town.community.code, "version": 5}
    assert listeners() == 1
