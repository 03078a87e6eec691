"""Kill -9 at random points while gittree writes the run journal, the cache and notes (docs/reliability.md).

One seeded loop starts the real console script a few hundred times and kills its whole process group
(gittree and the git processes it started) at a random moment. The moment is drawn from the writer's own
duration, measured once uncut at the start (plus a fifth, so some tries finish on their own): a fixed
0-300 ms window would kill a 0.7 s ``gittree run`` while Python is still starting, before any write. Afterwards the repository must be
intact (``git fsck``), every result whose command finished on its own must still be there, the views
must work, and ``gittree recover`` must commit what the killed runs left.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import GitRepo
from tests.runtools import GITTREE, PYTHON, gittree_process

SEED = 8
TRIES = 200


@dataclass
class Completed:
    """What the commands that finished on their own promised to keep."""

    no_commit_runs: list[str] = field(default_factory=list)  # a token the run printed
    branch_runs: list[float] = field(default_factory=list)  # the metric value it committed
    records: list[tuple[str, float]] = field(default_factory=list)  # (sha, value) noted
    shows: int = 0


def start(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    # A session of its own, so that one killpg reaches gittree and every git it is running.
    return subprocess.Popen(
        [str(GITTREE), *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def kill_at_random(process: subprocess.Popen[bytes], rng: random.Random, window: float | None) -> int | None:
    """Sleep 0-``window`` s and SIGKILL the process group; the exit code if it finished first, else None.

    ``window=None`` lets the process finish (the measuring tries).
    """
    if window is None:
        process.wait()
    else:
        time.sleep(rng.uniform(0.0, window))
    finished = process.poll() is not None
    if not finished:
        with contextlib.suppress(ProcessLookupError):  # it ended between poll and kill
            os.killpg(process.pid, signal.SIGKILL)
    _, err = process.communicate()
    if finished:
        assert b"Traceback" not in err, err.decode(errors="replace")
        return process.returncode
    return None


def wait_for_orphans(repo: GitRepo) -> None:
    """A killed run's command may still be writing output.log; the checks start once no run is live."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = subprocess.run(["pgrep", "-f", f"fault-token-{SEED}-"], capture_output=True)
        if done.returncode != 0:
            return
        time.sleep(0.05)


KINDS = ("no-commit", "branch", "show", "record")


def one_try(
    i: int,
    kind: str,
    rng: random.Random,
    repo: GitRepo,
    targets: list[str],
    completed: Completed,
    window: float | None,
) -> None:
    value = round(0.5 + i / 10_000, 4)
    if kind in ("no-commit", "branch"):
        token = f"fault-token-{SEED}-{i}"
        code = f"print('acc: {value}'); print('{token}')"
        where = ["--no-commit"] if kind == "no-commit" else ["--branch", f"exp/fault-{i % 3}"]
        exit_code = kill_at_random(
            start(["run", *where, "--capture", "acc", "--", PYTHON, "-c", code], repo.path), rng, window
        )
        if exit_code == 0 and kind == "no-commit":
            completed.no_commit_runs.append(token)
        elif exit_code == 0:
            completed.branch_runs.append(value)
    elif kind == "show":
        if rng.random() < 0.5:
            shutil.rmtree(repo.path / ".git" / "gittree" / "cache", ignore_errors=True)
        exit_code = kill_at_random(start(["show", "--all", "--color", "never"], repo.path), rng, window)
        completed.shows += exit_code == 0
    else:
        sha = rng.choice(targets)
        args = ["record", sha, "--metric", f"acc={value}"]
        if kill_at_random(start(args, repo.path), rng, window) == 0:
            completed.records.append((sha, value))


@pytest.mark.slow
def test_kill_9_at_random_points_loses_nothing(repo: GitRepo) -> None:
    targets = [repo.experiment(f"idea {n}", metrics=[("acc", 0.1 * n)]) for n in range(1, 4)]
    rng = random.Random(SEED)
    completed = Completed()
    windows: dict[str, float] = {}
    for i, kind in enumerate(KINDS):  # one uncut try of each writer measures its duration
        began = time.monotonic()
        one_try(i, kind, rng, repo, targets, completed, window=None)
        windows[kind] = (time.monotonic() - began) * 1.2
    for i in range(len(KINDS), TRIES):
        kind = rng.choice(KINDS)
        one_try(i, kind, rng, repo, targets, completed, windows[kind])
    wait_for_orphans(repo)
    # Each kind finished on its own at least a few times, or the checks below would prove little.
    assert completed.no_commit_runs and completed.branch_runs and completed.records and completed.shows

    fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo.path, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr

    runs = gittree_process("runs", "--json", cwd=repo.path)
    assert runs.returncode == 0 and "Traceback" not in runs.stderr, runs.stderr
    entries = json.loads(runs.stdout)
    logs = {e["id"]: (Path(e["journal"]) / "output.log") for e in entries}
    for token in completed.no_commit_runs:
        # whole lines: fault-token-8-17 is a prefix of fault-token-8-170
        kept = [rid for rid, log in logs.items() if log.is_file() and token in log.read_text().splitlines()]
        assert len(kept) == 1, token
        entry = next(e for e in entries if e["id"] == kept[0])
        assert entry["status"] == "not-committed" and entry["metrics"], entry

    recover = gittree_process("recover", cwd=repo.path)
    assert "Traceback" not in recover.stderr, recover.stderr
    if recover.returncode != 0:
        # A kill that lands inside git's own update-ref leaves git's lock file behind (git never removes
        # another process's lock). gittree says so and what to do; do what the hint says, then recover.
        assert "File exists" in recover.stderr and "remove the lock file" in recover.stderr, recover.stderr
        for lock in (repo.path / ".git").rglob("*.lock"):
            if "gittree" not in lock.parts:
                lock.unlink()
        recover = gittree_process("recover", cwd=repo.path)
    assert recover.returncode == 0, recover.stdout + recover.stderr
    after = json.loads(gittree_process("runs", "--json", cwd=repo.path).stdout)
    left = [e for e in after if e["state"] not in ("committed", "not-committed")]
    # Killed between creating its folder and writing meta.json: the command never started, so nothing
    # is lost; `gittree runs` lists the folder as unreadable and says why.
    assert all(e["state"] == "unreadable" and "no meta.json" in e["detail"] for e in left), left
    for e in left:
        assert not (Path(e["journal"]) / "output.log").exists()

    shown = gittree_process("show", "--all", "--json", cwd=repo.path)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    nodes = json.loads(shown.stdout)["nodes"]
    samples = [s for n in nodes for s in n["metrics"].get("acc", {}).get("samples", [])]
    for value in completed.branch_runs:
        assert value in samples, value
    by_sha = {n["sha"]: n for n in nodes}
    for sha, value in completed.records:
        assert value in by_sha[sha]["metrics"]["acc"]["samples"], (sha, value)

    fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo.path, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_recover_clears_the_private_index_lock_a_killed_snapshot_left(repo: GitRepo) -> None:
    """Regression: kill -9 during the run's ``git add`` left ``snapshot.index.lock``; recover failed forever."""
    repo.experiment("start", metrics=[("acc", 0.1)])
    done = gittree_process(
        "run", "--no-commit", "--capture", "acc", "--", PYTHON, "-c", "print('acc: 0.7')", cwd=repo.path
    )
    assert done.returncode == 0, done.stderr
    entry = json.loads(gittree_process("runs", "--json", cwd=repo.path).stdout)[0]
    run_dir = Path(entry["journal"])
    meta = json.loads((run_dir / "meta.json").read_text())
    meta["tree"] = None  # the snapshot never finished
    (run_dir / "meta.json").write_text(json.dumps(meta))
    (run_dir / "snapshot.index.lock").write_bytes(b"")
    (run_dir / "commit.index.lock").write_bytes(b"")
    recovered = gittree_process("recover", entry["id"], cwd=repo.path)
    assert recovered.returncode == 0, recovered.stderr
    assert "run: " in repo.git("log", "-1", "--format=%s")
    assert not (run_dir / "snapshot.index.lock").exists() and not (run_dir / "commit.index.lock").exists()
