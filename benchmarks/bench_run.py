"""Overhead of `gittree run` over running a command bare, and of its commit over a plain `git commit`.

Every figure is a ratio against a reference measured in the same run, on the same machine, in the same
temporary repository, with measurements interleaved so that drift hits both sides alike:

    python benchmarks/bench_run.py            # 15 repetitions of each (median)
    python benchmarks/bench_run.py -n 31

`gittree run -- true` measures gittree's whole fixed cost: start-up, the journal (with fsync), the
snapshot of the working tree, the child, the metrics, and the commit. `sleep 1` shows what that cost
means for a command that does some work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def pair(
    label: str, reference: Callable[[], float], measured: Callable[[], float], repeat: int
) -> tuple[str, float, float]:
    """Median seconds of both, measured alternately."""
    ours, theirs = [], []
    for _ in range(repeat):
        theirs.append(reference())
        ours.append(measured())
    return label, statistics.median(theirs), statistics.median(ours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeat", type=int, default=15, help="repetitions (median is reported)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gittree-bench-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = isolated_env(home)
        repo = Path(tmp) / "repo"
        make_repo(repo, env)
        n = options.repeat
        rows = [
            pair(
                "gittree run -- true   vs  true",
                lambda: timed(["true"], repo, env),
                lambda: timed([str(GITTREE), "run", "--", "true"], repo, env),
                n,
            ),
            pair(
                "gittree run -- sleep 1  vs  sleep 1",
                lambda: timed(["sleep", "1"], repo, env),
                lambda: timed([str(GITTREE), "run", "--", "sleep", "1"], repo, env),
                max(3, n // 5),
            ),
            pair(
                "gittree commit  vs  git commit",
                lambda: timed(["git", "commit", "-q", "--allow-empty", "-m", "plain"], repo, env),
                lambda: timed(
                    [str(GITTREE), "commit", "--allow-empty", "-m", "experiment", "--metric", "acc=0.5"],
                    repo,
                    env,
                ),
                n,
            ),
        ]
        startup = statistics.median(timed([sys.executable, "-c", "pass"], repo, env) for _ in range(n))
        version = statistics.median(timed([str(GITTREE), "--version"], repo, env) for _ in range(n))
    print(f"median of {n} (sleep: {max(3, n // 5)}), {sys.platform}, Python {sys.version.split()[0]}")
    print(f"{'':38} {'reference':>10} {'gittree':>10} {'ratio':>8} {'overhead':>10}")
    for label, reference, ours in rows:
        print(
            f"{label:38} {reference * 1000:8.1f}ms {ours * 1000:8.1f}ms "
            f"{ours / reference:7.2f}x {(ours - reference) * 1000:8.1f}ms"
        )
    print(f"for scale: python -c pass {startup * 1000:.1f} ms, gittree --version {version * 1000:.1f} ms")


if __name__ == "__main__":
    main()
