"""The research of a repository for notebooks and scripts: ``gittree.open(".")`` (docs/api.md).

A thin layer over what the command line calls: :func:`gittree.read.load_tree` (show's selection
rules), :mod:`gittree.read.questions` (best, path), :mod:`gittree.tree.analysis`, the table's records
(:mod:`gittree.render.table`), the page (:mod:`gittree.render.html`) and the chart
(:mod:`gittree.render.plot`). Nothing is computed here a second way. Nothing prints.

In Jupyter a :class:`Tree` shows itself as the interactive page, inside a sandboxed ``<iframe srcdoc>``
(its script runs in an origin of its own and its style sheet stays inside), and a chart as SVG.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gittree import gitio
from gittree.config import Config
from gittree.model import Node, ResearchTree
from gittree.tree.analysis import PathReport, Ranking, rank_experiments

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gittree.curves import StoredRun
    from gittree.runs.curves import RunCurves

#: What ``to_pandas`` needs, word for word as its error says it.
PANDAS_INSTALL = "pip install pandas"
#: The height of the page's frame in a notebook, in CSS pixels.
FRAME_HEIGHT = 640


@dataclass
class Tree(ResearchTree):
    """A :class:`~gittree.model.ResearchTree` (the very object ``show`` draws) that Jupyter shows as the page."""

    config: Config = field(default_factory=Config, repr=False)
    #: the runs' curves stored in git, by experiment (docs/format.md, "Curves"): the page's cards draw them.
    curves: dict[str, list[StoredRun]] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        count = len(self.nodes)
        metric = f" · {self.metric.name} ({self.metric.goal.value})" if self.metric else ""
        best = f" · best {self.best[:7]}" if self.best else ""
        return f"<gittree.Tree · {count} experiment{'s' if count != 1 else ''}{metric}{best}>"

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, rev: str) -> Node:
        """The experiment whose sha starts with ``rev`` (at least 4 characters, one match)."""
        found = [node for node in self.nodes if len(rev) >= 4 and node.sha.startswith(rev.lower())]
        if len(found) != 1:
            raise KeyError(rev)
        return found[0]

    def html(self) -> str:
        """The interactive page, as ``gittree render --format html`` writes it."""
        from gittree.render.html import render_html

        return render_html(self, self.config, curves=self.curves)

    def _repr_html_(self) -> str:
        # sandbox without allow-same-origin: the page's script runs, but cannot reach the notebook.
        return (
            f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" sandbox="allow-scripts" '
            f'title="gittree research tree" width="100%" height="{FRAME_HEIGHT}" '
            'style="border: 1px solid #e0e0e0"></iframe>'
        )


def as_notebook_tree(
    tree: ResearchTree, config: Config, curves: dict[str, list[StoredRun]] | None = None
) -> Tree:
    """The same tree, with its nodes shared, as a :class:`Tree`."""
    values = {f.name: getattr(tree, f.name) for f in fields(ResearchTree)}
    return Tree(**values, config=config, curves=curves or {})


class Research:
    """The research of one repository. Each question reads the repository afresh (through the cache)."""

    def __init__(self, repo: gitio.Repo) -> None:
        self.repo = repo

    def __repr__(self) -> str:
        return f"<gittree.Research {self.repo.worktree or self.repo.git_dir}>"

    @property
    def config(self) -> Config:
        from gittree.read import repo_config

        return repo_config(self.repo)

    def tree(
        self, revs: Sequence[str] | str | None = None, all: bool = False, metric: str | None = None
    ) -> Tree:
        """The tree ``gittree show [REVS] [--all] [--metric NAME]`` draws (default: every local branch and
        gittree's kept experiments, as ``show``)."""
        from gittree.read import Selection, load_tree
        from gittree.read.views import tree_curves

        config = self.config
        tree = load_tree(self.repo, Selection(_revs(revs), all_refs=all, metric=metric), config=config)
        return as_notebook_tree(tree, config, tree_curves(self.repo, tree))

    def curves(self, *revs: str) -> list[RunCurves]:
        """``gittree plot --curves REV...``'s data: each run's curves (``.curves``, by metric name, each with
        ``.steps``, ``.values`` and ``.total``), from git first, then the run journal."""
        from gittree.runs.curves import curves_of

        return curves_of(self.repo, list(revs))

    def ranking(
        self,
        top: int | None = None,
        revs: Sequence[str] | str | None = None,
        all: bool = False,
        metric: str | None = None,
    ) -> Ranking:
        """``gittree best --top K``: the ranked experiments, best first, and why others were left out."""
        return rank_experiments(self.tree(revs, all, metric), top)

    def best(
        self, revs: Sequence[str] | str | None = None, all: bool = False, metric: str | None = None
    ) -> Node | None:
        """The best experiment (the tree's ★), or None when nothing can be ranked."""
        entries = self.ranking(1, revs, all, metric).entries
        return entries[0].node if entries else None

    def path(self, rev: str | None = None, all: bool = False, metric: str | None = None) -> PathReport:
        """``gittree path [REV]``: the steps from the root to ``rev`` (default: the best experiment)."""
        from gittree.read import Selection, load_tree, questions

        chosen = Selection([rev] if rev else [], all_refs=all, within_scope=True, metric=metric)
        tree = load_tree(self.repo, chosen)
        return questions.path_report(self.repo, tree, rev)

    def table(
        self, revs: Sequence[str] | str | None = None, all: bool = False, metric: str | None = None
    ) -> list[dict[str, Any]]:
        """One record per experiment, as ``gittree table --json`` has its rows, plus the ``params``.

        Every recorded metric has ``NAME_mean``, ``NAME_std``, ``NAME_n``; numbers stay floats (NaN and
        infinities too), ``date`` is ISO 8601 on the author's clock.
        """
        from gittree.read.questions import table_rows
        from gittree.render.table import record_columns, record_values

        tree = self.tree(revs, all, metric)
        specs, rows = table_rows(tree, tree.config, [metric] if metric else ())
        names = [spec.name for spec in specs]
        columns = record_columns(names)
        return [
            {**dict(zip(columns, record_values(node, names), strict=True)), "params": dict(node.params)}
            for node in rows
        ]

    def to_pandas(
        self, revs: Sequence[str] | str | None = None, all: bool = False, metric: str | None = None
    ) -> Any:
        """:meth:`table` as a pandas DataFrame indexed by sha; each param is a column ``param.NAME``."""
        try:
            import pandas
        except ImportError as e:
            from gittree.errors import MissingExtraError

            raise MissingExtraError(
                "to_pandas() needs pandas, which is not installed", hint=f"install it with: {PANDAS_INSTALL}"
            ) from e
        records = []
        for record in self.table(revs, all, metric):
            params = record.pop("params")
            records.append({**record, **{f"param.{name}": value for name, value in params.items()}})
        frame = pandas.DataFrame.from_records(records)
        return frame.set_index("sha") if "sha" in frame else frame

    def plot(
        self, revs: Sequence[str] | str | None = None, all: bool = False, metric: str | None = None
    ) -> Any:
        """The progress chart ``gittree plot`` draws, as a matplotlib Figure (Jupyter shows it as SVG)."""
        from gittree.render.plot import progress_figure
        from gittree.tree.progress import progress_of

        return progress_figure(progress_of(self.tree(revs, all, metric)))


def _revs(revs: Sequence[str] | str | None) -> list[str]:
    if revs is None:
        return []
    return [revs] if isinstance(revs, str) else list(revs)


def open(path: str | Path = ".") -> Research:
    """The research of the repository containing ``path`` (found as git finds it)."""
    return Research(gitio.open_repo(path))
