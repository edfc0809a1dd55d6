"""What the rest of the system hears when a case changes. Every transition calls `announce` inside its
transaction; `case_changed` runs only after the commit, so nobody hears of a change that was rolled back.

For now it sends a PostgreSQL NOTIFY on the `case_events` channel (cheap, transactional, no broker); the
live stream for wall maps and workers' phones (issue 5) listens there and can grow `case_changed`.
"""

from __future__ import annotations

import copy
import json
from functools import partial

from django.db import connection, transaction

from .models import Case, CaseEvent

CHANNEL = "case_events"


def payload(case: Case, event: CaseEvent) -> dict:
    return {
        "case": case.pk, "number": case.number, "status": case.status, "territory_code": case.territory_code,
        "tier": case.tier, "event": event.pk, "action": event.action,
    }


def case_changed(case: Case, event: CaseEvent) -> None:
    """Called once per timeline entry, after its transaction has committed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, json.dumps(payload(case, event), ensure_ascii=False)])


def announce(case: Case, event: CaseEvent) -> None:
    # A copy: later steps in the same transaction must not change what this step announces. robust: a failed
    # notification is logged, and the committed transition stands.
    transaction.on_commit(partial(case_changed, copy.copy(case), event), robust=True)
