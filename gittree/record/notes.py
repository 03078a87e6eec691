"""Late results: ``gittree record`` and ``gittree abandon`` attach trailers to a commit as a git note.

The note lives under ``refs/notes/gittree``; each record is a new paragraph of trailer lines
(``git notes append``), and ``show`` merges every paragraph with the commit's own trailers, so another
seed's result adds a sample. ``gittree init`` sets ``notes.rewriteRef`` so notes follow amend and rebase.

A metric recorded while the working tree differs from the commit carries the run fact ``dirty=true``:
it may not have been produced by the code the commit holds (docs/runs.md, "Late results"). A note,
param or status alone is not a measurement and never makes a commit dirty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gittree import gitio
from gittree.errors import BadValueError, GitCommandError
from gittree.record.metricsfile import read_metrics_file
from gittree.trailers import canonical_status, format_trailer_lines, parse_metric_assignment, parse_params


@dataclass(frozen=True)
class RecordResult:
    sha: str
    lines: tuple[str, ...]
    dirty: bool


def record(
    repo: gitio.Repo,
    rev: str,
    *,
    metrics: Sequence[str] = (),
    params: Sequence[str] = (),
    notes: Sequence[str] = (),
    status: str | None = None,
    metrics_file: Path | None = None,
    run_id: str | None = None,
) -> RecordResult:
    """Append results to the gittree note of ``rev``; everything is validated before git is touched.

    ``run_id``: a run of the journal whose metrics are recorded (``--run``); whether they are dirty
    is then told by the code that run saved when it started, not by the working tree as it is now.
    """
    _refuse_bare(repo, "record")
    sha = gitio.resolve_commit(repo, rev)
    metric_pairs = [parse_metric_assignment(text) for text in metrics]
    run_facts: list[tuple[str, str]] = []
    ran: str | None = None
    if run_id is not None:
        metric_pairs[:0], run_facts, ran = _journalled_run(repo, run_id)
    if metrics_file is not None:
        metric_pairs.extend(read_metrics_file(metrics_file))
    if status is not None:
        status = canonical_status(status)  # any letter case, as the format reads it
    param_pairs = list(parse_params(params))
    if not (metric_pairs or param_pairs or notes or status):
        raise BadValueError(
            "nothing to record: give at least one --metric, --param, --note or --status",
            hint="for example: gittree record HEAD --metric acc=0.91",
        )
    # Dirty means a measurement made on code that differs from the commit: a note, a param or a
    # status alone measures nothing (docs/runs.md, "Late results").
    dirty = bool(metric_pairs) and (
        gitio.tree_of(repo, sha) != ran if ran is not None else gitio.worktree_differs(repo, sha)
    )
    lines = format_trailer_lines(
        metrics=metric_pairs,
        params=param_pairs,
        notes=notes,
        status=status,
        run=[*run_facts, *([("dirty", "true")] if dirty else [])],
    )
    if run_id is None:
        gitio.append_note(repo, sha, lines)
    else:
        from gittree.runs.commit import record_run

        record_run(repo, run_id, sha, lines)  # and the journal says so: recover does not commit it again
    gitio.keep_commits(repo, [sha], reason="gittree record")  # a result recorded is something tried
    return RecordResult(sha, tuple(lines), dirty)


def _journalled_run(
    repo: gitio.Repo, run_id: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str | None]:
    """A journalled run's metrics, its sample fact, and the tree of the code it ran (None: not saved)."""
    from gittree.runs import journal
    from gittree.runs.commit import run_dir_for, sample_fact
    from gittree.runs.metrics import collected_metrics

    run_dir = run_dir_for(repo, run_id)
    meta = journal.load_meta(run_dir)
    if meta.outcome is None:
        raise BadValueError(f"run {meta.id} has not ended yet", hint="record it once it has")
    return collected_metrics(run_dir), [sample_fact(meta)], meta.tree


def abandon(repo: gitio.Repo, rev: str, *, reason: str) -> RecordResult:
    """Mark ``rev`` as a dead end, with the reason why (status ``abandoned`` plus a note)."""
    _refuse_bare(repo, "abandon")
    if not reason.strip():
        raise BadValueError(
            "a dead end needs its reason: why was it abandoned?",
            hint='write for example --reason "lr too high: diverged after 2 epochs"',
        )
    sha = gitio.resolve_commit(repo, rev)
    lines = format_trailer_lines(notes=[reason], status="abandoned")
    gitio.append_note(repo, sha, lines)
    gitio.keep_commits(
        repo, [sha], reason="gittree abandon"
    )  # a dead end is the result most often reset away
    return RecordResult(sha, tuple(lines), dirty=False)


def _refuse_bare(repo: gitio.Repo, command: str) -> None:
    """Results are recorded where the work is (docs/reliability.md): a bare repository has no checkout to
    compare with (the ``dirty`` fact) and is usually a shared remote, which ``gittree sync`` updates."""
    if repo.is_bare:
        raise GitCommandError(
            f"this is a bare repository: gittree {command} writes notes from a clone with a working tree",
            hint=f"run gittree {command} in a clone, then gittree sync to share the note",
        )
