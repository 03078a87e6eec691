"""Real agent logs imported as they are (issue 17): each shape seen in public autoresearch logs, in
sample files of our own (tests/samples/import/), imported into real repositories built as the loop
that wrote them would have built them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from gittree import gitio
from tests.conftest import GitRepo

SAMPLES = Path(__file__).parent / "samples" / "import"


def sample_log(repo: GitRepo, name: str, **shas: str) -> Path:
    """The sample log ``name`` with its ``{key}`` commit placeholders replaced by short hashes."""
    text = (SAMPLES / name).read_bytes().decode("utf-8")
    for key, sha in shas.items():
        text = text.replace("{" + key + "}", sha[:7])
    path = repo.path.parent / name
    path.write_bytes(text.encode("utf-8"))
    return path


def tree_json(gittree, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = gittree("show", "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def by_subject(tree: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {node["subject"]: node for node in tree["nodes"]}


def reset_loop(repo: GitRepo) -> dict[str, str]:
    """The loop of baseline_reference.tsv: losers are reset away."""
    shas = {"start": repo.commit("prepare.py and train.py")}
    shas["lr"] = repo.commit("raise matrix LR to 0.05")
    shas["gelu"] = repo.commit("swap ReLU^2 for GeLU")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    shas["wide"] = repo.commit("widen MLP to 6x")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    shas["warmup"] = repo.commit("short LR warmup")
    return shas


def test_a_baseline_row_is_recorded_on_the_code_the_loop_started_from(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = reset_loop(repo)
    log = sample_log(repo, "baseline_reference.tsv", **shas)
    result = gittree("import", str(log))
    assert result.code == 0, result.err
    assert "5 recorded · written" in result.out
    nodes = {node["sha"]: node for node in tree_json(gittree, "--all")["nodes"]}
    start = nodes[shas["start"]]
    assert start["metrics"]["val_bpb"]["samples"] == [0.9981] and start["verdict"] == "baseline"
    lr = nodes[shas["lr"]]
    assert lr["parents"] == [shas["start"]] and lr["verdict"] == "better"
    assert round(lr["delta"], 6) == -0.0027
    # the kept experiment after two dead ends is judged against the last kept one, not a dead end
    warmup = nodes[shas["warmup"]]
    assert warmup["parents"] == [shas["lr"]] and warmup["reference"] == shas["lr"]
    assert round(warmup["delta"], 6) == -0.0005 and warmup["single_run"] is True


def test_statuses_map_to_the_nearest_known_one_or_as_told(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = {key: repo.commit(f"step {key}") for key in "abcdefg"}
    log = sample_log(repo, "other_statuses.tsv", **shas)
    result = gittree("import", str(log), "--dry-run")
    assert result.code == 0, result.err
    for word, status in [
        ("tentative", "keep"),
        ("repair", "keep"),
        ("run", "keep"),
        ("support", "keep"),
        ("rejected", "discard"),
        ("failed_nan", "crash"),
    ]:
        assert f"status '{word}' imported as {status} (1 row, by the nearest-status rule" in result.out
    told = json.loads(
        gittree("import", str(log), "--json", "--status-map", "tentative=discard,run=crash").out
    )
    assert told["statuses"]["tentative"] == {"imported_as": "discard", "rows": 1, "by": "--status-map"}
    assert [row["imported_status"] for row in told["rows"]] == [
        "keep",
        "discard",
        "keep",
        "crash",
        "keep",
        "discard",
        "crash",
    ]
    nodes = {node["sha"]: node for node in tree_json(gittree)["nodes"]}
    assert nodes[shas["b"]]["status"] == "abandoned" and nodes[shas["d"]]["status"] == "failed"
    assert nodes[shas["d"]]["metrics"] == {}  # a placeholder 0.000000 on a crash row is no value
    bad = gittree("import", str(log), "--status-map", "tentative=maybe")
    assert bad.code == 6 and "bad --status-map entry 'tentative=maybe'" in bad.err


def test_repeated_rows_of_a_commit_are_samples_or_sibling_experiments(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = {key: repo.commit(f"step {key}") for key in "abc"}
    log = sample_log(repo, "repeated_commits.tsv", **shas)
    result = gittree("import", str(log))
    assert result.code == 0, result.err
    assert "1 added as a sample" in result.out and "15 reconstructed" in result.out
    tree = tree_json(gittree, "--all")
    nodes = {node["sha"]: node for node in tree["nodes"]}
    assert nodes[shas["b"]]["metrics"]["val_bpb"]["samples"] == [0.997, 0.9974]
    sweep = [node for node in tree["nodes"] if node["subject"].startswith("device batch")]
    assert len(sweep) == 15  # the first sweep row is recorded on the commit itself
    assert all(node["parents"] == [shas["c"]] for node in sweep)
    assert nodes[shas["c"]]["notes"] == ["device batch 8"]
    kept = set(gitio.kept_shas(gitio.open_repo(repo.path)))
    assert all(node["sha"] in kept for node in sweep)  # the keep ref holds every reconstructed commit
    again = gittree("import", str(log))
    assert again.code == 0 and "nothing written" in again.out


def test_ids_that_are_not_commits_and_dirty_commits(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    dirty = repo.commit("cosine schedule + warmup, seed fix")
    log = sample_log(repo, "odd_ids.tsv", dirty=dirty)
    result = gittree("import", str(log))
    assert result.code == 0, result.err
    assert "5 reconstructed" in result.out and "1 recorded" in result.out
    tree = tree_json(gittree, "--all")
    nodes = by_subject(tree)
    first, cosine = nodes["baseline (laptop, no git)"], nodes["cosine schedule"]
    assert first["parents"] == [] and first["run"]["logged-commit"] == "exp001"
    assert cosine["parents"] == [first["sha"]] and cosine["verdict"] == "better"
    assert nodes["fp8 matmuls (nan at step 40)"]["status"] == "failed"
    # the row logged after a crash and a discard is judged against the last kept row
    assert nodes["cosine schedule + warmup"]["reference"] == cosine["sha"]
    # -dirty names the commit, and says its results were measured on other code
    real = {node["sha"]: node for node in tree["nodes"]}[dirty]
    assert real["dirty"] is True and real["metrics"]["val_bpb"]["samples"] == [1.0241]


def test_a_log_imports_without_its_repository(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo = GitRepo(tmp_path / "empty")
    monkeypatch.chdir(repo.path)
    text = (SAMPLES / "odd_ids.tsv").read_text(encoding="utf-8").replace("{dirty}-dirty", "exp006")
    log = tmp_path / "results.tsv"
    log.write_text(text, encoding="utf-8")
    result = gittree("import", str(log))
    assert result.code == 0, result.err
    assert "6 reconstructed" in result.out and "gittree show draws them" in result.out
    tree = tree_json(gittree, "--all")
    assert len(tree["nodes"]) == 6 and tree["metric"] == "val_bpb" and tree["goal"] == "min"
    assert by_subject(tree)["same, uncommitted seed fix"]["best"] is True
    # the same log gives the same commits in another clone: deterministic author, date and message
    other = GitRepo(tmp_path / "other")
    monkeypatch.chdir(other.path)
    assert gittree("import", str(log)).code == 0
    assert {n["sha"] for n in tree_json(gittree, "--all")["nodes"]} == {n["sha"] for n in tree["nodes"]}
    # ... and the same commits as every earlier version wrote (written loose one by one, now as one pack)
    assert by_subject(tree)["baseline (laptop, no git)"]["sha"] == "e70ad2a597bb4791c880862416a53faf8ce38f72"
    assert by_subject(tree)["cosine schedule + warmup"]["sha"] == "dc2be60b48f69b27d5377faa6bf2a994944bfca0"


def test_a_wide_crlf_log_is_judged_by_its_own_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = {key: repo.commit(f"step {key}") for key in "abcd"}
    log = sample_log(repo, "wide_crlf.tsv", **shas)
    assert b"\r\n" in log.read_bytes()
    result = gittree("import", str(log))
    assert result.code == 0, result.err
    assert "judged by val_bpb, lower is better (the log's metric)" in result.out
    tree = tree_json(gittree)
    assert tree["metric"] == "val_bpb" and tree["goal"] == "min"
    nodes = {node["sha"]: node for node in tree["nodes"]}
    base = nodes[shas["a"]]
    assert set(base["metrics"]) == {"val_bpb", "num_params_M", "batch_size", "delta_vs_best", "tokens_B"}
    assert base["params"] == {"optimizer": "muon"}
    assert base["notes"] == [
        "baseline",
        "hypothesis: the stock settings are a fair start",
        "interpretation: reference point",
        "next_hypothesis: try a larger batch",
    ]
    assert tree["best"] == shas["c"]
    assert nodes[shas["c"]]["reference"] == shas["a"]  # not the discarded batch 128
    assert nodes[shas["d"]]["metrics"] == {}  # the crash's zeros are placeholders
    # the row is named by the log's description; the commit's subject stays in the JSON and the card
    assert nodes[shas["c"]]["subject"] == "step c" and nodes[shas["c"]]["run"]["label"] == "LR x1.5"
    shown = gittree("show", "--color", "never").out
    assert f"{shas['c'][:7]} LR x1.5" in shown and "step c" not in shown
    assert "LR x1.5" in gittree("export", "-f", "markdown").out
    # table's formats for people too (they listed the commit's subject); its data formats keep it
    for fmt in ("plain", "markdown", "latex", "html"):
        table = gittree("table", "--format", fmt).out
        assert "LR x1.5" in table and "step c" not in table, fmt
    assert "step c" in gittree("table", "--format", "tsv").out


def test_a_configured_primary_metric_wins_over_the_log(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write(".gittree.yaml", "primary: tokens_B\n")
    shas = {key: repo.commit(f"step {key}") for key in "abcd"}
    result = gittree("import", str(sample_log(repo, "wide_crlf.tsv", **shas)))
    assert "judged by tokens_B, higher is better (.gittree.yaml's primary)" in result.out
    assert tree_json(gittree)["metric"] == "tokens_B"


def revert_loop(repo: GitRepo) -> dict[str, str]:
    """The loop of revert_loop.tsv: losers are reverted, so they stay on the main line."""
    shas = {"base": repo.commit("baseline")}
    for key, subject in [
        ("x1", "rotary base 5e5"),
        ("k1", "zero-init the output projection"),
        ("x2", "dropout 0.1"),
        ("x3", "flash attention v3"),
        ("k2", "tweak Adam betas"),
    ]:
        shas[key] = repo.commit(subject)
        if key.startswith("x"):
            repo.git("revert", "--no-edit", "HEAD")
    return shas


def test_reverted_losers_are_dead_ends_beside_the_line_of_kept_experiments(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = revert_loop(repo)
    assert gittree("import", str(sample_log(repo, "revert_loop.tsv", **shas))).code == 0
    nodes = {node["sha"]: node for node in tree_json(gittree)["nodes"]}
    # every dead end hangs off the kept experiment before it; every kept one off the kept one before
    assert nodes[shas["x1"]]["parents"] == [shas["base"]]
    assert nodes[shas["k1"]]["parents"] == [shas["base"]]
    assert nodes[shas["k1"]]["folded"] == {shas["base"]: 1}  # the revert commit, not the dead end
    assert nodes[shas["x2"]]["parents"] == [shas["k1"]] and nodes[shas["x3"]]["parents"] == [shas["k1"]]
    k2 = nodes[shas["k2"]]
    assert k2["parents"] == [shas["k1"]] and k2["reference"] == shas["k1"] and k2["verdict"] == "negligible"
    # a gain of 0.000031 is written with the digits that show it
    shown = gittree("show", "--color", "never").out
    assert "-0.000031" in shown and "-0.0000 " not in shown
    # the path counts the kept steps only, and the Markdown never lists a dead end under the best path
    path = gittree("path", shas["k2"][:7])
    assert path.code == 0 and "over 2 steps" in path.out
    assert all(shas[key][:7] not in path.out for key in ("x1", "x2", "x3"))
    # ... and its folded commits are show's: the two reverts between k1 and k2
    assert nodes[shas["k2"]]["folded"] == {shas["k1"]: 2}
    assert 'Revert "dropout 0.1"' in path.out and 'Revert "flash attention v3"' in path.out
    markdown = gittree("export", "-f", "markdown").out
    best_path = markdown.split("## The best path", 1)[1].split("\n## ", 1)[0]
    assert "in 2 steps" in best_path and "zero-init the output projection" in best_path
    assert "rotary base" not in best_path and "dropout" not in best_path


def test_every_delta_of_a_view_has_the_same_decimals_and_different_deltas_read_different(
    repo: GitRepo,
    gittree,  # type: ignore[no-untyped-def]
) -> None:
    """Digits come from the spread of the tree's deltas, not from each delta (docs/tree.md): a log whose
    gains are 1e-4 to 1e-2 of a value near 1.0 is written with one number of decimals down the column."""
    assert gittree("import", str(sample_log(repo, "odd_ids.tsv", dirty="0" * 7))).code == 0
    nodes = tree_json(gittree)["nodes"]
    shown = gittree("show", "--color", "never").out
    deltas = re.findall(r"  ([+-]\d+\.\d+)  ", shown)
    assert len(deltas) == sum(node["delta"] is not None for node in nodes) == 4
    assert {len(delta.split(".")[1]) for delta in deltas} == {5}
    assert len(set(deltas)) == len({round(node["delta"], 9) for node in nodes if node["delta"] is not None})
    assert "-0.00090" in shown  # not -0.0009 beside -0.00350
    # the table, path and the Markdown story write them the same way
    assert "-0.00090" in gittree("table").out and "-0.00090" in gittree("export", "-f", "markdown").out
    assert "-0.00350" in gittree("path", nodes[1]["sha"][:7]).out
