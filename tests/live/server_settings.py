"""Settings for the uvicorn the live tests start: the project's, with a short queue and a quick heartbeat so
that overflow and idleness show within a test's time."""

from gridgis.settings import *  # noqa: F403

GRIDGIS = {**GRIDGIS, "LIVE_QUEUE_LIMIT": 600, "LIVE_HEARTBEAT_S": 1, "LIVE_REPLAY_LIMIT": 10_000}  # noqa: F405
