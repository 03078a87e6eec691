"""Hooks chained both ways, and what `gittree run` says when a step after its own fails.

Another hook manager can do to gittree what gittree does to others: move gittree's hook to NAME.legacy
and run it from its own (pre-commit's "migration mode"). gittree's scripts must then never run
themselves, nor another copy of gittree's hook, and no arrangement of wrappers may bring a chain back
round to itself (docs/hooks.md, "When another tool chains gittree's hook"). Every commit and run here
is made by a separate process with a deadline, so a loop fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gittree import gitio, hooks
from tests.conftest import GitRepo
from tests.runtools import GITTREE, only_run, py
from tests.teamenv import Team
from tests.test_hooks import hooks_folder, write_hook

BAD = "hand-written experiment\n\nGittree-Metric: acc=0,73\n"
GOOD = "hand-written experiment\n\nGittree-Metric: acc=0.73\n"
DEADLINE = 30.0


def finish(args: list[str], cwd: Path, *, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``args`` to completion, or fail the test if it is still running at the deadline.

    The command runs in a session of its own, so a hook looping under it is killed with it.
    """
    process = subprocess.Popen(
        args,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(input, timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{' '.join(args)} was still running after {DEADLINE:.0f} s: a hook chain loops")
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def commit(path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """A plain `git commit`, as a user types it."""
    return finish(["git", "commit", "-q", "--allow-empty", "-F", "-"], path, input=text)


def run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `gittree run ...` console script."""
    return finish([str(GITTREE), "run", *args], path)


def wrap_like_another_manager(folder: Path, name: str) -> bytes:
    """Do what pre-commit's `install` does to a hook it finds: move it to NAME.legacy, run it from there."""
    os.replace(folder / name, folder / f"{name}.legacy")
    legacy = f'"$(dirname "$0")/{name}.legacy"'
    return write_hook(folder / name, f'[ -x {legacy} ] || exit 0\n{legacy} "$@" || exit $?\n')


# -- 1. gittree's hook at NAME.legacy, run by another tool's hook -----------------------------------


def test_git_commit_ends_when_another_tool_runs_our_hook_from_legacy(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    assert gittree("hook", "install", "commit-msg").code == 0
    wrap_like_another_manager(hooks_folder(repo), "commit-msg")
    refused = commit(repo.path, BAD)  # it looped here: our script, as commit-msg.legacy, ran itself
    assert refused.returncode == 1 and "Gittree-Metric: acc=0,73" in refused.stderr
    assert repo.head() == start
    assert commit(repo.path, GOOD).returncode == 0
    assert commit(repo.path, "ordinary work\n").returncode == 0


def test_gittree_run_finishes_when_both_hooks_are_run_from_legacy(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("hook", "install").code == 0
    for name in hooks.HOOK_NAMES:
        wrap_like_another_manager(hooks_folder(repo), name)
    done = run(repo.path, "--capture", "acc", "--", *py("print('acc: 0.8')"))
    assert done.returncode == 0, done.stderr
    entry = only_run(repo.path)
    assert entry["status"] == "committed" and entry["sha"] == repo.head()  # our post-run hook committed it


def test_a_legacy_hook_that_runs_ours_again_runs_once(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The other way round: gittree's hook at NAME, and a NAME.legacy that calls NAME back."""
    repo.commit("start")
    log = tmp_path / "legacy.log"
    assert gittree("hook", "install").code == 0
    for name in hooks.HOOK_NAMES:
        write_hook(
            hooks_folder(repo) / f"{name}.legacy", f'echo {name} >> "{log}"\n"$(dirname "$0")/{name}" "$@"\n'
        )
    assert commit(repo.path, BAD).returncode == 1
    assert log.read_text().split() == ["commit-msg"]
    log.unlink()
    done = run(repo.path, "--", "true")
    assert done.returncode == 0, done.stderr
    assert sorted(log.read_text().split()) == ["commit-msg", "post-run"]  # each once, then it stopped
    assert only_run(repo.path)["status"] == "committed"


def test_chains_across_two_hook_folders_cannot_loop(tmp_path: Path) -> None:
    """Two repositories whose legacy hooks call each other's gittree hook: still one pass each."""
    log = tmp_path / "legacy.log"
    folders = []
    for name in ("a", "b"):
        made = GitRepo(tmp_path / name)
        hooks.install(gitio.open_repo(made.path), ("commit-msg",))
        folders.append(made.path / ".git" / "hooks")
    for here, there in (folders, reversed(folders)):
        write_hook(
            here / "commit-msg.legacy",
            f'echo {here.parent.parent.name} >> "{log}"\n"{there}/commit-msg" "$@"\n',
        )
    message = tmp_path / "message"
    message.write_text(GOOD)
    done = finish([str(folders[0] / "commit-msg"), str(message)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert log.read_text().split() == ["a", "b"]


def test_install_status_and_uninstall_with_our_hook_at_legacy(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    folder = hooks_folder(repo)
    old_python = tmp_path / "old-env" / "python"
    hooks.install(gitio.open_repo(repo.path), ("commit-msg",), python=str(old_python))
    wrapper = wrap_like_another_manager(folder, "commit-msg")

    status = gittree("hook", "status")
    assert status.code == 0
    line = next(text for text in status.out.splitlines() if text.startswith("commit-msg"))
    assert "installed" in line and "chains" not in line
    assert "as commit-msg.legacy, run by commit-msg (another tool's hook)" in line

    # Install refreshes our hook where it is and leaves the other tool's alone (it refused: "already exists").
    result = gittree("hook", "install", "commit-msg")
    assert result.code == 0, result.err
    assert f"updated   {folder / 'commit-msg.legacy'}" in result.out
    assert (folder / "commit-msg").read_bytes() == wrapper
    assert hooks.recorded_python((folder / "commit-msg.legacy").read_text()) == sys.executable
    assert "unchanged" in gittree("hook", "install", "commit-msg").out
    assert commit(repo.path, BAD).returncode == 1

    # Uninstall removes our hook from legacy and never puts it back as commit-msg.
    result = gittree("hook", "uninstall", "commit-msg")
    assert result.code == 0 and f"removed {folder / 'commit-msg.legacy'}" in result.out
    assert (folder / "commit-msg").read_bytes() == wrapper
    assert not (folder / "commit-msg.legacy").exists()
    assert commit(repo.path, BAD).returncode == 0  # only the other tool's hook is left


def test_an_edited_hook_at_legacy_is_kept_without_force(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("hook", "install", "post-run").code == 0
    folder = hooks_folder(repo)
    wrap_like_another_manager(folder, "post-run")
    legacy = folder / "post-run.legacy"
    legacy.write_text(legacy.read_text().replace('exit "$status"', 'echo mine\nexit "$status"'))
    for command in ("install", "uninstall"):
        refused = gittree("hook", command, "post-run")
        assert refused.code == 12 and "edited" in refused.err and "echo mine" in legacy.read_text()
    assert "edited" in gittree("hook", "status").out
    assert gittree("hook", "install", "--force", "post-run").code == 0
    assert "echo mine" not in legacy.read_text()
    assert not hooks.is_ours((folder / "post-run").read_text())  # the other tool's hook was not moved


def test_our_hook_left_alone_at_legacy_moves_back_or_goes(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Nothing at NAME (the other tool's hook was deleted): git runs nothing, install puts ours back."""
    folder = hooks_folder(repo)
    assert gittree("hook", "install", "commit-msg").code == 0
    os.replace(folder / "commit-msg", folder / "commit-msg.legacy")
    assert "not installed" in gittree("hook", "status").out
    result = gittree("hook", "install", "commit-msg")
    assert result.code == 0 and "chains" not in result.out
    assert hooks.is_ours((folder / "commit-msg").read_text()) and not (folder / "commit-msg.legacy").exists()

    os.replace(folder / "commit-msg", folder / "commit-msg.legacy")
    result = gittree("hook", "uninstall", "commit-msg")
    assert result.code == 0 and "restored" not in result.out
    assert not (folder / "commit-msg").exists() and not (folder / "commit-msg.legacy").exists()


def test_a_second_copy_of_our_hook_is_never_chained(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    folder = hooks_folder(repo)
    assert gittree("hook", "install", "commit-msg").code == 0
    shutil.copy2(folder / "commit-msg", folder / "commit-msg.legacy")
    assert "chains" not in gittree("hook", "status").out
    assert "chains" not in gittree("hook", "install", "commit-msg").out
    refused = commit(repo.path, BAD)
    assert refused.returncode == 1 and refused.stderr.count("commit refused") == 1  # checked once
    result = gittree("hook", "uninstall", "commit-msg")
    assert result.code == 0 and "restored" not in result.out  # both copies go; none comes back
    assert not (folder / "commit-msg").exists() and not (folder / "commit-msg.legacy").exists()


def _pre_commit() -> list[str] | None:
    """How to call pre-commit here: importable by this Python, else on PATH; None when absent."""
    try:
        import pre_commit  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        found = shutil.which("pre-commit")
        return [found] if found else None
    return [sys.executable, "-m", "pre_commit"]


PRE_COMMIT_CONFIG = """\
repos:
- repo: local
  hooks:
  - id: no-wip
    name: no WIP commits
    entry: sh -c '! grep -q WIP "$1"' --
    language: system
    stages: [commit-msg]
"""


def test_real_pre_commit_installed_after_gittree(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    pre_commit = _pre_commit()
    assert pre_commit is not None, "pre-commit is one of the test extras: pip install -e '.[test]'"
    repo.write(".pre-commit-config.yaml", PRE_COMMIT_CONFIG)
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-q", "-m", "start")
    assert gittree("hook", "install", "commit-msg").code == 0
    installed = finish([*pre_commit, "install", "-t", "commit-msg"], repo.path)
    assert installed.returncode == 0, installed.stderr
    assert hooks.is_ours((hooks_folder(repo) / "commit-msg.legacy").read_text())
    assert commit(repo.path, GOOD).returncode == 0
    wip = commit(repo.path, "WIP: try\n")  # pre-commit's own hook still counts
    assert wip.returncode != 0 and "no WIP commits" in wip.stdout + wip.stderr
    bad = commit(repo.path, BAD)  # and so does ours, which it runs from commit-msg.legacy
    assert bad.returncode != 0 and "Gittree-Metric: acc=0,73" in bad.stderr
    assert "installed" in gittree("hook", "status").out
    assert gittree("hook", "install", "commit-msg").code == 0


def real_pre_commit(repo: GitRepo, config: str, *hook_types: str) -> None:
    """Commit ``config`` as .pre-commit-config.yaml and `pre-commit install -t` each of ``hook_types``."""
    pre_commit = _pre_commit()
    assert pre_commit is not None, "pre-commit is one of the test extras: pip install -e '.[test]'"
    repo.write(".pre-commit-config.yaml", config)
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-q", "-m", "pre-commit config")
    for hook_type in hook_types:
        installed = finish([*pre_commit, "install", "-t", hook_type], repo.path)
        assert installed.returncode == 0, installed.stderr


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every hook in ``folder`` (git's samples aside): its bytes and mode bits."""
    return {
        path.name: (path.read_bytes(), path.stat().st_mode)
        for path in folder.iterdir()
        if not path.name.endswith(".sample")
    }


def test_gittree_installed_after_real_pre_commit_chains_it_where_it_works(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """pre-commit's script runs <its folder>/<hook type>.legacy itself: chained as commit-msg.legacy, it
    ran itself, said "installed in migration mode" and refused every commit."""
    real_pre_commit(repo, PRE_COMMIT_CONFIG, "commit-msg")
    folder = hooks_folder(repo)
    before = snapshot(folder)
    result = gittree("hook", "install", "commit-msg")
    assert result.code == 0, result.err
    assert "(chains commit-msg.gittree-chained)" in result.out
    assert not (folder / "commit-msg.legacy").exists()
    done = commit(repo.path, GOOD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "migration mode" not in done.stdout + done.stderr
    wip = commit(repo.path, "WIP: try\n")  # pre-commit's own hook still counts
    assert wip.returncode != 0 and "no WIP commits" in wip.stdout + wip.stderr
    bad = commit(repo.path, BAD)  # and so does ours
    assert bad.returncode != 0 and "Gittree-Metric: acc=0,73" in bad.stderr
    assert "installed; chains commit-msg.gittree-chained" in gittree("hook", "status").out
    assert "unchanged" in gittree("hook", "install", "commit-msg").out
    result = gittree("hook", "uninstall", "commit-msg")
    assert result.code == 0 and "restored" in result.out
    assert snapshot(folder) == before  # pre-commit's script back, byte for byte, mode bits too


def test_gittree_after_pre_commit_in_migration_mode_runs_every_hook_once(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, tmp_path: Path
) -> None:
    """A hook of your own, then pre-commit (which moves it to commit-msg.legacy), then gittree: install
    refused ("already exists"); now pre-commit's script still runs your hook, and gittree's leaves it to it."""
    log = tmp_path / "mine.log"
    write_hook(hooks_folder(repo) / "commit-msg", f'echo mine >> "{log}"\n')
    real_pre_commit(repo, PRE_COMMIT_CONFIG, "commit-msg")
    log.unlink()
    folder = hooks_folder(repo)
    before = snapshot(folder)
    assert gittree("hook", "install", "commit-msg").code == 0
    assert commit(repo.path, GOOD).returncode == 0
    assert log.read_text().split() == ["mine"]
    wip = commit(repo.path, "WIP: try\n")
    assert wip.returncode != 0 and "no WIP commits" in wip.stdout + wip.stderr
    assert commit(repo.path, BAD).returncode != 0
    assert gittree("hook", "uninstall", "commit-msg").code == 0
    assert snapshot(folder) == before


def test_pre_commit_chained_as_legacy_by_an_older_install_is_mended(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    real_pre_commit(repo, PRE_COMMIT_CONFIG, "commit-msg")
    folder = hooks_folder(repo)
    before = snapshot(folder)
    os.replace(folder / "commit-msg", folder / "commit-msg.legacy")  # what gittree's install used to do
    hooks.install(gitio.open_repo(repo.path), ("commit-msg",))
    assert (folder / "commit-msg.gittree-chained").exists()  # an install over nothing mends it at once
    os.replace(folder / "commit-msg.gittree-chained", folder / "commit-msg.legacy")
    assert commit(repo.path, GOOD).returncode != 0  # pre-commit's script runs itself there and fails
    line = next(text for text in gittree("hook", "status").out.splitlines() if text.startswith("commit-msg"))
    assert "BROKEN: commit-msg.legacy is pre-commit's script" in line and "gittree hook install" in line
    result = gittree("hook", "install", "commit-msg")
    assert result.code == 0 and "(chains commit-msg.gittree-chained)" in result.out
    assert commit(repo.path, GOOD).returncode == 0
    assert "BROKEN" not in gittree("hook", "status").out
    assert gittree("hook", "uninstall", "commit-msg").code == 0
    assert snapshot(folder) == before


PRE_COMMIT_POST_REWRITE = """\
repos:
- repo: local
  hooks:
  - id: log-rewrite
    name: log rewrite
    entry: sh -c 'echo "$PRE_COMMIT_REWRITE_COMMAND" >> pre-commit-rewrites.log' --
    language: system
    always_run: true
    pass_filenames: false
    stages: [post-rewrite]
"""


def experiment(gittree, repo: GitRepo, subject: str) -> str:  # type: ignore[no-untyped-def]
    result = gittree("commit", "--allow-empty", "-m", subject, "--metric", "acc=0.5")
    assert result.code == 0, result.err
    return repo.head()


def amend(path: Path) -> subprocess.CompletedProcess[str]:
    return finish(["git", "commit", "-q", "--amend", "--allow-empty", "-m", "amended"], path)


def rebase_elsewhere(repo: GitRepo, subject: str) -> subprocess.CompletedProcess[str]:
    """`git rebase --onto` a new sibling of HEAD's parent: HEAD is really rewritten."""
    elsewhere = repo.git("commit-tree", "-p", "HEAD~1", "-m", subject, "HEAD~1^{tree}").strip()
    return finish(["git", "rebase", "-q", "--onto", elsewhere, "HEAD~1"], repo.path)


def test_real_pre_commit_installed_after_gittree_on_post_rewrite(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """pre-commit runs gittree's post-rewrite hook (as post-rewrite.legacy) with no standard input: an
    amend is followed from HEAD's reflog, a rebase is not and says so; status warns, and install fixes it."""
    repo.write(".gitignore", "pre-commit-rewrites.log\n")
    repo.git("add", ".gitignore")
    repo.git("commit", "-q", "-m", "start")
    assert gittree("hook", "install", "post-rewrite").code == 0
    real_pre_commit(repo, PRE_COMMIT_POST_REWRITE, "post-rewrite")
    folder = hooks_folder(repo)
    line = next(
        text for text in gittree("hook", "status").out.splitlines() if text.startswith("post-rewrite")
    )
    assert "as post-rewrite.legacy, run by post-rewrite" in line
    assert "WARNING" in line and "rebase is not followed" in line
    assert "gittree hook install post-rewrite" in line

    old = experiment(gittree, repo, "dropout")
    done = amend(repo.path)
    assert done.returncode == 0 and "1 kept experiment rewritten (amend)" in done.stderr, done.stderr
    new = repo.head()
    assert gitio.forgotten_shas(gitio.open_repo(repo.path)) == {old: new}  # from HEAD's reflog
    assert (repo.path / "pre-commit-rewrites.log").read_text().split() == ["amend"]

    rebased = rebase_elsewhere(repo, "elsewhere")
    assert rebased.returncode == 0, rebased.stderr
    assert "this rebase is not followed" in rebased.stderr
    assert "gittree hook install post-rewrite" in rebased.stderr
    assert repo.head() != new and repo.head() not in gitio.kept_shas(gitio.open_repo(repo.path))

    # Installed again, gittree's hook runs first and chains pre-commit's, which gets nothing lost.
    pre_commits = (folder / "post-rewrite").read_bytes()
    result = gittree("hook", "install", "post-rewrite")
    assert result.code == 0 and "(chains post-rewrite.gittree-chained)" in result.out, result.out
    assert hooks.is_ours((folder / "post-rewrite").read_text())
    assert (folder / "post-rewrite.gittree-chained").read_bytes() == pre_commits
    assert not (folder / "post-rewrite.legacy").exists()
    assert "WARNING" not in gittree("hook", "status").out
    assert "unchanged" in gittree("hook", "install", "post-rewrite").out
    repo.git("reset", "-q", "--hard", new)  # the kept version, which the first rebase did not follow
    rebased = rebase_elsewhere(repo, "elsewhere again")
    assert rebased.returncode == 0 and "1 kept experiment rewritten (rebase)" in rebased.stderr
    assert gitio.forgotten_shas(gitio.open_repo(repo.path))[new] == repo.head()
    assert (repo.path / "pre-commit-rewrites.log").read_text().split() == ["amend", "rebase", "rebase"]

    assert gittree("hook", "uninstall", "post-rewrite").code == 0
    assert (folder / "post-rewrite").read_bytes() == pre_commits
    left = {path.name for path in folder.iterdir() if path.name.startswith("post-rewrite.")}
    assert left <= {"post-rewrite.sample"}  # gittree's hook at post-rewrite.legacy went at install


# -- 2. a post-run step that fails after the run was committed -------------------------------------


def test_a_chained_post_run_step_failing_after_the_commit_is_reported(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    write_hook(hooks_folder(repo) / "post-run", "exit 3\n")
    assert gittree("hook", "install", "post-run").code == 0  # chains post-run.legacy
    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.8')"))
    assert result.code == 12
    entry = only_run(repo.path)
    assert entry["status"] == "committed" and entry["sha"] == repo.head()
    assert f"committed {entry['sha'][:7]}" in result.err
    assert "post-run.legacy, run by gittree's post-run hook, exited with status 3" in result.err
    assert "after the run was committed" in result.err and "safe" in result.err


def test_a_hook_of_your_own_that_commits_and_then_fails_is_reported(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    hook = hooks_folder(repo) / "post-run"
    write_hook(
        hook, f'"{sys.executable}" -m gittree recover --quiet -- "$GITTREE_RUN_ID" || exit $?\nexit 4\n'
    )
    result = gittree("run", "--", "true")
    assert result.code == 12 and only_run(repo.path)["status"] == "committed"
    assert f"the post-run hook {hook} exited with status 4 after the run was committed" in result.err
    assert "committed" in result.err and "safe" in result.err


# -- 3. run --push: the hint fits the failure ------------------------------------------------------


def push_args(branch: str) -> list[str]:
    return ["run", "--branch", branch, "--push", "--capture", "acc", "--", *py("print('acc: 0.7')")]


def test_a_push_of_a_diverged_branch_says_how_to_merge_not_to_wait(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ada, bob = team.clone("Ada"), team.clone("Bob")
    assert bob.gittree(*push_args("sweep/lr")).code == 0
    result = ada.gittree(*push_args("sweep/lr"))  # her sweep/lr starts from main, not from Bob's
    assert result.code == 14
    assert "committed on sweep/lr here" in result.err and "safe" in result.err
    assert "git merge origin/sweep/lr" in result.err  # the diverged error's own next step
    assert "when the remote is back" not in result.err  # the remote answered
    assert team.remote_refs()["refs/heads/sweep/lr"] == bob.rev("sweep/lr")


def test_an_unreachable_remote_says_to_sync_when_it_is_back(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ada = team.clone("Ada")
    ada.git("remote", "set-url", "origin", str(team.root / "gone.git"))
    result = ada.gittree(*push_args("sweep/lr"))
    assert result.code == 14
    assert "run `gittree sync origin` when the remote is back" in result.err
    assert "git remote -v" in result.err  # and the underlying error's advice is kept


def test_a_name_clash_on_fetch_says_what_to_delete_not_to_wait(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ada, bob = team.clone("Ada"), team.clone("Bob")
    assert bob.gittree(*push_args("sweep/lr")).code == 0
    ada.git("update-ref", "refs/remotes/origin/sweep/lr/old", ada.rev("HEAD"))  # a leftover in the way
    result = ada.gittree(*push_args("sweep/lr"))
    assert result.code == 14 and "committed on sweep/lr here" in result.err
    assert "git branch -d -r origin/sweep/lr/old" in result.err  # the clash error's own next step
    assert "when the remote is back" not in result.err  # the remote answered
