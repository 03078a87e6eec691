"""Helpers for the run, hook and record tests: the real console script, the journal on disk, polling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: The console script of the environment running the tests (never one found on PATH).
GITTREE = Path(sys.executable).parent / "gittree"
PYTHON = sys.executable


def gittree_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `gittree` console script to completion."""
    return subprocess.run([str(GITTREE), *args], cwd=cwd, env=env, capture_output=True, text=True)


def runs_root(repo_path: Path) -> Path:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")
    }
    common = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=repo_path,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    return Path(common) / "gittree" / "runs"


def journal(repo_path: Path) -> list[dict[str, Any]]:
    """Every run's meta.json, oldest first."""
    root = runs_root(repo_path)
    if not root.is_dir():
        return []
    entries = [json.loads((path / "meta.json").read_text()) for path in root.iterdir() if path.is_dir()]
    return sorted(entries, key=lambda entry: (entry["start"], entry["id"]))


def only_run(repo_path: Path) -> dict[str, Any]:
    entries = journal(repo_path)
    assert len(entries) == 1, entries
    return entries[0]


def run_dir(repo_path: Path, run_id: str) -> Path:
    return runs_root(repo_path) / run_id


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll until ``condition`` holds (a synchronisation point, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def py(code: str) -> list[str]:
    """A command line running ``code`` with the test's Python (which can import gittree)."""
    return [PYTHON, "-c", code]
