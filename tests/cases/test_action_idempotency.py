"""A phone on a poor network sends a workflow step again with the Idempotency-Key of its first try: the step
is taken once, whatever the number of retries; the same key for another step is refused."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from gridgis.cases.models import CaseEvent, CasePhoto
from gridgis.intake.models import IdempotencyRecord

from .workflow_helpers import new_case, walk

pytest_plugins = ["tests.territory_factories", "tests.cases.workflow_fixtures"]


def url(case, action: str) -> str:
    return f"/api/v1/cases/{case.pk}/{action}/"


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 160, 90)).save(out, "JPEG")
    return SimpleUploadedFile("done.jpg", out.getvalue(), content_type="image/jpeg")


def test_an_escalation_sent_twice_with_one_key_climbs_one_tier(people, api):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    client = api(people["alice"])
    first = client.post(url(case, "escalate"), {"note": "需街道协调"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(url(case, "escalate"), {"note": "需街道协调"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200, first.json()
    assert again.status_code == 200, again.json()
    assert again.json()["tier"] == first.json()["tier"]
    assert CaseEvent.objects.filter(case=case, action="escalate").count() == 1


def test_a_retried_hand_in_with_photos_is_one_step_with_its_photos_once(people, api):
    case = walk(new_case(), "in_progress", dispatcher=people["alice"], handler=people["bob"])
    client = api(people["bob"])
    for _ in range(2):
        response = client.post(url(case, "hand_in"), {"note": "已清理", "photos": [jpeg()]}, format="multipart",
                               HTTP_IDEMPOTENCY_KEY="hand-in-7")
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "handled"
    assert CaseEvent.objects.filter(case=case, action="hand_in").count() == 1
    assert CasePhoto.objects.filter(case=case).count() == 1


def test_a_key_used_for_another_step_is_refused_and_changes_nothing(people, api):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    client = api(people["bob"])
    assert client.post(url(case, "accept"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 200
    reused = client.post(url(case, "start"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert reused.status_code == 409
    assert "Idempotency-Key" in reused.json()
    case.refresh_from_db()
    assert case.status == "accepted"


def test_a_step_that_failed_leaves_its_key_free_for_the_retry(people, api):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    client = api(people["bob"])
    refused = client.post(url(case, "start"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert refused.status_code == 409  # not accepted yet
    assert not IdempotencyRecord.objects.filter(key="k-3").exists()
    assert client.post(url(case, "accept"), {}, format="json").status_code == 200
    assert client.post(url(case, "start"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code == 200


def test_one_users_key_does_not_replay_for_another_user(people, api):
    case = walk(new_case(), "registered", dispatcher=people["alice"], handler=people["bob"])
    assert api(people["alice"]).post(url(case, "supervise"), {"note": "请加快"}, format="json",
                                     HTTP_IDEMPOTENCY_KEY="same").status_code == 200
    stranger = api(people["charlie"]).post(url(case, "supervise"), {"note": "请加快"}, format="json",
                                           HTTP_IDEMPOTENCY_KEY="same")
    assert stranger.status_code in {403, 404}  # judged on its own rights, not answered from alice's step


@pytest.mark.parametrize("key", ["x" * 201])
def test_an_overlong_key_is_refused_naming_the_header(people, api, key):
    case = walk(new_case(), "dispatched", dispatcher=people["alice"], handler=people["bob"])
    response = api(people["bob"]).post(url(case, "accept"), {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    case.refresh_from_db()
    assert case.status == "dispatched"
