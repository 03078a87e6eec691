"""The answers of ``path``, ``table`` and ``diff`` computed from a research tree (``best``: views.py).

Each function opens nothing itself: it takes an open repository and the tree the view cache
(:mod:`gittree.read.views`) read for it, asks :mod:`gittree.tree.analysis` and, where the answer
needs more of git (folded commits, the two commits compared), asks :mod:`gittree.gitio`. Renderers
turn the answers into text; :mod:`gittree.read.views` caches what they print.
"""

from __future__ import annotations

from collections.abc import Sequence

from gittree import gitio
from gittree.config import Config
from gittree.errors import BadValueError
from gittree.model import MetricSpec, Node, ResearchTree
from gittree.tree.analysis import (
    SORT_KEYS,
    ExperimentDiff,
    FoldedCommits,
    PathReport,
    build_path,
    diff_experiments,
    find_experiment,
    relation_of,
    sort_experiments,
)

#: How many folded ordinary commits ``path`` names per step (the rest are counted).
FOLDED_LISTED = 5


def path_report(
    repo: gitio.Repo, tree: ResearchTree, rev: str | None = None, *, resolved: str | None = None
) -> PathReport:
    """The path to ``rev`` (default: the best experiment) in ``tree``, with the ordinary commits folded between.

    ``tree`` is the research tree with ``rev`` in it (views.path_view reads it and caches the answer);
    ``resolved``: the commit ``rev`` was already resolved to, when the tree was read from it.
    """
    target = find_experiment(tree, resolved or gitio.resolve_commit(repo, rev), rev).sha if rev else None
    end = target or tree.best
    chain = tree.path_to(end) if end else []
    folded: dict[str, FoldedCommits] = {}
    for node in chain:
        if sum(node.folded.values()) + node.folded_below:
            listed, count = gitio.commits_between(
                repo, node.sha, node.parents, limit=FOLDED_LISTED, skip=tree.by_sha
            )
            folded[node.sha] = FoldedCommits(count, tuple(listed))
    return build_path(tree, target, folded)


def table_rows(
    tree: ResearchTree, config: Config, metrics: Sequence[str] = (), sort: str | None = None
) -> tuple[list[MetricSpec], list[Node]]:
    """The metric columns (default: every recorded metric) and the rows of ``tree``, sorted by ``sort``."""
    names = list(dict.fromkeys(metrics)) or _default_columns(tree)
    for name in names:
        if name not in tree.metric_names:
            known = ", ".join(tree.metric_names) or "none"
            raise BadValueError(
                f"no experiment records the metric '{name}'", hint=f"recorded metrics: {known}"
            )
    if sort is not None and sort not in SORT_KEYS and sort not in tree.metric_names:
        raise BadValueError(
            f"cannot sort by '{sort}'",
            hint=f"sort by a metric ({', '.join(tree.metric_names) or 'none recorded'}) or by "
            + ", ".join(SORT_KEYS),
        )
    sort_spec = config.spec(sort) if sort in tree.metric_names else None
    return [config.spec(name) for name in names], sort_experiments(tree, sort, sort_spec)


def _default_columns(tree: ResearchTree) -> list[str]:
    """Every recorded metric, the one the tree is coloured by first."""
    primary = [tree.metric.name] if tree.metric else []
    return primary + [name for name in tree.metric_names if name not in primary]


def diff_pair(repo: gitio.Repo, tree: ResearchTree, config: Config, a: str, b: str) -> ExperimentDiff:
    """``b`` against ``a``: their metrics and params side by side (the code change is :func:`gitio.diff_text`'s).

    ★ best and ⚠ verify are judged against ``tree``, the research tree (every local branch, with
    ``--all`` every ref; docs/tree.md) with the two commits in it, as ``show`` marks them: not the
    better of two. ``views.diff_view`` reads it and caches the answer.
    """
    commit_a, commit_b = gitio.read_commit(repo, a), gitio.read_commit(repo, b)
    relation = relation_of(commit_a.sha, commit_b.sha, lambda old, new: gitio.is_ancestor(repo, old, new))
    return diff_experiments(tree, commit_a, commit_b, config.spec, relation)
