"""Run git in tests without the user's configuration, identity or clock.

``isolated_git_env(home)`` gives the variables; conftest's autouse ``sandbox`` fixture applies them
with monkeypatch (so every subprocess sees them). ``git_env_context(home)`` does the same for
module-scoped fixtures and hypothesis tests, which cannot use function-scoped fixtures.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FIXED_DATE = "2026-01-01T00:00:00+00:00"


def isolated_git_env(home: Path) -> dict[str, str]:
    """Environment variables that cut git off from ~/.gitconfig, /etc/gitconfig and the clock."""
    home.mkdir(parents=True, exist_ok=True)
    global_config = home / "gitconfig"
    global_config.write_text("[init]\n\tdefaultBranch = main\n")
    return {
        "GIT_CONFIG_GLOBAL": str(global_config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_AUTHOR_NAME": "Ada Tester",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


_UNSET = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_CONFIG", "GIT_PAGER")


def _apply(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for name in _UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in isolated_git_env(home).items():
        monkeypatch.setenv(name, value)


@contextmanager
def git_env_context(home: Path) -> Iterator[None]:
    """The isolated environment for the duration of a ``with`` block."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _apply(monkeypatch, home)
        yield


def init_repo(path: Path) -> Path:
    """An empty repository at ``path`` (created), with the isolated environment already applied."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path
