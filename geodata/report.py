"""What an import did, as counts per layer plus repairs, notes and the coverage check: the closing report
of `import_territory` (and the figures `bench/import_territory.py` prints)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tqdm import tqdm

from .repair import Repair

# The closing report lists this many repairs and coverage problems; a count says how many more there are.
SHOWN = 50


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # only for assignments: primaries the file replaced

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.removed

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return text + (f", {self.removed} replaced" if self.removed else "")


@dataclass
class ImportReport:
    counts: dict[str, Counts] = field(default_factory=dict)  # per layer, plus "assignments"
    crs: dict[str, str] = field(default_factory=dict)  # per spatial layer: the CRS it was read in
    repairs: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    coverage_lines: list[str] = field(default_factory=list)
    coverage_summary: str = ""
    dry_run: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.counts.values())

    def lines(self) -> list[str]:
        lines = ["Dry run: nothing was written; this is what the import would do." if self.dry_run
                 else "Import finished." if self.changed else "Import finished: nothing changed."]
        lines += [f"  {layer:<12} {counts}" + (f"  [{self.crs[layer]}]" if layer in self.crs else "")
                  for layer, counts in self.counts.items()]
        lines.append(f"Geometries repaired: {len(self.repairs)}")
        lines += _capped([str(repair) for repair in self.repairs], "repairs")
        lines += [f"Note: {note}" for note in self.notes]
        if self.coverage_summary:
            lines.append(f"Coverage: {self.coverage_summary}")
            lines += _capped(self.coverage_lines, "coverage problems (python manage.py check_coverage "
                                                  "--html FILE maps them all)")
        return lines


def _capped(lines: list[str], what: str) -> list[str]:
    shown = [f"  {line}" for line in lines[:SHOWN]]
    return shown + ([f"  … and {len(lines) - SHOWN} more {what}"] if len(lines) > SHOWN else [])


class Progress:
    """One progress bar over the import's steps (reading and checking each layer, linking, writing each
    layer, the coverage check), naming the step under way. Shown on a terminal only."""

    def __init__(self, enabled: bool = False):
        self._bar = tqdm(total=0, unit="step", leave=False, disable=None if enabled else True,
                         bar_format="{desc:<24} {bar} {n_fmt}/{total_fmt} [{elapsed}]")

    def add(self, steps: int) -> None:
        self._bar.total += steps
        self._bar.refresh()

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self._bar.set_description_str(label)
        yield
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
