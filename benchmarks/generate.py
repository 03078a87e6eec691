"""Write a research-shaped repository with ``git fast-import``, in seconds.

The shape follows an automated search (agent loops, sweeps): mostly experiments with 2-3 metrics,
a few hundred ordinary commits, side branches forked off random earlier experiments (a ref at each
leaf: about 23k refs at 100k commits), some crossover merges, some late results as gittree notes.
Everything is derived from a seeded random generator, so a size always gives the same repository.

Usage: ``python -m benchmarks.generate DIR --commits 100000``
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START = 1767225600  # 2026-01-01 00:00 UTC
IDENTITY = "Search Agent <agent@example.org>"
#: mean commits per side branch, chosen so that 100k commits leave about 23k leaves (a ref each).
MEAN_BRANCH_LENGTH = 3.0


@dataclass(frozen=True)
class Shape:
    commits: int
    ordinary: int
    merges: int
    notes: int

    @classmethod
    def for_size(cls, commits: int) -> Shape:
        # a few hundred ordinary commits at 100k; some merges and notes at every size
        return cls(
            commits=commits,
            ordinary=max(3, commits * 3 // 1000),
            merges=max(1, commits // 200),
            notes=max(1, commits // 50),
        )


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def _experiment_message(rng: random.Random, index: int, acc: float) -> str:
    lr = rng.choice(("1e-4", "3e-4", "1e-3", "3e-3"))
    depth = rng.choice((4, 6, 8, 12, 16))
    subject = f"exp {index}: lr {lr}, depth {depth}, {rng.choice(('mixup', 'cutmix', 'ema', 'sam', 'wd'))}"
    lines = [f"Gittree-Metric: acc={acc:.4f}", f"Gittree-Metric: loss={2.5 - 2 * acc:.4f}"]
    if rng.random() < 0.3:
        lines.append(f"Gittree-Metric: acc={acc + rng.uniform(-0.004, 0.004):.4f}")  # a second seed
    if rng.random() < 0.5:
        lines.append(f"Gittree-Metric: time={rng.uniform(50, 500):.1f}")
    lines += [f"Gittree-Param: lr={lr}", f"Gittree-Param: depth={depth}"]
    if rng.random() < 0.03:
        lines.append("Gittree-Status: abandoned")
    body = ""
    if rng.random() < 0.2:
        body = "Tried because the previous run plateaued early.\nSee the loss curve in the run log.\n\n"
    return f"{subject}\n\n{body}" + "\n".join(lines) + "\n"


def fast_import_stream(shape: Shape, seed: int = 6) -> Iterator[bytes]:
    """The fast-import commands for a repository of ``shape``."""
    rng = random.Random(seed)
    accs: list[float] = []
    leaves: dict[int, int] = {}  # mark -> branch number, for commits that are still a branch tip
    ordinary_at = set(rng.sample(range(1, shape.commits), shape.ordinary))
    merge_at = set(rng.sample(range(1, shape.commits), shape.merges))
    branch = 0
    remaining_in_branch = 20  # the first line of work, from the root
    parent = 0
    main_tip = 1
    for mark in range(1, shape.commits + 1):
        if remaining_in_branch <= 0:
            # a new side branch off a random earlier commit, mostly a recent one (searches exploit)
            recent = max(1, mark - 2000)
            parent = rng.randint(recent, mark - 1) if rng.random() < 0.8 else rng.randint(1, mark - 1)
            branch += 1
            remaining_in_branch = max(1, round(rng.expovariate(1 / MEAN_BRANCH_LENGTH)))
        leaves.pop(parent, None)
        base = accs[parent - 1] if parent else 0.4
        acc = min(0.99, max(0.05, base + rng.gauss(0.001, 0.01)))
        accs.append(acc)
        when = START + mark * 60
        message = (
            f"refactor data loading ({mark})\n"
            if mark in ordinary_at
            else _experiment_message(rng, mark, acc)
        )
        out = [
            b"commit refs/gittree-import/scratch\n",
            b"mark :%d\n" % mark,
            b"author %s %d +0000\n" % (IDENTITY.encode(), when),
            b"committer %s %d +0000\n" % (IDENTITY.encode(), when),
            _data(message),
        ]
        if parent:
            out.append(b"from :%d\n" % parent)
        if mark in merge_at and parent and mark > 10:
            other = rng.randint(max(1, mark - 500), mark - 1)
            if other != parent:
                out.append(b"merge :%d\n" % other)
        out.append(b"M 644 inline params.txt\n")
        out.append(_data(f"acc {acc:.4f}\nstep {mark}\n"))
        yield b"".join(out)
        leaves[mark] = branch
        parent = mark
        remaining_in_branch -= 1
        if branch == 0 or rng.random() < 0.02:
            main_tip = mark
    for mark, number in sorted(leaves.items()):
        if mark != main_tip:
            yield b"reset refs/heads/exp/%d-%d\nfrom :%d\n\n" % (number, mark, mark)
    yield b"reset refs/heads/main\nfrom :%d\n\n" % main_tip
    yield b"reset refs/gittree-import/scratch\nfrom 0000000000000000000000000000000000000000\n\n"
    # late results: one notes commit holding a note for some experiments
    noted = sorted(rng.sample([m for m in range(1, shape.commits + 1) if m not in ordinary_at], shape.notes))
    out = [
        b"commit refs/notes/gittree\n",
        b"committer %s %d +0000\n" % (IDENTITY.encode(), START + (shape.commits + 1) * 60),
        _data("Notes added by 'git notes append'"),
    ]
    for mark in noted:
        out.append(b"N inline :%d\n" % mark)
        out.append(_data(f"Gittree-Metric: test_acc={accs[mark - 1] - 0.01:.4f}\n"))
    yield b"".join(out) + b"\n"


def deep_stream(depth: int, sides: int) -> Iterator[bytes]:
    """One line of ``depth`` experiments, ``sides`` one-experiment branches off its last commits, and
    one merge of them all (and of an older commit of the line, which the tree drops): the shape where a merge's check of its parents once walked the whole line
    below each parent (an octopus of 40 on a 50k line took 55 s)."""
    for mark in range(1, depth + 1):
        out = [b"commit refs/heads/main\n", b"mark :%d\n" % mark]
        out.append(b"committer %s %d +0000\n" % (IDENTITY.encode(), START + mark * 60))
        out.append(_data(f"step {mark}\n\nGittree-Metric: acc={0.5 + (mark % 100) / 1000:.4f}\n"))
        if mark > 1:
            out.append(b"from :%d\n" % (mark - 1))
        yield b"".join(out) + b"\n"
    for side in range(sides):
        mark = depth + 1 + side
        yield b"".join(
            [
                b"commit refs/heads/side/%d\n" % side,
                b"mark :%d\n" % mark,
                b"committer %s %d +0000\n" % (IDENTITY.encode(), START + mark * 60),
                _data(f"side idea {side}\n\nGittree-Metric: acc=0.6\n"),
                b"from :%d\n\n" % (depth - 1 - side),
            ]
        )
    out = [b"commit refs/heads/main\n", b"committer %s %d +0000\n" % (IDENTITY.encode(), START)]
    out += [_data("every idea together\n\nGittree-Metric: acc=0.7\n"), b"from :%d\n" % depth]
    out += [b"merge :%d\n" % (depth + 1 + side) for side in range(sides)]
    out.append(b"merge :%d\n" % max(1, depth - sides - 5))  # already below the line's top: redundant
    yield b"".join(out) + b"\n"


class _Marks:
    """The commits of a fast-import stream, numbered (marks) as they are written, a minute apart."""

    def __init__(self) -> None:
        self.last = 0

    def commit(self, ref: bytes, message: str, parents: tuple[int, ...]) -> bytes:
        """One commit on ``ref`` with ``message`` and the ``parents`` marks (the first is its ``from``)."""
        self.last += 1
        out = [b"commit %s\nmark :%d\n" % (ref, self.last)]
        out.append(b"committer %s %d +0000\n" % (IDENTITY.encode(), START + self.last * 60))
        out.append(_data(message))
        out += [b"from :%d\n" % parents[0]] if parents else []
        out += [b"merge :%d\n" % other for other in parents[1:]]
        return b"".join(out) + b"\n"


def merged_stream(branches: int) -> Iterator[bytes]:
    """A main line of ordinary work that merges ``branches`` branches one after another, each of two
    experiments off the main line; then one experiment on top: the shape of a team merging ideas."""
    marks = _Marks()
    commit = marks.commit

    yield commit(b"refs/heads/main", "start\n", ())
    main = marks.last
    for branch in range(branches):
        tip = main
        for step in range(2):
            yield commit(
                b"refs/heads/idea", f"idea {branch}.{step}\n\nGittree-Metric: acc=0.{5000 + branch}\n", (tip,)
            )
            tip = marks.last
        for step in range(3):
            yield commit(b"refs/heads/main", f"work {branch}.{step}\n", (main,))
            main = marks.last
        yield commit(b"refs/heads/main", f"Merge idea {branch}\n", (main, tip))
        main = marks.last
    yield commit(b"refs/heads/main", "on top of everything\n\nGittree-Metric: acc=0.9\n", (main,))


def git_shaped_stream(commits: int, tags: int, remotes: int, experiments: int) -> Iterator[bytes]:
    """A history shaped like git's own (85k commits, about 1k refs): a main line of ordinary work that
    merges a three-commit topic branch every fifth commit, a tag every ``commits // tags`` commits,
    ``remotes`` remote-tracking branches along it; then a branch ``research`` off the top with
    ``experiments`` experiments on one line (HEAD there): the shape of a project that starts
    recording experiments on a branch of a long history (issue 19)."""
    marks = _Marks()
    commit = marks.commit

    yield commit(b"refs/heads/main", "initial import\n", ())
    main = marks.last
    tag_every = max(1, commits // max(1, tags))
    remote_every = max(1, commits // max(1, remotes))
    extra: list[bytes] = []
    while marks.last < commits - experiments:
        tip = main
        for step in range(3):
            yield commit(
                b"refs/heads/topic", f"topic {marks.last}: step {step}\n\nSigned-off-by: {IDENTITY}\n", (tip,)
            )
            tip = marks.last
        yield commit(b"refs/heads/main", f"fix {marks.last}\n", (main,))
        yield commit(b"refs/heads/main", f"Merge branch 'topic-{marks.last}'\n", (marks.last, tip))
        main = marks.last
        for every, ref in (
            (tag_every, b"refs/tags/v%d" % marks.last),
            (remote_every, b"refs/remotes/origin/t%d" % marks.last),
        ):
            if marks.last // every != (marks.last - 5) // every:
                extra.append(b"reset %s\nfrom :%d\n\n" % (ref, main))
    yield b"".join(extra)
    yield b"reset refs/heads/topic\nfrom 0000000000000000000000000000000000000000\n\n"
    tip = main
    for index in range(experiments):
        acc = 0.5 + index / 1000
        yield commit(b"refs/heads/research", f"try {index}\n\nGittree-Metric: acc={acc:.4f}\n", (tip,))
        tip = marks.last


def generate_git_shaped(path: Path, commits: int, tags: int, remotes: int, experiments: int) -> Path:
    """Create the repository of :func:`git_shaped_stream` at ``path`` (must not exist), HEAD on ``research``."""
    _fast_import(path, git_shaped_stream(commits, tags, remotes, experiments))
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/research"], cwd=path, check=True)
    return path


def generate(path: Path, commits: int, seed: int = 6) -> Path:
    """Create the repository at ``path`` (must not exist) and return it."""
    return _fast_import(path, fast_import_stream(Shape.for_size(commits), seed))


def generate_deep(path: Path, depth: int, sides: int) -> Path:
    """Create the repository of :func:`deep_stream` at ``path`` (must not exist) and return it."""
    return _fast_import(path, deep_stream(depth, sides))


def generate_merged(path: Path, branches: int) -> Path:
    """Create the repository of :func:`merged_stream` at ``path`` (must not exist) and return it."""
    return _fast_import(path, merged_stream(branches))


def add_kept_dead_ends(path: Path, count: int, seed: int = 19) -> list[str]:
    """Add ``count`` experiments to the repository at ``path`` that only ``refs/gittree/keep`` reaches.

    Each is a commit on top of a commit picked at random (seeded), written on a branch of its own, kept
    by gittree's own keep step (``gitio.keep_commits``, as ``gittree run`` keeps what it writes) and
    then left behind by deleting its branch: a dead end reset away, which every view shows as
    discarded. Returns their ids.
    """
    from gittree import gitio

    listed = subprocess.run(["git", "rev-list", "--all"], cwd=path, capture_output=True, check=True)
    commits = listed.stdout.decode("ascii").split()
    rng = random.Random(seed)
    bases = [rng.choice(commits) for _ in range(count)]
    chunks = []
    for index, base in enumerate(bases):
        message = f"dead end {index}\n\nGittree-Metric: acc={rng.uniform(0.1, 0.5):.4f}\n"
        chunks.append(
            f"commit refs/heads/dead-end/{index}\ncommitter Dead End <dead@example.com> "
            f"{1767225600 + index} +0000\n".encode()
            + _data(message)
            + f"from {base}\n\n".encode()
        )
    process = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(b"".join(chunks) + b"done\n")
    process.stdin.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    heads = [f"refs/heads/dead-end/{index}" for index in range(count)]
    shown = subprocess.run(["git", "rev-parse", *heads], cwd=path, capture_output=True, check=True)
    dead = shown.stdout.decode("ascii").split()
    gitio.keep_commits(gitio.open_repo(path), dead)
    deletes = "".join(f"delete {head}\n" for head in heads).encode()
    subprocess.run(["git", "update-ref", "--stdin"], cwd=path, input=deletes, check=True)
    subprocess.run(["git", "pack-refs", "--all"], cwd=path, check=True)
    return dead


def _fast_import(path: Path, stream: Iterator[bytes]) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    process = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE)
    assert process.stdin is not None
    for chunk in stream:
        process.stdin.write(chunk)
    process.stdin.write(b"done\n")
    process.stdin.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    # As `git gc` leaves a repository: packed refs and a commit-graph file.
    subprocess.run(["git", "pack-refs", "--all"], cwd=path, check=True)
    subprocess.run(["git", "commit-graph", "write", "--reachable"], cwd=path, check=True, capture_output=True)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generate(args.path, args.commits, args.seed)
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=x"], cwd=args.path, capture_output=True, check=True
    ).stdout.count(b"\n")
    print(
        f"{args.path}: {args.commits} commits, {refs} refs in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
