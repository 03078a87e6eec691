"""What every command shares: the app, the global options, colour and width decisions, printing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gittree import __version__
from gittree.cli.output import ColourMode, print_lines, terminal_width, use_colour

__all__ = [
    "AllOption",
    "ColourMode",
    "ColourOption",
    "JsonOption",
    "MetricOption",
    "RevsArgument",
    "State",
    "app",
    "print_lines",
    "terminal_width",
    "use_colour",
]


def _help_in_users_words() -> None:
    """Help names an option's value by what it means (``--since DATE``), never by its Python type.

    typer writes ``<str>``, ``<list[str]>`` or ``<int range>`` after an option without a metavar, the
    type after an argument whatever its metavar, and a required argument as ``{a}`` (issue 18). Here an
    option without a metavar shows its name in capitals, choices as ``[a|b]``, and an argument only
    its metavar (``REV...``, ``[REV]...``). ``tests/test_help_texts.py`` snapshots every command's help.
    """
    from typer import core

    def option_value(self: core.TyperOption, ctx: object) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.type_descriptor.is_choice:
            return "[" + core.TyperOption.display_type(self, ctx)[1:-1] + "]"  # type: ignore[arg-type]
        if (self.help or "").startswith("NAME=VALUE"):
            return "NAME=VALUE"
        return (self.name or "value").rsplit("_", 1)[-1].upper()  # metrics_file: FILE

    def argument_name(self: core.TyperArgument) -> str:
        return (self.metavar or (self.name or "arg").upper()) + ("..." if self.nargs != 1 else "")

    def argument_usage(self: core.TyperArgument) -> str:
        name = self.metavar or (self.name or "arg").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    core.TyperOption.display_type_rich = option_value  # type: ignore[method-assign]
    core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]
    core.TyperArgument._rich_display_name = argument_name  # type: ignore[method-assign]
    core.TyperArgument._usage_display_name = argument_usage  # type: ignore[method-assign]


_help_in_users_words()

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
        Path | None,
        typer.Option("-C", "--repo", metavar="PATH", help="Run as if started in this folder (like git -C)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    State.repo_path = repo


ColourOption = Annotated[ColourMode, typer.Option("--color", "--colour", help="Colour output.")]

# The options every view shares, with the same words everywhere (the scope rule: docs/tree.md).
RevsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="REV",
        help="Read only the history of these revisions (default: every local branch and gittree's kept "
        "experiments, HEAD marked).",
        show_default=False,
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Also read remote-tracking branches and tags.")]
MetricOption = Annotated[
    str | None, typer.Option("--metric", "-m", metavar="NAME", help="Judge and colour by this metric.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text (docs/export.md).")]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit", min=1, metavar="N", help="Only the N newest experiments; older history is not read."
    ),
]
AuthorOption = Annotated[
    str | None,
    typer.Option(
        "--author",
        metavar="TEXT",
        help="Only experiments whose author name or email contains TEXT (any case).",
    ),
]
