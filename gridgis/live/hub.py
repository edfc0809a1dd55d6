"""One listener per server process: LISTEN on a single connection, read new events from the table at every
doorbell, hand each to the open streams whose viewer may see it. Database connections stay at one per
process however many streams are open. The same connection LISTENs for the planner's boundary changes and
passes each on as a hint to the streams whose viewer's territory overlaps the community (territory.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo

from gridgis.cases.events import CHANNEL

from . import territory
from .feed import LiveEvent, read_new, read_start
from .position import Position
from .scope import ViewerScope
from .territory import CHANNEL as TERRITORY_CHANNEL
from .territory import TerritoryHint

log = logging.getLogger(__name__)

APPLICATION_NAME = "gridgis-live"  # how the listener shows in pg_stat_activity
BATCH = 500
START_SCAN = 1000
IDLE_POLL_S = 10.0  # read anyway now and then: cheap, and it notices a dead connection
GAP_POLL_S = 0.25  # while older ids are outstanding, look for them (or for their end) more often
# At most one read per interval: under a burst each stream wakes (and writes) 20 times a second at most,
# however many events arrive, for at most 50 ms of added latency.
READ_INTERVAL_S = 0.05
BACKOFF_S = (0.2, 10.0)

Item = tuple[int, LiveEvent]  # (resume cursor after this event, event)


def option(name: str, default: int) -> int:
    return int(settings.GRIDGIS.get(f"LIVE_{name}", default))


class Subscriber:
    """One open stream: what its viewer may see and the events waiting for it. The wait is bounded: a
    client this far behind is dropped, reconnects with Last-Event-ID and catches up from the table."""

    def __init__(self, scope: ViewerScope, limit: int):
        self.scope = scope
        self.limit = limit
        self.pending: deque[Item] = deque()
        self.hints: dict[str, str] = {}  # community → its latest territory message, sent without an id
        self.wakeup = asyncio.Event()
        self.dropped = False

    def offer(self, items: list[Item]) -> bool:
        if len(self.pending) + len(items) > self.limit:
            self.dropped = True
            self.pending.clear()
        else:
            self.pending.extend(items)
        self.wakeup.set()
        return not self.dropped

    def hint(self, hint: TerritoryHint) -> None:
        """A boundary change: only the community's latest version matters, so waiting hints stay few."""
        self.hints[hint.community] = hint.message
        self.wakeup.set()

    async def take(self, timeout: float) -> list[Item]:
        """What is waiting, after waiting up to `timeout` for something; [] on timeout."""
        if not self.pending and not self.hints and not self.dropped:
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.wakeup.wait()
        items = list(self.pending)
        self.pending.clear()
        return items

    def take_hints(self) -> list[str]:
        """The territory messages waiting (take() returns early for them too)."""
        hints = list(self.hints.values())
        self.hints.clear()
        return hints


class Hub:
    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.loop = asyncio.get_running_loop()
        self.subscribers: set[Subscriber] = set()
        self.position: Position | None = None
        self.ready = asyncio.Event()
        self.listening = False
        self.queue_limit = option("QUEUE_LIMIT", 1000)
        self.territory_mark: int | None = None  # the newest community version known at the last (re)connect
        self._task: asyncio.Task | None = None

    async def started(self, timeout: float) -> bool:
        """Starts the listener on first use; True once it knows where the event sequence stands."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="gridgis-live-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout)
        return self.ready.is_set()

    def subscribe(self, scope: ViewerScope) -> Subscriber:
        subscriber = Subscriber(scope, self.queue_limit)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def watermark(self) -> int:
        return self.position.watermark() if self.position else 0

    def status(self) -> dict:
        return {"subscribers": len(self.subscribers), "listening": self.listening,
                "last_event_id": self.position.last if self.position else None,
                "watermark": self.watermark(), "pending_ids": len(self.position.gaps) if self.position else 0}

    async def _run(self) -> None:
        delay = BACKOFF_S[0]
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await conn.execute(f"LISTEN {TERRITORY_CHANNEL}")
                    await self._territory_since(conn)
                    self.listening, delay = True, BACKOFF_S[0]
                    await self._follow(conn)
            except (psycopg.Error, OSError) as exc:
                log.warning("live listener lost its connection (%s); reconnecting", exc)
            except Exception:  # a bug must not silence every wall map for good
                log.exception("live listener failed; restarting")
            finally:
                self.listening = False
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 -- jitter, not crypto
            delay = min(delay * 2, BACKOFF_S[1])

    async def _follow(self, conn: psycopg.AsyncConnection) -> None:
        if self.position is None:
            top, present, snapshot = await read_start(conn, scan=START_SCAN)
            self.position = Position.start(top, present, snapshot, scan=START_SCAN)
            self.ready.set()
        while True:  # after a reconnect this first read catches up on everything missed meanwhile
            await self._catch_up(conn)
            read_at = time.monotonic()
            await _doorbell(conn, GAP_POLL_S if self.position.gaps else IDLE_POLL_S, self._territory)
            await asyncio.sleep(read_at + READ_INTERVAL_S - time.monotonic())
            await _swallow(conn, self._territory)

    async def _territory_since(self, conn: psycopg.AsyncConnection) -> None:
        """After a reconnect, the boundary changes committed while the listener was away (already listening,
        so nothing falls between; one committed just before may come twice, a harmless extra reload)."""
        if self.territory_mark is None:
            self.territory_mark = await territory.latest(conn)
            return
        hints, self.territory_mark = await territory.since(conn, self.territory_mark)
        for hint in hints:
            self._hint(hint)

    def _territory(self, note: psycopg.Notify) -> None:
        if hint := TerritoryHint.parse(note.payload):
            self._hint(hint)

    def _hint(self, hint: TerritoryHint) -> None:
        for subscriber in list(self.subscribers):
            if not subscriber.dropped and subscriber.scope.covers(hint.community):
                subscriber.hint(hint)

    async def _catch_up(self, conn: psycopg.AsyncConnection) -> None:
        complete = False
        while not complete:
            position = self.position
            events, snapshot = await read_new(conn, after=position.last, gaps=position.wanted(), limit=BATCH)
            complete = len(events) < BATCH
            position.advance((e.id for e in events), snapshot, time.monotonic(), complete=complete)
            self._fan_out(events)

    def _fan_out(self, events: list[LiveEvent]) -> None:
        if not events:
            return
        watermark = self.position.watermark()
        for subscriber in list(self.subscribers):
            mine = [e for e in events if subscriber.scope.sees(e.audience)]
            if mine and not subscriber.offer(_with_cursors(mine, watermark)):
                self.unsubscribe(subscriber)


def _with_cursors(events: list[LiveEvent], watermark: int) -> list[Item]:
    """Resume cursors: never past an id still outstanding; after the last event of a read, the stream has
    everything up to the watermark (a late event fills a gap, the cursor jumps past what came meanwhile)."""
    return [(min(watermark, e.id), e) for e in events[:-1]] + [(watermark, events[-1])]


Other = Callable[[psycopg.Notify], None] | None


async def _doorbell(conn: psycopg.AsyncConnection, timeout: float, other: Other = None) -> None:
    """Waits up to `timeout` for a case event notification; its payload only means "something new" (the
    table says what). Notifications on other channels go to `other` as they come, and the wait goes on."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        rung = False
        # Never leave the loop early: what came in the same packet would be dropped with the generator.
        async for note in conn.notifies(timeout=left, stop_after=1):
            if note.channel == CHANNEL:
                rung = True
            elif other is not None:
                other(note)
        if rung:
            return


async def _swallow(conn: psycopg.AsyncConnection, other: Other = None) -> None:
    """Drops the case event notifications already arrived (the next read answers them all); the others go
    to `other`."""
    async for note in conn.notifies(timeout=0):
        if note.channel != CHANNEL and other is not None:
            other(note)


def listener_conninfo() -> str:
    db = settings.DATABASES["default"]
    params = {"dbname": db["NAME"], "user": db.get("USER"), "password": db.get("PASSWORD"),
              "host": db.get("HOST"), "port": db.get("PORT")}
    return make_conninfo(**{k: str(v) for k, v in params.items() if v}, application_name=APPLICATION_NAME)


_hub: Hub | None = None


def get_hub() -> Hub:
    """This process's hub, bound to the running event loop (a new loop, as in tests, gets a new hub)."""
    global _hub
    if _hub is None or _hub.loop is not asyncio.get_running_loop():
        _hub = Hub(listener_conninfo())
    return _hub


def current_hub() -> Hub | None:
    return _hub
