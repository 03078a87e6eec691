"""The command line: parse, call one core function, print. The one place errors become exit codes.

Each command family lives in its own module below; importing them registers their commands on ``app``.
They are imported only when the typer app is needed: ``gittree --version`` and plain ``gittree show``
are answered by :mod:`gittree.cli.fastpath` without importing typer at all (start-up time matters).
Core modules are imported inside the commands.
"""

from __future__ import annotations

import os
import sys

from gittree.errors import GittreeError

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

__all__ = ["app", "main"]


#: Command families in the order `gittree --help` lists them: look, record, ask, draw, share, set up.
COMMAND_MODULES = ("show", "record", "runs", "questions", "render", "sync", "hooks", "demo")


def _load_app() -> Any:
    import importlib

    for name in COMMAND_MODULES:  # importing a module registers its commands on the app
        importlib.import_module(f"gittree.cli.{name}")
    from gittree.cli.common import app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # `from gittree.cli import app` still works, and loads typer then
        return _load_app()
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning every :class:`GittreeError` into its message and exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        from gittree.cli.fastpath import try_fast

        if not try_fast(args):
            _load_app()(args=args, prog_name="gittree")
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
