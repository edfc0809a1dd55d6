"""Review checks of the pipelined geocoding (recall in a helper thread on the caller's connection)."""

from __future__ import annotations

import gc
import threading

import psycopg
import pytest
from django.db import connection, transaction

from gridgis.geocoding import gazetteer, recall
from gridgis.geocoding.gazetteer import geocode, geocode_many
from gridgis.territory.models import Building

from .test_gazetteer import TARGET, city  # noqa: F401 (fixture)

TEXTS = [TARGET, "建国路20号", "幸福大道20号1号楼", "民主路7号1号楼", "219路5号1号楼", "建国路12号1号楼", "建国路附近"]


@pytest.fixture
def chunked(monkeypatch):
    monkeypatch.setattr(gazetteer, "CHUNK", 2)
    monkeypatch.setattr(recall, "JIT_FREE_BATCH", 2)


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("geocode-recall")]


@pytest.mark.parametrize("where", ["helper", "helper_sql", "scoring"])
def test_a_failure_in_either_thread_reaches_the_caller_and_leaves_things_as_they_were(city, chunked, monkeypatch,  # noqa: F811
                                                                                      where):
    calls = {"n": 0}

    def failing(original):
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                if where == "helper_sql":  # a statement failing in the helper aborts the transaction
                    with psycopg.Cursor(args[1]) as cursor:
                        cursor.execute("SELECT 1 / 0")
                raise RuntimeError("boom")
            return original(*args, **kwargs)
        return wrapper

    name = "decide" if where == "scoring" else "fetch"
    monkeypatch.setattr(gazetteer, name, failing(getattr(gazetteer, name)))
    assert gc.isenabled()
    error = psycopg.errors.DivisionByZero if where == "helper_sql" else RuntimeError
    with transaction.atomic():
        Building.objects.filter(code=city["建国路22-1"].code).update(name="仍在事务中")
        with pytest.raises(error):
            geocode_many(TEXTS)
        # the caller's transaction goes on: what it wrote is there, statements still run
        assert Building.objects.get(code=city["建国路22-1"].code).name == "仍在事务中"
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert gc.isenabled()
    assert not _helpers()
    monkeypatch.undo()
    assert geocode_many(TEXTS) == [geocode(t) for t in TEXTS]
