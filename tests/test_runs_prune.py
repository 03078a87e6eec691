"""`gittree runs --prune`: committed runs whose results are safe in a reachable commit leave the journal;
nothing else ever does."""

from __future__ import annotations

import json
import time

from tests.conftest import GitRepo
from tests.runtools import journal, py, run_dir, runs_root
from tests.test_runs_journal import edit_meta

DAY = 86400.0


def run(repo: GitRepo, gittree, *options: str) -> str:  # type: ignore[no-untyped-def]
    """One real run; returns its id."""
    before = {entry["id"] for entry in journal(repo.path)}
    gittree("run", *options, "--capture", "acc", "--", *py("print('acc: 0.5')"))
    (new,) = [entry["id"] for entry in journal(repo.path) if entry["id"] not in before]
    return str(new)


def age(repo: GitRepo, run_id: str, days: float) -> None:
    """As if the run had ended ``days`` ago."""
    ended = time.time() - days * DAY
    edit_meta(repo, run_id, start=ended - 1, end=ended)


def test_only_old_committed_runs_with_a_reachable_commit_are_removed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    old = run(repo, gittree)
    recent = run(repo, gittree)
    kept_on_purpose = run(repo, gittree, "--no-commit")
    on_deleted_branch = run(repo, gittree, "--branch", "exp/gone")
    gone = repo.git("rev-parse", "exp/gone").strip()
    repo.git("branch", "-D", "exp/gone")
    assert gittree("forget", gone).code == 0  # else gittree's keep ref still holds it: safe to prune
    for run_id in (old, kept_on_purpose, on_deleted_branch):
        age(repo, run_id, 40)
    age(repo, recent, 3)
    size = sum(p.stat().st_size for p in run_dir(repo.path, old).rglob("*") if p.is_file())

    result = gittree("runs", "--prune", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report == {
        "removed": [old],
        "bytes_freed": size,
        "kept_unreachable": [on_deleted_branch],
        "kept_uncommitted": 1,
        "kept_recent": 1,
    }
    assert sorted(entry["id"] for entry in journal(repo.path)) == sorted(
        [recent, kept_on_purpose, on_deleted_branch]
    )
    assert not [p for p in runs_root(repo.path).iterdir() if p.name.startswith(".")]
    assert repo.git("log", "-1", "--format=%s").strip()  # the commits themselves are untouched
    assert old not in gittree("runs").out


def test_older_than_and_the_configured_age_decide(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    ten_days = run(repo, gittree)
    age(repo, ten_days, 10)
    assert gittree("runs", "--prune").out.startswith(
        "removed 0 committed run(s) that ended more than 30 day(s)"
    )
    repo.write(".gittree.yaml", "run:\n  keep_days: 7\n")
    result = gittree("runs", "--prune")
    assert result.code == 0 and result.out.startswith(
        "removed 1 committed run(s) that ended more than 7 day(s)"
    )
    just_now = run(repo, gittree)
    assert json.loads(gittree("runs", "--prune", "--older-than", "0", "--json").out)["removed"] == [just_now]
    assert journal(repo.path) == []


def test_a_bad_keep_days_is_a_config_error(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    for value in ("-1", "soon", "true", ".nan"):
        repo.write(".gittree.yaml", f"run:\n  keep_days: {value}\n")
        result = gittree("runs", "--prune")
        assert result.code == 9 and "run.keep_days" in result.err, (value, result.err)


def test_a_removal_cut_short_is_finished_and_never_listed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    run(repo, gittree)
    leftover = runs_root(repo.path) / ".removed-20260101-000000-1-abcdef-123456"
    (leftover / "half").mkdir(parents=True)
    (leftover / "half" / "output.log").write_text("left by a killed prune\n")
    assert len(json.loads(gittree("runs", "--json").out)) == 1
    assert gittree("runs", "--prune").code == 0
    assert not leftover.exists()


def test_prune_takes_no_run_id(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("runs", "some-id", "--prune")
    assert result.code == 6 and "no run id" in result.err


def test_older_than_alone_deletes_nothing(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: ``--older-than`` without ``--prune`` pruned, so asking to see old runs deleted them."""
    repo.commit("start")
    old = run(repo, gittree)
    age(repo, old, 40)
    result = gittree("runs", "--older-than", "7")
    assert result.code == 6 and "--older-than goes with --prune" in result.err
    assert [entry["id"] for entry in journal(repo.path)] == [old]
