"""The case state machine: which action leads from which statuses to which status, and who may take it.

received 受理 → registered 立案 (or voided 作废) → dispatched 派遣 → accepted 签收 → in_progress 处置 →
handled 反馈 → verified 核查 → closed 结案 → rated 回访 (unsatisfied: back to dispatched, 返工).
Exceptions: return 退回, extension 延期, escalation 上报, co-handling 协办, supervision 督办.

| action            | from                              | to                     | who                                 |
|-------------------|-----------------------------------|------------------------|-------------------------------------|
| register          | received                          | registered             | dispatcher                          |
| void              | received, registered              | voided                 | dispatcher                          |
| dispatch          | registered, dispatched            | dispatched             | dispatcher                          |
| accept            | dispatched                        | accepted               | party                               |
| start             | accepted                          | in_progress            | handler                             |
| hand_in           | in_progress                       | handled                | handler                             |
| verify            | handled                           | verified / dispatched  | dispatcher, local staff, grid worker|
| close             | verified                          | closed                 | dispatcher                          |
| rate              | closed                            | closed / dispatched    | dispatcher, local staff             |
| return            | dispatched, accepted              | registered             | party, handler                      |
| request_extension | accepted, in_progress             | (unchanged)            | handler                             |
| decide_extension  | accepted, in_progress             | (unchanged)            | dispatcher                          |
| escalate          | dispatched, accepted, in_progress | dispatched (next tier) | party, handler, dispatcher          |
| co_handle         | dispatched, accepted, in_progress | (unchanged)            | dispatcher, lead department         |
| supervise         | registered … verified             | (unchanged)            | dispatcher                          |

Who, relative to one case (an administrator is all of them):
- dispatcher: command-centre staff whose scope covers the case's territory code;
- party: whoever the case is dispatched to at its tier — grid: the assignee or any worker of its grid;
  community / street: that level's staff over the case; department: handlers of the lead department;
- handler: the person who accepted it;
- local staff: community or street staff over the case; grid worker: a worker of the case's grid;
- lead department: handlers of the lead (主办) department.

Checks, in order: the case must be in the caller's scope (else 404, never saying it exists); bad input is a
400 naming the field; a status or condition the action does not start from is a 409 listing what the caller
may do now; a caller with no right to the action is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgis.workforce.models import StaffRole

from .actors import Actor, CaseFacts
from .models import Case, Category

Role = StaffRole.Role

S = Case.Status


class Who(StrEnum):
    DISPATCHER = "dispatcher"
    PARTY = "party"
    HANDLER = "handler"
    LOCAL_STAFF = "local_staff"
    GRID_WORKER = "grid_worker"
    LEAD_DEPARTMENT = "lead_department"


class TransitionError(Exception):
    """Bad input for an action (400): `field` names what to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class IllegalTransition(Exception):
    """The action does not start from the case's status or condition (409)."""

    def __init__(self, action: str, status: str, allowed: list[str]):
        super().__init__(f"{action} is not allowed from {status}")
        self.action, self.status, self.allowed = action, status, allowed


class NotPermitted(Exception):
    """The caller sees the case but has no right to this action (403)."""

    def __init__(self, action: str, allowed: list[str]):
        super().__init__(f"{action} is not permitted")
        self.action, self.allowed = action, allowed


class CaseNotFound(Exception):
    """No such case in the caller's scope (404)."""


Guard = Callable[[Case, CaseFacts], bool]
Precheck = Callable[[Actor, Case], None]


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    target: str | None  # None: the status does not change (or depends on the input)
    who: frozenset[Who]
    label: str  # a lazy translation
    guard: Guard | None = None
    precheck: Precheck | None = None  # input that is wrong whatever the state: a 400 before the 409


def _no_pending_extension(case: Case, facts: CaseFacts) -> bool:
    return not facts.pending_extension


def _pending_extension(case: Case, facts: CaseFacts) -> bool:
    return facts.pending_extension


def _below_top_tier(case: Case, facts: CaseFacts) -> bool:
    return case.tier != Category.Tier.DEPARTMENT


def _has_lead(case: Case, facts: CaseFacts) -> bool:
    return facts.lead_department_id is not None


def _not_rated_since_closing(case: Case, facts: CaseFacts) -> bool:
    return case.rated_at is None or (case.closed_at is not None and case.rated_at < case.closed_at)


def _not_by_the_handler(actor: Actor, case: Case) -> None:
    if actor.user_id is not None and actor.user_id == case.handler_id:
        raise TransitionError("non_field_errors", _("只能由处置人以外的人核查"))


def _only_closed(actor: Actor, case: Case) -> None:
    if case.status != S.CLOSED:
        raise TransitionError("status", _("只能对已结案的案件回访评价"))


def _rule(sources, target, who, label, **kw) -> Rule:
    return Rule(frozenset(sources), target, frozenset(who), label, **kw)


W = Who
WORKING = (S.ACCEPTED, S.IN_PROGRESS)
ON_THE_WAY = (S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS)

RULES: dict[str, Rule] = {
    "register": _rule([S.RECEIVED], S.REGISTERED, [W.DISPATCHER], gettext_lazy("立案")),
    "void": _rule([S.RECEIVED, S.REGISTERED], S.VOIDED, [W.DISPATCHER], gettext_lazy("作废")),
    "dispatch": _rule([S.REGISTERED, S.DISPATCHED], S.DISPATCHED, [W.DISPATCHER], gettext_lazy("派遣")),
    "accept": _rule([S.DISPATCHED], S.ACCEPTED, [W.PARTY], gettext_lazy("签收")),
    "start": _rule([S.ACCEPTED], S.IN_PROGRESS, [W.HANDLER], gettext_lazy("处置")),
    "hand_in": _rule([S.IN_PROGRESS], S.HANDLED, [W.HANDLER], gettext_lazy("反馈")),
    "verify": _rule([S.HANDLED], None, [W.DISPATCHER, W.LOCAL_STAFF, W.GRID_WORKER], gettext_lazy("核查"),
                    precheck=_not_by_the_handler),
    "close": _rule([S.VERIFIED], S.CLOSED, [W.DISPATCHER], gettext_lazy("结案")),
    "rate": _rule([S.CLOSED], None, [W.DISPATCHER, W.LOCAL_STAFF], gettext_lazy("回访"),
                  guard=_not_rated_since_closing, precheck=_only_closed),
    "return": _rule([S.DISPATCHED, S.ACCEPTED], S.REGISTERED, [W.PARTY, W.HANDLER], gettext_lazy("退回")),
    "request_extension": _rule(WORKING, None, [W.HANDLER], gettext_lazy("申请延期"), guard=_no_pending_extension),
    "decide_extension": _rule(WORKING, None, [W.DISPATCHER], gettext_lazy("审批延期"), guard=_pending_extension),
    "escalate": _rule(ON_THE_WAY, S.DISPATCHED, [W.PARTY, W.HANDLER, W.DISPATCHER], gettext_lazy("上报"),
                      guard=_below_top_tier),
    "co_handle": _rule(ON_THE_WAY, None, [W.DISPATCHER, W.LEAD_DEPARTMENT], gettext_lazy("协办"), guard=_has_lead),
    "supervise": _rule([S.REGISTERED, *ON_THE_WAY, S.HANDLED, S.VERIFIED], None, [W.DISPATCHER], gettext_lazy("督办")),
}
ACTIONS = tuple(RULES)


def _is_party(actor: Actor, case: Case, facts: CaseFacts) -> bool:
    tier = case.tier
    if tier == Category.Tier.DEPARTMENT:
        return facts.lead_department_id in actor.department_ids
    if actor.user_id is not None and case.assignee_staff_id == actor.user_id:
        return True
    if tier == Category.Tier.COMMUNITY:
        return actor.covers(Role.COMMUNITY_STAFF, case.territory_code)
    if tier == Category.Tier.STREET:
        return actor.covers(Role.STREET_STAFF, case.territory_code)
    if actor.worker_id is not None and case.assignee_id == actor.worker_id:
        return True
    # Any worker of the grid may take a grid matter (a deputy stands in), unless the command centre named one.
    return case.assignment_rule != Case.AssignmentRule.MANUAL and case.grid_id in actor.grid_ids


def relations(actor: Actor, case: Case, facts: CaseFacts) -> frozenset[Who]:
    """How the actor stands to the case: the keys the rules' `who` is written in."""
    if actor.superuser:
        return frozenset(Who)
    code = case.territory_code
    found = set()
    if actor.covers(Role.COMMAND_CENTRE, code):
        found.add(Who.DISPATCHER)
    if actor.covers(Role.COMMUNITY_STAFF, code) or actor.covers(Role.STREET_STAFF, code):
        found.add(Who.LOCAL_STAFF)
    if case.grid_id is not None and case.grid_id in actor.grid_ids:
        found.add(Who.GRID_WORKER)
    if actor.user_id is not None and case.handler_id == actor.user_id:
        found.add(Who.HANDLER)
    if facts.lead_department_id is not None and facts.lead_department_id in actor.department_ids:
        found.add(Who.LEAD_DEPARTMENT)
    if _is_party(actor, case, facts):
        found.add(Who.PARTY)
    return frozenset(found)


def _startable(rule: Rule, case: Case, facts: CaseFacts) -> bool:
    return case.status in rule.sources and (rule.guard is None or rule.guard(case, facts))


def _passes_precheck(rule: Rule, actor: Actor, case: Case) -> bool:
    try:
        if rule.precheck is not None:
            rule.precheck(actor, case)
    except TransitionError:
        return False
    return True


def allowed_actions(actor: Actor, case: Case, facts: CaseFacts) -> list[str]:
    """The actions the actor may take on the case now, in the table's order."""
    mine = relations(actor, case, facts)
    return [
        action for action, rule in RULES.items()
        if rule.who & mine and _startable(rule, case, facts) and _passes_precheck(rule, actor, case)
    ]


def check(action: str, actor: Actor, case: Case, facts: CaseFacts) -> Rule:
    """Raises TransitionError (400), IllegalTransition (409) or NotPermitted (403); returns the rule."""
    rule = RULES[action]
    if rule.precheck is not None:
        rule.precheck(actor, case)
    if not _startable(rule, case, facts):
        raise IllegalTransition(action, case.status, allowed_actions(actor, case, facts))
    if not rule.who & relations(actor, case, facts):
        raise NotPermitted(action, allowed_actions(actor, case, facts))
    return rule
