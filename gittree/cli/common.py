"""What every command shares: the app, the global options, colour and width decisions, printing."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gittree import __version__

app = typer.Typer(
    name="gittree",
    help="A git-native research log: experiments are commits, research is a tree.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ColourMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


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


def use_colour(mode: ColourMode) -> bool:
    """Colour when asked, or on a terminal unless NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    if mode is ColourMode.always:
        return True
    if mode is ColourMode.never:
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def print_lines(lines: Iterable[str]) -> None:
    write = sys.stdout.write
    for line in lines:
        write(line + "\n")
    sys.stdout.flush()


ColourOption = Annotated[ColourMode, typer.Option("--color", "--colour", help="Colour output.")]
