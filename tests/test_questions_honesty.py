"""Keeping the researcher honest: noise, surprise, dirty code and single runs, shown in every view."""

from __future__ import annotations

import json

import pytest

from gittree.config import Config, MetricConfig, parse_config
from gittree.errors import ConfigError
from gittree.model import CommitRecord, Goal, Verdict
from gittree.tree import build_tree
from tests.conftest import GitRepo

ACC = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.0)})


def chain(*values: float | str, run: dict[int, str] | None = None) -> list[CommitRecord]:
    """A straight line of experiments with one acc value each (``run`` adds run facts by index)."""
    commits = []
    for i, value in enumerate(values):
        lines = [f"Gittree-Metric: acc={value}"]
        lines += [f"Gittree-Run: {fact}" for fact in ([(run or {})[i]] if i in (run or {}) else [])]
        parents = (f"e{i - 1}",) if i else ()
        commits.append(
            CommitRecord(f"e{i}", parents, f"step {i}\n\n" + "\n".join(lines) + "\n", author_time=i)
        )
    return commits


# Steps of about 0.01, then one jump of 0.3: thirty times the usual step.
STEADY_THEN_JUMP = (0.50, 0.51, 0.52, 0.515, 0.525, 0.535, 0.835)


def surprising_history(repo: GitRepo) -> str:
    for i, value in enumerate(STEADY_THEN_JUMP[:-1]):
        repo.experiment(f"step {i}", metrics=[("acc", value)])
    return repo.experiment("too good to be true", metrics=[("acc", STEADY_THEN_JUMP[-1])])


# -- surprise: the rule -----------------------------------------------------------------------------


def test_a_jump_far_outside_the_usual_steps_is_a_surprise() -> None:
    tree = build_tree(chain(*STEADY_THEN_JUMP), config=ACC)
    assert tree.typical_delta == pytest.approx(0.01)
    assert [n.sha for n in tree.nodes if n.surprise] == ["e6"]
    assert tree.by_sha["e6"].verdict is Verdict.BETTER  # the verdict stands; the flag asks to check it


def test_too_few_deltas_know_no_usual_step() -> None:
    tree = build_tree(chain(0.5, 0.51, 0.52, 0.9), config=ACC)  # 3 deltas < surprise_min_deltas (5)
    assert tree.typical_delta is None and not any(n.surprise for n in tree.nodes)
    fewer = Config(metrics=ACC.metrics, surprise_min_deltas=3)
    assert build_tree(chain(0.5, 0.51, 0.52, 0.9), config=fewer).by_sha["e3"].surprise


def test_a_configured_bound_flags_whatever_the_tree_has_seen() -> None:
    bounded = Config(metrics={"acc": MetricConfig(goal=Goal.MAX, threshold=0.0, surprise_bound=0.05)})
    tree = build_tree(chain(0.5, 0.6), config=bounded)
    assert tree.by_sha["e1"].surprise
    assert not build_tree(chain(0.5, 0.54), config=bounded).by_sha["e1"].surprise


def test_surprise_factor_zero_turns_the_relative_rule_off() -> None:
    off = Config(metrics=ACC.metrics, surprise_factor=0)
    assert not any(n.surprise for n in build_tree(chain(*STEADY_THEN_JUMP), config=off).nodes)
    loose = Config(metrics=ACC.metrics, surprise_factor=40)
    assert not any(n.surprise for n in build_tree(chain(*STEADY_THEN_JUMP), config=loose).nodes)


def test_dead_ends_and_nan_are_never_surprises_and_do_not_skew_the_usual_step() -> None:
    commits = chain(*STEADY_THEN_JUMP[:-1], "nan")
    commits.append(
        CommitRecord(
            "dead", ("e5",), "x\n\nGittree-Metric: acc=0.01\nGittree-Status: failed\n", author_time=9
        )
    )
    tree = build_tree(commits, config=ACC)
    assert not any(n.surprise for n in tree.nodes)
    assert tree.typical_delta == pytest.approx(0.01)


def test_an_infinite_result_is_always_a_surprise() -> None:
    tree = build_tree(chain(0.5, "inf"), config=ACC)
    assert tree.by_sha["e1"].surprise


def test_a_zero_usual_step_gives_no_scale() -> None:
    # identical results are more likely a constant metric than a hair trigger for every change
    tree = build_tree(chain(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.51), config=ACC)
    assert tree.typical_delta == 0 and not any(n.surprise for n in tree.nodes)


# -- surprise and dirty code in every view ----------------------------------------------------------


def test_surprise_is_marked_verify_in_every_view(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = surprising_history(repo)
    short = sha[:7]
    show = gittree("show", "--color", "never").out
    line = next(line for line in show.splitlines() if short in line)
    assert "⚠ verify" in line and "⚠ verify: a delta far outside the usual steps" in show
    assert json.loads(gittree("show", "--json").out)["nodes"][-1]["surprise"] is True
    table = gittree("table").out
    assert "⚠ verify" in next(line for line in table.splitlines() if short in line)
    table_json = json.loads(gittree("table", "--json").out)
    assert [row["surprise"] for row in table_json["rows"]][-1] is True
    assert "surprise" in gittree("table", "-f", "csv").out.splitlines()[0]
    assert "⚠ verify" in gittree("best").out
    assert json.loads(gittree("best", "--json").out)["best"][0]["surprise"] is True
    assert "cumulative +0.3350 · ★ best · ⚠ verify" in gittree("path").out
    assert json.loads(gittree("path", "--json").out)["steps"][-1]["surprise"] is True
    markdown = gittree("export", "-f", "markdown").out
    assert "## To verify" in markdown and "surprising delta +0.3000 (the usual step is 0.01000)" in markdown
    exported = json.loads(gittree("export").out)
    assert exported["counts"]["surprises"] == 1
    assert exported["metric"]["typical_delta"] == pytest.approx(0.01)
    assert json.loads(gittree("diff", "HEAD~1", "HEAD", "--json").out)["b"]["surprise"] is True


def test_dirty_results_are_flagged_in_every_view(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    dirty = repo.commit("hack\n\nGittree-Metric: acc=0.6\nGittree-Run: dirty=true\n")
    short = dirty[:7]
    show = gittree("show", "--color", "never").out
    assert "dirty" in next(line for line in show.splitlines() if short in line)
    assert "dirty: recorded while the working tree differed from the commit" in show
    assert json.loads(gittree("show", "--json").out)["nodes"][-1]["dirty"] is True
    assert "dirty" in next(line for line in gittree("table").out.splitlines() if short in line)
    assert json.loads(gittree("table", "--json").out)["rows"][-1]["dirty"] is True
    assert "★ best · dirty" in gittree("best").out
    assert "★ best · dirty" in gittree("path").out
    assert "recorded against uncommitted code" in gittree("export", "-f", "markdown").out
    assert json.loads(gittree("export").out)["nodes"][-1]["dirty"] is True
    assert "dirty" in gittree("diff", "HEAD~1", "HEAD").out


def test_dirty_results_can_be_kept_from_winning(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    clean = repo.experiment("base", metrics=[("acc", 0.5)])
    repo.commit("hack\n\nGittree-Metric: acc=0.6\nGittree-Run: dirty=true\n")
    repo.write(".gittree.yaml", "dirty_can_be_best: false\n")
    data = json.loads(gittree("best", "--top", "5", "--json").out)
    assert [e["sha"] for e in data["best"]] == [clean] and data["left_out"]["dirty"] == 1
    assert json.loads(gittree("show", "--json").out)["best"] == clean


@pytest.mark.parametrize("value", ["true", "True", "yes", "1"])
def test_dirty_run_fact_spellings(value: str) -> None:
    tree = build_tree(chain(0.5, 0.6, run={1: f"dirty={value}"}), config=ACC)
    assert tree.by_sha["e1"].dirty and not tree.by_sha["e0"].dirty
    assert not build_tree(chain(0.5, 0.6, run={1: "dirty=false"}), config=ACC).by_sha["e1"].dirty


# -- noise and single runs --------------------------------------------------------------------------


def test_noise_rule_in_the_table_and_single_runs_marked(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("seeds", metrics=[("acc", 0.70), ("acc", 0.72), ("acc", 0.74)])
    inside = repo.experiment("inside the noise", metrics=[("acc", 0.73), ("acc", 0.75), ("acc", 0.71)])
    clear = repo.experiment("clear gain", metrics=[("acc", 0.80), ("acc", 0.81), ("acc", 0.82)])
    one = repo.experiment("one run", metrics=[("acc", 0.90)])
    repo.write(".gittree.yaml", "metrics:\n  acc:\n    threshold: 0\n")
    rows = {row["sha"]: row for row in json.loads(gittree("table", "--json").out)["rows"]}
    assert (rows[inside]["verdict"], rows[inside]["single_run"]) == ("negligible", False)
    assert (rows[clear]["verdict"], rows[clear]["single_run"]) == ("better", False)
    # one run against seeds: their spread stands for both sides, so there is a noise estimate
    assert (rows[one]["verdict"], rows[one]["single_run"]) == ("better", False)
    lone = repo.experiment("one run again", metrics=[("acc", 0.95)])
    rows = {row["sha"]: row for row in json.loads(gittree("table", "--json").out)["rows"]}
    assert (rows[lone]["verdict"], rows[lone]["single_run"]) == ("better", True)
    plain = gittree("table").out
    assert "better¹" in next(line for line in plain.splitlines() if lone[:7] in line)
    assert "better¹" not in next(line for line in plain.splitlines() if clear[:7] in line)
    # a looser noise rule swallows the clear gain too
    repo.write(".gittree.yaml", "noise_sigmas: 10\nmetrics:\n  acc:\n    threshold: 0\n")
    rows = {row["sha"]: row for row in json.loads(gittree("table", "--json").out)["rows"]}
    assert rows[clear]["verdict"] == "negligible"


# -- configuration ----------------------------------------------------------------------------------


def test_honesty_rules_have_defaults_that_work_untouched() -> None:
    config = parse_config("")
    assert (config.surprise_factor, config.surprise_min_deltas, config.dirty_can_be_best) == (10.0, 5, True)
    spec = config.spec("acc")
    assert spec.surprise_bound is None and spec.noise_sigmas == 2.0


def test_honesty_rules_are_read_from_the_file() -> None:
    config = parse_config(
        "surprise_factor: 6\nsurprise_min_deltas: 3\ndirty_can_be_best: false\n"
        "metrics:\n  acc:\n    surprise_bound: 0.05\n"
    )
    spec = config.spec("acc")
    assert (spec.surprise_factor, spec.surprise_min_deltas, spec.dirty_can_be_best) == (6.0, 3, False)
    assert spec.surprise_bound == 0.05


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("surprise_factor: -1\n", "'surprise_factor' must be a non-negative number"),
        ("surprise_factor: lots\n", "'surprise_factor' must be a non-negative number"),
        ("surprise_min_deltas: 0\n", "'surprise_min_deltas' must be a whole number of at least 1"),
        ("surprise_min_deltas: 2.5\n", "'surprise_min_deltas' must be a whole number"),
        ("dirty_can_be_best: maybe\n", "'dirty_can_be_best' must be true or false"),
        (
            "metrics:\n  acc:\n    surprise_bound: -0.1\n",
            "'metrics.acc.surprise_bound' must be a non-negative",
        ),
        ("metrics:\n  acc:\n    surprise: 1\n", "metrics.acc: unknown key(s) surprise"),
        ("suprise_factor: 3\n", "unknown key(s) suprise_factor"),
    ],
)
def test_bad_honesty_settings_are_errors(text: str, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert shown in caught.value.message


def test_bad_honesty_setting_exits_9(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.5)])
    repo.write(".gittree.yaml", "surprise_min_deltas: zero\n")
    result = gittree("best")
    assert result.code == 9 and "surprise_min_deltas" in result.err


def test_init_keeps_the_honesty_settings_it_finds(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.5)])
    repo.write(
        ".gittree.yaml",
        "surprise_factor: 7\ndirty_can_be_best: false\nmetrics:\n  acc:\n    surprise_bound: 0.2\n",
    )
    assert gittree("init", "--metric", "acc", "--threshold", "0.01").code == 0
    config = parse_config((repo.path / ".gittree.yaml").read_text())
    assert config.surprise_factor == 7 and not config.dirty_can_be_best
    assert config.metrics["acc"].surprise_bound == 0.2 and config.metrics["acc"].threshold == 0.01
