"""The progress of a research: every experiment's metric in the order it was made, and the best so far.

Pure: a :class:`ResearchTree` in, plain data out. ``gittree plot`` (:mod:`gittree.render.chart`), the
HTML page's "progress" view and the notebook API (``Research.plot``) all draw this one answer, so the
three pictures agree point for point. The rules are documented in docs/render.md ("The progress chart").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from gittree.model import MetricSpec, Node, ResearchTree, Verdict
from gittree.tree import rank_key
from gittree.tree.analysis import require_metric


class Point(NamedTuple):
    """One experiment on the chart. ``mean`` is None when it records no finite value (a crashed run).

    A named tuple rather than a frozen dataclass: one per experiment and metric, and a frozen dataclass
    is made about fifteen times slower (0.6 s for 100k points here).
    """

    #: position in the order the experiments were made, from 0.
    place: int
    node: Node
    verdict: Verdict
    mean: float | None
    #: sample standard deviation of repeated runs (seeds); None for a single run.
    std: float | None
    #: how many runs the mean is over (0 without a value).
    n: int
    #: the experiment set a new best so far (it is on the frontier's rising edge).
    new_best: bool
    #: the best value among this experiment and every one made before it that can be best.
    best_so_far: float | None

    @property
    def failed(self) -> bool:
        return self.node.status == "failed"


@dataclass(frozen=True)
class Progress:
    metric: MetricSpec
    #: every experiment, in the order made (author date, ties in the tree's order: parents first).
    points: tuple[Point, ...]

    @property
    def plotted(self) -> tuple[Point, ...]:
        """The points with a value, the ones drawn at their height."""
        return tuple(point for point in self.points if point.mean is not None)

    @property
    def new_bests(self) -> tuple[Point, ...]:
        return tuple(point for point in self.points if point.new_best)

    @property
    def frontier(self) -> tuple[tuple[int, float], ...]:
        """The best-so-far step line: ``(index, value)`` at each new best, and at the last point."""
        steps = [
            (point.place, point.mean) for point in self.points if point.new_best and point.mean is not None
        ]
        last = self.points[-1] if self.points else None
        if steps and last is not None and last.best_so_far is not None and steps[-1][0] != last.place:
            steps.append((last.place, last.best_so_far))
        return tuple(steps)


def made_order(tree: ResearchTree) -> list[Node]:
    """The experiments by author date; equal dates keep the tree's order, where a parent comes first."""
    return sorted(tree.nodes, key=lambda node: node.author_time)  # sorted() is stable


def can_be_best(node: Node, spec: MetricSpec) -> bool:
    """The ★ rules (tree.best_experiment): no dead end, a number that is not NaN, dirty only when allowed."""
    value = node.metrics.get(spec.name)
    if value is None or node.dead_end or math.isnan(value.mean):
        return False
    return spec.dirty_can_be_best or not node.dirty


def progress_of(
    tree: ResearchTree, spec: MetricSpec | None = None, verdicts: Mapping[str, Verdict] | None = None
) -> Progress:
    """The progress chart's data for ``spec`` (default: the tree's metric).

    ``verdicts`` colour the points when ``spec`` is not the metric the tree was evaluated on (the
    page's metric switcher passes :func:`gittree.tree.evaluate_each`'s); by default each node's own.
    A new best must beat the best so far strictly, the way ★ keeps the earliest of equal values.
    """
    spec = spec or require_metric(tree)
    name, goal, dirty_ok = spec.name, spec.goal, spec.dirty_can_be_best
    isfinite, isnan = math.isfinite, math.isnan
    points: list[Point] = []
    best: float | None = None
    best_key = -math.inf
    for index, node in enumerate(made_order(tree)):
        value = node.metrics.get(name)
        verdict = verdicts[node.sha] if verdicts is not None else node.verdict
        if value is None:
            points.append(Point(index, node, verdict, None, None, 0, False, best))
            continue
        mean, std = value.mean, value.std
        new_best = False
        # The ★ rules (can_be_best), inlined: this runs once per experiment, per metric, for the page.
        if not (isnan(mean) or node.dead_end or (not dirty_ok and node.dirty)):
            key = rank_key(mean, goal)
            if best is None or key > best_key:
                best, best_key, new_best = mean, key, True
        finite = isfinite(mean)
        points.append(
            Point(
                index,
                node,
                verdict,
                mean if finite else None,
                std if std is not None and isfinite(std) else None,
                value.n,
                new_best and finite,
                best if best is not None and isfinite(best) else None,
            )
        )
    return Progress(metric=spec, points=tuple(points))
