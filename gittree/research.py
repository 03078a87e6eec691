"""Reading the research tree of a repository: the one path every view (show, render, best, ...) takes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gittree import gitio
from gittree.config import Config, load_config
from gittree.errors import BadValueError, NoExperimentsError
from gittree.model import ResearchTree
from gittree.tree import build_tree


def load_tree(
    repo: gitio.Repo,
    revs: Sequence[str] = (),
    *,
    all_refs: bool = False,
    metric: str | None = None,
    config: Config | None = None,
    require_experiments: bool = True,
) -> ResearchTree:
    """The research tree reachable from ``revs`` (default HEAD; every ref with ``all_refs``)."""
    config = config or load_config(repo.worktree)
    tips = gitio.tip_shas(repo, revs, all_refs=all_refs)
    tree = build_tree(gitio.read_commits(repo, tips), config=config, metric=metric, head=gitio.head_sha(repo))
    if require_experiments and not tree.nodes:
        raise NoExperimentsError(
            "no experiments yet: no commit in this history has a Gittree-* trailer",
            hint="record one with: gittree commit -m 'baseline' --metric acc=0.5 (or try `gittree demo`)",
        )
    if metric and tree.nodes and metric not in tree.metric_names:
        known = ", ".join(tree.metric_names) or "none"
        raise BadValueError(f"no experiment records the metric '{metric}'", hint=f"recorded metrics: {known}")
    return tree


def open_tree(
    path: Path | None,
    revs: Sequence[str] = (),
    *,
    all_refs: bool = False,
    metric: str | None = None,
) -> ResearchTree:
    """Open the repository at ``path`` and load its tree."""
    return load_tree(gitio.open_repo(path), revs, all_refs=all_refs, metric=metric)
