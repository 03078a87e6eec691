"""Overhead of `gittree sweep` over running the same commands bare: 4 points × 3 seeds of a 0.1 s command.

The reference runs the twelve commands one after another in a plain loop; `gittree sweep -j 1` runs the
same twelve, journals each, streams their output, and commits four experiments on four branches. Both
are measured alternately in the same temporary repository (200 tracked files), so drift hits both alike:

    python benchmarks/bench_sweep.py            # 5 repetitions (median)
    python benchmarks/bench_sweep.py -n 9

The figure that matters is the overhead per point, (sweep - bare) / 4: what one sibling experiment with
three seeds costs beyond its commands. `-j 3` is shown for scale (runs at once; its gain depends on the
cores free). `gittree run --seeds 0,1,2` of the same command (one experiment, three samples) is measured
against its three commands run bare: the overhead per run of a group.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.bench_run import GITTREE, scratch_repo

POINTS = ("1", "2", "3", "4")
SEEDS = ("0", "1", "2")
#: The command: 0.1 s of work, taking the point's value and the seed as a real script would.
COMMAND = [sys.executable, "-c", "import sys, time; time.sleep(0.1); print('acc:', 0.5)"]


def bare(repo: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    for point in POINTS:
        for seed in SEEDS:
            subprocess.run([*COMMAND, point, seed], cwd=repo, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def sweep(repo: Path, env: dict[str, str], jobs: int) -> float:
    args = [str(GITTREE), "sweep", "--grid", f"x={','.join(POINTS)}", "--seeds", ",".join(SEEDS)]
    args += ["-j", str(jobs), "--capture", "acc", "--", *COMMAND, "{x}", "{seed}"]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"gittree sweep failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def seeds(repo: Path, env: dict[str, str]) -> float:
    """``gittree run --seeds 0,1,2`` of the command: one experiment with three samples."""
    args = [str(GITTREE), "run", "--new", "--seeds", ",".join(SEEDS), "--capture", "acc", "--", *COMMAND, "1"]
    start = time.perf_counter()
    done = subprocess.run(
        [*args, "{seed}"], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"gittree run --seeds failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def bare_seeds(repo: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    for seed in SEEDS:
        subprocess.run([*COMMAND, "1", seed], cwd=repo, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeat", type=int, default=5, help="repetitions (median is reported)")
    options = parser.parse_args()
    with scratch_repo() as (repo, env):
        plain, serial, parallel, three, grouped = [], [], [], [], []
        for _ in range(options.repeat):
            plain.append(bare(repo, env))
            serial.append(sweep(repo, env, 1))
            parallel.append(sweep(repo, env, 3))
            three.append(bare_seeds(repo, env))
            grouped.append(seeds(repo, env))
    reference, ours, wide = (statistics.median(x) for x in (plain, serial, parallel))
    seeds_reference, seeds_ours = statistics.median(three), statistics.median(grouped)
    runs = len(POINTS) * len(SEEDS)
    load = os.getloadavg()[0]
    print(f"median of {options.repeat}, {sys.platform}, Python {sys.version.split()[0]}, load {load:.1f}")
    print(f"{len(POINTS)} points x {len(SEEDS)} seeds of a 0.1 s command ({runs} runs)")
    print(f"  bare loop             {reference:7.3f} s")
    print(f"  gittree sweep -j 1    {ours:7.3f} s   {ours / reference:5.2f}x")
    print(f"  gittree sweep -j 3    {wide:7.3f} s   {wide / reference:5.2f}x")
    print(
        f"  overhead per point (-j 1): {(ours - reference) / len(POINTS) * 1000:.0f} ms, "
        f"per run {(ours - reference) / runs * 1000:.0f} ms"
    )
    print(f"{len(SEEDS)} seeds of the command, one experiment (run --new --seeds {','.join(SEEDS)} -j 1)")
    print(f"  bare loop             {seeds_reference:7.3f} s")
    print(f"  gittree run --seeds   {seeds_ours:7.3f} s   {seeds_ours / seeds_reference:5.2f}x")
    print(f"  overhead per run: {(seeds_ours - seeds_reference) / len(SEEDS) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
