"""The live-feed tests' server: uvicorn on the test database, one per module (tests.live.sse.start_server)."""

import pytest
from django.db import connection

from .sse import start_server


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    server = start_server(connection.settings_dict)
    yield server
    server.stop()
