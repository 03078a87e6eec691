"""The tree rules (docs/tree.md) on hand-built commit graphs: no git needed, the builder is pure."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.config import Config, MetricConfig
from gittree.model import CommitRecord, Goal, MetricSummary, Verdict
from gittree.tree import build_tree, noise_band


def exp(sha: str, parents: tuple[str, ...] = (), t: int = 0, **metrics: object) -> CommitRecord:
    status = metrics.pop("status", None)
    lines = []
    for name, value in metrics.items():
        values = value if isinstance(value, tuple) else (value,)
        lines += [f"Gittree-Metric: {name}={v}" for v in values]
    if status:
        lines.append(f"Gittree-Status: {status}")
    return CommitRecord(sha, parents, f"{sha}\n\n" + "\n".join(lines) + "\n", author_time=t)


def plain(sha: str, parents: tuple[str, ...] = (), t: int = 0, **kwargs: object) -> CommitRecord:
    return CommitRecord(sha, parents, f"{sha}\n", author_time=t, **kwargs)  # type: ignore[arg-type]


ACC = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.01)})


def test_experiment_parent_skips_ordinary_commits_and_counts_them() -> None:
    tree = build_tree(
        [exp("a", acc=0.5), plain("x", ("a",)), plain("y", ("x",)), exp("b", ("y",), acc=0.6)], config=ACC
    )
    b = tree.by_sha["b"]
    assert b.parents == ("a",)
    assert b.folded == {"a": 2}
    assert [n.sha for n in tree.nodes] == ["a", "b"]


def test_ordinary_commits_below_the_first_experiment_fold_into_the_root() -> None:
    tree = build_tree([plain("r"), plain("s", ("r",)), exp("a", ("s",), acc=0.5)], config=ACC)
    assert tree.by_sha["a"].parents == ()
    assert tree.by_sha["a"].folded_below == 2


def test_verdicts_better_negligible_worse_baseline() -> None:
    tree = build_tree(
        [
            exp("a", acc=0.50),
            exp("b", ("a",), 1, acc=0.60),
            exp("c", ("a",), 2, acc=0.505),
            exp("d", ("a",), 3, acc=0.40),
        ],
        config=ACC,
    )
    v = {n.sha: n.verdict for n in tree.nodes}
    assert v == {"a": Verdict.BASELINE, "b": Verdict.BETTER, "c": Verdict.NEGLIGIBLE, "d": Verdict.WORSE}
    assert math.isclose(tree.by_sha["b"].delta or 0, 0.1)


def test_a_delta_exactly_at_the_threshold_is_negligible_despite_binary_rounding() -> None:
    """0.703 - 0.700 is 0.0030000000000000027 in floating point: still the threshold 0.003, so negligible."""
    config = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.003)})
    steps = [(0.700, 0.703), (0.703, 0.700), (0.100, 0.103), (0.700, 0.7031), (0.700, 0.6969)]
    verdicts = []
    for before, after in steps:
        tree = build_tree([exp("a", acc=before), exp("b", ("a",), 1, acc=after)], config=config)
        verdicts.append(tree.by_sha["b"].verdict)
    assert verdicts == [Verdict.NEGLIGIBLE] * 3 + [Verdict.BETTER, Verdict.WORSE]
    relative = build_tree([exp("a", acc=0.7), exp("b", ("a",), 1, acc=0.7007)])  # 0.1% of 0.7, exactly
    assert relative.by_sha["b"].verdict is Verdict.NEGLIGIBLE


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=0, max_value=10**4),
    st.integers(min_value=1, max_value=6),
    st.booleans(),
)
def test_deltas_at_the_threshold_in_decimals_are_negligible_and_one_step_more_is_not(
    start: int, step: int, places: int, up: bool
) -> None:
    """Values and threshold written with ``places`` decimals: a delta of exactly the threshold is
    negligible and one unit of the last decimal more is not, whatever binary rounding does."""
    scale = 10**places
    threshold = step / scale
    config = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=threshold)})
    sign = 1 if up else -1

    def verdict(units: int) -> Verdict:
        after = (start + sign * units) / scale
        tree = build_tree([exp("a", acc=start / scale), exp("b", ("a",), 1, acc=after)], config=config)
        return tree.by_sha["b"].verdict

    assert verdict(step) is Verdict.NEGLIGIBLE
    assert verdict(step + 1) is (Verdict.BETTER if up else Verdict.WORSE)


def test_goal_min_inverts_better_and_worse() -> None:
    tree = build_tree([exp("a", loss=1.0), exp("b", ("a",), 1, loss=0.5)])
    assert tree.metric is not None and tree.metric.goal is Goal.MIN
    assert tree.by_sha["b"].verdict is Verdict.BETTER


def test_abandoned_and_failed_are_red_whatever_the_delta() -> None:
    tree = build_tree(
        [
            exp("a", acc=0.5),
            exp("b", ("a",), 1, acc=0.9, status="abandoned"),
            exp("c", ("a",), 2, status="failed"),
        ],
        config=ACC,
    )
    assert tree.by_sha["b"].verdict is Verdict.ABANDONED
    assert tree.by_sha["c"].verdict is Verdict.FAILED
    assert tree.best == "a"  # dead ends never win


def test_repeated_runs_inside_their_noise_are_negligible() -> None:
    tree = build_tree(
        [exp("a", acc=(0.70, 0.72, 0.74)), exp("b", ("a",), 1, acc=(0.73, 0.75, 0.71))],
        config=Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.0)}),
    )
    b = tree.by_sha["b"]
    assert b.verdict is Verdict.NEGLIGIBLE
    assert not b.single_run


def test_single_run_is_flagged() -> None:
    tree = build_tree([exp("a", acc=0.5), exp("b", ("a",), 1, acc=0.7)], config=ACC)
    assert tree.by_sha["b"].single_run


BPB = Config(metrics={"val_bpb": MetricConfig(goal=Goal.MIN)})  # no threshold: the default band


def test_seeds_on_one_side_set_the_default_band_from_their_spread() -> None:
    """An autoresearch gain of 5e-4 near 1.0 read `negligible¹` under the 0.1% relative band; with
    seeds of spread 1e-4 behind the reference it is far outside their noise (issue 17)."""
    seeds = (0.9980, 0.9981, 0.9979)
    tree = build_tree(
        [
            exp("a", val_bpb=seeds),
            exp("b", ("a",), 1, val_bpb=0.9975),  # a gain of 5e-4: about 4 standard errors
            exp("c", ("a",), 2, val_bpb=0.99795),  # 5e-5: inside the noise
            exp("d", ("b",), 3, val_bpb=0.9970),  # single runs on both sides: no noise estimate
        ],
        config=BPB,
    )
    b, c, d = (tree.by_sha[sha] for sha in "bcd")
    assert (b.verdict, b.single_run) == (Verdict.BETTER, False)
    assert (c.verdict, c.single_run) == (Verdict.NEGLIGIBLE, False)
    assert (d.verdict, d.single_run) == (Verdict.NEGLIGIBLE, True)  # 5e-4 is within 0.1% of 0.9975
    band = noise_band(MetricSummary((0.9975,)), MetricSummary(seeds), BPB.spec("val_bpb"))
    assert math.isclose(band, 2 * 1e-4 * math.sqrt(1 + 1 / 3))


def test_seeds_on_both_sides_use_each_sides_spread() -> None:
    new, old = MetricSummary((0.70, 0.72, 0.74)), MetricSummary((0.60, 0.61))
    spec = Config().spec("acc")
    assert math.isclose(
        noise_band(new, old, spec), 2 * math.sqrt(0.02**2 / 3 + (0.01 * math.sqrt(0.5)) ** 2 / 2)
    )


def test_a_configured_threshold_still_wins_and_noise_sigmas_zero_turns_the_noise_rule_off() -> None:
    seeds, one = MetricSummary((0.9980, 0.9981, 0.9979)), MetricSummary((0.9975,))
    configured = Config(metrics={"val_bpb": MetricConfig(goal=Goal.MIN, threshold=0.001)}).spec("val_bpb")
    assert noise_band(one, seeds, configured) == 0.001  # the threshold is a floor under the noise
    off = Config(noise_sigmas=0).spec("val_bpb")
    assert math.isclose(noise_band(one, seeds, off), 0.001 * 0.9980)  # the relative band, as with no seeds


def revert(sha: str, parent: str, reverted: str, t: int = 0) -> CommitRecord:
    """A commit as `git revert` writes it."""
    message = f'Revert "{reverted}"\n\nThis reverts commit {reverted}.\n'
    return CommitRecord(sha, (parent,), message, author_time=t)


def sha40(c: str) -> str:
    return c * 40


def test_a_reverted_experiment_is_a_dead_end_and_the_kept_line_runs_past_it() -> None:
    """keep, discard, revert, keep (an agent loop that reverts its losers): the reverted try is a
    discarded side leaf of the kept line, and the next keep is judged against the last kept one."""
    a, b, r, c = sha40("a"), sha40("b"), sha40("1"), sha40("c")
    tree = build_tree(
        [exp(a, acc=0.5), exp(b, (a,), 1, acc=0.4), revert(r, b, b, 2), exp(c, (r,), 3, acc=0.55)], config=ACC
    )
    bn, cn = tree.by_sha[b], tree.by_sha[c]
    assert (bn.verdict, bn.dead_end, bn.reverted_by) == (Verdict.DISCARDED, True, r)
    assert cn.parents == (a,) and cn.reference == a and cn.folded == {a: 1}  # the revert is folded
    assert cn.verdict is Verdict.BETTER and tree.best == c
    assert [n.sha for n in tree.nodes] == [a, b, c]  # the dead end hangs off a, drawn before the line goes on


def test_head_at_the_revert_of_an_experiment_is_marked_on_the_line_it_went_back_to() -> None:
    """keep, discard, revert with HEAD on the revert: the code is the kept one's, and the next
    experiment will hang there, so that is where ``← HEAD`` goes (it was on the discarded try). An
    ordinary commit on top of a dead end that is no revert of it stays at the dead end's code."""
    a, b, r = sha40("a"), sha40("b"), sha40("1")
    commits = [exp(a, acc=0.5), exp(b, (a,), 1, acc=0.4), revert(r, b, b, 2)]
    tree = build_tree(commits, config=ACC, head=r)
    assert tree.head == a and tree.by_sha[a].head and not tree.by_sha[b].head
    assert build_tree(commits, config=ACC, head=b).head == b  # checked out at the try itself
    reapplied = sha40("2")
    again = build_tree([*commits, revert(reapplied, r, r, 3)], config=ACC, head=reapplied)
    assert again.head == b and not again.by_sha[b].dead_end
    other = sha40("3")  # on top of an abandoned try, not a revert of it
    abandoned = [exp(a, acc=0.5), exp(b, (a,), 1, acc=0.4, status="abandoned"), plain(other, (b,), 2)]
    assert build_tree(abandoned, config=ACC, head=other).head == b


def test_only_a_revert_right_after_its_experiment_takes_it_back_and_a_reapply_puts_it_back() -> None:
    a, b, c, r, d = sha40("a"), sha40("b"), sha40("c"), sha40("1"), sha40("d")
    # b was built on before it was reverted: what came after it keeps it
    older = build_tree(
        [exp(a, acc=0.5), exp(b, (a,), 1, acc=0.6), exp(c, (b,), 2, acc=0.7), revert(r, c, b, 3)], config=ACC
    )
    assert not older.by_sha[b].dead_end
    # a revert of the revert ("Reapply") puts b back on the line
    again = sha40("2")
    tree = build_tree(
        [
            exp(a, acc=0.5),
            exp(b, (a,), 1, acc=0.6),
            revert(r, b, b, 2),
            revert(again, r, r, 3),
            exp(d, (again,), 4, acc=0.7),
        ],
        config=ACC,
    )
    assert not tree.by_sha[b].dead_end and tree.by_sha[d].parents == (b,)


def test_merge_is_compared_with_its_best_parent() -> None:
    commits = [
        exp("a", acc=0.5),
        exp("b", ("a",), 1, acc=0.6),
        exp("c", ("a",), 2, acc=0.7),
        exp("m", ("b", "c"), 3, acc=0.72),
    ]
    tree = build_tree(commits, config=ACC)
    m = tree.by_sha["m"]
    assert set(m.parents) == {"b", "c"}
    assert m.reference == "c"
    assert m.verdict is Verdict.BETTER
    assert [n.sha for n in tree.nodes][-1] == "m"  # drawn after both parents


def test_octopus_merge_through_ordinary_commits() -> None:
    commits = [
        exp("a", acc=0.5),
        exp("b", ("a",), 1, acc=0.6),
        exp("c", ("a",), 2, acc=0.4),
        plain("x", ("a",), 3),
        exp("d", ("x",), 4, acc=0.55),
        plain("o", ("b", "c", "d"), 5),
        exp("m", ("o",), 6, acc=0.61),
    ]
    tree = build_tree(commits, config=ACC)
    m = tree.by_sha["m"]
    assert set(m.parents) == {"b", "c", "d"}
    assert m.folded == {"b": 1, "c": 1, "d": 1}
    assert m.reference == "b"


def test_redundant_parent_that_is_an_ancestor_of_another_is_dropped() -> None:
    commits = [
        exp("a", acc=0.5),
        exp("b", ("a",), 1, acc=0.6),
        plain("x", ("a",), 2),
        plain("o", ("b", "x"), 3),
        exp("m", ("o",), 4, acc=0.61),
    ]
    tree = build_tree(commits, config=ACC)
    assert tree.by_sha["m"].parents == ("b",)


def test_several_roots_form_a_forest_oldest_first() -> None:
    tree = build_tree(
        [exp("r2", (), 5, acc=0.3), exp("r1", (), 1, acc=0.2), exp("k", ("r1",), 6, acc=0.25)], config=ACC
    )
    assert [n.sha for n in tree.roots] == ["r1", "r2"]
    assert [n.sha for n in tree.nodes] == ["r1", "k", "r2"]


def test_shallow_boundary_is_a_cut_not_a_crash() -> None:
    commits = [plain("s", (), shallow=True), exp("a", ("s",), 1, acc=0.5), exp("b", ("a",), 2, acc=0.6)]
    tree = build_tree(commits, config=ACC)
    assert tree.by_sha["a"].cut
    assert not tree.by_sha["b"].cut


def test_missing_parent_object_is_a_cut() -> None:
    tree = build_tree([exp("a", ("gone",), 1, acc=0.5)], config=ACC)
    assert tree.by_sha["a"].cut and tree.by_sha["a"].parents == ()


def test_nan_is_worse_than_a_number_and_never_best() -> None:
    tree = build_tree(
        [exp("a", acc=0.5), exp("b", ("a",), 1, acc="nan"), exp("c", ("b",), 2, acc=0.4)], config=ACC
    )
    assert tree.by_sha["b"].verdict is Verdict.WORSE
    assert tree.by_sha["c"].verdict is Verdict.BETTER
    assert tree.best == "a"


def test_an_infinite_reference_or_value_is_never_negligible() -> None:
    """After inf, -inf is worse and 0.5 is worse; after -inf, 0.5 is better (with the tolerance for
    binary rounding, whose unit in the last place of inf is inf, these were all "negligible")."""
    tree = build_tree(
        [
            exp("top", acc=float("inf")),
            exp("down", ("top",), 1, acc=float("-inf")),
            exp("half", ("top",), 2, acc=0.5),
            exp("up", ("down",), 3, acc=0.5),
        ],
        config=ACC,
    )
    verdicts = {sha: tree.by_sha[sha].verdict for sha in ("down", "half", "up")}
    assert verdicts == {"down": Verdict.WORSE, "half": Verdict.WORSE, "up": Verdict.BETTER}


def test_samples_of_both_infinities_have_no_mean_and_do_not_crash() -> None:
    # Regression: math.fsum raises on +inf and -inf together, and every view failed with a traceback.
    tree = build_tree([exp("a", acc=0.5), exp("b", ("a",), 1, acc=("inf", "-inf"))], config=ACC)
    b = tree.by_sha["b"].metrics["acc"]
    assert math.isnan(b.mean) and b.std is not None and math.isnan(b.std)
    assert tree.by_sha["b"].verdict is Verdict.WORSE and tree.best == "a"


def test_huge_samples_summarise_without_overflow() -> None:
    # Regression (found by the node-writer property test): fsum of two samples of 1e308, and the
    # squares of samples 1e154 apart, overflowed, and every view failed with a traceback.
    tree = build_tree(
        [
            exp("a", acc=0.5),
            exp("b", ("a",), 1, acc=("1e308", "1e308")),
            exp("c", ("a",), 2, acc=("0", "2e154")),
        ],
        config=ACC,
    )
    b, c = tree.by_sha["b"].metrics["acc"], tree.by_sha["c"].metrics["acc"]
    assert b.mean == 1e308 and b.std == 0.0
    assert c.mean == 1e154 and c.std is not None and math.isclose(c.std, math.sqrt(2) * 1e154)
    far = MetricSummary((1.7e308, -1.7e308, 1.7e308))
    assert math.isfinite(far.mean) and far.std == math.inf
    assert tree.best == "b"


def test_best_ties_go_to_the_earliest_and_path_follows_references() -> None:
    tree = build_tree(
        [exp("a", acc=0.5), exp("b", ("a",), 1, acc=0.8), exp("c", ("b",), 2, acc=0.8)], config=ACC
    )
    assert tree.best == "b"
    assert [n.sha for n in tree.path_to("c")] == ["a", "b", "c"]
    assert [n.sha for n in tree.nodes if n.on_best_path] == ["a", "b"]


def test_primary_metric_defaults_to_the_most_common_one() -> None:
    tree = build_tree([exp("a", acc=0.5, loss=1.0), exp("b", ("a",), 1, acc=0.6)])
    assert tree.metric is not None and tree.metric.name == "acc"


def test_metric_missing_on_the_parent_gives_a_baseline() -> None:
    tree = build_tree([exp("a", loss=1.0), exp("b", ("a",), 1, acc=0.6)], metric="acc")
    assert tree.by_sha["b"].verdict is Verdict.BASELINE
    assert tree.by_sha["b"].delta is None


def test_head_on_an_ordinary_commit_marks_the_experiment_below() -> None:
    tree = build_tree([exp("a", acc=0.5), plain("x", ("a",), 1)], config=ACC, head="x")
    assert tree.head == "a" and tree.by_sha["a"].head


def test_deep_linear_history_does_not_recurse() -> None:
    commits = [exp("c0", acc=0.0)]
    for i in range(1, 5000):
        commits.append(plain(f"c{i}", (f"c{i - 1}",), i) if i % 2 else exp(f"c{i}", (f"c{i - 1}",), i, acc=i))
    tree = build_tree(commits, config=ACC)
    assert len(tree.nodes) == 2500
    assert tree.by_sha["c4998"].parents == ("c4996",)


def test_big_trees_stream_without_a_dry_run_of_the_layout(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gittree.render import text

    commits = [exp("c0", acc=0.0)] + [exp(f"c{i}", (f"c{i // 2}",), i, acc=i) for i in range(1, 40)]
    tree = build_tree(commits, config=ACC)
    monkeypatch.setattr(text, "ALIGN_WHOLE_TREE_UP_TO", 10)

    def no_dry_run(tree: object) -> int:
        raise AssertionError("a big tree must not be laid out before its first row")

    monkeypatch.setattr(text, "_widest", no_dry_run)
    rows = text.render_text(tree, text.TextStyle(width=120))
    assert next(rows).startswith("research tree")
    first = next(rows)
    assert first.startswith("● ") and "c0" in first
    lines = list(rows)
    assert len([line for line in lines if "better" in line]) == 39
    # text after the lanes never moves left once the drawing has widened
    starts = [line.index(" c") for line in lines if " c" in line and "better" in line]
    assert starts == sorted(starts)


def test_a_many_parent_merge_on_a_deep_line_keeps_every_idea_and_drops_what_is_below(tmp_path: Path) -> None:
    """The benchmark's deep shape (benchmarks/generate.py): the merge keeps the line's top and every side
    branch, and drops the older commit of the line it also names. (Regression for speed as well: the
    check of a merge's parents walked the whole line below each parent, 55 s for 40 parents on a 50k
    line; benchmarks/RESULTS.md has the row.)"""
    from benchmarks.generate import generate_deep
    from gittree import gitio
    from gittree.read import Selection, load_tree

    repo = generate_deep(tmp_path / "deep", 300, 6)
    tree = load_tree(gitio.open_repo(repo), Selection(all_refs=True))
    (merge,) = [node for node in tree.nodes if len(node.parents) > 1]
    subjects = [tree.by_sha[parent].subject for parent in merge.parents]
    assert sorted(subjects) == sorted(["step 300"] + [f"side idea {i}" for i in range(6)])
    assert len(tree.nodes) == 300 + 6 + 1


def test_head_on_an_ordinary_merge_is_the_experiment_a_new_one_there_would_follow() -> None:
    # The merge reaches x in one step and y (which builds on x) in three. An experiment made at the
    # merge would follow y alone (x is already behind y), so that is where HEAD is marked.
    tree = build_tree(
        [
            exp("x", acc=0.5),
            exp("y", ("x",), 1, acc=0.6),
            plain("o1", ("y",), 2),
            plain("o2", ("o1",), 3),
            plain("merge", ("x", "o2"), 4),
            exp("next", ("merge",), 5, acc=0.7),
        ],
        config=ACC,
        head="merge",
    )
    assert tree.head == "y"
    assert tree.by_sha["next"].parents == ("y",) and tree.by_sha["next"].folded == {"y": 3}


def test_a_main_line_merging_many_branches_keeps_one_experiment_per_commit() -> None:
    """Regression (9 s and 1.2 GB for 3,000 merged branches): each ordinary commit of a main line that
    merges branch after branch carried every experiment ever merged. The tree is the same."""
    commits = [plain("init")]
    main = "init"
    for i in range(200):
        commits.append(exp(f"b{i}", (main,), acc=0.5 + i / 1000))
        commits.append(plain(f"work{i}", (main,)))
        commits.append(plain(f"merge{i}", (f"work{i}", f"b{i}")))
        main = f"merge{i}"
    commits.append(exp("top", (main,), acc=0.9))
    tree = build_tree(commits, config=ACC, head="top")
    assert tree.by_sha["top"].parents == ("b199",) and tree.by_sha["top"].folded == {"b199": 1}
    assert [tree.by_sha[f"b{i}"].parents for i in (0, 1, 150)] == [(), ("b0",), ("b149",)]


def test_a_sweep_hangs_its_leaves_off_the_baseline_lane() -> None:
    """A sweep of runs off one experiment: one row each, a few cells wide (it was one open lane per
    run on every row: 2,000 cells wide for a thousand runs, 75 MB of text for 5,000). They are
    alternatives: the last hangs too, and the lane ends there (drawn in the baseline's column, the
    best run read as the step after all the others)."""
    runs = [exp(f"run{i:03d}", ("base",), i + 1, acc=0.5 + i / 10000) for i in range(300)]
    tree = build_tree([exp("base", acc=0.4), *runs], config=ACC)
    from gittree.render import text

    lines = list(text.render_text(tree, text.TextStyle(width=100, colour=False)))
    assert lines[1].startswith("●   base ")
    assert [line[:10] for line in lines[2:301]] == [f"├─● run{i:03d}" for i in range(299)]
    assert lines[301].startswith("└─★ run299 ")
    assert max(len(line) for line in lines) <= 100


def _drawn(commits: list[CommitRecord], head: str | None = None) -> list[str]:
    from gittree.render import text

    tree = build_tree(commits, config=ACC, head=head)
    return [line[:5] for line in text.render_text(tree, text.TextStyle(width=100, colour=False))][1:]


def test_when_no_child_goes_on_the_lane_ends_but_a_line_going_on_keeps_its_column() -> None:
    base = exp("base", acc=0.5)
    a, b, c = (
        exp("a", ("base",), 1, acc=0.6),
        exp("b", ("base",), 2, acc=0.7),
        exp("c", ("base",), 3, acc=0.55),
    )
    # three live leaves: alternatives, none drawn as the step after the others
    assert _drawn([base, a, b, c]) == ["●   b", "├─● a", "├─★ b", "└─● c"]
    # HEAD on the last one: the line goes on there
    assert _drawn([base, a, b, c], head="c") == ["●   b", "├─● a", "├─★ b", "●   c"]
    # a kept try beside its discarded ones: the kept one continues the line
    lost = exp("lost", ("base",), 1, acc=0.4, status="abandoned")
    assert _drawn([base, lost, exp("kept", ("base",), 2, acc=0.6)]) == ["●   b", "├─✗ l", "★   k"]
    # a child with children of its own is the line going on
    d = exp("d", ("c",), 4, acc=0.8)
    assert _drawn([base, a, b, c, d]) == ["●   b", "├─● a", "├─● b", "●   c", "★   d"]
    # a try taken back is no step of the line: below the best it hangs, alone or after a live one
    assert _drawn([base, lost]) == ["★   b", "└─✗ l"]
    late = exp("late", ("base",), 3, acc=0.4, status="failed")
    assert _drawn([base, a, late]) == ["●   b", "├─★ a", "└─✗ l"]
    assert _drawn([base, lost], head="lost") == ["★ bas", "✗ los"]  # HEAD is there: its line
    # a line of single children stays in its column down to the alternatives at its end
    rows = _drawn(
        [
            base,
            exp("x", ("base",), 1, acc=0.6),
            exp("y", ("x",), 2, acc=0.65),
            *(exp(f"s{i}", ("y",), 3 + i, acc=0.7 + i / 100) for i in range(3)),
        ]
    )
    assert rows == ["●   b", "●   x", "●   y", "├─● s", "├─● s", "└─★ s"]


def test_a_side_branch_hangs_off_its_parent_lane_crossing_the_lanes_between() -> None:
    # p's side children, smallest subtree first: b (whose b2 waits in a lane for the crossover m),
    # then e, which crosses b2's lane to hang off p's; c continues p's line.
    commits = [exp("p", acc=0.5), exp("b", ("p",), 1, acc=0.52), exp("b2", ("b",), 2, acc=0.53)]
    commits += [exp(f"e{i}", ("p",) if i == 1 else (f"e{i - 1}",), 3, acc=0.5) for i in range(1, 5)]
    commits += [exp(f"c{i}", ("p",) if i == 1 else (f"c{i - 1}",), 4, acc=0.5 + i / 100) for i in range(1, 6)]
    tree = build_tree([*commits, exp("m", ("b2", "c5"), 5, acc=0.6)], config=ACC)
    from gittree.render import text

    lines = list(text.render_text(tree, text.TextStyle(width=100, colour=False)))
    assert [line[:8] for line in lines[1:15]] == [
        "●     p ",
        "├─●   b ",
        "│ ●   b2",
        "├─┼─● e1",
        "│ │ ● e2",
        "│ │ ● e3",
        "│ │ ● e4",
        "● │   c1",
        "● │   c2",
        "● │   c3",
        "● │   c4",
        "● │   c5",
        "├─╯",
        "★     m ",
    ]


def test_a_leaf_with_folded_commits_keeps_its_lane_for_the_mark() -> None:
    tree = build_tree(
        [
            exp("p", acc=0.5),
            plain("o", ("p",), 1),
            exp("a", ("o",), 2, acc=0.51),
            exp("c", ("p",), 3, acc=0.6),
            exp("c2", ("c",), 4, acc=0.7),
        ],
        config=ACC,
    )
    from gittree.render import text

    lines = list(text.render_text(tree, text.TextStyle(width=100, colour=False)))
    assert [line[:8] for line in lines[1:6]] == ["●   p p ", "├─╮", "│ ┆ (+1 ", "│ ● a a ", "●   c c "]


def test_a_crossover_far_below_a_parent_names_it_instead_of_a_lane() -> None:
    """A lane from a parent drawn more than CROSSOVER_LANE_ROWS experiments above its crossover is not
    drawn: the crossover's row names that parent. (At 100k experiments such lanes, open beside each
    other across thousands of rows, made rows 1,450 cells wide; now 138.)"""
    from gittree.render import text

    commits = [
        exp("base", acc=0.5),
        exp("side", ("base",), 1, acc=0.51),
        exp("side2", ("side",), 2, acc=0.52),
    ]
    commits += [
        exp(f"m{i:02d}", ("base",) if i == 1 else (f"m{i - 1:02d}",), 3, acc=0.5 + i / 1000)
        for i in range(1, 61)
    ]
    tree = build_tree([*commits, exp("both", ("side2", "m60"), 4, acc=0.7)], config=ACC)
    assert text.far_parents(tree) == {"both": ("side2",)}
    style = text.TextStyle(width=100, colour=False)
    lines = list(text.render_text(tree, style))
    assert lines[2].startswith("├─● side ") and lines[3].startswith("│ ● side2 ")
    assert all(line.startswith("● ") for line in lines[4:-1])  # no lane runs beside the main line
    assert lines[-1].startswith("★   both ") and lines[-1].endswith("⊕ also side2")
    assert text.FAR_NOTE in text.legend(tree, style)
    near = build_tree([*commits[:10], exp("both", ("side2", "m07"), 4, acc=0.7)], config=ACC)
    assert text.far_parents(near) == {} and text.FAR_NOTE not in text.legend(near, style)
    # The whole view (show's text): the same rows, a blank line, the legend with its far note.
    assert list(text.render_view(tree, style)) == [*lines, "", *text.legend(tree, style).split("\n")]
    assert text.FAR_NOTE not in "\n".join(text.render_view(near, style))


# -- dead ends beside the line, and the reference of a delta (issues 16 and 17) ------------------------


def test_the_fix_after_a_crash_is_judged_against_the_result_before_it() -> None:
    tree = build_tree(
        [
            exp("a", acc=0.50),
            exp("crash", ("a",), 1, status="failed"),
            exp("fix", ("crash",), 2, acc=0.60),
        ],
        config=ACC,
    )
    fix = tree.by_sha["fix"]
    assert fix.parents == ("a",) and fix.reference == "a"
    assert fix.verdict is Verdict.BETTER and fix.delta is not None and round(fix.delta, 9) == 0.1
    assert tree.by_sha["a"].children == ["crash", "fix"]  # the crash is a side leaf, the fix goes on


def test_an_experiment_without_the_metric_is_passed_for_the_one_below_it() -> None:
    tree = build_tree(
        [exp("a", acc=0.50), exp("b", ("a",), 1, loss=0.3), exp("c", ("b",), 2, acc=0.52)], config=ACC
    )
    c = tree.by_sha["c"]
    assert c.parents == ("b",) and c.reference == "a" and c.verdict is Verdict.BETTER


def test_a_discarded_experiment_on_the_main_line_is_a_side_leaf_of_the_kept_line() -> None:
    tree = build_tree(
        [
            exp("a", acc=0.50),
            exp("x", ("a",), 1, acc=0.70, status="abandoned"),
            plain("revert", ("x",), 2),
            exp("y", ("revert",), 3, acc=0.40, status="abandoned"),
            exp("k", ("y",), 4, acc=0.55),
        ],
        config=ACC,
    )
    k, y = tree.by_sha["k"], tree.by_sha["y"]
    assert k.parents == ("a",) and k.reference == "a" and k.folded == {"a": 1}
    assert y.parents == ("a",) and y.folded == {"a": 1}
    assert [node.sha for node in tree.path_to("k")] == ["a", "k"]
    assert tree.best == "k"


def test_a_dead_root_keeps_its_children() -> None:
    tree = build_tree([exp("x", acc=0.5, status="failed"), exp("k", ("x",), 1, acc=0.6)], config=ACC)
    assert tree.by_sha["k"].parents == ("x",) and tree.by_sha["k"].verdict is Verdict.BASELINE


def test_of_metrics_recorded_equally_often_the_held_out_one_is_judged() -> None:
    """DVCLive and most scripts record a training and a held-out value of each step: by name alone,
    ``train/loss`` came before ``val/acc`` and the tree judged how well the model fit its training data."""
    from gittree.tree import held_out_rank

    commits = [
        CommitRecord("a", (), "base\n\nGittree-Metric: train/loss=0.5\nGittree-Metric: val/acc=0.7\n"),
        CommitRecord("b", ("a",), "longer\n\nGittree-Metric: train/loss=0.2\nGittree-Metric: val/acc=0.6\n"),
    ]
    tree = build_tree(commits)
    assert tree.metric is not None and tree.metric.name == "val/acc"
    assert tree.metric_names == ("val/acc", "train/loss")
    assert [held_out_rank(name) for name in ("eval_loss", "testAcc", "acc", "lr", "train.loss")] == [
        0,
        0,
        1,
        1,
        2,
    ]
    # A metric more experiments record still comes first, whatever it measures.
    commits.append(CommitRecord("c", ("b",), "c\n\nGittree-Metric: train/loss=0.1\n"))
    assert build_tree(commits).metric_names[0] == "train/loss"
