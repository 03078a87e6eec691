"""What a drawing shows of a research tree: the experiments, the folds of negligible chains, the links.

``gittree render`` (DOT, SVG, PNG, PDF) and the HTML page draw the same selection: :func:`select_drawing`
applies ``--depth``, ``--since``, ``--only-best-path`` and the folding of long negligible chains to a
:class:`ResearchTree` (rules in docs/render.md) and returns a :class:`Drawing`, which the DOT writer
(``render/dot.py``) and the page (``render/html.py``) then draw. Pure: no text, no Graphviz.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gittree.model import Node, ResearchTree, Verdict
from gittree.render import DEFAULT_FOLD


@dataclass(frozen=True)
class DrawingOptions:
    """What to draw of a tree (``gittree render`` options; rules in docs/render.md)."""

    #: keep only the first ``depth`` generations, counted from the top of what is drawn.
    depth: int | None = None
    #: keep only experiments authored at or after this time (seconds since the epoch).
    since: int | None = None
    only_best_path: bool = False
    #: fold linear chains of at least this many negligible experiments; 0 never folds.
    fold: int = DEFAULT_FOLD
    #: a legend node in the graph (the HTML page draws its own legend instead).
    legend: bool = True
    #: the legend as one HTML-like table; False: plain nodes, for a Graphviz built without expat (the
    #: bundled WebAssembly one), which draws an HTML-like label as the node's bare name ``legend``.
    html_legend: bool = True
    #: tooltips on nodes (the HTML page shows cards instead).
    tooltips: bool = True


@dataclass(frozen=True)
class Fold:
    """A linear chain of negligible experiments drawn as one small mark."""

    members: tuple[str, ...]
    #: ordinary commits between the folded experiments.
    commits: int = 0

    @property
    def id(self) -> str:
        return f"fold-{self.members[0]}"


@dataclass(frozen=True)
class Edge:
    """A drawn link from a parent mark (an experiment or a fold) to a child mark."""

    parent: str
    child: str
    #: the experiments it links (they differ from the marks where a fold stands in for a chain).
    source: str
    target: str
    #: ordinary commits folded into this link ("+N").
    commits: int = 0
    best_path: bool = False

    @property
    def id(self) -> str:
        return f"edge-{self.parent}-{self.child}"


@dataclass
class Drawing:
    """The marks to draw: experiments (drawing order), folds, links, and what was left out above them."""

    nodes: list[Node]
    folds: list[Fold] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    #: experiments some of whose experiment parents are not drawn (--since; a crossover's other
    #: parent with --only-best-path), by sha.
    hidden_parents: set[str] = field(default_factory=set)
    #: experiments whose descendants are cut off by --depth: how many experiments lie below, by sha.
    hidden_below: dict[str, int] = field(default_factory=dict)
    #: experiments left out altogether (not drawn, not folded).
    hidden: int = 0

    @property
    def experiment_count(self) -> int:
        return len(self.nodes) + sum(len(fold.members) for fold in self.folds)


def select_drawing(tree: ResearchTree, options: DrawingOptions) -> Drawing:
    """The experiments to draw, the chains to fold and the links between them (docs/render.md)."""
    keep = [node for node in tree.nodes if _wanted(node, options)]
    kept = {node.sha for node in keep}
    below: dict[str, int] = {}
    if options.depth is not None:
        deeper = kept
        kept = _within_depth(tree, kept, options.depth)
        keep = [node for node in keep if node.sha in kept]
        cut_off = deeper - kept
        for node in keep:
            if any(c in cut_off for c in node.children):
                below[node.sha] = _descendants(tree, node.sha, cut_off)
    children = {node.sha: [c for c in node.children if c in kept] for node in keep}
    folds = _folds(tree, keep, kept, children, options.fold) if options.fold > 0 else []
    folded_into = {sha: fold for fold in folds for sha in fold.members}

    def mark(sha: str) -> str:
        return folded_into[sha].id if sha in folded_into else sha

    drawing = Drawing(
        nodes=[n for n in keep if n.sha not in folded_into],
        folds=folds,
        hidden_below=below,
        hidden=len(tree.nodes) - len(keep),
    )
    on_path = {node.sha for node in tree.nodes if node.on_best_path}
    for node in keep:
        for parent in node.parents:
            if parent not in kept:
                drawing.hidden_parents.add(node.sha)
                continue
            if (
                parent in folded_into
                and node.sha in folded_into
                and folded_into[parent] is folded_into[node.sha]
            ):
                continue  # a link inside a folded chain
            best = node.sha in on_path and parent in on_path and tree.path_parent(node) == parent
            drawing.edges.append(
                Edge(mark(parent), mark(node.sha), parent, node.sha, node.folded.get(parent, 0), best)
            )
    return drawing


def _wanted(node: Node, options: DrawingOptions) -> bool:
    if options.only_best_path and not node.on_best_path:
        return False
    return options.since is None or node.author_time >= options.since


def _within_depth(tree: ResearchTree, kept: set[str], depth: int) -> set[str]:
    """The first ``depth`` generations of the kept tree, counted from its tops (experiments with no kept parent)."""
    frontier = [sha for sha in kept if not any(p in kept for p in tree.by_sha[sha].parents)]
    reached = set(frontier)
    for _ in range(depth - 1):
        frontier = [
            c for sha in frontier for c in tree.by_sha[sha].children if c in kept and c not in reached
        ]
        reached.update(frontier)
    return reached


def _descendants(tree: ResearchTree, sha: str, among: set[str]) -> int:
    """How many experiments of ``among`` descend from ``sha``."""
    seen: set[str] = set()
    stack = [c for c in tree.by_sha[sha].children if c in among]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(c for c in tree.by_sha[current].children if c in among and c not in seen)
    return len(seen)


def _foldable(node: Node, kept: set[str]) -> bool:
    """A link of a chain that may be folded: negligible, alone on its line, and nothing worth seeing."""
    return (
        node.verdict is Verdict.NEGLIGIBLE
        and len(node.parents) == 1
        and node.parents[0] in kept
        and not (node.best or node.head or node.cut or node.problems)
    )


def _folds(
    tree: ResearchTree, keep: list[Node], kept: set[str], children: dict[str, list[str]], minimum: int
) -> list[Fold]:
    """Maximal runs v1 → … → vk of foldable experiments, each the only child of the one before, k ≥ minimum."""
    folds: list[Fold] = []
    for node in keep:
        parent = node.parents[0] if node.parents else None
        starts = _foldable(node, kept) and not (
            parent and _foldable(tree.by_sha[parent], kept) and children[parent] == [node.sha]
        )
        if not starts:
            continue
        chain = [node]
        while len(children[chain[-1].sha]) == 1:
            nxt = tree.by_sha[children[chain[-1].sha][0]]
            if not _foldable(nxt, kept):
                break
            chain.append(nxt)
        if len(chain) >= minimum:
            commits = sum(n.folded.get(n.parents[0], 0) for n in chain[1:])
            folds.append(Fold(tuple(n.sha for n in chain), commits))
    return folds
