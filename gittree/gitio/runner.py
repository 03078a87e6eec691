"""The one runner of git processes, and the one environment policy they all start with.

Every git process gittree starts begins in :func:`run` (wait for it, collect its output) or
:func:`popen` (stream its output while it works). Nothing else in gittree starts git
(``tests/test_git_boundary.py``); see docs/architecture.md, "The git boundary".
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from gittree.errors import GitCommandError

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    import subprocess
    from typing import Any


#: The one environment policy of every git process gittree starts (docs/architecture.md, "The git
#: boundary"): the history as recorded, with replace refs (``git replace``) and the old grafts file
#: (``.git/info/grafts``, which git still honours) ignored, as libgit2 and the commit cache read it; and
#: git's messages in English, because gittree recognises some of them (lock contention, name clashes,
#: a missing remote ref). Everything else, the user's configuration included, is inherited as it is.
_POLICY = {"GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull, "LC_ALL": "C", "LANGUAGE": "C"}


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git process: this one's, then ``extra`` (an index file, dates), then the policy."""
    return {**os.environ, **(extra or {}), **_POLICY}


class GitResult:
    """What a finished git process left: its exit code and its output, as bytes."""

    __slots__ = ("args", "code", "err", "out")

    def __init__(self, args: Sequence[str], code: int, out: bytes, err: bytes) -> None:
        self.args = args
        self.code = code
        self.out = out
        self.err = err

    def __repr__(self) -> str:
        return f"GitResult(args={list(self.args)!r}, code={self.code})"

    @property
    def text(self) -> str:
        """stdout as text (UTF-8; a byte that is not is replaced, never an error)."""
        return self.out.decode("utf-8", "replace")

    @property
    def err_text(self) -> str:
        return self.err.decode("utf-8", "replace")

    @property
    def said(self) -> str:
        """What git said about a failure: its stderr, else its stdout (``git commit`` says "nothing to
        commit" there), else its exit status."""
        return self.err_text.strip() or self.text.strip() or f"exit status {self.code}"


def run(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    input: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = False,
) -> GitResult:
    """Run ``git ARGS`` (no shell) in ``cwd`` and wait: the one way gittree starts git and collects its output.

    ``input`` (text is sent as UTF-8) goes to its stdin, else stdin is empty; ``env`` adds variables
    under :func:`git_env`'s policy. With ``check``, a non-zero exit becomes :class:`GitCommandError`
    carrying git's own words; without it, the exit code is an answer the caller reads.
    """
    import subprocess

    data = input.encode("utf-8") if isinstance(input, str) else input
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_env(env),
            input=data,
            stdin=subprocess.DEVNULL if data is None else None,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as e:
        raise GitCommandError("the git program was not found on PATH", hint="install git") from e
    result = GitResult(args, done.returncode, done.stdout, done.stderr)
    if check and result.code != 0:
        raise GitCommandError(
            f"git {_subcommand(args)} failed: {result.said}",
            hint="fix what git reports above and run the command again",
        )
    return result


def popen(
    args: Sequence[str], *, cwd: Path | str, stdin: Any, stderr: Any, stdout: Any = None
) -> subprocess.Popen[bytes]:
    """Start ``git ARGS`` under the same policy as :func:`run`, its stdout a pipe read while git works
    (the streaming reads: ``rev-list | cat-file --batch``), or ``stdout`` when given (a file read
    once git is done)."""
    import subprocess

    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=git_env(),
            stdin=stdin,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=stderr,
        )
    except FileNotFoundError as e:
        raise GitCommandError("the git program was not found on PATH", hint="install git") from e


def _subcommand(args: Sequence[str]) -> str:
    """The git command in an argument list that may start with ``-c NAME=VALUE`` options."""
    rest = list(args)
    while len(rest) > 1 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "git"


def git_says(err: str) -> str:
    """git's error output as one readable line: the fatal/error lines, else everything."""
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    important = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return " ".join(important or lines) or "git gave no reason"
