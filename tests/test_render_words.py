"""The one wording of verdicts (gittree/render/words.py), and every view using it.

The rule for ``¹`` is that a verdict compared numbers with one run on each side; a dead end,
a baseline or no verdict never carries it. The views are checked to say the same: the terminal
tree, the table, ``best``, the Markdown export and the DOT marks.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.config import Config, MetricConfig
from gittree.model import CommitRecord, Goal, MetricSpec, Verdict
from gittree.render.numbers import column_places, format_delta
from gittree.render.words import (
    FOOTNOTE,
    NO_REASON,
    SURPRISE_NOTE,
    band_line,
    band_text,
    dead_end_line,
    dead_end_reason,
    delta_text,
    flags_text,
    footnotes,
    metric_text,
    verdict_text,
    verdict_word,
)
from gittree.tree import build_tree
from tests.conftest import GitRepo

ACC = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.01)})


def record(sha: str, parents: tuple[str, ...], t: int, *lines: str) -> CommitRecord:
    return CommitRecord(sha, parents, f"{sha}\n\n" + "\n".join(lines) + "\n", author_time=t)


def test_the_single_run_mark_goes_on_compared_verdicts_only() -> None:
    assert verdict_word(Verdict.BETTER, True) == "better¹"
    assert verdict_word(Verdict.NEGLIGIBLE, True) == "negligible¹"
    assert verdict_word(Verdict.WORSE, True) == "worse¹"
    assert verdict_word(Verdict.BETTER, False) == "better"
    for verdict in (Verdict.BASELINE, Verdict.ABANDONED, Verdict.FAILED):
        assert verdict_word(verdict, True) == verdict.value
    assert verdict_word(None, True) == ""


def test_an_experiments_words_come_from_its_tree() -> None:
    tree = build_tree(
        [
            record("a", (), 0, "Gittree-Metric: acc=0.5"),
            record("b", ("a",), 1, "Gittree-Metric: acc=0.6"),
            record("c", ("a",), 2, "Gittree-Metric: acc=0.61", "Gittree-Metric: acc=0.63"),
            record("d", ("a",), 3, "Gittree-Status: abandoned", "Gittree-Note: slow", "Gittree-Note: OOM"),
        ],
        config=ACC,
    )
    b, c, d = tree.by_sha["b"], tree.by_sha["c"], tree.by_sha["d"]
    assert (delta_text(tree, b), verdict_text(b)) == ("+0.1000", "better¹")
    assert verdict_text(c) == "better"  # c's two seeds give the noise estimate for both sides
    assert verdict_text(tree.by_sha["a"]) == "baseline" and delta_text(tree, tree.by_sha["a"]) == ""
    assert (dead_end_reason(d), dead_end_line(d)) == ("slow; OOM", "✗ abandoned: slow; OOM")
    assert footnotes(tree.nodes) == [FOOTNOTE]
    assert footnotes([tree.by_sha["a"], d]) == []
    assert flags_text(tree.by_sha[tree.best or ""]) == "★ best" and flags_text(None) == ""
    assert (
        metric_text(tree.metric)
        == "acc (max, negligible within 0.01, or 2 standard errors where seeds exist if larger)"
    )
    assert metric_text(None) == "no metric recorded"


def test_the_band_says_the_seeds_noise_decides_where_seeds_exist() -> None:
    """The header and legends name the band the verdicts used (docs/tree.md, "The negligible band"):
    the seeds' noise where there are seeds, a configured threshold as a floor under it, else the default."""
    default = MetricSpec("loss", Goal.MIN)
    assert band_line(default) == "negligible: within 0.1% of parent, or 2 standard errors where seeds exist"
    assert band_text(replace(default, threshold=0.003, noise_sigmas=1)) == (
        "within 0.003, or 1 standard error where seeds exist if larger"
    )
    assert band_text(replace(default, noise_sigmas=0)) == "within 0.1% of parent"
    assert band_text(replace(default, relative_threshold=0.005, noise_sigmas=2.5)) == (
        "within 0.5% of parent, or 2.5 standard errors where seeds exist"
    )


def test_a_dead_end_without_notes_says_so() -> None:
    tree = build_tree(
        [record("a", (), 0, "Gittree-Metric: acc=0.5"), record("f", ("a",), 1, "Gittree-Status: failed")],
        config=ACC,
    )
    assert dead_end_line(tree.by_sha["f"]) == f"✗ failed: {NO_REASON}"


def test_every_view_words_a_single_run_verdict_the_same(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    lr = repo.experiment("lower lr", metrics=[("acc", 0.6)])
    show = gittree("show", "--color", "never").out
    row = next(line for line in show.splitlines() if lr[:7] in line)
    assert row.split()[-4:] == ["+0.1000", "better¹", "←", "HEAD"]
    assert FOOTNOTE in show
    table = gittree("table", "--format", "plain").out
    assert "better¹" in next(line for line in table.splitlines() if lr[:7] in line)
    best = gittree("best").out
    assert "better¹" in best and FOOTNOTE in best
    markdown = gittree("export", "--format", "markdown").out
    assert "(better¹)" in markdown and FOOTNOTE in markdown
    assert "+0.1000 better¹" in gittree("render", "--format", "dot").out
    data = json.loads(gittree("show", "--json").out)
    assert [node["single_run"] for node in data["nodes"]] == [False, True]  # a baseline compares nothing
    assert base[:7] in show and SURPRISE_NOTE not in show


def test_the_decimals_of_a_column_come_from_the_spread_of_its_deltas() -> None:
    near_one = [(-0.000031, 0.9979), (0.0005, 0.99), (-0.0012, 0.98)]
    assert column_places(near_one) == 6  # three deltas: the smallest gets two significant digits
    many = [(0.0008, 0.79)] + [(0.01 + i / 1000, 0.8) for i in range(9)]
    assert column_places(many) == 4  # of ten, the second smallest sets it; the smallest still reads 0.0008
    assert column_places([(0.12, 0.5), (0.01, 12.35)]) == 4  # never fewer than the values' precision
    assert column_places([(1e-12, 1.0), (0.1, 1.0)]) == 3  # binary rounding is no delta: 1.000 has 3
    assert column_places([(1e-7, 1.0), (0.1, 1.0)]) == 8  # at most eight decimals
    assert column_places([(0.5, 1e-20)]) is None and column_places([]) is None
    assert format_delta(1e-7, 1.0, 4) == "+0.00000010"  # too small for the column: its own two digits
    assert format_delta(-0.0027, 0.9954, 5) == "-0.00270" and format_delta(0.0, 0.9954, 5) == "±0"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-1.0, max_value=1.0, allow_nan=False).filter(lambda d: abs(d) > 1e-7),
            st.floats(min_value=0.5, max_value=50.0),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_a_column_of_deltas_has_one_number_of_decimals_and_no_change_reads_as_zero(
    pairs: list[tuple[float, float]],
) -> None:
    places = column_places(pairs)
    assert places is not None and places <= 8
    texts = [format_delta(delta, reference, places) for delta, reference in pairs]
    for (delta, _), text in zip(pairs, texts, strict=True):
        assert text.lstrip("+-").strip("0.") != ""  # a real change never reads as zero
        assert float(text) == pytest.approx(delta, abs=10.0**-places)
        if (
            abs(delta) >= 10.0**-places
        ):  # written at the column's decimals (a smaller one: two digits of its own)
            assert len(text.split(".")[1]) == places


def _column_places_pair_by_pair(deltas: list[tuple[float, float]]) -> int | None:
    """column_places's rule, one pair at a time (as it was written before it was made of comprehensions)."""
    from gittree.render.numbers import MAX_DELTA_PLACES, SMALL_DELTAS_QUANTILE, decimals_for, is_plain

    places: int | None = None
    sizes: list[float] = []
    for delta, reference in deltas:
        if not is_plain(reference):
            continue
        places = max(places or 0, decimals_for(reference))
        size = abs(delta)
        if math.isfinite(size) and size > 1e-9 * abs(reference):
            sizes.append(size)
    if places is None or not sizes:
        return places
    sizes.sort()
    small = sizes[int(SMALL_DELTAS_QUANTILE * len(sizes))]
    needed = max(decimals_for(small) - 2, -math.floor(math.log10(sizes[0])))
    return min(max(places, needed), max(places, MAX_DELTA_PLACES))


_ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)
_NEAR = st.floats(min_value=-2e6, max_value=2e6) | st.sampled_from([0.0, -0.0, 1e-3, 9.99e-4, 1e6, -1e6, 0.5])


@settings(max_examples=300)
@given(st.lists(st.tuples(_ANY_FLOAT | _NEAR, _ANY_FLOAT | _NEAR), max_size=30))
def test_column_places_is_its_rule_pair_by_pair(deltas: list[tuple[float, float]]) -> None:
    assert column_places(deltas) == _column_places_pair_by_pair(deltas)
