"""A failed run carries the reason gittree saw (exit status, signal, last stderr line) into every view.

Real `gittree run` processes in real repositories; the views are read back through the CLI.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import GITTREE, only_run, py, wait_for

CRASH = (
    "import sys\n"
    "print('epoch 1', flush=True)\n"
    "print('Traceback (most recent call last):', file=sys.stderr)\n"
    "print('ValueError: lr must be positive', file=sys.stderr)\n"
    "print('', file=sys.stderr)\n"  # a blank last line: the reason is the last line with text
    "sys.exit(1)\n"
)


def run_facts(repo: GitRepo) -> dict[str, str]:
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None
    return record.run_dict()


def test_a_crash_is_recorded_with_its_exit_status_and_last_error_line(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("run", "--name", "lr -1", "--", *py(CRASH))
    assert result.code == 1
    facts = run_facts(repo)
    assert facts["exit"] == "1" and facts["stderr"] == "ValueError: lr must be positive"
    reason = "exit 1: ValueError: lr must be positive"

    shown = gittree("show").out
    assert "failed" in shown and "exit 1" in shown  # the row's short reason: the stderr line is too long
    node = json.loads(gittree("export").out)["nodes"][-1]
    assert node["failure"] == reason
    markdown = gittree("export", "--format", "markdown").out
    assert f"(failed): {reason}" in markdown and "no reason recorded" not in markdown
    assert reason in gittree("path", "HEAD").out
    assert "✗ failed: exit 1: ValueError" in gittree("render", "--format", "dot", "-o", "-").out
    assert f"failed ({reason})" in gittree("diff", "HEAD~1", "HEAD").out


def test_a_successful_run_records_no_stderr_line(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    script = "import sys; print('acc: 0.5'); print('warning: slow disk', file=sys.stderr)"
    assert gittree("run", "--capture", "acc", "--", *py(script)).code == 0
    assert "stderr" not in run_facts(repo)
    assert json.loads(gittree("export").out)["nodes"][-1]["failure"] is None


def test_a_command_killed_by_a_signal_says_so(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("run", "--", "sh", "-c", "kill -KILL $$").code == 128 + signal.SIGKILL
    assert json.loads(gittree("export").out)["nodes"][-1]["failure"] == "killed by SIGKILL"


def test_sigterm_is_said_once_when_stopped_and_once_when_recovered(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    script = "import pathlib, time\npathlib.Path('ready').touch()\ntime.sleep(120)\n"
    runner = subprocess.Popen(
        [str(GITTREE), "run", "--", sys.executable, "-c", script],
        cwd=repo.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for((repo.path / "ready").exists, "the run to get going")
    runner.send_signal(signal.SIGTERM)
    _, err = runner.communicate(timeout=60)
    assert runner.returncode == 128 + signal.SIGTERM
    assert err.count("SIGTERM") == 1, err
    assert err.count("not committed") == 1, err
    assert repo.head() == start
    entry = only_run(repo.path)
    assert entry["signal"] == "SIGTERM" and entry["interrupted"] == "SIGTERM"
    assert gittree("recover", entry["id"]).code == 0
    facts = run_facts(repo)
    assert facts["signal"] == "SIGTERM" and facts["interrupted"] == "SIGTERM"
    node = json.loads(gittree("export").out)["nodes"][-1]
    assert node["failure"] == "interrupted by SIGTERM"
    markdown = gittree("export", "--format", "markdown").out
    dead_ends = markdown.split("## Dead ends", 1)[1]
    assert dead_ends.count("SIGTERM") == 1, dead_ends


def test_a_failure_recorded_by_an_older_gittree_is_read_from_its_exit_fact(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Commits made before the stderr fact existed still say how they ended, not 'no reason recorded'."""
    repo.commit("run: python train.py\n\nGittree-Status: failed\nGittree-Run: exit=2\nGittree-Run: id=old\n")
    markdown = gittree("export", "--format", "markdown").out
    assert "(failed): exit 2" in markdown and "no reason recorded" not in markdown
