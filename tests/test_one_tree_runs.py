"""Runs found wanting on the way to one research tree (issue 18): merges, the post-run hook, the journal."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import GitRepo
from tests.runtools import only_run, py
from tests.test_runs_faults import SCRIPT, conflicting_branches


def test_a_run_during_a_merge_says_how_to_record_the_crossover(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    conflicting_branches(repo)
    repo.git("merge", "-q", "other", check=False)  # stops on the conflict
    result = gittree("run", "--capture", "acc", "--", *py(SCRIPT))
    assert result.code == 7 and "merge is in progress" in result.err
    assert "to record the crossover" in result.err and "gittree commit -m" in result.err
    # ... which works: resolve, then commit the merge with the run's results
    repo.write("model.py", "both\n")
    repo.git("add", "model.py")
    done = gittree("commit", "-m", "crossover of ours and theirs", "--metric", "acc=0.9")
    assert done.code == 0, done.err
    assert len(repo.git("log", "-1", "--format=%P").split()) == 2
    assert only_run(repo.path)["status"] == "commit-failed"  # still in the journal, nothing lost


def test_the_post_run_hook_says_exactly_whether_it_committed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("hook", "install", "post-run").code == 0
    hook = repo.path / ".git" / "hooks" / "post-run"
    seen = repo.path.parent / "seen.txt"
    text = hook.read_text(encoding="utf-8")
    assert "$status is 0 when the run was committed" not in text
    hook.write_text(
        text.replace(
            'exit "$status"', f'echo "$committed $status $GITTREE_RUN_STATUS" >> {seen}\nexit "$status"'
        ),
        encoding="utf-8",
    )
    assert gittree("run", "--no-commit", "--", *py("print('acc: 0.5')")).code == 0
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.6')")).code == 0
    assert gittree("run", "--", *py("raise SystemExit(3)")).code != 0
    assert seen.read_text(encoding="utf-8").splitlines() == ["0 0 ok", "1 0 ok", "1 0 failed"]


def _a_run_whose_commit_failed(repo: GitRepo, gittree) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A run whose commit is refused: the user's commit-msg hook says no while ``refuse`` exists.

    (A branch that moved during the run no longer fails the commit: the run lands beside it as a
    sibling, docs/runs.md.)"""
    repo.write("model.py", "v1\n")
    start = repo.commit("start")
    hooks = Path(repo.git("rev-parse", "--git-path", "hooks").strip())
    if not hooks.is_absolute():
        hooks = repo.path / hooks
    hooks.mkdir(parents=True, exist_ok=True)
    hook = hooks / "commit-msg"
    hook.write_text('#!/bin/sh\nif [ -e refuse ]; then echo "not now" >&2; exit 1; fi\n', encoding="utf-8")
    hook.chmod(0o755)
    (repo.path / "refuse").write_text("", encoding="utf-8")
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.5')")).code != 0
    entry = only_run(repo.path)
    assert entry["status"] == "commit-failed"
    return entry["id"], start


def test_runs_drop_takes_a_failed_run_out_of_the_journal_and_names_where_its_output_is(
    repo: GitRepo, gittree
) -> None:  # type: ignore[no-untyped-def]
    run_id, _ = _a_run_whose_commit_failed(repo, gittree)
    assert gittree("recover", run_id).code != 0  # the hook still refuses: recover fails, as it should
    assert gittree("runs", "--prune").code == 0 and run_id in gittree("runs").out  # and prune keeps it
    result = gittree("runs", "--drop", run_id[:15])
    assert result.code == 0, result.err
    kept = Path(result.out.split("kept in ")[1].split(" (")[0])
    assert kept.name == run_id and "acc: 0.5" in (kept / "output.log").read_text(encoding="utf-8")
    assert (kept / "metrics.json").exists() and not (kept / "lock").exists()
    assert run_id not in gittree("runs").out
    again = gittree("runs", "--drop", run_id)
    assert again.code != 0 and "no run" in again.err


def test_recover_onto_a_new_branch_works_for_a_run_whose_commit_failed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    run_id, start = _a_run_whose_commit_failed(repo, gittree)
    assert gittree("recover", run_id).code != 0
    (repo.path / "refuse").unlink()
    result = gittree("recover", run_id, "--branch", "exp/v1")
    assert result.code == 0, result.err
    assert repo.git("rev-parse", "exp/v1^").strip() == start
    assert only_run(repo.path)["status"] == "committed"


def test_a_running_run_cannot_be_dropped(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.runtools import run_dir

    repo.commit("start")
    assert gittree("run", "--no-commit", "--", *py("print('acc: 0.5')")).code == 0
    entry = only_run(repo.path)
    meta_path = run_dir(repo.path, entry["id"]) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(status="running", pid=os.getpid())  # as if this very process were running it
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    result = gittree("runs", "--drop", entry["id"])
    assert result.code != 0 and "still running" in result.err
    assert entry["id"] in gittree("runs").out


def test_runs_at_80_columns_shows_each_name_whole_and_cuts_the_command(
    repo: GitRepo, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    long_command = py("print('acc: 0.5')  # " + "a long comment " * 8)
    assert (
        gittree("run", "--name", "lr-sweep-3e-4", "--branch", "exp/lr-sweep", "--", *long_command).code == 0
    )
    assert gittree("run", "--no-commit", "--name", "baseline-long-name", "--", *long_command).code == 0
    assert gittree("run", "--no-commit", "--", *long_command).code == 0  # often in the same second
    monkeypatch.setenv("COLUMNS", "80")
    lines = gittree("runs").out.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert "NAME" in lines[0] and "lr-sweep-3e-4" in lines[1] and "baseline-long-name" in lines[2]
    assert lines[1].endswith("…") and lines[2].endswith("…")  # the command is what was cut
    ids = [entry.split()[0] for entry in lines[1:3]]
    assert gittree("runs", ids[1]).code == 0  # a shortened id still names its run
    monkeypatch.setenv("COLUMNS", "200")
    wide = gittree("runs").out.splitlines()
    assert "exp/lr-sweep" in wide[1] and "a long comment" in wide[1]


def test_runs_started_in_one_second_by_one_process_fit_in_80_columns(
    repo: GitRepo, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Their ids share everything up to the random part (a 7-digit pid here, and random parts that
    share their first digit): the shortest unique prefixes left no room, and lines ran past 80
    columns (a test that failed now and then under load). The outcome column goes next; the command
    is still what is cut, the names stay whole."""
    from gittree.runs import journal

    ids = iter(["20260301-141502-4821399-aa1", "20260301-141502-4821399-ab2", "20260301-141502-4821399-ac3"])
    monkeypatch.setattr(journal, "new_run_id", lambda: next(ids))
    repo.commit("start")
    long_command = py("print('acc: 0.5')  # " + "a long comment " * 8)
    assert (
        gittree("run", "--name", "lr-sweep-3e-4", "--branch", "exp/lr-sweep", "--", *long_command).code == 0
    )
    assert gittree("run", "--no-commit", "--name", "baseline-long-name", "--", *long_command).code == 0
    assert gittree("run", "--no-commit", "--", *long_command).code == 0
    monkeypatch.setenv("COLUMNS", "80")
    lines = gittree("runs").out.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert "OUTCOME" not in lines[0] and "NAME" in lines[0]
    assert "lr-sweep-3e-4" in lines[1] and "baseline-long-name" in lines[2] and lines[2].endswith("…")
    assert lines[1].split()[0] == "20260301-141502-4821399-aa"  # still a prefix `recover` takes
    monkeypatch.setenv("COLUMNS", "40")  # no layout fits: every line is cut at the width
    narrow = gittree("runs").out.splitlines()
    assert all(len(line) <= 40 for line in narrow) and narrow[1].endswith("…"), narrow
