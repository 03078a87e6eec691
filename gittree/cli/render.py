"""gittree render: the research tree as DOT, SVG, PNG, PDF or an interactive HTML page."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from gittree.cli.common import State, app


class Format(str, Enum):
    dot = "dot"
    svg = "svg"
    png = "png"
    pdf = "pdf"
    html = "html"


#: Formats whose bytes would garble a terminal.
BINARY = (Format.png, Format.pdf)


@app.command()
def render(
    revs: Annotated[list[str] | None, typer.Argument(help="Revisions to start from (default: HEAD).")] = None,
    all_refs: Annotated[
        bool, typer.Option("--all", help="Every branch, remote-tracking branch and tag.")
    ] = False,
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="Colour by this metric.")] = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Output format (default: from -o's extension, else svg)."),
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write to this file ('-' or none: standard output).")
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option("--depth", min=1, help="Only the N most recent generations of each line of work."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only experiments from this date on (2026-03-01, '2 weeks ago')."),
    ] = None,
    only_best_path: Annotated[
        bool, typer.Option("--only-best-path", help="Only the path from the root to the best experiment.")
    ] = False,
    fold: Annotated[
        int,
        typer.Option(
            "--fold", min=0, help="Fold chains of at least N negligible experiments into one mark (0: never)."
        ),
    ] = 4,
) -> None:
    """Draw the research tree with Graphviz, or as one self-contained interactive HTML page."""
    import time

    from gittree import gitio, questions
    from gittree.dates import parse_since
    from gittree.render.dot import ViewOptions

    chosen = _format(fmt, output)
    if (output is None or output == "-") and chosen in BINARY and sys.stdout.isatty():
        from gittree.errors import BadValueError

        raise BadValueError(
            f"{chosen.value.upper()} is binary and standard output is a terminal",
            hint=f"write it to a file: gittree render -o tree.{chosen.value}",
        )
    options = ViewOptions(
        depth=depth,
        since=parse_since(since, now=int(time.time())) if since else None,
        only_best_path=only_best_path,
        fold=fold,
    )
    repo = gitio.open_repo(State.repo_path)
    data = b"".join(
        questions.drawing_view(
            repo, revs or (), all_refs=all_refs, metric=metric, fmt=chosen.value, options=options
        )
    )
    if output is None or output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    _write(Path(output), data)
    from gittree.render.escape import terminal_safe

    print(f"wrote {terminal_safe(output)}")


def _format(fmt: Format | None, output: str | None) -> Format:
    """``--format``, else the extension of ``-o``, else SVG."""
    if fmt is not None:
        return fmt
    if output is None or output == "-":
        return Format.svg
    suffix = Path(output).suffix.lower().lstrip(".")
    suffix = {"htm": "html", "gv": "dot"}.get(suffix, suffix)
    try:
        return Format(suffix)
    except ValueError:
        from gittree.errors import BadValueError

        raise BadValueError(
            f"cannot tell the format from the file name '{output}'",
            hint="name it .dot, .svg, .png, .pdf or .html, or say --format",
        ) from None


def _write(path: Path, data: bytes) -> None:
    from gittree.errors import GittreeError

    try:
        path.write_bytes(data)
    except OSError as e:
        raise GittreeError(
            f"cannot write {path}: {e.strerror or e}", hint="check the folder exists and is writable"
        ) from e
