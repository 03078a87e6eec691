"""gittree render and plot: the research tree as DOT, SVG, PNG, PDF or an interactive HTML page; the progress chart."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from gittree.cli.common import AllOption, AuthorOption, LimitOption, MetricOption, RevsArgument, State, app
from gittree.cli.output import DrawingFormat


@app.command()
def render(
    revs: RevsArgument = None,
    all_refs: AllOption = False,
    metric: MetricOption = None,
    fmt: Annotated[
        DrawingFormat | None,
        typer.Option("--format", "-f", help="Output format (default: from -o's extension, else svg)."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o", "--output", metavar="FILE", help="Write to this file ('-' or none: standard output)."
        ),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth",
            min=1,
            metavar="N",
            help="Only the first N generations, counted from the tops (roots, or the first after --since).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE", help="Only experiments from this date on (2026-03-01, '2 weeks ago')."
        ),
    ] = None,
    only_best_path: Annotated[
        bool, typer.Option("--only-best-path", help="Only the path from the root to the best experiment.")
    ] = False,
    fold: Annotated[
        int,
        typer.Option(
            "--fold",
            min=0,
            metavar="N",
            help="Fold chains of at least N negligible experiments into one mark (0: never).",
        ),
    ] = 4,
    limit: LimitOption = None,
    author: AuthorOption = None,
) -> None:
    """Draw the research tree with Graphviz, or as one self-contained interactive HTML page."""
    from gittree.cli.fastpath import print_drawing
    from gittree.read import Selection

    print_drawing(
        State.repo_path,
        Selection(revs or [], all_refs=all_refs, metric=metric, limit=limit, author=author),
        fmt=fmt.value if fmt is not None else None,
        output=output,
        depth=depth,
        since=since,
        only_best_path=only_best_path,
        fold=fold,
    )


class ChartFormat(str, Enum):
    svg = "svg"
    png = "png"
    pdf = "pdf"


@app.command()
def plot(
    revs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Read only the history of these revisions (default: every local branch and gittree's kept "
            "experiments, as show); with --curves, the experiments whose curves to draw.",
            show_default=False,
        ),
    ] = None,
    all_refs: Annotated[
        bool, typer.Option("--all", help="Also read remote-tracking branches and tags.")
    ] = False,
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="Chart this metric.")] = None,
    fmt: Annotated[
        ChartFormat | None,
        typer.Option("--format", "-f", help="Output format (default: from -o's extension, else svg)."),
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write to this file ('-' or none: standard output).")
    ] = None,
    curves: Annotated[
        bool,
        typer.Option(
            "--curves",
            help="Overlay the step-by-step curves of the experiments REVS (their runs' log_metric step=, "
            "else DVCLive's histories committed with them).",
        ),
    ] = False,
) -> None:
    """The progress chart: each experiment's metric in the order made, the best so far as a step line.

    With --curves, the curves of the experiments named instead. Needs matplotlib: pip install 'gittree[plot]'.
    """
    from gittree import gitio
    from gittree.cli.output import write_output

    chosen = chart_format(fmt.value if fmt is not None else None, output)
    repo = gitio.open_repo(State.repo_path)
    if curves:
        from gittree.errors import BadValueError
        from gittree.render.plot import curves_bytes
        from gittree.runs.curves import curves_of, labelled

        if not revs or all_refs:
            raise BadValueError(
                "--curves needs the experiments to show", hint="gittree plot --curves HEAD exp/a"
            )
        data = curves_bytes(labelled(curves_of(repo, revs)), metric, chosen)
    else:
        from gittree.read import Selection, load_tree
        from gittree.render.plot import plot_bytes

        data = plot_bytes(load_tree(repo, Selection(revs or (), all_refs=all_refs, metric=metric)), chosen)
    write_output(data, output, binary=chosen != "svg", example=f"progress.{chosen}")


def chart_format(fmt: str | None, output: str | None) -> str:
    """``--format``, else the extension of ``-o``, else SVG."""
    if fmt is not None:
        return fmt
    if output is None or output == "-":
        return "svg"
    from pathlib import Path

    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in ChartFormat.__members__:
        from gittree.errors import BadValueError

        raise BadValueError(
            f"cannot tell the format from the file name '{output}'",
            hint="name it .svg, .png or .pdf, or say --format",
        )
    return suffix
