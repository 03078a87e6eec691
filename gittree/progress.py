"""The progress of a research: every experiment's metric in the order it was made, and the best so far.

Pure: a :class:`ResearchTree` in, plain data out. ``gittree plot`` (:mod:`gittree.render.chart`), the
HTML page's "progress" view and the notebook API (``Research.plot``) all draw this one answer, so the
three pictures agree point for point. The rules are documented in docs/render.md ("The progress chart").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from gittree.analysis import require_metric
from gittree.model import MetricSpec, Node, ResearchTree, Verdict
from gittree.tree import rank_key


@dataclass(frozen=True)
class Point:
    """One experiment on the chart. ``mean`` is None when it records no finite value (a crashed run)."""

    #: position in the order the experiments were made, from 0.
    index: int
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
            (point.index, point.mean) for point in self.points if point.new_best and point.mean is not None
        ]
        last = self.points[-1] if self.points else None
        if steps and last is not None and last.best_so_far is not None and steps[-1][0] != last.index:
            steps.append((last.index, last.best_so_far))
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
    points: list[Point] = []
    best: float | None = None
    for index, node in enumerate(made_order(tree)):
        value = node.metrics.get(spec.name)
        finite = value is not None and math.isfinite(value.mean)
        new_best = False
        if (
            value is not None
            and can_be_best(node, spec)
            and (best is None or rank_key(value.mean, spec.goal) > rank_key(best, spec.goal))
        ):
            best, new_best = value.mean, True
        std = value.std if value is not None and value.std is not None and math.isfinite(value.std) else None
        points.append(
            Point(
                index=index,
                node=node,
                verdict=verdicts[node.sha] if verdicts is not None else node.verdict,
                mean=value.mean if finite and value is not None else None,
                std=std,
                n=value.n if value is not None else 0,
                new_best=new_best and finite,
                best_so_far=best if best is not None and math.isfinite(best) else None,
            )
        )
    return Progress(metric=spec, points=tuple(points))
