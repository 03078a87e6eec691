"""The command line: parse, call one core function, print. The one place errors become exit codes.

Each command family lives in its own module below; importing them registers their commands on ``app``.
They are imported only when the typer app is needed: ``gittree --version`` and plain ``gittree show``
are answered by :mod:`gittree.cli.fastpath` without importing typer at all (start-up time matters).
Core modules are imported inside the commands.
"""

from __future__ import annotations

import contextlib
import os
import sys

from gittree.errors import GittreeError

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    import warnings
    from typing import Any

__all__ = ["app", "main"]


#: Command families in the order `gittree --help` lists them: look, record, ask, draw, share, set up.
COMMAND_MODULES = ("show", "commit", "run", "record", "questions", "render", "sync", "hooks", "demo")


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
    """Console entry point: run the app, turning every :class:`GittreeError` into its message and exit code,
    and every :class:`~gittree.errors.Notice` core code raised into one line on stderr."""
    import warnings

    from gittree.errors import Notice

    args = sys.argv[1:] if argv is None else list(argv)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            caught = recorded if recorded is not None else caught
            warnings.simplefilter("always", Notice)
            _run(args)
    finally:  # after the output and any error, whatever the exit
        _say_notices(caught)


def _say_notices(caught: list[warnings.WarningMessage]) -> None:
    """Each notice once, as ``gittree: MESSAGE`` (terminal-safe); other warnings shown as Python would."""
    import warnings

    from gittree.errors import Notice

    said: set[str] = set()
    for warning in caught:
        if not isinstance(warning.message, Notice):
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
        elif str(warning.message) not in said:
            from gittree.render.escape import terminal_safe

            said.add(str(warning.message))
            with contextlib.suppress(OSError):  # the reader of stdout left (`gittree show | head`)
                sys.stdout.flush()
            print(terminal_safe(f"gittree: {warning.message}"), file=sys.stderr)


def _run(args: list[str]) -> None:
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
