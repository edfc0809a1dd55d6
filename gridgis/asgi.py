"""ASGI entry point (served by uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402  (after setup)
from django.urls import get_resolver  # noqa: E402

from gridgis.asgi_threads import PooledSyncThreads  # noqa: E402

# Import every view (and what they import) now, before the server listens, not during the first request.
get_resolver().url_patterns  # noqa: B018

# Requests' sync code on a few long-lived threads, each keeping its database connection (see asgi_threads).
application = PooledSyncThreads(django_application, threads=settings.ASGI_SYNC_THREADS)
