"""The bytes ``show``, ``table``, ``export``, ``render``, ``best``, ``path`` and ``diff`` print, through the view cache.

Each function names its view by every option its output depends on and hands
:func:`gittree.read.view` a renderer; the view is served from the cache when none of its inputs
changed (docs/performance.md). Nothing heavy is imported until a view has to be rendered, so a
cached answer starts as fast as ``gittree show`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from gittree import gitio
from gittree.read import Progress, Selection, view

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from gittree.config import Config
    from gittree.curves import StoredRun
    from gittree.model import ResearchTree


def show_view(
    repo: gitio.Repo,
    selection: Selection | None = None,
    *,
    as_json: bool = False,
    width: int = 100,
    colour: bool = False,
    progress: Progress | None = None,
) -> Iterable[bytes]:
    """``gittree show``: the tree ``selection`` selects as text rows (``width`` columns, ``colour``) or as JSON."""
    if as_json:
        from gittree.read.viewpatch import RenderedJson

        name = "show-json"
        rendered = RenderedJson()

        def render(tree: ResearchTree, config: Config) -> Iterator[str]:
            from gittree.render.jsonview import render_json_chunks, tree_head

            rendered.tree, rendered.header = tree, {**tree_head(tree), "config": config.source}
            return render_json_chunks(
                tree, config=config.source, curves=tree_curves(repo, tree), lengths=rendered.lengths
            )

        return view(repo, name, render, selection, progress=progress, rendered=rendered)
    else:
        name = f"show-text:{width}:{int(colour)}"

        def render(tree: ResearchTree, config: Config) -> Iterator[str]:
            from gittree.render.text import TextStyle, render_view

            for line in render_view(tree, TextStyle(width=width, colour=colour)):
                yield line + "\n"

    return view(repo, name, render, selection, progress=progress)


def table_view(
    repo: gitio.Repo,
    selection: Selection | None = None,
    *,
    metrics: Sequence[str] = (),
    sort: str | None = None,
    fmt: str = "plain",
    as_json: bool = False,
    params: Sequence[str] = (),
) -> Iterable[bytes]:
    """The bytes ``gittree table`` prints, from the view cache when none of their inputs changed.

    ``metrics``: the metric columns; the selection's metric (the first of them) sets delta and verdict.
    """

    def render(tree: ResearchTree, config: Config) -> Iterator[str]:
        from gittree.read.questions import table_rows
        from gittree.render.table import ParamCells, render_table_chunks, render_table_json_chunks

        specs, rows = table_rows(tree, config, metrics, sort)
        names = [spec.name for spec in specs]
        cells = ParamCells.of(tree, params)
        if as_json:
            yield from render_table_json_chunks(tree, rows, names, cells)
        else:
            yield from render_table_chunks(tree, rows, names, fmt, cells)

    name = repr(("table", tuple(metrics), sort, "json" if as_json else fmt, tuple(params)))
    return view(repo, name, render, selection)


def export_view(
    repo: gitio.Repo,
    selection: Selection | None = None,
    *,
    fmt: str = "json",
    budget: int | None = None,
) -> Iterable[bytes]:
    """The bytes ``gittree export`` prints (the research tree of every view, docs/tree.md), cached like a view.

    ``budget``: the Markdown story in at most that many characters (:mod:`gittree.render.digest`).
    """
    project = project_name(repo)

    def render(tree: ResearchTree, config: Config) -> Iterator[str]:
        from gittree.render.export import render_export_json_chunks, render_export_markdown

        if fmt == "json":
            yield from render_export_json_chunks(tree, project=project, curves=tree_curves(repo, tree))
        elif budget is not None:
            from gittree.render.digest import render_digest

            yield render_digest(tree, budget, project=project)
        else:
            yield render_export_markdown(tree, project=project)

    name = repr(("export", fmt, project) if budget is None else ("export", fmt, project, budget))
    return view(repo, name, render, selection)


def drawing_view(
    repo: gitio.Repo,
    selection: Selection | None = None,
    *,
    fmt: str = "svg",
    depth: int | None = None,
    since: int | None = None,
    only_best_path: bool = False,
    fold: int | None = None,
) -> Iterable[bytes]:
    """The bytes of ``gittree render``: DOT, SVG, PNG, PDF or HTML, cached like a view.

    The Graphviz program that lays out SVG, PNG, PDF and the page's drawing is part of the view's name, so installing
    another one draws again. The drawing modules are imported only when the view is not cached.
    """

    from gittree.render import DEFAULT_FOLD

    folding = DEFAULT_FOLD if fold is None else fold

    def render(tree: ResearchTree, config: Config) -> Iterator[str] | Iterator[bytes]:
        from gittree.render.picture import draw
        from gittree.render.subgraph import DrawingOptions

        chosen = DrawingOptions(depth=depth, since=since, only_best_path=only_best_path, fold=folding)
        return draw(tree, fmt, chosen, config, tree_curves(repo, tree) if fmt == "html" else None)

    engine = None
    if fmt in ("svg", "png", "pdf", "html"):  # the page holds an SVG laid out by the same Graphviz
        from gittree.render.graphviz import engine_identity

        engine = engine_identity("svg" if fmt == "html" else fmt)
    name = repr(("render", fmt, engine, depth, since, only_best_path, folding))
    return view(repo, name, render, selection)


def best_view(
    repo: gitio.Repo,
    selection: Selection | None = None,
    *,
    top: int = 1,
    as_json: bool = False,
) -> Iterable[bytes]:
    """The bytes ``gittree best`` prints, cached like a view: the ranking depends on the tree alone."""

    def render(tree: ResearchTree, config: Config) -> Iterator[str]:
        from gittree.render import answers
        from gittree.tree.analysis import rank_experiments

        ranking = rank_experiments(tree, top)
        yield answers.render_best_json(tree, ranking) if as_json else answers.render_best(tree, ranking)

    name = repr(("best", top, as_json))
    return view(repo, name, render, selection)


def path_view(
    repo: gitio.Repo, selection: Selection | None = None, *, as_json: bool = False
) -> Iterable[bytes]:
    """The bytes ``gittree path`` prints, cached like a view.

    ``rev``, the experiment traced (default: the best), is the selection's one revision, which joins
    the scope (``within_scope``): the tree is the research tree with ``rev`` in it (docs/tree.md, the
    one scope rule). The view is named by the commit ``rev`` names now, so a branch that moves is a
    new view. The folded commits between steps are fixed by the commits themselves, which the tips in
    the view's key already pin.
    """
    rev = selection.revs[0] if selection is not None and selection.revs else None
    target = gitio.resolve_commit(repo, rev) if rev else None
    if selection is not None and target is not None:
        # ``rev`` is resolved once: the tree's tips and the experiment traced are the same commit even
        # if its branch moves meanwhile, so an answer is never cached under another commit's key.
        selection = selection.with_revs((target,))

    def render(tree: ResearchTree, config: Config) -> Iterator[str]:
        from gittree.read.questions import path_report
        from gittree.render import answers

        report = path_report(repo, tree, rev, resolved=target)
        if as_json:
            yield answers.render_path_json(report)
            return
        for line in answers.render_path(tree, report):
            yield line + "\n"

    name = repr(("path", target, as_json))
    return view(repo, name, render, selection)


def diff_view(
    repo: gitio.Repo,
    a: str,
    b: str,
    *,
    all_refs: bool = False,
    metric: str | None = None,
    patch: bool = False,
    as_json: bool = False,
) -> tuple[str, str, str, str]:
    """What ``gittree diff A B`` prints around the code change, cached like a view: the two commits' ids,
    then the text before the code change and the text after it.

    The tree is the research tree with both commits in it (docs/tree.md); the view is keyed by the
    commits ``a`` and ``b`` name now (the tips of its selection). The code change itself is not part
    of the view: it is git's answer (``git diff --stat``), which also depends on git's configuration
    and the environment (``diff.renames``, ``COLUMNS``), so the caller asks git for it each time.
    """
    import marshal

    # Each revision is resolved once: the tree's tips and the two commits compared are the same even if
    # a branch moves meanwhile, so an answer is never cached under other commits' key.
    a, b = gitio.resolve_commits(repo, [a, b])

    def render(tree: ResearchTree, config: Config) -> Iterator[bytes]:
        from gittree.read.questions import diff_pair
        from gittree.render import answers

        compared = diff_pair(repo, tree, config, a, b)
        if as_json:
            before, after = answers.render_diff_json_around_code(compared, patch=patch)
        else:
            head, tail = answers.render_diff_around_code(compared, patch=patch)
            before, after = "".join(line + "\n" for line in head), "".join(line + "\n" for line in tail)
        yield marshal.dumps((compared.a.sha, compared.b.sha, before, after))

    name = repr(("diff", patch, as_json))
    chosen = Selection((a, b), all_refs=all_refs, within_scope=True, metric=metric)
    stored = marshal.loads(b"".join(view(repo, name, render, chosen, require_experiments=False)))
    sha_a, sha_b, before, after = stored
    return str(sha_a), str(sha_b), str(before), str(after)


def tree_curves(repo: gitio.Repo, tree: ResearchTree) -> dict[str, list[StoredRun]]:
    """The curves stored in git for the tree's experiments (docs/format.md, "Curves"); the view's key
    holds the curves' notes commit, so a new curve is a new view."""
    return tree_curves_of(repo, [node.sha for node in tree.nodes])


def tree_curves_of(repo: gitio.Repo, shas: list[str]) -> dict[str, list[StoredRun]]:
    """:func:`tree_curves` of the experiments ``shas``."""
    from gittree.runs.curves import stored_curves

    return stored_curves(repo, shas)


def project_name(repo: gitio.Repo) -> str:
    """The folder name of the working tree (or of the bare repository), for titles."""
    folder = repo.worktree or repo.git_dir
    name = folder.name
    return name[: -len(".git")] if name.endswith(".git") and name != ".git" else name
