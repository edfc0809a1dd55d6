"""GET /api/v1/live/cases/: the viewer's case events as Server-Sent Events. GET /api/v1/live/status/: this
process's listener, for operators and benchmarks.

A stream opens with `retry:` and its resume cursor, replays from the table what a reconnecting client
missed (Last-Event-ID header, or ?last_event_id= since EventSource cannot set headers on its first try),
then goes live. Each message carries `id:` (the cursor to resume from: the CaseEvent id, held back only
while an older transaction is still in flight), `event: case` and the event as JSON in `data:`. Boundary
changes come as `event: territory` without `id:` and are not replayed (see territory.py).
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from . import feed
from .hub import Hub, Subscriber, current_hub, get_hub, option
from .scope import ViewerScope

READY_TIMEOUT_S = 5.0
MAX_CURSOR_DIGITS = 18


@dataclass(frozen=True)
class Viewer:
    user: object
    scope: ViewerScope


def _closing_db(function):
    """A stream lives for hours: the Django connection its thread opened must not live with it."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    return wrapper


@_closing_db
def _viewer(request) -> Viewer | None:
    """The user by the API's own authenticators (session or token), with their scope; None if anonymous."""
    authenticators = [authenticator() for authenticator in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    try:
        user = Request(request, authenticators=authenticators).user
    except APIException:
        return None
    if not user.is_authenticated:
        return None
    return Viewer(user, ViewerScope.of(user))


_replay = _closing_db(feed.replay)


def _refused() -> JsonResponse:
    response = JsonResponse({"detail": _("身份认证信息未提供或无效。")}, status=401)
    response["WWW-Authenticate"] = "Token"
    return response


def _last_event_id(request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_CURSOR_DIGITS else None


async def case_stream(request):
    viewer = await sync_to_async(_viewer)(request)
    if viewer is None:
        return _refused()
    hub = get_hub()
    if not await hub.started(timeout=READY_TIMEOUT_S):
        return JsonResponse({"detail": _("实时推送暂不可用，请稍后重试。")}, status=503, headers={"Retry-After": "5"})
    stream = _stream(hub, viewer, _last_event_id(request))
    response = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies (nginx) pass each event on at once
    return response


async def _stream(hub: Hub, viewer: Viewer, after: int | None) -> AsyncIterator[bytes]:
    # Subscribed before the replay is read: whatever commits meanwhile is queued, and deduplicated below.
    subscriber = hub.subscribe(viewer.scope)
    try:
        cursor = hub.watermark() if after is None else after
        head, seen, cursor = await _replayed(hub, viewer, after, cursor)
        yield f"retry: {option('RETRY_MS', 3000)}\nid: {cursor}\n\n{head}".encode()
        async for chunk in _live(hub, subscriber, after or 0, seen, cursor):
            yield chunk
    finally:  # client gone (the server cancels us), dropped, or server stopping
        hub.unsubscribe(subscriber)


async def _replayed(hub: Hub, viewer: Viewer, after: int | None, cursor: int) -> tuple[str, set[int], int]:
    """What a reconnecting client missed, as SSE text; the ids sent; the cursor after them."""
    if after is None:
        return "", set(), cursor
    events, truncated = await sync_to_async(_replay)(viewer.user, after=after, limit=option("REPLAY_LIMIT", 1000))
    # Too far behind: the page should reload its state from the API; the newest events still follow.
    parts = ['event: reset\ndata: {"reason":"too_far_behind"}\n\n'] if truncated else []
    for event in events:
        cursor = max(cursor, min(event.id, hub.watermark()))
        parts.append(event.sse(cursor))
    return "".join(parts), {e.id for e in events}, cursor


async def _live(hub: Hub, subscriber: Subscriber, after: int, seen: set[int], cursor: int) -> AsyncIterator[bytes]:
    heartbeat = option("HEARTBEAT_S", 15)
    while True:
        items = await subscriber.take(heartbeat)
        if subscriber.dropped:  # fell too far behind: end the stream, the client resumes from its cursor
            return
        # Boundary changes: no id line, so the case events' cursor is neither moved nor reset by them.
        parts = subscriber.take_hints()
        if not items and not parts:  # nothing queued, so everything up to the watermark has been sent
            cursor = max(cursor, hub.watermark())
            yield f": ping\nid: {cursor}\n\n".encode()
            continue
        for item_cursor, event in items:
            cursor = max(cursor, item_cursor)
            if event.id > after and event.id not in seen:
                parts.append(event.sse(cursor))
        if parts:
            yield "".join(parts).encode()


async def live_status(request):
    viewer = await sync_to_async(_viewer)(request)
    if viewer is None:
        return _refused()
    if not (viewer.user.is_staff or viewer.user.is_superuser):
        return JsonResponse({"detail": _("您没有执行该操作的权限。")}, status=403)
    hub = current_hub()
    status = hub.status() if hub else {"subscribers": 0, "listening": False, "last_event_id": None}
    return JsonResponse({**status, "pid": os.getpid()})
