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
