"""The questions asked of a tree (gittree/tree/analysis.py), on hand-built histories: no git needed.

Each test reads like a use of the analysis: rank the experiments, walk the path to one, compare two,
compare one with each parent, find where side lines of work left the best path, sort for a table.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.config import Config, MetricConfig
from gittree.errors import BadValueError, GittreeError
from gittree.model import CommitRecord, Goal, ResearchTree, Verdict
from gittree.tree import build_tree
from gittree.tree.analysis import (
    NO_FOLDED,
    FoldedCommits,
    branch_points,
    build_path,
    compare_with_parents,
    diff_experiments,
    evaluate_metrics,
    find_experiment,
    rank_experiments,
    relation_of,
    sort_experiments,
)

ACC = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.01)})


def experiment(
    sha: str,
    parents: tuple[str, ...] = (),
    *,
    t: int = 0,
    acc: float | tuple[float, ...] | None = None,
    loss: float | None = None,
    status: str | None = None,
    params: dict[str, str] | None = None,
    notes: tuple[str, ...] = (),
    dirty: bool = False,
) -> CommitRecord:
    lines = []
    for value in acc if isinstance(acc, tuple) else (() if acc is None else (acc,)):
        lines.append(f"Gittree-Metric: acc={value}")
    if loss is not None:
        lines.append(f"Gittree-Metric: loss={loss}")
    lines += [f"Gittree-Param: {name}={value}" for name, value in (params or {}).items()]
    lines += [f"Gittree-Note: {note}" for note in notes]
    if status:
        lines.append(f"Gittree-Status: {status}")
    if dirty:
        lines.append("Gittree-Run: dirty=true")
    if not lines:
        lines.append("Gittree-Status: ok")
    return CommitRecord(sha, parents, f"{sha}\n\n" + "\n".join(lines) + "\n", author_time=t)


def research(*commits: CommitRecord, config: Config = ACC) -> ResearchTree:
    return build_tree(commits, config=config)


# -- best -------------------------------------------------------------------------------------------


def test_ranking_puts_the_best_first_and_ties_share_a_rank() -> None:
    tree = research(
        experiment("base", acc=0.5),
        experiment("lr", ("base",), t=1, acc=0.7),
        experiment("wd", ("base",), t=2, acc=0.7),
        experiment("bs", ("base",), t=3, acc=0.6),
    )
    ranking = rank_experiments(tree)
    assert [(entry.rank, entry.node.sha) for entry in ranking.entries] == [
        (1, "lr"),
        (1, "wd"),
        (3, "bs"),
        (4, "base"),
    ]
    assert ranking.entries[0].node.sha == tree.best  # the ranking's first is the tree's ★
    assert ranking.ranked == 4


def test_ranking_leaves_out_dead_ends_missing_values_nan_and_says_why() -> None:
    tree = research(
        experiment("base", acc=0.5),
        experiment("dead", ("base",), t=1, acc=0.9, status="abandoned"),
        experiment("none", ("base",), t=2, loss=1.0),
        experiment("nan", ("base",), t=3, acc=float("nan")),
    )
    ranking = rank_experiments(tree)
    assert [entry.node.sha for entry in ranking.entries] == ["base"]
    assert ranking.left_out == {"dead_end": 1, "no_value": 1, "nan": 1, "dirty": 0}


def test_dirty_results_are_ranked_unless_the_configuration_says_otherwise() -> None:
    history = (experiment("base", acc=0.5), experiment("quick", ("base",), t=1, acc=0.8, dirty=True))
    assert rank_experiments(research(*history)).entries[0].node.sha == "quick"
    strict = Config(metrics=ACC.metrics, dirty_can_be_best=False)
    ranking = rank_experiments(research(*history, config=strict))
    assert [entry.node.sha for entry in ranking.entries] == ["base"] and ranking.left_out["dirty"] == 1


def test_top_cuts_the_ranking_and_counts_the_ties_it_cut() -> None:
    tree = research(
        experiment("base", acc=0.5),
        experiment("a", ("base",), t=1, acc=0.7),
        experiment("b", ("base",), t=2, acc=0.7),
        experiment("c", ("base",), t=3, acc=0.7),
    )
    ranking = rank_experiments(tree, top=2)
    assert [entry.node.sha for entry in ranking.entries] == ["a", "b"] and ranking.ties_cut == 1
    with pytest.raises(BadValueError):
        rank_experiments(tree, top=0)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.5, 0.6, 0.7, 0.7, float("nan"), None]), min_size=1, max_size=12),
    top=st.integers(1, 14),
)
def test_top_is_the_head_of_the_whole_ranking_with_its_ties(values: list[float | None], top: int) -> None:
    """--top picks its entries without sorting every experiment: the same entries, ranks and order as
    the whole ranking's first ``top``, and the ties it cut are those the whole ranking has after them."""
    commits = [experiment("base", acc=0.5)]
    commits += [experiment(f"e{n}", ("base",), t=n + 1, acc=value) for n, value in enumerate(values)]
    tree = research(*commits)
    whole, cut = rank_experiments(tree), rank_experiments(tree, top=top)
    shown = [(entry.rank, entry.node.sha) for entry in cut.entries]
    assert shown == [(entry.rank, entry.node.sha) for entry in whole.entries[:top]]
    last = cut.entries[-1].value.mean
    assert cut.ties_cut == sum(1 for entry in whole.entries[top:] if entry.value.mean == last)
    assert (cut.ranked, cut.left_out) == (whole.ranked, whole.left_out)


def test_a_tree_without_a_metric_cannot_be_ranked() -> None:
    with pytest.raises(BadValueError, match="no experiment in this history records a metric"):
        rank_experiments(research(experiment("idea", status="ok")))


# -- path -------------------------------------------------------------------------------------------


def test_the_path_to_the_best_adds_up_the_gains_from_the_first_value() -> None:
    tree = research(
        experiment("setup", status="ok"),  # no value yet: the gain counts from the first one
        experiment("base", ("setup",), t=1, acc=0.5),
        experiment("lr", ("base",), t=2, acc=0.6),
        experiment("wd", ("lr",), t=3, acc=0.65),
        experiment("side", ("base",), t=4, acc=0.55),
    )
    report = build_path(tree, folded={"lr": FoldedCommits(2)})
    assert [step.node.sha for step in report.steps] == ["setup", "base", "lr", "wd"]
    assert report.start is not None and report.start.node.sha == "base"
    cumulative = [step.cumulative for step in report.steps]
    assert cumulative[0] is None and cumulative[1] == 0.0
    assert math.isclose(cumulative[2] or 0, 0.1) and math.isclose(report.gain or 0, 0.15)
    assert math.isclose(report.steps[3].delta or 0, 0.05)  # the step's own delta, against lr
    assert report.steps[2].folded.count == 2 and report.steps[3].folded is NO_FOLDED


def test_a_path_to_a_named_experiment_and_to_an_ordinary_commit() -> None:
    tree = research(experiment("base", acc=0.5), experiment("side", ("base",), t=1, acc=0.4))
    assert [step.node.sha for step in build_path(tree, "side").steps] == ["base", "side"]
    with pytest.raises(GittreeError, match="is not an experiment"):
        find_experiment(tree, "f" * 40, "HEAD~3")


# -- diff and parents -------------------------------------------------------------------------------


def test_diff_compares_every_metric_and_lists_the_params_that_changed() -> None:
    a = experiment("a", acc=(0.70, 0.72), loss=1.0, params={"lr": "0.1", "bs": "64"})
    b = experiment("b", ("a",), t=1, acc=(0.80, 0.82), loss=0.8, params={"lr": "0.01", "bs": "64", "wd": "1"})
    tree = research(a, b)
    result = diff_experiments(tree, a, b, ACC.spec, relation_of("a", "b", lambda old, new: old == "a"))
    assert [m.spec.name for m in result.metrics] == ["acc", "loss"]  # the tree's metric first
    acc = result.metrics[0]
    assert math.isclose(acc.delta or 0, 0.1) and acc.verdict is Verdict.BETTER and not acc.single_run
    loss = result.metrics[1]
    assert loss.verdict is Verdict.BETTER and loss.single_run  # lower is better; one run each
    assert [(p.name, p.a, p.b) for p in result.params] == [("lr", "0.1", "0.01"), ("wd", None, "1")]
    assert result.same_params == 1 and result.relation == "a-before-b"


def test_how_two_commits_sit_in_the_history() -> None:
    def grew(old: str, new: str) -> bool:
        return (old, new) == ("x", "y")

    assert relation_of("x", "x", grew) == "same"
    assert relation_of("x", "y", grew) == "a-before-b"
    assert relation_of("y", "x", grew) == "b-before-a"
    assert relation_of("x", "z", grew) == "diverged"


def test_a_crossover_is_compared_with_each_of_its_parents() -> None:
    tree = research(
        experiment("base", acc=0.5),
        experiment("left", ("base",), t=1, acc=0.6),
        experiment("right", ("base",), t=2, acc=0.7),
        experiment("both", ("left", "right"), t=3, acc=0.705),
    )
    spec = tree.metric
    assert spec is not None
    comparisons = dict(compare_with_parents(tree, tree.by_sha["both"], spec))
    assert list(comparisons) == ["left", "right"]
    assert comparisons["left"].verdict is Verdict.BETTER and math.isclose(
        comparisons["left"].delta or 0, 0.105
    )
    assert comparisons["right"].verdict is Verdict.NEGLIGIBLE  # within 0.01 of the better parent
    assert compare_with_parents(tree, tree.by_sha["base"], spec) == ()


def test_every_metric_is_evaluated_by_its_own_rules() -> None:
    tree = research(
        experiment("base", acc=0.5, loss=1.0),
        experiment("next", ("base",), t=1, acc=0.6, loss=1.2),
    )
    evaluations = evaluate_metrics(tree, ACC.spec)
    assert set(evaluations) == {"acc", "loss"}
    assert evaluations["acc"].verdicts["next"] is Verdict.BETTER
    assert evaluations["loss"].verdicts["next"] is Verdict.WORSE  # loss: lower is better
    assert evaluations["loss"].best == "base" and tree.best == "next"  # the tree keeps its own


# -- branches and table order -----------------------------------------------------------------------


def test_side_lines_of_work_are_anchored_where_they_left_the_best_path() -> None:
    tree = research(
        experiment("base", acc=0.5),
        experiment("lr", ("base",), t=1, acc=0.6),
        experiment("best", ("lr",), t=2, acc=0.7),
        experiment("side", ("lr",), t=3, acc=0.55),
        experiment("side2", ("side",), t=4, acc=0.56),
        experiment("island", t=5, acc=0.1),
    )
    assert branch_points(tree) == {"side": "lr", "side2": "lr", "island": None}


def test_table_orders_by_date_delta_or_metric_with_missing_values_last() -> None:
    tree = research(
        experiment("base", t=3, acc=0.5),
        experiment("up", ("base",), t=1, acc=0.7),
        experiment("down", ("base",), t=2, acc=0.4),
        experiment("none", ("base",), t=0, loss=1.0),
    )
    order = {n.sha: i for i, n in enumerate(tree.nodes)}
    assert [n.sha for n in sort_experiments(tree, None)] == sorted(order, key=order.__getitem__)
    assert [n.sha for n in sort_experiments(tree, "date")] == ["none", "up", "down", "base"]
    assert [n.sha for n in sort_experiments(tree, "delta")][:2] == ["up", "down"]
    by_acc = [n.sha for n in sort_experiments(tree, "acc", ACC.spec("acc"))]
    assert by_acc == ["up", "base", "down", "none"]
