"""The listener's position in the event id sequence: no event is skipped when transactions commit out of
id order, none is read twice, and the watermark never claims an id still in flight."""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from gridgis.live import position as position_module
from gridgis.live.position import Position, Snapshot


def test_a_late_commit_below_the_last_id_is_still_read():
    position = Position(last=10)
    position.advance([12], Snapshot(xmin=500, xmax=502), now=0.0)  # 11 still in flight (xid 500)
    assert position.wanted() == [11]
    assert position.watermark() == 10
    position.advance([11], Snapshot(xmin=502, xmax=502), now=0.1)
    assert position.wanted() == []
    assert position.watermark() == 12


def test_a_rolled_back_id_is_given_up_once_its_transaction_has_ended():
    position = Position(last=10)
    position.advance([12], Snapshot(xmin=500, xmax=502), now=0.0)
    position.advance([], Snapshot(xmin=500, xmax=503), now=5.0)  # transaction 500 still running
    assert position.wanted() == [11]
    position.advance([], Snapshot(xmin=503, xmax=503), now=5.1)
    assert position.wanted() == []
    assert position.watermark() == 12


def test_an_absent_id_proves_nothing_when_the_read_was_cut_short():
    position = Position(last=10)
    position.advance([12], Snapshot(xmin=502, xmax=502), now=0.0)
    position.advance([13], Snapshot(xmin=503, xmax=503), now=9.0, complete=False)
    assert position.wanted() == [11]


def test_starting_after_a_flush_does_not_wait_for_ids_that_no_longer_exist():
    position = Position.start(57, [], Snapshot(xmin=900, xmax=900), scan=1000)
    position.advance([], Snapshot(xmin=900, xmax=900), now=0.0)
    assert position.watermark() == 57


@dataclass
class Tx:
    start: int  # when it got its xid (xids in start order)
    draw: int  # when it drew its event id (ids in draw order)
    end: int
    commits: bool


transactions = st.lists(
    st.tuples(st.integers(0, 30), st.integers(0, 5), st.integers(0, 10), st.booleans()), min_size=1, max_size=25
).map(lambda rows: [Tx(s, s + d, s + d + 1 + e, c) for s, d, e, c in rows])


@settings(max_examples=300, deadline=None)
@given(txs=transactions, reads=st.lists(st.integers(0, 50), max_size=15), limit=st.integers(1, 6))
def test_every_committed_event_is_read_exactly_once_whatever_the_commit_order(txs, reads, limit):
    xid = {id(tx): 100 + n for n, tx in enumerate(sorted(txs, key=lambda t: t.start))}
    event_id = {id(tx): 1 + n for n, tx in enumerate(sorted(txs, key=lambda t: t.draw))}
    committed_by = lambda t: {event_id[id(tx)] for tx in txs if tx.commits and tx.end <= t}  # noqa: E731
    position, read = Position(last=0), []
    with mock.patch.object(position_module, "MIN_AGE_S", 0.0):
        for t in [*sorted(reads), 100, 101, 102]:
            running = [xid[id(tx)] for tx in txs if tx.start <= t < tx.end]
            started = [xid[id(tx)] for tx in txs if tx.start <= t]
            xmax = max(started, default=99) + 1
            snapshot = Snapshot(xmin=min(running, default=xmax), xmax=xmax)
            complete = False
            while not complete:  # as the listener does: read until a read is not cut short
                wanted = set(position.wanted())
                rows = sorted(i for i in committed_by(t) if i > position.last or i in wanted)[:limit]
                complete = len(rows) < limit
                position.advance(rows, snapshot, now=float(t), complete=complete)
                read += rows
            assert {i for i in committed_by(t) if i <= position.watermark()} <= set(read)
    assert sorted(read) == sorted(committed_by(1000))
