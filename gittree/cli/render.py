"""gittree render: the research tree as DOT, SVG, PNG, PDF or an interactive HTML page."""

from __future__ import annotations

from typing import Annotated

import typer

from gittree.cli.common import AllOption, MetricOption, RevsArgument, State, app
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
) -> None:
    """Draw the research tree with Graphviz, or as one self-contained interactive HTML page."""
    from gittree.cli.fastpath import print_drawing

    print_drawing(
        State.repo_path,
        revs or [],
        all_refs=all_refs,
        metric=metric,
        fmt=fmt.value if fmt is not None else None,
        output=output,
        depth=depth,
        since=since,
        only_best_path=only_best_path,
        fold=fold,
    )
