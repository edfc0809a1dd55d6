"""The deadline sweep (`python manage.py sweep_deadlines`, safe to run every minute): marks cases whose
deadline has passed as overdue, and escalates overdue cases up the tiers by settings.GRIDGIS
["ESCALATION_RULES"] — e.g. `{"tier": "grid", "overdue_hours": 8, "to": "community"}`: a case overdue for
more than 8 working hours at the grid tier goes to its community (or the next tier up with someone there).

Idempotent: an overdue case is marked once; an escalated case counts its time at the new tier from the
escalation, so a second run right after the first changes nothing. One transaction; rows someone is
transitioning right now are skipped (SKIP LOCKED) and picked up by the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from .calendar import calendar_overrides
from .deadlines import CLOCKED_STATUSES, add_hours
from .dispatch import TIERS
from .models import Case, CaseEvent
from .transitions import case_escalate
from .workflow import TransitionError

log = logging.getLogger(__name__)
ESCALATABLE = (Case.Status.DISPATCHED, Case.Status.ACCEPTED, Case.Status.IN_PROGRESS)


@dataclass(frozen=True)
class EscalationRule:
    tier: str
    overdue_hours: float
    to: str = ""


@dataclass
class SweepResult:
    marked: list[str] = field(default_factory=list)
    escalated: list[tuple[str, str, str]] = field(default_factory=list)  # number, from tier, to tier
    stuck: list[tuple[str, str]] = field(default_factory=list)  # number, why


def escalation_rules() -> list[EscalationRule]:
    """The configured rules, checked: a typo must fail loudly, not silently stop escalating."""
    rules = []
    for raw in settings.GRIDGIS.get("ESCALATION_RULES", []):
        try:
            rule = EscalationRule(raw["tier"], float(raw["overdue_hours"]), raw.get("to", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise ImproperlyConfigured(f"ESCALATION_RULES: bad rule {raw!r}") from exc
        if not _valid(rule):
            raise ImproperlyConfigured(f"ESCALATION_RULES: bad rule {raw!r}")
        rules.append(rule)
    return rules


def _valid(rule: EscalationRule) -> bool:
    if rule.tier not in TIERS[:-1] or rule.overdue_hours < 0:
        return False
    return not rule.to or (rule.to in TIERS and TIERS.index(rule.to) > TIERS.index(rule.tier))


def _mark_overdue(now: dt.datetime, result: SweepResult) -> None:
    due = list(
        Case.objects.select_for_update(skip_locked=True)
        .filter(status__in=CLOCKED_STATUSES, overdue=False, deadline__lt=now, deadline_paused_at__isnull=True)
        .order_by("pk")
    )
    if not due:
        return
    Case.objects.filter(pk__in=[c.pk for c in due]).update(overdue=True, updated_at=now)
    CaseEvent.objects.bulk_create([
        CaseEvent(case=c, action="overdue", from_status=c.status, to_status=c.status, at=now,
                  data={"deadline": c.deadline.isoformat()})
        for c in due
    ])
    for case in due:
        case.overdue = True
        result.marked.append(case.number)


def _overdue_too_long(case: Case, rule: EscalationRule, now: dt.datetime, overrides) -> bool:
    """Overdue at its present tier for more than the rule's working hours."""
    since = max(case.deadline, case.dispatched_at or case.deadline)
    return add_hours(since, rule.overdue_hours, overrides) <= now if rule.overdue_hours else since <= now


def _escalate(rule: EscalationRule, now: dt.datetime, overrides, result: SweepResult) -> None:
    candidates = (
        Case.objects.select_for_update(skip_locked=True)
        .filter(status__in=ESCALATABLE, overdue=True, tier=rule.tier, deadline_paused_at__isnull=True,
                deadline__isnull=False)
        .order_by("pk")
    )
    for case in candidates:
        if not _overdue_too_long(case, rule, now, overrides):
            continue
        try:
            escalated = case_escalate(case=case, by=None, tier=rule.to,
                                      note=f"超期 {rule.overdue_hours:g} 个工作小时，自动上报")
        except TransitionError as exc:
            log.warning("case %s overdue but cannot be escalated: %s", case.number, exc.message)
            result.stuck.append((case.number, exc.message))
            continue
        result.escalated.append((case.number, rule.tier, escalated.tier))


@transaction.atomic
def sweep_deadlines(*, now: dt.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    _mark_overdue(now, result)
    overrides = calendar_overrides()
    for rule in escalation_rules():
        _escalate(rule, now, overrides, result)
    return result
