"""Runs started together in one repository: every one lands, none is lost or mixed with another."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import GITTREE, journal

# Each run logs its own number three ways, so a mix-up between runs would show.
SCRIPT = (
    "import gittree, json, sys, time\n"
    "i = int(sys.argv[1])\n"
    "gittree.log_metric('logged', i)\n"
    "json.dump({'filed': i}, open(f'metrics-{i}.json', 'w'))\n"
    "time.sleep(1.5)\n"
    "print(f'printed: {i}')\n"
)


def start(repo: GitRepo, i: int, *options: str) -> subprocess.Popen[str]:
    args = [str(GITTREE), "run", *options, "--metrics-file", f"metrics-{i}.json", "--capture", "printed"]
    args += ["--name", f"run {i}", "--", sys.executable, "-c", SCRIPT, str(i)]
    return subprocess.Popen(args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_eight_runs_on_eight_branches_at_once(repo: GitRepo) -> None:
    base = repo.commit("start")
    runners = [start(repo, i, "--branch", f"exp/{i}") for i in range(8)]
    for runner in runners:
        _, err = runner.communicate(timeout=300)
        assert runner.returncode == 0, err
    entries = journal(repo.path)
    assert len(entries) == 8 and len({entry["id"] for entry in entries}) == 8
    for entry in entries:
        assert entry["status"] == "committed", entry
    for i in range(8):
        sha = repo.git("rev-parse", f"exp/{i}").strip()
        assert repo.git("rev-parse", f"{sha}^").strip() == base
        record = parse_experiment(repo.git("log", "-1", "--format=%B", sha))
        assert record is not None
        assert record.metric_dict() == {"logged": (float(i),), "filed": (float(i),), "printed": (float(i),)}
        (entry,) = [entry for entry in entries if entry["sha"] == sha]
        assert entry["branch"] == f"exp/{i}" and entry["name"] == f"run {i}"
        assert record.run_dict()["id"] == entry["id"]
    assert repo.head() == base and repo.git("status", "--porcelain", "--untracked-files=no") == ""


@pytest.mark.slow
def test_four_runs_on_the_checked_out_branch_at_once(repo: GitRepo) -> None:
    repo.commit("start")
    runners = [start(repo, i) for i in range(4)]
    for runner in runners:
        _, err = runner.communicate(timeout=300)
        assert runner.returncode == 0, err
    # Runs started from the same commit are siblings: the first lands on main, each later one on a branch
    # of its own (run/ID) whose parent is where it started: none is judged against another.
    entries = journal(repo.path)
    assert all(entry["status"] == "committed" for entry in entries), entries
    numbers = set()
    for entry in entries:
        sha = entry["sha"]
        assert repo.git("rev-parse", f"{sha}^").strip() == entry["base"]
        record = parse_experiment(repo.git("log", "-1", "--format=%B", sha))
        assert record is not None
        (value,) = record.metric_dict()["printed"]
        assert record.metric_dict()["logged"] == (value,) and record.metric_dict()["filed"] == (value,)
        numbers.add(value)
        if entry["branch"] != "main":
            assert entry["branch"] == f"run/{entry['id']}" and entry["moved_from"] == "refs/heads/main"
    assert numbers == {0.0, 1.0, 2.0, 3.0}
    on_main = [entry for entry in entries if entry["branch"] == "main"]
    assert on_main and repo.head() in {entry["sha"] for entry in on_main}
    assert any(entry["branch"] != "main" for entry in entries)  # they overlapped: one at least is a sibling
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""  # index moved with the branch


# train.py: sleeps until a moment given on its command line, so that runs started together also end together:
# each looks for the experiment it repeats before any of them has landed, the race this test is about.
SEEDED = (
    "import sys, time\n"
    "seed = int(sys.argv[sys.argv.index('--seed') + 1])\n"
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
    "print(f'acc: {0.8 + seed / 100}')\n"
)


@pytest.mark.slow
def test_runs_of_the_same_command_started_together_end_as_one_experiment(repo: GitRepo) -> None:
    # docs/runs.md: the first lands, the others become its samples; none is a sibling on run/<id> (where
    # one seed alone could take ★ best). Three rounds of six: each round ended with siblings before.
    repo.write("train.py", SEEDED)
    repo.git("add", "train.py")
    repo.commit("start")
    seeds = range(6)
    for round_ in range(3):
        before = repo.head()
        end = f"{time.time() + 1.5:.3f}"
        options = ["--capture", "acc", "--param", f"round={round_}"]
        runners = [
            subprocess.Popen(
                [str(GITTREE), "run", *options, "--", sys.executable, "train.py", end, "--seed", str(seed)],
                cwd=repo.path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for seed in seeds
        ]
        said = []
        for runner in runners:
            _, err = runner.communicate(timeout=120)
            assert runner.returncode == 0, err
            said.append(err)
        assert repo.git("branch", "--list", "run/*") == "", said
        assert repo.git("rev-list", "--count", f"{before}..HEAD").strip() == "1", said
        assert sum("as another sample" in err for err in said) == len(seeds) - 1, said
        # One experiment: its commit holds the first run's result, its note the five others'.
        text = repo.git("log", "-1", "--format=%B") + repo.git("notes", "--ref", "gittree", "show", "HEAD")
        accs = sorted(
            float(line.split("=")[1]) for line in text.splitlines() if line.startswith("Gittree-Metric: acc=")
        )
        assert accs == [0.8 + seed / 100 for seed in seeds], said
    entries = journal(repo.path)
    assert len(entries) == 18 and all(entry["status"] == "committed" for entry in entries), entries
