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
#: The grafts file named is one that cannot exist (a path below the null device): git opens an existing
#: one, even empty, and then prints its eight lines of advice that grafts are deprecated before every
#: error of its own, which hid git's reason (a refusing hook, "nothing to commit") behind them.
_POLICY = {
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_GRAFT_FILE": os.path.join(os.devnull, "gittree-reads-no-grafts"),
    "LC_ALL": "C",
    "LANGUAGE": "C",
}


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
    data = input.encode("utf-8") if isinstance(input, str) else input
    try:
        if _SPAWN is None:  # no posix_spawn on this system: the subprocess module does the same
            code, out, err = _run_subprocess(args, cwd, data, env)
        else:
            code, out, err = _run_spawned(args, cwd, data, env)
    except FileNotFoundError as e:
        raise GitCommandError("the git program was not found on PATH", hint="install git") from e
    result = GitResult(args, code, out, err)
    if check and result.code != 0:
        raise GitCommandError(
            f"git {_subcommand(args)} failed: {result.said}",
            hint="fix what git reports above and run the command again",
        )
    return result


#: ``os.posix_spawnp``: it starts git without importing the subprocess module, which costs a few
#: milliseconds of every start-up (signal, threading, selectors, locale: about 5 ms here, a tenth of a
#: cached view). None where the system has no posix_spawn.
_SPAWN = getattr(os, "posix_spawnp", None)


def _run_spawned(
    args: Sequence[str], cwd: Path | str | None, data: bytes | None, env: Mapping[str, str] | None
) -> tuple[int, bytes, bytes]:
    """Start git with ``posix_spawnp`` and collect its output (what :func:`_run_subprocess` does).

    posix_spawn cannot change the directory, so ``cwd`` is git's own ``-C`` ("run as if git was started
    in <path>"). SIGPIPE goes back to its default in git, as the subprocess module does, so git stops
    quietly when a reader goes away instead of seeing write errors.
    """
    import signal

    argv = ["git", *(("-C", os.fspath(cwd)) if cwd is not None else ()), *args]
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    in_read, in_write = os.pipe() if data else (os.open(os.devnull, os.O_RDONLY), -1)
    actions = [
        (os.POSIX_SPAWN_DUP2, in_read, 0),
        (os.POSIX_SPAWN_DUP2, out_write, 1),
        (os.POSIX_SPAWN_DUP2, err_write, 2),
    ]
    try:
        assert _SPAWN is not None
        pid = _SPAWN(
            "git", argv, git_env(env), file_actions=actions, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ)
        )
    except BaseException:
        for fd in (out_read, err_read, in_write):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        for fd in (in_read, out_write, err_write):
            os.close(fd)
    try:
        out, err = _collect(out_read, err_read, in_write, data or b"")
    except BaseException:  # Ctrl-C while git works: git is stopped and reaped, as subprocess.run does
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out, err


def _collect(out_read: int, err_read: int, in_write: int, data: bytes) -> tuple[bytes, bytes]:
    """git's stdout and stderr, read as they come while ``data`` is written to its stdin (``in_write``,
    -1: none); every descriptor is closed when this returns or raises."""
    import select

    chunks: dict[int, list[bytes]] = {out_read: [], err_read: []}
    open_fds = [out_read, err_read] + ([in_write] if in_write >= 0 else [])
    try:
        poller = select.poll()
        for fd in chunks:
            poller.register(fd, select.POLLIN)
        pending = memoryview(data)
        if in_write >= 0:
            os.set_blocking(in_write, False)
            poller.register(in_write, select.POLLOUT)
        while open_fds:
            for fd, _event in poller.poll():
                if fd == in_write:
                    try:
                        pending = pending[os.write(fd, pending[: 1 << 16]) :]
                    except BlockingIOError:  # the pipe filled up again: wait for the next turn
                        continue
                    except BrokenPipeError:  # git stopped reading: what it says decides
                        pending = pending[:0]
                    if pending:
                        continue
                else:
                    chunk = os.read(fd, 1 << 16)
                    if chunk:
                        chunks[fd].append(chunk)
                        continue
                poller.unregister(fd)
                open_fds.remove(fd)
                os.close(fd)
    finally:
        for fd in open_fds:
            os.close(fd)
    return b"".join(chunks[out_read]), b"".join(chunks[err_read])


def _run_subprocess(
    args: Sequence[str], cwd: Path | str | None, data: bytes | None, env: Mapping[str, str] | None
) -> tuple[int, bytes, bytes]:
    import subprocess

    done = subprocess.run(  # raises FileNotFoundError without git, as posix_spawnp does
        ["git", *args],
        cwd=cwd,
        env=git_env(env),
        input=data,
        stdin=subprocess.DEVNULL if data is None else None,
        capture_output=True,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


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
