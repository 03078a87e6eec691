"""Every command and option of runs, hooks and late results is documented, with its contract."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"


def _docs() -> str:
    return "\n".join((DOCS / name).read_text() for name in ("guide.md", "runs.md", "hooks.md"))


def _options(*path: str) -> list[str]:
    import typer.main

    from gittree.cli import app

    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return [opt for param in command.params for opt in getattr(param, "opts", []) if opt.startswith("--")]


@pytest.mark.parametrize(
    "path",
    [
        ("run",),
        ("sweep",),
        ("rerun",),
        ("runs",),
        ("recover",),
        ("record",),
        ("abandon",),
        ("hook", "install"),
        ("hook", "uninstall"),
    ],
)
def test_every_option_is_documented(path: tuple[str, ...]) -> None:
    text = _docs()
    assert f"gittree {' '.join(path)}" in text
    for option in _options(*path):
        if option != "--help":
            assert option in text, f"gittree {' '.join(path)} {option} is not documented"


def test_the_guide_shows_three_ways_to_get_metrics_and_how_to_install_the_hook() -> None:
    guide = (DOCS / "guide.md").read_text()
    assert "### Three ways to get metrics out of a training script" in guide
    for way in ("gittree.log_metric(", "--metrics-file", "--capture"):
        assert way in guide
    assert "## Install the hooks" in guide and "gittree hook install" in guide


def test_the_hook_contract_lists_every_variable_the_hook_gets() -> None:
    from gittree.runs.execute import hook_environment
    from gittree.runs.journal import RunMeta

    meta = RunMeta(id="x", command=["true"], cwd="/", worktree="/", start=0.0, target="refs/heads/main")
    contract = (DOCS / "hooks.md").read_text()
    for name, value in hook_environment(meta, Path("/tmp")).items():
        # (a GITTREE_ variable of this process's own, GITTREE_UPDATE_EXPECTED say, is passed on as it is)
        if name.startswith("GITTREE_") and os.environ.get(name) != value:
            assert f"`{name}`" in contract, name
