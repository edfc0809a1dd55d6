"""Indicators (统计指标) for a territory node, a department or a grid worker over a period.

The period runs from `start` 00:00 to the end of `end` (both dates included), Asia/Shanghai: the timestamps
[start 00:00, end + 1 day 00:00). Every figure counts only cases the caller may see (`cases_for`).

Definitions — "closed" always means: status is closed now and closed_at lies in the period (a reopened case
is not closed while it is being reworked, and counts in the period of its last closing):
- received 受理量: cases received in the period (voided ones included).
- registered 立案量: cases registered (立案) in the period.
- closed 结案量: cases closed in the period.
- due_to_close 应结案数: cases not voided that were closed in the period, or whose deadline fell due in the
  period (up to now) and that were not already closed before the period. So closed ≤ due_to_close; a case
  finished early counts in the period it was closed; a case finished late counts as due both in the period
  it fell due (unfinished) and in the period it was closed; a deadline still ahead is not due yet.
- closed_on_time 按期结案数: closed cases marked closed_on_time.
- reopened 返工数: closed cases that were reopened at least once (reopen_count > 0).
- rated 评价数: cases rated (满意 / 基本满意 / 不满意) in the period (rated_at); satisfied 满意数: rated 满意.
- closed_rate 办结率 = closed ÷ due_to_close; on_time_rate 按期结案率 = closed_on_time ÷ due_to_close;
  rework_rate 返工率 = reopened ÷ closed; satisfaction_rate 满意率 = satisfied ÷ rated (基本满意 is not 满意).
  Rates are numbers with 4 decimals, null when the denominator is 0.
- avg_handling_hours 平均处置时长: mean of closed_at − received_at over the closed cases, in calendar hours
  (2 decimals, null when nothing was closed).
- open_now 在办数 and overdue_now 超期数: a snapshot at the time of the request, whatever the period: open cases,
  and open cases flagged overdue or past their deadline (a clock paused for a pending extension counts only up
  to the pause, as the deadline sweep does).

A node's figures are broken down one level down (district → streets …, grid → none) by the code prefix of
that level. Cases filed at the node itself (an unplaced case carries its district's code) form an "unplaced"
row, and cases under a code that no longer names a child (a retired grid) a row without a name, so the
children always add up to the node.

Speed: one query of conditional aggregates (COUNT(*) FILTER (WHERE …)) grouped by the code prefix, over the
rows some figure can count — a BitmapOr of range scans, one per timestamp plus the open cases, each on an index
of migration cases/0006: the timestamp alone for a district, (code, timestamp) below it, where the code prefix
bounds the scan. It is planned with random_page_cost 1.1 (see planner_settings).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce

from django.db import connections, transaction
from django.db.models import Count, DurationField, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.codes import CODE_LENGTHS
from gridgis.cases.models import Case, CaseDepartment
from gridgis.cases.selectors import cases_for
from gridgis.cases.worktime import SHANGHAI
from gridgis.territory.models import Community, District, Grid, Street
from gridgis.workforce.models import Department, GridAssignment, GridWorker, StaffRole
from gridgis.workforce.selectors import scope_prefixes

LEVELS = {0: "city", **{length: level for level, length in CODE_LENGTHS.items()}}
CHILD_LEVEL = {"city": "district", "district": "street", "street": "community", "community": "grid"}
MODELS = {"district": District, "street": Street, "community": Community, "grid": Grid}
PERIOD_STAMPS = ("received_at", "registered_at", "closed_at", "deadline", "rated_at")
COUNTS = ("received", "registered", "closed", "due_to_close", "closed_on_time", "reopened", "rated", "satisfied",
          "open_now", "overdue_now")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # included

    @property
    def lower(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=SHANGHAI)

    @property
    def upper(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)

    def holds(self, field_name: str) -> Q:
        return Q(**{f"{field_name}__gte": self.lower, f"{field_name}__lt": self.upper})


def current_month(today: dt.date | None = None) -> Period:
    today = today or dt.datetime.now(SHANGHAI).date()
    first = today.replace(day=1)
    next_first = (first + dt.timedelta(days=32)).replace(day=1)
    return Period(first, next_first - dt.timedelta(days=1))


@dataclass(frozen=True)
class Subject:
    """What the figures are about: a territory node, a department or a grid worker."""

    kind: str
    code: str
    name: str
    cases: Q
    child_kind: str | None = None
    children: dict[str, str] = field(default_factory=dict)  # code → name, in code order


def _sees(prefixes: tuple[str, ...], code: str) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


class SeveralHomes(Exception):
    """The caller answers for several nodes: they must name one."""

    def __init__(self, codes: list[str]):
        super().__init__(codes)
        self.codes = codes


def home_subject(user) -> Subject | None:
    """What a caller sees without naming anything: a department handler with no other role, their
    department; anyone else, the node they answer for (SeveralHomes when that is more than one)."""
    department = _only_department(user)
    if department:
        return department_subject(user, department)
    prefixes = scope_prefixes(user)
    homes = [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]
    if len(homes) > 1:
        raise SeveralHomes(homes)
    return node_subject(user, homes[0]) if homes else None


def _only_department(user) -> str | None:
    """The department code of a user whose only role is handling for that one department."""
    roles = set(StaffRole.objects.filter(user=user).values_list("role", "department__code"))
    if len(roles) != 1 or GridAssignment.objects.filter(worker__user=user).exists():
        return None
    role, department = roles.pop()
    return department if role == StaffRole.Role.DEPARTMENT_HANDLER else None


def node_subject(user, code: str) -> Subject | None:
    """Territory node `code` ("" = everything), or None when it does not exist or is outside the scope."""
    if not _sees(scope_prefixes(user), code):
        return None
    kind = LEVELS[len(code)]
    if kind == "city":
        name = _("全部辖区")
    else:
        name = MODELS[kind].objects.filter(code=code).values_list("name", flat=True).first()
        if name is None:
            return None
    child_kind = CHILD_LEVEL.get(kind)
    children = {}
    if child_kind:
        rows = MODELS[child_kind].objects.filter(code__startswith=code).order_by("code")
        children = dict(rows.values_list("code", "name"))
    return Subject(kind, code, name, Q(territory_code__startswith=code), child_kind, children)


def department_subject(user, code: str) -> Subject | None:
    """A department's cases — those it leads or co-handles — within the user's scope; None when the
    department does not exist or the user has nothing to do with it (no leak of other districts' names)."""
    department = Department.objects.select_related("district").filter(code=code).first()
    if department is None or not _may_see_department(user, department):
        return None
    co_handles = CaseDepartment.objects.filter(case=OuterRef("pk"), department=department)
    return Subject("department", code, department.name, Q(department=department) | Exists(co_handles))


def _may_see_department(user, department: Department) -> bool:
    prefixes = scope_prefixes(user)
    if not prefixes:
        return False
    if StaffRole.objects.filter(user=user, department=department).exists():
        return True
    district = department.district.code if department.district else None
    # A street's staff may look at a district department's work in their street (cases_for narrows it).
    return "" in prefixes or (district is not None and any(
        district.startswith(p) or p.startswith(district) for p in prefixes))


def worker_subject(user, worker_id: str) -> Subject | None:
    """A grid worker's cases (as assignee): for the worker themself and whoever sees one of their grids."""
    worker = GridWorker.objects.filter(worker_id=worker_id).first()
    if worker is None:
        return None
    prefixes = scope_prefixes(user)
    grids = worker.assignments.values_list("grid__code", flat=True)
    if not ((worker.user_id is not None and worker.user_id == user.pk) or "" in prefixes
            or any(_sees(prefixes, code) for code in grids)):
        return None
    return Subject("worker", worker_id, worker.name, Q(assignee=worker))


def _conditions(period: Period, now: dt.datetime) -> dict[str, Q]:
    closed = Q(status=Case.Status.CLOSED) & period.holds("closed_at")
    fell_due = (period.holds("deadline") & Q(deadline__lte=now)
                & ~Q(status=Case.Status.CLOSED, closed_at__lt=period.lower))
    rated = period.holds("rated_at") & ~Q(satisfaction="")
    open_ = Q(status__in=Case.OPEN_STATUSES)
    return {
        "received": period.holds("received_at"),
        "registered": period.holds("registered_at"),
        "closed": closed,
        "due_to_close": ~Q(status=Case.Status.VOIDED) & (closed | fell_due),
        "closed_on_time": closed & Q(closed_on_time=True),
        "reopened": closed & Q(reopen_count__gt=0),
        "rated": rated,
        "satisfied": rated & Q(satisfaction=Case.Satisfaction.SATISFIED),
        "open_now": open_,
        # A clock paused for a pending extension has run only up to the pause (as the deadline sweep sees it).
        "overdue_now": open_ & (Q(overdue=True) | Q(deadline__lt=Coalesce("deadline_paused_at", Value(now)))),
    }


def _touched(period: Period) -> Q:
    """The rows some figure may count: one range per timestamp, or open now. Each arm has an index of its own
    (migration cases/0006), so the planner reads them as a BitmapOr, narrowed by the node's code prefix."""
    arms = [period.holds(name) for name in PERIOD_STAMPS] + [Q(status__in=Case.OPEN_STATUSES)]
    return reduce(operator.or_, arms)


def _aggregates(period: Period, now: dt.datetime) -> dict:
    conditions = _conditions(period, now)
    aggregates = {name: Count("pk", filter=q) for name, q in conditions.items()}
    aggregates["handling"] = Sum(F("closed_at") - F("received_at"), filter=conditions["closed"],
                                 output_field=DurationField())
    return aggregates


def counts_query(user, subject: Subject, period: Period, *, now: dt.datetime) -> QuerySet:
    """The one query: per child code prefix (one row keyed "" without children), counts and summed handling
    time, over the rows touched by the period or open now."""
    key = Substr("territory_code", 1, CODE_LENGTHS[subject.child_kind]) if subject.child_kind else Value("")
    cases = cases_for(user).filter(subject.cases).filter(_touched(period))
    return cases.annotate(key=key).values("key").annotate(**_aggregates(period, now)).order_by()


@contextlib.contextmanager
def planner_settings(using: str = "default") -> Iterator[None]:
    """A transaction in which the stats query is planned with random_page_cost = 1.1.

    The heap is in arrival order, so a period's rows share pages; the bitmap-scan cost model assumes random
    pages and, at the default random_page_cost of 4, reads a street's whole history through the bare code
    index (≈3× slower at 1M cases) instead of the period's ranges. Our pages are cached or on SSD anyway."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        yield


def raw_counts(user, subject: Subject, period: Period, *, now: dt.datetime) -> dict[str, dict]:
    query = counts_query(user, subject, period, now=now)
    with planner_settings(query.db):
        return {row.pop("key"): row for row in query}


def indicators(user, subject: Subject, period: Period, *, now: dt.datetime | None = None) -> dict:
    """The figures of `subject` over `period` and of each of its children."""
    now = now or timezone.now()
    by_key = raw_counts(user, subject, period, now=now)
    total = _sum(list(by_key.values()))
    children = []
    if subject.child_kind:
        children = [_child(subject.child_kind, code, name, by_key.pop(code, {}))
                    for code, name in subject.children.items()]
        children += [_leftover(subject, code, raw) for code, raw in sorted(by_key.items())]
    return {
        "subject": {"kind": subject.kind, "code": subject.code, "name": subject.name},
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "timezone": "Asia/Shanghai"},
        "as_of": timezone.localtime(now, SHANGHAI).isoformat(),
        "figures": figures(total),
        "children": children,
    }


def _child(kind: str, code: str, name: str | None, raw: dict) -> dict:
    return {"kind": kind, "code": code, "name": name, "figures": figures(raw)}


def _leftover(subject: Subject, code: str, raw: dict) -> dict:
    """Cases not under any current child: filed at the node itself (unplaced), or under a retired code."""
    if len(code) < CODE_LENGTHS[subject.child_kind]:
        return _child("unplaced", code, _("未落到下级辖区"), raw)
    return _child(subject.child_kind, code, None, raw)


def _sum(rows: list[dict]) -> dict:
    total: dict = {name: sum(row.get(name) or 0 for row in rows) for name in COUNTS}
    total["handling"] = sum((row.get("handling") or dt.timedelta(0) for row in rows), dt.timedelta(0))
    return total


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def figures(raw: dict) -> dict:
    """Counts, rates and the average handling time from the summed counts of one node."""
    counts = {name: raw.get(name) or 0 for name in COUNTS}
    closed, due = counts["closed"], counts["due_to_close"]
    handling = raw.get("handling") or dt.timedelta(0)
    return {
        **counts,
        "closed_rate": _rate(closed, due),
        "on_time_rate": _rate(counts["closed_on_time"], due),
        "rework_rate": _rate(counts["reopened"], closed),
        "satisfaction_rate": _rate(counts["satisfied"], counts["rated"]),
        "avg_handling_hours": round(handling.total_seconds() / closed / 3600, 2) if closed else None,
    }
