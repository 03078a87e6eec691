"""`gittree demo`: a believable research history whose colours follow the rules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import check_expected


def test_demo_builds_and_shows_its_tree(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "demo"
    result = gittree("demo", str(target), "--color", "never")
    assert result.code == 0, result.err
    check_expected("demo.txt", result.out.replace(str(target), "<DIR>"))

    monkeypatch.chdir(target)
    data = json.loads(gittree("show", "--all", "--json").out)
    nodes = data["nodes"]
    verdicts = {n["verdict"] for n in nodes}
    assert len(nodes) >= 25
    assert verdicts == {"baseline", "better", "negligible", "worse", "abandoned", "failed", "discarded"}
    assert sum(n["status"] == "abandoned" for n in nodes) == 2
    assert all(n["notes"] for n in nodes if n["status"] == "abandoned")
    assert any(len(n["parents"]) == 2 for n in nodes)  # the crossover
    assert any(n["metrics"].get("acc", {}).get("n", 0) >= 3 for n in nodes)  # repeated seeds
    assert any(n["folded"] for n in nodes)  # ordinary commits in between
    best = next(n for n in nodes if n["best"])
    assert best["subject"] == "weight decay wd=0.1"
    # the colours follow the rules: every "better" improves on its reference, every "worse" loses
    by_sha = {n["sha"]: n for n in nodes}
    for n in nodes:
        if n["verdict"] in ("better", "worse") and n["reference"]:
            mine, theirs = n["metrics"]["acc"]["mean"], by_sha[n["reference"]]["metrics"]["acc"]["mean"]
            assert (mine > theirs) == (n["verdict"] == "better")


def test_the_demos_last_chapter_is_run_by_gittrees_own_run_and_sweep_code(
    tmp_path: Path, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "demo"
    assert gittree("demo", str(target)).code == 0
    monkeypatch.chdir(target)
    nodes = {n["subject"]: n for n in json.loads(gittree("show", "--all", "--json").out)["nodes"]}
    # gittree run --seeds 0,1,2: one experiment, a sample per seed, the seeds' run facts from the journal
    seeds = nodes["random erasing (p=0.25)"]
    assert seeds["head"] and seeds["metrics"]["acc"]["samples"] == [0.8803, 0.8824, 0.8818]
    assert seeds["run"]["cmd"] == "python3 score.py --seed '{seed}'"
    assert [key for key in seeds["run"] if key.startswith("seed.")] == ["seed.0", "seed.1", "seed.2"]
    # reset away with git reset --hard: kept by the keep ref, drawn as a discarded dead end
    cutout = nodes["cutout on top of random erasing"]
    assert cutout["verdict"] == "discarded" and cutout["parents"] == [seeds["sha"]]
    main = subprocess.run(["git", "branch", "--contains", cutout["sha"]], capture_output=True, text=True)
    assert main.stdout == ""
    # gittree sweep --grid wd=0.05,0.1,0.3: three siblings off the seeds' experiment, on sweep/wd/...
    points = [nodes[f"weight decay wd={wd}"] for wd in ("0.05", "0.1", "0.3")]
    assert all(p["parents"] == [seeds["sha"]] for p in points)
    assert [p["params"] for p in points] == [{"wd": "0.05"}, {"wd": "0.1"}, {"wd": "0.3"}]
    branches = subprocess.run(["git", "branch", "--list", "sweep/*"], capture_output=True, text=True).stdout
    assert branches.split() == ["sweep/wd/wd=0.05", "sweep/wd/wd=0.1", "sweep/wd/wd=0.3"]
    # the runs' own journal entries stay with the repository, committed
    runs = gittree("runs").out
    assert runs.count("committed") >= 6, runs


def test_demo_is_reproducible(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("demo", str(tmp_path / "a")).code == 0
    assert gittree("demo", str(tmp_path / "b")).code == 0
    heads = [
        subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path / d, capture_output=True, text=True).stdout
        for d in ("a", "b")
    ]
    assert heads[0] == heads[1]
    kept = [  # the runs, the sweep and the keep ref too: every run's facts are pinned to the demo's clock
        subprocess.run(
            ["git", "for-each-ref", "--format=%(objectname) %(refname)"],
            cwd=tmp_path / d,
            capture_output=True,
            text=True,
        ).stdout
        for d in ("a", "b")
    ]
    assert kept[0] == kept[1] and "refs/gittree/keep" in kept[0]


def test_demo_refuses_a_non_empty_folder(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("mine")
    result = gittree("demo", str(tmp_path / "x"))
    assert result.code == 1 and "not empty" in result.err


def test_demo_without_a_folder_uses_a_new_temporary_one(gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = gittree("demo", "--color", "never")
    assert result.code == 0
    assert f"{tmp_path}/gittree-demo-" in result.out.splitlines()[0]


def test_demo_identity_ignores_the_users_git_variables(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Someone Else")
    assert gittree("demo", str(tmp_path / "d")).code == 0
    authors = subprocess.run(
        ["git", "log", "--all", "--format=%an <%ae>|%cn"], cwd=tmp_path / "d", capture_output=True, text=True
    ).stdout.split("\n")
    assert set(filter(None, authors)) == {"Ada Researcher <ada@example.org>|Ada Researcher"}


def test_the_agent_demo_imports_its_loop_and_draws_dead_ends_beside_the_kept_line(
    tmp_path: Path, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "agent"
    result = gittree("demo", "--agent", str(target), "--color", "never")
    assert result.code == 0, result.err
    check_expected("demo_agent.txt", result.out.replace(str(target), "<DIR>"))
    monkeypatch.chdir(target)
    data = json.loads(gittree("show", "--all", "--json").out)
    assert data["metric"] == "val_bpb" and data["goal"] == "min"
    nodes = data["nodes"]
    assert len(nodes) == 13
    by_sha = {n["sha"]: n for n in nodes}
    for n in nodes:  # dead ends are leaves; every experiment hangs off a kept one
        assert all(not by_sha[p]["status"] for p in n["parents"])
    assert by_sha[data["best"]]["subject"] == "longer cooldown (30%)"
    # the same loop gives the same repository
    again = gittree("demo", "--agent", str(tmp_path / "again"), "--color", "never")
    assert again.out.replace(str(tmp_path / "again"), "<DIR>") == result.out.replace(str(target), "<DIR>")
