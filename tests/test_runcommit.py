"""A journalled run becomes an experiment commit (gittree/runs/commit.py), called directly.

Each run is a real child process started by ``gittree run --no-commit``, which leaves it in the
journal; the tests then use the module as the post-run hook and ``gittree recover`` do (docs/runs.md).
"""

from __future__ import annotations

import pytest

from gittree import gitio
from gittree.errors import RunError
from gittree.runs import commit, listing
from gittree.runs.journal import RunMeta
from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import only_run, py


def journalled_run(repo: GitRepo, gittree, *args: str) -> str:  # type: ignore[no-untyped-def]
    """A finished run left in the journal, not committed; its id."""
    result = gittree("run", "--no-commit", *args)
    assert result.code == 0, result.err
    return str(only_run(repo.path)["id"])


def test_commit_run_makes_the_experiment_once(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    run_id = journalled_run(
        repo, gittree, "--capture", "acc", "--param", "lr=0.1", "--", *py("print('acc: 0.7')")
    )
    git = gitio.open_repo(repo.path)
    result = commit.commit_run(git, run_id)
    assert not result.already and result.sha == repo.head()
    assert repo.git("log", "-1", "--format=%P", result.sha).strip() == start
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None
    assert record.metric_dict() == {"acc": (0.7,)} and dict(record.params) == {"lr": "0.1"}
    assert f"Gittree-Run: id={run_id}" in repo.git("log", "-1", "--format=%B")
    again = commit.commit_run(git, run_id)  # the post-run hook may call it twice
    assert again.already and again.sha == result.sha and repo.head() == result.sha


def test_a_committed_run_is_not_moved_to_another_branch(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    run_id = journalled_run(repo, gittree, "--", "true")
    git = gitio.open_repo(repo.path)
    commit.commit_run(git, run_id)
    with pytest.raises(RunError, match="cherry-pick"):
        commit.commit_run(git, run_id, branch="exp/other")


def test_commit_run_on_a_branch_of_its_own(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    run_id = journalled_run(repo, gittree, "--", "true")
    result = commit.commit_run(gitio.open_repo(repo.path), run_id, branch="exp/later")
    assert repo.git("rev-parse", "exp/later").strip() == result.sha and repo.head() == start


def test_runs_lists_a_run_by_what_it_means_now(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    run_id = journalled_run(repo, gittree, "--capture", "acc", "--", *py("print('acc: 0.5')"))
    git = gitio.open_repo(repo.path)
    [before] = listing.list_runs(git)
    assert (before.meta.id, before.state, before.recoverable) == (run_id, "not-committed", False)
    assert before.metrics == [("acc", "0.5")]
    commit.commit_run(git, run_id)
    after = listing.show_run(git, run_id[:20])  # a unique prefix names it
    assert after.state == "committed" and after.detail == f"{repo.head()[:7]} on main"


def test_recover_reports_each_run_and_keeps_going_past_a_failure(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    run_id = journalled_run(repo, gittree, "--", "true")
    outcomes = listing.recover(gitio.open_repo(repo.path), ["nosuch", run_id])
    assert [(o.run_id, o.result is not None, o.error is not None) for o in outcomes] == [
        ("nosuch", False, True),
        (run_id, True, False),
    ]
    assert outcomes[1].result is not None and outcomes[1].result.sha == repo.head()


def test_prune_removes_only_old_committed_runs_a_ref_still_reaches(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    run_id = journalled_run(repo, gittree, "--", "true")
    git = gitio.open_repo(repo.path)
    kept = listing.prune_runs(git, keep_days=0)
    assert kept.removed == () and kept.kept_uncommitted == 1  # not committed: never pruned
    commit.commit_run(git, run_id)
    recent = listing.prune_runs(git, keep_days=30)
    assert recent.removed == () and recent.kept_recent == 1
    far_future = listing.prune_runs(git, keep_days=30, now=4102444800)  # 2100
    assert far_future.removed == (run_id,) and far_future.bytes_freed > 0
    assert listing.list_runs(git) == []


def test_run_facts_and_the_default_subject() -> None:
    meta = RunMeta(
        id="20260101-000000-ab12",
        command=["python", "train.py", "--lr", "0.1"],
        cwd="",
        worktree="",
        start=0.0,
        target="HEAD",
    )
    meta.exit_code, meta.duration = 0, 12.5
    assert commit.run_facts(meta, dirty=True) == [
        ("cmd", "python train.py --lr 0.1"),
        ("exit", "0"),
        ("duration", "12.500"),
        ("id", "20260101-000000-ab12"),
        ("dirty", "true"),
    ]
    assert commit.default_subject(meta) == "run: python train.py --lr 0.1"
    meta.command = ["echo", "\x1b[31m", "x" * 100]
    subject = commit.default_subject(meta)
    assert len(subject) == commit.SUBJECT_WIDTH and subject.endswith("…")
    assert "\x1b" not in subject and "\\x1b[31m" in subject  # the control shown, not sent
