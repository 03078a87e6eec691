"""Sweeps and parallel runs are siblings (issue 16, point 2): real processes started together, real SIGINT."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import GITTREE, gittree_process, journal, wait_for

# acc peaks at lr=3e-4, wd=0; the seed moves it a little; lr=bad crashes.
TRAIN = (
    "import sys, time\n"
    "lr, wd, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])\n"
    "time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)\n"
    "if lr == 'bad':\n"
    "    sys.exit(2)\n"
    "print(f'acc: {1 - abs(float(lr) - 3e-4) * 100 - wd + seed / 1000:.4f}')\n"
)


def setup(repo: GitRepo) -> str:
    repo.write("train.py", TRAIN)
    repo.git("add", "train.py")
    repo.commit("start")
    repo.experiment("baseline", metrics=[("acc", "0.5")])
    return repo.head()


def sweep(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return gittree_process(
        "sweep",
        *args,
        "--capture",
        "acc",
        "--",
        sys.executable,
        "train.py",
        "{lr}",
        "{wd}",
        "{seed}",
        cwd=repo.path,
    )


def message(repo: GitRepo, rev: str) -> str:
    return repo.git("log", "-1", "--format=%B", rev)


def test_a_sweep_is_one_sibling_experiment_per_point_with_seeds_as_samples(repo: GitRepo) -> None:
    base = setup(repo)
    repo.write("train.py", TRAIN + "# an edit in progress\n")
    status = repo.git("status", "--porcelain")
    done = sweep(repo, "--grid", "lr=1e-3,3e-4", "--grid", "wd=0,0.1", "--seeds", "0,1,2", "-j", "2")
    assert done.returncode == 0, done.stderr
    branches = repo.git("branch", "--list", "sweep/*", "--format=%(refname:short)").split()
    assert sorted(branches) == [
        "sweep/lr-wd/lr=1e-3,wd=0",
        "sweep/lr-wd/lr=1e-3,wd=0.1",
        "sweep/lr-wd/lr=3e-4,wd=0",
        "sweep/lr-wd/lr=3e-4,wd=0.1",
    ]
    for branch in branches:
        assert repo.git("rev-parse", f"{branch}^").strip() == base  # siblings off the same commit
        record = parse_experiment(message(repo, branch))
        assert record is not None
        lr, wd = branch.rsplit("/", 1)[1].replace("lr=", "").replace("wd=", "").split(",")
        assert record.param_dict() == {"lr": lr, "wd": wd}
        assert len(record.metric_dict()["acc"]) == 3  # one sample per seed
        # the code the sweep saw when it started, edit in progress included
        assert repo.git("show", f"{branch}:train.py").endswith("# an edit in progress\n")
    assert repo.head() == base and repo.git("status", "--porcelain") == status  # checkout untouched
    assert done.stderr.count("gittree: [") == 4  # a progress line per point
    table = done.stdout.splitlines()
    header = table.index(next(line for line in table if line.startswith("POINT")))
    assert table[header + 1].startswith("lr=3e-4 wd=0 ")  # best first
    assert table[header + 4].startswith("lr=1e-3 wd=0.1 ")
    # show draws the points as siblings of the baseline
    shown = json.loads(gittree_process("show", "--all", "--json", cwd=repo.path).stdout)
    nodes = shown["nodes"] if isinstance(shown, dict) else shown
    points = [node for node in nodes if node["subject"].startswith("lr-wd: ")]
    assert len(points) == 4 and all(node["parents"] == [base] for node in points)


def test_every_point_and_seed_records_the_params_file_with_its_grid_values_over_it(repo: GitRepo) -> None:
    # Regression: the runs after a group's first one shared its saved code and skipped the params file.
    repo.write("params.yaml", "train:\n  lr: 0.1\n  epochs: 3\nwd: 0.5\n")
    setup(repo)
    done = sweep(repo, "--grid", "lr=1e-3,3e-4", "--grid", "wd=0", "--seeds", "0,1", "-j", "2")
    assert done.returncode == 0, done.stderr
    for branch in repo.git("branch", "--list", "sweep/*", "--format=%(refname:short)").split():
        record = parse_experiment(message(repo, branch))
        assert record is not None
        lr = branch.rsplit("/", 1)[1].split(",")[0].removeprefix("lr=")
        assert record.param_dict() == {"train.lr": "0.1", "train.epochs": "3", "wd": "0", "lr": lr}


def test_a_failing_point_is_committed_failed_and_the_others_go_on(repo: GitRepo) -> None:
    setup(repo)
    done = sweep(repo, "--grid", "lr=bad,3e-4", "--grid", "wd=0", "--seeds", "0")
    assert done.returncode == 1
    record = parse_experiment(message(repo, "sweep/lr-wd/lr=bad,wd=0"))
    assert record is not None and record.status == "failed"
    assert "lr=bad wd=0: failed" in done.stderr


@pytest.mark.parametrize(
    ("grid", "said"),
    [
        (["--grid", "lr=1e-3"], "no --grid wd="),
        (
            ["--grid", "lr=1e-3", "--grid", "wd=0", "--grid", "momentum=0.9", "--seeds", "0"],
            "momentum=... is not used",
        ),
        (["--grid", "lr=1e-3,1e-3", "--grid", "wd=0", "--seeds", "0"], "repeats a value"),
        (["--grid", "lr", "--grid", "wd=0", "--seeds", "0"], "bad --grid"),
        (["--grid", "lr=1,2", "--grid", "wd=0", "--seeds", ""], "bad seed"),
    ],
)
def test_a_bad_grid_is_refused_before_anything_runs(repo: GitRepo, grid: list[str], said: str) -> None:
    setup(repo)
    done = sweep(repo, *grid)
    assert done.returncode == 6 and said in done.stderr
    assert journal(repo.path) == [] and "sweep/" not in repo.git("branch", "--list")


@pytest.mark.parametrize(
    ("values", "first", "second", "part"),
    [
        ("a b,a/b", "a b", "a/b", "v=a_b"),
        ("..,.", "..", ".", "v=_"),
        ("x:y,x_y", "x:y", "x_y", "v=x_y"),
    ],
)
def test_grid_values_sharing_a_branch_name_are_refused_before_anything_runs(
    repo: GitRepo, values: str, first: str, second: str, part: str
) -> None:
    setup(repo)
    done = gittree_process(
        "sweep", "--grid", f"v={values}", "--capture", "acc", "--", "echo", "acc: 1 {v}", cwd=repo.path
    )
    assert done.returncode == 6
    assert f"the values {first!r} and {second!r} both become {part}" in done.stderr
    assert journal(repo.path) == [] and "sweep/" not in repo.git("branch", "--list")


def test_seed_placeholder_without_seeds_is_refused(repo: GitRepo) -> None:
    setup(repo)
    done = sweep(repo, "--grid", "lr=1", "--grid", "wd=0")
    assert done.returncode == 6 and "{seed} but no --seeds" in done.stderr


def test_a_second_sweep_gets_a_name_of_its_own(repo: GitRepo) -> None:
    setup(repo)
    assert sweep(repo, "--grid", "lr=3e-4", "--grid", "wd=0", "--seeds", "0").returncode == 0
    assert sweep(repo, "--grid", "lr=3e-4", "--grid", "wd=0", "--seeds", "0").returncode == 0
    assert repo.git("rev-parse", "--verify", "-q", "sweep/lr-wd-2/lr=3e-4,wd=0").strip()
    named = sweep(repo, "--name", "lr-wd", "--grid", "lr=3e-4", "--grid", "wd=0", "--seeds", "0")
    assert named.returncode == 6 and "exists already" in named.stderr


def test_sweeps_started_together_over_one_grid_name_each_take_a_name_of_their_own(repo: GitRepo) -> None:
    setup(repo)

    def start(values: str) -> subprocess.Popen[str]:
        args = [str(GITTREE), "sweep", "--grid", f"lr={values}", "--capture", "acc"]
        args += ["--", sys.executable, "train.py", "{lr}", "0", "0", "1"]
        return subprocess.Popen(
            args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    grids = ["1e-3,3e-4", "3e-4,1e-4", "1e-4", "3e-4"]
    sweepers = [start(values) for values in grids]
    errors = [sweeper.communicate(timeout=120)[1] for sweeper in sweepers]
    assert all(sweeper.returncode == 0 for sweeper in sweepers), errors
    names = [err.split("gittree: sweep ", 1)[1].split(":", 1)[0] for err in errors]
    assert sorted(names) == ["lr", "lr-2", "lr-3", "lr-4"]
    for name, values in zip(names, grids, strict=True):
        branches = repo.git("branch", "--list", f"sweep/{name}/*", "--format=%(refname:short)").split()
        assert sorted(branches) == sorted(f"sweep/{name}/lr={value}" for value in values.split(","))
    assert "run/" not in repo.git("branch", "--list")
    assert repo.git("for-each-ref", "refs/gittree-sweeps/") == ""  # every name given back
    # the next sweep, alone, takes the next free name
    assert "gittree: sweep lr-5:" in start("1e-3").communicate(timeout=120)[1]


def test_ctrl_c_stops_the_sweep_and_keeps_every_finished_point(repo: GitRepo) -> None:
    setup(repo)
    args = [str(GITTREE), "sweep", "--grid", "lr=1e-3,3e-4,5e-4", "--grid", "wd=0", "--seeds", "0"]
    args += ["--capture", "acc", "--", sys.executable, "train.py", "{lr}", "{wd}", "{seed}", "1.5"]
    sweeper = subprocess.Popen(args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: "lr=1e-3" in repo.git("branch", "--list", "sweep/*"), "the first point's commit")
        time.sleep(0.5)  # the second point is running now
        sweeper.send_signal(signal.SIGINT)
        _, err = sweeper.communicate(timeout=60)
    finally:
        if sweeper.poll() is None:
            sweeper.kill()
    assert sweeper.returncode == 130, err
    assert "sweep stopped: 1 of 3 point(s) committed and kept" in err
    assert repo.git("branch", "--list", "sweep/*", "--format=%(refname:short)").split() == [
        "sweep/lr-wd/lr=1e-3,wd=0"
    ]
    entries = journal(repo.path)
    assert [entry["status"] for entry in entries] == ["committed", "not-committed"]  # the third never started
    assert entries[1]["interrupted"] == "SIGINT"
    # the stopped point is in the journal: recover commits it on its branch
    recovered = gittree_process("recover", entries[1]["id"], cwd=repo.path)
    assert recovered.returncode == 0, recovered.stderr
    assert repo.git("rev-parse", "--verify", "-q", "sweep/lr-wd/lr=3e-4,wd=0").strip()


def test_two_runs_started_together_are_siblings(repo: GitRepo) -> None:
    base = setup(repo)

    def start(lr: str) -> subprocess.Popen[str]:
        args = [str(GITTREE), "run", "--capture", "acc", "--name", f"lr {lr}", "--param", f"lr={lr}"]
        args += ["--", sys.executable, "train.py", lr, "0", "0", "1"]
        return subprocess.Popen(
            args, cwd=repo.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    runners = [start("1e-3"), start("3e-4")]
    errors = [runner.communicate(timeout=120)[1] for runner in runners]
    assert all(runner.returncode == 0 for runner in runners), errors
    entries = journal(repo.path)
    assert len(entries) == 2 and all(entry["base"] == base for entry in entries)
    (first,) = [entry for entry in entries if entry["branch"] == "main"]
    (second,) = [entry for entry in entries if entry["branch"] != "main"]
    assert repo.head() == first["sha"]
    assert second["branch"] == f"run/{second['id']}" and second["moved_from"] == "refs/heads/main"
    assert repo.git("rev-parse", f"{second['sha']}^").strip() == base
    assert any("sibling" in text for text in errors)
    shown = json.loads(gittree_process("show", "--all", "--json", cwd=repo.path).stdout)
    nodes = {node["sha"]: node for node in (shown["nodes"] if isinstance(shown, dict) else shown)}
    assert nodes[first["sha"]]["parents"] == [base] and nodes[second["sha"]]["parents"] == [base]
    # each judged against the commit it started from, not against the other
    assert nodes[second["sha"]]["reference"] == base


# Writes acc to the file its last argument names, then keeps working: the best point the longest, so
# that with one shared file every point would read the slowest one's number.
WRITE_METRICS = (
    "import json, sys, time\n"
    "lr, seed, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "acc = {'0.1': 0.7, '0.01': 0.95}[lr] + seed / 100\n"
    "json.dump({'acc': round(acc, 2)}, open(path, 'w'))\n"
    "time.sleep({'0.1': 0.2, '0.01': 0.8}[lr])\n"
)


def metrics_sweep(repo: GitRepo, metrics_file: str, *args: str) -> subprocess.CompletedProcess[str]:
    repo.write("write.py", WRITE_METRICS)
    repo.write(".gitignore", "m-*.json\n")
    repo.git("add", ".")
    repo.commit("start")
    return gittree_process(
        "sweep",
        "--grid",
        "lr=0.1,0.01",
        *args,
        "--metrics-file",
        metrics_file,
        "--",
        sys.executable,
        "write.py",
        "{lr}",
        "{seed}",
        "m-{lr}-{seed}.json",
        cwd=repo.path,
    )


@pytest.mark.parametrize(
    ("metrics_file", "suggested"),
    [("m.json", "put {lr} and {seed} in the path"), ("m-{lr}.json", "put {seed}")],
)
def test_parallel_runs_sharing_one_metrics_file_are_refused_before_anything_runs(
    repo: GitRepo, metrics_file: str, suggested: str
) -> None:
    done = metrics_sweep(repo, metrics_file, "--seeds", "0,1", "-j", "2")
    assert done.returncode == 6, done.stderr
    assert "each would record whichever run wrote it last" in done.stderr and suggested in done.stderr
    assert journal(repo.path) == [] and "sweep/" not in repo.git("branch", "--list")


def test_grid_and_seed_placeholders_in_the_metrics_file_give_each_run_its_own(repo: GitRepo) -> None:
    done = metrics_sweep(repo, "m-{lr}-{seed}.json", "--seeds", "0,1", "-j", "4")
    assert done.returncode == 0, done.stderr
    best = parse_experiment(message(repo, "sweep/lr/lr=0.01"))
    worst = parse_experiment(message(repo, "sweep/lr/lr=0.1"))
    assert best is not None and sorted(best.metric_dict()["acc"]) == [0.95, 0.96]
    assert worst is not None and sorted(worst.metric_dict()["acc"]) == [0.7, 0.71]
    table = done.stdout.splitlines()
    header = table.index(next(line for line in table if line.startswith("POINT")))
    assert table[header + 1].startswith("lr=0.01 ")  # best first, from the right numbers


# The first point edits the code and a tracked results file while it runs (as a user editing train.py
# during a sweep would, and as a script keeping a tracked log does).
SELF_EDITING = (
    "import sys\n"
    "VERSION = 1\n"
    "print(f'acc: {VERSION + int(sys.argv[1]) / 10}')\n"
    "with open('history.csv', 'a') as log:\n"
    "    log.write(sys.argv[1] + '\\n')\n"
    "if sys.argv[1] == '1':\n"
    "    code = open('train.py').read().replace('VERSION = ' + '1', 'VERSION = ' + '4')\n"
    "    open('train.py', 'w').write(code)\n"
)


def test_a_point_started_after_the_code_was_edited_is_committed_dirty_and_no_file_is_lost(
    repo: GitRepo,
) -> None:
    """The sweep commits the code saved when it started; a later point runs the code on disk. One
    started after an edit ran code its commit does not hold: it said nothing and was committed clean
    (VERSION = 1 in the commit, the result of VERSION = 4). Now it is committed dirty, with a warning;
    the runs keep running where the user's files are, so nothing they write is lost."""
    repo.write("train.py", SELF_EDITING)
    repo.write("history.csv", "lr\n")
    repo.git("add", ".")
    repo.commit("code")
    done = gittree_process(
        "sweep",
        "--grid",
        "lr=1,2,3",
        "-j",
        "1",
        "--capture",
        "acc",
        "--",
        sys.executable,
        "train.py",
        "{lr}",
        cwd=repo.path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("no longer holds the code saved when this group of runs started") == 2
    messages = {lr: repo.git("log", "-1", "--format=%B", f"sweep/lr/lr={lr}") for lr in "123"}
    assert "dirty=true" not in messages["1"] and "acc=1.1" in messages["1"]
    assert "dirty=true" in messages["2"] and "acc=4.2" in messages["2"]
    assert all("VERSION = 1" in repo.git("show", f"sweep/lr/lr={lr}:train.py") for lr in "123")
    assert (repo.path / "history.csv").read_text() == "lr\n1\n2\n3\n"
    assert "VERSION = 4" in (repo.path / "train.py").read_text()
    assert repo.git("worktree", "list").count("\n") == 1
