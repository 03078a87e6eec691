"""The research tree as a Graphviz graph (``gittree render --format dot``), built with pydot.

One tree builder, two views: this reads the same :class:`ResearchTree` ``gittree show`` draws in the
terminal. First :func:`select_view` decides what is drawn (``--depth``, ``--since``, ``--only-best-path``
and the folding of long negligible chains, docs/render.md); then :func:`build_graph` turns it into a
pydot graph.

Node ids are shas (or ids derived from shas), never user text. Every piece of commit data reaches the
DOT source through :func:`dot_string` or :func:`html_label_text`, which make it inert for Graphviz:
pydot's own quoting leaves ``\\`` and ``<...>`` alone, so a subject such as ``"];x[``, a trailing
backslash or ``<b>`` would otherwise change the graph.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from gittree.model import MetricSpec, Node, ResearchTree, Verdict
from gittree.render import DEFAULT_FOLD
from gittree.render.escape import terminal_safe
from gittree.render.numbers import format_delta, format_plain, format_summary

if TYPE_CHECKING:
    import pydot

SUBJECT_WIDTH = 30
SUBJECT_LINES = 3
FONT = "Helvetica"  # Graphviz knows its metrics (a list of fonts falls back to Times widths)


@dataclass(frozen=True)
class Palette:
    """How one verdict is drawn: fill, border and whether the border is dashed (dead ends)."""

    fill: str
    border: str
    dashed: bool = False


#: Colours by verdict, shared by DOT, SVG, PNG and the HTML page (which recolours with them).
PALETTE: dict[Verdict, Palette] = {
    Verdict.BETTER: Palette("#d8f3d8", "#2e7d32"),
    Verdict.NEGLIGIBLE: Palette("#fff1b8", "#a67c00"),
    Verdict.WORSE: Palette("#fde0e0", "#c62828"),
    Verdict.ABANDONED: Palette("#fde0e0", "#c62828", dashed=True),
    Verdict.FAILED: Palette("#fde0e0", "#c62828", dashed=True),
    Verdict.BASELINE: Palette("#ffffff", "#616161"),
}
EDGE_COLOUR = "#9e9e9e"
BEST_PATH_COLOUR = "#1565c0"
MUTED = "#757575"
#: Verdicts that come from comparing numbers (they carry the single-run mark ``¹``).
COMPARED = (Verdict.BETTER, Verdict.NEGLIGIBLE, Verdict.WORSE)


# -- escaping ---------------------------------------------------------------------------------------


def visible(text: str) -> str:
    """``text`` with controls, bidi overrides and invisible characters shown as escapes, line breaks kept."""
    return "\n".join(terminal_safe(line) for line in text.split("\n"))


def dot_string(lines: Iterable[str] | str) -> str:
    """A quoted DOT string showing ``lines`` literally (one per line) in labels and tooltips.

    * controls and bidi overrides become visible ``\\x1b`` / ``\\u202e`` text (SVG is XML: raw
      controls would make it unreadable, and they would reach a terminal through ``--format dot``);
    * ``\\`` is doubled, so Graphviz's label escapes (``\\N``, ``\\l``, ``\\G``) and a trailing
      backslash stay text, and ``"`` is escaped, so the string cannot end early;
    * ``&`` becomes ``&amp;``: Graphviz reads entities in plain labels, so ``&lt;`` would show as ``<``.
    """
    if isinstance(lines, str):
        lines = lines.split("\n")
    parts = [
        terminal_safe(line).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") for line in lines
    ]
    return '"' + "\\n".join(parts) + '"'


def html_label_text(text: str) -> str:
    """Text for a Graphviz HTML-like label (an XML fragment): made visible, then entity-escaped."""
    return html.escape(terminal_safe(text), quote=True)


def _id(name: str) -> str:
    """A DOT id for a name gittree made itself (a sha, or a sha with a suffix): quoted, never user text."""
    return f'"{name}"'


# -- what is drawn ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewOptions:
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
class View:
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


def select_view(tree: ResearchTree, options: ViewOptions) -> View:
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

    view = View(
        nodes=[n for n in keep if n.sha not in folded_into],
        folds=folds,
        hidden_below=below,
        hidden=len(tree.nodes) - len(keep),
    )
    on_path = {node.sha for node in tree.nodes if node.on_best_path}
    for node in keep:
        for parent in node.parents:
            if parent not in kept:
                view.hidden_parents.add(node.sha)
                continue
            if (
                parent in folded_into
                and node.sha in folded_into
                and folded_into[parent] is folded_into[node.sha]
            ):
                continue  # a link inside a folded chain
            best = node.sha in on_path and parent in on_path and node.reference == parent
            view.edges.append(
                Edge(mark(parent), mark(node.sha), parent, node.sha, node.folded.get(parent, 0), best)
            )
    return view


def _wanted(node: Node, options: ViewOptions) -> bool:
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


# -- text of the marks ------------------------------------------------------------------------------


def format_time(seconds: int, offset_minutes: int = 0) -> str:
    """``2026-03-02 09:00 +0000``: the author's own clock, as git shows it."""
    zone = timezone(timedelta(minutes=offset_minutes))
    when = datetime.fromtimestamp(seconds, tz=zone)
    return when.strftime("%Y-%m-%d %H:%M %z")


def wrap(text: str, width: int = SUBJECT_WIDTH, max_lines: int = SUBJECT_LINES) -> list[str]:
    """``text`` wrapped at spaces into at most ``max_lines`` lines, the last cut with ``…``."""
    lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def value_text(node: Node, metric: str) -> str:
    """``acc 0.7483 ± 0.0015 (3)`` or ``acc —``."""
    return f"{metric} {format_summary(node.metrics.get(metric))}"


def delta_text(
    tree: ResearchTree,
    node: Node,
    metric: str,
    *,
    delta: float | None,
    reference: str | None,
    verdict: Verdict,
    single_run: bool,
) -> str:
    """``+0.0127 better¹``, ``-0.0150 abandoned``, ``baseline``: the delta at the reference's precision."""
    ref_node = tree.by_sha.get(reference or "")
    ref_value = ref_node.metrics.get(metric) if ref_node else None
    mark = "¹" if single_run and verdict in COMPARED else ""
    delta_part = format_delta(delta, ref_value.mean if ref_value else None)
    return f"{delta_part} {verdict.value}{mark}".strip()


def dead_end_reason(node: Node) -> str:
    """``✗ abandoned: <first note>``: a dead end shows why it was left."""
    reason = node.notes[0] if node.notes else "no reason recorded"
    return f"✗ {node.status}: {reason}"


def subject_lines(node: Node) -> list[str]:
    """The subject, wrapped; never an empty line (Graphviz draws no text for one, and the page counts lines)."""
    return wrap(visible(node.subject)) if node.subject.strip() else ["(no subject)"]


def marks_text(node: Node, *, best: bool, head: bool) -> str:
    """``275fac9  ★ best  HEAD``: the line under the subject."""
    return "  ".join([node.short] + (["★ best"] if best else []) + (["HEAD"] if head else []))


def label_lines(tree: ResearchTree, node: Node) -> list[str]:
    """The lines of an experiment's mark.

    The HTML page rewrites three of them when the metric changes: the marks line (right after the
    subject lines) and the last two, the metric's value and its delta.
    """
    lines = subject_lines(node)
    lines.append(marks_text(node, best=node.best, head=node.head))
    if node.dead_end:
        lines += wrap(visible(dead_end_reason(node)), SUBJECT_WIDTH + 4, 2)
    if node.cut:
        lines.append("⋯ history cut (shallow clone)")
    if node.problems:
        lines.append(f"⚠ {len(node.problems)} malformed trailer(s)")
    spec = tree.metric
    if spec is not None:
        lines.append(value_text(node, spec.name))
        lines.append(
            delta_text(
                tree,
                node,
                spec.name,
                delta=node.delta,
                reference=node.reference,
                verdict=node.verdict,
                single_run=node.single_run,
            )
        )
    return lines


def tooltip_lines(node: Node) -> list[str]:
    """Everything a reader may want on hover: who, when, every metric, params, notes, run facts."""
    lines = [
        node.subject,
        node.sha,
        f"{node.author_name} <{node.author_email}> · {format_time(node.author_time, node.author_offset)}",
    ]
    lines += [f"{name}: {format_summary(summary)}" for name, summary in sorted(node.metrics.items())]
    lines += [f"param {name} = {value}" for name, value in node.params.items()]
    lines += [f"note: {note}" for note in node.notes]
    if node.status:
        lines.append(f"status: {node.status}")
    lines += [f"run {name} = {value}" for name, value in node.run.items()]
    return lines


def threshold_text(spec: MetricSpec) -> str:
    if spec.threshold is not None:
        return f"threshold {format_plain(spec.threshold)}"
    return f"threshold {format_plain(spec.relative_threshold * 100)}% of parent"


def metric_text(spec: MetricSpec | None) -> str:
    """``acc (max, threshold 0.003)`` — what the colours mean."""
    if spec is None:
        return "no metric recorded"
    return f"{spec.name} ({spec.goal.value}, {threshold_text(spec)})"


# -- the graph --------------------------------------------------------------------------------------


def build_graph(tree: ResearchTree, options: ViewOptions | None = None) -> pydot.Dot:
    """The pydot graph of ``tree``: parents above children, coloured by verdict, the best path in bold."""
    import pydot

    options = options or ViewOptions()
    view = select_view(tree, options)
    graph = pydot.Dot(
        "research",
        graph_type="digraph",
        rankdir="TB",
        nodesep="0.3",
        ranksep="0.35",
        bgcolor="white",
        fontname=_q(FONT),
    )
    graph.set_node_defaults(
        shape="box", style=_q("rounded,filled"), fontname=_q(FONT), fontsize="10", margin=_q("0.12,0.06")
    )
    graph.set_edge_defaults(color=_q(EDGE_COLOUR), arrowsize="0.6", fontname=_q(FONT), fontsize="9")
    if options.legend:
        graph.add_node(_legend(tree, view))
    for node in view.nodes:
        graph.add_node(_experiment(tree, node, options))
        _add_history_marks(graph, node, view)
    for fold in view.folds:
        graph.add_node(_fold(tree, fold))
    for edge in view.edges:
        graph.add_edge(_edge(edge))
    return graph


def render_dot(tree: ResearchTree, options: ViewOptions | None = None) -> str:
    """DOT source of the tree (needs no Graphviz)."""
    text: str = build_graph(tree, options).to_string()
    return text


def _q(text: str) -> str:
    """A quoted DOT string for a constant gittree wrote itself (colours, fonts, styles)."""
    return f'"{text}"'


def _experiment(tree: ResearchTree, node: Node, options: ViewOptions) -> pydot.Node:
    import pydot

    palette = PALETTE[node.verdict]
    style = "rounded,filled,dashed" if palette.dashed else "rounded,filled"
    attrs: dict[str, Any] = {
        "id": _q(f"node-{node.sha}"),
        "class": _q(f"experiment verdict-{node.verdict.value}"),
        "label": dot_string(label_lines(tree, node)),
        "fillcolor": _q(palette.fill),
        "color": _q(palette.border),
        "style": _q(style),
    }
    if node.best:
        attrs["penwidth"] = "3.5"
        attrs["fontname"] = _q("Helvetica-Bold")
    elif node.on_best_path:
        attrs["penwidth"] = "2"
    if node.on_best_path:
        attrs["group"] = "best"  # Graphviz keeps links within a group straight: the best path runs down
    if options.tooltips:
        attrs["tooltip"] = dot_string(tooltip_lines(node))
    return pydot.Node(_id(node.sha), **attrs)


def _fold(tree: ResearchTree, fold: Fold) -> pydot.Node:
    import pydot

    first, last = tree.by_sha[fold.members[0]], tree.by_sha[fold.members[-1]]
    lines = [f"⋯ {len(fold.members)} negligible experiments", f"{first.short} … {last.short}"]
    if fold.commits:
        lines.append(f"(+{fold.commits} commits)")
    tooltip = [f"{tree.by_sha[sha].short} {tree.by_sha[sha].subject}" for sha in fold.members]
    on_path = all(tree.by_sha[sha].on_best_path for sha in fold.members)
    attrs: dict[str, Any] = {
        "id": _q(fold.id),
        "class": _q("fold"),
        "label": dot_string(lines),
        "tooltip": dot_string(tooltip),
        "fillcolor": _q(PALETTE[Verdict.NEGLIGIBLE].fill),
        "color": _q(PALETTE[Verdict.NEGLIGIBLE].border),
        "style": _q("rounded,filled,dashed"),
        "fontsize": "9",
        "penwidth": "2" if on_path else "1",
    }
    if on_path:
        attrs["group"] = "best"
    return pydot.Node(_id(fold.id), **attrs)


def _add_history_marks(graph: pydot.Dot, node: Node, view: View) -> None:
    """Small marks around an experiment: ordinary commits below a root, parents or children not drawn."""
    marks = []
    if node.folded_below:
        noun = "commit" if node.folded_below == 1 else "commits"
        marks.append(("below", f"+{node.folded_below} {noun}"))
    if node.sha in view.hidden_parents:
        marks.append(("earlier", "⋯ earlier experiments not drawn"))
    for suffix, text in marks:
        _add_stub(graph, f"{node.sha}-{suffix}", node.sha, text, above=True)
    if node.sha in view.hidden_below:
        count = view.hidden_below[node.sha]
        noun = "experiment" if count == 1 else "experiments"
        _add_stub(graph, f"{node.sha}-deeper", node.sha, f"⋯ {count} more {noun} below", above=False)


def _add_stub(graph: pydot.Dot, mark: str, sha: str, text: str, *, above: bool) -> None:
    """A dot linked to an experiment by a dashed, labelled line: history not drawn above or below it."""
    import pydot

    graph.add_node(
        pydot.Node(_id(mark), id=_q(mark), shape="point", width="0.06", color=_q(MUTED), style="filled")
    )
    ends = (_id(mark), _id(sha)) if above else (_id(sha), _id(mark))
    graph.add_edge(
        pydot.Edge(*ends, label=dot_string(text), fontcolor=_q(MUTED), style="dashed", arrowhead="none")
    )


def _edge(edge: Edge) -> pydot.Edge:
    import pydot

    attrs: dict[str, Any] = {"id": _q(edge.id)}
    if edge.best_path:
        attrs.update(color=_q(BEST_PATH_COLOUR), penwidth="2.5")
    if edge.commits:
        attrs.update(label=dot_string(f"+{edge.commits}"), fontcolor=_q(MUTED))
    return pydot.Edge(_id(edge.parent), _id(edge.child), **attrs)


def _legend(tree: ResearchTree, view: View) -> pydot.Node:
    """The key: what each colour means, the metric with its goal and threshold, and the marks."""
    import pydot

    count = view.experiment_count
    title = f"research tree · {count} experiment{'s' if count != 1 else ''}"
    if view.hidden:
        title += f" ({view.hidden} more not drawn)"
    cells = [
        _swatch(PALETTE[Verdict.BETTER], "better"),
        _swatch(PALETTE[Verdict.NEGLIGIBLE], "negligible"),
        _swatch(PALETTE[Verdict.WORSE], "worse"),
        _swatch(PALETTE[Verdict.ABANDONED], "dead end ✗"),
        _swatch(PALETTE[Verdict.BASELINE], "baseline"),
    ]
    marks = "★ best · blue: path to the best · +N: ordinary commits · ¹ single run (no noise estimate)"
    label = (
        '<<table border="0" cellborder="0" cellspacing="2" cellpadding="3">'
        f'<tr><td colspan="5" align="left"><b>{html_label_text(title)}</b></td></tr>'
        f'<tr><td colspan="5" align="left">colour by {html_label_text(metric_text(tree.metric))}</td></tr>'
        f"<tr>{''.join(cells)}</tr>"
        f'<tr><td colspan="5" align="left"><font point-size="8">{html_label_text(marks)}</font></td></tr>'
        "</table>>"
    )
    return pydot.Node(_id("legend"), id=_q("legend"), shape="plain", style='""', label=label)


def _swatch(palette: Palette, text: str) -> str:
    style = ' style="dashed"' if palette.dashed else ""
    return f'<td border="1" bgcolor="{palette.fill}" color="{palette.border}"{style}>{html_label_text(text)}</td>'
