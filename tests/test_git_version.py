"""A git older than gittree needs (docs/reliability.md): a clear error naming the version, exit 7."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gittree.gitio import MIN_GIT_VERSION, parse_git_version
from tests.conftest import GitRepo
from tests.runtools import gittree_process


def fake_old_git(folder: Path, version: str) -> Path:
    """A `git` that says it is ``version`` when asked, and is the real git for everything else."""
    real = shutil.which("git")
    assert real is not None
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "git"
    script.write_text(
        f'#!/bin/sh\nif [ "$1" = "--version" ]; then echo "git version {version}"; exit 0; fi\n'
        f'exec "{real}" "$@"\n'
    )
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize("args", [("show",), ("commit", "--allow-empty", "-m", "x", "--metric", "acc=1")])
def test_an_old_git_is_named_with_the_version_needed(
    repo: GitRepo, tmp_path: Path, args: tuple[str, ...]
) -> None:
    repo.experiment("a", metrics=[("acc", 0.5)])
    assert gittree_process("show", cwd=repo.path).returncode == 0  # a passed check is remembered...
    before = repo.git("for-each-ref")
    env = {
        **os.environ,
        "PATH": f"{fake_old_git(tmp_path / 'old', '2.20.1')}{os.pathsep}{os.environ['PATH']}",
    }
    done = gittree_process(*args, cwd=repo.path, env=env)  # ...for that git only
    assert done.returncode == 7, done.stderr
    assert "git version 2.20.1" in done.stderr and "gittree needs git 2.31 or newer" in done.stderr
    assert "Traceback" not in done.stderr
    assert repo.git("for-each-ref") == before


def test_a_new_enough_git_passes(repo: GitRepo, tmp_path: Path) -> None:
    repo.experiment("a", metrics=[("acc", 0.5)])
    env = {
        **os.environ,
        "PATH": f"{fake_old_git(tmp_path / 'new', '2.31.0')}{os.pathsep}{os.environ['PATH']}",
    }
    assert gittree_process("show", cwd=repo.path, env=env).returncode == 0


def test_version_text_is_parsed_as_git_prints_it() -> None:
    assert parse_git_version("git version 2.39.5\n") == (2, 39)
    assert parse_git_version("git version 2.45.1.windows.1") == (2, 45)
    assert parse_git_version("git version 2.30.0 (Apple Git-130)") == (2, 30)
    assert parse_git_version("something else") is None
    assert MIN_GIT_VERSION == (2, 31)


def test_git_is_found_on_path_as_shutil_which_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The git program is looked for without importing shutil (issue 19), by its rules: the first PATH
    entry with an executable file named git; a folder, or a file without the run bit, is passed over."""
    from gittree.gitio.repo import _which_git

    for name in ("dir", "plain", "runnable", "second"):
        (tmp_path / name).mkdir()
    (tmp_path / "dir" / "git").mkdir()
    (tmp_path / "plain" / "git").write_text("")
    for name in ("runnable", "second"):
        (tmp_path / name / "git").write_text("#!/bin/sh\n")
        (tmp_path / name / "git").chmod(0o755)
    paths = [
        os.pathsep.join(str(tmp_path / name) for name in ("dir", "plain", "runnable", "second")),
        os.pathsep.join(str(tmp_path / name) for name in ("second", "second", "runnable")),
        str(tmp_path / "plain"),
        "",
        os.pathsep.join(["", str(tmp_path / "runnable")]),
    ]
    monkeypatch.chdir(tmp_path / "second")  # an empty entry is the current folder
    for path in paths:
        monkeypatch.setenv("PATH", path)
        assert _which_git() == shutil.which("git"), path
    monkeypatch.delenv("PATH")
    assert _which_git() == shutil.which("git")
