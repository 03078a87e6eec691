"""Repeated seeds are first-class (issue 16, point 1): `run --seeds`, samples of the same code, `rerun`.

Real repositories, real `gittree` processes, real training scripts that crash on purpose.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import GITTREE, gittree_process, journal

# Seed 1 crashes; the others print and log their accuracy, and which seed they were given.
TRAIN = (
    "import os, sys, gittree\n"
    "seed = int(sys.argv[sys.argv.index('--seed') + 1])\n"
    "print(f'seed {seed} env {os.environ.get(\"GITTREE_SEED\")}')\n"
    "if seed == 1:\n"
    "    sys.exit(3)\n"
    "gittree.log_metric('acc', 0.9 + seed / 100)\n"
)


def setup(repo: GitRepo) -> str:
    repo.write("train.py", TRAIN)
    repo.git("add", "train.py")
    return repo.commit("code")


def record_at(repo: GitRepo, rev: str):  # type: ignore[no-untyped-def]
    """What `show` reads for REV: its trailers and its gittree note, merged."""
    from gittree import gitio
    from gittree.tree import experiment_of

    record = experiment_of(gitio.read_commit(gitio.open_repo(repo.path), rev))
    assert record is not None
    return record


def test_seeds_make_one_experiment_and_a_crashing_seed_is_a_failed_sample(repo: GitRepo) -> None:
    code = setup(repo)
    done = gittree_process(
        "run",
        "--seeds",
        "0,1,2",
        "-j",
        "2",
        "--",
        sys.executable,
        "train.py",
        "--seed",
        "{seed}",
        cwd=repo.path,
    )
    assert done.returncode == 3, done.stderr  # a failed seed fails the command, as make expects
    assert "[seed 1/3] seed 0 env 0" in done.stdout and "[seed 3/3] seed 2 env 2" in done.stdout
    assert repo.git("rev-list", "--count", f"{code}..HEAD").strip() == "1"  # ONE experiment
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.status is None  # one seed failed, not the experiment
    assert sorted(record.metric_dict()["acc"]) == [0.9, 0.92]
    facts = record.run_dict()
    assert facts["cmd"] == f"{sys.executable} train.py --seed '{{seed}}'"
    assert facts["seed.1"].startswith("exit 3, ") and facts["seed.0"].startswith("exit 0, ")
    entries = journal(repo.path)
    assert len(entries) == 3 and {entry["sha"] for entry in entries} == {repo.head()}
    assert {entry["seed"] for entry in entries} == {"0", "1", "2"}
    assert "seed 1" in done.stderr and "exit 3" in done.stderr


def test_every_seed_failing_fails_the_experiment(repo: GitRepo) -> None:
    setup(repo)
    done = gittree_process(
        "run", "--seeds", "1", "--", sys.executable, "train.py", "--seed", "{seed}", cwd=repo.path
    )
    assert done.returncode == 3
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.status == "failed" and record.metric_dict() == {}


def test_a_seed_loop_ends_as_one_experiment_with_three_samples(repo: GitRepo) -> None:
    code = setup(repo)
    repo.write("train.py", TRAIN.replace("if seed == 1:", "if seed == 99:"))
    repo.git("commit", "-qam", "no crash")
    base = repo.head()
    # Literally the loop people write.
    loop = f"for s in 0 1 2; do {GITTREE} run -- {sys.executable} train.py --seed $s || exit 1; done"
    done = subprocess.run(["sh", "-c", loop], cwd=repo.path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert repo.git("rev-list", "--count", f"{base}..HEAD").strip() == "1"
    assert done.stderr.count("as another sample") == 2
    record = record_at(repo, "HEAD")
    assert sorted(record.metric_dict()["acc"]) == [0.9, 0.91, 0.92]
    assert {"seed.0", "seed.1", "seed.2"} <= set(record.run_dict())
    assert "dirty" not in record.run_dict()
    # --new forces a new experiment; other params make one too.
    assert (
        gittree_process(
            "run", "--new", "--", sys.executable, "train.py", "--seed", "3", cwd=repo.path
        ).returncode
        == 0
    )
    assert repo.git("rev-list", "--count", f"{base}..HEAD").strip() == "2"
    assert code != base


def test_a_command_holding_a_newline_run_again_is_another_sample(repo: GitRepo) -> None:
    """``python -c "<a script of several lines>"``: its ``cmd`` fact is written with the newline escaped,
    and the command split back from it never equalled the one run again, so each run was a new experiment."""
    repo.commit("code")
    script = (
        "import gittree, os\nseed = int(os.environ.get('GITTREE_SEED') or 0)\ngittree.log_metric('acc', 0.5)"
    )
    for _ in range(2):
        assert gittree_process("run", "--", sys.executable, "-c", script, cwd=repo.path).returncode == 0
    assert repo.git("rev-list", "--count", "HEAD").strip() == "2"  # the code commit and one experiment
    assert record_at(repo, "HEAD").metric_dict()["acc"] == (0.5, 0.5)


def test_the_same_command_with_other_params_or_code_is_a_new_experiment(repo: GitRepo) -> None:
    setup(repo)
    args = ["--", sys.executable, "train.py", "--seed", "0"]
    assert gittree_process("run", *args, cwd=repo.path).returncode == 0
    first = repo.head()
    assert gittree_process("run", "--param", "lr=3", *args, cwd=repo.path).returncode == 0
    second = repo.head()
    assert second != first
    repo.write("train.py", TRAIN + "# edited\n")
    assert gittree_process("run", "--param", "lr=3", *args, cwd=repo.path).returncode == 0
    assert repo.head() != second


def test_rerun_adds_samples_from_the_exact_code_without_touching_the_checkout(repo: GitRepo) -> None:
    setup(repo)
    assert (
        gittree_process(
            "run", "--seeds", "0", "--", sys.executable, "train.py", "--seed", "{seed}", cwd=repo.path
        ).returncode
        == 0
    )
    target = repo.head()
    # The work moves on: a new commit, an edit in progress, something staged.
    repo.write("train.py", "raise SystemExit('the new code is broken')\n")
    repo.git("commit", "-qam", "newer work")
    repo.write("notes.txt", "staged\n")
    repo.git("add", "notes.txt")
    repo.write("train.py", "edited, not staged\n")
    status = repo.git("status", "--porcelain")
    head = repo.head()
    done = gittree_process("rerun", target[:7], "--seeds", "2,3", "-j", "2", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert "as another sample" in done.stderr
    record = record_at(repo, target)
    assert sorted(record.metric_dict()["acc"]) == [0.9, 0.92, 0.93]
    assert "dirty" not in record.run_dict() and {"seed.2", "seed.3"} <= set(record.run_dict())
    assert repo.head() == head and repo.git("status", "--porcelain") == status
    assert len(repo.git("worktree", "list").splitlines()) == 1  # the temporary worktree is gone


def test_rerun_of_a_commit_without_a_recorded_command_says_so(repo: GitRepo) -> None:
    repo.commit("plain")
    done = gittree_process("rerun", "HEAD", cwd=repo.path)
    assert done.returncode != 0 and "no recorded command" in done.stderr


def test_record_from_a_journalled_run_of_that_code_is_not_dirty(repo: GitRepo) -> None:
    setup(repo)
    done = gittree_process(
        "run", "--no-commit", "--", sys.executable, "train.py", "--seed", "2", cwd=repo.path
    )
    assert done.returncode == 0, done.stderr
    target = repo.head()
    run_id = journal(repo.path)[0]["id"]
    repo.write("train.py", "moved on\n")
    repo.git("commit", "-qam", "later work")
    done = gittree_process("record", target, "--run", run_id, cwd=repo.path)
    assert done.returncode == 0, done.stderr
    record = record_at(repo, target)
    assert record.metric_dict() == {"acc": (0.92,)} and "dirty" not in record.run_dict()
    # The same values recorded by hand from a checkout that differs stay dirty.
    assert gittree_process("record", target, "--metric", "acc=0.5", cwd=repo.path).returncode == 0
    assert record_at(repo, target).run_dict().get("dirty") == "true"


@pytest.mark.parametrize("text", ["0,,1", "a b", "1,1"])
def test_bad_seed_lists_are_refused_before_anything_runs(repo: GitRepo, text: str) -> None:
    setup(repo)
    done = gittree_process("run", "--seeds", text, "--", "true", cwd=repo.path)
    assert done.returncode == 6 and journal(repo.path) == []


def test_log_metric_takes_a_list_of_samples(repo: GitRepo) -> None:
    repo.commit("start")
    script = "import gittree; gittree.log_metric('acc', [0.5, 0.7]); gittree.log_metric('loss', 0.3)"
    done = gittree_process("run", "--", sys.executable, "-c", script, cwd=repo.path)
    assert done.returncode == 0, done.stderr
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.metric_dict() == {"acc": (0.5, 0.7), "loss": (0.3,)}


def test_journal_entries_of_a_group_name_each_other(repo: GitRepo) -> None:
    setup(repo)
    gittree_process(
        "run", "--seeds", "0,2", "--", sys.executable, "train.py", "--seed", "{seed}", cwd=repo.path
    )
    entries = journal(repo.path)
    assert {entry["group"] for entry in entries} == {entries[0]["id"]}
    assert all(entry["group_seeds"] == ["0", "2"] for entry in entries)
    listing = json.loads(gittree_process("runs", "--json", cwd=repo.path).stdout)
    assert [item["state"] for item in listing] == ["committed", "committed"]
    assert Path(GITTREE).exists()


# Each seed writes its accuracy to m<seed>.json, then keeps working: seed 0 the longest, so that with
# one shared file every seed would read the last writer's number.
WRITE_METRICS = (
    "import json, os, sys, time\n"
    "seed = int(os.environ['GITTREE_SEED'])\n"
    "if seed == 2:\n"
    "    sys.exit(1)  # crashes before writing: the m2.json left by an earlier run is not its result\n"
    "json.dump({'acc': round(0.9 + seed / 100, 2)}, open(sys.argv[1].replace('SEED', str(seed)), 'w'))\n"
    "time.sleep(max(0.6 - 0.3 * seed, 0))\n"
)


def test_parallel_seeds_sharing_one_metrics_file_are_refused_before_anything_runs(repo: GitRepo) -> None:
    setup(repo)
    command = ("--metrics-file", "m.json", "--", sys.executable, "train.py", "--seed", "{seed}")
    done = gittree_process("run", "--seeds", "0,1", "-j", "2", *command, cwd=repo.path)
    assert done.returncode == 6 and journal(repo.path) == []
    assert "each would record whichever run wrote it last" in done.stderr
    assert "put {seed} in the path" in done.stderr and "-j 1" in done.stderr
    # One at a time, the file is each seed's in turn: allowed.
    one_at_a_time = gittree_process("run", "--seeds", "0,1", *command, cwd=repo.path)
    assert one_at_a_time.returncode == 3, one_at_a_time.stderr  # seed 1 of TRAIN crashes on purpose


def test_seed_placeholder_in_the_metrics_file_gives_each_seed_its_own(repo: GitRepo) -> None:
    repo.write("write.py", WRITE_METRICS)
    repo.write(".gitignore", "m*.json\n")
    repo.git("add", ".")
    repo.commit("code")
    (repo.path / "m2.json").write_text('{"acc": 0.1}\n')  # an earlier run's result
    done = gittree_process(
        "run",
        "--seeds",
        "0,1,2",
        "-j",
        "3",
        "--metrics-file",
        "m{seed}.json",
        "--",
        sys.executable,
        "write.py",
        "mSEED.json",
        "--seed",
        "{seed}",
        cwd=repo.path,
    )
    assert done.returncode == 1, done.stderr
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and sorted(record.metric_dict()["acc"]) == [0.9, 0.91]
    entries = {entry["seed"]: entry for entry in journal(repo.path)}
    assert [entries[seed]["metrics_file"] for seed in "012"] == ["m0.json", "m1.json", "m2.json"]
    assert entries["0"]["metrics_file_template"] == "m{seed}.json"
    assert "the metrics file m2.json was not written by the run" in entries["2"]["warnings"][0]
    # A rerun fills the same template with its own seeds.
    rerun = gittree_process("rerun", "HEAD", "--seeds", "4", cwd=repo.path)
    assert rerun.returncode == 0, rerun.stderr
    assert 0.94 in record_at(repo, "HEAD").metric_dict()["acc"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--metrics-file", "m{seed}.json", "--", "true"], "uses {seed} but the run has no seed"),
        (["--metrics-file", "m{lr}.json", "--", "true"], "uses {lr} but no --grid lr=..."),
    ],
)
def test_a_metrics_file_placeholder_nothing_fills_is_refused(
    repo: GitRepo, args: list[str], said: str
) -> None:
    setup(repo)
    done = gittree_process("run", *args, cwd=repo.path)
    assert done.returncode == 6 and said in done.stderr and journal(repo.path) == []


def test_a_refused_metrics_file_from_the_configuration_is_named_as_such(repo: GitRepo) -> None:
    """``run.metrics_file: m{seed}.json`` in .gittree.yaml, then a run with no seed: refused, and the
    message named ``--metrics-file``, which the user never gave."""
    setup(repo)
    repo.write(".gittree.yaml", "run:\n  metrics_file: m{seed}.json\n")
    done = gittree_process("run", "--", sys.executable, "train.py", cwd=repo.path)
    assert done.returncode == 6 and journal(repo.path) == []
    assert "run.metrics_file in .gittree.yaml (m{seed}.json) uses {seed}" in done.stderr
    given = gittree_process(
        "run", "--metrics-file", "m.json", "--", sys.executable, "train.py", cwd=repo.path
    )
    assert "uses {seed}" not in given.stderr  # the option given wins over the configuration


# Reads its seed from the environment only, as the guide says a script can.
FROM_ENVIRONMENT = (
    "import os\n"
    "seed = os.environ.get('GITTREE_SEED')\n"
    "print(f'seed {seed}')\n"
    "print(f'acc: {0.8 + int(seed) / 1000}' if seed is not None else 'acc: 0.5')\n"
)


def test_rerun_gives_more_seeds_to_a_script_reading_gittree_seed(repo: GitRepo) -> None:
    repo.write("env.py", FROM_ENVIRONMENT)
    repo.git("add", "env.py")
    repo.commit("code")
    command = ("--capture", "acc", "--", sys.executable, "env.py")
    assert gittree_process("run", "--seeds", "0,1", *command, cwd=repo.path).returncode == 0
    target = repo.head()
    more = gittree_process("rerun", target, "--seeds", "3,4", "-j", "2", cwd=repo.path)
    assert more.returncode == 0, more.stderr
    assert "seed 3" in more.stdout and "seed 4" in more.stdout
    record = record_at(repo, target)
    assert sorted(record.metric_dict()["acc"]) == [0.8, 0.801, 0.803, 0.804]
    assert {"seed.0", "seed.1", "seed.3", "seed.4"} <= set(record.run_dict())
    # A plain rerun runs the recorded seeds again, each with its GITTREE_SEED: never a seedless sample.
    again = gittree_process("rerun", target, cwd=repo.path)
    assert again.returncode == 0, again.stderr
    assert "seed None" not in again.stdout and "seed 0" in again.stdout
    assert 0.5 not in record_at(repo, target).metric_dict()["acc"]


def test_rerun_with_seeds_of_an_experiment_run_without_a_seed_is_refused(repo: GitRepo) -> None:
    repo.write("env.py", FROM_ENVIRONMENT)
    repo.git("add", "env.py")
    repo.commit("code")
    assert (
        gittree_process("run", "--capture", "acc", "--", sys.executable, "env.py", cwd=repo.path).returncode
        == 0
    )
    done = gittree_process("rerun", "HEAD", "--seeds", "3", cwd=repo.path)
    assert done.returncode == 6 and "was run without a seed" in done.stderr
    assert len(journal(repo.path)) == 1  # nothing ran


def test_a_seed_started_after_the_code_was_edited_makes_the_experiment_dirty(repo: GitRepo) -> None:
    """The seeds of one experiment run one after another on the code on disk; the commit holds the code
    saved when the first started. An edit in between made the seeds after it run other code, and the
    experiment was committed clean: now it is committed dirty, with a warning per seed."""
    from tests.test_runs_sweep import SELF_EDITING

    repo.write("train.py", SELF_EDITING)
    repo.write("history.csv", "lr\n")
    repo.git("add", ".")
    repo.commit("code")
    done = gittree_process(
        "run", "--seeds", "1,2", "--capture", "acc", "--", sys.executable, "train.py", "{seed}", cwd=repo.path
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("no longer holds the code saved") == 1
    message = repo.git("log", "-1", "--format=%B")
    assert "Gittree-Run: dirty=true" in message and "VERSION = 1" in repo.git("show", "HEAD:train.py")
    assert (repo.path / "history.csv").read_text() == "lr\n1\n2\n"
