"""What the rest of the system hears when a case changes.

One path: every timeline entry (CaseEvent row) rings NOTIFY on the `case_events` channel from a database
trigger (gridgis/live/migrations/0001), payload the event id. The trigger's notification is queued with the
transaction and delivered only at commit, so nobody hears of a change that was rolled back, and it rings for
every writer: services, bulk SQL (cases/bulk/reassign.py), admin. The live hub (gridgis/live/hub.py) takes
any notification there as a doorbell and reads the events from the table.
"""

from __future__ import annotations

CHANNEL = "case_events"  # where the trigger rings; the name the live hub listens to

