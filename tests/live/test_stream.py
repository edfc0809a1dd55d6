"""GET /api/v1/live/cases/ served by uvicorn (the ASGI server gridgis runs under) against the test database:
cases reach the streams that may see them, and only those; reconnects replay what was missed; streams cost
no database connection of their own."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

from gridgis.cases.models import Case, CaseEvent

from .sse import Stream

pytest_plugins = ["tests.territory_factories"]

# transaction: the server sees what the test commits; serialized_rollback: the categories of the data
# migration survive the flush between tests.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WEST, EAST = (122.995, 41.10), (123.005, 41.10)


@pytest.fixture
def token():
    return lambda user: Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def streams():
    opened = []

    def open_stream(*args, **kwargs) -> Stream:
        opened.append(Stream(*args, **kwargs))
        return opened[-1]

    yield open_stream
    for stream in opened:
        stream.close()


def report(server, key: str, where=WEST, description: str = "楼道堆放杂物") -> dict:
    body = {"description": description, "category": "SJ0102", "channel": "app",
            "location": {"type": "Point", "coordinates": list(where)}}
    response = requests.post(f"{server.url}/api/v1/cases/", json=body, timeout=10,
                             headers={"Authorization": f"Token {key}"})
    assert response.status_code == 201, response.text
    return response.json()


def subscribers(server, key: str) -> int:
    response = requests.get(f"{server.url}/api/v1/live/status/", headers={"Authorization": f"Token {key}"},
                            timeout=5)
    return response.json()["subscribers"]


def test_a_new_case_reaches_its_grid_worker_and_the_command_centre_within_two_seconds(
        server, streams, token, alice, bob):
    to_bob, to_alice = streams(server, token(bob)), streams(server, token(alice))
    started = time.monotonic()
    case = report(server, token(alice))
    for stream in (to_bob, to_alice):
        message = stream.next(timeout=2.0)
        assert message is not None, "no event within 2 s"
        assert message.json()["case_id"] == case["id"]
    assert time.monotonic() - started < 2.0
    event = message.json()
    assert event["action"] == "receive"
    assert event["number"] == case["number"]
    assert event["grid"] == "210302001002001"
    assert event["assignee"] == "王博"
    assert (event["lon"], event["lat"]) == pytest.approx(WEST)
    assert message.id == str(event["event_id"])


def test_a_viewer_of_another_grid_never_receives_the_event(server, streams, token, alice, charlie):
    to_charlie = streams(server, token(charlie))
    report(server, token(alice), WEST)
    east = report(server, token(alice), EAST)
    first = to_charlie.next(timeout=2.0)
    assert first is not None
    assert first.json()["case_id"] == east["id"]  # the west case, filed before it, never came
    assert to_charlie.until_idle() == []


def test_reconnecting_with_last_event_id_replays_exactly_what_was_missed(server, streams, token, alice):
    stream = streams(server, token(alice))
    report(server, token(alice), description="一")
    seen = stream.next()
    stream.close()
    missed = [report(server, token(alice), description=d)["id"] for d in ("二", "三")]

    again = streams(server, token(alice), headers={"Last-Event-ID": seen.id})
    replayed = again.until_idle()
    assert [m.json()["case_id"] for m in replayed] == missed

    # EventSource cannot set headers on its first try: the cursor also comes as a parameter.
    again.close()
    latest = streams(server, token(alice), path=f"/api/v1/live/cases/?last_event_id={replayed[-1].id}")
    assert latest.until_idle() == []
    after = report(server, token(alice), description="四")
    assert latest.next().json()["case_id"] == after["id"]


def test_a_hostile_description_arrives_as_json_text(server, streams, token, alice):
    stream = streams(server, token(alice))
    hostile = "<img src=x onerror=alert(1)>"
    smuggled = "x\n\nid: 999999\nevent: admin\ndata: pwned"
    report(server, token(alice), description=hostile)
    report(server, token(alice), description=smuggled)
    first, second = stream.next(), stream.next()
    assert first.json()["description"] == hostile
    assert second.json()["description"] == smuggled  # the newlines stay inside the JSON string
    assert stream.next(event="admin", timeout=1.5) is None


def test_a_client_that_disconnects_frees_its_subscription(server, streams, token, root, bob):
    before = subscribers(server, token(root))
    stream = streams(server, token(bob))
    assert stream.next(event="ping") is not None
    assert subscribers(server, token(root)) == before + 1
    stream.close()
    deadline = time.monotonic() + 3
    while subscribers(server, token(root)) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert subscribers(server, token(root)) == before


def test_anonymous_viewers_and_bad_tokens_are_refused(server, streams):
    assert streams(server).status == 401
    assert streams(server, "0" * 40).status == 401


def test_a_logged_in_browser_session_opens_the_stream(server, alice):
    browser = requests.Session()
    login = f"{server.url}/accounts/login/"
    browser.get(login, timeout=5)
    browser.post(login, data={"username": "alice", "password": "grid-pass-2024",
                              "csrfmiddlewaretoken": browser.cookies["csrftoken"]}, timeout=5)
    with browser.get(f"{server.url}/api/v1/live/cases/", stream=True, timeout=5) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert next(response.iter_lines()).startswith(b"retry:")


def test_a_client_that_falls_behind_is_dropped_and_catches_up_on_reconnect(server, streams, token, alice, root):
    before = subscribers(server, token(root))
    slow = streams(server, token(alice), rcvbuf=4096, read=False)  # reads nothing for now
    # Events of ~1 KB (a long description rides along), twice what the server's socket may buffer (4 MB at
    # most by default), committed 100 at a time so that each read stays within the queue's 600.
    case = Case.objects.get(pk=report(server, token(alice), description="长" * 200)["id"])
    batches = max(80, 2 * send_buffer_max() // 100_000)
    for batch in range(batches):
        CaseEvent.objects.bulk_create([CaseEvent(case=case, action="note", note=f"{batch}-{n}") for n in range(100)])
    deadline = time.monotonic() + 10
    while subscribers(server, token(root)) > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert subscribers(server, token(root)) == before  # dropped: nothing more is queued for it

    slow.start()  # what reached its socket, then the end of the stream
    received = slow.until_idle(timeout=10)
    assert 1 < len(received) < batches * 100 + 1
    assert slow.next(timeout=2) is None
    resumed = streams(server, token(alice), headers={"Last-Event-ID": received[-1].id}).until_idle(timeout=10)
    ids = [m.json()["event_id"] for m in received + resumed]
    assert sorted(set(ids)) == sorted(CaseEvent.objects.values_list("id", flat=True))


def test_the_listener_reconnects_and_catches_up_after_losing_its_connection(server, streams, token, alice):
    stream = streams(server, token(alice))
    assert stream.next(event="ping") is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = 'gridgis-live' AND datname = current_database()")
    case = report(server, token(alice))
    message = stream.next(timeout=5)
    assert message is not None
    assert message.json()["case_id"] == case["id"]
    assert listeners() == 1


def test_many_streams_share_one_database_connection(server, streams, token, alice, bob, charlie):
    first = [streams(server, token(user)) for user in (alice, bob, charlie)]
    for stream in first:
        assert stream.next(event="ping") is not None
    with_three = other_sessions()
    more = [streams(server, token(user)) for user in (alice, bob, charlie) * 9]
    for stream in more:
        assert stream.next(event="ping") is not None
    assert listeners() == 1
    # Flat: thirty streams hold no more connections than three. Besides the listener, only the request
    # threads' kept connections (at most ASGI_SYNC_THREADS of them, reused request after request).
    assert other_sessions() == with_three
    assert with_three <= 1 + settings.ASGI_SYNC_THREADS


def send_buffer_max() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 * 1024 * 1024


def listeners() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE application_name = 'gridgis-live' AND datname = current_database()")
        return cursor.fetchone()[0]


def other_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]
