"""`gittree sync` with real remotes: a bare repository and clones in temporary folders (docs/teams.md)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gittree import gitio
from gittree.errors import RemoteError
from gittree.sync import BACKOFF_CAP_SECONDS, SyncStep, notes_tracking_ref, push_branch_and_notes, sync
from tests.teamenv import Team, samples, sync_in_order


@pytest.fixture
def team(tmp_path: Path, gittree) -> Team:  # type: ignore[no-untyped-def]
    return Team(tmp_path, gittree)


def note_text(clone, sha: str) -> str:  # type: ignore[no-untyped-def]
    return str(clone.git("notes", "--ref", "gittree", "show", sha))


# -- what travels ----------------------------------------------------------------------------------


def test_sync_pushes_experiment_branches_and_notes_and_another_clone_sees_them(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    wide = ada.experiment("exp/wide", "wider layers", acc=0.61)
    ada.note(team.baseline, "Gittree-Metric: acc=0.52")

    out = ada.sync().out
    assert "pushed exp/wide, notes" in out
    remote = team.remote_refs()
    assert remote["refs/heads/exp/wide"] == wide
    assert "refs/notes/gittree" in remote

    out = bob.sync().out
    assert "received 1 note" in out
    data = bob.tree_json()
    assert samples(data)[wide] == [0.61]
    assert samples(data)[team.baseline] == [0.5, 0.52]


def test_branches_outside_the_namespace_stay_local(team: Team) -> None:
    ada = team.clone("Ada")
    ada.experiment("scratch/try", "private idea", acc=0.3)
    ada.experiment("exp/shared", "shared idea", acc=0.6)
    ada.sync()
    assert "refs/heads/scratch/try" not in team.remote_refs()
    assert "refs/heads/exp/shared" in team.remote_refs()


def test_sync_branches_setting_chooses_the_namespace(team: Team) -> None:
    ada = team.clone("Ada")
    (ada.path / ".gittree.yaml").write_text("sync:\n  branches: ['research/*']\n", encoding="utf-8")
    ada.experiment("research/idea", "idea", acc=0.6)
    ada.experiment("exp/other", "not shared now", acc=0.6)
    ada.sync()
    remote = team.remote_refs()
    assert "refs/heads/research/idea" in remote and "refs/heads/exp/other" not in remote


def test_a_bad_sync_setting_is_a_config_error(team: Team) -> None:
    ada = team.clone("Ada")
    (ada.path / ".gittree.yaml").write_text("sync:\n  branches: ['a*b*']\n", encoding="utf-8")
    result = ada.gittree("sync")
    assert result.code == 9 and "more than one *" in result.err


def test_nothing_to_push_when_the_remote_has_it_all(team: Team) -> None:
    ada = team.clone("Ada")
    ada.experiment("exp/a", "a", acc=0.6)
    ada.sync()
    assert "nothing to push" in ada.sync().out


def test_gittree_refs_travel_and_are_adopted(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    kept = ada.experiment("exp/dead", "dead end kept alive", acc=0.1)
    ada.git("update-ref", "refs/gittree/saved/dead", kept)
    ada.git("switch", "-q", "main")
    ada.git("branch", "-q", "-D", "exp/dead")
    ada.sync()
    assert team.remote_refs()["refs/gittree/saved/dead"] == kept
    # with the keep ref, which holds the baseline Ada committed with gittree
    assert "received refs/gittree/keep, refs/gittree/saved/dead" in bob.sync().out
    assert bob.rev("refs/gittree/saved/dead") == kept
    assert kept in samples(bob.tree_json())


# -- notes are merged, never overwritten -----------------------------------------------------------


def test_notes_appended_to_one_commit_in_two_clones_are_both_kept(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.51", "Gittree-Note: seed 2 by Ada")
    bob.note(team.baseline, "Gittree-Metric: acc=0.53", "Gittree-Note: seed 3 by Bob")
    sync_in_order([ada, bob, ada])
    for clone in (ada, bob):
        node = next(n for n in clone.tree_json()["nodes"] if n["sha"] == team.baseline)
        assert sorted(node["metrics"]["acc"]["samples"]) == [0.5, 0.51, 0.53]
        assert sorted(node["notes"]) == ["seed 2 by Ada", "seed 3 by Bob"]
    assert note_text(ada, team.baseline) == note_text(bob, team.baseline)


def test_the_same_result_recorded_twice_stays_two_samples(team: Team) -> None:
    # Two seeds that happen to give the same value are two samples; a line-level union would keep one.
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    bob.note(team.baseline, "Gittree-Metric: acc=0.51")
    sync_in_order([ada, bob, ada])
    for clone in (ada, bob):
        assert samples(clone.tree_json())[team.baseline] == [0.5, 0.51, 0.51]


def test_shared_paragraphs_are_not_doubled_by_later_merges(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    sync_in_order([ada, bob])
    ada.note(team.baseline, "Gittree-Metric: acc=0.52")
    bob.note(team.baseline, "Gittree-Metric: acc=0.53")
    sync_in_order([ada, bob, ada])
    assert samples(ada.tree_json())[team.baseline] == [0.5, 0.51, 0.52, 0.53]
    assert samples(bob.tree_json())[team.baseline] == [0.5, 0.51, 0.52, 0.53]


def test_a_later_status_still_wins_after_a_merge(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Status: running")
    sync_in_order([ada, bob])
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    bob.note(team.baseline, "Gittree-Status: abandoned", "Gittree-Note: diverged at step 900")
    sync_in_order([ada, bob, ada])
    node = next(n for n in ada.tree_json()["nodes"] if n["sha"] == team.baseline)
    assert node["status"] == "abandoned"


def test_a_forced_fetch_never_clobbers_unpushed_local_notes(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    ada.sync()
    # Bob rewrites the remote's notes with a history that does not contain Ada's (a forced push) ...
    bob.note(team.baseline, "Gittree-Metric: acc=0.9")
    bob.git("push", "-q", "--force", "origin", "refs/notes/gittree")
    # ... while Ada has a note she has not pushed yet.
    ada.note(team.baseline, "Gittree-Metric: acc=0.52")
    before = ada.rev("refs/notes/gittree")
    ada.sync()
    ada.git("merge-base", "--is-ancestor", before, "refs/notes/gittree")  # fails unless kept
    assert samples(ada.tree_json())[team.baseline] == [0.5, 0.51, 0.52, 0.9]
    bob.sync()
    assert samples(bob.tree_json())[team.baseline] == [0.5, 0.51, 0.52, 0.9]


def test_remote_notes_land_in_a_private_ref_first(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    ada.sync()
    bob.sync()
    assert bob.rev(notes_tracking_ref("origin")) == team.remote_refs()["refs/notes/gittree"]


# -- branches that moved on both sides --------------------------------------------------------------


def test_a_diverged_branch_is_reported_and_neither_side_changes(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.experiment("exp/shared", "first idea", acc=0.6)
    ada.sync()
    bob.sync()
    bob.git("switch", "-q", "-c", "exp/shared", "origin/exp/shared")
    theirs = bob.experiment("exp/shared", "Bob's follow-up", acc=0.62)
    bob.sync()
    mine = ada.experiment("exp/shared", "Ada's follow-up", acc=0.63)
    ada.experiment("exp/other", "independent", acc=0.55)
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")

    result = ada.gittree("sync")
    assert result.code == 14
    assert "exp/shared has moved both here and on 'origin'" in result.err
    assert "git switch exp/shared && git merge origin/exp/shared" in result.err
    assert "pushed exp/other, notes" in result.out  # everything else was shared
    assert ada.rev("exp/shared") == mine
    assert team.remote_refs()["refs/heads/exp/shared"] == theirs
    # Both versions are in Ada's tree: hers locally, Bob's as origin/exp/shared.
    shas = samples(ada.tree_json())
    assert mine in shas and theirs in shas


def test_a_branch_behind_the_remote_is_left_alone(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    old = ada.experiment("exp/shared", "first", acc=0.6)
    ada.sync()
    bob.sync()
    bob.git("switch", "-q", "-c", "exp/shared", "origin/exp/shared")
    new = bob.experiment("exp/shared", "second", acc=0.7)
    bob.sync()
    out = ada.sync().out
    assert "origin is ahead on exp/shared" in out
    assert ada.rev("exp/shared") == old and ada.rev("origin/exp/shared") == new


# -- races ------------------------------------------------------------------------------------------


def test_a_push_that_loses_a_race_fetches_merges_and_retries(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    bob.note(team.baseline, "Gittree-Metric: acc=0.52")
    steps: list[SyncStep] = []

    def bob_pushes_first(step: SyncStep) -> None:
        steps.append(step)
        if step.kind == "push" and step.attempt == 1:
            bob.sync()  # between Ada's fetch and her push

    with ada.identity():
        report = sync(gitio.open_repo(ada.path), on_step=bob_pushes_first, sleep=lambda seconds: None)
    assert report.attempts == 2
    assert [s.kind for s in steps] == ["fetch", "push", "retry", "fetch", "push"]
    assert "stale info" in steps[2].detail or "fetch first" in steps[2].detail
    sync_in_order([bob])
    for clone in (ada, bob):
        assert samples(clone.tree_json())[team.baseline] == [0.5, 0.51, 0.52]


def test_retries_are_bounded(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    waits: list[float] = []

    def someone_always_pushes_first(step: SyncStep) -> None:
        if step.kind == "push":
            bob.note(team.baseline, f"Gittree-Note: push {step.attempt}")
            bob.sync()

    with ada.identity(), pytest.raises(RemoteError, match="gave up after 3 attempts"):
        sync(gitio.open_repo(ada.path), attempts=3, on_step=someone_always_pushes_first, sleep=waits.append)
    assert len(waits) == 2 and waits[0] <= waits[1] <= BACKOFF_CAP_SECONDS  # grows, with a cap
    assert "0.51" in note_text(ada, team.baseline)  # Ada's note is intact


# -- failures leave local work intact ----------------------------------------------------------------


def install_hook(bare: Path, name: str, script: str) -> None:
    hook = bare / "hooks" / name
    hook.write_text("#!/bin/sh\n" + script, encoding="utf-8", newline="\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_a_remote_that_rejects_the_push(team: Team) -> None:
    ada = team.clone("Ada")
    ada.experiment("exp/a", "idea", acc=0.6)
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    install_hook(team.remote, "pre-receive", 'echo "pushes are frozen for the release" >&2\nexit 1\n')
    remote_before, local_before = team.remote_refs(), ada.refs()

    result = ada.gittree("sync")
    assert result.code == 14
    assert "refused" in result.err and "pre-receive hook declined" in result.err
    assert "pushes are frozen for the release" in result.err
    assert "hint:" in result.err
    assert team.remote_refs() == remote_before
    assert ada.refs() == local_before


def test_an_unreachable_remote(team: Team, tmp_path: Path) -> None:
    ada = team.clone("Ada")
    ada.experiment("exp/a", "idea", acc=0.6)
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    ada.git("remote", "set-url", "origin", str(tmp_path / "gone.git"))
    before = ada.refs()
    result = ada.gittree("sync")
    assert result.code == 14
    assert "cannot fetch from 'origin'" in result.err and "nothing local was changed" in result.err
    assert ada.refs() == before


def test_an_unknown_remote_and_no_remote(team: Team) -> None:
    ada = team.clone("Ada")
    result = ada.gittree("sync", "upstream")
    assert result.code == 14 and "no remote named 'upstream'" in result.err
    ada.git("remote", "remove", "origin")
    result = ada.gittree("sync")
    assert result.code == 14 and "git remote add" in result.err


def test_the_default_remote_is_the_branch_upstream(team: Team) -> None:
    ada = team.clone("Ada")
    ada.git("remote", "rename", "origin", "lab")
    ada.git("remote", "add", "mirror", str(team.remote))
    ada.experiment("exp/a", "idea", start="lab/main", acc=0.6)  # exp/a tracks lab/main
    assert "synced with lab" in ada.sync().out


def test_a_shallow_clone_syncs(team: Team) -> None:
    ada = team.clone("Ada")
    for i in range(3):
        ada.experiment("exp/deep", f"step {i}", acc=0.6 + i / 100)
    ada.sync()
    ada.git("switch", "-q", "main")
    ada.git("merge", "-q", "--ff-only", "exp/deep")
    ada.git("push", "-q", "origin", "main")

    shallow = team.clone("Shallow", depth=1)
    assert (shallow.path / ".git" / "shallow").exists()
    shallow.note(shallow.rev("HEAD"), "Gittree-Metric: acc=0.64")
    mine = shallow.experiment("exp/shallow", "from a shallow clone", acc=0.7)
    out = shallow.sync().out
    assert "exp/shallow" in out and "notes" in out
    data = shallow.tree_json()
    assert any(node["cut"] for node in data["nodes"])  # the history stays cut, and says so
    ada.sync()
    found = samples(ada.tree_json())
    assert found[mine] == [0.7]
    assert found[ada.rev("exp/deep")] == [0.62, 0.64]


# -- push_branch_and_notes: what `gittree run --push` does --------------------------------------------


def test_push_branch_and_notes_shares_one_branch_and_the_notes(team: Team) -> None:
    ada = team.clone("Ada")
    run = ada.experiment("sweep/lr-3e-4", "lr 3e-4", acc=0.66)
    ada.experiment("exp/unrelated", "not pushed by a run", acc=0.1)
    ada.note(run, "Gittree-Note: ran on node 7")
    with ada.identity():
        report = push_branch_and_notes(gitio.open_repo(ada.path), None, "sweep/lr-3e-4")
    assert sorted(report.pushed) == ["refs/heads/sweep/lr-3e-4", "refs/notes/gittree"]
    remote = team.remote_refs()
    assert remote["refs/heads/sweep/lr-3e-4"] == run and "refs/heads/exp/unrelated" not in remote


def test_push_branch_and_notes_refuses_a_missing_or_diverged_branch(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    with ada.identity(), pytest.raises(Exception, match="no branch 'sweep/x'"):
        push_branch_and_notes(gitio.open_repo(ada.path), None, "sweep/x")
    ada.experiment("sweep/x", "ada's run", acc=0.5)
    bob.experiment("sweep/x", "bob's run", acc=0.6)
    bob.sync()
    with ada.identity(), pytest.raises(RemoteError, match="sweep/x"):
        push_branch_and_notes(gitio.open_repo(ada.path), None, "sweep/x")


# -- plain git fetch / push after `gittree sync --configure` ---------------------------------------


def test_configure_is_idempotent_and_plain_git_carries_the_research_tree(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    first = ada.gittree("sync", "--configure")
    assert first.code == 0 and "git config --add remote.origin.push refs/notes/gittree" in first.out
    config_before = (ada.path / ".git" / "config").read_text()
    second = ada.gittree("sync", "--configure")
    assert second.code == 0 and "nothing to change" in second.out
    assert (ada.path / ".git" / "config").read_text() == config_before

    wide = ada.experiment("exp/wide", "wider", acc=0.6)
    ada.note(wide, "Gittree-Metric: acc=0.61")
    ada.git("push", "-q")  # plain git push: the current branch, exp/*, notes, refs/gittree/*
    remote = team.remote_refs()
    assert remote["refs/heads/exp/wide"] == wide and "refs/notes/gittree" in remote

    assert bob.gittree("sync", "--configure").code == 0
    bob.note(team.baseline, "Gittree-Metric: acc=0.52")
    local_notes = bob.rev("refs/notes/gittree")
    bob.git("fetch", "-q")  # plain git fetch: the remote's notes go to a private ref ...
    assert bob.rev("refs/notes/gittree") == local_notes  # ... never over Bob's own
    assert bob.rev(notes_tracking_ref("origin")) == remote["refs/notes/gittree"]
    bob.sync()  # merges them
    assert samples(bob.tree_json())[wide] == [0.6, 0.61]


def test_plain_git_push_never_overwrites_remote_notes(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    for clone in (ada, bob):
        assert clone.gittree("sync", "--configure").code == 0
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    ada.git("push", "-q")
    bob.note(team.baseline, "Gittree-Metric: acc=0.52")
    bob.git("push", "-q", check=False)  # rejected: not a fast-forward
    assert team.remote_refs()["refs/notes/gittree"] == ada.rev("refs/notes/gittree")


def test_sync_help_names_the_namespace_and_configure(gittree) -> None:  # type: ignore[no-untyped-def]
    out = gittree("sync", "--help").out
    assert "exp/*" in out and "--configure" in out


def test_sync_outside_a_repository(gittree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert gittree("sync").code == 3


def test_tags_are_left_alone(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    theirs = bob.experiment("exp/b", "bob's idea", acc=0.6)
    bob.git("tag", "-a", "-m", "release", "v1", theirs)
    bob.git("tag", "-a", "-m", "release", "v2", theirs)
    bob.git("push", "-q", "origin", "exp/b", "v1", "v2")
    mine = ada.experiment("exp/a", "idea", acc=0.6)
    ada.git("tag", "-a", "-m", "my own v1", "v1", mine)  # the same name, another commit
    ada.sync()
    assert ada.rev("v1^{commit}") == mine
    assert ada.rev("origin/exp/b") == theirs
    assert ada.git("tag", "--list", "v2") == ""  # tags travel with git push/fetch, not with sync
    assert team.remote_refs()["refs/heads/exp/a"] == mine
