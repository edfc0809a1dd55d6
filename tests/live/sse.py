"""Test helpers: uvicorn serving gridgis in a subprocess against the test database, and a small SSE client
on a raw socket (so a test can also be a client that stops reading)."""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    auth = settings_dict.get("USER") or ""
    if settings_dict.get("PASSWORD"):
        auth += f":{settings_dict['PASSWORD']}"
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgis://{auth}@{host}:{port}/{settings_dict['NAME']}"


@dataclass
class Server:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_server(settings_dict: dict, *, settings_module: str = "tests.live.server_settings",
                 patience_s: float = 60, **env_vars: str) -> Server:
    """uvicorn serving gridgis (the ASGI app, so the live stream works as in production) on the test database,
    with `env_vars` added to its environment. Patient with a busy machine: its first request loads the whole
    project (seconds under load), and a probe answered late is retried, not a failure; never leaves the
    process behind when it does not come up."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(settings_dict), "PYTHONPATH": str(ROOT),
           "DJANGO_SETTINGS_MODULE": settings_module, **env_vars}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gridgis.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "2"],
        cwd=ROOT, env=env,
    )
    server = Server(port, process)
    deadline = time.monotonic() + patience_s
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{server.url}/api/v1/live/status/", timeout=5)
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("uvicorn did not start")


@dataclass
class Message:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    def json(self) -> dict:
        return json.loads(self.data)


class Stream:
    """GET /api/v1/live/cases/ on a raw socket; messages are parsed in a thread into a queue."""

    def __init__(self, server: Server, token: str | None = None, *, path: str = "/api/v1/live/cases/",
                 headers: dict | None = None, rcvbuf: int | None = None, read: bool = True):
        self.sock = socket.socket()
        if rcvbuf:  # a small receive window: the server's writes back up quickly
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", server.port))
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Accept: text/event-stream"]
        if token:
            lines.append(f"Authorization: Token {token}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.file = self.sock.makefile("rb")
        self.messages: queue.Queue[Message | None] = queue.Queue()
        self.status, self.headers = self._head()
        self.reader: threading.Thread | None = None
        if read and self.status == 200:
            self.start()

    def _head(self) -> tuple[int, dict]:
        status = int(self.file.readline().split()[1])
        headers = {}
        while line := self.file.readline().strip():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def start(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _chunks(self):
        while size := int(self.file.readline().strip() or b"0", 16):
            yield self.file.read(size)
            self.file.readline()

    def _read(self) -> None:
        buffer, message = "", Message()
        decoder = codecs.getincrementaldecoder("utf-8")()  # a character may straddle two chunks
        try:
            for chunk in self._chunks():
                buffer += decoder.decode(chunk)
                *lines, buffer = buffer.split("\n")
                for line in lines:
                    message = self._line(line, message)
        except (OSError, ValueError):
            pass
        finally:
            self.messages.put(None)

    def _line(self, line: str, message: Message) -> Message:
        if not line:
            self.messages.put(message)
            return Message()
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if not name:
            message.comments.append(value)
        elif name == "data":
            message.data = f"{message.data}\n{value}" if message.data else value
        elif name in {"event", "id"}:
            setattr(message, name, value)
        return message

    def next(self, *, timeout: float = 3.0, event: str = "case") -> Message | None:
        """The next message of kind `event` within `timeout`, or None (also when the stream ended)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                return None
            if message is None:
                self.messages.put(None)
                return None
            if message.event == event or (event == "ping" and "ping" in message.comments):
                return message
        return None

    def until_idle(self, *, timeout: float = 5.0) -> list[Message]:
        """Case messages up to the next heartbeat (the queue was empty then) or the end of the stream."""
        cases, deadline = [], time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if message is None or "ping" in message.comments:
                break
            if message.event == "case":
                cases.append(message)
        return cases

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
