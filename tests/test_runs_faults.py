"""Faults that must lose nothing (issue 3): each breaks the commit of a real run in a real repository.

In every case the run's metrics and log stay in the journal, `gittree runs` says why, and
`gittree recover` commits the run once the cause is removed.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import GITTREE, gittree_process, only_run, py, run_dir, wait_for

SCRIPT = "import gittree; gittree.log_metric('loss', 0.25); print('acc: 0.9')"


def hook(repo: GitRepo, name: str, body: str) -> Path:
    path = repo.path / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def assert_kept_and_explained(repo: GitRepo, gittree, reason: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The run failed to commit, but nothing is lost and the journal says why."""
    entry = only_run(repo.path)
    assert entry["status"] == "commit-failed", entry
    assert reason in entry["reason"], entry["reason"]
    folder = run_dir(repo.path, entry["id"])
    metrics = json.loads((folder / "metrics.json").read_text())["metrics"]
    assert {(m["name"], m["value"]) for m in metrics} == {("loss", "0.25"), ("acc", "0.9")}
    assert "acc: 0.9" in (folder / "output.log").read_text()
    listing = gittree("runs")
    assert "commit-failed" in listing.out and "↳" in listing.out
    assert reason in " ".join(gittree("runs", entry["id"]).out.split())
    return entry


def assert_recovered(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("recover")
    assert result.code == 0, result.err
    assert "committed as" in result.out
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.metric_dict() == {"loss": (0.25,), "acc": (0.9,)}
    entry = only_run(repo.path)
    assert entry["status"] == "committed" and entry["sha"] == repo.head()
    assert record.run_dict()["id"] == entry["id"]


@pytest.mark.parametrize("name", ["pre-commit", "commit-msg"])
def test_a_rejecting_hook(repo: GitRepo, gittree, name: str) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    path = hook(repo, name, "echo 'lint failed: tabs in model.py' >&2\nexit 1\n")
    result = gittree("run", "--capture", "acc", "--", *py(SCRIPT))
    assert result.code == 7 and "lint failed: tabs in model.py" in result.err
    assert "gittree recover" in result.err and repo.head() == start
    assert_kept_and_explained(repo, gittree, f"the {name} hook refused the commit")
    path.unlink()
    assert_recovered(repo, gittree)


def test_index_lock_held_by_another_process(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    # `git commit -a` keeps index.lock while its editor is open; this editor waits to be released,
    # then leaves the message empty, so that git aborts and lets go of the lock.
    release = tmp_path / "release"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\nwhile [ ! -e "{release}" ]; do sleep 0.05; done\n: > "$1"\n')
    editor.chmod(0o755)
    repo.write("work.txt", "in progress\n")
    other = subprocess.Popen(
        ["git", "commit", "-a"], cwd=repo.path, env={**os.environ, "GIT_EDITOR": str(editor)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    lock = repo.path / ".git" / "index.lock"
    try:
        wait_for(lock.exists, "git commit to take index.lock")
        monkeypatch.setenv("GITTREE_LOCK_TIMEOUT", "0.3")
        result = gittree("run", "--capture", "acc", "--", *py(SCRIPT))
        assert result.code == 7 and "index.lock" in result.err
        assert_kept_and_explained(repo, gittree, "waiting for a lock")
    finally:
        release.touch()
        other.wait()
    assert not lock.exists()
    assert_recovered(repo, gittree)
    assert repo.git("show", "HEAD:work.txt") == "in progress\n"


def conflicting_branches(repo: GitRepo) -> None:
    """main and other both change model.py: merging or rebasing one onto the other stops on a conflict."""
    repo.write("model.py", "base\n")
    repo.commit("start")
    repo.git("checkout", "-q", "-b", "other")
    repo.write("model.py", "theirs\n")
    repo.git("commit", "-qam", "theirs")
    repo.git("checkout", "-q", "main")
    repo.write("model.py", "ours\n")
    repo.git("commit", "-qam", "ours")


def test_a_merge_in_progress(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    conflicting_branches(repo)
    # While the run goes, a conflicting merge is started in its checkout.
    script = SCRIPT + "\nimport subprocess; subprocess.run(['git', 'merge', '-q', 'other'])"
    result = gittree("run", "--capture", "acc", "--", *py(script))
    assert result.code == 7 and "merge is in progress" in result.err
    assert_kept_and_explained(repo, gittree, "merge is in progress")
    repo.git("merge", "--abort")
    assert_recovered(repo, gittree)


def test_a_rebase_in_progress(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    conflicting_branches(repo)
    script = (
        SCRIPT + "\nimport subprocess; subprocess.run(['git', 'rebase', '-q', 'other'], capture_output=True)"
    )
    result = gittree("run", "--capture", "acc", "--", *py(script))
    assert result.code == 7 and "rebase is in progress" in result.err
    assert_kept_and_explained(repo, gittree, "rebase is in progress")
    repo.git("rebase", "--abort")
    assert_recovered(repo, gittree)


def test_no_user_identity(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("EMAIL", "")
    repo.git("config", "user.useConfigOnly", "true")
    result = gittree("run", "--capture", "acc", "--", *py(SCRIPT))
    assert result.code == 7 and "Please tell me who you are" in result.err
    assert_kept_and_explained(repo, gittree, "Please tell me who you are")
    repo.git("config", "user.name", "Ada Tester")
    repo.git("config", "user.email", "ada@example.com")
    assert_recovered(repo, gittree)


def test_commit_signing_without_a_usable_key(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    repo.git("config", "commit.gpgSign", "true")
    repo.git("config", "gpg.program", "false")  # a gpg that cannot sign anything
    result = gittree("run", "--capture", "acc", "--", *py(SCRIPT))
    assert result.code == 7 and "gpg failed to sign" in result.err
    assert_kept_and_explained(repo, gittree, "gpg failed to sign")
    repo.git("config", "commit.gpgSign", "false")
    assert_recovered(repo, gittree)


def test_the_disk_fills_up_when_committing(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Simulation (docs/runs.md): git's object store accepts no new object, as on a full disk.

    New objects go to GIT_OBJECT_DIRECTORY, here a store whose 256 fan-out folders are regular files,
    so creating any object fails in the kernel (ENOTDIR, even for root, unlike a read-only folder);
    the real store is an alternate, so everything that exists can still be read. git fails exactly
    where a full disk stops it: writing the new commit object. The journal, elsewhere, is intact.
    """
    repo.commit("start")
    full = tmp_path / "full-objects"
    (full / "info").mkdir(parents=True)
    (full / "pack").mkdir()
    for prefix in range(256):
        (full / f"{prefix:02x}").write_text("")
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(full))
    monkeypatch.setenv("GIT_ALTERNATE_OBJECT_DIRECTORIES", str(repo.path / ".git" / "objects"))
    result = gittree("run", "--capture", "acc", "--", *py(SCRIPT))
    assert result.code == 7 and "could not be committed" in result.err
    assert_kept_and_explained(repo, gittree, "git could not create the commit")
    monkeypatch.delenv("GIT_OBJECT_DIRECTORY")
    monkeypatch.delenv("GIT_ALTERNATE_OBJECT_DIRECTORIES")
    assert_recovered(repo, gittree)


def test_the_command_killed_with_sigkill_is_committed_as_failed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("run", "--capture", "acc", "--", "sh", "-c", "echo 'acc: 0.5'; kill -9 $$")
    assert result.code == 128 + 9
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.status == "failed"
    assert record.metric_dict() == {"acc": (0.5,)} and record.run_dict()["signal"] == "SIGKILL"
    assert only_run(repo.path)["signal"] == "SIGKILL"


def _start_gittree_run(repo: GitRepo, script: str, **popen: object) -> subprocess.Popen[bytes]:
    args = [str(GITTREE), "run", "--capture", "acc", "--", sys.executable, "-c", script]
    return subprocess.Popen(args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)  # type: ignore[call-overload,no-any-return]


def test_gittree_itself_killed_with_sigkill_mid_run(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    script = (
        "import gittree, pathlib, time\n"
        "gittree.log_metric('loss', 0.25)\n"
        "print('acc: 0.9', flush=True)\n"
        "pathlib.Path('ready').touch()\n"
        "time.sleep(120)\n"
    )
    runner = _start_gittree_run(repo, script)
    wait_for((repo.path / "ready").exists, "the run to get going")
    wait_for(lambda: "acc: 0.9" in _log_text(repo), "the output to reach the journal")
    runner.kill()  # SIGKILL: no handler, no clean-up, nothing written on the way out
    runner.wait()
    entry = only_run(repo.path)
    assert entry["status"] == "running" and repo.head() == start
    listing = gittree("runs")
    assert "interrupted" in listing.out
    # The command outlived gittree: recover refuses to commit a run that is still going.
    refused = gittree("recover")
    assert refused.code == 11 and "still running" in refused.err
    os.kill(entry["child_pid"], signal.SIGKILL)
    from gittree.runs.journal import process_alive

    wait_for(lambda: not process_alive(entry["child_pid"]), "the command to be gone")
    assert_recovered(repo, gittree)
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.status == "failed" and record.run_dict()["interrupted"] == "lost"


def _log_text(repo: GitRepo) -> str:
    entries = list((repo.path / ".git" / "gittree" / "runs").glob("*/output.log"))
    return entries[0].read_text() if entries else ""


@pytest.mark.parametrize("whole_group", [False, True], ids=["kill-gittree", "terminal-ctrl-c"])
def test_ctrl_c_stops_the_command_and_commits_nothing(repo: GitRepo, gittree, whole_group: bool) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    script = (
        "import pathlib, signal, sys, time\n"
        "def stop(*_):\n"
        "    print('command got SIGINT, saving a checkpoint', flush=True)\n"
        "    sys.exit(130)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        "print('acc: 0.3', flush=True)\n"
        "pathlib.Path('ready').touch()\n"
        "time.sleep(120)\n"
    )
    # A terminal's Ctrl-C goes to the whole foreground process group; `kill -INT` to gittree alone.
    runner = _start_gittree_run(repo, script, start_new_session=whole_group)
    wait_for((repo.path / "ready").exists, "the run to get going")
    if whole_group:
        os.killpg(runner.pid, signal.SIGINT)
    else:
        runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 130, err
    assert b"command got SIGINT" in out
    assert repo.head() == start  # nothing committed half-way
    entry = only_run(repo.path)
    assert entry["status"] == "not-committed" and entry["outcome"] == "failed"
    assert entry["interrupted"] == "SIGINT" and "interrupted" in entry["reason"]
    assert "saving a checkpoint" in (run_dir(repo.path, entry["id"]) / "output.log").read_text()
    assert gittree("recover").out.startswith("nothing to recover")  # stopped on purpose: not committed
    assert gittree("recover", entry["id"]).code == 0
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.status == "failed" and record.metric_dict() == {"acc": (0.3,)}


def test_a_real_gittree_process_end_to_end(repo: GitRepo) -> None:
    """The console script itself, as a user runs it (the in-process tests share the same code)."""
    repo.commit("start")
    done = gittree_process("run", "--capture", "acc", "--", *py(SCRIPT), cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert "acc: 0.9" in done.stdout and "committed" in done.stderr
    assert only_run(repo.path)["status"] == "committed"


def test_a_background_process_holding_the_pipes_neither_hangs_the_run_nor_counts_in_its_time(
    repo: GitRepo, gittree
) -> None:  # type: ignore[no-untyped-def]
    """The command exits at once but leaves a child holding its stdout: gittree waits PIPE_GRACE for
    more output, then commits. Regression: that grace was counted in the run's duration (2.3 s for a
    command that took none)."""
    from gittree.runs.execute import PIPE_GRACE

    repo.commit("start")
    result = gittree("run", "--capture", "acc", "--", "sh", "-c", "echo acc: 0.5; sleep 5 & exit 0")
    assert result.code == 0, result.err
    entry = only_run(repo.path)
    assert entry["status"] == "committed" and entry["duration"] < PIPE_GRACE
