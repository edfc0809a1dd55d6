"""Settings come from the environment and fail loudly, naming the variable, on a value they cannot use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def start_up(**env: str) -> subprocess.CompletedProcess:
    code = ("import django; from django.conf import settings; django.setup(); "
            "print(settings.GRIDGIS['MIN_GRID_AREA_M2'])")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "gridgis.settings", **env})


@pytest.mark.parametrize("value", ["abc", "-5", "nan"])
def test_a_bad_planner_limit_stops_start_up_naming_the_variable(value):
    result = start_up(GRIDGIS_MIN_GRID_AREA_M2=value)
    assert result.returncode != 0
    assert "GRIDGIS_MIN_GRID_AREA_M2" in result.stderr
    assert repr(value) in result.stderr


def test_a_good_value_is_used():
    result = start_up(GRIDGIS_MIN_GRID_AREA_M2="2500")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2500.0"
