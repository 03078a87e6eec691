"""The curves of experiments: stored with them in git by ``gittree run``, and read back for plots and views.

Each ``gittree run`` keeps what the script logged with ``gittree.log_metric(..., step=N)`` in its
journal entry (``logged.jsonl``): the whole curve, on this machine. When the run is committed, each
metric's curve, downsampled (:func:`gittree.curves.downsample`), is written as a paragraph of the
experiment's note under ``refs/notes/gittree-curves`` (docs/format.md, "Curves"), which ``gittree
sync`` shares and merges like the results' notes. Reading prefers git, then the journal, then
DVCLive's metric histories committed with the code (``dvclive/plots/metrics/``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gittree import gitio
from gittree.curves import (
    DVCLIVE_METRICS,
    Curve,
    StoredRun,
    curves_from_dvclive,
    curves_from_logged,
    downsample,
    parse_stored,
    stored_paragraph,
)
from gittree.errors import GittreeError, RunError
from gittree.model import CommitRecord
from gittree.runs import journal


@dataclass(frozen=True)
class RunCurves:
    """The curves one run logged, with the experiment it was committed as."""

    commit: CommitRecord
    run_id: str
    curves: dict[str, Curve]


# -- writing (gittree run) ---------------------------------------------------------------------------


def run_curves(meta: journal.RunMeta, run_dir: Path) -> dict[str, Curve]:
    """What one journalled run logged step by step, downsampled (metrics logged more than once); else the
    DVCLive histories the run wrote in the folder it ran in (a file older than the run's start is an
    earlier run's, and is left out)."""
    try:
        text = (run_dir / journal.LOGGED_METRICS).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    curves = curves_from_logged(text)
    if not curves:
        curves = curves_from_dvclive(_written_dvclive(meta))
    # A metric logged once is a result, not a curve: the commit's trailers hold it already.
    return {name: downsample(curve) for name, curve in curves.items() if curve.total > 1}


def _written_dvclive(meta: journal.RunMeta) -> dict[str, bytes]:
    folder = Path(meta.cwd) / DVCLIVE_METRICS  # DVCLive writes under the folder the command ran in
    files: dict[str, bytes] = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            try:
                if path.stat().st_mtime < meta.start:
                    continue
                files[f"{DVCLIVE_METRICS}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
            except OSError:
                continue
    return files


def store_curves(repo: gitio.Repo, sha: str, runs: Sequence[tuple[journal.RunMeta, Path]]) -> int:
    """Write the curves of ``runs`` (a run, or a group's seeds) to ``sha``'s curves note, one paragraph per
    run; returns how many runs had curves. A run already there (an attempt cut short, then recovered)
    is not written twice. Raises what the notes write raises; the caller decides it is only a warning."""
    logged = [
        StoredRun(meta.id, meta.seed, curves)
        for meta, run_dir in runs
        if (curves := run_curves(meta, run_dir))
    ]
    if not logged:
        return 0  # most runs: no git call at all
    already = {run.run for run in stored_curves(repo, [sha]).get(sha, [])}
    paragraphs = [(sha, stored_paragraph(run)) for run in logged if run.run not in already]
    if paragraphs:
        gitio.append_notes(repo, paragraphs, gitio.CURVES_REF)
    return len(paragraphs)


# -- reading -----------------------------------------------------------------------------------------


def stored_curves(repo: gitio.Repo, shas: Iterable[str] | None = None) -> dict[str, list[StoredRun]]:
    """The runs' curves stored in git, by experiment (only ``shas``, when named), each in the order stored.

    ``shas``: looked up one by one (a path in the notes tree) when few; otherwise every note is read.
    """
    # Asked of git, not libgit2: a view of a repository without curves must not pay pygit2's import
    # (about 0.14 s, which a cold `show --json` otherwise never loads).
    if gitio.ref_sha(repo, gitio.CURVES_REF) is None:
        return {}
    wanted = None if shas is None else list(dict.fromkeys(shas))
    if wanted is not None and len(wanted) <= 64:
        texts = gitio.notes_for(repo, wanted, gitio.CURVES_REF)
    else:
        texts = dict(gitio.read_notes(repo, gitio.CURVES_REF))
        if wanted is not None:
            keep = set(wanted)
            texts = {sha: text for sha, text in texts.items() if sha in keep}
    result = {}
    for sha, text in texts.items():
        runs = parse_stored(text) if text else []
        if runs:
            result[sha] = runs
    return result


def curves_of(repo: gitio.Repo, revs: list[str]) -> list[RunCurves]:
    """The curves of each of ``revs``, in the order named: those stored in git with the experiment; else
    every journalled run committed as it (oldest first); else the DVCLive histories in its tree (run id
    ``dvclive``)."""
    commits = [gitio.read_commit(repo, rev) for rev in revs]
    by_sha: dict[str, list[RunCurves]] = {commit.sha: [] for commit in commits}
    wanted = {commit.sha: commit for commit in commits}
    for sha, runs in stored_curves(repo, wanted).items():
        by_sha[sha] = [RunCurves(wanted[sha], run.run, run.curves) for run in runs if run.curves]
    in_git = {sha for sha, runs in by_sha.items() if runs}
    for run_dir in journal.list_run_dirs(journal.runs_root(gitio.common_dir(repo))):
        try:
            meta = journal.load_meta(run_dir)
        except RunError:
            continue  # an unreadable entry: `gittree runs` reports it
        if meta.sha not in wanted or meta.sha in in_git:
            continue  # git first: what travels with the experiment is what everyone sees
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
            f"no curve recorded for {names}: none stored in git ({gitio.CURVES_REF}), none in this "
            "repository's run journal",
            hint="curves come from gittree.log_metric(name, value, step=N) inside gittree run; a clone gets "
            f"them with gittree sync; DVCLive's {DVCLIVE_METRICS}/ committed with the code is read too",
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
