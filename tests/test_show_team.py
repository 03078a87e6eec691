"""`gittree show` for a team: the author column, --author, --branch, remote-tracking branches (docs/tree.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GitRepo, check_expected
from tests.teamenv import Team, samples


def as_author(monkeypatch: pytest.MonkeyPatch, name: str, email: str) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", name)
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", email)


def team_history(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Ada's baseline and main line; Bob's and Chen's ideas branch off it."""
    as_author(monkeypatch, "Ada Lovelace", "ada@example.org")
    shas = {"base": repo.experiment("baseline", metrics=[("acc", 0.5)])}
    shas["lr"] = repo.experiment("lower lr", metrics=[("acc", 0.6)])
    as_author(monkeypatch, "Bob", "BOB@Lab.example")
    repo.branch("exp/bob", shas["lr"])
    shas["bob1"] = repo.experiment("bob: mixup", metrics=[("acc", 0.62)])
    shas["bob2"] = repo.experiment("bob: mixup 0.4", metrics=[("acc", 0.63)])
    as_author(monkeypatch, "陈静 Chen Jing-Wei Longname", "chen@example.org")
    repo.branch("exp/chen", shas["base"])
    shas["chen"] = repo.experiment("chen: bigger batch", metrics=[("acc", 0.55)])
    as_author(monkeypatch, "Ada Lovelace", "ada@example.org")
    repo.branch("main", shas["lr"])
    shas["ada"] = repo.experiment("warmup", metrics=[("acc", 0.61)])
    return shas


def test_the_author_column_appears_with_several_authors(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    team_history(repo, monkeypatch)
    result = gittree("show", "--all", "--color", "never")
    assert result.code == 0, result.err
    check_expected("show_team.txt", result.out)


def test_one_author_has_no_author_column(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    alone = gittree("show", "--color", "never")
    assert alone.code == 0, alone.err
    row = next(line for line in alone.out.splitlines() if base[:7] in line)
    assert row.split()[:3] == ["★", base[:7], "baseline"]  # the subject right after the sha
    assert "Ada Tester" not in alone.out
    as_author(monkeypatch, "Bob", "bob@example.org")
    repo.experiment("bob: mixup", metrics=[("acc", 0.6)])
    together = gittree("show", "--color", "never").out
    row = next(line for line in together.splitlines() if base[:7] in line)
    assert row.split()[:4] == ["●", base[:7], "Ada", "Tester"]  # a second author brings the column


def test_author_names_are_terminal_safe_and_cut(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    as_author(monkeypatch, "Eve\x1b]52;c;aGk=\x07Evil", "eve@example.org")
    repo.experiment("sneaky", metrics=[("acc", 0.6)])
    out = gittree("show", "--color", "never").out
    assert "\x1b" not in out and "\x07" not in out
    assert "Eve\\x1b]52;…" in out  # escaped, then cut to 12 cells


def test_author_filter_keeps_ancestors_as_context(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shas = team_history(repo, monkeypatch)
    result = gittree("show", "--all", "--author", "bob", "--color", "never")
    assert result.code == 0, result.err
    check_expected("show_author_bob.txt", result.out)
    data = json.loads(gittree("show", "--all", "--author", "lab.EXAMPLE", "--json").out)
    assert [n["sha"] for n in data["nodes"]] == [shas[k] for k in ("base", "lr", "bob1", "bob2")]
    # Verdicts stay those against the real parents.
    assert data["nodes"][2]["reference"] == shas["lr"]


def test_author_filter_without_a_match(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    team_history(repo, monkeypatch)
    result = gittree("show", "--all", "--author", "nobody")
    assert result.code == 5 and "nobody" in result.err


def test_branch_filter_reads_the_matching_branches(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shas = team_history(repo, monkeypatch)
    data = json.loads(gittree("show", "--branch", "exp/b*", "--json").out)
    assert [n["sha"] for n in data["nodes"]] == [shas[k] for k in ("base", "lr", "bob1", "bob2")]
    data = json.loads(gittree("show", "--branch", "exp/chen", "--branch", "main", "--json").out)
    assert {n["sha"] for n in data["nodes"]} == {shas[k] for k in ("base", "lr", "chen", "ada")}
    result = gittree("show", "--branch", "nope/*")
    assert result.code == 10 and "no branch matches 'nope/*'" in result.err


def test_branch_filter_sees_remote_tracking_branches(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ada, bob = team.clone("Ada"), team.clone("Bob")
    idea = ada.experiment("exp/ada-idea", "ada's idea", acc=0.6)
    ada.sync()
    bob.sync()
    for pattern in ("exp/ada-*", "origin/exp/*"):
        result = bob.gittree("show", "--branch", pattern, "--json")
        assert result.code == 0, result.err
        assert idea in {n["sha"] for n in json.loads(result.out)["nodes"]}


def test_the_same_experiment_through_two_remotes_appears_once(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ada, bob = team.clone("Ada"), team.clone("Bob")
    idea = ada.experiment("exp/idea", "the idea", acc=0.6)
    ada.sync()
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(team.remote), str(mirror)], check=True)
    bob.git("remote", "add", "mirror", str(mirror))
    bob.sync("origin")
    bob.sync("mirror")
    assert bob.rev("refs/remotes/origin/exp/idea") == bob.rev("refs/remotes/mirror/exp/idea") == idea
    data = bob.tree_json()
    assert [n["sha"] for n in data["nodes"]].count(idea) == 1
    assert samples(data) == {team.baseline: [0.5], idea: [0.6]}
    text = bob.gittree("show", "--all", "--color", "never").out
    assert text.count(idea[:7]) == 1
