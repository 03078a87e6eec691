"""The run journal as ``gittree runs`` shows it, and what ``runs --prune``, ``runs --drop`` and ``recover`` do.

Listing a run reads its journal entry alone: committing one (``recover``) is :mod:`gittree.runs.commit`'s
job, imported only when a run is recovered, so ``gittree runs`` starts without the commit machinery.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gittree import gitio
from gittree.errors import GittreeError, RunError
from gittree.runs import journal
from gittree.runs.journal import RunMeta
from gittree.runs.metrics import collected_metrics

TYPE_CHECKING = False  # mypy reads this as True
if TYPE_CHECKING:
    from gittree.runs.commit import CommitResult


@dataclass(frozen=True)
class RunEntry:
    """A journal entry as ``gittree runs`` shows it: the stored status, or what it means now."""

    meta: RunMeta
    run_dir: Path
    #: running, interrupted, pending, committed, recorded, commit-failed, not-committed.
    state: str
    detail: str
    metrics: list[tuple[str, str]] = field(default_factory=list)
    #: what ``gittree recover`` without a run id commits.
    recoverable: bool = False


#: What ``gittree recover`` with no run id commits.
RECOVERABLE = ("interrupted", journal.PENDING, journal.COMMIT_FAILED)
#: The state shown for a run committed by ``gittree record REV --run``: its results are on REV.
RECORDED = "recorded"


def entry_of(meta: RunMeta, run_dir: Path) -> RunEntry:
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
    elif meta.status == journal.COMMITTED and meta.sha and meta.recorded:
        # Its results are a sample of another commit, added by `gittree record REV --run`: not committed
        # on its branch, and never to be committed again.
        state, detail = RECORDED, f"on {meta.sha[:7]} (gittree record --run)"
    elif meta.status == journal.COMMITTED and meta.sha:
        detail = f"{meta.sha[:7]} on {meta.branch or 'a detached HEAD'}"
    busy = meta.status == journal.PENDING and not meta.done and alive is not False
    if busy:
        detail = f"gittree (process {meta.pid}{' on ' + meta.host if alive is None else ''}) is finishing it"
    # A pending run whose gittree is in its post-run step is left to that process.
    recoverable = state in RECOVERABLE and not busy
    return RunEntry(meta, run_dir, state, detail, collected_metrics(run_dir), recoverable)


def list_runs(repo: gitio.Repo) -> list[RunEntry]:
    entries = []
    for run_dir in journal.list_run_dirs(journal.runs_root(gitio.common_dir(repo))):
        try:
            entries.append(entry_of(journal.load_meta(run_dir), run_dir))
        except RunError as e:
            placeholder = RunMeta(id=run_dir.name, command=[], cwd="", worktree="", start=0.0, target="")
            entries.append(RunEntry(placeholder, run_dir, "unreadable", e.message))
    # Ids begin with the start time to the second; runs started within one second sort by start.
    return sorted(entries, key=lambda v: (v.meta.start, v.meta.id))


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
    old: list[RunEntry] = []
    uncommitted = recent = 0
    for v in list_runs(repo):
        if v.meta.status != journal.COMMITTED or not v.meta.sha or (v.run_dir / journal.LOCK).exists():
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


def show_run(repo: gitio.Repo, run_id: str) -> RunEntry:
    run_dir = journal.find_run_dir(journal.runs_root(gitio.common_dir(repo)), run_id)
    return entry_of(journal.load_meta(run_dir), run_dir)


@dataclass(frozen=True)
class RecoverOutcome:
    run_id: str
    result: CommitResult | None = None
    error: GittreeError | None = None


def recover(
    repo: gitio.Repo, run_ids: Sequence[str] = (), *, branch: str | None = None, force: bool = False
) -> list[RecoverOutcome]:
    """Commit the named runs, or every run left pending, interrupted or failed to commit."""
    from gittree.runs.commit import commit_run

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


@dataclass(frozen=True)
class DropResult:
    """A run taken out of the journal by ``gittree runs --drop``, and where what it left is kept."""

    run_id: str
    #: its journal status when dropped (commit-failed, pending, not-committed...).
    status: str
    #: the folder now holding its output.log, metrics.json and meta.json.
    kept: Path


def drop_run(repo: gitio.Repo, run_id: str) -> DropResult:
    """Take one run out of the journal on purpose (``gittree runs --drop ID``, docs/runs.md).

    For a run that can never be committed as it is (its commit failed and the user does not want it,
    or `recover` cannot place it) and that ``runs --prune`` rightly keeps. Nothing is deleted: the
    run's folder moves in one step to ``$GIT_COMMON_DIR/gittree/dropped/ID``, which the result names,
    so its output and metrics stay at hand. A run still going (or committing) is refused.
    """
    from gittree.runs.commit import refuse_if_alive

    root = journal.runs_root(gitio.common_dir(repo))
    run_dir = journal.find_run_dir(root, run_id)
    with journal.locked(run_dir):
        meta = journal.load_meta(run_dir)
        refuse_if_alive(meta, force=False)
        kept = root.parent / "dropped" / run_dir.name
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(run_dir, kept)
        except OSError as e:
            raise RunError(
                f"cannot move the journal entry {run_dir} to {kept}: {e.strerror or e}",
                hint="nothing was dropped; fix the permissions of the .git folder",
            ) from e
        journal.fsync_dir(root)
    (kept / journal.LOCK).unlink(missing_ok=True)
    return DropResult(meta.id, meta.status, kept)
