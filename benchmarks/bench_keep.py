"""What the keep ref costs at scale: keeping, forgetting, following a rewrite and merging, with N kept commits.

A repository holds a main line of N/2 commits and one dead end off each (N kept commits, N/2 of them
in the keep commit's frontier: the worst shape, every dead end a parent). Each operation is timed inside
a process that has already imported gittree (gittree's own work, start-up aside), as the median of
``--repeat`` runs on a fresh copy of the keep ref, and given as a ratio to the reference measured in the
same run: ``git update-ref`` of one ref (the floor of any ref move, one git process).

* keep 1: what `gittree commit` / `run` / `record` add for a new experiment (``gitio.keep_commits``);
* forget 1: `gittree forget` of one dead end (its frontier slot goes);
* follow 1 rewrite: what the post-rewrite hook does after an amend of a kept dead end;
* merge: `gittree sync` merging the remote's keep commit that forgot 100 dead ends and kept 100 new ones;
* covers: the check `gittree sync` makes before pushing the keep ref;
* forgotten list: what a cold view reads once a keep ref lists 100 forgotten commits.

Usage:  python benchmarks/bench_keep.py [--kept 10000] [--repeat 5]
Functions the installed gittree lacks (an older version) are skipped, so that it can be run on both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.bench_sync import IDENTITY, git


def build(repo: Path, kept: int) -> tuple[list[str], list[str]]:
    """A main line of ``kept // 2`` commits with a dead end off each; returns (line, dead ends)."""
    git(repo.parent, "init", "-q", "-b", "main", str(repo))
    lines = []
    half = kept // 2
    for i in range(1, half + 1):
        for side in (0, 1):
            mark = 2 * i - 1 + side
            message = f"{'dead end' if side else 'step'} {i}\n\nGittree-Metric: acc=0.{i:05d}\n".encode()
            ref = "refs/heads/main" if side == 0 else "refs/bench/dead"
            lines.append(f"commit {ref}\nmark :{mark}\ncommitter {IDENTITY}\n".encode())
            lines.append(f"data {len(message)}\n".encode() + message)
            if i > 1 or side:
                lines.append(f"from :{2 * i - 1 if side else 2 * i - 3}\n".encode())
            lines.append(b"\n")
    marks = repo / ".git" / "bench-marks"
    git(repo, "fast-import", "--quiet", f"--export-marks={marks}", input_bytes=b"".join(lines))
    git(repo, "update-ref", "-d", "refs/bench/dead")
    by_mark = dict(entry.split() for entry in marks.read_text().splitlines())
    line = [by_mark[f":{2 * i - 1}"] for i in range(1, half + 1)]
    dead = [by_mark[f":{2 * i}"] for i in range(1, half + 1)]
    return line, dead


def new_commit(repo: Path, parent: str, subject: str) -> str:
    tree = git(repo, "rev-parse", f"{parent}^{{tree}}").strip()
    return git(repo, "commit-tree", tree, "-p", parent, "-m", subject).strip()


def median(action: Callable[[], object], reset: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        reset()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kept", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from gittree import gitio

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        os.environ.update(
            GIT_CONFIG_GLOBAL=str(root / "gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="Bench",
            GIT_AUTHOR_EMAIL="bench@example.org",
            GIT_COMMITTER_NAME="Bench",
            GIT_COMMITTER_EMAIL="bench@example.org",
        )
        repo_path = root / "repo"
        started = time.perf_counter()
        line, dead = build(repo_path, args.kept)
        repo = gitio.open_repo(repo_path)
        gitio.keep_commits(repo, line + dead)
        print(
            f"{len(line) + len(dead)} kept commits, {len(dead)} dead ends; built in {time.perf_counter() - started:.1f} s"
        )
        base = git(repo_path, "rev-parse", gitio.KEEP_REF).strip()
        fresh = [new_commit(repo_path, line[-1], f"new {i}") for i in range(args.repeat + 100)]
        rewritten = new_commit(repo_path, line[-1], "dead end, amended")

        def reset(to: str = base) -> None:
            git(repo_path, "update-ref", gitio.KEEP_REF, to)
            gitio.open_repo(repo_path)  # nothing cached between runs

        counter = iter(range(10**6))
        reference = median(
            lambda: git(repo_path, "update-ref", "refs/bench/x", fresh[0]), lambda: None, args.repeat
        )
        rows: list[tuple[str, float]] = []
        rows.append(
            (
                "keep 1",
                median(lambda: gitio.keep_commits(repo, [fresh[next(counter) % 5]]), reset, args.repeat),
            )
        )
        rows.append(("forget 1", median(lambda: gitio.forget_commits(repo, [dead[-1]]), reset, args.repeat)))
        if hasattr(gitio, "follow_rewrites"):
            rows.append(
                (
                    "follow 1 rewrite",
                    median(lambda: gitio.follow_rewrites(repo, [(dead[-1], rewritten)]), reset, args.repeat),
                )
            )
        # the remote's keep commit: 100 dead ends forgotten, 100 new experiments kept
        gitio.forget_commits(repo, dead[:100], descendants=False)
        gitio.keep_commits(repo, fresh[-100:])
        theirs = git(repo_path, "rev-parse", gitio.KEEP_REF).strip()
        reset()
        rows.append(
            (
                "merge (100 forgotten, 100 new)",
                median(lambda: gitio.merge_keep(repo, base, theirs), reset, args.repeat),
            )
        )
        rows.append(("covers", median(lambda: gitio.keep_covers(repo, base, theirs), reset, args.repeat)))
        if hasattr(gitio, "forgotten_shas"):
            rows.append(
                (
                    "forgotten list (100)",
                    median(lambda: gitio.forgotten_shas(repo, theirs), reset, args.repeat),
                )
            )
        print(f"reference: git update-ref {reference * 1000:.1f} ms")
        for name, seconds in rows:
            print(f"{name:32} {seconds * 1000:8.1f} ms  {seconds / reference:6.1f}x")


if __name__ == "__main__":
    main()
