"""One listener per server process: LISTEN on a single connection, read new events from the table at every
doorbell, hand each to the open streams whose viewer may see it. Database connections stay at one per
process however many streams are open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque

import psycopg
from django.conf import settings
from psycopg.conninfo import make_conninfo

from .feed import LiveEvent, read_new, read_start
from .position import Position
from .scope import ViewerScope

log = logging.getLogger(__name__)

CHANNEL = "case_events"
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

    async def take(self, timeout: float) -> list[Item]:
        """What is waiting, after waiting up to `timeout` for something; [] on timeout."""
        if not self.pending and not self.dropped:
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.wakeup.wait()
        items = list(self.pending)
        self.pending.clear()
        return items


class Hub:
    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.loop = asyncio.get_running_loop()
        self.subscribers: set[Subscriber] = set()
        self.position: Position | None = None
        self.ready = asyncio.Event()
        self.listening = False
        self.queue_limit = option("QUEUE_LIMIT", 1000)
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
            await _doorbell(conn, GAP_POLL_S if self.position.gaps else IDLE_POLL_S)
            await asyncio.sleep(read_at + READ_INTERVAL_S - time.monotonic())
            await _swallow(conn)

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


async def _doorbell(conn: psycopg.AsyncConnection, timeout: float) -> None:
    """Waits for a notification; any payload only means "something new" (the table says what)."""
    async for _ in conn.notifies(timeout=timeout, stop_after=1):
        pass


async def _swallow(conn: psycopg.AsyncConnection) -> None:
    """Drops the notifications already arrived: the next read answers them all."""
    async for _ in conn.notifies(timeout=0):
        pass


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
