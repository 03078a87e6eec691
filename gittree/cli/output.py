"""Terminal decisions and printing, without typer: the start-up fast path (cli/fastpath.py) uses them too."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from enum import Enum


class ColourMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class TableFormat(str, Enum):
    plain = "plain"
    github = "github"
    markdown = "markdown"
    latex = "latex"
    html = "html"
    csv = "csv"
    tsv = "tsv"


class ExportFormat(str, Enum):
    json = "json"
    markdown = "markdown"


class DrawingFormat(str, Enum):
    dot = "dot"
    svg = "svg"
    png = "png"
    pdf = "pdf"
    html = "html"


#: Drawing formats whose bytes would garble a terminal.
BINARY_DRAWING_FORMATS = (DrawingFormat.png, DrawingFormat.pdf)


def drawing_format(fmt: str | None, output: str | None) -> DrawingFormat:
    """``--format``, else the extension of ``-o``, else SVG."""
    if fmt is not None:
        return DrawingFormat(fmt)
    if output is None or output == "-":
        return DrawingFormat.svg
    from pathlib import Path

    suffix = Path(output).suffix.lower().lstrip(".")
    suffix = {"htm": "html", "gv": "dot"}.get(suffix, suffix)
    try:
        return DrawingFormat(suffix)
    except ValueError:
        from gittree.errors import BadValueError

        raise BadValueError(
            f"cannot tell the format from the file name '{output}'",
            hint="name it .dot, .svg, .png, .pdf or .html, or say --format",
        ) from None


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
    """The width ``shutil.get_terminal_size((100, 24))`` gives (COLUMNS, else the terminal's, else 100),
    without importing ``shutil``, which loads bz2 and lzma: a millisecond of every view (issue 19)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 100
    return size.columns or 100


def print_lines(lines: Iterable[str]) -> None:
    write = sys.stdout.write
    for line in lines:
        write(line + "\n")
    sys.stdout.flush()


def write_chunks(chunks: Iterable[bytes], before_first: Callable[[], None] | None = None) -> None:
    """Write UTF-8 chunks to stdout as they come (a view streams; a cached one is copied by the kernel)."""
    sys.stdout.flush()
    out = sys.stdout.buffer
    send_to = getattr(chunks, "send_to", None)  # a cached view (gittree.read.cache.CachedView)
    if send_to is not None:
        if before_first is not None:
            before_first()
            before_first = None
        try:
            fd = out.fileno()
        except (OSError, ValueError, AttributeError):  # not a real file (captured output)
            fd = None
        if fd is not None:
            out.flush()
            if send_to(fd):
                return
    for chunk in chunks:
        if before_first is not None:
            before_first()
            before_first = None
        out.write(chunk)
    out.flush()


class Progress:
    """``reading history… 40,960 commits`` on a terminal's stderr, redrawn in place; silent on a pipe."""

    def __init__(self) -> None:
        self.shown = False
        self.on = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"

    def __call__(self, count: int) -> None:
        if self.on:
            sys.stderr.write(f"\rreading history… {count:,} commits")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


def write_output(data: bytes, output: str | None, *, binary: bool, example: str) -> None:
    """``data`` to stdout (``output`` None or '-') or to the file ``output``, which is written only whole.

    Binary bytes are refused on a terminal (they would garble it); ``example`` names a file for the hint.
    """
    if output is None or output == "-":
        if binary and sys.stdout.isatty():
            from gittree.errors import BadValueError

            raise BadValueError(
                "the chart is binary and standard output is a terminal",
                hint=f"write it to a file: -o {example}",
            )
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_file(output, data)


def write_file(output: str, data: bytes) -> None:
    """``data`` into the file ``output``, made whole in memory first (a failed drawing leaves the old
    file be), then ``wrote OUTPUT``."""
    try:
        with open(output, "wb") as handle:
            handle.write(data)
    except OSError as e:
        from gittree.errors import GittreeError

        raise GittreeError(
            f"cannot write {output}: {e.strerror or e}", hint="check the folder exists and is writable"
        ) from e
    from gittree.render.escape import terminal_safe

    print(f"wrote {terminal_safe(output)}")
