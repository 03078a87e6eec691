"""The package stays ruff- and mypy-clean; the README's commands and .ci/run stay in step."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is part of the test extras but is not installed next to {sys.executable}")
    return found


def test_ruff_clean() -> None:
    paths = [name for name in ("gittree", "tests", "benchmarks") if (ROOT / name).is_dir()]
    done = subprocess.run([_tool("ruff"), "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_clean() -> None:
    done = subprocess.run([_tool("mypy"), "--no-error-summary"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in ci.splitlines() if line.startswith("python3 -m venv"))
    assert command in readme


def test_readme_example_is_the_demo_as_gittree_draws_it() -> None:
    """The README shows real output: the demo's tree exactly as tests/expected/demo.txt pins it."""
    readme = (ROOT / "README.md").read_text()
    example = readme.split("$ gittree show --all\n", 1)[1].split("```", 1)[0]
    demo = (ROOT / "tests" / "expected" / "demo.txt").read_text()
    assert example.strip("\n") in demo
