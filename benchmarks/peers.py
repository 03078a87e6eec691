"""gittree beside DVC and MLflow on the same work: recording one experiment, and listing many.

Optional, not part of CI or of ``python -m benchmarks.run``, and not imported by the tests. It installs
DVC and MLflow into a virtual environment of their own under the work folder (PyPI must be reachable;
the first run downloads a few hundred MB), then measures:

* **recording one experiment**: the same command (a Python script that writes ``metrics.json`` and
  prints its metric) run bare, by ``gittree run --metrics-file``, by ``dvc exp run`` (a ``dvc.yaml``
  stage with that metrics file) and as an MLflow run (``mlflow.start_run``, the command, then
  ``log_metrics`` of its file: what a wrapper script or ``mlflow run --env-manager local`` does). The
  overhead is each tool's median time minus the bare command's, each tool in a repository of its own.
* **listing N experiments** (default 1,000): ``gittree show --all`` warm (view cached) and cold (cache
  removed) on a generated N-experiment repository; ``dvc exp show -A`` (every commit's experiments,
  ``--no-pager``) warm, after its experiments were made one ``dvc exp run`` at a time (DVC has no bulk
  import: at about 1-2 s each, ``--dvc-experiments`` caps how many are made, 100 by default, and the
  output says how many were measured); ``mlflow runs list`` and ``mlflow.search_runs`` over N runs
  logged through the API in one process (a sqlite tracking store).

A peer whose install fails is skipped, and the output says so. Usage::

    .venv/bin/python -m benchmarks.peers                       # about 15-25 minutes the first time
    .venv/bin/python -m benchmarks.peers --experiments 1000 --dvc-experiments 100 --out peers.md

It writes a Markdown section (ratios of each peer to gittree) that benchmarks/RESULTS.md can include.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate import generate

GITTREE = Path(sys.executable).parent / "gittree"

TRAIN = """\
import json, sys
acc = 0.5 + (sum(map(ord, " ".join(sys.argv))) % 100) / 1000
with open("metrics.json", "w") as f:
    json.dump({"acc": acc}, f)
print(f"acc: {acc}")
"""

MLFLOW_WRAPPER = """\
import json, subprocess, sys
import mlflow
with mlflow.start_run(run_name="train"):
    done = subprocess.run(sys.argv[1:])
    with open("metrics.json") as f:
        mlflow.log_metrics(json.load(f))
    mlflow.log_param("cmd", " ".join(sys.argv[1:]))
sys.exit(done.returncode)
"""

MLFLOW_BULK = """\
import sys
import mlflow
mlflow.set_experiment("bulk")
for i in range(int(sys.argv[1])):
    with mlflow.start_run(run_name=f"exp {i}"):
        mlflow.log_params({"lr": str(10 ** -(i % 4 + 1)), "depth": str(4 + i % 5)})
        mlflow.log_metrics({"acc": 0.5 + (i % 97) / 1000, "loss": 1.5 - (i % 89) / 1000})
print(mlflow.get_experiment_by_name("bulk").experiment_id)
"""

MLFLOW_SEARCH = """\
import sys
import mlflow
print(len(mlflow.search_runs(experiment_ids=[sys.argv[1]], max_results=100000)))
"""


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment with an isolated git identity and configuration, no pager, no telemetry."""
    config = home / "gitconfig"
    if not config.exists():
        config.write_text("[init]\n\tdefaultBranch = main\n")
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
        "DVC_NO_ANALYTICS": "1",
        "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
        "PAGER": "cat",
        **(extra or {}),
    }


def sh(
    args: list[str], cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}): {(done.stderr or done.stdout)[-800:]}"
        )
    return done


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    sh(args, cwd, env)
    return time.perf_counter() - start


def median_of(args: list[str], cwd: Path, env: dict[str, str], repeat: int, before: object = None) -> float:
    times = []
    for _ in range(repeat):
        if callable(before):
            before()
        times.append(timed(args, cwd, env))
    return statistics.median(times)


def install_peers(venv: Path, log: list[str]) -> dict[str, Path | None]:
    """The peers' virtual environment, with each peer installed or not (then None, and the log says why)."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=False)
    found: dict[str, Path | None] = {}
    for peer in ("dvc", "mlflow"):
        script = venv / "bin" / peer
        if not script.exists():
            done = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", peer], capture_output=True, text=True
            )
            if done.returncode != 0 or not script.exists():
                log.append(f"- **{peer} skipped**: `pip install {peer}` failed: {done.stderr.strip()[-400:]}")
                found[peer] = None
                continue
        version = subprocess.run([str(script), "--version"], capture_output=True, text=True).stdout.strip()
        log.append(f"- {peer}: {version.splitlines()[-1] if version else 'installed'}")
        found[peer] = script
    return found


def new_project(path: Path, env: dict[str, str]) -> None:
    """A small project: the training script, a few tracked files, one commit."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    (path / "train.py").write_text(TRAIN)
    for i in range(20):
        (path / f"mod{i}.py").write_text(f"VALUE = {i}\n")
    (path / ".gitignore").write_text("metrics.json\nmlruns/\nmlflow.db\n")
    sh(["git", "init", "-q"], path, env)
    sh(["git", "add", "-A"], path, env)
    sh(["git", "commit", "-q", "-m", "start"], path, env)


def record_one(work: Path, peers: dict[str, Path | None], repeat: int) -> dict[str, float]:
    """Median seconds of recording one experiment of the same command, by each tool; 'bare': the command alone."""
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(home)
    python = str(work / "venv" / "bin" / "python")
    results: dict[str, float] = {}
    bare = work / "bare"
    new_project(bare, env)
    results["bare"] = median_of([python, "train.py"], bare, env, repeat)

    ours = work / "record-gittree"
    new_project(ours, env)
    results["gittree"] = median_of(
        [str(GITTREE), "run", "--new", "--metrics-file", "metrics.json", "--", python, "train.py"],
        ours,
        env,
        repeat,
    )
    if peers.get("dvc"):
        theirs = work / "record-dvc"
        new_project(theirs, env)
        dvc = str(peers["dvc"])
        sh([dvc, "init", "-q"], theirs, env)
        (theirs / "dvc.yaml").write_text(
            f"stages:\n  train:\n    cmd: {python} train.py\n    deps:\n    - train.py\n"
            "    metrics:\n    - metrics.json:\n        cache: false\n"
        )
        sh(["git", "add", "-A"], theirs, env)
        sh(["git", "commit", "-q", "-m", "dvc"], theirs, env)
        sh([dvc, "exp", "run", "-q"], theirs, env)  # the first run builds DVC's own state
        results["dvc"] = median_of([dvc, "exp", "run", "-q", "-f"], theirs, env, repeat)
    if peers.get("mlflow"):
        theirs = work / "record-mlflow"
        new_project(theirs, env)
        (theirs / "with_mlflow.py").write_text(MLFLOW_WRAPPER)
        mlenv = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{theirs / 'mlflow.db'}"}
        sh([python, "with_mlflow.py", python, "train.py"], theirs, mlenv)  # creates the store
        results["mlflow"] = median_of([python, "with_mlflow.py", python, "train.py"], theirs, mlenv, repeat)
    return results


def list_many(
    work: Path, peers: dict[str, Path | None], count: int, dvc_count: int, repeat: int
) -> dict[str, object]:
    """Median seconds of listing ``count`` experiments (DVC: ``dvc_count`` of them), by each tool."""
    home = work / "home"
    env = clean_env(home)
    python = str(work / "venv" / "bin" / "python")
    results: dict[str, object] = {}
    ours = work / f"list-gittree-{count}"
    if not (ours / ".git").exists():
        generate(ours, count)
    command = [str(GITTREE), "show", "--all"]
    sh(command, ours, env)
    results["gittree warm"] = median_of(command, ours, env, repeat)
    results["gittree cold"] = median_of(
        command,
        ours,
        env,
        repeat,
        before=lambda: shutil.rmtree(ours / ".git" / "gittree", ignore_errors=True),
    )
    results["gittree experiments"] = len(
        json.loads(sh([str(GITTREE), "show", "--all", "--json"], ours, env).stdout)["nodes"]
    )
    if peers.get("dvc"):
        dvc = str(peers["dvc"])
        theirs = work / f"list-dvc-{dvc_count}"
        made_file = theirs / ".made"
        if not made_file.exists():
            new_project(theirs, env)
            sh([dvc, "init", "-q"], theirs, env)
            (theirs / "params.yaml").write_text("lr: 0.1\n")
            (theirs / "dvc.yaml").write_text(
                f"stages:\n  train:\n    cmd: {python} train.py ${{lr}}\n    deps:\n    - train.py\n"
                "    params:\n    - lr\n    metrics:\n    - metrics.json:\n        cache: false\n"
            )
            sh(["git", "add", "-A"], theirs, env)
            sh(["git", "commit", "-q", "-m", "dvc"], theirs, env)
            start = time.perf_counter()
            for i in range(dvc_count):
                sh([dvc, "exp", "run", "-q", "-S", f"lr={(i + 1) / 10000}"], theirs, env)
            made_file.write_text(f"{dvc_count} {time.perf_counter() - start:.1f}\n")
        made, seconds = made_file.read_text().split()
        results["dvc made"] = f"{made} experiments in {float(seconds):.0f} s"
        show = [dvc, "exp", "show", "-A", "--no-pager", "--json"]
        sh(show, theirs, env)
        results["dvc exp show -A"] = median_of(show, theirs, env, repeat)
        results["dvc experiments"] = int(made)
    if peers.get("mlflow"):
        mlflow = str(peers["mlflow"])
        theirs = work / f"list-mlflow-{count}"
        theirs.mkdir(exist_ok=True)
        mlenv = {**env, "MLFLOW_TRACKING_URI": f"sqlite:///{theirs / 'mlflow.db'}"}
        id_file = theirs / ".experiment"
        if not id_file.exists():
            (theirs / "bulk.py").write_text(MLFLOW_BULK)
            experiment = sh([python, "bulk.py", str(count)], theirs, mlenv).stdout.strip().splitlines()[-1]
            id_file.write_text(experiment)
        experiment = id_file.read_text().strip()
        (theirs / "search.py").write_text(MLFLOW_SEARCH)
        results["mlflow runs list"] = median_of(
            [mlflow, "runs", "list", "--experiment-id", experiment], theirs, mlenv, repeat
        )
        results["mlflow.search_runs"] = median_of([python, "search.py", experiment], theirs, mlenv, repeat)
    return results


def section(
    record: dict[str, float], listing: dict[str, object], log: list[str], count: int, load: str
) -> str:
    lines = [
        "## gittree beside DVC and MLflow (`python -m benchmarks.peers`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load}; medians.",
        *log,
        "",
        "| recording one experiment of the same command | time | overhead over the bare command | overhead ÷ gittree's |",
        "|---|---:|---:|---:|",
    ]
    bare = record["bare"]
    ours = record["gittree"] - bare
    names = {
        "bare": "the command alone",
        "gittree": "`gittree run`",
        "dvc": "`dvc exp run`",
        "mlflow": "an MLflow run",
    }
    for key, seconds in record.items():
        overhead = seconds - bare
        ratio = f"{overhead / ours:.1f}×" if key != "bare" and ours > 0 else ""
        lines.append(f"| {names[key]} | {seconds * 1000:.0f} ms | {overhead * 1000:.0f} ms | {ratio} |")
    lines += ["", "| listing experiments | experiments | time | ÷ gittree warm |", "|---|---:|---:|---:|"]
    warm = float(listing["gittree warm"])  # type: ignore[arg-type]
    rows = [
        ("`gittree show --all`, warm", "gittree experiments", "gittree warm"),
        ("`gittree show --all`, cold", "gittree experiments", "gittree cold"),
        ("`dvc exp show -A`", "dvc experiments", "dvc exp show -A"),
        ("`mlflow runs list`", None, "mlflow runs list"),
        ("`mlflow.search_runs`", None, "mlflow.search_runs"),
    ]
    for label, count_key, key in rows:
        if key not in listing:
            continue
        seconds = float(listing[key])  # type: ignore[arg-type]
        made = listing.get(count_key, count) if count_key else count
        lines.append(f"| {label} | {made} | {seconds:.2f} s | {seconds / warm:.1f}× |")
    if "dvc made" in listing:
        lines += ["", f"DVC's experiments were made one `dvc exp run` at a time: {listing['dvc made']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gittree-peers"))
    parser.add_argument("--experiments", type=int, default=1000, help="experiments to list (gittree, MLflow)")
    parser.add_argument("--dvc-experiments", type=int, default=100, help="experiments DVC makes and lists")
    parser.add_argument("-n", "--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the Markdown section here too")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    log: list[str] = []
    peers = install_peers(args.workdir / "venv", log)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    record = record_one(args.workdir, peers, args.repeat)
    listing = list_many(args.workdir, peers, args.experiments, args.dvc_experiments, args.repeat)
    text = section(record, listing, log, args.experiments, load)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
