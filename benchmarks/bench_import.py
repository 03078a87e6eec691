"""What importing a 1,000-row agent log costs, against reading and parsing the file alone.

    .venv/bin/python benchmarks/bench_import.py [--rows 1000] [--repeat 3] [--keep DIR]

The repository is an autoresearch-style loop written with `git fast-import`: one commit per row on a
main line, every other row a loser whose commit was reset away and collected, so half the rows name a
commit that no longer exists and are reconstructed (the expensive case: a commit written per row). The
log has the usual five columns plus a free-text `hypothesis`. Each import runs in a fresh copy of the
repository, as a subprocess (`gittree import`); the reference is `gittree`'s own parser reading the same
file in a subprocess (`python -c "parse_log(...)"`), so start-up cost is in both and machine speed cancels
out. The figure is the ratio of the medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_export import isolated_env

START = 1767225600  # 2026-01-01 00:00 UTC
GITTREE = [sys.executable, "-m", "gittree"]


def build(root: Path, rows: int) -> tuple[Path, Path]:
    """A repository of ``rows`` loop commits (the losers gone) and its results log."""
    env = isolated_env(root)
    repo = root / "loop"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    stream: list[str] = []
    lines = ["commit\tval_bpb\tmemory_gb\tstatus\tdescription\thypothesis"]
    bpb = 1.0
    for i in range(1, rows + 1):
        kept = i % 2 == 1
        message = f"idea {i}\n"
        stream += [
            f"commit refs/heads/{'main' if kept else f'loser/{i}'}",
            f"mark :{i}",
            f"author Bench <bench@example.org> {START + i * 60} +0000",
            f"committer Bench <bench@example.org> {START + i * 60} +0000",
            f"data {len(message.encode())}",
            message.rstrip("\n"),
        ]
        last_kept = i - 1 if i % 2 == 0 else i - 2
        if last_kept >= 1:
            stream.append(f"from :{last_kept}")
        stream += ["M 644 inline train.py", f"data {len(str(i)) + 1}", f"{i}", ""]
        bpb = bpb - 0.0003 if kept else bpb
        status = "keep" if kept else ("crash" if i % 10 == 0 else "discard")
        value = f"{bpb + (0 if kept else 0.002):.6f}" if status != "crash" else "0.000000"
        lines.append(f"{{{i}}}\t{value}\t44.0\t{status}\tidea {i}\tmaybe idea {i} helps the loss")
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo,
        input="\n".join(stream) + "\n",
        text=True,
        check=True,
        env=env,
    )
    marks = subprocess.run(
        ["git", "rev-list", "--all", "--reverse", "--format=%H %s", "--no-commit-header"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split("\n")
    sha_of = {line.partition(" ")[2]: line.partition(" ")[0] for line in marks if line.strip()}
    text = "\n".join(lines) + "\n"
    for i in range(rows, 0, -1):
        text = text.replace(f"{{{i}}}\t", sha_of[f"idea {i}"][:7] + "\t")
    # the losers are reset away and collected: their rows are reconstructed by the import
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/heads/loser/"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    subprocess.run(
        ["git", "update-ref", "--stdin"],
        cwd=repo,
        env=env,
        check=True,
        text=True,
        input="".join(f"delete {ref}\n" for ref in refs),
    )
    subprocess.run(["git", "reflog", "expire", "--expire=now", "--all"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "gc", "-q", "--prune=now"], cwd=repo, env=env, check=True)
    log = root / "results.tsv"
    log.write_text(text, encoding="utf-8")
    return repo, log


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    options = parser.parse_args()
    root = options.keep or Path(tempfile.mkdtemp(prefix="gittree-bench-import-"))
    root.mkdir(parents=True, exist_ok=True)
    env = isolated_env(root)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    try:
        repo, log = build(root, options.rows)
        read = [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from gittree.importers.autoresearch import parse_log, read_log; "
            "parse_log(read_log(Path(sys.argv[1])))",
            str(log),
        ]
        imports, reads = [], []
        for attempt in range(options.repeat):
            copy = root / f"copy{attempt}"
            shutil.copytree(repo, copy)
            imports.append(timed([*GITTREE, "import", str(log)], copy, env))
            reads.append(timed(read, copy, env))
        again = timed([*GITTREE, "import", str(log)], root / "copy0", env)
        imported, parsed = statistics.median(imports), statistics.median(reads)
        print(f"rows: {options.rows} ({options.rows // 2} reconstructed)")
        print(f"import: {imported:.2f} s (median of {options.repeat}); again (nothing new): {again:.2f} s")
        print(f"reading and parsing the file alone: {parsed:.2f} s")
        print(f"ratio: {imported / parsed:.1f}x")
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
