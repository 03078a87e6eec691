"""``gittree init``: the repository's research settings, and the git settings that keep notes attached."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from gittree import CONFIG_FILE, gitio
from gittree.config import Config, MetricConfig, dump_config
from gittree.errors import BadValueError, GitCommandError
from gittree.model import Goal
from gittree.read import repo_config
from gittree.trailers import validate_name


@dataclass(frozen=True)
class InitResult:
    config_path: Path
    config: Config
    #: the git settings added now (notes.rewriteRef, notes.displayRef): :func:`gitio.keep_notes_through_rewrites`.
    git_settings: tuple[tuple[str, str], ...]


def init_project(
    repo: gitio.Repo, *, metric: str | None = None, goal: str | None = None, threshold: float | None = None
) -> InitResult:
    """Write (or update) ``.gittree.yaml`` and the repository's notes settings; safe to run twice."""
    if repo.worktree is None:
        raise GitCommandError(
            "a bare repository has no working tree for .gittree.yaml", hint="run gittree init in a clone"
        )
    if goal is not None and goal not in ("max", "min"):
        raise BadValueError(f"--goal must be 'max' or 'min', not '{goal}'")
    if threshold is not None and not 0 <= threshold < math.inf:  # NaN fails too
        # the same rule the file is read with (config.py): inf would be written, then refused ever after
        raise BadValueError(f"--threshold must be a finite non-negative number, not {threshold}")
    if (goal is not None or threshold is not None) and metric is None:
        raise BadValueError("--goal and --threshold describe a metric", hint="name it with --metric NAME")
    config = repo_config(repo)
    if metric is not None:
        validate_name(metric)
        previous = config.metrics.get(metric, MetricConfig())
        settings = replace(
            previous,
            goal=Goal(goal) if goal else previous.goal,
            threshold=threshold if threshold is not None else previous.threshold,
        )
        config = replace(config, primary=metric, metrics={**config.metrics, metric: settings})
    path = repo.worktree / CONFIG_FILE
    path.write_text(dump_config(config), encoding="utf-8")
    added = gitio.keep_notes_through_rewrites(repo)
    return InitResult(config_path=path, config=config, git_settings=added)
