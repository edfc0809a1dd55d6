"""Where the listener stands in the CaseEvent id sequence, and which lower ids may still arrive.

Ids are drawn from a sequence at INSERT, but transactions commit in any order: event 101 can be visible
while 100 is still in flight. Reading "id > last seen" alone would skip 100 forever, so every id skipped
over is kept as a gap and asked for again until it shows up, or until no transaction that could hold it
is left (then it was rolled back).

A gap missing from snapshot S lies below an id already committed at S, so its transaction was running at S.
Once a later snapshot's xmin (its oldest running transaction) reaches S's xmax, all of those have ended, and
that later read, which asked for the gap, is final. MIN_AGE_S covers the instant between an INSERT drawing
its id and its transaction getting an xid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MIN_AGE_S = 1.0
# Past this a gap is given up (a transaction open this long): its event stays in the table and in replays.
MAX_AGE_S = 120.0
MAX_GAPS = 10_000
SETTLED = float("-inf")  # "seen long ago": no minimum age to wait for


@dataclass(frozen=True)
class Snapshot:
    """xmin: oldest transaction still running; xmax: first transaction id not yet started."""

    xmin: int
    xmax: int


@dataclass(frozen=True)
class Gap:
    horizon: int  # xmax of the snapshot the id was first missed in
    seen_at: float


@dataclass
class Position:
    last: int
    gaps: dict[int, Gap] = field(default_factory=dict)

    @classmethod
    def start(cls, top: int, present: Iterable[int], snapshot: Snapshot, *, scan: int) -> Position:
        """At `top` (the sequence's last value); ids in the `scan` below it that were not `present` may
        belong to transactions still running when the listener started."""
        position = cls(last=top)
        position._skip(range(max(top - scan, 0) + 1, top + 1), set(present), Gap(snapshot.xmax, SETTLED))
        return position

    def watermark(self) -> int:
        """Every committed event with an id up to this one has been read."""
        return min(self.gaps) - 1 if self.gaps else self.last

    def wanted(self) -> list[int]:
        return sorted(self.gaps)

    def advance(self, ids: Iterable[int], snapshot: Snapshot, now: float, *, complete: bool = True) -> None:
        """Records the ids read in one snapshot: new ones and filled gaps. `complete` is False when the read
        was cut short by its limit: then an absent gap proves nothing yet."""
        ids = set(ids)
        for i in ids:
            self.gaps.pop(i, None)
        top = max((i for i in ids if i > self.last), default=None)
        if top is not None:
            self._skip(range(max(self.last + 1, top - MAX_GAPS), top), ids, Gap(snapshot.xmax, now))
            self.last = top
        if complete:
            self._settle(snapshot, now)

    def _skip(self, candidates: range, present: set[int], gap: Gap) -> None:
        for i in candidates:
            if i not in present:
                self.gaps[i] = gap

    def _settle(self, snapshot: Snapshot, now: float) -> None:
        for i, gap in list(self.gaps.items()):
            ended = snapshot.xmin >= gap.horizon and now - gap.seen_at >= MIN_AGE_S
            if ended or now - gap.seen_at >= MAX_AGE_S:
                del self.gaps[i]
        for i in sorted(self.gaps)[: max(len(self.gaps) - MAX_GAPS, 0)]:
            del self.gaps[i]
