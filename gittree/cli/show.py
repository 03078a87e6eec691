"""gittree show."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gittree.cli.common import ColourMode, State, app, print_lines, terminal_width, use_colour


@app.command()
def show(
    revs: Annotated[list[str] | None, typer.Argument(help="Revisions to start from (default: HEAD).")] = None,
    all_refs: Annotated[
        bool, typer.Option("--all", help="Every branch, remote-tracking branch and tag.")
    ] = False,
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="Colour by this metric.")] = None,
    color: Annotated[
        ColourMode, typer.Option("--color", "--colour", help="Colour output.")
    ] = ColourMode.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tree as JSON (docs/tree.md).")] = False,
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
    from gittree import gitio
    from gittree.research import load_tree

    tree = load_tree(
        gitio.open_repo(State.repo_path),
        revs or (),
        all_refs=all_refs,
        metric=metric,
        branches=branch or (),
        author=author,
    )
    if as_json:
        from gittree.render.jsonview import render_json

        sys.stdout.write(render_json(tree))
        return
    from gittree.render.text import TextStyle, legend, render_text

    style = TextStyle(width=terminal_width(), colour=use_colour(color))
    print_lines(render_text(tree, style))
    print()
    print(legend(tree, style))
