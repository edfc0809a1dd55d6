"""Where a case goes when it is dispatched (派遣) or escalated (上报).

Automatic rule, by the category's handling tier ("小事分办、大事合办"):
- grid: the grid's worker (the case's assignee, found at intake), else a staff member of its community;
- community / street: the staff of the case's community / street;
- department: the department `<district code>-<category.department_kind>` (e.g. 210302-CGJ) as lead.
A case without a category is a grid matter. The command centre may override: a grid worker (`to`: worker
id), a department lead with co-handlers (`to`: department codes, or `lead` + `co_handlers`), or a tier.
Escalation goes to the next tier up that has someone to take the case: grid → community → street → department.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from geodata.codes import CODE_LENGTHS
from gridgis.workforce.models import Department, GridWorker, StaffRole

from .assignment import assignee_for
from .models import Case, Category
from .workflow import TransitionError

Tier = Category.Tier
TIERS = (Tier.GRID, Tier.COMMUNITY, Tier.STREET, Tier.DEPARTMENT)
STAFF_ROLE = {Tier.COMMUNITY: StaffRole.Role.COMMUNITY_STAFF, Tier.STREET: StaffRole.Role.STREET_STAFF}


@dataclass(frozen=True)
class Target:
    tier: str
    worker: GridWorker | None = None
    staff: object | None = None  # a User
    lead: Department | None = None
    co: tuple[Department, ...] = ()
    manual: bool = False

    def as_data(self) -> dict:
        """For the timeline: who it went to, by ids and codes that stay meaningful."""
        data = {"tier": self.tier, "manual": self.manual}
        if self.worker is not None:
            data["worker"] = {"id": self.worker.pk, "name": self.worker.name}
        if self.staff is not None:
            data["staff"] = {"id": self.staff.pk, "name": self.staff.get_full_name() or self.staff.username}
        if self.lead is not None:
            data["lead"] = self.lead.code
            data["co_handlers"] = [d.code for d in self.co]
        return data


def district_code(case: Case) -> str:
    return case.territory_code[: CODE_LENGTHS["district"]]


def staff_for(case: Case, tier: str):
    """The staff member of the case's community / street (the most specific scope, then the lowest id)."""
    code = case.territory_code
    if len(code) < CODE_LENGTHS[tier]:
        return None
    roles = StaffRole.objects.filter(role=STAFF_ROLE[tier], scope_code=code[: CODE_LENGTHS[tier]],
                                     user__is_active=True)
    user_id = roles.order_by("user_id").values_list("user_id", flat=True).first()
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


def department_for(case: Case) -> Department | None:
    kind = case.category.department_kind if case.category is not None else ""
    if not kind or not district_code(case):
        return None
    return Department.objects.filter(code=f"{district_code(case)}-{kind}").first()


def target_at(case: Case, tier: str) -> Target | None:
    """Who takes the case at `tier` by the automatic rule; None when nobody is there."""
    if tier == Tier.GRID:
        if case.assignee is not None or case.assignee_staff is not None:
            return Target(tier, worker=case.assignee, staff=case.assignee_staff if case.assignee is None else None)
        found = assignee_for(case.grid)
        return Target(tier, worker=found.worker, staff=found.staff) if found.worker or found.staff else None
    if tier == Tier.DEPARTMENT:
        lead = department_for(case)
        return Target(tier, lead=lead) if lead is not None else None
    staff = staff_for(case, tier)
    return Target(tier, staff=staff) if staff is not None else None


def automatic_target(case: Case) -> Target:
    tier = case.category.tier if case.category is not None else Tier.GRID
    target = target_at(case, tier)
    if target is None:
        raise TransitionError("to", _("按类别的处置层级找不到承办人（%(tier)s），请指定派遣对象")
                              % {"tier": Tier(tier).label})
    return target


def next_target(case: Case, tier: str = "") -> Target:
    """上报: the first tier from `tier` (default: the one above the case's) that has someone to take it."""
    above = TIERS[TIERS.index(case.tier) + 1:]
    if tier and tier not in above:
        raise TransitionError("tier", _("只能上报到更高的层级"))
    for candidate in above[above.index(tier) if tier else 0:]:
        target = target_at(case, candidate)
        if target is not None:
            return target
    raise TransitionError("to", _("上级层级没有可承办的人员或部门，请指定部门"))


def department(code: str, case: Case, field: str) -> Department:
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise TransitionError(field, _("未知的部门 %(code)s") % {"code": code})
    if not code.startswith(district_code(case)):
        raise TransitionError(field, _("部门 %(code)s 不属于本区") % {"code": code})
    return department


def departments(case: Case, lead: str, co_handlers: list[str], *, lead_field: str = "lead",
                co_field: str = "co_handlers") -> Target:
    head = department(lead, case, lead_field)
    co = tuple(department(code, case, co_field) for code in dict.fromkeys(co_handlers) if code != lead)
    return Target(Tier.DEPARTMENT, lead=head, co=co, manual=True)


def worker(case: Case, worker_id: int) -> Target:
    found = GridWorker.objects.filter(pk=worker_id, assignments__grid__code__startswith=district_code(case))
    chosen = found.distinct().first()
    if chosen is None:
        raise TransitionError("to", _("本区没有编号为 %(id)s 的网格员") % {"id": worker_id})
    return Target(Tier.GRID, worker=chosen, manual=True)


def manual_target(case: Case, *, to=None, lead: str = "", co_handlers: list[str] | None = None,
                  tier: str = "") -> Target | None:
    """The command centre's choice, or None when it made none (the automatic rule applies)."""
    co_handlers = co_handlers or []
    if isinstance(to, int):
        return worker(case, to)
    if isinstance(to, list) and to:
        return departments(case, to[0], [*to[1:], *co_handlers], lead_field="to", co_field="to")
    if lead:
        return departments(case, lead, co_handlers)
    if tier:
        target = target_at(case, tier)
        if target is None:
            raise TransitionError("tier", _("该层级没有可承办的人员或部门"))
        return Target(target.tier, target.worker, target.staff, target.lead, target.co, manual=True)
    return None
