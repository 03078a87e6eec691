"""`gittree hook install|uninstall|status` and the hooks themselves, with real commits and real runs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gittree import gitio, hooks
from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import only_run, py


def commit(path: Path, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """A plain `git commit`, as a user types it; returns git's exit status and output."""
    return subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-F", "-", *extra],
        cwd=path,
        input=text,
        capture_output=True,
        text=True,
    )


def hooks_folder(repo: GitRepo) -> Path:
    return repo.path / ".git" / "hooks"


def write_hook(path: Path, body: str) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path.read_bytes()


BAD = "hand-written experiment\n\nGittree-Metric: acc=0,73\n"
GOOD = "hand-written experiment\n\nGittree-Metric: acc=0.73\nGittree-Param: lr=3e-4\n"


def test_install_writes_every_hook_where_git_runs_them(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("hook", "install")
    assert result.code == 0, result.err
    for name in ("post-run", "commit-msg", "post-rewrite"):
        path = hooks_folder(repo) / name
        data = path.read_bytes()
        assert b"\r" not in data and data.startswith(b"#!/bin/sh\n")
        assert path.stat().st_mode & stat.S_IXUSR
        text = data.decode()
        assert hooks.is_ours(text) and not hooks.is_edited(text)
        assert hooks.recorded_python(text) == sys.executable
    status = gittree("hook", "status")
    assert status.out.count("installed") == 3 and str(hooks_folder(repo)) in status.out


def test_commit_msg_refuses_a_bad_metric_with_the_line_and_the_accepted_form(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    assert gittree("hook", "install", "commit-msg").code == 0
    refused = commit(repo.path, BAD)
    assert refused.returncode != 0
    assert "Gittree-Metric: acc=0,73" in refused.stderr
    assert "accepted forms" in refused.stderr and "Gittree-Metric: NAME=NUMBER" in refused.stderr
    assert "0.73" in refused.stderr  # the accepted form of a number is spelled out
    assert repo.head() == start
    assert commit(repo.path, GOOD).returncode == 0
    assert commit(repo.path, "ordinary work\n").returncode == 0
    # the message git hands over may hold comments and a verbose diff below the scissors line
    scissors = "x\n\nGittree-Status: ok\n# comment\n# ------------------------ >8 ------------------------\nGittree-Metric: a=,\n"
    assert commit(repo.path, scissors, "--cleanup=scissors").returncode == 0
    # gittree commit goes through the same hook
    assert gittree("commit", "--allow-empty", "-m", "via gittree", "--metric", "acc=0.5").code == 0


def test_installing_twice_changes_nothing(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("hook", "install").code == 0
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in hooks_folder(repo).iterdir()}
    second = gittree("hook", "install")
    assert second.code == 0 and second.out.count("unchanged") == len(hooks.HOOK_NAMES)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in hooks_folder(repo).iterdir()}
    assert after == before and not any(name.endswith(".legacy") for name in after)


def test_a_foreign_hook_is_chained_and_restored(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    foreign = hooks_folder(repo) / "commit-msg"
    original = write_hook(foreign, "grep -q WIP \"$1\" && { echo 'no WIP commits' >&2; exit 3; }\nexit 0\n")
    result = gittree("hook", "install")
    assert result.code == 0 and "chains commit-msg.legacy" in result.out
    assert (hooks_folder(repo) / "commit-msg.legacy").read_bytes() == original
    refused = commit(repo.path, "WIP: try\n")  # the foreign hook's refusal still counts
    assert refused.returncode != 0 and "no WIP commits" in refused.stderr
    assert commit(repo.path, BAD).returncode != 0  # then ours runs
    assert commit(repo.path, GOOD).returncode == 0
    assert "chains commit-msg.legacy" in gittree("hook", "status").out
    assert gittree("hook", "install").code == 0  # twice: the legacy hook is not touched again
    result = gittree("hook", "uninstall")
    assert result.code == 0 and "restored" in result.out
    assert foreign.read_bytes() == original and foreign.stat().st_mode & stat.S_IXUSR
    assert not (hooks_folder(repo) / "commit-msg.legacy").exists()
    assert not (hooks_folder(repo) / "post-run").exists()
    assert commit(repo.path, BAD).returncode == 0  # only the user's own hook is left


def test_edits_are_never_overwritten_without_force(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("hook", "install", "post-run").code == 0
    path = hooks_folder(repo) / "post-run"
    path.write_text(path.read_text().replace('exit "$status"', 'git push -q origin HEAD\nexit "$status"'))
    assert "edited" in gittree("hook", "status").out
    refused = gittree("hook", "install")
    assert refused.code == 12 and "edited" in refused.err
    assert "git push -q origin HEAD" in path.read_text()
    assert not (hooks_folder(repo) / "commit-msg").exists()  # nothing was half-done
    assert gittree("hook", "uninstall").code == 12 and path.exists()
    assert gittree("hook", "install", "--force").code == 0
    assert "git push -q origin HEAD" not in path.read_text()


def test_a_second_foreign_hook_does_not_clobber_the_first(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    legacy = write_hook(hooks_folder(repo) / "commit-msg.legacy", "exit 0\n")
    write_hook(hooks_folder(repo) / "commit-msg", "exit 1\n")
    refused = gittree("hook", "install")
    assert refused.code == 12 and "already exists" in refused.err
    assert (hooks_folder(repo) / "commit-msg.legacy").read_bytes() == legacy
    assert gittree("hook", "install", "--force").code == 0
    assert (hooks_folder(repo) / "commit-msg.legacy").read_text() == "#!/bin/sh\nexit 1\n"


def test_core_hooks_path_needs_an_explicit_option(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shared = tmp_path / "shared-hooks"
    repo.git("config", "core.hooksPath", str(shared))
    refused = gittree("hook", "install")
    assert refused.code == 12 and "core.hooksPath" in refused.err and "--hooks-path" in refused.err
    assert not shared.exists() and not (hooks_folder(repo) / "commit-msg").exists()
    assert gittree("hook", "install", "--hooks-path").code == 0
    assert (shared / "commit-msg").exists()
    assert commit(repo.path, BAD).returncode != 0  # git runs hooks from there, so that is where they go
    assert "core.hooksPath" in gittree("hook", "status").out


def test_linked_worktrees_share_the_hooks(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "side", str(linked))
    monkeypatch.chdir(linked)
    assert gittree("hook", "install").code == 0
    assert (hooks_folder(repo) / "commit-msg").exists()
    assert commit(linked, BAD).returncode != 0 and commit(repo.path, BAD).returncode != 0


def test_a_submodule_gets_its_own_hooks(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    library = GitRepo(tmp_path / "library")
    library.commit("library")
    repo.commit("start")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.path), "lib")
    monkeypatch.chdir(repo.path / "lib")
    assert gittree("hook", "install").code == 0
    assert (repo.path / ".git" / "modules" / "lib" / "hooks" / "commit-msg").exists()
    assert not (hooks_folder(repo) / "commit-msg").exists()
    assert commit(repo.path / "lib", BAD).returncode != 0
    assert commit(repo.path, BAD).returncode == 0  # the superproject was not touched


def test_a_vanished_interpreter_is_reported_clearly(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    python = tmp_path / "env" / "python"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    hooks.install(gitio.open_repo(repo.path), ("commit-msg",), python=str(python))
    assert commit(repo.path, BAD).returncode != 0 and commit(repo.path, GOOD).returncode == 0
    python.unlink()  # the virtual environment gittree was installed in is gone
    refused = commit(repo.path, GOOD)
    assert refused.returncode != 0
    assert f"{python}" in refused.stderr and "no longer exists" in refused.stderr
    assert "gittree hook install" in refused.stderr
    assert "BROKEN" in gittree("hook", "status").out
    assert gittree("hook", "install").code == 0  # an untouched hook is simply refreshed
    assert commit(repo.path, GOOD).returncode == 0


def test_gittree_gone_from_the_interpreter_is_reported_clearly(repo: GitRepo, tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')  # -S: no site-packages, no gittree
    python.chmod(0o755)
    hooks.install(gitio.open_repo(repo.path), ("commit-msg",), python=str(python))
    refused = commit(repo.path, GOOD)
    assert refused.returncode != 0 and "gittree is no longer installed" in refused.stderr


def test_uninstall_when_nothing_is_installed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("hook", "uninstall")
    assert result.code == 0 and result.out.count("absent") == len(hooks.HOOK_NAMES)
    assert gittree("hook", "install", "pre-push").code == 12


# -- the post-run hook ------------------------------------------------------------------------------


def test_the_installed_post_run_hook_commits_the_run(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("hook", "install").code == 0
    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.8')"))
    assert result.code == 0, result.err
    entry = only_run(repo.path)
    assert entry["status"] == "committed" and entry["sha"] == repo.head()
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.metric_dict() == {"acc": (0.8,)}


def test_the_post_run_contract(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A user's own post-run hook gets the run's facts in the environment; it decides what happens."""
    repo.commit("start")
    dump = tmp_path / "env.txt"
    write_hook(
        hooks_folder(repo) / "post-run",
        f'env | grep -E "^(GITTREE_|GIT_INDEX_FILE)" | sort > "{dump}"\nexit 0\n',
    )
    result = gittree("run", "--branch", "exp/a", "--", *py("raise SystemExit(4)"))
    assert result.code == 4
    entry = only_run(repo.path)
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines())
    assert seen["GITTREE_RUN_ID"] == entry["id"]
    assert seen["GITTREE_RUN_EXIT"] == "4" and seen["GITTREE_RUN_STATUS"] == "failed"
    assert seen["GITTREE_RUN_COMMIT"] == "1" and seen["GITTREE_RUN_BRANCH"] == "exp/a"
    assert Path(seen["GITTREE_RUN_DIR"]).joinpath("meta.json").exists()
    assert Path(seen["GITTREE_REPO"]) == repo.path
    assert "GIT_INDEX_FILE" not in seen
    # This hook does not commit: the run waits in the journal, and says so.
    assert entry["status"] == "pending" and "pending" in result.err
    assert gittree("recover").code == 0 and only_run(repo.path)["status"] == "committed"


def test_the_post_run_hook_runs_whatever_the_commit_settings_say(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The hooks folder is found with the commit's settings (issue 19); a setting git refuses still
    leaves the post-run hook to run, as when the folder was asked of git alone."""
    repo.commit("start")
    marker = tmp_path / "ran"
    write_hook(hooks_folder(repo) / "post-run", f'touch "{marker}"\nexit 0\n')
    repo.git("config", "commit.gpgSign", "perhaps")
    gittree("run", "--", "true")
    assert marker.exists()
    assert only_run(repo.path)["status"] == "pending"


def test_a_failing_post_run_hook_is_reported_and_loses_nothing(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    write_hook(hooks_folder(repo) / "post-run", "echo 'upload failed' >&2\nexit 3\n")
    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.4')"))
    assert result.code == 12 and "post-run hook" in result.err and "exited with status 3" in result.err
    assert only_run(repo.path)["status"] == "pending"
    assert gittree("recover").code == 0


def test_post_run_chains_a_foreign_hook_after_the_commit(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    marker = tmp_path / "pushed"
    write_hook(hooks_folder(repo) / "post-run", f'git log -1 --format=%s > "{marker}"\nexit 5\n')
    assert gittree("hook", "install").code == 0
    result = gittree("run", "--name", "chained", "--", "true")
    assert marker.read_text().strip() == "chained"  # it ran after the commit
    assert result.code == 12  # and its exit status counts
    assert only_run(repo.path)["status"] == "committed"


def test_no_commit_tells_the_hook_not_to_commit(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    assert gittree("hook", "install").code == 0
    assert gittree("run", "--no-commit", "--", "true").code == 0
    assert repo.head() == start and only_run(repo.path)["status"] == "not-committed"


def test_any_runner_can_call_the_hook_and_git_variables_do_not_leak(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("hook", "install").code == 0
    assert gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.6')")).code == 0
    run_id = only_run(repo.path)["id"]
    decoy = GitRepo(tmp_path / "decoy")
    decoy.commit("decoy")
    env = {
        **os.environ,
        "GITTREE_RUN_ID": run_id,
        "GITTREE_REPO": str(repo.path),
        # what git would export to a hook of *another* repository, e.g. a SLURM epilog run from a hook
        "GIT_DIR": str(decoy.path / ".git"),
        "GIT_INDEX_FILE": str(decoy.path / ".git" / "index"),
        "GIT_WORK_TREE": str(decoy.path),
    }
    done = subprocess.run(
        [str(hooks_folder(repo) / "post-run")], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert only_run(repo.path)["status"] == "committed"
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.metric_dict() == {"acc": (0.6,)}
    assert decoy.git("rev-list", "--count", "HEAD").strip() == "1"
    missing = subprocess.run(
        [str(hooks_folder(repo) / "post-run")], cwd=repo.path, capture_output=True, text=True
    )
    assert missing.returncode == 2 and "GITTREE_RUN_ID" in missing.stderr


def test_run_help_says_the_hook_is_optional(gittree) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(gittree("run", "--help").out.split())
    assert "post-run hook" in text and "works the same" in text


@pytest.mark.parametrize("name", hooks.HOOK_NAMES)
def test_the_shipped_scripts_are_well_formed(name: str) -> None:
    text = hooks.render(name, "/opt/py thon/bin/python")
    assert "\r" not in text and hooks.is_ours(text) and not hooks.is_edited(text)
    assert hooks.recorded_python(text) == "/opt/py thon/bin/python"  # quoted for the shell
    assert all(var in text for var in hooks.GIT_LOCATION_VARS)  # the scripts unset the same list
    done = subprocess.run(["sh", "-n"], input=text, text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
