"""Reading the research tree of a repository: the one path every view (show, render, best, ...) takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
    branches: Sequence[str] = (),
    author: str | None = None,
) -> ResearchTree:
    """The research tree reachable from ``revs`` (default HEAD; every ref with ``all_refs``).

    ``branches`` adds the branches matching these globs (local and remote-tracking) as starting
    points, instead of HEAD; ``author`` keeps only that author's experiments and their ancestors.
    """
    config = config or load_config(repo.worktree)
    if branches:
        tips = gitio.branch_tips(repo, branches)
        if revs or all_refs:
            tips += gitio.tip_shas(repo, revs, all_refs=all_refs)
    else:
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
    if author is not None and tree.nodes:
        tree = by_author(tree, author)
    return tree


def by_author(tree: ResearchTree, author: str) -> ResearchTree:
    """The experiments whose author's name or email contains ``author`` (any case), with their ancestors.

    Ancestors by other people stay as context, so every kept experiment still hangs from its real
    parents; deltas, verdicts and the best experiment are those of the whole tree (docs/tree.md).
    """
    needle = author.casefold()
    matching = [
        node.sha
        for node in tree.nodes
        if needle in node.author_name.casefold() or needle in node.author_email.casefold()
    ]
    if not matching:
        raise NoExperimentsError(
            f"no experiment in this history is by an author matching '{author}'",
            hint="the text is matched, ignoring case, within author names and emails",
        )
    keep: set[str] = set()
    stack = matching
    while stack:
        sha = stack.pop()
        if sha not in keep:
            keep.add(sha)
            stack.extend(tree.by_sha[sha].parents)
    nodes = [
        replace(node, children=[child for child in node.children if child in keep])
        for node in tree.nodes
        if node.sha in keep
    ]
    return ResearchTree(
        nodes=nodes,
        metric=tree.metric,
        head=tree.head if tree.head in keep else None,
        best=tree.best if tree.best in keep else None,
        metric_names=tree.metric_names,
    )


def open_tree(
    path: Path | None,
    revs: Sequence[str] = (),
    *,
    all_refs: bool = False,
    metric: str | None = None,
) -> ResearchTree:
    """Open the repository at ``path`` and load its tree."""
    return load_tree(gitio.open_repo(path), revs, all_refs=all_refs, metric=metric)
