"""Units into k groups of nearly equal households: recursive bisection, then boundary moves.

Each bisection sorts the units' centroids along a few directions (the street lattice's two, the long
axis and some between) and splits them ⌈k/2⌉ : ⌊k/2⌋. Among the splits that keep both sides within
CUT_SLACK of their fair share it takes the one cutting the fewest and weakest contacts (see graph.py),
so the cut slides into the nearest street; long thin halves and cuts across the lattice (staircases
through the blocks) are penalised. Pieces a straight cut severs from their side go to the other side.
Finally boundary units move from heavier to lighter neighbouring groups (the heaviest and lightest
groups first, else along chains of neighbours), preferring units that face their new group more than
their old one, until the largest group is within BALANCE_TARGET of the smallest."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from .graph import Graph
from .prepare import connected_labels

CUT_SLACK = 0.12  # a cut may leave a side's grids this share of a fair grid above or below it
BALANCE_TARGET = 1.2  # boundary moves stop once max/min households is at most this
ASPECT_OK = 2.0  # halves more elongated than this (by their extents) are penalised
LATTICE_STRENGTH = 0.3  # footprints this aligned (0 random, 1 all parallel) make a street lattice
OFF_LATTICE = 1.3  # score factor of cuts not along the lattice, where there is one
MAX_MOVES_PER_UNIT = 0.5
MAX_PAIRS_TRIED = 20
SMOOTHING_PASSES = 3
SMOOTHING_SLACK = 1.02
SMALL_SET = 60  # bisecting fewer units than this tries fewer directions: they hardly differ


class Grouper:
    def __init__(self, graph: Graph, weights: np.ndarray, rng: np.random.Generator):
        self.graph = graph
        self.weights = weights
        self.rng = rng
        self.start, self.neighbour, self.neighbour_cost = graph.neighbours()

    def groups(self, k: int) -> np.ndarray:
        """The group (0..k-1) of every unit."""
        labels = np.zeros(len(self.weights), dtype=np.int64)
        g = self.graph
        for label, units in enumerate(self._split(np.arange(len(self.weights)), g.a, g.b, g.cost, k)):
            labels[units] = label
        self.rebalance(labels, k)
        self.smooth(labels, k)
        return labels

    # -- bisection ---------------------------------------------------------------------------------

    def _split(self, units: np.ndarray, la: np.ndarray, lb: np.ndarray, cost: np.ndarray, k: int) -> list[np.ndarray]:
        """`units` into k groups; la, lb index `units` (the links among them)."""
        if k == 1:
            return [units]
        if len(units) == k:
            return [units[[i]] for i in range(k)]
        k_first = (k + 1) // 2
        side_a = self._bisect(units, la, lb, cost, k_first, k - k_first)
        groups = []
        for side, k_side in ((side_a, k_first), (~side_a, k - k_first)):
            keep = side[la] & side[lb]
            renumber = np.cumsum(side) - 1
            groups += self._split(units[side], renumber[la[keep]], renumber[lb[keep]], cost[keep], k_side)
        return groups

    def _bisect(self, units, la, lb, cost, k_a: int, k_b: int) -> np.ndarray:
        """Which of `units` go to side A (k_a groups); the others make side B (k_b groups)."""
        xy = self.graph.centroid[units]
        w = self.weights[units]
        best: tuple[float, np.ndarray] | None = None
        for theta, penalty in self._directions(units, xy, w, k_a != k_b):
            score, side_a = self._best_cut(xy, w, la, lb, cost, theta, k_a, k_b)
            score *= penalty
            if best is None or score < best[0]:
                best = (score, side_a)
        return self._reunite(best[1], la, lb, w, k_a, k_b)

    def _directions(self, units: np.ndarray, xy: np.ndarray, w: np.ndarray,
                    both_ways: bool) -> list[tuple[float, float]]:
        """Directions to sort along (each cut runs across its direction), each with a score factor: a
        cut across the street lattice makes a staircase through the blocks, so it must be clearly better."""
        centred = xy - np.average(xy, axis=0, weights=w + 1e-9)
        cov = (centred * (w + 1e-9)[:, None]).T @ centred
        _, eigenvectors = np.linalg.eigh(cov)
        long_axis = math.atan2(eigenvectors[1, -1], eigenvectors[0, -1])
        jitter = math.radians(self.rng.uniform(-4, 4))
        tilts = (0, 30, -30, 60, -60, 90) if len(units) > SMALL_SET else (0, 90)
        c, s = self.graph.orientation[units].sum(axis=0)
        total = np.abs(self.graph.orientation[units]).sum() + 1e-9
        directions = []
        off_lattice = 1.0
        if math.hypot(c, s) / total > LATTICE_STRENGTH / 2:  # |(c, s)| ≤ Σ|c|+|s| ≤ √2·Σ length
            lattice = math.atan2(s, c) / 4
            directions = [(lattice, 1.0), (lattice + math.pi / 2, 1.0)]
            off_lattice = OFF_LATTICE
        directions += [(long_axis + jitter + math.radians(d), off_lattice) for d in tilts]
        if both_ways:
            directions += [(d + math.pi, penalty) for d, penalty in directions]
        return directions

    def _best_cut(self, xy, w, la, lb, cost, theta, k_a, k_b) -> tuple[float, np.ndarray]:
        count, k = len(w), k_a + k_b
        along = xy @ np.array([math.cos(theta), math.sin(theta)])
        across = xy @ np.array([-math.sin(theta), math.cos(theta)])
        order = np.argsort(along, kind="stable")
        rank = np.empty(count, dtype=np.int64)
        rank[order] = np.arange(count)
        total = w.sum()
        m = np.arange(1, count)  # the first m units (in `order`) make side A
        weight_a = np.cumsum(w[order])[:-1]
        deviation = np.abs(weight_a / k_a - (total - weight_a) / k_b) / (total / k)
        possible = (m >= k_a) & (count - m >= k_b)
        window = possible & (deviation <= CUT_SLACK)
        if not window.any():  # a few heavy units: take the most even split there is
            window = possible & (deviation <= deviation[possible].min() + 1e-12)
        # a link crosses the cut between m and m+1 when one end ranks below m and the other not
        low, high = np.minimum(rank[la], rank[lb]), np.maximum(rank[la], rank[lb])
        step = np.zeros(count + 1)
        np.add.at(step, low + 1, cost)
        np.add.at(step, high + 1, -cost)
        cut_cost = np.cumsum(step)[m]
        aspect = self._aspect(along[order], across[order])
        floor = 0.01 * (cut_cost[window].mean() + 1e-12)
        score = (cut_cost + floor) * (1 + (deviation / CUT_SLACK) ** 2) * np.maximum(1, aspect / ASPECT_OK) ** 2
        score[~window] = np.inf
        best = int(np.argmin(score))
        side_a = np.zeros(count, dtype=bool)
        side_a[order[: m[best]]] = True
        return float(score[best]), side_a

    @staticmethod
    def _aspect(along: np.ndarray, across: np.ndarray) -> np.ndarray:
        """For each split m (1..count-1), the larger length/width ratio of its two halves' extents."""
        pad = 1.0
        low_a, high_a = np.minimum.accumulate(across), np.maximum.accumulate(across)
        low_b = np.minimum.accumulate(across[::-1])[::-1]
        high_b = np.maximum.accumulate(across[::-1])[::-1]
        length_a = along[:-1] - along[0] + pad
        length_b = along[-1] - along[1:] + pad
        width_a = high_a[:-1] - low_a[:-1] + pad
        width_b = high_b[1:] - low_b[1:] + pad
        ratio_a = np.maximum(length_a / width_a, width_a / length_a)
        ratio_b = np.maximum(length_b / width_b, width_b / length_b)
        return np.maximum(ratio_a, ratio_b)

    @staticmethod
    def _reunite(side_a, la, lb, w, k_a, k_b) -> np.ndarray:
        """Pieces of one side cut off from the rest of it (a straight cut through a bend) join the other
        side, if they touch it and it keeps enough units for its grids."""
        side_a = side_a.copy()
        for side in (True, False):
            mine = side_a == side
            same = (mine[la]) & (mine[lb])
            label = connected_labels(len(w), la[same], lb[same])
            label[~mine] = -1
            pieces = np.unique(label[mine])
            if len(pieces) <= 1:
                continue
            weight = np.array([w[label == p].sum() + 1e-9 * (label == p).sum() for p in pieces])
            across = mine[la] != mine[lb]
            touching = set(label[la[across]]) | set(label[lb[across]])
            for p in pieces[np.argsort(-weight)][1:]:
                piece = label == p
                stays = mine.sum() - piece.sum()
                needed = k_a if side else k_b
                if p in touching and stays >= needed:
                    side_a[piece] = not side
                    mine = side_a == side
        return side_a

    # -- balancing ---------------------------------------------------------------------------------

    def rebalance(self, labels: np.ndarray, k: int) -> int:
        """Moves boundary units (in place) until the groups are within BALANCE_TARGET; how many moved."""
        w = self.weights
        loads = np.bincount(labels, weights=w, minlength=k)
        sizes = np.bincount(labels, minlength=k)
        moves = 0
        for _ in range(int(MAX_MOVES_PER_UNIT * len(w)) + 10 * k):
            if loads.max() <= BALANCE_TARGET * loads.min():
                break
            move = self._best_move(labels, loads, sizes)
            if move is None:
                break
            moves += 1
            unit, target = move
            source = labels[unit]
            labels[unit] = target
            loads[source] -= w[unit]
            loads[target] += w[unit]
            sizes[source] -= 1
            sizes[target] += 1
        return moves

    def smooth(self, labels: np.ndarray, k: int) -> int:
        """Units facing another group more than their own (teeth left by straight cuts and by the moves
        above) join it, as long as max/min worsens by at most SMOOTHING_SLACK and stays within
        BALANCE_TARGET (unless it already was above)."""
        w = self.weights
        loads = np.bincount(labels, weights=w, minlength=k)
        sizes = np.bincount(labels, minlength=k)
        ratio = loads.max() / loads.min()
        limit = max(ratio, min(BALANCE_TARGET, ratio * SMOOTHING_SLACK))
        moved = 0
        for _ in range(SMOOTHING_PASSES):
            owner, other, cost = self._links(np.arange(len(labels)))
            mine, theirs = labels[owner], labels[other]
            stay = np.bincount(owner, weights=np.where(mine == theirs, cost, 0.0), minlength=len(labels))
            leaving = mine != theirs
            pairs, inverse = np.unique(owner[leaving] * k + theirs[leaving], return_inverse=True)
            pull = np.bincount(inverse, weights=cost[leaving])
            units, targets = np.divmod(pairs, k)
            gain = pull - stay[units]
            moved_now = 0
            for i in np.argsort(-gain, kind="stable"):
                if gain[i] <= 0:
                    break
                unit, target = int(units[i]), int(targets[i])
                source = int(labels[unit])
                if source == target or sizes[source] <= 1 or self._facing(labels, unit, target) <= self._facing(
                        labels, unit, source):
                    continue
                after = loads.copy()
                after[source] -= w[unit]
                after[target] += w[unit]
                if after.max() > limit * after.min() or not self._stays_connected(labels, source, unit):
                    continue
                labels[unit] = target
                loads = after
                sizes[source] -= 1
                sizes[target] += 1
                moved_now += 1
            moved += moved_now
            if not moved_now:
                break
        return moved

    def _facing(self, labels, unit: int, group: int) -> float:
        """The cost of `unit`'s links into `group`."""
        around = slice(self.start[unit], self.start[unit + 1])
        return float(self.neighbour_cost[around][labels[self.neighbour[around]] == group].sum())

    def _links(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All links leaving `units`: (unit, neighbour, cost)."""
        starts, ends = self.start[units], self.start[units + 1]
        counts = ends - starts
        owner = np.repeat(units, counts)
        index = np.repeat(ends - counts.cumsum(), counts) + np.arange(counts.sum())
        return owner, self.neighbour[index], self.neighbour_cost[index]

    def _candidates(self, labels, loads, units):
        """Moves of boundary units among `units` to a neighbouring group, cheapest cut first:
        [(cost change, unit, target group)]."""
        owner, other, cost = self._links(units)
        if len(owner) == 0:
            return []
        mine, theirs = labels[owner], labels[other]
        stay = np.bincount(owner, weights=np.where(mine == theirs, cost, 0.0), minlength=len(labels))
        leaving = mine != theirs
        pairs = {}
        for u, q, c in zip(owner[leaving], theirs[leaving], cost[leaving], strict=True):
            pairs[(int(u), int(q))] = pairs.get((int(u), int(q)), 0.0) + float(c)
        moves = [(stay[u] - c, u, q) for (u, q), c in pairs.items()
                 if loads[q] + self.weights[u] < loads[labels[u]]]
        return sorted(moves)

    def _best_move(self, labels, loads, sizes):
        """A boundary unit to move from a group to a lighter neighbouring group: between the heaviest or
        the lightest group and a neighbour if possible, else between the most unequal neighbours (so a
        light group walled in by other light ones gets households passed along to it)."""
        g = self.graph
        one, other = labels[g.a], labels[g.b]
        across = one != other
        heavier = np.where(loads[one] >= loads[other], one, other)[across]
        lighter = np.where(loads[one] >= loads[other], other, one)[across]
        k = len(loads)
        pairs = np.unique(heavier * k + lighter)
        source, target = np.divmod(pairs, k)
        priority = loads[source] - loads[target]
        extreme = (source == int(np.argmax(loads))) | (target == int(np.argmin(loads)))
        for i in np.lexsort((-priority, ~extreme))[:MAX_PAIRS_TRIED]:
            p, q = int(source[i]), int(target[i])
            if sizes[p] <= 1:
                continue
            moves = [m for m in self._candidates(labels, loads, np.flatnonzero(labels == p)) if m[2] == q]
            for _, unit, _ in moves[:12]:
                if self._stays_connected(labels, p, unit):
                    return unit, q
        return None

    def _stays_connected(self, labels, group: int, unit: int) -> bool:
        """Whether taking `unit` out of `group` keeps its neighbours in the group linked to each other
        (so a group in one piece stays in one piece). The search stops as soon as they all meet."""
        around = [v for v in self.neighbour[self.start[unit]:self.start[unit + 1]].tolist() if labels[v] == group]
        if len(around) <= 1:
            return True
        wanted = set(around[1:])
        seen = {unit, around[0]}
        queue = deque([around[0]])
        while queue:
            u = queue.popleft()
            for v in self.neighbour[self.start[u]:self.start[u + 1]].tolist():
                if v not in seen and labels[v] == group:
                    seen.add(v)
                    wanted.discard(v)
                    if not wanted:
                        return True
                    queue.append(v)
        return False
