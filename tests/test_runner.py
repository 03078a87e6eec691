"""The one git runner: git started by ``posix_spawnp`` gives what the subprocess module gives.

``gitio.runner.run`` starts git without the subprocess module (a few milliseconds of every start-up);
the subprocess path stays for systems without posix_spawn. Both are run here on the same real git
commands and must agree on exit code, stdout and stderr.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gittree.errors import GitCommandError
from gittree.gitio import runner
from tests.conftest import GitRepo


@pytest.fixture(params=["spawn", "subprocess"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "subprocess":
        monkeypatch.setattr(runner, "_SPAWN", None)
    else:
        assert runner._SPAWN is not None, (
            "this system has posix_spawnp: the spawned path must be the one used"
        )
    return str(request.param)


def test_output_exit_code_and_errors_as_git_gives_them(tmp_path: Path, way: str) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.commit("first")
    done = runner.run(["rev-parse", "HEAD"], cwd=repo.path)
    assert done.code == 0 and len(done.out.strip()) == 40 and done.err == b""
    missing = runner.run(["rev-parse", "--verify", "no-such-branch"], cwd=repo.path)
    assert missing.code == 128 and missing.out == b"" and b"fatal" in missing.err
    with pytest.raises(GitCommandError, match="rev-parse failed"):
        runner.run(["rev-parse", "--verify", "no-such-branch"], cwd=repo.path, check=True)


def test_cwd_is_where_git_runs_relative_paths_included(tmp_path: Path, way: str) -> None:
    repo = GitRepo(tmp_path / "r")
    (repo.path / "sub").mkdir()
    repo.write("sub/b.txt", "2\n")
    repo.commit("first")
    assert runner.run(["rev-parse", "--show-prefix"], cwd=repo.path / "sub").out == b"sub/\n"
    assert runner.run(["ls-files", "b.txt"], cwd=repo.path / "sub").out == b"b.txt\n"
    assert runner.run(["rev-parse", "--is-inside-git-dir"], cwd=repo.path / ".git").out == b"true\n"


def test_input_larger_than_a_pipe_while_git_writes_as_much_back(tmp_path: Path, way: str) -> None:
    """Several megabytes each way: git's stdout fills its pipe long before its stdin is all written."""
    repo = GitRepo(tmp_path / "r")
    data = b"".join(b"line %07d of a long input\n" % n for n in range(200_000))
    done = runner.run(["hash-object", "-w", "--stdin"], cwd=repo.path, input=data)
    blob = done.out.strip().decode()
    echoed = runner.run(["cat-file", "--batch"], cwd=repo.path, input=(blob + "\n") * 3)
    assert echoed.code == 0
    assert echoed.out.count(data) == 3


def test_text_input_is_sent_as_utf8_and_empty_input_is_an_empty_stdin(tmp_path: Path, way: str) -> None:
    repo = GitRepo(tmp_path / "r")
    done = runner.run(["hash-object", "--stdin"], cwd=repo.path, input="é\n")
    same = runner.run(["hash-object", "--stdin"], cwd=repo.path, input="é\n".encode())
    assert done.out == same.out and done.code == 0
    empty = runner.run(["hash-object", "--stdin"], cwd=repo.path, input=b"")
    nothing = runner.run(["hash-object", "--stdin"], cwd=repo.path)
    assert empty.out == nothing.out == b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391\n"


def test_the_environment_policy_and_extra_variables_reach_git(tmp_path: Path, way: str) -> None:
    repo = GitRepo(tmp_path / "r")
    alias = "alias.show-env=!echo $GIT_NO_REPLACE_OBJECTS $LC_ALL $GITTREE_PROBE"
    done = runner.run(["-c", alias, "show-env"], cwd=repo.path, env={"GITTREE_PROBE": "here"})
    assert done.out == b"1 C here\n"


def test_a_writer_into_a_closed_pipe_stops_quietly(tmp_path: Path, way: str) -> None:
    """Python ignores SIGPIPE; what git starts must stop at a closed pipe, not print "Broken pipe"
    (git puts SIGPIPE back itself; the spawned path also starts git with it, as subprocess does)."""
    repo = GitRepo(tmp_path / "r")
    done = runner.run(["-c", "alias.first=!yes | head -n 1", "first"], cwd=repo.path)
    assert (done.code, done.out, done.err) == (0, b"y\n", b"")


def test_no_git_on_path_is_a_gittree_error(tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GitCommandError, match="not found on PATH"):
        runner.run(["--version"], cwd=tmp_path)


def test_no_descriptor_is_left_open(tmp_path: Path, way: str) -> None:
    repo = GitRepo(tmp_path / "r")
    before = set(os.listdir("/dev/fd"))
    for _ in range(20):
        runner.run(["rev-parse", "--verify", "nothing"], cwd=repo.path)
        runner.run(["hash-object", "--stdin"], cwd=repo.path, input=b"x")
    assert set(os.listdir("/dev/fd")) == before


def test_an_interrupt_while_git_works_stops_and_reaps_it(tmp_path: Path, way: str) -> None:
    """Ctrl-C (here a timer's exception) during a long git command: the exception comes out at once and
    no git process is left behind as this process's child, as with subprocess.run."""
    import signal
    import time

    repo = GitRepo(tmp_path / "r")

    def interrupt(signum: int, frame: object) -> None:
        raise TimeoutError("interrupted")

    before = _children()
    previous = signal.signal(signal.SIGALRM, interrupt)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(TimeoutError):
            runner.run(["-c", "alias.wait=!sleep 5", "wait"], cwd=repo.path)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 4
    assert _children() <= before  # no child of ours left, running or not reaped


def _children() -> set[str]:
    """This process's children (Linux's /proc: a zombie is listed until it is reaped)."""
    tasks = Path("/proc/self/task")
    return {pid for task in tasks.iterdir() for pid in (task / "children").read_text().split()}
