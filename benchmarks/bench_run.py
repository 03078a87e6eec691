"""Overhead of `gittree run` over running a command bare, and of its commit over a plain `git commit`.

Every figure is a ratio against a reference measured in the same run, on the same machine, in the same
temporary repository, with measurements interleaved so that drift hits both sides alike:

    python benchmarks/bench_run.py            # 15 repetitions of each (median)
    python benchmarks/bench_run.py -n 31

`gittree run --new -- true` measures gittree's whole fixed cost of a new experiment: start-up, the
journal (with fsync), the snapshot of the working tree, the child, the metrics, and the commit; its
reference is the same change made by hand, `python -c pass` then `git commit` (issue 19's target:
≤ 8×). Without `--new`, a run of the same code, command and params adds a sample to the experiment at
HEAD (a note) instead: the `true` row measures that. `sleep 1` shows what that cost means for a
command that does some work. Each row is given by wall time and by CPU time (user + system of the process and the processes it waited for):
on a shared machine the CPU figure is the steadier one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

GITTREE = Path(sys.executable).parent / "gittree"


def isolated_env(home: Path) -> dict[str, str]:
    config = home / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n")
    return {
        **os.environ,
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(home),
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
    }


def make_repo(path: Path, env: dict[str, str]) -> None:
    """A small project: 200 tracked files in 10 folders, one commit."""
    path.mkdir()
    for folder in range(10):
        (path / f"pkg{folder}").mkdir()
        for i in range(20):
            (path / f"pkg{folder}" / f"mod{i}.py").write_text(f"VALUE = {folder * 20 + i}\n" * 20)
    subprocess.run(["git", "init", "-q"], cwd=path, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "start"], cwd=path, env=env, check=True)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the child and of what it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu


def in_turn(*commands: list[str], cwd: Path, env: dict[str, str]) -> Callable[[], tuple[float, float]]:
    """A measurement of several commands run one after the other (their times added)."""

    def measure() -> tuple[float, float]:
        times = [timed(command, cwd, env) for command in commands]
        return sum(t[0] for t in times), sum(t[1] for t in times)

    return measure


Measured = tuple[str, float, float, float, float]


def pair(
    label: str,
    reference: Callable[[], tuple[float, float]],
    measured: Callable[[], tuple[float, float]],
    repeat: int,
) -> Measured:
    """Median wall and CPU seconds of both, measured alternately: label, reference, ours (wall), then CPU."""
    ours, theirs = [], []
    for _ in range(repeat):
        theirs.append(reference())
        ours.append(measured())
    return (
        label,
        statistics.median(t[0] for t in theirs),
        statistics.median(o[0] for o in ours),
        statistics.median(t[1] for t in theirs),
        statistics.median(o[1] for o in ours),
    )


@contextlib.contextmanager
def scratch_repo() -> Iterator[tuple[Path, dict[str, str]]]:
    """A :func:`make_repo` repository in a temporary folder, and the isolated environment to run in it."""
    with tempfile.TemporaryDirectory(prefix="gittree-bench-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = isolated_env(home)
        repo = Path(tmp) / "repo"
        make_repo(repo, env)
        yield repo, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeat", type=int, default=15, help="repetitions (median is reported)")
    options = parser.parse_args()
    with scratch_repo() as (repo, env):
        n = options.repeat
        gittree = str(GITTREE)
        by_hand = in_turn(
            [sys.executable, "-c", "pass"],
            ["git", "commit", "-q", "--allow-empty", "-m", "plain"],
            cwd=repo,
            env=env,
        )
        timed([gittree, "run", "--", "true"], repo, env)  # the journal's folder, and the experiment at HEAD
        rows = [
            pair(
                "run --new -- true  vs  python + commit",
                by_hand,
                in_turn([gittree, "run", "--new", "--", "true"], cwd=repo, env=env),
                n,
            ),
            pair(
                "run -- true (adds a sample)  vs  true",
                in_turn(["true"], cwd=repo, env=env),
                in_turn([gittree, "run", "--", "true"], cwd=repo, env=env),
                n,
            ),
            pair(
                "run -- sleep 1  vs  sleep 1",
                in_turn(["sleep", "1"], cwd=repo, env=env),
                in_turn([gittree, "run", "--", "sleep", "1"], cwd=repo, env=env),
                max(3, n // 5),
            ),
            pair(
                "gittree commit  vs  git commit",
                in_turn(["git", "commit", "-q", "--allow-empty", "-m", "plain"], cwd=repo, env=env),
                in_turn(
                    [gittree, "commit", "--allow-empty", "-m", "experiment", "--metric", "acc=0.5"],
                    cwd=repo,
                    env=env,
                ),
                n,
            ),
        ]
        startup = statistics.median(timed([sys.executable, "-c", "pass"], repo, env)[0] for _ in range(n))
        version = statistics.median(timed([gittree, "--version"], repo, env)[0] for _ in range(n))
    print(
        f"median of {n} (sleep: {max(3, n // 5)}), {sys.platform}, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'':40} {'reference':>10} {'gittree':>10} {'ratio':>7} {'overhead':>10} {'CPU ratio':>10}")
    for label, reference, ours, cpu_reference, cpu_ours in rows:
        print(
            f"{label:40} {reference * 1000:8.1f}ms {ours * 1000:8.1f}ms "
            f"{ours / reference:6.2f}x {(ours - reference) * 1000:8.1f}ms {cpu_ours / cpu_reference:9.2f}x"
        )
    print(f"for scale: python -c pass {startup * 1000:.1f} ms, gittree --version {version * 1000:.1f} ms")


if __name__ == "__main__":
    main()
