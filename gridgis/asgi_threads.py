"""Long-lived threads for the sync part of HTTP requests under ASGI, so database connections are reused.

Django's ASGI handler runs each request's sync code (middleware, DRF views, the ORM) on a thread made for that
request. Django's connections belong to a thread, so every request opened a new PostgreSQL connection: a new
backend process, which loads PostGIS (and PROJ, for geography) again on its first spatial query — tens of
milliseconds, more than a whole intake report takes. Here each request borrows one of a few long-lived
single-thread executors (asgiref's ThreadSensitiveContext(executor=...)): its thread keeps its connection
between requests (CONN_MAX_AGE; CONN_HEALTH_CHECKS replaces a broken one at the start of a request).

At most settings.ASGI_SYNC_THREADS requests per process run sync code at once (the GIL lets one run Python at
a time anyway); more wait their turn. Long-lived streams (the live feed's Server-Sent Events) do not take a
thread for hours: they keep Django's own thread per request and close their connections themselves.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext

STREAMING_PREFIXES = ("/api/v1/live/",)


class PooledSyncThreads:
    def __init__(self, app, *, threads: int):
        self.app = app
        self.threads = threads
        self._idle: asyncio.LifoQueue | None = None  # made on first use, inside the server's event loop

    def _pool(self) -> asyncio.LifoQueue:
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
            for n in range(self.threads):
                self._idle.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-sync-{n}"))
        return self._idle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(STREAMING_PREFIXES):
            return await self.app(scope, receive, send)
        idle = self._pool()
        executor = await idle.get()  # LIFO: the most recently used thread, whose connection is warm
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.app(scope, receive, send)
        finally:
            idle.put_nowait(executor)
