"""`gittree best`, `path` and `diff` on real repositories: the demo tree, merges, forests, ties and NaN."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.demo import build_demo
from gittree.render.dot import BEST_PATH_COLOUR
from tests.conftest import GitRepo, check_expected
from tests.gitenv import git_env_context
from tests.test_cli_show import small_history
from tests.test_render_html import data_of, page_of


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo research repository, built once for the module (tests only read it)."""
    home = tmp_path_factory.mktemp("demo-home")
    with git_env_context(home):
        yield build_demo(tmp_path_factory.mktemp("demo") / "repo")


def demo_nodes(gittree, demo: Path) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    data = json.loads(gittree("-C", str(demo), "show", "--all", "--json").out)
    return {n["subject"]: n for n in data["nodes"]}


# -- best -------------------------------------------------------------------------------------------


def test_best_on_the_demo_is_the_trees_star(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    shown = json.loads(gittree("-C", str(demo), "show", "--all", "--json").out)
    result = gittree("-C", str(demo), "best", "--all")
    assert result.code == 0, result.err
    first = result.out.splitlines()[2]
    assert first.split()[:2] == ["1", shown["best"][:7]]
    assert "★ best" in first and "weight decay wd=0.1" in first
    assert "27 of 31 experiments ranked (left out: 4 dead ends)" in result.out


def test_best_top_k_json_is_ranked_by_the_mean_of_repeated_runs(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("-C", str(demo), "best", "--all", "--top", "5", "--json").out)
    assert data["metric"] == "acc" and data["goal"] == "max"
    means = [entry["value"]["mean"] for entry in data["best"]]
    assert means == sorted(means, reverse=True) and len(means) == 5
    assert [entry["rank"] for entry in data["best"]] == [1, 2, 3, 4, 5]
    seeds = data["best"][1]  # gittree run --seeds 0,1,2
    assert seeds["subject"] == "random erasing (p=0.25)"
    assert seeds["value"]["samples"] == [0.8803, 0.8824, 0.8818] and seeds["value"]["n"] == 3
    assert data["left_out"] == {"dead_end": 4, "no_value": 0, "nan": 0, "dirty": 0}


def test_best_by_a_minimised_metric(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("-C", str(demo), "best", "--all", "--metric", "loss", "--json").out)
    assert data["goal"] == "min"
    # the failed run's loss is NaN and it is a dead end: it never wins, the lowest live loss does
    assert data["best"][0]["subject"] == "weight decay wd=0.1"
    assert data["best"][0]["value"]["mean"] == 0.417


def test_best_mean_of_runs_beats_a_lucky_single_seed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.experiment("lucky seeds", metrics=[("acc", 0.95), ("acc", 0.45)])  # mean 0.70
    steady = repo.experiment("steady", metrics=[("acc", 0.72)])
    data = json.loads(gittree("best", "--top", "3", "--json").out)
    assert data["best"][0]["sha"] == steady
    assert data["best"][1]["value"]["mean"] == pytest.approx(0.70)


def test_best_ties_share_a_rank_and_keep_drawing_order(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("base", metrics=[("acc", 0.5)])
    first = repo.experiment("first", metrics=[("acc", 0.8)])
    repo.branch("side", base)
    second = repo.experiment("second", metrics=[("acc", 0.8)])
    data = json.loads(gittree("best", "--all", "--top", "3", "--json").out)
    assert [(e["rank"], e["sha"]) for e in data["best"]] == [(1, first), (1, second), (3, base)]
    shown = json.loads(gittree("show", "--all", "--json").out)
    assert shown["best"] == first  # the tree's ★ agrees with rank 1
    top1 = gittree("best", "--all")
    assert json.loads(gittree("best", "--all", "--json").out)["ties_cut"] == 1
    assert "tied with the last one shown: 1 more experiment" in top1.out


def test_best_leaves_out_nan_and_dead_ends(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.experiment("diverged", metrics=[("acc", "nan")])
    repo.experiment("abandoned but high", metrics=[("acc", 0.99)], status="abandoned")
    repo.experiment("no number", notes=["just a note"])
    fine = repo.experiment("fine", metrics=[("acc", 0.6)])
    data = json.loads(gittree("best", "--top", "10", "--json").out)
    assert data["best"][0]["sha"] == fine
    assert data["ranked"] == 2
    assert data["left_out"] == {"dead_end": 1, "no_value": 1, "nan": 1, "dirty": 0}


def test_best_when_nothing_can_be_ranked_says_why(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("diverged", metrics=[("acc", "nan")])
    result = gittree("best")
    assert result.code == 0
    assert "no experiment can be ranked: 1 NaN" in result.out
    assert json.loads(gittree("best", "--json").out)["best"] == []


def test_best_without_any_metric_or_with_a_bad_top(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("only a status", status="ok")
    result = gittree("best")
    assert result.code == 6 and "no experiment in this history records a metric" in result.err
    repo.experiment("with a number", metrics=[("acc", 0.5)])
    assert gittree("best", "--top", "0").code == 6


def test_best_over_a_forest_and_a_crossover(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    repo.git("checkout", "-q", "--orphan", "other")
    other = repo.experiment("unrelated root", metrics=[("acc", 0.9)])
    data = json.loads(gittree("best", "--all", "--top", "2", "--json").out)
    assert [e["sha"] for e in data["best"]] == [other, shas["merge"]]
    assert data["best"][1]["verdict"] == "better"


# -- path -------------------------------------------------------------------------------------------


def test_path_to_the_best_reads_as_a_chain_of_ideas(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("-C", str(demo), "path")
    assert result.code == 0, result.err
    out = result.out
    assert out.startswith("path to ★ ")
    assert "acc (max): 0.3920 → 0.8851, +0.4931 over 15 steps" in out
    # ordinary commits folded between experiments are named, under the step they lead to
    folded = out.index("2 ordinary commits folded in:")
    assert out.index("refactor the data loader") > folded
    assert out.index("refactor the data loader") < out.index("AdamW with a cosine schedule")
    assert "1 ordinary commit folded in:" in out and "project skeleton" in out
    # the crossover is reached through its better parent, and its note is on the path
    assert "mixup 0.8" in out and "merges: " in out and "stochastic depth 0.1" in out
    assert "\n 7. " in out and out.index("mixup 0.8") < out.index("merges: ")
    assert "note: the two regularisers add up" in out
    assert "cumulative +0.4931 · ★ best" in out


def test_path_json_cumulative_gain_adds_up(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("-C", str(demo), "path", "--json").out)
    steps = data["steps"]
    assert steps[0]["delta"] is None and steps[0]["cumulative"] == 0
    total = sum(step["delta"] for step in steps[1:])
    assert steps[-1]["cumulative"] == pytest.approx(total) == pytest.approx(data["gain"])
    assert steps[-1]["sha"] == data["target"] and steps[-1]["best"]
    assert steps[0]["folded"]["count"] == 1
    assert steps[0]["folded"]["commits"][0]["subject"].startswith("project skeleton")
    adamw = next(step for step in steps if step["subject"].startswith("AdamW"))
    assert adamw["folded"]["count"] == 2 and adamw["params"] == {"optimizer": "adamw", "lr": "3e-4"}


def test_path_to_a_named_side_branch(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("-C", str(demo), "path", "exp/deeper", "--json").out)
    subjects = [step["subject"] for step in data["steps"]]
    assert subjects[-3:] == ["depth 8", "depth 12", "depth 16 with LayerScale"]
    assert data["steps"][-1]["delta"] == pytest.approx(-0.004)
    assert data["gain"] == pytest.approx(0.751 - 0.392)


def test_path_and_diff_mark_best_and_surprise_as_show_does(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: read from the named commits alone, an ancestor of the best was "★ best" and the
    conv stem's +0.22 (17 usual steps) was no surprise. Now the marks are show's."""
    shown = demo_nodes(gittree, demo)
    best = next(node for node in shown.values() if node["best"])
    stem = shown["conv stem + 4-layer transformer"]
    assert stem["surprise"] is True
    steps = json.loads(gittree("-C", str(demo), "path", "exp/deeper", "--json").out)["steps"]
    assert all(not step["best"] for step in steps)  # the best is not on this branch
    assert next(step for step in steps if step["sha"] == stem["sha"])["surprise"] is True
    depth8, depth12 = shown["depth 8"]["sha"], shown["depth 12"]["sha"]
    text = gittree("-C", str(demo), "diff", depth8, depth12).out
    assert "★ best" not in text
    diff = json.loads(
        gittree(
            "-C",
            str(demo),
            "diff",
            shown["baseline: linear probe on raw pixels"]["sha"],
            stem["sha"],
            "--json",
        ).out
    )
    assert diff["b"]["surprise"] is True
    assert best["sha"]


def test_path_to_a_root_ordinary_commit_is_not_an_experiment(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: naming the ordinary commit below the first experiment said "no experiments yet"
    (exit 5), read from that commit's history alone."""
    root = repo.commit("initial import")
    repo.experiment("base", metrics=[("acc", 0.5)])
    result = gittree("path", root)
    assert result.code == 1 and "is not an experiment" in result.err


def test_path_to_an_ordinary_commit_is_refused(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.commit("plain refactor")
    result = gittree("path", "HEAD")
    assert result.code == 1 and "is not an experiment" in result.err


def test_path_names_the_first_folded_commits_and_counts_the_rest(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    for i in range(8):
        repo.commit(f"chore {i}")
    repo.experiment("next", metrics=[("acc", 0.6)])
    out = gittree("path").out
    assert "8 ordinary commits folded in:" in out
    assert "chore 7" in out and "chore 3" in out and "chore 2" not in out
    assert "… and 3 more" in out


def test_path_through_a_merge_follows_the_best_parent(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    data = json.loads(gittree("path", "--json").out)
    assert [s["sha"] for s in data["steps"]] == [shas["base"], shas["lr"], shas["seed"], shas["merge"]]
    check_expected("path_small.txt", gittree("path").out)


def test_path_steps_through_an_experiment_without_the_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: an experiment with params only, between two measured ones, was skipped by the path and
    the best path (they jumped to the measured experiment below it, which is no edge) and named a
    crossover's "merges". It is a step with no value; the step above it is judged against the one below."""
    base = repo.experiment("baseline", metrics=[("acc", 0.70)])
    params = repo.experiment("params only", params=[("batch", "256")])
    best = repo.experiment("measured", metrics=[("acc", 0.75)])
    text = gittree("path").out
    assert "merges:" not in text and "off this path" not in text
    assert f"2. {params[:7]}  params only\n            acc — · baseline" in text
    assert f"acc 0.7500 · +0.0500 better¹ against {base[:7]} · cumulative +0.0500" in text
    data = json.loads(gittree("path", "--json").out)
    assert [step["sha"] for step in data["steps"]] == [base, params, best]
    assert [(step["delta"], step["reference"]) for step in data["steps"]][1:] == [
        (None, base),
        (pytest.approx(0.05), base),
    ]
    shown = json.loads(gittree("show", "--json").out)
    assert [node["on_best_path"] for node in shown["nodes"]] == [True, True, True]
    export = json.loads(gittree("export").out)
    assert export["best_path"] == [base, params, best] and export["counts"]["best_path"] == 3
    edges = {(edge["parent"], edge["child"]) for edge in export["edges"]}
    assert set(zip(export["best_path"], export["best_path"][1:], strict=False)) <= edges
    story = gittree("export", "--format", "markdown").out
    assert f"2. `{params[:7]}` params only: —\n" in story and "merges" not in story
    assert f"+0.0500 (better¹ against `{base[:7]}`)" in story
    links = [f"edge-{base}-{params}", f"edge-{params}-{best}"]
    dot = gittree("render", "--format", "dot").out
    for link in links:
        assert f'[id="{link}", color="{BEST_PATH_COLOUR}"' in dot
    assert data_of(page_of(gittree))["metrics"]["acc"]["best_edges"] == links


def test_path_through_a_crossover_takes_the_parent_its_reference_came_from(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """A crossover judged against the baseline, which its second parent (params only) grew from: the
    path takes that parent, not the first parent's line, which reaches the baseline too (past a worse
    experiment, the first line's own reference)."""
    base, worse, params, merged = repo.crossover_through_params_only()
    data = json.loads(gittree("path", "--json").out)
    assert [step["sha"] for step in data["steps"]] == [base, params, merged]
    assert data["steps"][2]["reference"] == base
    text = gittree("path").out
    assert f"merges: {worse[:7]} worse" in text and "merges: " + params[:7] not in text
    assert json.loads(gittree("export").out)["best_path"] == [base, params, merged]


def test_path_with_nothing_to_rank(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("diverged", metrics=[("acc", "nan")])
    result = gittree("path")
    assert result.code == 1 and "no best experiment" in result.err


# -- diff -------------------------------------------------------------------------------------------


def test_diff_side_by_side_with_params_notes_and_code(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("-C", str(demo), "diff", "exp/deeper~1", "exp/deeper")
    assert result.code == 0, result.err
    out = result.out
    nodes = demo_nodes(gittree, demo)
    a, b = nodes["depth 12"]["sha"][:7], nodes["depth 16 with LayerScale"]["sha"][:7]
    assert f"{b} grew from {a}" in out
    lines = out.splitlines()
    acc = next(line for line in lines if line.startswith("acc "))
    assert acc.split() == ["acc", "0.7550", "0.7510", "-0.0040", "worse¹"]
    loss = next(line for line in lines if line.startswith("loss "))
    assert loss.split()[-1] == "worse¹"  # loss is minimised: up is worse
    # each side set its depth itself (marked *), and says so in the legend
    assert next(line for line in lines if line.startswith("depth ")).split() == ["depth", "12*", "16*"]
    assert "* set by that experiment itself" in out
    assert "note: train loss lower, val worse: overfits" in out
    assert f"code: git diff --stat {a} {b}" in out and "model.py | 1 +" in out
    assert "+depth = 16" not in out


def test_diff_patch_and_json(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    patched = gittree("-C", str(demo), "diff", "--patch", "exp/deeper~1", "exp/deeper").out
    assert "+depth = 16; layerscale = 1e-5" in patched and "model.py | 1 +" in patched
    data = json.loads(gittree("-C", str(demo), "diff", "exp/deeper~1", "exp/deeper", "--json").out)
    assert data["relation"] == "a-before-b"
    assert [m["name"] for m in data["metrics"]] == ["acc", "loss"]
    assert data["metrics"][0]["delta"] == pytest.approx(-0.004)
    assert data["metrics"][0]["verdict"] == "worse" and data["metrics"][0]["single_run"]
    assert data["params"] == [{"name": "depth", "a": "12", "b": "16"}]
    assert data["code"]["patch"] is False and "model.py" in data["code"]["text"]


def test_diff_between_diverged_lines_and_with_repeated_runs(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    nodes = demo_nodes(gittree, demo)
    smooth, randaug = nodes["label smoothing 0.1"]["sha"], nodes["RandAugment (n=2, m=9)"]["sha"]
    data = json.loads(gittree("-C", str(demo), "diff", smooth, randaug, "--json").out)
    assert data["relation"] == "diverged"
    acc = data["metrics"][0]
    assert acc["verdict"] == "better" and not acc["single_run"]
    changed = {p["name"]: (p["a"], p["b"]) for p in data["params"]}
    assert changed == {"label_smoothing": ("0.1", None), "randaugment": (None, "2,9")}
    text = gittree("-C", str(demo), "diff", smooth, randaug).out
    assert "label_smoothing  0.1" in text and "randaugment      —          2,9" in text


def test_diff_marks_one_run_on_each_side_as_the_tree_does(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Three seeds against one run: the seeds' spread is the noise estimate, so no ``¹``, as in ``show``;
    diff marked it whenever either side had one run."""
    repo.experiment("seeded", metrics=[("acc", 0.860), ("acc", 0.855), ("acc", 0.862)])
    repo.experiment("single", metrics=[("acc", 0.864)])
    shown = {node["subject"]: node for node in json.loads(gittree("show", "--json").out)["nodes"]}
    assert shown["single"]["single_run"] is False
    for a, b in (("HEAD~1", "HEAD"), ("HEAD", "HEAD~1")):
        acc = json.loads(gittree("diff", a, b, "--json").out)["metrics"][0]
        assert acc["single_run"] is False and acc["verdict"] == "negligible"
        assert "¹" not in gittree("diff", a, b).out
    repo.experiment("single again", metrics=[("acc", 0.9)])
    acc = json.loads(gittree("diff", "HEAD~1", "HEAD", "--json").out)["metrics"][0]
    assert acc["single_run"] is True and "¹ one run on each side" in gittree("diff", "HEAD~1", "HEAD").out


def test_diff_with_an_ordinary_commit_still_shows_the_code(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("base", metrics=[("acc", 0.5)])
    plain = repo.commit("plain refactor", change="refactored")
    result = gittree("diff", base, plain)
    assert result.code == 0, result.err
    assert f"{plain[:7]} is not an experiment" in result.out
    assert "work.txt" in result.out
    assert f"{plain[:7]} grew from {base[:7]}" in result.out  # ancestry in the commit graph
    assert json.loads(gittree("diff", base, plain, "--json").out)["relation"] == "a-before-b"
    assert json.loads(gittree("diff", plain, base, "--json").out)["relation"] == "b-before-a"
    repo.git("checkout", "-q", "-b", "side", base)
    other = repo.commit("another plain commit", change="elsewhere")
    assert json.loads(gittree("diff", plain, other, "--json").out)["relation"] == "diverged"


def test_diff_shows_hostile_code_as_text_and_keeps_tabs(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("base", metrics=[("acc", 0.5)])
    repo.write("evil.py", "def f():\n\treturn '\x1b[2J\x1b]52;c;aGk=\x07'\n")
    repo.git("add", "evil.py")
    after = repo.commit("evil\n\nGittree-Metric: acc=0.6\n", change="x")
    out = gittree("diff", "--patch", base, after).out
    assert "\x1b" not in out and "\x07" not in out
    assert "+\treturn '\\x1b[2J\\x1b]52;c;aGk=\\x07'" in out


def test_diff_unknown_revision(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    assert gittree("diff", "HEAD", "nope").code == 10


# -- forests, merges and NaN for every question -------------------------------------------------------


def forest_with_nan(repo: GitRepo) -> dict[str, str]:
    """Two unrelated roots; on the first, a diverged run (NaN) with a child that recovered."""
    shas = {"base": repo.experiment("base", metrics=[("acc", 0.5)], params=[("lr", "1e-3")])}
    shas["nan"] = repo.experiment("diverged", metrics=[("acc", "nan")], params=[("lr", "1")])
    shas["fixed"] = repo.experiment("clipped gradients", metrics=[("acc", 0.6)], params=[("lr", "1")])
    repo.git("checkout", "-q", "--orphan", "other")
    shas["root2"] = repo.experiment("second idea from scratch", metrics=[("acc", 0.55)])
    return shas


def test_path_in_a_forest_and_through_a_nan_step(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = forest_with_nan(repo)
    data = json.loads(gittree("path", "--all", shas["fixed"], "--json").out)
    assert [s["sha"] for s in data["steps"]] == [shas["base"], shas["nan"], shas["fixed"]]
    assert data["steps"][1]["cumulative"] == "nan" and data["steps"][1]["value"]["mean"] == "nan"
    assert data["steps"][2]["verdict"] == "better" and data["gain"] == pytest.approx(0.1)
    text = gittree("path", "--all", shas["fixed"]).out
    assert "acc nan · nan worse¹ · cumulative nan" in text
    other = json.loads(gittree("path", "--all", shas["root2"], "--json").out)
    assert [s["sha"] for s in other["steps"]] == [shas["root2"]] and other["gain"] == 0


def test_table_on_the_demo_and_a_forest(demo: Path, gittree, repo: GitRepo) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(gittree("-C", str(demo), "table", "--all", "--json").out)["rows"]
    assert len(rows) == 31 and sum(row["best"] for row in rows) == 1
    failed = next(row for row in rows if row["status"] == "failed")
    assert failed["loss_mean"] == "nan" and failed["verdict"] == "failed"
    shas = forest_with_nan(repo)
    out = gittree("table", "--all").out
    assert len(out.splitlines()) == 1 + 4
    assert "nan" in next(line for line in out.splitlines() if shas["nan"][:7] in line)
    root2 = next(line for line in out.splitlines() if shas["root2"][:7] in line)
    assert "baseline" in root2


def test_diff_across_a_merge_between_roots_and_with_nan(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small = small_history(repo)
    merged = json.loads(gittree("diff", small["wide"], small["merge"], "--json").out)
    assert merged["relation"] == "a-before-b" and merged["metrics"][0]["verdict"] == "better"
    shas = forest_with_nan(repo)
    roots = json.loads(gittree("diff", shas["base"], shas["root2"], "--json").out)
    assert roots["relation"] == "diverged" and "work.txt" in roots["code"]["text"]
    nan = json.loads(gittree("diff", shas["base"], shas["nan"], "--json").out)
    acc = nan["metrics"][0]
    assert (acc["b"]["mean"], acc["delta"], acc["verdict"]) == ("nan", "nan", "worse")
    assert nan["params"] == [{"name": "lr", "a": "1e-3", "b": "1"}]
    text = gittree("diff", shas["nan"], shas["fixed"]).out
    acc_line = next(line for line in text.splitlines() if line.startswith("acc "))
    assert acc_line.split() == ["acc", "nan", "0.6000", "nan", "better¹"]
    assert "(1 param the same)" in text


def test_answers_make_commit_data_harmless(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.experiment(
        "evil \x1b]8;;http://x\x07link \x1b[2J \u202egnp.exe", metrics=[("acc", 0.6)], params=[("p", "x")]
    )
    for args in (("best",), ("path",), ("diff", "HEAD~1", "HEAD"), ("table",)):
        out = gittree(*args).out
        assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out, args
        assert "\\x1b]8;;http://x\\x07link" in out and "\\u202e" in out, args


# -- diff's cached view: the comparison around git's code change ----------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    code=st.text(),
    subjects=st.tuples(st.text(), st.text()),
    patch=st.booleans(),
    relation=st.sampled_from(["a-before-b", "b-before-a", "same", "diverged"]),
)
def test_diff_around_the_code_is_the_whole_answer(
    code: str, subjects: tuple[str, str], patch: bool, relation: str
) -> None:
    """What diff's view caches as JSON (before and after the code change), with git's code change
    encoded in between, is exactly the whole answer, whatever the code holds."""
    from gittree.render import answers
    from gittree.tree.analysis import ExperimentDiff, ParamChange, Side

    compared = ExperimentDiff(
        Side("a" * 40, subjects[0], None, {"lr": "0.1"}),
        Side("b" * 40, subjects[1], None, {"lr": code[:5]}),
        metrics=(),
        params=(ParamChange("lr", "0.1", code[:5]),),
        same_params=0,
        relation=relation,
    )
    before, after = answers.render_diff_json_around_code(compared, patch=patch)
    assert before + json.dumps(code, ensure_ascii=False) + after == answers.render_diff_json(
        compared, code, patch=patch
    )


# -- one resolution of each revision ----------------------------------------------------------------


def _resolutions(trace: Path, rev: str) -> int:
    """How many times git was asked which commit ``rev`` names (``rev-parse ... REV^{commit}``)."""
    return sum(
        1 for line in trace.read_text().splitlines() if "rev-parse" in line and f"{rev}^{{commit}}" in line
    )


@pytest.mark.parametrize("command", [("path", "exp/side"), ("diff", "exp/side", "exp/other")])
def test_path_and_diff_resolve_each_revision_once(
    repo: GitRepo, gittree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    """Regression: path and diff asked git twice which commit a branch names, once for the tree's tips
    and once for the answer, so a branch moved in between could cache one commit's answer under the
    other's key. Each name is now resolved once, and both steps use that commit."""
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.branch("exp/side", base)
    repo.experiment("side idea", metrics=[("acc", 0.6)])
    repo.branch("exp/other", base)
    repo.experiment("other idea", metrics=[("acc", 0.55)])
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    result = gittree(*command)
    assert result.code == 0, result.err
    assert "side idea" in result.out
    for rev in command[1:]:
        assert _resolutions(trace, rev) == 1, trace.read_text()


def _one_at_a_time(repo: Any, revs: list[str]) -> list[str] | str:
    from gittree.errors import GittreeError
    from gittree.gitio.refs import _resolve_one

    try:
        return [_resolve_one(repo, rev) for rev in revs]
    except GittreeError as e:
        return f"{type(e).__name__}: {e}"


@pytest.mark.parametrize(
    "revs",
    [
        ["exp/side", "main"],
        ["HEAD", "HEAD~1", "HEAD"],
        ["main..exp/side", "HEAD"],  # a range names two commits: each on its own
        ["HEAD^!", "main"],
        ["^main", "HEAD"],
        ["no-such-branch", "HEAD"],
        ["HEAD", "-x"],
        ["HEAD", ""],
        ["HEAD:work.txt", "HEAD"],  # a blob, not a commit
        ["work.txt", "HEAD"],  # a file of the working tree
        ["SHA", "exp/side"],
    ],
)
def test_revisions_resolved_together_are_those_resolved_one_at_a_time(repo: GitRepo, revs: list[str]) -> None:
    """`diff A B` asks git once for both commits (issue 19): the answer, or the error, is the same as
    asking for each in turn."""
    from gittree import gitio
    from gittree.errors import GittreeError

    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.branch("exp/side", base)
    repo.experiment("side idea", metrics=[("acc", 0.6)])
    repo.git("checkout", "-q", "main")
    repo.experiment("main idea", metrics=[("acc", 0.55)])
    revs = [base if rev == "SHA" else rev for rev in revs]
    opened = gitio.open_repo(repo.path)
    expected = _one_at_a_time(opened, revs)
    try:
        together: list[str] | str = gitio.resolve_commits(opened, revs)
    except GittreeError as e:
        together = f"{type(e).__name__}: {e}"
    assert together == expected
    if isinstance(expected, list):  # the commit ids are known now: asking again runs no git
        assert gitio.resolve_commits(opened, expected) == expected
