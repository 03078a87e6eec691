"""`gittree record` and `gittree abandon`: late results as git notes, merged into `show`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GitRepo
from tests.runtools import GITTREE


def nodes(gittree) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    result = gittree("show", "--all", "--json")
    assert result.code == 0, result.err
    return {node["sha"]: node for node in json.loads(result.out)["nodes"]}


def test_another_seed_adds_a_sample(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.experiment("patch 16x16", metrics=[("acc", 0.73)])
    result = gittree("record", sha[:7], "--metric", "acc=0.75", "--note", "seed 2", "--param", "seed=2")
    assert result.code == 0, result.err
    assert repo.git("notes", "--ref", "refs/notes/gittree", "show", sha).startswith(
        "Gittree-Metric: acc=0.75"
    )
    node = nodes(gittree)[sha]
    assert node["metrics"]["acc"]["samples"] == [0.73, 0.75]
    assert node["notes"] == ["seed 2"] and node["params"] == {"seed": "2"}
    assert node["dirty"] is False
    assert gittree("record", "HEAD", "--metric", "acc=0.74").code == 0  # a third: a new paragraph
    assert nodes(gittree)[sha]["metrics"]["acc"]["n"] == 3


def test_record_makes_an_ordinary_commit_an_experiment(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sha = repo.commit("plain work")
    (tmp_path / "m.json").write_text('{"acc": 0.6, "val": {"loss": 1.2}}')
    assert gittree("record", "HEAD", "--metrics-file", str(tmp_path / "m.json"), "--status", "ok").code == 0
    node = nodes(gittree)[sha]
    assert set(node["metrics"]) == {"acc", "val/loss"} and node["status"] == "ok"


def test_a_result_recorded_on_dirty_code_is_flagged(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.experiment("depth 8", metrics=[("acc", 0.7)])
    repo.write("work.txt", "edited since the commit\n")
    result = gittree("record", "HEAD", "--metric", "acc=0.9")
    assert result.code == 0 and "dirty" in result.err
    node = nodes(gittree)[sha]
    assert node["dirty"] is True and node["run"]["dirty"] == "true"
    text = gittree("show", "--color", "never").out
    assert "dirty" in text.splitlines()[1]


def test_clean_results_are_not_flagged(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.experiment("depth 8", metrics=[("acc", 0.7)])
    repo.write("untracked.txt", "not part of any commit\n")  # untracked files are not code git tracks
    assert gittree("record", "HEAD", "--metric", "acc=0.9").code == 0
    assert nodes(gittree)[sha]["dirty"] is False
    assert "dirty" not in gittree("show", "--color", "never").out


def test_abandon_marks_a_dead_end_with_its_reason(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    sha = repo.experiment("graph attention", metrics=[("acc", 0.6)])
    result = gittree("abandon", "HEAD", "--reason", "too slow\nto train")
    assert result.code == 0, result.err
    node = nodes(gittree)[sha]
    assert node["status"] == "abandoned" and node["verdict"] == "abandoned"
    assert node["notes"] == ["too slow to train"]
    assert "✗" in gittree("show", "--color", "never").out
    assert gittree("abandon", "HEAD").code == 2  # the reason is required


def test_bad_input_is_refused_before_anything_is_written(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.5)])
    assert gittree("record", "HEAD", "--metric", "acc=0,5").code == 6
    assert gittree("record", "HEAD", "--status", "great").code == 6
    assert gittree("record", "HEAD").code == 6
    assert gittree("record", "no-such-rev", "--metric", "acc=1").code == 10
    assert repo.git("notes", "--ref", "refs/notes/gittree", "list") == ""


def test_amend_keeps_the_notes(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("init").code == 0  # sets notes.rewriteRef
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    assert gittree("record", "HEAD", "--metric", "acc=0.52").code == 0
    repo.git("commit", "--amend", "-q", "-m", "baseline, reworded\n\nGittree-Metric: acc=0.5")
    node = nodes(gittree)[repo.head()]
    assert node["subject"] == "baseline, reworded" and node["metrics"]["acc"]["samples"] == [0.5, 0.52]


def test_rebase_keeps_the_notes(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("init").code == 0
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.git("checkout", "-q", "-b", "idea")
    repo.experiment("idea", metrics=[("acc", 0.6)])
    assert gittree("record", "HEAD", "--metric", "acc=0.62", "--note", "seed 2").code == 0
    repo.git("checkout", "-q", "main")
    repo.write("other.txt", "unrelated\n")
    repo.git("add", "other.txt")
    repo.git("commit", "-q", "-m", "unrelated work")
    repo.git("rebase", "-q", "main", "idea")
    rebased = repo.head()
    node = nodes(gittree)[rebased]
    assert node["subject"] == "idea" and node["metrics"]["acc"]["samples"] == [0.6, 0.62]
    assert node["notes"] == ["seed 2"]


@pytest.mark.slow
def test_records_made_at_once_are_all_kept(repo: GitRepo) -> None:
    """Regression: `git notes append` moves the notes ref without checking it, so of sixteen seeds
    recording at once only about three notes were left, and no process said so."""
    seeded = repo.experiment("seeded", metrics=[("acc", 0.5)])
    others = [repo.experiment(f"other {i}", metrics=[("acc", 0.4)]) for i in range(4)]
    jobs = [(seeded, f"acc=0.{10 + i}") for i in range(12)] + [(sha, "acc=0.9") for sha in others]
    recorders = [
        subprocess.Popen(
            [str(GITTREE), "record", sha, "--metric", metric],
            cwd=repo.path,
            stderr=subprocess.PIPE,
            text=True,
        )
        for sha, metric in jobs
    ]
    for recorder in recorders:
        _, err = recorder.communicate(timeout=120)
        assert recorder.returncode == 0, err

    def metric_lines(sha: str) -> list[str]:
        note = repo.git("notes", "--ref", "refs/notes/gittree", "show", sha)
        return sorted(line for line in note.splitlines() if line.startswith("Gittree-Metric: "))

    assert metric_lines(seeded) == sorted(f"Gittree-Metric: {metric}" for _, metric in jobs[:12])
    for sha in others:
        assert metric_lines(sha) == ["Gittree-Metric: acc=0.9"]
    assert repo.git("fsck", "--no-progress", "--no-dangling").strip() == ""


def test_a_note_in_a_fanned_out_notes_tree_is_appended_in_place(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """git moves notes into two-digit folders once there are many; appending must find the note there
    and extend it, not write a second note for the same commit beside it."""
    sha = repo.experiment("fanned", metrics=[("acc", 0.5)])
    blob = repo.git("hash-object", "-w", "--stdin", input="Gittree-Metric: acc=0.6\n").strip()
    tree = repo.git("mktree", input=f"100644 blob {blob}\t{sha[2:]}\n").strip()
    fanout = repo.git("mktree", input=f"040000 tree {tree}\t{sha[:2]}\n").strip()
    commit = repo.git("commit-tree", "-m", "notes", fanout).strip()
    repo.git("update-ref", "refs/notes/gittree", commit)
    assert gittree("record", sha, "--metric", "acc=0.7").code == 0
    listing = repo.git("ls-tree", "-r", "--name-only", "refs/notes/gittree").split()
    assert listing == [f"{sha[:2]}/{sha[2:]}"]
    assert nodes(gittree)[sha]["metrics"]["acc"]["samples"] == [0.5, 0.6, 0.7]


def test_status_is_accepted_in_any_letter_case_and_stored_lower_case(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """The format reads `Gittree-Status: Failed`; the commands that write a status take it too."""
    result = gittree("commit", "--allow-empty", "-m", "diverged", "--status", " Failed ")
    assert result.code == 0, result.err
    assert repo.git("log", "-1", "--format=%(trailers:key=Gittree-Status,valueonly)").strip() == "failed"
    sha = repo.git("rev-parse", "HEAD").strip()
    assert gittree("record", "HEAD", "--status", "OK").code == 0
    assert repo.git("notes", "--ref", "refs/notes/gittree", "show", sha).strip() == "Gittree-Status: ok"
    refused = gittree("record", "HEAD", "--status", "done")
    assert refused.code == 6 and "'done'" in refused.err and "ok, abandoned, failed, running" in refused.err


def test_a_revision_from_an_unborn_head_says_there_are_no_commits_yet(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    for rev in ("HEAD", "HEAD~1", "@"):
        result = gittree("record", rev, "--metric", "acc=0.5")
        assert result.code == 4, (rev, result.err)
        assert "no commits yet" in result.err
    repo.commit("first")
    assert gittree("record", "nosuch", "--metric", "acc=0.5").code == 10
    repo.git("checkout", "-q", "--orphan", "fresh")  # other branches have commits; HEAD's has none
    assert gittree("abandon", "HEAD", "--reason", "no").code == 4


def test_abandon_without_a_reason_asks_for_the_reason(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.commit("plain work")
    result = gittree("abandon", "HEAD", "--reason", "  ")
    assert result.code == 6 and "--reason" in result.err and "--note" not in result.err
    assert repo.git("notes", "--ref", "refs/notes/gittree", "list", check=False).strip() == ""
    assert sha
