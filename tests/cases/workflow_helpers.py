"""Plain helpers for the closed-loop tests (no fixtures here, so test modules may import them freely):
places in the test territories, a case made by the intake service, and `walk` to bring it to any status."""

from __future__ import annotations

from gridgis.cases import transitions as t
from gridgis.cases.models import Case, Category
from gridgis.cases.services import IntakeReport, case_create

WEST = (122.995, 41.10)
EAST = (123.005, 41.10)
FAR = (123.205, 41.30)  # inside the other district, 210303
PHONE = "13812345678"


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def new_case(*, at=WEST, category: str = "SJ0102", by=None, phone: str = PHONE) -> Case:
    report = IntakeReport(description="楼下垃圾堆了三天没人清理", channel=Case.Channel.HOTLINE,
                          category=Category.objects.get(code=category), lon=at[0], lat=at[1],
                          reporter_name="张三", reporter_phone=phone)
    return case_create(report=report, by=by)


# The happy path, one service per status; `walk` stops when the case reaches the status asked for.
def _steps(dispatcher, handler, checker, to):
    return [
        ("registered", lambda c: t.case_register(case=c, by=dispatcher)),
        ("dispatched", lambda c: t.case_dispatch(case=c, by=dispatcher, to=to)),
        ("accepted", lambda c: t.case_accept(case=c, by=handler)),
        ("in_progress", lambda c: t.case_start(case=c, by=handler)),
        ("handled", lambda c: t.case_hand_in(case=c, by=handler, note="已清理")),
        ("verified", lambda c: t.case_verify(case=c, by=checker, passed=True)),
        ("closed", lambda c: t.case_close(case=c, by=dispatcher)),
    ]


def walk(case: Case, status: str, *, dispatcher, handler, checker=None, to=None) -> Case:
    """Brings `case` to `status` along the happy path (`to`: a manual dispatch target)."""
    for reached, step in _steps(dispatcher, handler, checker or dispatcher, to):
        if case.status == status:
            break
        case = step(case)
        assert case.status == reached
    assert case.status == status
    case.refresh_from_db()
    return case
