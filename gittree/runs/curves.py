"""The curves of an experiment, for ``gittree plot --curves``: from its runs' journal, else from its commit.

Each ``gittree run`` keeps what the script logged with ``gittree.log_metric(..., step=N)`` in its
journal entry (``logged.jsonl``): the whole curve, on this machine. An experiment with no journalled
curve may carry DVCLive's metric histories in its own tree (``dvclive/plots/metrics/``, committed
with the code): those travel with the commit. Read only.
"""

from __future__ import annotations

from dataclasses import dataclass

from gittree import gitio
from gittree.curves import DVCLIVE_METRICS, Curve, curves_from_dvclive, curves_from_logged
from gittree.errors import GittreeError, RunError
from gittree.model import CommitRecord
from gittree.runs import journal


@dataclass(frozen=True)
class RunCurves:
    """The curves one run logged, with the experiment it was committed as."""

    commit: CommitRecord
    run_id: str
    curves: dict[str, Curve]


def curves_of(repo: gitio.Repo, revs: list[str]) -> list[RunCurves]:
    """The curves of each of ``revs``, in the order named: every journalled run committed as it (oldest
    first), else the DVCLive histories in its tree (run id ``dvclive``)."""
    commits = [gitio.read_commit(repo, rev) for rev in revs]
    by_sha: dict[str, list[RunCurves]] = {commit.sha: [] for commit in commits}
    wanted = {commit.sha: commit for commit in commits}
    for run_dir in journal.list_run_dirs(journal.runs_root(gitio.common_dir(repo))):
        try:
            meta = journal.load_meta(run_dir)
        except RunError:
            continue  # an unreadable entry: `gittree runs` reports it
        if meta.sha not in wanted:
            continue
        try:
            text = (run_dir / journal.LOGGED_METRICS).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        curves = curves_from_logged(text)
        if curves:
            by_sha[meta.sha].append(RunCurves(wanted[meta.sha], meta.id, curves))
    for commit in commits:
        if not by_sha[commit.sha]:
            committed = curves_from_dvclive(gitio.files_under(repo, commit.sha, DVCLIVE_METRICS))
            if committed:
                by_sha[commit.sha].append(RunCurves(commit, "dvclive", committed))
    missing = [commit for commit in commits if not by_sha[commit.sha]]
    if missing:
        names = ", ".join(commit.sha[:7] for commit in missing)
        raise GittreeError(
            f"no curve recorded for {names}: no run in this repository's journal logged one",
            hint="curves come from gittree.log_metric(name, value, step=N) inside gittree run (the journal "
            f"is local to the machine that ran it), or from DVCLive's {DVCLIVE_METRICS}/ committed with the code",
        )
    return [run for commit in commits for run in by_sha[commit.sha]]


def labelled(runs: list[RunCurves]) -> list[tuple[str, dict[str, Curve]]]:
    """Each run's curves with the label its line gets: the experiment, and the run when it has several."""
    per_commit: dict[str, int] = {}
    for run in runs:
        per_commit[run.commit.sha] = per_commit.get(run.commit.sha, 0) + 1
    result = []
    for run in runs:
        label = f"{run.commit.sha[:7]} {run.commit.subject}"
        if per_commit[run.commit.sha] > 1:  # seeds, reruns: which run is which line
            label += f" · run {run.run_id}"
        result.append((label, run.curves))
    return result
