"""What every command shares: the app, the global options, colour and width decisions, printing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gittree import __version__
from gittree.cli.output import ColourMode, print_lines, terminal_width, use_colour

__all__ = ["ColourMode", "ColourOption", "State", "app", "print_lines", "terminal_width", "use_colour"]

app = typer.Typer(
    name="gittree",
    help="A git-native research log: experiments are commits, research is a tree.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class State:
    repo_path: Path | None = None


def _version(value: bool) -> None:
    if value:
        print(f"gittree {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    repo: Annotated[
        Path | None, typer.Option("-C", "--repo", help="Run as if started in this folder (like git -C).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    State.repo_path = repo


ColourOption = Annotated[ColourMode, typer.Option("--color", "--colour", help="Colour output.")]
