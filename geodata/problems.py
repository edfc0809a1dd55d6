"""Problems found in an interchange file: each names the layer, the feature and the reason, and all of
them are reported together so that one run shows everything there is to fix."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# Beyond this many problems in one layer, the report summarises the rest (a broken 25,000-building
# layer must not scroll the first layers' problems off the screen).
SHOWN_PER_LAYER = 30


@dataclass(frozen=True)
class Problem:
    layer: str
    reason: str
    index: int | None = None  # the feature's position in its layer (0-based), None for the whole layer
    code: str | None = None

    def __str__(self) -> str:
        where = self.layer
        if self.index is not None:
            where += f" feature #{self.index}"
        if self.code:
            where += f" ({self.code})"
        return f"{where}: {self.reason}"


class ImportRejected(ValueError):
    """The file cannot be imported as it is; nothing was written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"Import rejected, nothing was written: {len(self.problems)} problem(s) "
                 "(features are numbered from #0 in file order)."]
        lines.extend(problem_lines(self.problems))
        return "\n".join(lines)


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    by_layer: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_layer[problem.layer].append(problem)
    lines = []
    for layer, found in by_layer.items():
        lines.extend(f"  {p}" for p in found[:SHOWN_PER_LAYER])
        if len(found) > SHOWN_PER_LAYER:
            lines.append(f"  {layer}: … and {len(found) - SHOWN_PER_LAYER} more problem(s) in this layer")
    return lines
