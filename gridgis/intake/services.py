"""Taking a report in from any channel, exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from gridgis.cases.actors import Actor, actor_for
from gridgis.cases.models import Case
from gridgis.cases.services import IntakeReport, case_create

from .models import ApiKey, IdempotencyRecord, caller_of


class IdempotencyConflict(Exception):
    """The key was used before for a different request."""


@dataclass(frozen=True)
class Intake:
    case: Case
    created: bool


def _jurisdiction(user, api_key: ApiKey | None, actor: Actor | None) -> str:
    """Where an unplaced report is filed: the key's territory, or the district of the caller's scope (the
    codes of workforce.selectors.scope_prefixes: every role's scope and the worker's grids)."""
    if api_key is not None:
        return api_key.jurisdiction
    actor = actor if actor is not None else actor_for(user)
    codes = {code for scope in actor.prefixes.values() for code in scope}.union(actor.grid_codes)
    prefixes = sorted(code for code in codes if code)
    return prefixes[0][:6] if prefixes else ""


def report_intake(*, report: IntakeReport, by=None, api_key: ApiKey | None = None,
                  idempotency_key: str = "", fingerprint: str = "", actor: Actor | None = None) -> Intake:
    """Files `report` as a case, in one transaction. With an idempotency key, the key is claimed first, in the
    same transaction: a concurrent retry waits on the unique index until this transaction ends, then finds the
    case made here. Without one, case_create's own transaction is the whole write (for a report without photos
    a single statement: no BEGIN and COMMIT round trips). Pass the caller's `actor` (cases.actors.actor_for)
    when it is at hand: their roles are then not read again."""
    jurisdiction = _jurisdiction(by, api_key, actor)
    if not idempotency_key:
        return Intake(case_create(report=report, by=by, jurisdiction=jurisdiction, api_key=api_key), created=True)
    return _claimed_intake(report=report, by=by, api_key=api_key, jurisdiction=jurisdiction,
                           idempotency_key=idempotency_key, fingerprint=fingerprint)


@transaction.atomic
def _claimed_intake(*, report: IntakeReport, by, api_key: ApiKey | None, jurisdiction: str, idempotency_key: str,
                    fingerprint: str) -> Intake:
    caller = caller_of(user=by, api_key=api_key)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(caller=caller, key=idempotency_key, fingerprint=fingerprint)
    except IntegrityError:
        earlier = IdempotencyRecord.objects.select_related("case").get(caller=caller, key=idempotency_key)
        if earlier.fingerprint != fingerprint:
            raise IdempotencyConflict(idempotency_key) from None
        return Intake(earlier.case, created=False)
    case = case_create(report=report, by=by, jurisdiction=jurisdiction, api_key=api_key)
    record.case = case
    record.save(update_fields=["case"])
    return Intake(case, created=True)
