"""Review regressions for the fast intake path (shared field prototypes, one-statement filing)."""

import pytest

from gridgis.cases.models import Case

from .conftest import WEST, point

URL = "/api/v1/cases/"


def report(**fields) -> dict:
    body = {"description": "楼下垃圾堆了三天没人清理", "category": "SJ0102", "location": point(*WEST),
            "channel": "app", "reporter_name": "张三", "reporter_phone": "13812345678"}
    body.update(fields)
    return body


@pytest.mark.parametrize(("field", "value", "limit"), [
    ("description", "垃圾" * 2001, "4000"),
    ("address", "路" * 256, "255"),
    ("reporter_name", "张" * 51, "50"),
])
def test_a_length_error_comes_in_each_request_s_language(town, alice, api, field, value, limit):
    """The fields' length messages are shared by every report (per-class prototypes): the first request's
    language must not stick to them."""
    client = api(alice)
    for language, expected in (("en", "Ensure this field has no more than"), ("zh-hans", "请确保"),
                               ("en", "Ensure this field has no more than")):
        response = client.post(URL, report(**{field: value}), format="json", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 400, response.content
        message = response.json()[field][0]
        assert expected in message, (language, message)
        assert limit in message
    assert not Case.objects.exists()
