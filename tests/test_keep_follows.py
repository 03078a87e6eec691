"""The keep ref follows rewrites and forgets travel (issue 16, point 3; docs/tree.md, docs/hooks.md,
docs/teams.md): real amends, rebases, worktrees, gc, and two clones syncing through a bare remote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittree import gitio, hooks
from tests.conftest import GitRepo
from tests.teamenv import Team


def kept(path: Path) -> list[str]:
    return gitio.kept_shas(gitio.open_repo(path))


def forgotten(path: Path) -> dict[str, str | None]:
    return gitio.forgotten_shas(gitio.open_repo(path))


def nodes(gittree, *args: str) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    result = gittree("show", "--json", "--all", *args)
    assert result.code == 0, result.err
    return {n["sha"]: n for n in json.loads(result.out)["nodes"]}


def commit(gittree, repo: GitRepo, subject: str, acc: float) -> str:  # type: ignore[no-untyped-def]
    result = gittree("commit", "--allow-empty", "-m", subject, "--metric", f"acc={acc}")
    assert result.code == 0, result.err
    return repo.head()


def amend(path: Path, message: str) -> subprocess.CompletedProcess[str]:
    """A plain `git commit --amend`, as a user types it (git runs the post-rewrite hook)."""
    return subprocess.run(
        ["git", "commit", "-q", "--amend", "--allow-empty", "-F", "-"],
        cwd=path,
        input=message,
        capture_output=True,
        text=True,
    )


def collect_garbage(repo: GitRepo) -> None:
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")


def test_the_post_rewrite_hook_makes_the_keep_follow_an_amend_and_a_rebase(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("hook", "install").code == 0
    base = commit(gittree, repo, "baseline", 0.5)
    first = commit(gittree, repo, "dropout", 0.55)
    loser = commit(gittree, repo, "dropout, bigger lr", 0.3)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    # The amend changes the recorded number: author, date and results no longer match the old version,
    # so only git's word (the hook) tells that it is the same experiment.
    done = amend(repo.path, "dropout 0.1\n\nGittree-Metric: acc=0.56\n")
    assert done.returncode == 0, done.stderr
    assert "1 kept experiment rewritten (amend)" in done.stderr
    amended = repo.head()
    assert kept(repo.path) == sorted([base, amended, loser])
    assert forgotten(repo.path) == {first: amended}
    shown = nodes(gittree)
    assert set(shown) == {base, amended, loser}  # the old version is never shown, though loser reaches it
    assert shown[loser]["parents"] == [amended] and shown[loser]["verdict"] == "discarded"
    assert shown[amended]["metrics"]["acc"]["mean"] == 0.56
    # a rebase rewrites both: the keep follows every rewrite, and a rewrite of a rewrite to its last version
    repo.git("rebase", "-q", "--force-rebase", "--root")
    new_base, new_first = repo.git("rev-list", "--reverse", "HEAD").split()
    assert kept(repo.path) == sorted([new_base, new_first, loser])
    assert forgotten(repo.path) == {first: amended, amended: new_first, base: new_base}
    shown = nodes(gittree)
    assert set(shown) == {new_base, new_first, loser}
    assert shown[loser]["parents"] == [new_first]
    listed = gittree("kept")
    assert "3 kept, 1 discarded" in listed.out and "0 rewritten" in listed.out and "3 forgotten" in listed.out
    collect_garbage(repo)
    assert repo.git("cat-file", "-t", amended, check=False) == ""  # kept no more: gc took it
    assert set(nodes(gittree)) == {new_base, new_first, loser}


def test_a_rewritten_experiment_is_shown_once_without_the_hook_too(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Rewritten before the hook was installed (or in a clone without it): the read path still replaces it."""
    repo.git("config", "notes.rewriteRef", "refs/notes/gittree")
    base = commit(gittree, repo, "baseline", 0.5)
    first = commit(gittree, repo, "dropout", 0.55)
    loser = commit(gittree, repo, "dropout, bigger lr", 0.3)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    assert amend(repo.path, "dropout 0.1\n\nGittree-Metric: acc=0.55\n").returncode == 0
    amended = repo.head()
    assert first in kept(repo.path) and forgotten(repo.path) == {}
    shown = nodes(gittree)
    assert set(shown) == {base, amended, loser} and shown[loser]["parents"] == [amended]


def test_a_rebased_experiment_given_a_late_seed_is_still_shown_once_without_the_hook(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree
) -> None:
    """An idea branch rebased onto main, then a second seed recorded on the rebased commit (the
    documented way to add samples): the note came after the rewrite, which changed no number, so the
    pre-rebase version stays hidden (it came back as a discarded copy, and `kept` counted 0 rewritten)."""
    repo.git("config", "notes.rewriteRef", "refs/notes/gittree")
    base = commit(gittree, repo, "base", 0.70)
    repo.branch("exp/a", base)
    repo.write("a.txt", "a\n")
    repo.git("add", "a.txt")
    assert gittree("commit", "-m", "idea a", "--metric", "acc=0.75").code == 0
    before = repo.head()
    repo.branch("main", base)
    repo.commit("ordinary main work")
    repo.git("checkout", "-q", "exp/a")
    repo.git("rebase", "-q", "main")
    rebased = repo.head()
    assert set(nodes(gittree)) == {base, rebased}
    assert gittree("record", "HEAD", "--metric", "acc=0.76").code == 0
    shown = nodes(gittree)
    assert set(shown) == {base, rebased} and shown[rebased]["metrics"]["acc"]["n"] == 2
    assert f"{before[:7]}  rewritten" in gittree("kept").out
    assert gittree("forget", "--rewritten").code == 0
    assert forgotten(repo.path) == {before: rebased}
    assert nodes(gittree) == shown


@pytest.mark.parametrize("hook", [False, True])
@pytest.mark.parametrize("command", ["squash", "fixup"])
def test_a_squash_without_the_hook_hides_what_it_can_tell_was_squashed(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, monkeypatch, command: str, hook: bool
) -> None:
    """`pick A, squash B` keeps A's author and date, and starts the message with A's, then B's: both
    earlier versions are hidden without the hook, and `forget --rewritten` forgets them as the hook does.
    A fixup drops B's message: without the hook nothing tells B was folded in, and it stays a dead end on
    the squashed commit (both were shown as discarded, and nothing was rewritten)."""
    repo.git("config", "notes.rewriteRef", "refs/notes/gittree")
    if hook:
        assert gittree("hook", "install", "post-rewrite").code == 0
    base = commit(gittree, repo, "base", 0.70)
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-03-02T10:00:00+00:00")
    first = commit(gittree, repo, "idea a", 0.75)
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-03-02T11:00:00+00:00")
    second = commit(gittree, repo, "idea a, tuned", 0.76)
    assert gittree("record", "HEAD", "--metric", "acc=0.77").code == 0  # a late seed, carried by the squash
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    squashed = repo.squash(2, command)
    shown = nodes(gittree)
    folded = hook or command == "squash"
    assert set(shown) == ({base, squashed} if folded else {base, squashed, second})
    if not folded:
        assert shown[second]["verdict"] == "discarded" and shown[second]["parents"] == [squashed]
    assert shown[squashed]["metrics"]["acc"]["n"] == 2  # the last trailers (A's, or B's) and B's note
    if not hook:
        listed = gittree("kept").out
        assert f"{first[:7]}  rewritten" in listed
        assert (f"{second[:7]}  rewritten" in listed) == folded
        assert gittree("forget", "--rewritten").code == 0
    assert forgotten(repo.path) == ({first: squashed, second: squashed} if folded else {first: squashed})
    assert set(nodes(gittree)) == set(shown)


def test_the_hook_chains_a_foreign_post_rewrite_hook_with_the_same_input(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = repo.path / ".git" / "hooks"
    seen = tmp_path / "seen.txt"
    folder.mkdir(parents=True, exist_ok=True)
    foreign = folder / "post-rewrite"
    foreign.write_text(f'#!/bin/sh\necho "$1" > "{seen}"\ncat >> "{seen}"\n')
    foreign.chmod(0o755)
    original = foreign.read_bytes()
    result = gittree("hook", "install", "post-rewrite")
    assert result.code == 0 and "chains post-rewrite.legacy" in result.out
    assert "unchanged" in gittree("hook", "install", "post-rewrite").out  # idempotent
    commit(gittree, repo, "baseline", 0.5)
    old = commit(gittree, repo, "warmup", 0.6)
    assert amend(repo.path, "warmup 5 epochs\n\nGittree-Metric: acc=0.6\n").returncode == 0
    new = repo.head()
    assert seen.read_text().split() == ["amend", old, new]  # the foreign hook got git's own input
    assert forgotten(repo.path) == {old: new}
    status = gittree("hook", "status").out
    assert "post-rewrite installed; chains post-rewrite.legacy" in " ".join(status.split())
    assert gittree("hook", "uninstall", "post-rewrite").code == 0
    assert foreign.read_bytes() == original and not (folder / "post-rewrite.legacy").exists()


def test_the_hook_follows_an_amend_in_a_linked_worktree(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    commit(gittree, repo, "baseline", 0.5)
    assert gittree("hook", "install", "post-rewrite").code == 0
    other = tmp_path / "other"
    repo.git("worktree", "add", "-q", "-b", "idea", str(other))
    made = subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "idea\n\nGittree-Metric: acc=0.7"],
        cwd=other,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    old = repo.git("rev-parse", "idea").strip()
    assert gittree("record", old, "--note", "keep me").code == 0  # kept by gittree
    done = amend(other, "idea, reworded\n\nGittree-Metric: acc=0.7\n")
    assert done.returncode == 0, done.stderr
    new = repo.git("rev-parse", "idea").strip()
    assert old in forgotten(repo.path) and new in kept(repo.path) and old not in kept(repo.path)


def test_the_hook_changes_nothing_for_commits_gittree_does_not_keep(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("hook", "install", "post-rewrite").code == 0
    repo.commit("plain work")
    done = amend(repo.path, "plain work, reworded\n")
    assert done.returncode == 0 and done.stderr == ""
    assert "refs/gittree/" not in repo.git("for-each-ref")  # no keep ref made for ordinary work


HEX = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40)


@given(st.lists(st.tuples(HEX, HEX), max_size=5), st.lists(st.text(max_size=30), max_size=3))
def test_the_post_rewrite_input_is_read_as_git_writes_it(
    pairs: list[tuple[str, str]], noise: list[str]
) -> None:
    """githooks(5): `OLD SP NEW [SP EXTRA] LF` per rewritten commit; lines of another shape are skipped."""
    lines = [f"{old} {new}" + (" extra" if i % 2 else "") for i, (old, new) in enumerate(pairs)]
    junk = [line for line in noise if hooks.parse_rewrites(line) == []]
    assert hooks.parse_rewrites("\n".join(lines + junk) + "\n") == pairs


# -- forget travels with sync ----------------------------------------------------------------------


def test_a_forget_travels_with_sync_and_a_later_keep_wins(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ana, ben = team.clone("ana"), team.clone("ben")
    loser = ana.experiment("main", "bigger lr", start="origin/main", acc=0.3)
    ana.git("reset", "-q", "--hard", "HEAD~1")
    for clone in (ana, ben, ana):
        clone.sync()
    assert loser in kept(ben.path)
    forgot = ana.gittree("forget", loser[:7])
    assert forgot.code == 0, forgot.err
    # the remote's keep commit, fetched before, still names it: a fetch does not undo a forget
    assert loser in ana.git("ls-tree", "-r", "--name-only", "refs/gittree-remote/origin/keep").replace(
        "/", ""
    )
    assert loser not in json.dumps(ana.tree_json())
    ana.sync()
    on_remote = team.remote_git("ls-tree", "-r", "--name-only", "refs/gittree/keep").split()
    assert f"forgotten/{loser[:2]}/{loser[2:]}" in on_remote and f"{loser[:2]}/{loser[2:]}" not in on_remote
    ben.sync()
    for clone in (ana, ben, ana):
        clone.sync()
    for clone in (ana, ben):
        assert loser not in kept(clone.path) and loser in forgotten(clone.path), clone.name
        assert loser not in json.dumps(clone.tree_json()), clone.name
    ben.git("reflog", "expire", "--expire=now", "--all")
    ben.git("gc", "-q", "--prune=now")
    assert ben.git("cat-file", "-t", loser, check=False) == ""
    # kept again after the forget (ana records a late seed on it): the later keep wins everywhere
    assert ana.gittree("record", loser, "--metric", "acc=0.31").code == 0
    for clone in (ana, ben, ana):
        clone.sync()
    for clone in (ana, ben):
        assert loser in kept(clone.path) and loser not in forgotten(clone.path), clone.name
    assert team.remote_git("rev-parse", "refs/gittree/keep").strip() == ana.rev("refs/gittree/keep")


def test_a_clone_that_kept_more_on_a_forgotten_commit_keeps_it_as_history(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    """ben grew a kept experiment on X before ana's forget of X arrived: X is forgotten, ben's child is not,
    and X stays in the tree as its history (as forgetting something a branch reaches)."""
    team = Team(tmp_path, gittree)
    ana, ben = team.clone("ana"), team.clone("ben")
    x = ana.experiment("idea", "wider", start="origin/main", acc=0.6)
    ana.git("push", "-q", "origin", "idea")
    ana.sync()
    ben.sync()
    ben.git("fetch", "-q", "origin")
    child = ben.experiment("idea", "wider, longer", start="origin/idea", acc=0.62)
    assert ana.gittree("forget", x).code == 0
    ana.sync()
    ben.sync()
    held = kept(ben.path)
    assert x not in held and child in held and x in forgotten(ben.path)
    assert x in {node["sha"] for node in ben.tree_json()["nodes"]}


# -- gittree kept ---------------------------------------------------------------------------------


def test_kept_says_what_each_kept_commit_is_in_text_and_json(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = commit(gittree, repo, "baseline", 0.5)
    crash = gittree("commit", "--allow-empty", "-m", "fp16 \x1b[31mcrash", "--status", "failed")
    assert crash.code == 0, crash.err
    crashed = repo.head()
    repo.git("reset", "-q", "--hard", "HEAD~1")
    better = commit(gittree, repo, "warmup", 0.6)
    text = gittree("kept")
    assert text.code == 0
    rows = {line[:7]: line for line in text.out.splitlines()}
    assert rows[crashed[:7]] == f"{crashed[:7]}  discarded    failed     fp16 \\x1b[31mcrash"
    assert rows[better[:7]] == f"{better[:7]}  on a branch  ok         warmup"
    data = json.loads(gittree("kept", "--json").out)
    assert data["schema"] == 1
    by_sha = {entry["sha"]: entry for entry in data["kept"]}
    assert by_sha[crashed] == {
        "sha": crashed,
        "subject": "fp16 \x1b[31mcrash",
        "status": "failed",
        "verdict": "failed",
        "reachable": False,
        "state": "discarded",
        "rewritten_into": None,
    }
    assert by_sha[base]["reachable"] and by_sha[better]["verdict"] == "better"
    assert data["forgotten"] == []
    assert "\x1b" not in gittree("kept", "--json").out  # escaped as JSON, never raw
    assert gittree("forget", crashed).code == 0
    assert json.loads(gittree("kept", "--json").out)["forgotten"] == [
        {"sha": crashed, "rewritten_into": None}
    ]


def test_the_keep_ref_stays_with_its_forgotten_list_when_nothing_is_kept(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    only = commit(gittree, repo, "baseline", 0.5)
    assert gittree("forget", only).code == 0
    assert kept(repo.path) == [] and forgotten(repo.path) == {only: None}
    keep = repo.git("rev-parse", "refs/gittree/keep").strip()
    assert repo.git("rev-list", "--parents", "-n", "1", keep).split() == [keep]  # no parents: gc may take it
    assert set(nodes(gittree)) == {only}  # on main: history


def test_clones_end_on_one_keep_commit_and_stop_pushing_it(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    """Each clone kept something: once both synced, a clone whose keep commit the remote's covers takes
    the remote's as it is, so every clone and the remote hold one commit and a further sync pushes nothing."""
    team = Team(tmp_path, gittree)
    ana, ben = team.clone("ana"), team.clone("ben")
    for clone in (ana, ben):
        clone.experiment("main", f"{clone.name}'s idea", acc=0.6)
        clone.git("reset", "-q", "--hard", "HEAD~1")
    for clone in (ana, ben, ana):
        clone.sync()
    keep = team.remote_git("rev-parse", "refs/gittree/keep").strip()
    assert ana.rev("refs/gittree/keep") == ben.rev("refs/gittree/keep") == keep
    again = ben.sync().out
    assert "pushed" not in again and "nothing to push" in again


def test_the_hook_starts_python_only_for_a_kept_commit_and_never_imports_typer(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """It runs on every amend and rebase: ordinary work costs one git command, and gittree's step is
    served without the typer command line (docs/hooks.md)."""
    gone = tmp_path / "gone" / "python"  # an interpreter that is not there: shows whether it was needed
    hooks.install(gitio.open_repo(repo.path), ("post-rewrite",), python=str(gone))
    repo.commit("plain work")
    done = amend(repo.path, "plain work, reworded\n")
    assert done.returncode == 0 and done.stderr == ""  # decided in the shell: no Python started
    kept_one = commit(gittree, repo, "warmup", 0.6)
    done = amend(repo.path, "warmup, reworded\n\nGittree-Metric: acc=0.6\n")
    assert done.returncode == 0 and "no longer exists" in done.stderr  # now it was needed
    assert kept_one in kept(repo.path)  # (so nothing followed; the views still show it once)
    new = repo.head()
    timed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gittree", "hook", "follow-rewrites", "--", "amend"],
        cwd=repo.path,
        input=f"{kept_one} {new}\n",
        capture_output=True,
        text=True,
    )
    assert timed.returncode == 0, timed.stderr
    imported = {line.split("|")[-1].strip() for line in timed.stderr.splitlines() if "|" in line}
    assert "gittree.hooks" in imported and not any(
        name.split(".")[0] in ("typer", "click") for name in imported
    )
    assert forgotten(repo.path) == {kept_one: new} and new in kept(repo.path)
