"""A journalled run becomes an experiment commit: the default post-run step, ``recover`` and ``runs``.

:func:`commit_run` is what the shipped ``post-run`` hook (through ``gittree recover RUN_ID``) and
``gittree run`` without a hook do: build the message (metrics, params, notes, run facts), commit the
code saved when the run started (:mod:`gittree.treecommit`), and write the outcome to the journal. It
is idempotent and safe to call from several processes: a lock per run, and a look for a commit that
already carries the run's id before making another (docs/runs.md, "Statuses").
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from gittree import gitio, journal
from gittree.capture import CaptureParser
from gittree.errors import BadValueError, GittreeError, RunError, TrailersLostError
from gittree.journal import RunMeta
from gittree.runmetrics import collect_metrics, collected_metrics
from gittree.trailers import format_trailer_lines

if TYPE_CHECKING:
    from gittree.experiment import ExperimentEntry

#: Environment variable: seconds to wait for a lock held by another git process before giving up.
LOCK_TIMEOUT_ENV = "GITTREE_LOCK_TIMEOUT"
SUBJECT_WIDTH = 72


@dataclass(frozen=True)
class CommitResult:
    meta: RunMeta
    sha: str
    #: it had been committed before (recover is idempotent).
    already: bool = False
    warnings: tuple[str, ...] = ()


def check_branch_name(repo: gitio.Repo, branch: str) -> None:
    if not gitio.is_valid_branch_name(repo, branch):
        raise BadValueError(f"'{branch}' is not a valid branch name", hint="use a name such as exp/lr-3e-4")


def run_dir_for(repo: gitio.Repo, run_id: str) -> Path:
    return journal.find_run_dir(journal.runs_root(gitio.common_dir(repo)), run_id)


def commit_run(
    repo: gitio.Repo, run_id: str, *, branch: str | None = None, force: bool = False
) -> CommitResult:
    """Commit a journalled run as an experiment (the default post-run step, and ``gittree recover``)."""
    run_dir = run_dir_for(repo, run_id)
    with journal.locked(run_dir):
        meta = journal.load_meta(run_dir)
        if meta.status == journal.COMMITTED and meta.sha:
            if branch is not None:
                raise RunError(
                    f"run {meta.id} is already committed as {meta.sha[:7]} "
                    f"on {meta.branch or 'a detached HEAD'}, not on {branch}",
                    hint=f"to have it on {branch} too, cherry-pick {meta.sha[:7]} onto it (git cherry-pick)",
                )
            return CommitResult(meta, meta.sha, already=True)
        _refuse_if_alive(meta, force)
        if meta.status == journal.RUNNING:
            _finish_abandoned_run(meta, run_dir)
        if branch is not None:
            check_branch_name(repo, branch)
            meta.target = f"refs/heads/{branch}"
            meta.base = gitio.ref_sha(repo, meta.target)
        if meta.attempts:
            landed = _already_landed(repo, meta)
            if landed:
                result = CommitResult(_mark_committed(meta, run_dir, landed), landed, already=True)
                gitio.keep_commits(repo, [landed], reason=f"gittree run {meta.id}")
                return result
        return _commit(repo, meta, run_dir)


def _refuse_if_alive(meta: RunMeta, force: bool) -> None:
    if meta.status not in (journal.RUNNING, journal.COMMITTING):
        return
    alive = journal.owner_alive(meta)
    if alive is None and not force:
        raise RunError(
            f"run {meta.id} is {meta.status} on {meta.host}; gittree cannot tell from here whether it ended",
            hint="if that process is gone, pass --force",
        )
    if alive:
        raise RunError(f"run {meta.id} is still {meta.status} (gittree process {meta.pid})")
    if meta.host in ("", journal.this_host()) and journal.process_alive(meta.child_pid):
        raise RunError(
            f"the command of run {meta.id} is still running (process {meta.child_pid}), "
            "although the gittree that started it is gone",
            hint="let it finish or stop it, then run gittree recover again",
        )


def _finish_abandoned_run(meta: RunMeta, run_dir: Path) -> None:
    """The gittree that ran this was killed: journal what the run left behind, as a failed run."""
    log = run_dir / journal.OUTPUT_LOG
    try:
        meta.end = log.stat().st_mtime
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        meta.end, text = meta.start, ""
    meta.duration = round(max(0.0, meta.end - meta.start), 3)
    meta.outcome = "failed"
    meta.interrupted = meta.interrupted or "lost"
    parser = CaptureParser(meta.capture)
    parser.feed_text(text)
    meta.warnings.extend(parser.warnings())  # values the log printed that the format refuses
    collect_metrics(meta, run_dir, parser.pairs())
    meta.status = journal.PENDING
    meta.reason = "gittree stopped during the run (killed?): committed as failed, with what it left"
    journal.save_meta(run_dir, meta)


def _already_landed(repo: gitio.Repo, meta: RunMeta) -> str | None:
    """A previous attempt may have moved the branch and died before writing it down: look for it."""
    tip = gitio.ref_sha(repo, meta.target)
    if tip is None:
        return None
    needle = f"Gittree-Run: id={meta.id}"
    for count, record in enumerate(gitio.read_commits(repo, [tip], with_notes=False)):
        if needle in record.message.splitlines():
            return record.sha
        if count >= 1000:
            break
    return None


def _mark_committed(meta: RunMeta, run_dir: Path, sha: str) -> RunMeta:
    meta.status = journal.COMMITTED
    meta.sha = sha
    meta.reason = None
    journal.save_meta(run_dir, meta)
    return meta


def run_facts(meta: RunMeta, *, dirty: bool) -> list[tuple[str, str]]:
    """The ``Gittree-Run`` facts of a run (docs/runs.md): command, outcome, duration, id."""
    facts = [("cmd", _one_line(shlex.join(meta.command)))]
    if meta.exit_code is not None:
        facts.append(("exit", str(meta.exit_code)))
    if meta.signal:
        facts.append(("signal", meta.signal))
    if meta.interrupted:
        facts.append(("interrupted", meta.interrupted))
    if meta.duration is not None:
        facts.append(("duration", f"{meta.duration:.3f}"))
    facts.append(("id", meta.id))
    if dirty:
        facts.append(("dirty", "true"))
    return facts


def _one_line(text: str) -> str:
    """Control characters shown as escapes: a trailer value is one line of plain text."""
    from gittree.render.escape import is_unsafe_char

    return "".join(repr(ch)[1:-1] if is_unsafe_char(ch) and ord(ch) < 0x100 else ch for ch in text)


def default_subject(meta: RunMeta) -> str:
    subject = "run: " + _one_line(shlex.join(meta.command))
    return subject if len(subject) <= SUBJECT_WIDTH else subject[: SUBJECT_WIDTH - 1] + "…"


def _commit(repo: gitio.Repo, meta: RunMeta, run_dir: Path) -> CommitResult:
    from gittree import treecommit
    from gittree.experiment import prepare_entry, verify_recorded

    try:
        tree, dirty = meta.tree, False
        if tree is None:  # the snapshot failed when the run started: save the code as it is now
            tree = treecommit.snapshot(_worktree_repo(repo, meta), run_dir, add_untracked=meta.add_untracked)
            dirty = True
        entry = prepare_entry(
            meta.name or default_subject(meta),
            metrics=[f"{name}={value}" for name, value in collected_metrics(run_dir)],
            params=[f"{name}={value}" for name, value in meta.params],
            notes=meta.notes,
            status="failed" if meta.outcome != "ok" else None,
            run=run_facts(meta, dirty=dirty),
        )
    except GittreeError as e:
        _mark_failed(meta, run_dir, e.message)
        raise
    plan = treecommit.TreeCommit(
        tree=tree,
        target=meta.target,
        head=meta.head,
        base=meta.base,
        message=entry.full_message(gitio.comment_char(repo)),
        worktree=Path(meta.worktree),
        scratch=run_dir,
        author_date=_git_date(meta.end or meta.start),
        reflog=f"gittree run {meta.id}",
        lock_timeout=_lock_timeout(),
    )
    meta.status = journal.COMMITTING
    meta.attempts += 1
    journal.save_meta(run_dir, meta)
    try:
        sha = treecommit.commit_tree(repo, plan)
    except GittreeError as e:
        _mark_failed(meta, run_dir, e.message + (f" (hint: {e.hint})" if e.hint else ""))
        raise
    except BaseException:
        _mark_failed(meta, run_dir, "interrupted while committing")
        raise
    warnings: list[str] = []
    try:
        verify_recorded(repo, sha, entry)
    except TrailersLostError:
        # A commit-msg hook rewrote the message: the results go into the commit's note instead.
        gitio.append_note(repo, sha, _trailer_lines(entry))
        warnings.append("a commit-msg hook removed the trailers; the results were attached as a git note")
        meta.warnings.extend(warnings)
    result = CommitResult(_mark_committed(meta, run_dir, sha), sha, warnings=tuple(warnings))
    gitio.keep_commits(repo, [sha], reason=f"gittree run {meta.id}")  # nothing tried vanishes (docs/tree.md)
    return result


def _trailer_lines(entry: ExperimentEntry) -> list[str]:
    return format_trailer_lines(
        metrics=entry.metrics, params=entry.params, notes=entry.notes, status=entry.status, run=entry.run
    )


def _mark_failed(meta: RunMeta, run_dir: Path, reason: str) -> None:
    meta.status = journal.COMMIT_FAILED
    meta.reason = reason
    with contextlib.suppress(GittreeError):
        journal.save_meta(run_dir, meta)


def _worktree_repo(repo: gitio.Repo, meta: RunMeta) -> gitio.Repo:
    path = Path(meta.worktree)
    if repo.worktree is not None and path.resolve() == repo.worktree:
        return repo
    return gitio.open_repo(path) if path.is_dir() else repo


def _git_date(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).astimezone().isoformat(timespec="seconds")


def _lock_timeout() -> float:
    text = os.environ.get(LOCK_TIMEOUT_ENV, "")
    try:
        return max(0.0, float(text)) if text else 10.0
    except ValueError:
        return 10.0


# -- listing and recovering -----------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    """A journal entry as ``gittree runs`` shows it: the stored status, or what it means now."""

    meta: RunMeta
    run_dir: Path
    #: running, interrupted, pending, committed, commit-failed, not-committed.
    state: str
    detail: str
    metrics: list[tuple[str, str]] = field(default_factory=list)
    #: what ``gittree recover`` without a run id commits.
    recoverable: bool = False


#: What ``gittree recover`` with no run id commits.
RECOVERABLE = ("interrupted", journal.PENDING, journal.COMMIT_FAILED)


def view(meta: RunMeta, run_dir: Path) -> RunView:
    state, detail = meta.status, meta.reason or ""
    alive = journal.owner_alive(meta)
    if meta.status in (journal.RUNNING, journal.COMMITTING):
        if alive is None:
            detail = f"on {meta.host}"
        elif not alive and meta.status == journal.RUNNING:
            state = "interrupted"
            detail = (
                f"gittree (process {meta.pid}) stopped during the run; gittree recover commits it as failed"
            )
        elif not alive:
            state, detail = journal.PENDING, "a commit attempt was interrupted; gittree recover finishes it"
    elif meta.status == journal.COMMITTED and meta.sha:
        detail = f"{meta.sha[:7]} on {meta.branch or 'a detached HEAD'}"
    busy = meta.status == journal.PENDING and not meta.done and alive is not False
    if busy:
        detail = f"gittree (process {meta.pid}{' on ' + meta.host if alive is None else ''}) is finishing it"
    # A pending run whose gittree is in its post-run step is left to that process.
    recoverable = state in RECOVERABLE and not busy
    return RunView(meta, run_dir, state, detail, collected_metrics(run_dir), recoverable)


def list_runs(repo: gitio.Repo) -> list[RunView]:
    views = []
    for run_dir in journal.list_run_dirs(journal.runs_root(gitio.common_dir(repo))):
        try:
            views.append(view(journal.load_meta(run_dir), run_dir))
        except RunError as e:
            placeholder = RunMeta(id=run_dir.name, command=[], cwd="", worktree="", start=0.0, target="")
            views.append(RunView(placeholder, run_dir, "unreadable", e.message))
    # Ids begin with the start time to the second; runs started within one second sort by start.
    return sorted(views, key=lambda v: (v.meta.start, v.meta.id))


@dataclass(frozen=True)
class PruneReport:
    """What ``gittree runs --prune`` removed and what it kept, and why."""

    removed: tuple[str, ...]
    bytes_freed: int
    #: committed runs old enough whose commit no ref reaches: their entry may be the last copy.
    kept_unreachable: tuple[str, ...]
    #: entries that are not committed (pending, failed, kept on purpose): never pruned.
    kept_uncommitted: int
    #: committed runs that ended within ``keep_days``.
    kept_recent: int


def prune_runs(repo: gitio.Repo, *, keep_days: float, now: float | None = None) -> PruneReport:
    """Remove the journal entries of committed runs that ended more than ``keep_days`` ago.

    Only entries whose results are safe elsewhere go: status ``committed`` and a commit some ref still
    reaches (a commit on a deleted branch is kept in the journal: git gc may take the commit). Every
    other entry is kept whatever its age (docs/runs.md, "Pruning the journal").
    """
    import time

    root = journal.runs_root(gitio.common_dir(repo))
    journal.clear_removed(root)
    cutoff = (time.time() if now is None else now) - keep_days * 86400
    old: list[RunView] = []
    uncommitted = recent = 0
    for v in list_runs(repo):
        if v.state != journal.COMMITTED or not v.meta.sha or (v.run_dir / journal.LOCK).exists():
            uncommitted += 1
        elif (v.meta.end or v.meta.start) > cutoff:
            recent += 1
        else:
            old.append(v)
    reachable = gitio.reachable_from_refs(repo, (str(v.meta.sha) for v in old))
    removed: list[str] = []
    unreachable: list[str] = []
    freed = 0
    for v in old:
        if v.meta.sha in reachable:
            freed += journal.remove_run_dir(v.run_dir)
            removed.append(v.meta.id)
        else:
            unreachable.append(v.meta.id)
    return PruneReport(tuple(removed), freed, tuple(unreachable), uncommitted, recent)


def show_run(repo: gitio.Repo, run_id: str) -> RunView:
    run_dir = run_dir_for(repo, run_id)
    return view(journal.load_meta(run_dir), run_dir)


@dataclass(frozen=True)
class RecoverOutcome:
    run_id: str
    result: CommitResult | None = None
    error: GittreeError | None = None


def recover(
    repo: gitio.Repo, run_ids: Sequence[str] = (), *, branch: str | None = None, force: bool = False
) -> list[RecoverOutcome]:
    """Commit the named runs, or every run left pending, interrupted or failed to commit."""
    ids = list(run_ids) or [v.meta.id for v in list_runs(repo) if v.recoverable]
    outcomes = []
    for run_id in ids:
        try:
            outcomes.append(RecoverOutcome(run_id, commit_run(repo, run_id, branch=branch, force=force)))
        except GittreeError as e:
            outcomes.append(RecoverOutcome(run_id, error=e))
    return outcomes


def iter_log_tail(run_dir: Path, lines: int = 10) -> Iterator[str]:
    try:
        text = (run_dir / journal.OUTPUT_LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    yield from text.splitlines()[-lines:]
