"""The research tree in the terminal: lanes drawn with box characters, one experiment per row.

Parents are drawn above their children (the research reads downwards, from the baseline to the
latest idea). Each open lane is an edge waiting for its child; a fork opens lanes to the right, a
merge (a crossover of ideas) joins them back. Rows are produced one at a time, so output streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat

from gittree.model import VERDICT_COLOURS, Node, ResearchTree
from gittree.render.escape import (
    display_width,
    pad,
    strip_colour,
    terminal_safe,
    truncate,
    truncate_painted,
    wrap,
)
from gittree.render.numbers import format_summary
from gittree.render.words import (
    BEST_MARK,
    CUT_MARK,
    DIRTY_MARK,
    FAR_NOTE,
    SURPRISE_MARK,
    WIDEST_VERDICT,
    band_line,
    delta_text,
    footnotes,
    left_out_line,
    left_out_phrases,
    problems_mark,
    short_failure,
    verdict_text,
)

ANSI = {"green": "32", "yellow": "33", "red": "31", "dim": "2", "bold": "1"}
SHA_WIDTH = 7
#: The subject keeps this many cells however long the markers of some rows are (a long marker is cut
#: at the end of its row instead: one row's marks do not shorten every subject of the tree) ...
MIN_SUBJECT_WIDTH = 12
#: ... and narrows further, to this, only where the value, delta and verdict columns leave no more.
SUBJECT_FLOOR = 6
#: Where the open lanes take the width, a row keeps its lanes (never cut: they are the tree's shape)
#: and this many cells of its text, the sha and a ``…``.
MIN_TEXT_AFTER_LANES = SHA_WIDTH + 1
#: Author names are cut to this many cells; the column appears only when the rows have several authors.
AUTHOR_MAX_WIDTH = 12


@dataclass(frozen=True)
class TextStyle:
    width: int = 80
    colour: bool = False

    def paint(self, text: str, colour: str | None) -> str:
        if not self.colour or not colour or not text:
            return text
        return f"\x1b[{ANSI[colour]}m{text}\x1b[0m"


def glyph(node: Node) -> str:
    if node.best:
        return "★"
    if node.dead_end:
        return "✗"
    return "●"


def header(tree: ResearchTree, style: TextStyle) -> str:
    count = len(tree.nodes)
    noun = "experiment" if count == 1 else "experiments"
    spec = tree.metric
    if spec is None:
        return f"research tree · {count} {noun} · no metric recorded"
    # The band the verdicts used is the legend's line (band_line): with it, the header would not fit.
    return truncate(
        terminal_safe(f"research tree · {count} {noun} · {spec.name} ({spec.goal.value})"), style.width
    )


@dataclass(frozen=True)
class _Row:
    """Where one experiment goes: its column, the lanes that merge into it, the lanes its children open."""

    node: Node
    here: int
    joining: tuple[int, ...]
    lanes_before: tuple[str | None, ...]
    lanes_at_node: tuple[str | None, ...]
    opened: tuple[int, ...]
    lanes_after: tuple[str | None, ...]
    #: for a side child hung off its parent's lane (see :func:`layout`): that lane's column; else -1.
    hangs_from: int = -1
    #: the experiment parent whose lane arrives in each of ``(here, *joining)``, in that order; empty
    #: for a root and for a hanging side child (no lane arrives).
    lanes_from: tuple[str, ...] = ()
    #: a hanging side child whose parent's lane ends at its row (``└─●``: no child is the line going on)
    ends_lane: bool = False


#: A crossover whose parent is drawn more than this many experiments above it gets no lane from that
#: parent (a lane open across hundreds of rows, beside hundreds of others, is most of a big tree's
#: width); its row names the parent instead: ``⊕ also 1a2b3c4``.
CROSSOVER_LANE_ROWS = 40


def far_parents(tree: ResearchTree) -> dict[str, tuple[str, ...]]:
    """For each crossover, its parents drawn more than :data:`CROSSOVER_LANE_ROWS` experiments above it,
    other than the one drawn last (whose lane leads to it)."""
    merges = [node for node in tree.nodes if len(node.parents) > 1]
    if not merges:
        return {}
    position = {node.sha: i for i, node in enumerate(tree.nodes)}
    far: dict[str, tuple[str, ...]] = {}
    for node in merges:
        at = position[node.sha]
        nearest = max(node.parents, key=position.__getitem__)
        distant = tuple(
            parent
            for parent in node.parents
            if parent != nearest and at - position[parent] > CROSSOVER_LANE_ROWS
        )
        if distant:
            far[node.sha] = distant
    return far


def layout(tree: ResearchTree, far: dict[str, tuple[str, ...]] | None = None) -> Iterator[_Row]:
    """The lane bookkeeping, row by row: each open lane is an edge waiting for its child.

    A side child (any child but the last) with one parent and no folded commits opens no lane at its
    parent's row: its row hangs off the parent's lane (``├─●``), which runs on to the last child, and
    its own subtree goes on from there. Children are drawn one subtree after another, so the
    parent's lane is always still there. A sweep of a thousand runs off one experiment is then a
    thousand rows a few cells wide, not a thousand lanes open side by side on every row (git log
    --graph's way, 2,000 cells wide). When no child is the line going on (:func:`_no_line_goes_on`:
    a sweep's points, runs started together, a try taken back), the last one hangs too and the lane
    ends at it (``└─●``): none of them is drawn as the next step of the line.

    ``far`` (:func:`far_parents`): for a crossover, the parents drawn too far above it for a lane;
    those open none, and the crossover's row names them instead.
    """
    far = far_parents(tree) if far is None else far
    lanes: list[str | None] = []
    # The columns whose lane waits for each commit, each with the experiment whose row opened it (the
    # parent at the lane's other end): a 100k tree can have hundreds of lanes open, and scanning them
    # all for every row was most of drawing it.
    waiting: dict[str, list[tuple[int, str]]] = {}
    hanging: dict[str, int] = {}  # side child -> the column of its parent's lane
    by_sha = tree.by_sha
    lane_ends: set[str] = set()  # a last child that is no line going on: its parent's lane ends at its row
    for node in tree.nodes:
        parent_column = hanging.pop(node.sha, -1)
        ends_lane = False
        if parent_column >= 0:  # a side child: its row leaves its parent's lane for a free column
            here = _free_column(lanes, parent_column + 1)
            lanes[here] = node.sha
            joining: tuple[int, ...] = ()
            lanes_from: tuple[str, ...] = ()
            ends_lane = node.sha in lane_ends
        else:
            arriving = waiting.pop(node.sha, None)
            if arriving is None:  # a root: its lane starts here
                here = _free_column(lanes, 0)
                lanes[here] = node.sha
                joining, lanes_from = (), ()
            elif len(arriving) == 1:  # nearly every row: one lane, from its one parent
                here, parent = arriving[0]
                joining, lanes_from = (), (parent,)
            else:
                arriving.sort()
                here, joining = arriving[0][0], tuple(column for column, _ in arriving[1:])
                lanes_from = tuple(parent for _, parent in arriving)
        before = tuple(lanes)
        for column in joining:
            lanes[column] = None
        at_node = tuple(lanes)
        if ends_lane:
            lane_ends.discard(node.sha)
            lanes[parent_column] = None
        opened = _open_children(lanes, here, node, by_sha, hanging, far, lane_ends)
        for column in (here, *opened):
            target = lanes[column]
            if target is not None and target not in lane_ends:  # the last alternative arrives by hanging
                waiting.setdefault(target, []).append((column, node.sha))
        yield _Row(
            node,
            here,
            joining,
            before,
            at_node,
            tuple(opened),
            tuple(lanes),
            parent_column,
            lanes_from,
            ends_lane,
        )
        while lanes and lanes[-1] is None:
            lanes.pop()


def render_view(tree: ResearchTree, style: TextStyle) -> Iterator[str]:
    """The whole terminal view, line by line: the tree (:func:`render_text`), a blank line, the legend.

    The far crossovers are found once, for the rows and for the legend's note about them.
    """
    far = far_parents(tree)
    yield from render_text(tree, style, far)
    yield ""
    yield from legend(tree, style, far).split("\n")


def render_text(
    tree: ResearchTree, style: TextStyle | None = None, far: dict[str, tuple[str, ...]] | None = None
) -> Iterator[str]:
    """Yield the lines of the tree, header first (``far``: :func:`far_parents`, found here if not given)."""
    style = style or TextStyle()
    yield header(tree, style)
    # Rows stream as they are laid out: no dry run of the whole layout first. The text after the lanes
    # starts at the widest lane count seen so far, so it stays aligned except right after a fork wider
    # than any before (git log --graph does not align at all). Small trees are aligned from the start.
    lane_width = 2 * (_widest(tree) if len(tree.nodes) <= ALIGN_WHOLE_TREE_UP_TO else 1)
    far = far_parents(tree) if far is None else far
    columns = _Columns(tree, style, lane_width, far)
    for index, row in enumerate(layout(tree, far)):
        node = row.node
        lane_width = max(lane_width, 2 * len(row.lanes_at_node))
        columns.lane_width = lane_width
        if index and not node.parents and row.lanes_before.count(None) == len(row.lanes_before) - 1:
            # A new tree of the forest (an orphan branch, an unrelated history), once every lane of
            # the trees above has ended: a lane still open (to a crossover joining two roots' work)
            # must not be cut by the blank line.
            yield ""
        if node.folded:
            yield from _folded_rows(row, far.get(node.sha, ()), style)
        if node.folded_below and not node.parents:
            yield _folded_row(row.lanes_before, row.here, _commits(node.folded_below), style)
        if row.joining:
            yield _link_row(row.lanes_before, row.here, row.joining, "╯", "┴")
        if node.folded_below and node.parents:
            # An experiment with parents, one of whose sides reaches no experiment (a merged unrelated
            # history of ordinary work): no parent's edge, so marked below the join, saying so.
            mark = _commits(node.folded_below, " on a side with no experiment")
            yield _folded_row(row.lanes_at_node, row.here, mark, style)
        if row.hangs_from >= 0:
            cells = _hanging_cells(row, style)
        else:
            cells = _lane_cells(row.lanes_at_node, row.here, row.node, style)
        yield cells + " " * (lane_width - 2 * len(row.lanes_at_node)) + columns.describe(row.node)
        if row.opened:
            yield _link_row(row.lanes_after, row.here, row.opened, "╮", "┬")


#: Up to this many experiments the whole layout is dry-run first so every row aligns; above, rows stream.
ALIGN_WHOLE_TREE_UP_TO = 5000


def _widest(tree: ResearchTree) -> int:
    return max((len(row.lanes_at_node) for row in layout(tree)), default=1)


def _folded_rows(row: _Row, far: tuple[str, ...], style: TextStyle) -> Iterator[str]:
    """A dim mark on each lane into an experiment that carries ordinary commits, left to right, each
    with that edge's own count: ``┆ │ (+1 commit)`` then ``│ ┆ (+2 commits)``.

    Counts are per edge and never added up: an ordinary merge below the experiment is on the path
    from each of its parents, and is counted in each (``Node.folded``). A parent drawn too far above
    for a lane (``far``, named on the row by ``⊕ also``) has its own mark row on the experiment's
    lane, naming it: ``┆ (+2 commits from 1a2b3c4)``. (Written after its name on the row, the count
    widened the marker column, and so narrowed the subject, of every row of the tree.)
    """
    folded = row.node.folded
    # (a root or a hanging side child has no lane arriving, and nothing folded into an edge)
    for column, parent in zip((row.here, *row.joining), row.lanes_from, strict=False):
        count = folded.get(parent)
        if count:
            yield _folded_row(row.lanes_before, column, _commits(count), style)
    for parent in far:
        count = folded.get(parent)
        if count:
            text = _commits(count, f" from {parent[:SHA_WIDTH]}")
            yield _folded_row(row.lanes_before, row.here, text, style)


def _folded_row(lanes: tuple[str | None, ...], column: int, text: str, style: TextStyle) -> str:
    """``│ ┆ │ (+2 commits)``: the lanes, with the mark ``┆`` on ``column``, then the dim ``text``."""
    cells = _lane_marks(lanes)
    cells.extend(" " * (column + 1 - len(cells)))
    cells[column] = "┆"
    room = max(style.width - 2 * len(cells), MIN_TEXT_AFTER_LANES)
    return " ".join(cells) + " " + style.paint(truncate(text, room), "dim")


def _commits(count: int, more: str = "") -> str:
    """``(+2 commits)``, with ``more`` said inside the brackets."""
    return f"(+{count} commit{'' if count == 1 else 's'}{more})"


def _free_column(lanes: list[str | None], after: int) -> int:
    for i in range(after, len(lanes)):
        if lanes[i] is None:
            return i
    lanes.append(None)
    return len(lanes) - 1


def _open_children(
    lanes: list[str | None],
    here: int,
    node: Node,
    by_sha: dict[str, Node],
    hanging: dict[str, int],
    far: dict[str, tuple[str, ...]],
    lane_ends: set[str],
) -> list[int]:
    """Point the node's lane at its last child and open a new lane for each other child that cannot
    hang off this lane (a crossover, or one with folded commits to mark); the others are marked to
    hang (see :func:`layout`). When no child is the line going on, all hang, the last one ending the
    lane (``lane_ends``)."""
    # A crossover far below gets no lane from here: its row names this experiment instead.
    children = [child for child in node.children if node.sha not in far.get(child, ())]
    if not children:
        lanes[here] = None
        return []
    # The last child drawn continues straight down; the tree builder draws the biggest subtree last,
    # so the main line of work stays in one column while side branches open to its right.
    lanes[here] = children[-1]
    if _no_line_goes_on(children, by_sha):
        lane_ends.add(children[-1])
        for child in children:
            hanging[child] = here
        return []
    opened = []
    for child in children[:-1]:
        if _can_hang(by_sha[child]):
            hanging[child] = here
            continue
        column = _free_column(lanes, here + 1)
        lanes[column] = child
        opened.append(column)
    return opened


def _can_hang(child: Node) -> bool:
    """Whether a side child can hang off its parent's lane: one parent, nothing folded to mark."""
    return len(child.parents) == 1 and not child.folded and not child.folded_below


def _no_line_goes_on(children: list[str], by_sha: dict[str, Node]) -> bool:
    """Whether no child of an experiment is its line going on: every one a leaf that can hang, HEAD
    not on the one drawn last, and that one a dead end (a try taken back is no step of the line) or
    one of two or more live ones (alternatives: a sweep's points, runs started together, ideas tried
    off one step). Drawn in the parent's column, the last of them read as the next step after the
    others (the ★ of a sweep, a discarded try below the best). A line going on keeps its column: a
    child with children of its own, a lone live child, the experiment HEAD is at."""
    last = by_sha[children[-1]]
    if last.head or last.children or (len(children) < 2 and not last.dead_end):
        return False  # the usual row of a line: decided without looking at the siblings
    nodes = [by_sha[child] for child in children]
    if any(child.children or not _can_hang(child) for child in nodes):
        return False
    return last.dead_end or sum(1 for child in nodes if not child.dead_end) >= 2


def _lane_cells(lanes: tuple[str | None, ...], here: int, node: Node, style: TextStyle) -> str:
    cells = _lane_marks(lanes)
    cells[here] = style.paint(glyph(node), VERDICT_COLOURS[node.verdict])
    return " ".join(cells) + " "


def _hanging_cells(row: _Row, style: TextStyle) -> str:
    """``├─┼─●``: a side child on a row that leaves its parent's lane, crossing the lanes between
    (``└─┼─●`` where the parent's lane ends)."""
    mark = style.paint(glyph(row.node), VERDICT_COLOURS[row.node.verdict])
    start = "└" if row.ends_lane else "├"
    return _joined(row.lanes_at_node, row.hangs_from, (row.here,), mark, "", start) + " "


def _lane_marks(lanes: Iterable[str | None]) -> list[str]:
    """``│`` for each lane in use, a blank for each free one.

    A big tree keeps hundreds of lanes open on every row (20M of them in a 100k view): the marks are
    looked up in C, by ``dict.get`` with ``│`` as the default, rather than decided one by one in Python.
    """
    return list(map(_FREE_LANE, lanes, repeat("│")))


_FREE_LANE: Callable[[str | None, str], str] = {None: " "}.get  # type: ignore[assignment]


def _link_row(lanes: tuple[str | None, ...], here: int, ends: tuple[int, ...], end: str, middle: str) -> str:
    """A row joining ``here`` to ``ends`` with horizontal lines (``end``: rightmost corner, ``middle``: others)."""
    return _joined(lanes, here, ends, end, middle).rstrip()


def _joined(
    lanes: tuple[str | None, ...], here: int, ends: tuple[int, ...], end: str, middle: str, start: str = "├"
) -> str:
    """The lane cells of a row that joins ``here`` to ``ends`` (``end`` at the rightmost one).

    Every end is to the right of ``here``: lanes left of ``here`` and right of the last end pass
    straight through; between them each lane is crossed.
    """
    last = max(ends)
    joined = [start]
    for i in range(here + 1, last + 1):
        if i == last:
            joined.append(end)
        elif i in ends:
            joined.append(middle)
        else:
            joined.append("┼" if lanes[i] is not None else "─")
    parts = _lane_marks(lanes[:here])
    parts.append("─".join(joined))
    parts.extend(_lane_marks(lanes[last + 1 :]))
    return " ".join(parts)


class _Columns:
    """Fixed-width text columns after the lanes: sha, subject, value, delta, verdict, markers."""

    def __init__(
        self, tree: ResearchTree, style: TextStyle, lane_width: int, far: dict[str, tuple[str, ...]]
    ) -> None:
        self.tree = tree
        self.style = style
        self.far = far
        self.metric = tree.metric.name if tree.metric else None
        #: each node's value as shown, by sha: computed once (for the width, then for the row)
        self.values = {node.sha: self._value(node) for node in tree.nodes}
        self.value_width = max(map(display_width, self.values.values()), default=1)
        self.deltas = {node.sha: delta_text(tree, node) for node in tree.nodes}
        self.delta_width = max((len(d) for d in self.deltas.values()), default=0)
        self.lane_width = lane_width
        self.markers = {node.sha: self._markers(node) for node in tree.nodes}
        #: the cells of each row's markers, by sha, for the rows that have some
        self.marker_widths = {
            sha: display_width(strip_colour(marks)) for sha, marks in self.markers.items() if marks
        }
        self.marker_width = max(self.marker_widths.values(), default=0)
        self.authors = author_labels(tree)
        self.author_width = max((display_width(a) for a in self.authors.values()), default=0)
        self._budget_for = -1
        self._budget = 0
        #: cells of a row's text before its verdict and markers, with the current budget
        self._before_verdict = 0

    def _value(self, node: Node) -> str:
        return format_summary(node.metrics.get(self.metric)) if self.metric else ""

    def _fixed_width(self) -> int:
        """The cells of a row's text but for its subject and markers (the verdict at its widest)."""
        fixed = SHA_WIDTH + 1 + 2 + self.value_width + 2 + self.delta_width + 2 + len(WIDEST_VERDICT)
        return fixed + (2 + self.author_width if self.author_width else 0)

    def _subject_width(self) -> int:
        """Cells left for the subject once the lanes and the other columns have theirs (docs/tree.md,
        "Rows keep to the terminal width"): the markers are given room while the subject keeps
        :data:`MIN_SUBJECT_WIDTH`, and the subject narrows below that only for the fixed columns."""
        room = self.style.width - self.lane_width - self._fixed_width() - 1
        if self.marker_width and room - 2 - self.marker_width >= MIN_SUBJECT_WIDTH:
            return room - 2 - self.marker_width
        return max(SUBJECT_FLOOR, min(room, MIN_SUBJECT_WIDTH) if self.marker_width else room)

    def describe(self, node: Node) -> str:
        style = self.style
        colour = VERDICT_COLOURS[node.verdict]
        value = pad(self.values[node.sha], self.value_width)
        delta = self.deltas[node.sha].rjust(self.delta_width)
        verdict = verdict_text(node)
        markers = self.markers[node.sha]
        if self.lane_width != self._budget_for:  # the lanes only ever widen: recomputed a few times
            self._budget_for, self._budget = self.lane_width, self._subject_width()
            self._before_verdict = self._fixed_width() - len(WIDEST_VERDICT) + self._budget
        budget = self._budget
        subject = node.label
        if subject.isascii() and subject.isprintable():  # nearly every subject: one cell per character
            subject = subject.ljust(budget) if len(subject) <= budget else subject[: budget - 1] + "…"
        else:
            subject = pad(truncate(terminal_safe(subject), budget), budget)
        author = pad(self.authors[node.sha], self.author_width) + "  " if self.author_width else ""
        parts = [
            style.paint(node.short, "dim")
            + " "
            + author
            + (style.paint(subject, "bold") if node.best else subject),
            value,
            style.paint(delta, colour) if delta.strip() else delta,
            style.paint(verdict, colour),
        ]
        line = "  ".join(parts)
        # The row's width, counted rather than measured (verdicts are one cell a character): only a
        # row that passes the terminal width is cut, at its end, so a long marker loses its tail.
        cells = self._before_verdict + len(verdict)
        if markers:
            line = line + "  " + markers
            cells += 2 + self.marker_widths[node.sha]
        room = style.width - self.lane_width
        if cells > room:
            return truncate_painted(line.rstrip(), max(room, MIN_TEXT_AFTER_LANES))
        return line.rstrip()

    def _markers(self, node: Node) -> str:
        marks = []
        if node.head:
            marks.append(self.style.paint("← HEAD", "bold"))
        if node.status == "running":
            marks.append("running")
        failure = short_failure(node)
        if failure:
            marks.append(self.style.paint(failure, "red"))
        if node.cut:
            marks.append(self.style.paint(CUT_MARK, "dim"))
        if node.surprise:
            marks.append(self.style.paint(SURPRISE_MARK, "yellow"))
        if node.dirty:
            marks.append(self.style.paint(DIRTY_MARK, "yellow"))
        if node.sha in self.far:
            marks.append(self.style.paint(self._far_mark(node, self.far[node.sha]), "dim"))
        if node.problems:
            marks.append(self.style.paint(problems_mark(len(node.problems)), "yellow"))
        return " ".join(marks)

    def _far_mark(self, node: Node, far: tuple[str, ...]) -> str:
        """``⊕ also 1a2b3c4, 5d6e7f8 +3``: the far parents a crossover's row names, two at most, those
        whose edge carries ordinary commits first (their mark rows above name them too)."""
        folded = node.folded
        ordered = sorted(far, key=lambda parent: not folded.get(parent))  # stable: drawing order kept
        named = [self.tree.by_sha[parent].short for parent in ordered[:2]]
        more = f" +{len(far) - len(named)}" if len(far) > len(named) else ""
        return f"⊕ also {', '.join(named)}{more}"


def author_labels(tree: ResearchTree) -> dict[str, str]:
    """Each node's author as shown (terminal-safe, at most AUTHOR_MAX_WIDTH cells), by sha.

    Empty when every row has the same author: a one-person log needs no author column, and its
    rows keep the room for subjects.
    """
    people = {(node.author_name, node.author_email.lower()) for node in tree.nodes}
    if len(people) < 2:
        return {}
    return {
        node.sha: truncate(terminal_safe(node.author_name or node.author_email), AUTHOR_MAX_WIDTH)
        for node in tree.nodes
    }


def legend(tree: ResearchTree, style: TextStyle, far: dict[str, tuple[str, ...]] | None = None) -> str:
    """The key printed under the tree (``far``: :func:`far_parents`, found here if not given)."""
    parts = [
        style.paint("better", "green"),
        style.paint("negligible", "yellow"),
        # A kept experiment no branch reaches is red too: the key names it where the tree has one.
        style.paint(
            "worse/abandoned/failed/discarded"
            if any(n.discarded and n.fate == "discarded" for n in tree.nodes)
            else "worse/abandoned/failed",
            "red",
        ),
        BEST_MARK,
        "✗ dead end",
    ]
    lines = wrap(" · ".join(parts), style.width, between=" · ")
    if tree.metric is not None:
        lines.append(terminal_safe(band_line(tree.metric)))
    lines += footnotes(tree.nodes)
    if far_parents(tree) if far is None else far:
        lines.append(FAR_NOTE)
    left_out = left_out_line(left_out_phrases(tree.left_out))
    if left_out:
        lines.append(left_out)
    # They explain the marks and the band: wrapped at the terminal width, never cut.
    return "\n".join(wrapped for line in lines for wrapped in wrap(line, style.width))
