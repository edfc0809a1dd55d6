"""Settings for the servers bench/intake.py starts: the project's, plus the bare peer endpoint."""

from gridgis.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare_api"
