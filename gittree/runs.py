"""``gittree run``: run a command, journal it before anything can fail, then commit it as an experiment.

The flow (docs/runs.md):

1. the journal entry is written (``meta.json``, status ``running``) and the working tree is saved as a
   tree object: the exact code the run starts with;
2. the command runs with its output streamed live and appended to ``output.log``; gittree forwards
   the signals it receives and never commits a run it was told to stop;
3. the metrics are collected from the three sources (``log_metric`` lines, the metrics file, the
   captured output) into ``metrics.json``; the entry becomes ``pending`` (or ``not-committed``);
4. the post-run step: the ``post-run`` hook if one is installed, else the same default step in
   process: :func:`gittree.runcommit.commit_run`, which commits the saved tree with the metrics as
   trailers.

Every later state (committed with its sha, commit-failed with git's reason) is written to the journal,
and ``gittree recover`` (:mod:`gittree.runcommit`) commits what is left once the cause is fixed. The
metrics' sources are read by :mod:`gittree.runmetrics`.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from gittree import gitio, journal
from gittree.capture import CaptureParser, LineSplitter, strip_ansi
from gittree.config import Config
from gittree.errors import BadValueError, GittreeError, HookError, RunError
from gittree.journal import RunMeta
from gittree.runcommit import check_branch_name, commit_run
from gittree.runmetrics import collect_metrics, metrics_file_path, metrics_file_state
from gittree.trailers import fold_note, parse_params, validate_name

#: Seconds gittree keeps reading the command's pipes after it exited (a background child may hold them).
PIPE_GRACE = 2.0
#: Output sink: the CLI passes writers for its stdout and stderr (core code never prints).
Sink = Callable[[bytes], None]


@dataclass(frozen=True)
class RunRequest:
    """A validated ``gittree run`` command line."""

    command: tuple[str, ...]
    cwd: Path
    name: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    metrics_file: str | None = None
    capture: tuple[str, ...] = ()
    branch: str | None = None
    commit: bool = True
    add_untracked: bool = False
    #: commit a run that exits non-zero (``run.commit_failed`` in .gittree.yaml).
    commit_failed: bool = True
    #: ``run.params_file`` in .gittree.yaml (None: params.yaml, else params.json).
    params_file: str | None = None


@dataclass
class RunReport:
    """What became of a run: its journal entry, the post-run step, and the exit code for ``gittree run``."""

    meta: RunMeta
    run_dir: Path
    hook: Path | None = None
    hook_exit: int | None = None
    #: why the default post-run step could not commit the run.
    error: GittreeError | None = None
    exit_code: int = 0


def make_request(
    command: Sequence[str],
    *,
    cwd: Path,
    config: Config,
    name: str | None = None,
    params: Sequence[str] = (),
    notes: Sequence[str] = (),
    metrics_file: str | None = None,
    capture: Sequence[str] = (),
    branch: str | None = None,
    commit: bool = True,
    add_untracked: bool = False,
) -> RunRequest:
    """Validate a ``gittree run`` command line (config defaults applied) before anything runs."""
    if not command:
        raise BadValueError("no command to run", hint="put it after --, e.g. gittree run -- python train.py")
    if name is not None and (not name.strip() or "\0" in name):
        raise BadValueError("--name needs some text saying what this run tries")
    return RunRequest(
        command=tuple(command),
        cwd=cwd,
        name=name,
        params=parse_params(params),
        notes=tuple(fold_note(text) for text in notes),
        metrics_file=metrics_file or config.run.metrics_file,
        capture=tuple(validate_name(text, kind="capture") for text in (capture or config.run.capture)),
        branch=branch,
        commit=commit,
        add_untracked=add_untracked,
        commit_failed=config.run.commit_failed,
        params_file=config.run.params_file,
    )


def run_command(repo: gitio.Repo, request: RunRequest, *, out: Sink, err: Sink) -> RunReport:
    """The whole of ``gittree run``: journal, run, collect, post-run step."""
    if repo.worktree is None:
        raise RunError("gittree run needs a working tree: this is a bare repository")
    if request.branch is not None:
        check_branch_name(repo, request.branch)
    meta, run_dir = start_run(repo, request)
    try:
        execute(meta, run_dir, out=out, err=err)
    except KeyboardInterrupt:  # before the command started, or while gittree wrapped up
        _mark_interrupted(meta, run_dir)
        raise
    return post_run(repo, meta, run_dir)


# -- 1. start -------------------------------------------------------------------------------------


def start_run(repo: gitio.Repo, request: RunRequest) -> tuple[RunMeta, Path]:
    """Write the journal entry (before anything can fail), then save the code the run starts with."""
    assert repo.worktree is not None
    run_id, run_dir = journal.create_run_dir(journal.runs_root(gitio.common_dir(repo)))
    head = gitio.head_sha(repo)
    if request.branch is not None:
        target = f"refs/heads/{request.branch}"
        base = gitio.ref_sha(repo, target)
    else:
        target = gitio.symbolic_head(repo) or "HEAD"
        base = head
    meta = RunMeta(
        id=run_id,
        command=list(request.command),
        cwd=str(request.cwd.resolve()),
        worktree=str(repo.worktree),
        start=time.time(),
        target=target,
        host=journal.this_host(),
        pid=os.getpid(),
        head=head,
        base=base,
        name=request.name,
        params=[list(pair) for pair in request.params],
        notes=list(request.notes),
        capture=list(request.capture),
        metrics_file=request.metrics_file,
        add_untracked=request.add_untracked,
        commit=request.commit,
        commit_failed=request.commit_failed,
    )
    if meta.metrics_file:  # to tell afterwards whether this run wrote it (an earlier run's file is not)
        meta.metrics_file_before = metrics_file_state(metrics_file_path(meta))
    journal.save_meta(run_dir, meta)
    from gittree import treecommit

    try:
        meta.tree = treecommit.snapshot(repo, run_dir, add_untracked=request.add_untracked)
    except GittreeError as e:
        # The run goes ahead: its results matter more. The code is saved at commit time instead,
        # and the commit says so with dirty=true.
        meta.snapshot_error = e.message
    except KeyboardInterrupt:
        _mark_interrupted(meta, run_dir)
        raise
    _read_params_file(repo, meta, request)
    if not request.add_untracked:
        meta.warnings.extend(_untracked_warning(repo, meta))
    journal.save_meta(run_dir, meta)
    return meta, run_dir


def _read_params_file(repo: gitio.Repo, meta: RunMeta, request: RunRequest) -> None:
    """The params file of the code the run starts with, ``--param`` applied over it, as the run's
    params (docs/runs.md, "Params files"). The run goes ahead whatever the file holds: what cannot
    be read is a warning."""
    from gittree.paramsfile import merge_params, params_from_file

    problems: list[BadValueError] = []
    try:
        found = params_from_file(repo, request.params_file, tree=meta.tree, problems=problems)
    except GittreeError as e:
        meta.warnings.append(f"the params file was ignored: {e.message}")
        return
    meta.warnings += [f"the params file: {e.message} (ignored)" for e in problems]
    if found is not None:
        meta.params_file = found.path
        meta.params = [list(pair) for pair in merge_params(found.params, request.params)]


#: How many untracked files the warning names before it counts the rest.
UNTRACKED_SHOWN = 5


def _untracked_warning(repo: gitio.Repo, meta: RunMeta) -> list[str]:
    """Files the run's code leaves out, said at the end of the run: a run whose ``features.py`` was
    not committed cannot be reproduced (docs/runs.md, "Untracked files"). The metrics file is the
    run's output, not its code."""
    assert repo.worktree is not None
    try:
        paths = gitio.untracked_files(repo)
    except GittreeError:
        return []  # a warning is not worth failing the run for
    if meta.metrics_file:
        output = metrics_file_path(meta).resolve()
        paths = [path for path in paths if (repo.worktree / path).resolve() != output]
    if not paths:
        return []
    shown = ", ".join(paths[:UNTRACKED_SHOWN])
    more = f" and {len(paths) - UNTRACKED_SHOWN} more" if len(paths) > UNTRACKED_SHOWN else ""
    noun = "file is" if len(paths) == 1 else "files are"
    return [
        f"{len(paths)} untracked {noun} not part of the run's code: {shown}{more} "
        "(gittree run --add commits them with the run; or git add / .gitignore them)"
    ]


def _mark_interrupted(meta: RunMeta, run_dir: Path) -> None:
    meta.end = meta.end or time.time()
    meta.duration = meta.duration if meta.duration is not None else meta.end - meta.start
    meta.outcome = "failed"
    meta.interrupted = meta.interrupted or "SIGINT"
    meta.status = journal.NOT_COMMITTED
    meta.reason = meta.reason or f"interrupted by Ctrl-C (gittree recover {meta.id} commits it)"
    meta.done = True
    with contextlib.suppress(GittreeError):
        journal.save_meta(run_dir, meta)


# -- 2. execute -----------------------------------------------------------------------------------


def child_environment(meta: RunMeta, run_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["GITTREE_METRICS_FILE"] = str(run_dir / journal.LOGGED_METRICS)
    env["GITTREE_RUN_ID"] = meta.id
    env["GITTREE_RUN_DIR"] = str(run_dir)
    # Python buffers stdout in blocks when it is a pipe; ask for lines, so the output stays live.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def execute(meta: RunMeta, run_dir: Path, *, out: Sink, err: Sink) -> None:
    """Run the command, stream and log its output, and journal how it ended; raises only if it cannot start."""
    parser = CaptureParser(meta.capture)
    log = _Log(run_dir / journal.OUTPUT_LOG)
    started = time.monotonic()
    with _SignalForwarder() as forwarder:
        try:
            child = subprocess.Popen(
                meta.command,
                cwd=meta.cwd,
                env=child_environment(meta, run_dir),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as e:
            log.close()
            meta.end = time.time()
            meta.duration = 0.0
            meta.outcome = "failed"
            meta.status = journal.NOT_COMMITTED
            meta.reason = f"the command could not be started: {e.strerror or e}"
            meta.done = True
            journal.save_meta(run_dir, meta)
            raise RunError(
                f"cannot run {shlex.join(meta.command)}: {e.strerror or e}",
                hint="check the command's spelling and that it is on PATH (or give its path)",
            ) from e
        forwarder.child = child
        if forwarder.received:  # told to stop while the command was being started
            with contextlib.suppress(OSError):
                child.send_signal(getattr(signal, forwarder.received))
        meta.child_pid = child.pid
        journal.save_meta(run_dir, meta)
        last_error = LastLine()
        exited = _pump(child, out, err, log, parser, last_error)
        returncode = child.wait()
    # The command's own time: not the grace left to a background process holding its pipes.
    ended = exited if exited is not None else time.monotonic()
    meta.end = time.time() - (time.monotonic() - ended)
    meta.duration = round(ended - started, 3)
    if log.error:
        meta.warnings.append(f"output.log is incomplete: {log.error}")
    log.close()
    if returncode < 0:
        meta.signal = _signal_name(-returncode)
    else:
        meta.exit_code = returncode
    meta.interrupted = forwarder.received
    meta.outcome = "ok" if returncode == 0 and not forwarder.received else "failed"
    meta.stderr_last = last_error.text
    meta.warnings.extend(parser.warnings())
    collect_metrics(meta, run_dir, parser.pairs())
    if meta.interrupted:
        meta.status = journal.NOT_COMMITTED
        meta.reason = f"interrupted by {meta.interrupted} (gittree recover {meta.id} commits it)"
    elif not meta.commit:
        meta.status = journal.NOT_COMMITTED
        meta.reason = f"--no-commit (gittree recover {meta.id} commits it)"
    elif meta.outcome == "failed" and not meta.commit_failed:
        meta.status = journal.NOT_COMMITTED
        meta.reason = (
            f"the command failed and run.commit_failed is false (gittree recover {meta.id} commits it)"
        )
    else:
        meta.status = journal.PENDING
    journal.save_meta(run_dir, meta)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class _Log:
    """``output.log``, written unbuffered so that whatever was printed survives gittree being killed."""

    def __init__(self, path: Path) -> None:
        self.error: str | None = None
        try:
            self.fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as e:
            self.fd, self.error = None, e.strerror or str(e)

    def write(self, data: bytes) -> None:
        if self.fd is None:
            return
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as e:  # a full disk must not stop the run: stop logging, keep streaming
            self.error = e.strerror or str(e)
            self.close()

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None


class LastLine:
    """The last line with text among those fed (a failed run's reason is often its last error line)."""

    #: Characters kept of it: a reason, not a log (the whole output is in ``output.log``).
    LIMIT = 200

    def __init__(self) -> None:
        self.text: str | None = None

    def feed(self, line: str) -> None:
        if "\x1b" in line:
            line = strip_ansi(line)
        line = " ".join(line.split())
        if line:
            self.text = line if len(line) <= self.LIMIT else line[: self.LIMIT - 1] + "…"


def _pump(
    child: subprocess.Popen[bytes],
    out: Sink,
    err: Sink,
    log: _Log,
    parser: CaptureParser,
    last_error: LastLine,
) -> float | None:
    """Copy the child's stdout and stderr to ours and to the log as they come, feeding the capture
    (and ``last_error`` with stderr's lines).

    Returns when the command was first seen to have ended (``time.monotonic()``), None when its
    pipes closed first."""
    assert child.stdout is not None and child.stderr is not None
    selector = selectors.DefaultSelector()
    sinks: dict[int, list[Sink]] = {child.stdout.fileno(): [out], child.stderr.fileno(): [err]}

    def on_error_line(line: str) -> None:
        parser.feed_line(line)
        last_error.feed(line)

    splitters = {
        child.stdout.fileno(): LineSplitter(parser.feed_line),
        child.stderr.fileno(): LineSplitter(on_error_line),
    }
    selector.register(child.stdout, selectors.EVENT_READ)
    selector.register(child.stderr, selectors.EVENT_READ)
    exited_at: float | None = None
    while selector.get_map():
        for key, _ in selector.select(timeout=0.25):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            log.write(chunk)
            splitters[key.fd].feed(chunk)
            try:
                sinks[key.fd][0](chunk)
            except OSError:  # our own output is gone (a closed pipe): keep logging
                sinks[key.fd][0] = _discard
        if child.poll() is not None:
            exited_at = exited_at or time.monotonic()
            if time.monotonic() - exited_at > PIPE_GRACE:
                break  # a background process inherited the pipes: the run itself is over
    selector.close()
    for splitter in splitters.values():
        splitter.close()
    child.stdout.close()
    child.stderr.close()
    return exited_at


def _discard(_: bytes) -> None:
    return None


class _SignalForwarder:
    """While the command runs, SIGINT/SIGTERM/SIGHUP reach it, and gittree remembers it was interrupted.

    The child shares gittree's process group, so a Ctrl-C typed at a terminal reaches both; then
    gittree does not forward SIGINT (the child would get it twice). A signal sent to gittree alone
    (``kill``, a scheduler, a test) is forwarded.
    """

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _SignalForwarder:
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                number = getattr(signal, name, None)
                if number is not None:
                    self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.received = self.received or _signal_name(number)
        child = self.child
        if child is None:
            if number == signal.SIGINT:
                raise KeyboardInterrupt
            return
        if number == signal.SIGINT and _terminal_sent_it():
            return
        with contextlib.suppress(OSError):
            child.send_signal(number)


def _terminal_sent_it() -> bool:
    """A Ctrl-C typed at the terminal went to the whole foreground process group, the child included."""
    try:
        return sys.stdin.isatty() and os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


# -- 4. post-run ----------------------------------------------------------------------------------


def post_run(repo: gitio.Repo, meta: RunMeta, run_dir: Path) -> RunReport:
    """Run the ``post-run`` hook if one is installed, else the default step (commit the run) in process."""
    from gittree.hooks import find_hook

    report = RunReport(meta, run_dir)
    try:
        report.hook = find_hook(repo, "post-run")
    except GittreeError:
        report.hook = None
    if report.hook is not None:
        report.hook_exit = _run_post_run_hook(report.hook, meta, run_dir)
        report.meta = journal.load_meta(run_dir)
    elif meta.status == journal.PENDING:
        try:
            commit_run(repo, meta.id)
        except GittreeError as e:
            report.error = e
        report.meta = journal.load_meta(run_dir)
    report.meta = _finished(run_dir)
    report.exit_code = _exit_code(report)
    return report


def _finished(run_dir: Path) -> RunMeta:
    """Write down that this gittree is done with the entry: a pending run is now for recover to take."""
    try:
        with journal.locked(run_dir):  # a recover may be writing this entry right now
            meta = journal.load_meta(run_dir)
            if not meta.done:
                meta.done = True
                journal.save_meta(run_dir, meta)
            return meta
    except RunError:
        return journal.load_meta(run_dir)


def hook_environment(meta: RunMeta, run_dir: Path) -> dict[str, str]:
    """The post-run hook's contract (docs/hooks.md)."""
    from gittree.hooks import clean_environment

    env = clean_environment(dict(os.environ))
    env.update(
        GITTREE_RUN_ID=meta.id,
        GITTREE_RUN_DIR=str(run_dir),
        GITTREE_RUN_EXIT=str(command_exit_code(meta)),
        GITTREE_RUN_SIGNAL=meta.signal or "",
        GITTREE_RUN_STATUS=meta.outcome or "failed",
        GITTREE_RUN_COMMIT="1" if meta.status == journal.PENDING else "0",
        GITTREE_RUN_BRANCH=meta.branch or "",
        GITTREE_REPO=meta.worktree,
    )
    env.pop("GITTREE_METRICS_FILE", None)
    return env


def _run_post_run_hook(hook: Path, meta: RunMeta, run_dir: Path) -> int:
    try:
        done = subprocess.run(
            [str(hook)], cwd=meta.worktree, env=hook_environment(meta, run_dir), stdin=subprocess.DEVNULL
        )
    except OSError as e:
        raise HookError(
            f"cannot run the post-run hook {hook}: {e.strerror or e}",
            hint=f"fix the hook, then commit the run with gittree recover {meta.id}",
        ) from e
    return done.returncode


def command_exit_code(meta: RunMeta) -> int:
    """The command's exit status as a shell reports it (128 + N when signal N ended it)."""
    if meta.exit_code is not None:
        return meta.exit_code
    if meta.signal:
        number = getattr(signal, meta.signal, None)
        return 128 + int(number) if number is not None else 1
    return 1


def _exit_code(report: RunReport) -> int:
    """The run's own failure first (Make must stop), then gittree's: commit error, hook failure."""
    meta = report.meta
    if meta.interrupted:
        number = getattr(signal, meta.interrupted, signal.SIGINT)
        return 128 + int(number)
    code = command_exit_code(meta)
    if code != 0:
        return code
    if report.error is not None:
        return report.error.exit_code
    if report.hook_exit:
        return HookError.exit_code
    return 0
