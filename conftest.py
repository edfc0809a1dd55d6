"""pytest's root conftest: plugins must be declared here (pytest refuses them in nested conftest files)."""

pytest_plugins = ["tests.territory_factories"]
