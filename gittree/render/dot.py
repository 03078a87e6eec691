"""The research tree as a Graphviz graph (``gittree render --format dot``), in pydot's DOT syntax.

One tree builder, two views: this reads the same :class:`ResearchTree` ``gittree show`` draws in the
terminal. First :func:`gittree.render.subgraph.select_drawing` decides what is drawn (``--depth``, ``--since``, ``--only-best-path``
and the folding of long negligible chains, docs/render.md); then :func:`dot_lines` writes it as DOT,
line by line, exactly as pydot writes the same graph (see "the graph" below for why not through pydot's
objects).

Node ids are shas (or ids derived from shas), never user text. Every piece of commit data reaches the
DOT source through :func:`dot_string` or :func:`html_label_text`, which make it inert for Graphviz:
pydot's own quoting leaves ``\\`` and ``<...>`` alone, so a subject such as ``"];x[``, a trailing
backslash or ``<b>`` would otherwise change the graph.
"""

from __future__ import annotations

import functools
import html
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gittree.dates import author_clock
from gittree.model import Node, ResearchTree, Verdict
from gittree.render.escape import terminal_safe
from gittree.render.numbers import format_summary
from gittree.render.subgraph import Drawing, DrawingOptions, Edge, Fold, select_drawing
from gittree.render.words import (
    BEST_MARK,
    CUT_MARK,
    LEGEND_MARKS,
    LEGEND_SWATCHES,
    dead_end_line,
    delta_on,
    drawing_title,
    left_out_line,
    left_out_phrases,
    metric_text,
    problems_mark,
    verdict_word,
)

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
    Verdict.DISCARDED: Palette("#fde0e0", "#c62828", dashed=True),
    Verdict.BASELINE: Palette("#ffffff", "#616161"),
}
EDGE_COLOUR = "#9e9e9e"
BEST_PATH_COLOUR = "#1565c0"
MUTED = "#757575"


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
    parts = lines.split("\n") if isinstance(lines, str) else list(lines)
    # Every character terminal_safe changes is unprintable (str.isprintable): one test of the whole
    # text spares a call per line on a 100k-experiment graph, where nearly all text is plain.
    if not "".join(parts).isprintable():
        parts = [terminal_safe(part) for part in parts]
    # Escaped once for all the lines: no part holds a newline now, so each "\n" parts two lines.
    text = "\n".join(parts)
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;").replace("\n", "\\n")
    return f'"{text}"'


def html_label_text(text: str) -> str:
    """Text for a Graphviz HTML-like label (an XML fragment): made visible, then entity-escaped."""
    return html.escape(terminal_safe(text), quote=True)


def _id(name: str) -> str:
    """A DOT id for a name gittree made itself (a sha, or a sha with a suffix): quoted, never user text."""
    return f'"{name}"'


# -- text of the marks ------------------------------------------------------------------------------


def format_time(seconds: int, offset_minutes: int = 0) -> str:
    """``2026-03-02 09:00 +0000``: the author's own clock, as git shows it."""
    when = author_clock(seconds, offset_minutes)
    if when.year < 1000:  # strftime pads such years as the C library does; keep its answer
        return when.strftime("%Y-%m-%d %H:%M %z")
    # strftime's own format, written out: parsing the pattern anew was a fifth of a tooltip's cost.
    # The offset is the clock's own (an impossible one is shown as UTC, see author_clock).
    shown = when.utcoffset()
    offset = int(shown.total_seconds()) // 60 if shown is not None else 0
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return (
        f"{when.year}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d} "
        f"{sign}{hours:02d}{minutes:02d}"
    )


def wrap(text: str, width: int = SUBJECT_WIDTH, max_lines: int = SUBJECT_LINES) -> list[str]:
    """``text`` wrapped at spaces into at most ``max_lines`` lines, the last cut with ``…``."""
    lines = _wrapped(text, width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _wrapped(text: str, width: int) -> list[str]:
    """``textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)``, quicker for plain text.

    Most subjects are printable ASCII words parted by single spaces, none longer than ``width``; for
    those textwrap's rules come down to filling each line greedily, done here without its regular
    expressions (they were a sixth of drawing a 100k tree's marks). Anything else goes to textwrap.
    """
    words = text.split(" ")
    if not (text.isascii() and text.isprintable()) or "" in words or max(map(len, words)) > width:
        return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)
    lines = []
    line = words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) <= width:
            line = f"{line} {word}"
        else:
            lines.append(line)
            line = word
    lines.append(line)
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
    """``+0.0127 better¹``, ``-0.0150 abandoned``, ``baseline``: the delta at the reference's precision.

    The verdict is given apart from ``node`` because the HTML page shows every metric's, not only the tree's.
    """
    return f"{delta_on(tree, metric, delta, reference)} {verdict_word(verdict, single_run)}".strip()


def subject_lines(node: Node) -> list[str]:
    """The subject, wrapped; never an empty line (Graphviz draws no text for one, and the page counts lines)."""
    label = node.label
    return wrap(visible(label)) if label.strip() else ["(no subject)"]


def marks_text(node: Node, *, best: bool, head: bool) -> str:
    """``275fac9  ★ best  HEAD``: the line under the subject."""
    return "  ".join([node.short] + ([BEST_MARK] if best else []) + (["HEAD"] if head else []))


def label_lines(tree: ResearchTree, node: Node) -> list[str]:
    """The lines of an experiment's mark.

    The HTML page rewrites three of them when the metric changes: the marks line (right after the
    subject lines) and the last two, the metric's value and its delta.
    """
    lines = subject_lines(node)
    lines.append(marks_text(node, best=node.best, head=node.head))
    if node.dead_end:
        lines += wrap(visible(dead_end_line(node)), SUBJECT_WIDTH + 4, 2)
    if node.cut:
        lines.append(CUT_MARK)
    if node.problems:
        lines.append(problems_mark(len(node.problems)))
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


# -- the graph --------------------------------------------------------------------------------------
#
# pydot owns DOT syntax, but a pydot object per node and link, each attribute checked character by
# character by ``to_string()``, was most of the time and memory of a 100k-experiment render. So pydot
# writes what appears once (the graph's attributes, the defaults and the legend), and the lines of
# experiments, folds, stubs and links are written here one at a time, in the exact form pydot's
# ``Node.to_string()`` and ``Edge.to_string()`` give them: ``name [key=value, ...];``.


def render_dot(
    tree: ResearchTree, options: DrawingOptions | None = None, drawing: Drawing | None = None
) -> str:
    """DOT source of the tree (needs no Graphviz); ``drawing``: ``select_drawing(tree, options)`` if already made."""
    return "".join(dot_lines(tree, options, drawing))


def dot_lines(
    tree: ResearchTree, options: DrawingOptions | None = None, drawing: Drawing | None = None
) -> Iterator[str]:
    """The DOT source line by line: parents above children, coloured by verdict, the best path in bold.

    Byte for byte what pydot's ``Dot.to_string()`` writes for the same graph made of pydot objects.
    ``drawing`` is ``select_drawing(tree, options)`` when the caller has made it already (making it again
    takes about 0.4 s on a 100k tree).
    """
    options = options or DrawingOptions()
    if drawing is None:
        drawing = select_drawing(tree, options)
    yield _head(tree, drawing, options)
    for node in drawing.nodes:
        yield _experiment(tree, node, options)
        yield from _history_marks(node, drawing)
    for fold in drawing.folds:
        yield _fold(tree, fold)
    for edge in drawing.edges:
        yield _edge(edge)
    yield "}\n"


def _head(tree: ResearchTree, drawing: Drawing, options: DrawingOptions) -> str:
    """Everything before the first experiment: the graph's attributes, the defaults and the legend, by pydot."""
    import pydot

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
    if options.legend and options.html_legend:
        graph.add_node(_legend(tree, drawing))
    elif options.legend:
        _add_plain_legend(graph, tree, drawing)
    text: str = graph.to_string()
    return text.removesuffix("}\n")  # the graph is closed after the last link instead


def _q(text: str) -> str:
    """A quoted DOT string for a constant gittree wrote itself (colours, fonts, styles)."""
    return f'"{text}"'


def _node_line(name: str, attrs: dict[str, str]) -> str:
    """A node as pydot's ``Node.to_string()`` writes it; ``name`` is an id from :func:`_id`, which pydot keeps."""
    return f"{name}{_attr_list(attrs)};\n"


def _edge_line(source: str, target: str, attrs: dict[str, str]) -> str:
    """A link of the digraph as pydot's ``Edge.to_string()`` writes it."""
    return f"{source} -> {target}{_attr_list(attrs)};\n"


def _attr_list(attrs: dict[str, str]) -> str:
    """`` [key=value, ...]`` as pydot's ``attrs_string()`` writes it (nothing for no attributes)."""
    if not attrs:
        return ""
    return " [" + ", ".join([f"{key}={_value(value)}" for key, value in attrs.items()]) + "]"


def _value(value: str) -> str:
    """An attribute value as pydot writes it.

    A value in double quotes, as :func:`dot_string` and :func:`_q` make every string (so all commit
    data), is one pydot's rule keeps exactly as it is (``re_dbl_quoted`` in ``any_needs_quotes``): it is
    passed on without pydot's character-by-character scan, the cost this module avoids. The others
    are gittree's own few constants (``3.5``, ``best``, ``point``), which pydot quotes, once each.
    """
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value
    return _constant_value(value)


@functools.lru_cache(maxsize=64)  # bounded: only constants come here, and a mistake must not grow it
def _constant_value(value: str) -> str:
    import pydot

    if value == "":  # pydot's Common._format_attr writes an empty value as ""
        return '""'
    quoted: str = pydot.quote_attr_if_necessary(value)
    return quoted


def _experiment(tree: ResearchTree, node: Node, options: DrawingOptions) -> str:
    palette = PALETTE[node.verdict]
    style = "rounded,filled,dashed" if palette.dashed else "rounded,filled"
    attrs = {
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
    return _node_line(_id(node.sha), attrs)


def _fold(tree: ResearchTree, fold: Fold) -> str:
    first, last = tree.by_sha[fold.members[0]], tree.by_sha[fold.members[-1]]
    lines = [f"⋯ {len(fold.members)} negligible experiments", f"{first.short} … {last.short}"]
    if fold.commits:
        lines.append(f"(+{fold.commits} commits)")
    tooltip = [f"{tree.by_sha[sha].short} {tree.by_sha[sha].subject}" for sha in fold.members]
    on_path = all(tree.by_sha[sha].on_best_path for sha in fold.members)
    attrs = {
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
    return _node_line(_id(fold.id), attrs)


def _history_marks(node: Node, drawing: Drawing) -> Iterator[str]:
    """Small marks around an experiment: ordinary commits below a root, parents or children not drawn."""
    marks = []
    if node.folded_below:
        noun = "commit" if node.folded_below == 1 else "commits"
        marks.append(("below", f"+{node.folded_below} {noun}"))
    if node.sha in drawing.hidden_parents:
        marks.append(("earlier", "⋯ earlier experiments not drawn"))
    for suffix, text in marks:
        yield from _stub(f"{node.sha}-{suffix}", node.sha, text, above=True)
    if node.sha in drawing.hidden_below:
        count = drawing.hidden_below[node.sha]
        noun = "experiment" if count == 1 else "experiments"
        yield from _stub(f"{node.sha}-deeper", node.sha, f"⋯ {count} more {noun} below", above=False)


def _stub(mark: str, sha: str, text: str, *, above: bool) -> tuple[str, str]:
    """A dot linked to an experiment by a dashed, labelled line: history not drawn above or below it."""
    dot = _node_line(
        _id(mark), {"id": _q(mark), "shape": "point", "width": "0.06", "color": _q(MUTED), "style": "filled"}
    )
    ends = (_id(mark), _id(sha)) if above else (_id(sha), _id(mark))
    line = _edge_line(
        *ends,
        {"label": dot_string(text), "fontcolor": _q(MUTED), "style": "dashed", "arrowhead": "none"},
    )
    return dot, line


def _edge(edge: Edge) -> str:
    attrs = {"id": _q(edge.id)}
    if edge.best_path:
        attrs.update(color=_q(BEST_PATH_COLOUR), penwidth="2.5")
    if edge.commits:
        attrs.update(label=dot_string(f"+{edge.commits}"), fontcolor=_q(MUTED))
    return _edge_line(_id(edge.parent), _id(edge.child), attrs)


def _legend_title(drawing: Drawing) -> str:
    return drawing_title(drawing.experiment_count, drawing.hidden)


def _left_out(tree: ResearchTree) -> list[str]:
    """The ``left out: …`` line of the tree's reading (rewritten, --author, the window), or none."""
    line = left_out_line(left_out_phrases(tree.left_out))
    return [line] if line else []


def _add_plain_legend(graph: pydot.Dot, tree: ResearchTree, drawing: Drawing) -> None:
    """The legend's words and colours without an HTML-like label: a title node, a row of swatches and
    the marks, held in place by invisible links (the same text as :func:`_legend`'s table)."""
    import pydot

    graph.add_node(
        pydot.Node(
            _id("legend"),
            id=_q("legend"),
            shape="plaintext",
            style='""',
            label=dot_string(
                [_legend_title(drawing), *_left_out(tree), f"colour by {metric_text(tree.metric)}"]
            ),
        )
    )
    row = pydot.Subgraph(_id("legend-row"), rank="same")
    for verdict, text in LEGEND_SWATCHES:
        palette = PALETTE[verdict]
        row.add_node(
            pydot.Node(
                _id(f"legend-{verdict.value}"),
                style=_q("filled,dashed" if palette.dashed else "filled"),
                fillcolor=_q(palette.fill),
                color=_q(palette.border),
                label=dot_string(text),
            )
        )
    graph.add_subgraph(row)
    graph.add_node(
        pydot.Node(
            _id("legend-marks"), shape="plaintext", style='""', fontsize="8", label=dot_string(LEGEND_MARKS)
        )
    )
    first = _id(f"legend-{LEGEND_SWATCHES[0][0].value}")
    graph.add_edge(pydot.Edge(_id("legend"), first, style="invis"))
    graph.add_edge(pydot.Edge(first, _id("legend-marks"), style="invis"))


def _legend(tree: ResearchTree, drawing: Drawing) -> pydot.Node:
    """The key: what each colour means, the metric with its goal and threshold, and the marks."""
    import pydot

    title = _legend_title(drawing)
    cells = [_swatch(PALETTE[verdict], text) for verdict, text in LEGEND_SWATCHES]
    marks = LEGEND_MARKS
    left_out = "".join(
        f'<tr><td colspan="5" align="left">{html_label_text(line)}</td></tr>' for line in _left_out(tree)
    )
    label = (
        '<<table border="0" cellborder="0" cellspacing="2" cellpadding="3">'
        f'<tr><td colspan="5" align="left"><b>{html_label_text(title)}</b></td></tr>'
        f"{left_out}"
        f'<tr><td colspan="5" align="left">colour by {html_label_text(metric_text(tree.metric))}</td></tr>'
        f"<tr>{''.join(cells)}</tr>"
        f'<tr><td colspan="5" align="left"><font point-size="8">{html_label_text(marks)}</font></td></tr>'
        "</table>>"
    )
    return pydot.Node(_id("legend"), id=_q("legend"), shape="plain", style='""', label=label)


def _swatch(palette: Palette, text: str) -> str:
    style = ' style="dashed"' if palette.dashed else ""
    return f'<td border="1" bgcolor="{palette.fill}" color="{palette.border}"{style}>{html_label_text(text)}</td>'
