"""The terminal view's marks between rows: ``┆ (+N commits)`` on the lanes that carry ordinary commits,
and the blank line between the trees of a forest (docs/tree.md, "Drawing order and lanes")."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.model import CommitRecord, ResearchTree
from gittree.render import text
from gittree.tree import build_tree
from tests.conftest import GitRepo
from tests.test_tree import ACC, exp, plain
from tests.test_tree_properties import CONFIG, histories

PLAIN = text.TextStyle(width=100, colour=False)
_NODE_ROW = re.compile(r"[│├└─┼┴╯╮┬● ★✗]*?[●★✗][─│ ]*\w+")


def sketch(lines: list[str]) -> list[str]:
    """The rows as lanes: a node row up to its sha, every other row whole (marks, joins, blanks)."""
    cut = []
    for line in lines:
        match = _NODE_ROW.match(line)
        cut.append(match.group(0) if match else line)
    return cut


def rows_of(tree: ResearchTree) -> list[str]:
    return sketch(list(text.render_text(tree, PLAIN))[1:])


def test_each_lane_into_a_crossover_shows_its_own_count(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: ``┆ │ (+3 commits)`` on the main lane, the two edges' counts added up, for the
    ordinary merge (on both paths) and one ordinary commit on the side branch."""
    base = repo.experiment("base", metrics=[("acc", 0.5)])
    repo.branch("a", base)
    a1 = repo.experiment("a1", metrics=[("acc", 0.6)])
    repo.commit("ordinary on a")
    repo.branch("main", base)
    m1 = repo.experiment("m1", metrics=[("acc", 0.51)])
    repo.git("merge", "-q", "--no-ff", "-s", "ours", "a", "-m", "ordinary merge")
    top = repo.experiment("after merge", metrics=[("acc", 0.7)])
    result = gittree("show", "--color", "never")
    assert result.code == 0, result.err
    assert sketch(result.out.splitlines()[1:8]) == [
        f"●   {base[:7]}",
        f"├─● {a1[:7]}",
        f"● │ {m1[:7]}",
        "┆ │ (+1 commit)",
        "│ ┆ (+2 commits)",
        "├─╯",
        f"★   {top[:7]}",
    ]
    (node,) = (n for n in json.loads(gittree("show", "--json").out)["nodes"] if n["sha"] == top)
    assert node["folded"] == {m1: 1, a1: 2}  # the data: each edge's count, the merge in both


def test_folded_commits_only_on_the_side_lane_are_marked_on_that_lane() -> None:
    """Regression: the mark sat on the main line's lane (``┆ │``), which has no ordinary commit."""
    tree = build_tree(
        [
            exp("base", acc=0.5),
            exp("a1", ("base",), 1, acc=0.6),
            plain("o", ("a1",), 2),
            exp("m1", ("base",), 3, acc=0.51),
            exp("m2", ("m1",), 3, acc=0.52),
            exp("x", ("m2", "o"), 4, acc=0.7),
        ],
        config=ACC,
    )
    assert rows_of(tree) == ["●   base", "├─● a1", "● │ m1", "● │ m2", "│ ┆ (+1 commit)", "├─╯", "★   x"]


def test_two_parents_sharing_ordinary_commits_show_each_edge_s_count_not_their_sum() -> None:
    """An ordinary merge then an ordinary commit under a crossover: both are on each parent's path.
    Each lane shows its 2; added up, they made ``(+4 commits)`` of 2 commits."""
    tree = build_tree(
        [
            exp("base", acc=0.5),
            exp("a1", ("base",), 1, acc=0.6),
            exp("m1", ("base",), 2, acc=0.51),
            exp("m2", ("m1",), 3, acc=0.52),
            plain("merge", ("m2", "a1"), 4),
            plain("o", ("merge",), 5),
            exp("x", ("o",), 6, acc=0.7),
        ],
        config=ACC,
    )
    assert tree.by_sha["x"].folded == {"m2": 2, "a1": 2}
    assert rows_of(tree)[-4:] == ["┆ │ (+2 commits)", "│ ┆ (+2 commits)", "├─╯", "★   x"]


def test_an_octopus_marks_each_folded_lane_on_a_row_of_its_own() -> None:
    commits = [exp("r", acc=0.5)]
    commits += [exp(f"i{k}", ("r",), k + 1, acc=0.5 + k / 100) for k in range(3)]
    commits += [plain("o0", ("i0",), 5), plain("o2", ("i2",), 5), plain("o2b", ("o2",), 5)]
    tree = build_tree([*commits, exp("all", ("o0", "i1", "o2b"), 6, acc=0.9)], config=ACC)
    # i2 is drawn last (the main line, column 0): its 2 commits; i0's 1 on its lane, column 1.
    assert rows_of(tree) == [
        "●     r",
        "├─●   i0",
        "├─┼─● i1",
        "● │ │ i2",
        "┆ │ │ (+2 commits)",
        "│ ┆ │ (+1 commit)",
        "├─┴─╯",
        "★     all",
    ]


def test_a_far_crossover_names_its_parent_with_that_edge_s_count() -> None:
    """A parent drawn too far above for a lane has no lane to carry its count: a mark row of its own
    names it, and the count is not on the nearest parent's lane (where it was, added to that one's).
    The crossover's row names it as before (``⊕ also``), no wider."""
    commits = [
        exp("base", acc=0.5),
        exp("side", ("base",), 1, acc=0.51),
        exp("side2", ("side",), 2, acc=0.52),
    ]
    commits += [plain("o1", ("side2",), 2), plain("o2", ("o1",), 2)]
    commits += [
        exp(f"m{i:02d}", ("base",) if i == 1 else (f"m{i - 1:02d}",), 3, acc=0.5 + i / 1000)
        for i in range(1, text.CROSSOVER_LANE_ROWS + 3)
    ]
    tree = build_tree([*commits, exp("both", ("o2", "m42"), 4, acc=0.7)], config=ACC)
    assert text.far_parents(tree) == {"both": ("side2",)}
    lines = list(text.render_text(tree, PLAIN))
    assert lines[-1].startswith("★   both ") and lines[-1].endswith("⊕ also side2")
    assert lines[-2] == "┆ (+2 commits from side2)"
    assert not any("(+" in line for line in lines[:-2])


def test_far_parents_with_folded_commits_have_a_mark_row_each_and_are_named_first() -> None:
    def octopus(folded_on: tuple[int, ...]) -> list[str]:
        """The mark rows and the crossover's markers of an octopus of p0..p4 (drawn in that order),
        each of p0..p3 named by ⊕ also."""
        commits = [exp("r", acc=0.5)]
        commits += [exp(f"p{k}", ("r",), k + 1, acc=0.5 + k / 100) for k in range(5)]
        commits += [plain(f"o{k}", (f"p{k}",), 7) for k in folded_on]
        parents = tuple(f"o{k}" if k in folded_on else f"p{k}" for k in range(5))
        tree = build_tree([*commits, exp("all", parents, 8, acc=0.9)], config=ACC)
        # every parent named but the nearest, p4, drawn right above
        far: dict[str, tuple[str, ...]] = {"all": ("p0", "p1", "p2", "p3")}
        lines = list(text.render_text(tree, PLAIN, far))
        marks = [line for line in lines if line.startswith("┆")]
        return [*marks, lines[-1][lines[-1].index("⊕") :]]

    assert octopus(()) == ["⊕ also p0, p1 +2"]  # as before
    assert octopus((2,)) == ["┆ (+1 commit from p2)", "⊕ also p2, p0 +2"]
    assert octopus((1, 2, 3)) == [
        "┆ (+1 commit from p1)",
        "┆ (+1 commit from p2)",
        "┆ (+1 commit from p3)",
        "⊕ also p1, p2 +2",
    ]
    # p4, drawn last, has its lane: its count is on it, unnamed
    assert octopus((0, 4)) == ["┆ (+1 commit)", "┆ (+1 commit from p0)", "⊕ also p0, p1 +2"]


def test_ordinary_history_merged_in_with_no_experiment_is_marked_apart_from_the_parent_lane() -> None:
    """An experiment whose other side is a merged history of ordinary commits only (``folded_below``
    of a node with parents): marked under its parents' lanes, saying it is no parent's edge, not
    added to the parent edge's count."""
    tree = build_tree(
        [
            exp("a", acc=0.5),
            plain("o", ("a",), 1),
            plain("u1", (), 1),
            plain("u2", ("u1",), 1),
            plain("merge", ("o", "u2"), 2),
            exp("x", ("merge",), 3, acc=0.6),
        ],
        config=ACC,
    )
    node = tree.by_sha["x"]
    assert node.folded == {"a": 2} and node.folded_below == 3  # the merge is on both sides
    assert rows_of(tree) == ["● a", "┆ (+2 commits)", "┆ (+3 commits on a side with no experiment)", "★ x"]


def test_the_usual_marks_look_as_they_always_have() -> None:
    """One parent with ordinary commits on its lane, and the history below a root: one mark each."""
    tree = build_tree(
        [
            plain("init"),
            exp("a", ("init",), 1, acc=0.5),
            plain("o1", ("a",), 2),
            plain("o2", ("o1",), 3),
            exp("b", ("o2",), 4, acc=0.6),
            exp("c", ("a",), 5, acc=0.55),
            exp("c2", ("c",), 6, acc=0.56),
        ],
        config=ACC,
    )
    assert rows_of(tree) == ["┆ (+1 commit)", "●   a", "├─╮", "│ ┆ (+2 commits)", "│ ★ b", "●   c", "●   c2"]


def test_a_root_beside_an_open_lane_gets_no_blank_line(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: a blank line before every root cut the lanes still open across it (here A1's lane
    to the crossover X), and drew B's tree apart from A's though X joins them."""
    a = repo.experiment("A", metrics=[("acc", 0.5)])
    a1 = repo.experiment("A1", metrics=[("acc", 0.6)])
    a2 = repo.experiment("A2", metrics=[("acc", 0.61)])
    repo.git("checkout", "-q", "--orphan", "other")
    b = repo.experiment("B", metrics=[("acc", 0.4)])
    repo.git("merge", "-q", "--no-ff", "--no-commit", "--allow-unrelated-histories", "-s", "ours", a1)
    x = repo.experiment("X", metrics=[("acc", 0.7)])
    result = gittree("show", "--all", "--color", "never")
    assert result.code == 0, result.err
    assert sketch(result.out.splitlines()[1:8]) == [
        f"●   {a[:7]}",
        f"●   {a1[:7]}",
        f"├─● {a2[:7]}",
        f"│ ● {b[:7]}",
        "├─╯",
        f"★   {x[:7]}",
        "",  # the blank line before the legend
    ]


def test_a_new_tree_once_every_lane_has_ended_is_set_apart_by_a_blank_line() -> None:
    tree = build_tree(
        [
            exp("a", (), 0, acc=0.5),
            exp("a1", ("a",), 1, acc=0.6),
            exp("b", (), 2, acc=0.4),
            exp("b1", ("b",), 3, acc=0.45),
            exp("c", (), 4, acc=0.3),
        ],
        config=ACC,
    )
    assert rows_of(tree) == ["● a", "★ a1", "", "● b", "● b1", "", "● c"]


_MARK_ROW = re.compile(
    r"^([│┆ ]*?) ?\(\+(\d+) commits?(?P<side> on a side with no experiment)?(?: from (?P<far>\S+))?\)$"
)


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(["usual", "none", "every"]))
def test_every_folded_count_is_shown_once_on_its_own_edge(commits: list[CommitRecord], variant: str) -> None:
    """On any history: each edge's count (``Node.folded``) is shown exactly once, on the lane from
    that parent (told apart here by following the lanes row by row, not by the renderer's own
    bookkeeping), or after the parent's name for a far crossover; nothing is added up; and a blank
    line comes before a root exactly when no other lane is open."""
    tree = build_tree(commits, config=CONFIG)
    far = {
        "usual": text.far_parents(tree),
        "none": {},
        "every": _every_far_parent(tree),
    }[variant]
    wide = text.TextStyle(width=400, colour=False)
    lines = list(text.render_text(tree, wide, far))[1:]
    opened_by: dict[tuple[int, str], str] = {}  # (column, child) -> the experiment whose row opened it
    at = 0
    for index, row in enumerate(text.layout(tree, far)):
        node = row.node
        between = []
        while not _is_row_of(lines[at], node.short):
            between.append(lines[at])
            at += 1
        line = lines[at]
        at += 1
        if row.opened:
            at += 1  # the fork's link row
        blank_expected = (
            index > 0
            and not node.parents
            and not any(
                target is not None for column, target in enumerate(row.lanes_before) if column != row.here
            )
        )
        assert ("" in between) == blank_expected
        marks = []
        for mark in between:
            if mark == "" or "(+" not in mark:
                continue
            parsed = _MARK_ROW.match(mark)
            assert parsed, mark
            cells = parsed.group(1)
            assert cells.count("┆") == 1
            column = cells.index("┆") // 2
            # every other lane open there runs on through the mark row
            lanes = row.lanes_at_node if parsed.group("side") else row.lanes_before
            drawn = ["┆" if i == column else "│" if t else " " for i, t in enumerate(lanes)]
            assert cells.rstrip() == " ".join(drawn).rstrip()
            marks.append(
                (column, int(parsed.group(2)), bool(parsed.group("side")), parsed.group("far") or "")
            )
        if row.hangs_from >= 0:
            assert not node.folded and not node.folded_below  # a side child with folds gets a lane
            expected = []
        else:
            laned = {
                opened_by[(column, node.sha)]: column for column in (row.here, *row.joining) if node.parents
            }
            named = set(far.get(node.sha, ()))
            assert set(node.parents) == set(laned) | named and not set(laned) & named
            expected = sorted(
                (column, node.folded[parent], False, "")
                for parent, column in laned.items()
                if node.folded.get(parent)
            )
            assert ("⊕ also " in line) == bool(named)  # the row names its far parents
            # a far parent's count: a mark row of its own on the experiment's lane, naming it
            expected += [
                (row.here, node.folded[parent], False, tree.by_sha[parent].short)
                for parent in named
                if node.folded.get(parent)
            ]
            if node.folded_below:
                expected.append((row.here, node.folded_below, bool(node.parents), ""))
        assert sorted(marks) == sorted(expected)
        for column in (row.here, *row.opened):
            target = row.lanes_after[column]
            if target is not None:
                opened_by[(column, target)] = node.sha
    assert lines[at:] == []


def _is_row_of(line: str, short: str) -> bool:
    match = _NODE_ROW.match(line)
    return match is not None and match.group(0).split()[-1] == short


def _every_far_parent(tree: ResearchTree) -> dict[str, tuple[str, ...]]:
    """Every crossover's parents but the one drawn last: the most a row may name instead of lanes."""
    position = {node.sha: i for i, node in enumerate(tree.nodes)}
    return {
        node.sha: tuple(p for p in node.parents if p != max(node.parents, key=position.__getitem__))
        for node in tree.nodes
        if len(node.parents) > 1
    }
