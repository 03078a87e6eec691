"""The progress chart drawn with matplotlib: a :class:`~gittree.tree.progress.Progress` in, a Figure or its bytes out.

Imports matplotlib at the top: reach it through :mod:`gittree.render.plot`, which turns a missing
matplotlib into the error that names the install command. Pure: no git, no pyplot (no global figure
state, no GUI backend), the same data in gives the same bytes out.

Every artist carries a ``gid`` (``progress-better``, ``progress-frontier``, ``progress-label-<sha>``...),
which the SVG writes as the ``id`` of its group: tests and other tools can read the chart's data back
from the figure or from the SVG. Layout and rules: docs/render.md ("The progress chart").
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from gittree.curves import Curve
from gittree.model import Goal, Verdict
from gittree.render.dot import BEST_PATH_COLOUR, MUTED, PALETTE, visible
from gittree.render.numbers import format_value
from gittree.tree.progress import Point, Progress

#: The formats ``gittree plot`` writes.
FORMATS = ("svg", "png", "pdf")
#: At most this many new bests are labelled with their subjects (the largest steps); more would overlap.
MOST_LABELS = 20
#: Subjects longer than this are cut with an ellipsis in labels.
LABEL_CHARACTERS = 48
DEAD_END_COLOUR = "#9e9e9e"

#: The groups points are drawn in, each one scatter with its gid and legend label, in legend order.
GROUPS: tuple[tuple[str, str], ...] = (
    ("better", "better"),
    ("negligible", "negligible"),
    ("worse", "worse"),
    ("baseline", "baseline"),
    ("abandoned", "dead end"),
    ("failed", "failed run"),
)
#: Settings that make the bytes depend on the data only (no dates, no random ids), and SVG text stay text.
STABLE_OUTPUT: dict[Any, Any] = {"svg.hashsalt": "gittree", "svg.fonttype": "none", "pdf.compression": 6}
METADATA: dict[str, dict[str, Any]] = {
    "svg": {"Date": None, "Creator": "gittree"},
    "png": {"Software": "gittree"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "gittree", "Producer": "gittree"},
}


class ProgressFigure(Figure):
    """A Figure that Jupyter shows as SVG (text stays selectable, the picture stays sharp)."""

    def _repr_svg_(self) -> str:
        return figure_bytes(self, "svg").decode("utf-8")


def group_of(point: Point) -> str:
    """The group a point is drawn in: its verdict, with failed runs apart from abandoned ones."""
    if point.failed:
        return "failed"
    if point.node.dead_end:
        return "abandoned"
    return (
        point.verdict.value
        if point.verdict in (Verdict.BETTER, Verdict.NEGLIGIBLE, Verdict.WORSE)
        else "baseline"
    )


def progress_figure(progress: Progress, *, title: str | None = None) -> ProgressFigure:
    """The chart: points by verdict in the order made, ± std bars, the best-so-far step line, labelled new bests."""
    with matplotlib.rc_context(STABLE_OUTPUT):
        figure = ProgressFigure(figsize=(10, 5.2), layout="constrained")
        axes = figure.add_subplot()
        _draw_points(axes, progress)
        _draw_frontier(axes, progress)
        _draw_labels(axes, progress)
        spec = progress.metric
        better = "lower" if spec.goal is Goal.MIN else "higher"
        axes.set_xlabel("experiment, in the order made")
        axes.set_ylabel(f"{visible(spec.name)} ({better} is better)")
        axes.set_title(title if title is not None else _title(progress), loc="left", fontsize=10)
        axes.grid(True, color="#e0e0e0", linewidth=0.6)
        axes.set_axisbelow(True)
        if progress.points:
            axes.set_xlim(-0.5, len(progress.points) - 0.5)
        axes.margins(y=0.18)  # room above the highest point for its label
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return figure


def _title(progress: Progress) -> str:
    total = len(progress.points)
    title = f"progress · {total} experiment{'s' if total != 1 else ''}"
    bests = progress.new_bests
    if bests:
        last = bests[-1]
        assert last.mean is not None
        title += f" · best {visible(progress.metric.name)} {format_value(last.mean)} ({last.node.short})"
    return title


def _draw_points(axes: Any, progress: Progress) -> None:
    plotted = progress.plotted
    noisy = [point for point in plotted if point.std is not None]
    if noisy:
        axes.errorbar(
            [p.place for p in noisy],
            [p.mean for p in noisy],
            yerr=[p.std for p in noisy],
            fmt="none",
            ecolor="#616161",
            elinewidth=0.8,
            capsize=2,
            gid="progress-noise",
            label="± std of seeds",
            zorder=2,
        )
    for group, label in GROUPS:
        members = [point for point in plotted if group_of(point) == group]
        if not members:
            continue
        axes.scatter(
            [p.place for p in members],
            [p.mean for p in members],
            label=label,
            gid=f"progress-{group}",
            zorder=3,
            **_marker(group),
        )
    missing = [point for point in progress.points if point.mean is None]
    if missing:
        # No value to place: marked along the bottom edge (x in data, y in axes units), so they still count.
        axes.scatter(
            [p.place for p in missing],
            [0.02] * len(missing),
            transform=blended_transform_factory(axes.transData, axes.transAxes),
            marker="x",
            color=DEAD_END_COLOUR,
            s=22,
            linewidths=1,
            label="no value",
            gid="progress-no-value",
            zorder=3,
            clip_on=False,
        )


def _marker(group: str) -> dict[str, Any]:
    if group == "abandoned":
        return {"marker": "o", "facecolors": "none", "edgecolors": DEAD_END_COLOUR, "s": 22, "linewidths": 1}
    if group == "failed":
        return {"marker": "x", "color": DEAD_END_COLOUR, "s": 22, "linewidths": 1}
    palette = PALETTE[Verdict(group)]
    return {"marker": "o", "facecolors": palette.border, "edgecolors": "white", "s": 30, "linewidths": 0.5}


def _draw_frontier(axes: Any, progress: Progress) -> None:
    steps = progress.frontier
    if not steps:
        return
    axes.step(
        [index for index, _ in steps],
        [value for _, value in steps],
        where="post",
        color=BEST_PATH_COLOUR,
        linewidth=1.6,
        label="best so far",
        gid="progress-frontier",
        zorder=4,
    )


def labelled(progress: Progress) -> tuple[Point, ...]:
    """The new bests that get their subject written beside them: all of them, or the largest steps."""
    bests = progress.new_bests
    if len(bests) <= MOST_LABELS:
        return bests
    steps = []
    for previous, point in zip((None, *bests[:-1]), bests, strict=True):
        assert point.mean is not None
        size = (
            abs(point.mean - previous.mean)
            if previous is not None and previous.mean is not None
            else float("inf")
        )
        steps.append((size, point.place, point))
    chosen = sorted(steps, key=lambda step: (-step[0], step[1]))[:MOST_LABELS]
    return tuple(point for _, _, point in sorted(chosen, key=lambda step: step[1]))


def label_text(point: Point) -> str:
    subject = visible(point.node.subject)
    if len(subject) > LABEL_CHARACTERS:
        subject = subject[: LABEL_CHARACTERS - 1] + "…"
    return subject


def _draw_labels(axes: Any, progress: Progress) -> None:
    for point in labelled(progress):
        axes.annotate(
            label_text(point),
            (point.place, point.mean),
            xytext=(4, 6),
            textcoords="offset points",
            fontsize=6.5,
            rotation=40,
            rotation_mode="anchor",
            color=MUTED,
            gid=f"progress-label-{point.node.sha}",
            # A subject is data, not markup: "$" must not start mathtext (it could fail to parse).
            parse_math=False,
            annotation_clip=False,
        )


def figure_bytes(figure: Figure, fmt: str) -> bytes:
    """The figure as SVG, PNG or PDF bytes, without dates, so the same chart gives the same bytes."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(STABLE_OUTPUT):
        figure.savefig(buffer, format=fmt, metadata=METADATA[fmt], dpi=150 if fmt == "png" else None)
    return buffer.getvalue()


#: Line colours of overlaid curves, one per run, in the order named (matplotlib's default cycle).
CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def curves_figure(series: list[tuple[str, Curve]], metric: str) -> ProgressFigure:
    """Curves of one metric overlaid, one line per (label, curve); gids ``curve-0``, ``curve-1``..."""
    with matplotlib.rc_context(STABLE_OUTPUT):
        figure = ProgressFigure(figsize=(10, 5.2), layout="constrained")
        axes = figure.add_subplot()
        for number, (label, curve) in enumerate(series):
            note = f" ({len(curve.steps):,} of {curve.total:,} points)" if curve.downsampled else ""
            axes.plot(
                curve.steps,
                curve.values,
                color=CURVE_COLOURS[number % len(CURVE_COLOURS)],
                linewidth=1.2,
                label=visible(label) + note,
                gid=f"curve-{number}",
            )
        axes.set_xlabel("step")
        axes.set_ylabel(visible(metric))
        axes.set_title(f"curves · {visible(metric)}", loc="left", fontsize=10)
        axes.grid(True, color="#e0e0e0", linewidth=0.6)
        axes.legend(loc="best", fontsize=8, frameon=False)
    return figure
