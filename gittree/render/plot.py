"""``gittree plot``'s one core call: a research tree in, the progress chart out (docs/render.md).

matplotlib is an optional extra (``pip install 'gittree[plot]'``): it is imported here, on first use,
and its absence is the :class:`~gittree.errors.MissingExtraError` that names the install command.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

    from gittree.curves import Curve
    from gittree.model import ResearchTree
    from gittree.render.chart import ProgressFigure
    from gittree.tree.progress import Progress

#: The command that installs what ``gittree plot`` needs, word for word as the error says it.
PLOT_INSTALL = "pip install 'gittree[plot]'"
FORMATS = ("svg", "png", "pdf")


def chart_module() -> ModuleType:
    """:mod:`gittree.render.chart`, or the error that says how to install matplotlib."""
    try:
        from gittree.render import chart
    except ImportError as e:
        if e.name is None or e.name.split(".")[0] != "matplotlib":
            raise
        from gittree.errors import MissingExtraError

        raise MissingExtraError(
            "drawing charts needs matplotlib, which is not installed", hint=f"install it with: {PLOT_INSTALL}"
        ) from e
    return chart


def progress_figure(progress: Progress) -> ProgressFigure:
    figure: ProgressFigure = chart_module().progress_figure(progress)
    return figure


def plot_bytes(tree: ResearchTree, fmt: str) -> bytes:
    """The progress chart of ``tree`` (on its metric) as SVG, PNG or PDF bytes."""
    from gittree.errors import BadValueError
    from gittree.tree.progress import progress_of

    if fmt not in FORMATS:
        raise BadValueError(f"unknown chart format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    chart = chart_module()
    data: bytes = chart.figure_bytes(chart.progress_figure(progress_of(tree)), fmt)
    return data


def curves_bytes(runs: list[tuple[str, dict[str, Curve]]], metric: str | None, fmt: str) -> bytes:
    """The curves of ``metric`` (default: the first one the first run logged) in ``runs``, overlaid.

    ``runs``: each run's label and its curves by metric name (:func:`gittree.runs.curves.labelled`).
    """
    from gittree.curves import downsample
    from gittree.errors import BadValueError

    if fmt not in FORMATS:
        raise BadValueError(f"unknown chart format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    name = metric or next(iter(runs[0][1]))
    series = [(label, downsample(curves[name])) for label, curves in runs if name in curves]
    if not series:
        logged = sorted({n for _, curves in runs for n in curves})
        raise BadValueError(f"no run logged a curve of '{name}'", hint=f"curves logged: {', '.join(logged)}")
    chart = chart_module()
    data: bytes = chart.figure_bytes(chart.curves_figure(series, name), fmt)
    return data
