"""The tree builder on generated commit DAGs: its rules hold for any history, not just hand-picked ones."""

from __future__ import annotations

import json
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.config import Config, MetricConfig
from gittree.model import CommitRecord, Goal, History, MetricSummary, Node, Verdict
from gittree.render.jsonview import node_data, node_json_writer, one_line_encoder, render_json
from gittree.tree import build_tree, build_tree_of, compare

CONFIG = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.05)})


@st.composite
def histories(draw: st.DrawFn) -> list[CommitRecord]:
    """A random DAG: each commit has 0-3 earlier parents; some are experiments with 1-3 samples or a status."""
    size = draw(st.integers(min_value=1, max_value=40))
    commits: list[CommitRecord] = []
    for i in range(size):
        parents: tuple[str, ...] = ()
        if i and draw(st.integers(0, 9)):  # mostly connected, sometimes a new root
            count = draw(st.sampled_from([1, 1, 1, 2, 3]))
            parents = tuple(dict.fromkeys(f"c{draw(st.integers(0, i - 1))}" for _ in range(count)))
        lines = []
        if draw(st.booleans()):
            samples = draw(
                st.lists(st.sampled_from(["0.1", "0.5", "0.52", "0.9", "nan"]), min_size=0, max_size=3)
            )
            lines += [f"Gittree-Metric: acc={s}" for s in samples]
            status = draw(st.sampled_from([None, None, None, "abandoned", "failed", "ok"]))
            if status or not lines:
                lines.append(f"Gittree-Status: {status or 'ok'}")
        message = f"c{i}\n" + ("\n" + "\n".join(lines) + "\n" if lines else "")
        commits.append(CommitRecord(f"c{i}", parents, message, author_time=draw(st.integers(0, 5))))
    return commits


def ancestors(sha: str, by_sha: dict[str, CommitRecord]) -> set[str]:
    seen: set[str] = set()
    stack = list(by_sha[sha].parents)
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(by_sha[current].parents)
    return seen


def nearest_experiments(sha: str, by_sha: dict[str, CommitRecord], experiments: set[str]) -> set[str]:
    """Experiments reachable from ``sha`` through ordinary commits only: the rule, computed naively."""
    found: set[str] = set()
    stack, seen = list(by_sha[sha].parents), set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in experiments:
            found.add(current)
        else:
            stack.extend(by_sha[current].parents)
    return found


def live_parents(
    sha: str, by_sha: dict[str, CommitRecord], experiments: set[str], dead: set[str]
) -> set[str]:
    """The rule, computed naively: nearest experiments, each dead end replaced by its own live
    parents (it is a side leaf of the live line), then those behind another one dropped."""
    found: set[str] = set()
    for exp in nearest_experiments(sha, by_sha, experiments):
        above = live_parents(exp, by_sha, experiments, dead) if exp in dead else set()
        found |= above or {exp}
    return {a for a in found if not any(a in ancestors(b, by_sha) for b in found if b != a)}


@settings(max_examples=300, deadline=None)
@given(histories())
def test_tree_rules_hold_on_any_history(commits: list[CommitRecord]) -> None:
    tree = build_tree(commits, config=CONFIG)
    by_sha = {c.sha: c for c in commits}
    experiments = {c.sha for c in commits if "Gittree-" in c.message}

    drawn = [node.sha for node in tree.nodes]
    assert sorted(drawn) == sorted(experiments)  # every experiment exactly once
    position = {sha: i for i, sha in enumerate(drawn)}
    dead = {
        c.sha
        for c in commits
        if "Gittree-Status: abandoned" in c.message or "Gittree-Status: failed" in c.message
    }
    for node in tree.nodes:
        # parents are the nearest live experiment ancestors; dead ends hang off the live line
        assert set(node.parents) == live_parents(node.sha, by_sha, experiments, dead)
        for parent in node.parents:
            assert position[parent] < position[node.sha]  # parents drawn first
            assert node.sha in tree.by_sha[parent].children
        assert not any(a in ancestors(b, by_sha) for a in node.parents for b in node.parents if a != b)
        # verdicts follow the rules
        if node.status == "abandoned":
            assert node.verdict is Verdict.ABANDONED
        elif node.status == "failed":
            assert node.verdict is Verdict.FAILED
        elif node.reference is None or "acc" not in node.metrics or node.delta is None:
            assert node.verdict is Verdict.BASELINE
        else:
            reference = tree.by_sha[node.reference]
            # the nearest live experiment with a value, down the first parents from a parent
            assert not reference.dead_end and "acc" in reference.metrics
            starts = node.parents if len(node.parents) > 1 else node.parents[:1]
            walks = []
            for start in starts:
                current: str | None = start
                while current is not None:
                    step = tree.by_sha[current]
                    if "acc" in step.metrics and not step.dead_end:
                        walks.append(current)
                        break
                    current = step.parents[0] if step.parents else None
            assert reference.sha in walks
            assert node.verdict is compare(node.metrics["acc"], reference.metrics["acc"], tree.metric)  # type: ignore[arg-type]
    if tree.best is not None:
        best = tree.by_sha[tree.best]
        assert not best.dead_end
        live = [n.metrics["acc"].mean for n in tree.nodes if "acc" in n.metrics and not n.dead_end]
        assert best.metrics["acc"].mean == max(v for v in live if v == v)


@settings(max_examples=300, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_the_tree_is_the_same_from_any_order_and_from_a_history_it_empties(
    commits: list[CommitRecord], shuffle: random.Random
) -> None:
    # The builder lets go of each commit once its node is made (build_tree_of, for peak memory) and
    # decides the usual step by "has the parent a node yet": neither may depend on the order given.
    reference = render_json(build_tree(commits, config=CONFIG, head=commits[-1].sha))
    shuffled = list(commits)
    shuffle.shuffle(shuffled)
    assert render_json(build_tree(shuffled, config=CONFIG, head=commits[-1].sha)) == reference
    history = History(list(shuffled), {})
    tree = build_tree_of(history, config=CONFIG, metric=None, head=commits[-1].sha)
    assert render_json(tree) == reference
    assert history.commits == [] and history.parsed == {}


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # control characters, quotes, emoji
_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e300])


@st.composite
def nodes(draw: st.DrawFn) -> Node:
    def sha() -> str:
        return draw(st.text(alphabet="0123456789abcdef", min_size=40, max_size=40))

    metrics = draw(st.dictionaries(_TEXT, st.lists(_FLOATS, min_size=1, max_size=3), max_size=3))
    delta = draw(st.none() | _FLOATS)
    return Node(
        sha=sha(),
        message=draw(_TEXT) + "\n\n" + draw(_TEXT),
        author_name=draw(_TEXT),
        author_email=draw(_TEXT),
        author_time=draw(st.integers(-(2**40), 2**40)),
        author_offset=draw(st.integers(-720, 840)),
        metrics={name: MetricSummary(tuple(samples)) for name, samples in metrics.items()},
        params=draw(st.dictionaries(_TEXT, _TEXT, max_size=3)),
        notes=tuple(draw(st.lists(_TEXT, max_size=2))),
        status=draw(st.none() | st.sampled_from(["ok", "abandoned", "failed"]) | _TEXT),
        run=draw(
            st.dictionaries(
                st.sampled_from(["dirty", "id", "host"]), st.sampled_from(["true", "no", " TRUE "])
            )
        ),
        problems=tuple(draw(st.lists(_TEXT, max_size=2))),
        parents=tuple(sha() for _ in range(draw(st.integers(0, 3)))),
        folded=draw(st.dictionaries(st.just("a" * 40), st.integers(0, 10**6))),
        folded_below=draw(st.integers(0, 10**6)),
        cut=draw(st.booleans()),
        delta=delta,
        reference=draw(st.none() | st.just("b" * 40)),
        verdict=draw(st.sampled_from(list(Verdict))),
        single_run=draw(st.booleans()),
        best=draw(st.booleans()),
        head=draw(st.booleans()),
        on_best_path=draw(st.booleans()),
        surprise=draw(st.booleans()),
    )


@settings(max_examples=400, deadline=None)
@given(nodes())
def test_the_node_writer_writes_what_the_json_encoder_writes(node: Node) -> None:
    """`show --json` writes each node straight from the node; it must be the encoder's output exactly."""
    expected = one_line_encoder()(node_data(node))
    assert node_json_writer()(node) == expected
    assert json.loads(expected)["sha"] == node.sha


_CARRIES = [999.95, -999.95, 999999.5, 0.99996, 9.99995, 99.995, 0.0099996, 9999.5, 99999.5]


@settings(max_examples=2000, deadline=None)
@given(
    st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e-3, -1e-3, 1e6, -1e6, 0.0, -0.0, 999.99995, *_CARRIES])
    | st.builds(
        lambda e, nines: float("9" * nines) * 10.0 ** (e - nines + 1), st.integers(-4, 6), st.integers(1, 9)
    )
)
def test_the_quick_number_format_is_the_general_one(x: float) -> None:
    """Views format most values by a short path; it must give what the general rule gives: four
    significant digits of the value as rounded (999.95 is 1000, not the five digits of 1000.0)."""
    from gittree.render.numbers import SIGNIFICANT, decimals_for, format_value

    if math.isnan(x):
        expected = "nan"
    elif math.isinf(x):
        expected = "inf" if x > 0 else "-inf"
    elif x != 0 and not 1e-3 <= abs(x) < 1e6:
        expected = f"{x:.{SIGNIFICANT - 1}e}"
    else:
        expected = f"{x:.{decimals_for(x)}f}"
        rounded = abs(float(expected))
        if rounded >= 1e6:
            expected = f"{x:.{SIGNIFICANT - 1}e}"
        elif rounded and decimals_for(rounded) < decimals_for(x):
            expected = f"{x:.{decimals_for(rounded)}f}"
    assert format_value(x) == expected


def test_rounding_that_carries_to_the_next_power_of_ten_keeps_four_significant_digits() -> None:
    from gittree.render.numbers import format_value

    written = [format_value(x) for x in _CARRIES]
    assert written == [
        "1000",
        "-1000",
        "1.000e+06",
        "1.000",
        "10.00",
        "100.0",
        "0.01000",
        "10000",
        "100000",
    ]


@settings(max_examples=300, deadline=None)
@given(histories())
def test_every_edge_of_any_tree_is_drawn_once_in_the_terminal_view(commits: list[CommitRecord]) -> None:
    """Each experiment's row is reached from each of its parents exactly once: by a lane that waited
    for it, by hanging off its parent's lane while that lane still runs on (a side child) or ends
    there (the last of alternatives), or by naming the parent on the row (a crossover whose parent is
    drawn far above it)."""
    from gittree.render import text

    tree = build_tree(commits, config=CONFIG)
    for far in (text.far_parents(tree), {}, _every_far_parent(tree)):
        rows = list(text.layout(tree, far))
        assert [row.node.sha for row in rows] == [node.sha for node in tree.nodes]
        for row in rows:
            node = row.node
            if row.hangs_from >= 0:
                (parent,) = node.parents
                laned = [c for c in tree.by_sha[parent].children if parent not in far.get(c, ())]
                assert row.lanes_at_node[row.hangs_from] == laned[-1]
                assert not row.joining and row.here > row.hangs_from
                # the last child hangs only as the last of alternatives: the parent's lane ends at it
                assert row.ends_lane == (laned[-1] == node.sha)
                if row.ends_lane:
                    assert row.lanes_after[row.hangs_from] is None
            else:
                # a lane from every parent but those the row names instead
                assert 1 + len(row.joining) == max(1, len(node.parents) - len(far.get(node.sha, ())))
                assert row.lanes_before[row.here] in (node.sha, None)
    usual = text.CROSSOVER_LANE_ROWS
    try:
        text.CROSSOVER_LANE_ROWS = 0  # every crossover names all its parents but the nearest
        assert text.far_parents(tree) == {k: v for k, v in _every_far_parent(tree).items() if v}
        lines = list(text.render_text(tree))
    finally:
        text.CROSSOVER_LANE_ROWS = usual
    assert len(lines) >= len(tree.nodes)


def _every_far_parent(tree: object) -> dict[str, tuple[str, ...]]:
    """Every crossover's parents but the one drawn last: the most a row may name instead of lanes."""
    nodes = tree.nodes  # type: ignore[attr-defined]
    position = {node.sha: i for i, node in enumerate(nodes)}
    return {
        node.sha: tuple(p for p in node.parents if p != max(node.parents, key=position.__getitem__))
        for node in nodes
        if len(node.parents) > 1
    }
