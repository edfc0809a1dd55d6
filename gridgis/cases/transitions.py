"""One service per step of a case's life (see workflow.py for the table of who may do what, from where).

Every service is keyword-only and atomic: it locks the case row (SELECT … FOR UPDATE, through the caller's
scope), checks the rule, changes the case, appends one timeline entry (CaseEvent, with photos and the
caller's location); the entry rings the live feed at commit (events.py). Two people taking the same step
at once are serialised by the lock: the second finds the new status and gets IllegalTransition (409).
`by=None` is the system (the deadline sweep): no scope, every right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgis.intake.photos import ProcessedPhoto

from . import dispatch as routing
from .actors import Actor, CaseFacts, actor_for, facts_for, with_facts_inline
from .calendar import calendar_overrides
from .deadlines import MAX_EXTENSION_HOURS, RETURN_WINDOW_HOURS, add_hours, handling_hours, hours_between
from .models import Case, CaseDepartment, CaseEvent, CaseExtension
from .selectors import cases_for
from .services import _attach_photo
from .workflow import RULES, CaseNotFound, TransitionError, check

S = Case.Status
SYSTEM = Actor(superuser=True)
Photos = Sequence[ProcessedPhoto]


@dataclass
class Step:
    """A transition under way: the locked case and what the rules looked at."""

    action: str
    case: Case
    by: object | None
    actor: Actor
    facts: CaseFacts
    from_status: str
    now: dt.datetime = field(default_factory=timezone.now)
    data: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)  # the row as locked, to write back only what changed

    def changed_fields(self) -> list[str]:
        fields = Case._meta.concrete_fields
        return [*(f.attname for f in fields if getattr(self.case, f.attname) != self.before[f.attname]), "updated_at"]

    @cached_property
    def overrides(self) -> dict[dt.date, bool]:
        return calendar_overrides()


def _lock(case: Case | int, by, actor: Actor) -> Case:
    """The case row, locked, through the caller's scope, with what the rules read about it."""
    pk = case.pk if isinstance(case, Case) else case
    visible = Case.objects.all() if by is None else cases_for(by, actor)
    locked = (with_facts_inline(visible.select_for_update(of=("self",)))
              .select_related("category", "assignee", "assignee_staff").filter(pk=pk).first())
    if locked is None:
        raise CaseNotFound(pk)
    return locked


_known_actor: ContextVar[Actor | None] = ContextVar("known_actor", default=None)


@contextmanager
def acting_as(actor: Actor):
    """Within this block the services reuse `actor` (the caller's roles, already read by the API view)
    instead of reading them again for the same user."""
    token = _known_actor.set(actor)
    try:
        yield
    finally:
        _known_actor.reset(token)


def _actor_of(by) -> Actor:
    if by is None:
        return SYSTEM
    known = _known_actor.get()
    return known if known is not None and known.user_id == by.pk else actor_for(by)


def _begin(action: str, case: Case | int, by) -> Step:
    actor = _actor_of(by)
    locked = _lock(case, by, actor)
    facts = facts_for(locked)
    check(action, actor, locked, facts)
    before = {f.attname: getattr(locked, f.attname) for f in Case._meta.concrete_fields}
    return Step(action, locked, by, actor, facts, locked.status, before=before)


def _finish(step: Step, *, to: str | None = None, note: str = "", location: Point | None = None,
            photos: Photos = ()) -> Case:
    case = step.case
    case.status = to or RULES[step.action].target or case.status
    case.save(update_fields=step.changed_fields())
    event = CaseEvent.objects.create(
        case=case, action=step.action, from_status=step.from_status, to_status=case.status, actor=step.by,
        at=step.now, note=note, location=location, data=step.data,
    )
    for photo in photos:
        _attach_photo(case, photo, event)
    return case


# --- shared moves ------------------------------------------------------------------------------------


def _resume_clock(step: Step, extra_hours: float = 0) -> None:
    """Ends a pause of the deadline: it moves by the paused working time (plus any granted hours)."""
    case = step.case
    if case.deadline_paused_at is None:
        return
    paused = hours_between(case.deadline_paused_at, step.now, step.overrides)
    if case.deadline is not None and paused + extra_hours > 0:
        case.deadline = add_hours(case.deadline, paused + extra_hours, step.overrides)
    case.deadline_paused_at = None
    case.overdue = case.deadline is not None and case.deadline < step.now
    step.data["paused_hours"] = round(paused, 2)


def _withdraw_extension(step: Step) -> None:
    """Handing in, returning or escalating ends a pending extension request: the clock runs again."""
    pending = CaseExtension.objects.filter(case=step.case, decision=CaseExtension.Decision.PENDING).first()
    if pending is None:
        return
    pending.decision, pending.decided_at = CaseExtension.Decision.REJECTED, step.now
    pending.save(update_fields=["decision", "decided_at"])
    step.data["extension_withdrawn"] = pending.pk
    _resume_clock(step)


def _set_departments(case: Case, target: routing.Target) -> None:
    case.departments.all().delete()
    case.department = target.lead
    if target.lead is None:
        return
    CaseDepartment.objects.create(case=case, department=target.lead, role=CaseDepartment.Role.LEAD)
    CaseDepartment.objects.bulk_create(
        [CaseDepartment(case=case, department=d, role=CaseDepartment.Role.CO) for d in target.co]
    )


def _send(step: Step, target: routing.Target) -> None:
    """Hands the case to `target` (dispatch, escalation): a new party must accept it."""
    case = step.case
    case.tier, case.handler, case.dispatched_at = target.tier, None, step.now
    if target.worker is not None:
        case.assignee, case.assignee_staff = target.worker, None
        if target.manual:
            case.assignment_rule = Case.AssignmentRule.MANUAL
    elif target.staff is not None:
        case.assignee_staff = target.staff
    _set_departments(case, target)
    step.data.update(target.as_data())


def _new_deadline(step: Step) -> None:
    case = step.case
    hours = handling_hours(case.category, case.priority)
    case.deadline = add_hours(step.now, hours, step.overrides)
    case.deadline_paused_at, case.overdue = None, False
    step.data.update(deadline=case.deadline.isoformat(), hours=hours)


def _reopen(step: Step) -> None:
    """返工: back to the same party, counted."""
    case = step.case
    case.reopen_count += 1
    case.handler = None
    step.data["reopened"] = True


# --- the transitions -------------------------------------------------------------------------------


@transaction.atomic
def case_register(*, case: Case | int, by, priority: str = "", note: str = "", location: Point | None = None,
                  photos: Photos = ()) -> Case:
    step = _begin("register", case, by)
    step.case.registered_at = step.now
    if priority:
        step.case.priority = priority
    step.data["priority"] = step.case.priority
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_void(*, case: Case | int, by, reason: str, location: Point | None = None, photos: Photos = ()) -> Case:
    step = _begin("void", case, by)
    step.case.overdue = False
    return _finish(step, note=reason, location=location, photos=photos)


@transaction.atomic
def case_dispatch(*, case: Case | int, by, to: int | list[str] | None = None, lead: str = "",
                  co_handlers: list[str] | None = None, tier: str = "", priority: str = "", note: str = "",
                  location: Point | None = None, photos: Photos = ()) -> Case:
    """派遣: to the target the category's tier names, or the command centre's choice; sets the deadline."""
    step = _begin("dispatch", case, by)
    if priority:
        step.case.priority = priority
    target = routing.manual_target(step.case, to=to, lead=lead, co_handlers=co_handlers, tier=tier)
    _send(step, target or routing.automatic_target(step.case))
    _new_deadline(step)
    step.data["priority"] = step.case.priority
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_accept(*, case: Case | int, by, note: str = "", location: Point | None = None, photos: Photos = ()) -> Case:
    step = _begin("accept", case, by)
    step.case.handler, step.case.accepted_at = by, step.now
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_start(*, case: Case | int, by, note: str = "", location: Point | None = None, photos: Photos = ()) -> Case:
    step = _begin("start", case, by)
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_hand_in(*, case: Case | int, by, note: str, location: Point | None = None, photos: Photos = ()) -> Case:
    """反馈: the handler reports what was done, usually with an "after" photo."""
    step = _begin("hand_in", case, by)
    _withdraw_extension(step)
    step.case.handled_at = step.now
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_verify(*, case: Case | int, by, passed: bool, note: str = "", location: Point | None = None,
                photos: Photos = ()) -> Case:
    """核查 by someone other than the handler: passed → verified; failed → back to the party (返工), with
    the deadline it had."""
    step = _begin("verify", case, by)
    step.data["passed"] = passed
    if passed:
        return _finish(step, to=S.VERIFIED, note=note, location=location, photos=photos)
    if not note:
        raise TransitionError("note", _("核查不通过时请说明原因"))
    _reopen(step)
    return _finish(step, to=S.DISPATCHED, note=note, location=location, photos=photos)


@transaction.atomic
def case_close(*, case: Case | int, by, note: str = "", location: Point | None = None, photos: Photos = ()) -> Case:
    step = _begin("close", case, by)
    c = step.case
    c.closed_at = step.now
    c.closed_on_time = None if c.deadline is None else c.closed_at <= c.deadline
    step.data["on_time"] = c.closed_on_time
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_rate(*, case: Case | int, by, satisfaction: str, note: str = "", location: Point | None = None,
              photos: Photos = ()) -> Case:
    """回访: the citizen's rating. Unsatisfied reopens the case (返工) with a new deadline."""
    step = _begin("rate", case, by)
    c = step.case
    c.satisfaction, c.rated_at = satisfaction, step.now
    step.data["satisfaction"] = satisfaction
    if satisfaction != Case.Satisfaction.UNSATISFIED:
        return _finish(step, note=note, location=location, photos=photos)
    _reopen(step)
    c.closed_at = c.closed_on_time = None
    c.dispatched_at = step.now
    _new_deadline(step)
    return _finish(step, to=S.DISPATCHED, note=note, location=location, photos=photos)


@transaction.atomic
def case_return(*, case: Case | int, by, reason: str, location: Point | None = None, photos: Photos = ()) -> Case:
    """退回: not ours — back to the dispatcher to re-route, within 2 working days of dispatch."""
    step = _begin("return", case, by)
    c = step.case
    if c.dispatched_at and hours_between(c.dispatched_at, step.now, step.overrides) > RETURN_WINDOW_HOURS:
        raise TransitionError("non_field_errors", _("只能在派遣后2个工作日内退回"))
    _withdraw_extension(step)
    step.data["from_tier"] = c.tier
    _set_departments(c, routing.Target(c.tier))
    c.handler, c.deadline, c.deadline_paused_at, c.overdue = None, None, None, False
    return _finish(step, note=reason, location=location, photos=photos)


def _extended_hours(case: Case) -> int:
    granted = case.extensions.filter(decision=CaseExtension.Decision.APPROVED).aggregate(total=Sum("hours"))
    return granted["total"] or 0


def _within_limit(case: Case, hours: int) -> None:
    granted = _extended_hours(case)
    if granted + hours > MAX_EXTENSION_HOURS:
        raise TransitionError("hours", _("延期累计不能超过10个工作日（80个工作小时），已批准 %(granted)d 小时")
                              % {"granted": granted})


@transaction.atomic
def case_request_extension(*, case: Case | int, by, hours: int, reason: str, location: Point | None = None,
                           photos: Photos = ()) -> Case:
    """延期申请: the deadline stands still until the command centre decides."""
    step = _begin("request_extension", case, by)
    _within_limit(step.case, hours)
    extension = CaseExtension.objects.create(case=step.case, hours=hours, reason=reason, requested_by=by,
                                             requested_at=step.now)
    step.case.deadline_paused_at = step.now
    step.data.update(extension=extension.pk, hours=hours)
    return _finish(step, note=reason, location=location, photos=photos)


@transaction.atomic
def case_decide_extension(*, case: Case | int, by, approved: bool, note: str = "", location: Point | None = None,
                          photos: Photos = ()) -> Case:
    """延期审批: approved moves the deadline by the hours asked plus the paused time; rejected by the
    paused time only (waiting for an answer costs the handler nothing)."""
    step = _begin("decide_extension", case, by)
    extension = CaseExtension.objects.select_for_update().get(case=step.case,
                                                              decision=CaseExtension.Decision.PENDING)
    if approved:
        _within_limit(step.case, extension.hours)
    extension.decision = CaseExtension.Decision.APPROVED if approved else CaseExtension.Decision.REJECTED
    extension.decided_by, extension.decided_at = by, step.now
    extension.save(update_fields=["decision", "decided_by", "decided_at"])
    _resume_clock(step, extra_hours=extension.hours if approved else 0)
    step.data.update(extension=extension.pk, approved=approved, hours=extension.hours,
                     deadline=step.case.deadline.isoformat() if step.case.deadline else None)
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_escalate(*, case: Case | int, by, tier: str = "", lead: str = "", co_handlers: list[str] | None = None,
                  note: str = "", location: Point | None = None, photos: Photos = ()) -> Case:
    """上报: to `tier` or the next tier up that has someone (or straight to the departments named); the
    deadline stays — the citizen's clock does not restart because the case changed hands."""
    step = _begin("escalate", case, by)
    c = step.case
    target = routing.departments(c, lead, co_handlers or []) if lead else routing.next_target(c, tier)
    _withdraw_extension(step)
    step.data["from_tier"] = c.tier
    _send(step, target)
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_co_handle(*, case: Case | int, by, co_handlers: list[str], note: str = "", location: Point | None = None,
                   photos: Photos = ()) -> Case:
    """协办: more departments help the lead one."""
    step = _begin("co_handle", case, by)
    c = step.case
    existing = set(c.departments.values_list("department__code", flat=True))
    duplicates = [code for code in co_handlers if code in existing]
    if duplicates:
        raise TransitionError("co_handlers", _("这些部门已在承办本案件：%(codes)s") % {"codes": "、".join(duplicates)})
    added = [routing.department(code, c, "co_handlers") for code in dict.fromkeys(co_handlers)]
    CaseDepartment.objects.bulk_create(
        [CaseDepartment(case=c, department=d, role=CaseDepartment.Role.CO) for d in added]
    )
    step.data["co_handlers"] = [d.code for d in added]
    return _finish(step, note=note, location=location, photos=photos)


@transaction.atomic
def case_supervise(*, case: Case | int, by, note: str, location: Point | None = None, photos: Photos = ()) -> Case:
    """督办: the command centre flags the case with a message to whoever has it."""
    step = _begin("supervise", case, by)
    step.case.supervised, step.case.supervision_note = True, note
    return _finish(step, note=note, location=location, photos=photos)


TRANSITIONS = {
    "register": case_register, "void": case_void, "dispatch": case_dispatch, "accept": case_accept,
    "start": case_start, "hand_in": case_hand_in, "verify": case_verify, "close": case_close, "rate": case_rate,
    "return": case_return, "request_extension": case_request_extension,
    "decide_extension": case_decide_extension, "escalate": case_escalate, "co_handle": case_co_handle,
    "supervise": case_supervise,
}
