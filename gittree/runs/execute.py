"""``gittree run``: run a command, journal it before anything can fail, then commit it as an experiment.

The flow (docs/runs.md):

1. the journal entry is written (``meta.json``, status ``running``) and the working tree is saved as a
   tree object: the exact code the run starts with;
2. the command runs with its output streamed live and appended to ``output.log``; gittree forwards
   the signals it receives and never commits a run it was told to stop;
3. the metrics are collected from the three sources (``log_metric`` lines, the metrics file, the
   captured output) into ``metrics.json``; the entry becomes ``pending`` (or ``not-committed``);
4. the post-run step: the ``post-run`` hook if one is installed, else the same default step in
   process: :func:`gittree.runs.commit.commit_run`, which commits the saved tree with the metrics as
   trailers.

Every later state (committed with its sha, commit-failed with git's reason) is written to the journal,
and ``gittree recover`` (:mod:`gittree.runs.commit`) commits what is left once the cause is fixed. The
metrics' sources are read by :mod:`gittree.runs.metrics`.
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
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from gittree import gitio
from gittree.config import Config
from gittree.errors import BadValueError, GittreeError, HookError, RunError
from gittree.runs import journal
from gittree.runs.capture import CaptureParser, LineSplitter, strip_ansi
from gittree.runs.commit import check_branch_name, commit_run
from gittree.runs.journal import RunMeta
from gittree.runs.metrics import collect_metrics, metrics_file_path, metrics_file_state
from gittree.trailers import fold_note, parse_params, validate_name

TYPE_CHECKING = False  # typing itself costs milliseconds of every run's start; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

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
    #: where ``metrics_file`` was given, to name it in a refusal: the option, or the configuration.
    metrics_file_source: str = "--metrics-file"
    capture: tuple[str, ...] = ()
    branch: str | None = None
    commit: bool = True
    add_untracked: bool = False
    #: commit a run that exits non-zero (``run.commit_failed`` in .gittree.yaml).
    commit_failed: bool = True
    #: ``run.params_file`` in .gittree.yaml (None: params.yaml, else params.json).
    params_file: str | None = None
    #: ``--seeds``: run the command once per seed, as one experiment with a sample per seed.
    seeds: tuple[str, ...] = ()
    #: how many runs at once (``-j``).
    jobs: int = 1
    #: ``--new``: a new experiment even when this one repeats the experiment at HEAD.
    new: bool = False
    #: ``gittree rerun``: add the results to this commit as samples.
    sample_of: str | None = None
    #: what this run's output lines start with besides the seed (a sweep point's values).
    label: str = ""


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
    #: every run of the group (``--seeds``), the lead first; empty for a single run.
    members: list[tuple[RunMeta, Path]] = field(default_factory=list)


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
    seeds: str | None = None,
    jobs: int = 1,
    new: bool = False,
) -> RunRequest:
    """Validate a ``gittree run`` command line (config defaults applied) before anything runs."""
    if not command:
        raise BadValueError("no command to run", hint="put it after --, e.g. gittree run -- python train.py")
    if name is not None and (not name.strip() or "\0" in name):
        raise BadValueError("--name needs some text saying what this run tries")
    if jobs < 1:
        raise BadValueError(f"-j {jobs}: at least one run at a time", hint="-j 2 runs two seeds at once")
    from gittree.runs.samples import parse_seeds

    seed_list = parse_seeds(seeds) if seeds is not None else ()
    return RunRequest(
        command=tuple(command),
        cwd=cwd,
        name=name,
        params=parse_params(params),
        notes=tuple(fold_note(text) for text in notes),
        metrics_file=metrics_file or config.run.metrics_file,
        metrics_file_source="--metrics-file"
        if metrics_file or not config.run.metrics_file
        else "run.metrics_file in .gittree.yaml",
        capture=tuple(validate_name(text, kind="capture") for text in (capture or config.run.capture)),
        branch=branch,
        commit=commit,
        add_untracked=add_untracked,
        commit_failed=config.run.commit_failed,
        params_file=config.run.params_file,
        seeds=seed_list,
        jobs=jobs,
        new=new,
    )


def run_command(repo: gitio.Repo, request: RunRequest, *, out: Sink, err: Sink) -> RunReport:
    """The whole of ``gittree run``: journal, run, collect, post-run step."""
    if repo.worktree is None:
        raise RunError("gittree run needs a working tree: this is a bare repository")
    if request.branch is not None:
        check_branch_name(repo, request.branch)
    check_metrics_files(request)
    if request.seeds:
        (point,) = run_points(repo, [request], jobs=request.jobs, out=out, err=err)
        return point_report(point)
    meta, run_dir = start_run(repo, request)
    try:
        execute(meta, run_dir, out=out, err=err)
    except KeyboardInterrupt:  # before the command started, or while gittree wrapped up
        _mark_interrupted(meta, run_dir)
        raise
    return post_run(repo, meta, run_dir)


def check_metrics_files(request: RunRequest) -> None:
    """Before anything runs: every run of ``request`` (each seed) reads a metrics file of its own when
    several go at once; ``{seed}`` in ``--metrics-file`` is the seed, as in the command."""
    from gittree.runs.samples import SEED, seed_of
    from gittree.runs.samples import check_metrics_file as check

    if not request.metrics_file:
        return
    if request.seeds:
        runs = [{SEED: seed} for seed in request.seeds]
    else:
        seed = seed_of(request.command)
        runs = [{SEED: seed} if seed is not None else {}]
    check(request.metrics_file, runs, jobs=request.jobs, source=request.metrics_file_source)


# -- 1. start -------------------------------------------------------------------------------------


def start_run(
    repo: gitio.Repo,
    request: RunRequest,
    *,
    seed: str | None = None,
    group: str | None = None,
    tree: str | None = None,
) -> tuple[RunMeta, Path]:
    """Write the journal entry (before anything can fail), then save the code the run starts with.

    ``seed``: the seed of one run of ``request.seeds`` (its ``{seed}`` is filled); ``group``: the id of
    the group's first run (None for the first one itself); ``tree``: the code, saved once for a group.
    """
    from gittree.runs.samples import SEED, fill, seed_of

    run_id, run_dir = journal.create_run_dir(journal.runs_root(gitio.common_dir(repo)))
    command = list(request.command)
    template: list[str] | None = None
    if request.seeds:
        assert seed is not None
        template, command = command, fill(command, {SEED: seed})
    else:
        seed = seed_of(command)
    metrics_file = request.metrics_file
    if metrics_file is not None:  # each seed's own file: --metrics-file 'dvclive/m{seed}.json'
        metrics_file = fill([metrics_file], {SEED: seed} if seed is not None else {})[0]
    if request.branch is not None:
        head = gitio.head_sha(repo)
        target = f"refs/heads/{request.branch}"
        base = gitio.ref_sha(repo, target)
    else:
        head, branch = gitio.head_and_branch(repo)
        target = branch or "HEAD"
        base = head
    meta = RunMeta(
        id=run_id,
        command=command,
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
        metrics_file=metrics_file,
        metrics_file_template=request.metrics_file if metrics_file != request.metrics_file else None,
        add_untracked=request.add_untracked,
        commit=request.commit,
        commit_failed=request.commit_failed,
        seed=seed,
        group=(group or run_id) if request.seeds else None,
        group_seeds=list(request.seeds),
        template=template,
        new=request.new,
        sample_of=request.sample_of,
        tree=tree,
    )
    if meta.metrics_file:  # to tell afterwards whether this run wrote it (an earlier run's file is not)
        meta.metrics_file_before = metrics_file_state(metrics_file_path(meta))
    journal.save_meta(run_dir, meta)
    if tree is None:  # a group's or a sweep's later runs share the code their first one saved
        from gittree.runs import treecommit

        try:
            meta.tree = treecommit.snapshot(repo, run_dir, add_untracked=request.add_untracked)
        except GittreeError as e:
            # The run goes ahead: its results matter more. The code is saved at commit time instead,
            # and the commit says so with dirty=true.
            meta.snapshot_error = e.message
        except KeyboardInterrupt:
            _mark_interrupted(meta, run_dir)
            raise
        if not request.add_untracked:
            meta.warnings.extend(_untracked_warning(repo, meta))
    # Every run of a group or a sweep reads the params file of the code it runs (a sweep point's grid
    # values are its --param, applied over the file).
    _read_params_file(repo, meta, request)
    # The saved code, the params and the warnings are journalled with the command's process id, once
    # it has started (execute): one write less per run.
    return meta, run_dir


def _read_params_file(repo: gitio.Repo, meta: RunMeta, request: RunRequest) -> None:
    """The params file of the code the run starts with, ``--param`` applied over it, as the run's
    params (docs/runs.md, "Params files"). The run goes ahead whatever the file holds: what cannot
    be read is a warning."""
    from gittree.record.paramsfile import merge_params, params_from_file

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
    if meta.seed is not None:
        env["GITTREE_SEED"] = meta.seed
    # Python buffers stdout in blocks when it is a pipe; ask for lines, so the output stays live.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def execute(
    meta: RunMeta, run_dir: Path, *, out: Sink, err: Sink, forwarder: _SignalForwarder | None = None
) -> None:
    """Run the command, stream and log its output, and journal how it ended; raises only if it cannot start.

    ``forwarder``: the signal handling of a group of runs (started by the main thread); else this
    run installs its own."""
    parser = CaptureParser(meta.capture)
    log = _Log(run_dir / journal.OUTPUT_LOG)
    started = time.monotonic()
    with contextlib.nullcontext(forwarder) if forwarder is not None else _SignalForwarder() as forwarder:
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
        forwarder.children.add(child)
        if forwarder.received:  # told to stop while the command was being started
            with contextlib.suppress(OSError):
                child.send_signal(getattr(signal, forwarder.received))
        meta.child_pid = child.pid
        # Not durable: after a crash of the machine the command is gone too, and the entry's first
        # state (running, written before the code was saved) is what recover finishes (docs/runs.md).
        journal.save_meta(run_dir, meta, durable=False)
        last_error = LastLine()
        exited = _pump(child, out, err, log, parser, last_error)
        returncode = child.wait()
        forwarder.children.discard(child)
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
    journal.run_clock().ran(meta)  # a story's clock (gittree demo) says when it ran
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

    def __init__(self, *, group: bool = False) -> None:
        #: the commands running now (several for a group run with -j).
        self.children: set[subprocess.Popen[bytes]] = set()
        #: a group's driver never raises KeyboardInterrupt between runs: it stops starting new ones.
        self.group = group
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
        children = list(self.children)
        if not children:
            if number == signal.SIGINT and not self.group:
                raise KeyboardInterrupt
            return
        if number == signal.SIGINT and _terminal_sent_it():
            return
        for child in children:
            with contextlib.suppress(OSError):
                child.send_signal(number)


def _terminal_sent_it() -> bool:
    """A Ctrl-C typed at the terminal went to the whole foreground process group, the child included."""
    try:
        return sys.stdin.isatty() and os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


# -- 4. post-run ----------------------------------------------------------------------------------


def _post_run_hook(hooks: Path) -> Path | None:
    """The executable ``post-run`` hook in the folder ``hooks``, if any (a non-executable file is ignored,
    as git does for its hooks). Found here, not in ``gittree.hooks``: every run asks, and importing that
    module (hook installation) cost a run several milliseconds (issue 19)."""
    path = hooks / "post-run"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def post_run(repo: gitio.Repo, meta: RunMeta, run_dir: Path) -> RunReport:
    """Run the ``post-run`` hook if one is installed, else the default step (commit the run) in process."""
    report = RunReport(meta, run_dir)
    settings: gitio.CommitSettings | None = None
    hooks: Path | None = None
    with contextlib.suppress(GittreeError):  # the commit reads them again, and says what is wrong
        # what the commit reads of git's configuration, read here: the hooks folder follows from it
        settings = gitio.commit_settings(repo)
    with contextlib.suppress(GittreeError):
        hooks = gitio.hooks_folder(repo, settings) if settings is not None else gitio.git_path(repo, "hooks")
    report.hook = _post_run_hook(hooks) if hooks is not None else None
    if report.hook is not None:
        report.hook_exit = _run_post_run_hook(report.hook, meta, run_dir)
        report.meta = journal.load_meta(run_dir)
    elif meta.status == journal.PENDING:
        try:
            # the commit hooks are in the same folder: git is not asked again
            commit_run(repo, meta.id, finishing=True, hooks=hooks, settings=settings)
        except GittreeError as e:
            report.error = e
        report.meta = journal.load_meta(run_dir)
    report.meta = _finished(run_dir)
    report.exit_code = _exit_code(report)
    return report


def _finished(run_dir: Path) -> RunMeta:
    """Write down that this gittree is done with the entry: a pending run is now for recover to take.

    Not durable: after a crash of the machine this gittree is gone, which says the same."""
    try:
        with journal.locked(run_dir):  # a recover may be writing this entry right now
            meta = journal.load_meta(run_dir)
            if not meta.done:
                meta.done = True
                journal.save_meta(run_dir, meta, durable=False)
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


# -- groups: the seeds of one experiment, the points of a sweep --------------------------------------


@dataclass
class PointReport:
    """One experiment run as a group of runs (its seeds): the journal entries and what became of them."""

    request: RunRequest
    metas: list[RunMeta]
    run_dirs: list[Path]
    #: the post-run step's outcome (None: not committed: interrupted, or no seed could start).
    report: RunReport | None = None
    #: stopped by a signal (Ctrl-C) before every seed ended: kept in the journal, not committed.
    interrupted: bool = False
    #: no seed could be started (the command is not found, for example).
    error: GittreeError | None = None
    #: seeds never started (the sweep was stopped first).
    not_started: tuple[str, ...] = ()


def run_points(
    repo: gitio.Repo,
    requests: Sequence[RunRequest],
    *,
    jobs: int,
    out: Sink,
    err: Sink,
    on_point: Callable[[int, PointReport], None] | None = None,
    tree: str | None = None,
) -> list[PointReport]:
    """Run every seed of every request, ``jobs`` at a time, each request committed as one experiment as
    soon as its last seed ends (``on_point`` is told then); a signal stops the group: the running seeds
    get it, none is started after it, and the points already committed stay (docs/runs.md, "Sweeps").

    ``tree``: the code, saved once for every point (a sweep); else saved once per request.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    if repo.worktree is None:
        raise RunError("gittree run needs a working tree: this is a bare repository")
    points = [PointReport(request, [], []) for request in requests]
    queue = deque(
        (index, number, seed)
        for index, request in enumerate(requests)
        for number, seed in enumerate(request.seeds or (None,))
    )
    left = [len(request.seeds or (None,)) for request in requests]
    trees: dict[int, str | None] = {}
    any_started = False
    lock = threading.Lock()
    running: dict[Future[None], tuple[int, _PrefixedSink | None, _PrefixedSink | None]] = {}
    with _SignalForwarder(group=True) as forwarder, ThreadPoolExecutor(max_workers=jobs) as pool:
        while queue or running:
            while queue and len(running) < jobs and not forwarder.received:
                index, number, seed = queue.popleft()
                point, request = points[index], requests[index]
                just_saved = index not in trees and tree is None
                if index not in trees:
                    trees[index] = tree if tree is not None else snapshot_or_none(repo, request)
                # A later run runs the code on disk, which must still be the code the group saved
                # (its commit holds that): saved again to compare, it tells an edit made meanwhile.
                changed = any_started and not just_saved and _code_changed(repo, request, trees[index])
                any_started = True
                group = point.metas[0].id if point.metas else None
                meta, run_dir = start_run(repo, request, seed=seed, group=group, tree=trees[index])
                if changed:  # said now, as it starts (the journal keeps it: code_changed)
                    meta.code_changed = True
                    journal.save_meta(run_dir, meta)
                    err(f"gittree: warning: {CODE_CHANGED_WARNING}\n".encode())
                point.metas.append(meta)
                point.run_dirs.append(run_dir)
                prefix = _prefix(request, number, seed)
                outs = _PrefixedSink(prefix, out, lock) if prefix else None
                errs = _PrefixedSink(prefix, err, lock) if prefix else None
                future = pool.submit(
                    execute, meta, run_dir, out=outs or out, err=errs or err, forwarder=forwarder
                )
                running[future] = (index, outs, errs)
            finished, _ = wait(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                index, outs, errs = running.pop(future)
                for sink in (outs, errs):
                    if sink is not None:
                        sink.close()
                problem = future.exception()
                if problem is not None and not isinstance(problem, GittreeError):
                    raise problem
                left[index] -= 1
                # A point whose seeds all ended before a signal came is committed even after it:
                # Ctrl-C keeps every finished point (_finish_point keeps one it interrupted).
                if left[index] == 0:
                    _finish_point(repo, points[index])
                    if on_point is not None:
                        on_point(index, points[index])
            if forwarder.received:
                queue.clear()
    for index, point in enumerate(points):
        if point.report is None and point.error is None and (point.interrupted or left[index]):
            started = {meta.seed for meta in point.metas}
            point.interrupted = True
            point.not_started = tuple(s for s in point.request.seeds if s not in started)
            for meta, run_dir in zip(point.metas, point.run_dirs, strict=True):
                _keep_interrupted(meta, run_dir, forwarder.received or "SIGINT")
    return points


#: Said when a later run of a group starts on code that is not the code the group saved.
CODE_CHANGED_WARNING = (
    "the working tree no longer holds the code saved when this group of runs started (a file was "
    "edited): this run runs the code on disk, and its experiment is committed with Gittree-Run: dirty=true"
)


def _code_changed(repo: gitio.Repo, request: RunRequest, saved: str | None) -> bool:
    """Whether the working tree no longer holds ``saved``, the code a group saved when it started."""
    if saved is None:
        return False
    now = snapshot_or_none(repo, request)
    return now is not None and now != saved


def snapshot_or_none(repo: gitio.Repo, request: RunRequest) -> str | None:
    """The working tree saved once for a group; None when that fails (each run then tries on its own)."""
    import shutil
    import tempfile

    from gittree.runs import treecommit

    root = journal.runs_root(gitio.common_dir(repo))
    try:
        root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".snapshot-", dir=root))  # hidden: not a run
    except OSError:
        return None
    try:
        return treecommit.snapshot(repo, scratch, add_untracked=request.add_untracked)
    except GittreeError:
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _prefix(request: RunRequest, number: int, seed: str | None) -> bytes:
    """``[seed 1/3] ``, ``[lr=1e-3 wd=0 · seed 1/3] ``: what each output line of a group's run starts with."""
    parts = [request.label] if request.label else []
    if seed is not None and len(request.seeds) > 1:
        parts.append(f"seed {number + 1}/{len(request.seeds)}")
    return f"[{' · '.join(parts)}] ".encode() if parts else b""


def _finish_point(repo: gitio.Repo, point: PointReport) -> None:
    """Every seed of the point ended: commit them as one experiment (a seed that failed is a failed sample)."""
    metas = [journal.load_meta(run_dir) for run_dir in point.run_dirs]
    point.metas = metas
    if any(meta.interrupted for meta in metas):
        point.interrupted = True
        return
    unstarted = [meta for meta in metas if meta.outcome == "failed" and meta.child_pid is None]
    if len(unstarted) == len(metas):
        point.error = RunError(
            f"cannot run {shlex.join(metas[0].command)}: {metas[0].reason}",
            hint="check the command's spelling and that it is on PATH (or give its path)",
        )
        return
    some_ok = any(meta.outcome == "ok" for meta in metas)
    for meta, run_dir in zip(metas, point.run_dirs, strict=True):
        # A failed seed among good ones is a failed sample of the experiment, committed with them.
        if meta.status == journal.NOT_COMMITTED and meta.commit and (some_ok or meta.commit_failed):
            meta.status, meta.reason = journal.PENDING, None
            journal.save_meta(run_dir, meta)
    point.report = post_run(repo, metas[0], point.run_dirs[0])
    for run_dir in point.run_dirs[1:]:
        _finished(run_dir)
    point.metas = [journal.load_meta(run_dir) for run_dir in point.run_dirs]


def _keep_interrupted(meta: RunMeta, run_dir: Path, signal_name: str) -> None:
    """A group stopped by a signal: each of its runs stays in the journal, not committed."""
    meta = journal.load_meta(run_dir)
    if meta.status in (journal.COMMITTED, journal.NOT_COMMITTED) and meta.done:
        return
    if meta.status == journal.PENDING:
        meta.status = journal.NOT_COMMITTED
        meta.reason = (
            f"the group was stopped by {signal_name}: not committed (gittree recover {meta.id} commits it)"
        )
    meta.done = True
    journal.save_meta(run_dir, meta)


def point_report(point: PointReport) -> RunReport:
    """What ``gittree run --seeds`` reports: the lead run's report, the worst exit status of the seeds."""
    if point.error is not None:
        raise point.error
    lead = point.metas[0]
    if point.report is None:  # interrupted
        report = RunReport(lead, point.run_dirs[0])
        report.exit_code = _exit_code(report)
    else:
        report = point.report
    report.members = list(zip(point.metas, point.run_dirs, strict=True))
    if point.report is None:
        return report
    failed = [command_exit_code(meta) for meta in point.metas if meta.outcome != "ok"]
    if failed and report.exit_code == 0:
        report.exit_code = failed[0]
    return report


class _PrefixedSink:
    """Writes whole lines, each starting with a prefix, so the output of runs at once stays readable."""

    def __init__(self, prefix: bytes, sink: Sink, lock: threading.Lock) -> None:
        self.prefix, self.sink, self.lock = prefix, sink, lock
        self.pending = b""

    def __call__(self, data: bytes) -> None:
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()
        if lines:
            with self.lock:
                self.sink(b"".join(self.prefix + line + b"\n" for line in lines))

    def close(self) -> None:
        if self.pending:
            with self.lock, contextlib.suppress(OSError):
                self.sink(self.prefix + self.pending + b"\n")
            self.pending = b""
