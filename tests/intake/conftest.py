"""Fixtures for intake tests: the small town of tests.territory_factories, logged-in API clients."""

import pytest
from rest_framework.test import APIClient

from gridgis.cases.models import Category

# Inside the west grid (122.99–123.00 × 41.09–41.11) of the town, and inside the east grid.
WEST = (122.995, 41.10)
EAST = (123.005, 41.10)


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def garbage() -> Category:
    """暴露垃圾: a small matter for the grid worker (the categories come with the migrations)."""
    return Category.objects.get(code="SJ0102")
