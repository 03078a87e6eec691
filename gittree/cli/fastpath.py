"""Start-up without typer: ``gittree --version`` and plain ``gittree show`` invocations.

Importing typer (and click with it) costs about 60 ms here, six times an empty Python start; a
``gittree show`` answered from the cache needs a few milliseconds. So :func:`try_fast` recognises the
common forms of these two commands itself and runs them; anything else (``--help``, an unknown or
malformed option, other commands) returns False and goes to the full typer command line, which also
owns every error message about the command line. tests/test_startup.py checks that both paths print
the same for the forms recognised here.
"""

from __future__ import annotations

import time
from pathlib import Path

from gittree.cli.output import ColourMode, Progress, terminal_width, use_colour, write_chunks

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

_SHOW_FLAGS = {"--all": "all_refs", "--json": "as_json"}
_SHOW_VALUES = {
    "--metric": "metric",
    "-m": "metric",
    "--color": "color",
    "--colour": "color",
    "--limit": "limit",
    "--since": "since",
}


def try_fast(argv: list[str]) -> bool:
    """Run ``argv`` here when it is one of the fast forms; False hands it to the typer app."""
    if argv == ["--version"]:
        from gittree import __version__

        print(f"gittree {__version__}")
        return True
    args = list(argv)
    repo_path: Path | None = None
    if len(args) >= 2 and args[0] in ("-C", "--repo") and not args[1].startswith("-"):
        repo_path, args = Path(args[1]), args[2:]
    elif args and args[0].startswith("--repo=") and len(args[0]) > len("--repo="):
        repo_path, args = Path(args[0].partition("=")[2]), args[1:]
    if not args or args[0] != "show":
        return False
    options = _parse_show(args[1:])
    if options is None:
        return False
    show_tree(repo_path, **options)
    return True


def _parse_show(args: list[str]) -> dict[str, Any] | None:
    """The options of ``gittree show`` in the forms click accepts, or None for anything unusual."""
    options: dict[str, Any] = {"revs": [], "all_refs": False, "as_json": False}
    values: dict[str, str] = {}
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if arg == "--":
            options["revs"].extend(args[position:])
            break
        if arg in _SHOW_FLAGS:
            options[_SHOW_FLAGS[arg]] = True
            continue
        name, equals, value = arg.partition("=")
        if name in _SHOW_VALUES and name.startswith("--") and equals:
            values[_SHOW_VALUES[name]] = value
            continue
        if arg in _SHOW_VALUES:
            if position >= len(args) or args[position].startswith("-"):
                return None
            values[_SHOW_VALUES[arg]] = args[position]
            position += 1
            continue
        if arg.startswith("-"):
            return None  # --help, -h, an unknown option, a bundled short option: typer decides
        options["revs"].append(arg)
    if "color" in values and values["color"] not in ColourMode.__members__:
        return None
    if "limit" in values and not (values["limit"].isdigit() and int(values["limit"]) >= 1):
        return None
    options["metric"] = values.get("metric")
    options["color"] = ColourMode(values.get("color", "auto"))
    options["limit"] = int(values["limit"]) if "limit" in values else None
    options["since"] = values.get("since")
    return options


def show_tree(
    repo_path: Path | None,
    revs: list[str],
    *,
    all_refs: bool = False,
    metric: str | None = None,
    color: ColourMode = ColourMode.auto,
    as_json: bool = False,
    limit: int | None = None,
    since: str | None = None,
    branches: list[str] | None = None,
    author: str | None = None,
) -> None:
    """``gittree show``: stream the research tree (text or JSON), from the cache when nothing changed."""
    from gittree import gitio, research

    repo = gitio.open_repo(repo_path)
    since_time = None
    if since is not None:
        from gittree.dates import parse_since

        since_time = parse_since(since, now=int(time.time()))
    progress = Progress()
    if as_json:
        name = "show-json"

        def render(tree: Any) -> Any:
            from gittree.render.jsonview import render_json_chunks

            return render_json_chunks(tree)

    else:
        width, colour = terminal_width(), use_colour(color)
        name = f"show-text:{width}:{int(colour)}"

        def render(tree: Any) -> Any:
            from gittree.render.text import TextStyle, legend, render_text

            style = TextStyle(width=width, colour=colour)
            for line in render_text(tree, style):
                yield line + "\n"
            yield "\n" + legend(tree, style) + "\n"

    chunks = research.view(
        repo,
        name,
        render,
        revs,
        all_refs=all_refs,
        metric=metric,
        limit=limit,
        since=since_time,
        progress=progress,
        branches=branches or (),
        author=author,
    )
    try:
        write_chunks(chunks, before_first=progress.clear)
    finally:
        progress.clear()
