"""How long `gittree render --format svg` takes, against Graphviz alone laying out the same DOT.

Two repositories, built in this run: the demo (26 experiments) and a generated one with 1,000
experiments (written with `git fast-import` in about a second: a main line with side branches,
dead ends, repeated seeds and crossovers). For each:

* ``render``: the console script end to end (``gittree render --all --format svg -o FILE``): start-up,
  reading the history, building the tree and the DOT, laying it out, writing the file;
* ``show``: ``gittree show --all`` on the same repository, for reference: what any gittree command
  pays to start and read the tree;
* ``system dot``: ``dot -Tsvg`` on the DOT ``gittree render --format dot`` wrote (skipped when the
  system has no Graphviz; it is never required);
* ``wasm layout``: the WebAssembly Graphviz alone on that DOT, in this process, its code already
  compiled (gittree's own layout step, without Python's start-up or git);
* ``wasm process``: the same as a process of its own, like ``dot`` (Python start-up, importing
  wasmtime and loading the compiled code from the cache included).

Times are medians of several runs, measured in the same run; the ratios are what to read.

    .venv/bin/python benchmarks/bench_render.py [--experiments 1000] [--repeat 5]
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
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
START = 1772442000


def median_time(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def git_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CACHE_HOME": str(home / "cache"),
    }


def fast_import_stream(experiments: int, seed: int = 7) -> str:
    """A research history: a main line that improves, side branches that mostly do not, some merges."""
    rng = random.Random(seed)
    out: list[str] = []
    mark = 0
    clock = START

    def commit(ref: str, parents: list[int], subject: str, trailers: list[str]) -> int:
        nonlocal mark, clock
        mark += 1
        clock += 600
        message = subject + "\n" + ("\n" + "\n".join(trailers) + "\n" if trailers else "")
        data = message.encode("utf-8")
        out.append(f"commit {ref}\nmark :{mark}\n")
        out.append(f"author Ada Researcher <ada@example.org> {clock} +0000\n")
        out.append(f"committer Ada Researcher <ada@example.org> {clock} +0000\n")
        out.append(f"data {len(data)}\n{message}\n")
        if parents:
            out.append(f"from :{parents[0]}\n")
            out.extend(f"merge :{p}\n" for p in parents[1:])
        return mark

    def metrics(acc: float, seeds: int) -> list[str]:
        return [f"Gittree-Metric: acc={acc + rng.gauss(0, 0.001):.4f}" for _ in range(seeds)] + [
            f"Gittree-Metric: loss={2.5 - 2 * acc + rng.gauss(0, 0.01):.4f}"
        ]

    made = 0
    acc = 0.40
    head = commit("refs/heads/main", [], "baseline", metrics(acc, 1))
    made += 1
    branch = 0
    while made < experiments:
        if rng.random() < 0.2:  # ordinary commits between experiments
            head = commit("refs/heads/main", [head], f"refactor {made}", [])
        if rng.random() < 0.35 and made + 3 < experiments:  # a side branch of a few ideas
            branch += 1
            tip, side_acc = head, acc
            for step in range(rng.randint(1, 4)):
                side_acc += rng.gauss(-0.002, 0.004)
                status = ["Gittree-Status: abandoned", "Gittree-Note: no gain"] if rng.random() < 0.1 else []
                tip = commit(
                    f"refs/heads/exp/{branch}", [tip], f"idea {branch}.{step}", metrics(side_acc, 1) + status
                )
                made += 1
            if rng.random() < 0.15 and made < experiments:  # a crossover of the side idea into the main line
                acc += 0.002
                head = commit("refs/heads/main", [head, tip], f"merge idea {branch}", metrics(acc, 1))
                made += 1
            continue
        acc += rng.choice([0.004, 0.0005, -0.001, 0.002])
        head = commit("refs/heads/main", [head], f"main step {made}", metrics(acc, 3 if made % 5 == 0 else 1))
        made += 1
    return "".join(out) + "done\n"


def generated_repo(path: Path, experiments: int, env: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet", "--done"],
        input=fast_import_stream(experiments).encode("utf-8"),
        check=True,
        env=env,
    )
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True, env=env)
    return path


def demo_repo(path: Path, env: dict[str, str]) -> Path:
    subprocess.run([str(BIN / "gittree"), "demo", str(path)], check=True, env=env, capture_output=True)
    return path


def measure(name: str, repo: Path, env: dict[str, str], repeat: int) -> dict[str, float | None]:
    from gittree.render.graphviz import system_dot, wasm_layout

    exe = str(BIN / "gittree")
    out = repo / "bench.svg"
    dot_file = repo / "bench.dot"
    subprocess.run(
        [exe, "-C", str(repo), "render", "--all", "-f", "dot", "-o", str(dot_file)],
        check=True,
        env=env,
        capture_output=True,
    )
    dot_source = dot_file.read_text(encoding="utf-8")

    def render() -> None:
        subprocess.run(
            [exe, "-C", str(repo), "render", "--all", "-f", "svg", "-o", str(out)],
            check=True,
            env=env,
            capture_output=True,
        )

    render()  # warm: the compiled Graphviz is in the cache from here on
    results: dict[str, float | None] = {"render": median_time(render, repeat)}
    results["show"] = median_time(
        lambda: subprocess.run(
            [exe, "-C", str(repo), "show", "--all"], check=True, env=env, capture_output=True
        ),
        repeat,
    )
    wasm_layout(dot_source)
    results["wasm layout"] = median_time(lambda: wasm_layout(dot_source), repeat)
    alone = (
        "import sys; from gittree.render.graphviz import wasm_layout; wasm_layout(open(sys.argv[1]).read())"
    )
    results["wasm process"] = median_time(
        lambda: subprocess.run([sys.executable, "-c", alone, str(dot_file)], check=True, env=env), repeat
    )
    dot = system_dot()
    if dot is not None:
        results["system dot"] = median_time(
            lambda: subprocess.run([dot, "-Tsvg", str(dot_file), "-o", str(repo / "dot.svg")], check=True),
            repeat,
        )
    else:
        results["system dot"] = None
    nodes = dot_source.count('class="experiment ')
    folds = dot_source.count('class="fold"')
    print(
        f"\n{name}: {nodes} experiment marks, {folds} folds, DOT {len(dot_source) / 1e3:.0f} kB, SVG {out.stat().st_size / 1e3:.0f} kB"
    )
    return results


def report(results: dict[str, dict[str, float | None]]) -> None:
    columns = ("render", "show", "wasm layout", "wasm process", "system dot")
    header = f"{'tree':<20}" + "".join(f"{c:>14}" for c in columns)
    print("\n" + header + f"{'render/dot':>12}{'render/wasm':>13}{'render/wasm process':>21}")
    for name, r in results.items():
        cells = "".join(f"{r[c]:>13.3f}s" if r[c] is not None else f"{'absent':>14}" for c in columns)
        render, _, wasm, process, dot = (r[c] for c in columns)
        assert render is not None and wasm is not None and process is not None
        ratio_dot = f"{render / dot:.1f}x" if dot else "—"
        print(f"{name:<20}{cells}{ratio_dot:>12}{render / wasm:>12.1f}x{render / process:>20.1f}x")


def cold_compile_time() -> float:
    from gittree.render import graphviz

    with tempfile.TemporaryDirectory() as empty:
        old = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = empty
        try:
            graphviz._compiled.cache_clear()
            began = time.perf_counter()
            graphviz.wasm_layout("digraph { a -> b }")
            return time.perf_counter() - began
        finally:
            graphviz._compiled.cache_clear()
            if old is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gittree-bench-") as scratch:
        base = Path(scratch)
        env = git_env(base / "home")
        os.environ.update(
            {k: env[k] for k in ("HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "XDG_CACHE_HOME")}
        )
        began = time.perf_counter()
        big = generated_repo(base / "big", args.experiments, env)
        print(
            f"generated {args.experiments} experiments with git fast-import in {time.perf_counter() - began:.2f}s"
        )
        demo = demo_repo(base / "demo", env)
        print(f"WebAssembly Graphviz: compiling it once (no cache) takes {cold_compile_time():.2f}s")
        print(f"system Graphviz: {shutil.which('dot') or 'not installed'}")
        results = {
            "demo (26)": measure("demo", demo, env, args.repeat),
            f"generated ({args.experiments})": measure("generated", big, env, max(3, args.repeat // 2)),
        }
        report(results)
        if hasattr(os, "getloadavg"):
            print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end of the run")


if __name__ == "__main__":
    main()
