"""gittree demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gittree.cli.common import ColourMode, app, print_lines, terminal_width, use_colour


@app.command()
def demo(
    directory: Annotated[
        Path | None, typer.Argument(help="A new or empty folder (default: a new temporary folder).")
    ] = None,
    color: Annotated[
        ColourMode, typer.Option("--color", "--colour", help="Colour output.")
    ] = ColourMode.auto,
    agent: Annotated[
        bool,
        typer.Option(
            "--agent",
            help="An autoresearch-style agent loop instead: commits, resets and reverts, results.tsv, "
            "then gittree import.",
        ),
    ] = False,
) -> None:
    """Build a realistic research repository in a new folder and show its tree."""
    from gittree import gitio
    from gittree.demo import build_agent_demo, build_demo
    from gittree.read import Selection, load_tree
    from gittree.render.text import TextStyle, render_view

    if agent:
        from gittree.importers import import_log
        from gittree.render.answers import render_import

        path, log = build_agent_demo(directory)
        print(f"agent loop repository: {path}")
        print(f"$ gittree import {log.name}")
        print_lines(render_import(import_log(gitio.open_repo(path), log)))
    else:
        path = build_demo(directory)
        print(f"demo research repository: {path}")
    tree = load_tree(gitio.open_repo(path), Selection(all_refs=True))
    style = TextStyle(width=terminal_width(), colour=use_colour(color))
    print()
    print_lines(render_view(tree, style))
    print()
    print(f"explore it:  cd {path} && gittree show --all")
