"""How long `gittree export --format json` takes on a big research history, against `git log` over it.

    .venv/bin/python benchmarks/bench_export.py [--experiments 10000] [--repeat 5] [--keep DIR]

The repository is generated with `git fast-import` (one process, seconds): a main line of work with a
side branch every few experiments, repeated seeds, dead ends, ordinary commits in between and a crossover
merge now and then. Both commands run as subprocesses in the same run, on the same repository, and the
figure reported is the ratio of their medians: machine speed cancels out.

The reference is `git log --all` printing what the export needs of each commit (hash, parents, author,
date, full message) — the cost of merely reading the history through git itself.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

START = 1767225600  # 2026-01-01 00:00 UTC
GIT_LOG = ["git", "log", "--all", "--format=%H%x00%P%x00%an%x00%ae%x00%at%x00%B%x00"]


def isolated_env(home: Path) -> dict[str, str]:
    """git without the user's configuration, so that no setting of theirs changes the figures."""
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
        "LC_ALL": "C",
    }


def _data(text: str) -> str:
    raw = text.encode("utf-8")
    return f"data {len(raw)}\n{text}"


def _commit(ref: str, mark: int, when: int, message: str, parents: list[int], change: str) -> str:
    lines = [
        f"commit {ref}",
        f"mark :{mark}",
        f"author Bench <bench@example.org> {when} +0000",
        f"committer Bench <bench@example.org> {when} +0000",
        _data(message),
    ]
    if parents:
        lines.append(f"from :{parents[0]}")
        lines.extend(f"merge :{parent}" for parent in parents[1:])
    lines.append("M 644 inline model.py")
    lines.append(_data(change + "\n"))
    return "\n".join(lines) + "\n"


def _experiment_message(i: int, rng: random.Random, acc: float, status: str | None) -> str:
    seeds = 3 if i % 7 == 0 else 1
    lines = [f"Gittree-Metric: acc={acc + rng.gauss(0, 0.002):.4f}" for _ in range(seeds)]
    lines.append(f"Gittree-Metric: loss={2.5 - 2 * acc:.4f}")
    lines.append(f"Gittree-Param: lr={rng.choice(['1e-3', '3e-4', '1e-4'])}")
    lines.append(f"Gittree-Param: depth={rng.randint(4, 24)}")
    if i % 5 == 0:
        lines.append(
            f"Gittree-Note: idea {i}: {rng.choice(['wider', 'deeper', 'more data', 'less dropout'])}"
        )
    if status:
        lines.append(f"Gittree-Status: {status}")
        lines.append(f"Gittree-Note: stopped: no gain after {rng.randint(5, 50)} epochs")
    return (
        f"experiment {i}: try something\n\nWhy and how, in a sentence or two.\n\n" + "\n".join(lines) + "\n"
    )


def fast_import_stream(experiments: int, seed: int = 7) -> Iterator[str]:
    """The history as a `git fast-import` stream: about ``experiments`` experiments and 10% ordinary commits."""
    rng = random.Random(seed)
    mark = 0
    main_tip = 0
    acc = 0.40
    made = 0
    branch = 0
    while made < experiments:
        mark += 1
        when = START + mark * 60
        if rng.random() < 0.1:  # an ordinary commit on the main line
            yield _commit(
                "refs/heads/main", mark, when, f"chore {mark}\n", [main_tip] if main_tip else [], f"c{mark}"
            )
            main_tip = mark
            continue
        acc = min(0.99, acc + abs(rng.gauss(0, 0.004)))
        yield _commit(
            "refs/heads/main",
            mark,
            when,
            _experiment_message(made, rng, acc, None),
            [main_tip] if main_tip else [],
            f"m{mark}",
        )
        main_tip = mark
        made += 1
        if made % 4 == 0 and made < experiments:  # a side branch of one to three ideas
            branch += 1
            side_tip = main_tip
            side_acc = acc
            for step in range(rng.randint(1, 3)):
                if made >= experiments:
                    break
                mark += 1
                side_acc += rng.gauss(-0.002, 0.006)
                status = "abandoned" if step == 0 and rng.random() < 0.2 else None
                yield _commit(
                    f"refs/heads/exp/{branch}",
                    mark,
                    START + mark * 60,
                    _experiment_message(made, rng, side_acc, status),
                    [side_tip],
                    f"s{mark}",
                )
                side_tip = mark
                made += 1
            if branch % 25 == 0 and made < experiments:  # now and then an idea is merged back
                mark += 1
                yield _commit(
                    "refs/heads/main",
                    mark,
                    START + mark * 60,
                    _experiment_message(made, rng, acc + 0.003, None),
                    [main_tip, side_tip],
                    f"x{mark}",
                )
                main_tip = mark
                made += 1


def build_repository(path: Path, experiments: int, env: dict[str, str]) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    with subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE, env=env
    ) as process:
        assert process.stdin is not None
        for chunk in fast_import_stream(experiments):
            process.stdin.write(chunk.encode("utf-8"))
        process.stdin.close()
        if process.wait() != 0:
            raise SystemExit("git fast-import failed")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True, env=env)


def timed(command: list[str], cwd: Path, env: dict[str, str], repeat: int) -> tuple[float, int]:
    """Median wall time of ``command`` over ``repeat`` runs (after one warm-up), and its output size."""
    size = len(subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=True).stdout)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    args = parser.parse_args()

    gittree = str(Path(sys.executable).parent / "gittree")
    work = Path(tempfile.mkdtemp(prefix="gittree-bench-"))
    try:
        env = isolated_env(work)
        repo = args.keep or work / "repo"
        began = time.perf_counter()
        build_repository(repo, args.experiments, env)
        built = time.perf_counter() - began
        commits = int(
            subprocess.run(
                ["git", "rev-list", "--all", "--count"], cwd=repo, env=env, capture_output=True, check=True
            ).stdout
        )
        git_time, git_size = timed(GIT_LOG, repo, env, args.repeat)
        export_time, export_size = timed(
            [gittree, "export", "--all", "--format", "json"], repo, env, args.repeat
        )
        print(f"repository: {args.experiments} experiments, {commits} commits (built in {built:.1f} s)")
        print(f"git log --all (hash, parents, author, date, message): {git_time:.3f} s, {git_size} bytes")
        print(
            f"gittree export --format json:                         {export_time:.3f} s, {export_size} bytes"
        )
        print(f"ratio export / git log: {export_time / git_time:.1f}x  (median of {args.repeat} runs each)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
