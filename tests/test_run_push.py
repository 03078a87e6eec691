"""`gittree run --branch sweep/NAME --push`: a finished run travels to the team's remote (docs/cluster.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.teamenv import Team, samples

SCRIPT = "print('acc: 0.75')"


@pytest.fixture
def team(tmp_path: Path, gittree) -> Team:  # type: ignore[no-untyped-def]
    return Team(tmp_path, gittree)


def run_args(branch: str, *extra: str) -> list[str]:
    return ["run", "--branch", branch, *extra, "--capture", "acc", "--", sys.executable, "-c", SCRIPT]


def test_push_sends_the_runs_branch_and_another_clone_sees_it(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    result = ada.gittree(*run_args("sweep/lr-1", "--push"))
    assert result.code == 0, result.err
    assert "pushed sweep/lr-1" in result.err + result.out
    sha = ada.rev("sweep/lr-1")
    assert team.remote_refs()["refs/heads/sweep/lr-1"] == sha
    assert bob.sync().code == 0
    assert samples(bob.tree_json())[sha] == [0.75]


def test_push_outside_the_namespace_is_refused_before_the_run(team: Team, tmp_path: Path) -> None:
    ada = team.clone("Ada")
    marker = tmp_path / "ran"
    args = ["run", "--branch", "mine", "--push", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    result = ada.gittree(*args)
    assert result.code == 6 and "sync.branches" in result.err
    assert not marker.exists()  # refused up front: the command never ran
    result = ada.gittree("run", "--push", "--", sys.executable, "-c", "pass")
    assert result.code == 6 and "--push needs --branch" in result.err


def test_push_to_an_unknown_remote_is_refused_before_the_run(team: Team, tmp_path: Path) -> None:
    ada = team.clone("Ada")
    marker = tmp_path / "ran"
    script = f"open({str(marker)!r}, 'w')"
    result = ada.gittree(
        "run", "--branch", "sweep/x", "--push", "--remote", "nosuch", "--", sys.executable, "-c", script
    )
    assert result.code == 14 and "no remote named 'nosuch'" in result.err and "origin" in result.err
    assert not marker.exists()  # the typo is found before the command runs, not after


def test_a_failed_push_leaves_the_commit_and_says_how_to_retry(team: Team) -> None:
    ada = team.clone("Ada")
    ada.git("remote", "set-url", "origin", str(team.root / "gone.git"))
    result = ada.gittree(*run_args("sweep/lr-2", "--push"))
    assert result.code == 14
    assert "committed on sweep/lr-2 here" in result.err and "gittree sync origin" in result.err
    assert samples(ada.tree_json())[ada.rev("sweep/lr-2")] == [0.75]
