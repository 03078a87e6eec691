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
) -> None:
    """Build a realistic research repository in a new folder and show its tree."""
    from gittree import gitio
    from gittree.demo import build_demo
    from gittree.render.text import TextStyle, render_view
    from gittree.research import load_tree

    path = build_demo(directory)
    tree = load_tree(gitio.open_repo(path), all_refs=True)
    style = TextStyle(width=terminal_width(), colour=use_colour(color))
    print(f"demo research repository: {path}")
    print()
    print_lines(render_view(tree, style))
    print()
    print(f"explore it:  cd {path} && gittree show --all")
