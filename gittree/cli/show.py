"""gittree show."""

from __future__ import annotations

from typing import Annotated

import typer

from gittree.cli.common import ColourMode, State, app


@app.command()
def show(
    revs: Annotated[list[str] | None, typer.Argument(help="Revisions to start from (default: HEAD).")] = None,
    all_refs: Annotated[
        bool, typer.Option("--all", help="Every branch, remote-tracking branch, tag and kept ref.")
    ] = False,
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="Colour by this metric.")] = None,
    color: Annotated[
        ColourMode, typer.Option("--color", "--colour", help="Colour output.")
    ] = ColourMode.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tree as JSON (docs/tree.md).")] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Only the N newest experiments; older history is not read."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only commits since DATE (2026-03-01, '3 days ago', yesterday, @EPOCH); older ones are not read.",
        ),
    ] = None,
    author: Annotated[
        str | None,
        typer.Option(
            "--author", help="Only experiments whose author name or email contains TEXT (any case)."
        ),
    ] = None,
    branch: Annotated[
        list[str] | None,
        typer.Option(
            "--branch", help="Start from branches matching this glob, local and remote; repeatable."
        ),
    ] = None,
) -> None:
    """Show the research tree: one row per experiment, coloured by its delta against its parent."""
    from gittree.cli.fastpath import show_tree

    show_tree(
        State.repo_path,
        revs or [],
        all_refs=all_refs,
        metric=metric,
        color=color,
        as_json=as_json,
        limit=limit,
        since=since,
        branches=branch or [],
        author=author,
    )
