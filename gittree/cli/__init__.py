"""The command line: parse, call one core function, print. The one place errors become exit codes.

Each command family lives in its own module below; importing them registers their commands on ``app``.
Core modules are imported inside the commands, so start-up stays fast.
"""

from __future__ import annotations

import os
import sys

from gittree.cli import demo, hooks, record, runs, show  # noqa: F401  (registers the commands)
from gittree.cli.common import app
from gittree.errors import GittreeError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning every :class:`GittreeError` into its message and exit code."""
    try:
        app(args=argv, prog_name="gittree")
    except GittreeError as e:
        from gittree.render.escape import terminal_safe

        sys.stdout.flush()
        for line in f"gittree: error: {e.message}".splitlines():
            print(terminal_safe(line), file=sys.stderr)
        if e.hint:
            print(f"hint: {terminal_safe(e.hint)}", file=sys.stderr)
        sys.exit(e.exit_code)
    except BrokenPipeError:  # `gittree show | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        print("gittree: interrupted", file=sys.stderr)
        sys.exit(130)
