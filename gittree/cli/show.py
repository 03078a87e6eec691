"""gittree show."""

from __future__ import annotations

from typing import Annotated

import typer

from gittree.cli.common import (
    AllOption,
    AuthorOption,
    ColourMode,
    ColourOption,
    JsonOption,
    LimitOption,
    MetricOption,
    RevsArgument,
    State,
    app,
)


@app.command()
def show(
    revs: RevsArgument = None,
    all_refs: AllOption = False,
    metric: MetricOption = None,
    color: ColourOption = ColourMode.auto,
    as_json: JsonOption = False,
    limit: LimitOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Only commits since DATE (2026-03-01, '3 days ago', yesterday, @EPOCH); older ones are not read.",
        ),
    ] = None,
    author: AuthorOption = None,
    branch: Annotated[
        list[str] | None,
        typer.Option(
            "--branch",
            metavar="GLOB",
            help="Start from branches matching this glob, local and remote; repeatable.",
        ),
    ] = None,
) -> None:
    """Show the research tree: one row per experiment, coloured by its delta against its parent."""
    from gittree import gitio
    from gittree.cli.fastpath import read_since, show_tree
    from gittree.read import Selection

    repo = gitio.open_repo(State.repo_path)
    chosen = Selection(
        revs or (),
        all_refs=all_refs,
        metric=metric,
        limit=limit,
        since=read_since(since),
        branches=branch or (),
        author=author,
    )
    show_tree(repo, chosen, color=color, as_json=as_json)
