"""Retries racing each other: a phone on a bad network resends the same report several times at once."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from rest_framework.authtoken.models import Token

from gridgis.cases.models import Case

from .conftest import WEST, point

# serialized_rollback: the categories loaded by a data migration survive the flush between tests.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_parallel_retries_with_one_key_create_exactly_one_case(town, bob, live_server):
    token = Token.objects.create(user=bob).key
    body = {"description": "井盖丢了", "category": "BJ0102", "location": point(*WEST), "channel": "patrol"}

    def send(_):
        return requests.post(
            f"{live_server.url}/api/v1/cases/", json=body, timeout=30,
            headers={"Authorization": f"Token {token}", "Idempotency-Key": "patrol-7f3a"},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(send, range(8)))

    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Case.objects.count() == 1


def test_parallel_reports_without_a_key_are_all_kept(town, bob, live_server):
    token = Token.objects.create(user=bob).key
    body = {"description": "路灯不亮", "category": "BJ0115", "location": point(*WEST)}

    def send(n):
        return requests.post(f"{live_server.url}/api/v1/cases/", json={**body, "description": f"路灯不亮 {n}"},
                             headers={"Authorization": f"Token {token}"}, timeout=30)

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(send, range(6)))

    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.json()["number"] for r in responses}) == 6
