"""How long `gittree sync` takes to bring 1,000 new notes, against the same transfer with plain git.

A bare remote holds 1,000 commits and a notes ref with one note on each (pushed by another clone);
the clone being measured has the commits but none of those notes. Two cases:

* fast-forward: the clone has no notes of its own;
* merge: the clone also has one unpushed note of its own, so the notes histories must be merged.

Reference, measured in the same run on fresh copies of the same repositories (plain git, the
same refs moved):
    git fetch origin +refs/notes/gittree:refs/notes/gittree-remote/origin
    git notes --ref gittree merge refs/notes/gittree-remote/origin
    git push origin refs/notes/gittree            (merge case only: nothing to push otherwise)

`gittree sync` is measured twice: as users run it (a new Python process, start-up and argument
parsing included), and as its core function alone (`gittree.sync.sync`, timed inside a process
that has already imported gittree), which is gittree's own work. Either way it does more than the
reference: it also fetches the experiment branches and refs/gittree/*, and checks every ref before
pushing with leases.

Usage:  python benchmarks/bench_sync.py [--notes 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IDENTITY = "Bench <bench@example.org> 1767225600 +0000"


def git(cwd: Path, *args: str, input_bytes: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, input=input_bytes, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.decode()}")
    return done.stdout.decode()


def fast_import_commits(repo: Path, count: int) -> None:
    """``count`` commits on main, written in one ``git fast-import`` (seconds, not minutes)."""
    lines = []
    for i in range(1, count + 1):
        message = f"commit {i}".encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(f"mark :{i}\ncommitter {IDENTITY}\n".encode())
        lines.append(f"data {len(message)}\n".encode() + message + b"\n")
        if i > 1:
            lines.append(f"from :{i - 1}\n".encode())
        lines.append(f"M 644 inline file.txt\ndata {len(message)}\n".encode() + message + b"\n\n")
    git(repo, "fast-import", "--quiet", input_bytes=b"".join(lines))


def fast_import_notes(repo: Path, shas: list[str]) -> None:
    """One notes commit on refs/notes/gittree with a late result on each of ``shas``."""
    parts = [f"commit refs/notes/gittree\ncommitter {IDENTITY}\ndata 14\nbenchmark note\n".encode()]
    for i, sha in enumerate(shas):
        text = f"Gittree-Metric: acc=0.{i:04d}\nGittree-Note: seed {i} rerun\n".encode()
        parts.append(f"N inline {sha}\ndata {len(text)}\n".encode() + text)
    git(repo, "fast-import", "--quiet", input_bytes=b"".join(parts) + b"\n")


def build(root: Path, count: int) -> tuple[Path, Path, Path]:
    """The remote (with the notes) and two clones to copy: one without notes, one with a note of its own."""
    remote = root / "remote.git"
    git(root, "init", "-q", "--bare", "-b", "main", str(remote))
    writer = root / "writer"
    git(root, "init", "-q", "-b", "main", str(writer))
    fast_import_commits(writer, count + 1)  # the newest one keeps the measured clone's own note
    git(writer, "push", "-q", str(remote), "main")
    plain = root / "plain"
    git(root, "clone", "-q", str(remote), str(plain))
    mine = root / "mine"
    git(root, "clone", "-q", str(remote), str(mine))
    git(mine, "notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: acc=0.9", "HEAD")
    shas = git(writer, "rev-list", "main").split()
    fast_import_notes(writer, shas[1:])
    git(writer, "push", "-q", str(remote), "refs/notes/gittree")
    return remote, plain, mine


def fresh_copy(remote: Path, clone: Path, scratch: Path) -> Path:
    """Copies of the remote and the clone, the clone's origin pointing at the copied remote."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir()
    shutil.copytree(remote, scratch / "remote.git", symlinks=True)
    shutil.copytree(clone, scratch / "clone", symlinks=True)
    git(scratch / "clone", "remote", "set-url", "origin", str(scratch / "remote.git"))
    return scratch / "clone"


def timed(commands: list[list[str]], cwd: Path) -> float:
    start = time.perf_counter()
    for command in commands:
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()}{done.stdout.decode()}")
    return time.perf_counter() - start


def plain_git(merge: bool) -> list[list[str]]:
    commands = [
        ["git", "fetch", "-q", "origin", "+refs/notes/gittree:refs/notes/gittree-remote/origin"],
        ["git", "notes", "--ref", "gittree", "merge", "-q", "refs/notes/gittree-remote/origin"],
    ]
    if merge:
        commands.append(["git", "push", "-q", "origin", "refs/notes/gittree"])
    return commands


GITTREE = [[sys.executable, "-m", "gittree", "sync"]]

CORE = """
import sys, time
from gittree import gitio
from gittree.sync import sync
repo = gitio.open_repo(".")
start = time.perf_counter()
sync(repo)
print(time.perf_counter() - start)
"""


def timed_core(cwd: Path) -> float:
    done = subprocess.run([sys.executable, "-c", CORE], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"gittree.sync.sync failed: {done.stderr}")
    return float(done.stdout.strip())


def check_received(clone: Path, count: int) -> None:
    notes = git(clone, "notes", "--ref", "gittree", "list").splitlines()
    if len(notes) < count:
        raise SystemExit(f"only {len(notes)} notes arrived, expected {count}")


def isolate(root: Path) -> None:
    config = root / "gitconfig"
    config.write_text("[user]\n\tname = Bench\n\temail = bench@example.org\n[init]\n\tdefaultBranch = main\n")
    os.environ.update(
        GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", LC_ALL="C"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gittree-bench-sync-") as folder:
        root = Path(folder)
        isolate(root)
        remote, plain, mine = build(root, args.notes)
        print(f"{args.notes} new notes on the remote; median of {args.repeat} runs, fresh copies each time")
        print(f"{'case':<14}{'plain git':>10}{'gittree sync':>14}{'ratio':>7}{'core only':>11}{'ratio':>7}")
        for case, clone, merge in (("fast-forward", plain, False), ("merge", mine, True)):
            reference, command, core = [], [], []
            for i in range(args.repeat):  # interleaved, so all three see the same machine load
                copy = fresh_copy(remote, clone, root / f"run-{case}-{i}-git")
                reference.append(timed(plain_git(merge), copy))
                check_received(copy, args.notes)
                copy = fresh_copy(remote, clone, root / f"run-{case}-{i}-gittree")
                command.append(timed(GITTREE, copy))
                check_received(copy, args.notes)
                copy = fresh_copy(remote, clone, root / f"run-{case}-{i}-core")
                core.append(timed_core(copy))
                check_received(copy, args.notes)
            ref, cli, own = (statistics.median(x) for x in (reference, command, core))
            print(
                f"{case:<14}{ref * 1000:>8.0f}ms{cli * 1000:>12.0f}ms{cli / ref:>6.1f}x"
                f"{own * 1000:>9.0f}ms{own / ref:>6.1f}x"
            )
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gittree", "--version"], check=True, capture_output=True)
        print(f"(gittree start-up alone: {(time.perf_counter() - start) * 1000:.0f}ms)")


if __name__ == "__main__":
    main()
