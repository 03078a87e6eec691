"""Plain git after `gittree sync --configure` whatever refs exist, and ref names that clash (docs/teams.md).

Real clones of a real bare remote (tests/teamenv.py); every git command is the real one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gittree import gitio
from gittree.errors import RemoteError
from gittree.sync import SyncStep, clashing_ref, notes_tracking_ref, sync
from tests.teamenv import Clone, Team, samples


@pytest.fixture
def team(tmp_path: Path, gittree) -> Team:  # type: ignore[no-untyped-def]
    return Team(tmp_path, gittree)


def configure(clone: Clone) -> str:
    result = clone.gittree("sync", "--configure")
    assert result.code == 0, result.err
    return result.out


def config_lines(clone: Clone, key: str) -> list[str]:
    return clone.git("config", "--get-all", key, check=False).splitlines()


def git_error(clone: Clone, *args: str) -> str:
    """The stderr of a git command that must fail in ``clone``."""
    done = subprocess.run(
        ["git", *args], cwd=clone.path, capture_output=True, text=True, env=clone.process_env()
    )
    assert done.returncode != 0, f"git {' '.join(args)} succeeded"
    return done.stderr


def never_sleep(seconds: float) -> None:
    raise AssertionError(f"sync waited {seconds:.1f}s to retry: it took a name clash for a busy ref")


# -- plain git fetch / pull / push after --configure, whatever exists -----------------------------


def test_plain_git_fetch_pull_and_push_work_before_anyone_has_notes(team: Team) -> None:
    ada = team.clone("Ada")
    configure(ada)
    assert "refs/notes/gittree" not in team.remote_refs() and "refs/notes/gittree" not in ada.refs()
    ada.git("fetch", "-q")  # was: fatal: couldn't find remote ref refs/notes/gittree
    ada.git("pull", "-q")
    ada.git("commit", "-q", "--allow-empty", "-m", "two")
    ada.git("push", "-q")  # was: error: src refspec refs/notes/gittree does not match any
    assert team.remote_refs()["refs/heads/main"] == ada.rev("main")  # still the current branch


def test_notes_recorded_later_travel_with_plain_git_push_and_fetch(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    for clone in (ada, bob):
        configure(clone)  # before any notes exist, here or on the remote
    wide = ada.experiment("exp/wide", "wider", acc=0.6)
    ada.note(wide, "Gittree-Metric: acc=0.61")
    ada.git("push", "-q")
    remote = team.remote_refs()
    assert remote["refs/heads/exp/wide"] == wide and remote["refs/notes/gittree"] == ada.rev(
        "refs/notes/gittree"
    )

    bob.git("fetch", "-q")  # Bob has no notes of his own yet
    assert bob.rev(notes_tracking_ref("origin")) == remote["refs/notes/gittree"]
    assert "refs/notes/gittree" not in bob.refs()  # the remote's notes wait in the private ref ...
    bob.experiment("exp/deep", "deeper", acc=0.62)
    bob.git("push", "-q")  # ... and plain git push works without local notes
    bob.sync()  # merges them in
    bob.note(wide, "Gittree-Metric: acc=0.63")
    bob.git("push", "-q")  # a fast-forward of the notes
    assert team.remote_refs()["refs/notes/gittree"] == bob.rev("refs/notes/gittree")
    assert not any(ref.startswith("refs/notes/gittree-remote/") for ref in team.remote_refs())  # private

    ada.git("fetch", "-q")
    assert ada.rev(notes_tracking_ref("origin")) == bob.rev("refs/notes/gittree")
    ada.sync()
    assert samples(ada.tree_json())[wide] == [0.6, 0.61, 0.63]


def test_plain_git_fetch_prune_keeps_another_remotes_copy_of_the_notes(team: Team) -> None:
    # origin2's copy is refs/notes/gittree-remote/origin2: a pattern ending in "origin*" would prune it.
    ada = team.clone("Ada")
    second = team.root / "second.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(team.remote), str(second)], check=True)
    ada.git("remote", "add", "origin2", str(second))
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    ada.git("push", "-q", "origin2", "refs/notes/gittree")
    ada.git("update-ref", "-d", "refs/notes/gittree")
    for remote in ("origin", "origin2"):
        assert ada.gittree("sync", "--configure", remote).code == 0
    ada.git("fetch", "-q", "origin2")
    copy = ada.rev(notes_tracking_ref("origin2"))
    ada.git("fetch", "-q", "--prune", "origin")  # origin has no notes
    assert ada.rev(notes_tracking_ref("origin2")) == copy


def test_an_exact_branch_in_sync_branches_need_not_exist_on_either_side(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    for clone in (ada, bob):
        (clone.path / ".gittree.yaml").write_text("sync:\n  branches: [exp/*, results]\n", encoding="utf-8")
        configure(clone)
    ada.git("fetch", "-q")  # the remote has no branch 'results'
    ada.git("push", "-q")  # nor has Ada
    ada.git("branch", "results", "main")
    for near_miss in ("results-old", "old/results"):  # what a looser pattern would also push
        ada.git("branch", near_miss, "main")
    ada.git("push", "-q")
    remote = team.remote_refs()
    assert remote["refs/heads/results"] == ada.rev("results")
    assert "refs/heads/results-old" not in remote and "refs/heads/old/results" not in remote
    bob.git("fetch", "-q")
    assert bob.rev("refs/remotes/origin/results") == ada.rev("results")


def test_configure_in_a_single_branch_clone_fetches_what_sync_shares(team: Team) -> None:
    ada = team.clone("Ada")
    ada.experiment("exp/a", "a", acc=0.6)
    ada.sync()
    cy = team.clone("Cy", depth=1)  # fetches only main, as git clone --depth writes it
    configure(cy)
    cy.git("fetch", "-q")
    assert cy.rev("refs/remotes/origin/exp/a") == ada.rev("exp/a")
    assert config_lines(cy, "remote.origin.fetch")[0] == "+refs/heads/main:refs/remotes/origin/main"


# The refspecs `gittree sync --configure` wrote before it wrote patterns (sync.branches [exp/*, main]).
OLD_FETCH = (
    "+refs/heads/exp/*:refs/remotes/origin/exp/*",
    "+refs/heads/main:refs/remotes/origin/main",
    "+refs/notes/gittree:refs/notes/gittree-remote/origin",
    "+refs/gittree/*:refs/gittree-remote/origin/*",
)
OLD_PUSH = (
    "HEAD",
    "refs/heads/exp/*:refs/heads/exp/*",
    "refs/heads/main:refs/heads/main",
    "refs/notes/gittree:refs/notes/gittree",
    "refs/gittree/*:refs/gittree/*",
)


def test_configure_again_replaces_the_exact_refspecs_older_versions_wrote(team: Team) -> None:
    ada, cy = team.clone("Ada"), team.clone("Cy", depth=1)
    for clone in (ada, cy):
        (clone.path / ".gittree.yaml").write_text("sync:\n  branches: [exp/*, main]\n", encoding="utf-8")
        for key, values in (("remote.origin.fetch", OLD_FETCH), ("remote.origin.push", OLD_PUSH)):
            for value in values:
                if value not in config_lines(clone, key):
                    clone.git("config", "--add", key, value)
        assert "couldn't find remote ref refs/notes/gittree" in git_error(clone, "fetch")  # the bug

        out = configure(clone)
        assert "refs/notes/*gittree" in out
        assert "git config --unset remote.origin.push refs/notes/gittree:refs/notes/gittree" in out
        fetch, push = config_lines(clone, "remote.origin.fetch"), config_lines(clone, "remote.origin.push")
        assert "+refs/notes/gittree:refs/notes/gittree-remote/origin" not in fetch
        assert "refs/notes/gittree:refs/notes/gittree" not in push
        assert "refs/heads/main:refs/heads/main" not in push
        assert "+refs/notes/*gittree:refs/notes/*gittree-remote/origin" in fetch
        assert "refs/*heads/main:refs/*heads/main" in push and "^refs/notes/gittree-remote/*" in push
        assert configure(clone).endswith("nothing to change\n")  # idempotent once more
        clone.git("fetch", "-q")
        clone.git("push", "-q")
    # Ada's clone fetches every branch: the exact main line was ours. Cy's first line is git clone's own.
    assert "+refs/heads/main:refs/remotes/origin/main" not in config_lines(ada, "remote.origin.fetch")
    assert config_lines(cy, "remote.origin.fetch")[0] == "+refs/heads/main:refs/remotes/origin/main"


# -- ref names that clash: reported at once, never retried -----------------------------------------


def test_a_stale_remote_tracking_branch_in_the_way_is_reported_at_once(team: Team) -> None:
    ada = team.clone("Ada")
    ada.git("push", "-q", "origin", "main:exp")
    bob = team.clone("Bob")  # has origin/exp
    ada.git("push", "-q", "origin", ":exp")  # the team renamed exp to exp/a
    renamed = ada.experiment("exp/a", "a", acc=0.6)
    ada.sync()

    result = bob.gittree("sync")
    assert result.code == 14
    assert "fetching again" not in result.err and "kept changing" not in result.err
    assert "'refs/remotes/origin/exp' exists; cannot create 'refs/remotes/origin/exp/a'" in result.err
    assert "git branch -d -r origin/exp" in result.err and "git fetch --prune origin" in result.err
    with bob.identity(), pytest.raises(RemoteError):
        sync(gitio.open_repo(bob.path), sleep=never_sleep)

    bob.git("branch", "-q", "-d", "-r", "origin/exp")  # what the hint says
    bob.sync()
    assert renamed in samples(bob.tree_json())


def test_a_branch_the_remote_has_as_a_folder_is_reported_and_the_rest_synced(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    theirs = bob.experiment("exp/lr/a", "lr a", acc=0.6)
    bob.sync()
    mine = ada.experiment("exp/lr", "lr", acc=0.61)
    other = ada.experiment("exp/ok", "ok", acc=0.62)
    ada.note(team.baseline, "Gittree-Metric: acc=0.51")
    local_before = ada.refs()

    steps: list[SyncStep] = []
    with ada.identity(), pytest.raises(RemoteError) as caught:
        sync(gitio.open_repo(ada.path), on_step=steps.append, sleep=never_sleep)
    assert [step.kind for step in steps] == ["fetch", "push"]  # one push, no retry
    error = caught.value
    assert error.message.startswith("exp/lr was not pushed: 'origin' has exp/lr/a")
    assert "'refs/heads/exp/lr/a' exists; cannot create 'refs/heads/exp/lr'" in error.message
    assert "pushed exp/ok, notes" in error.message
    assert "git branch -m exp/lr exp/lr-2" in (error.hint or "")
    assert "git push origin --delete exp/lr/a" in (error.hint or "")
    remote = team.remote_refs()
    assert remote["refs/heads/exp/ok"] == other and remote["refs/heads/exp/lr/a"] == theirs
    assert "refs/heads/exp/lr" not in remote and "refs/notes/gittree" in remote
    assert {ref: sha for ref, sha in ada.refs().items() if ref.startswith("refs/heads/")} == {
        ref: sha for ref, sha in local_before.items() if ref.startswith("refs/heads/")
    }

    result = ada.gittree("sync")  # the command line: exit 14 at once, with the hint
    assert result.code == 14 and "fetching again" not in result.err and "hint: rename yours" in result.err
    ada.git("branch", "-m", "exp/lr", "exp/lr-2")
    ada.sync()
    assert team.remote_refs()["refs/heads/exp/lr-2"] == mine


def test_a_branch_inside_a_remote_branch_name_is_reported_at_once(team: Team) -> None:
    # The remote's 'exp' is outside sync.branches (exp/*), so sync never fetched it: only the remote knows.
    ada = team.clone("Ada")
    ada.git("push", "-q", "origin", "main:exp")
    mine = ada.experiment("exp/b", "b", acc=0.6)
    ada.git("update-ref", "-d", "refs/remotes/origin/exp")

    with ada.identity(), pytest.raises(RemoteError) as caught:
        sync(gitio.open_repo(ada.path), sleep=never_sleep)
    assert "'refs/heads/exp' exists; cannot create 'refs/heads/exp/b'" in caught.value.message
    assert "git push origin --delete exp" in (caught.value.hint or "")

    ada.git("push", "-q", "origin", "--delete", "exp")  # what the hint says
    ada.sync()
    assert team.remote_refs()["refs/heads/exp/b"] == mine


def test_a_ref_another_process_holds_locked_is_still_retried(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    theirs = bob.experiment("exp/x", "x", acc=0.6)
    bob.sync()
    mine = ada.experiment("exp/y", "y", acc=0.61)
    # A lock file as a concurrent git leaves it for a moment: here while fetching, there while pushing.
    fetch_lock = ada.path / ".git" / "refs" / "remotes" / "origin" / "exp" / "x.lock"
    push_lock = team.remote / "refs" / "heads" / "exp" / "y.lock"
    for lock in (fetch_lock, push_lock):
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text("")
    waits: list[float] = []

    def the_other_process_finishes(seconds: float) -> None:
        waits.append(seconds)
        (fetch_lock if fetch_lock.exists() else push_lock).unlink()

    with ada.identity():
        report = sync(gitio.open_repo(ada.path), sleep=the_other_process_finishes)
    assert report.attempts == 3 and len(waits) == 2  # the fetch, then the push, each waited once
    assert ada.rev("refs/remotes/origin/exp/x") == theirs
    assert team.remote_refs()["refs/heads/exp/y"] == mine


def test_clashing_ref_is_gits_folder_rule() -> None:
    names = ["refs/heads/exp", "refs/heads/expo/a", "refs/heads/exp-b", "refs/heads/lr/a/b"]
    assert clashing_ref("refs/heads/exp/a", names) == "refs/heads/exp"
    assert clashing_ref("refs/heads/lr", names) == "refs/heads/lr/a/b"
    assert clashing_ref("refs/heads/lr/a", names) == "refs/heads/lr/a/b"
    assert clashing_ref("refs/heads/expo", names) == "refs/heads/expo/a"
    assert clashing_ref("refs/heads/ex", names) is None and clashing_ref("refs/heads/exp-b/c", []) is None
    assert clashing_ref("refs/heads/exp", names) is None  # the same name is an update, not a clash
