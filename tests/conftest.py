"""Shared fixtures: named users for permission tests (alice, bob, charlie) live in tests.territory_factories;
here only what every test package needs."""

import pytest


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path_factory):
    """Uploaded photos go to a throw-away folder, never into the project's var/media."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
