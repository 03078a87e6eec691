"""`gittree export`: JSON validated against the checked-in schema, and the Markdown narrative."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gittree.demo import build_demo
from tests.conftest import GitRepo, check_expected
from tests.gitenv import git_env_context
from tests.test_cli_show import small_history

DOCS = Path(__file__).parents[1] / "docs"
SCHEMA = json.loads((DOCS / "export.schema.json").read_text(encoding="utf-8"))


def validate(data: Any) -> None:
    Draft202012Validator(SCHEMA).validate(data)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("demo-home")
    with git_env_context(home):
        yield build_demo(tmp_path_factory.mktemp("demo") / "repo")


def export(gittree, *args: str, before: tuple[str, ...] = ()) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = gittree(*before, "export", *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    validate(data)
    return data


def test_the_schema_is_itself_valid() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_demo_export_validates_and_holds_the_whole_map(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    data = export(gittree, "--format", "json", before=("-C", str(demo)))
    assert data["format"] == "gittree-export" and data["schema"] == 2
    assert data["project"] == "repo" and "Each node is an experiment" in data["about"]
    assert data["counts"]["experiments"] == 31 and data["counts"]["dead_ends"] == 4
    nodes = {n["sha"]: n for n in data["nodes"]}
    assert len(data["edges"]) == sum(len(n["parents"]) for n in nodes.values())
    assert data["best_path"][0] == data["nodes"][0]["sha"] and data["best_path"][-1] == data["best"]
    assert all(nodes[sha]["on_best_path"] for sha in data["best_path"])
    cross = next(n for n in nodes.values() if len(n["parents"]) == 2)
    edges = [e for e in data["edges"] if e["child"] == cross["sha"]]
    assert sorted(e["reference"] for e in edges) == [False, True]
    failed = next(n for n in nodes.values() if n["status"] == "failed")
    assert failed["metrics"]["loss"]["mean"] == "nan" and failed["dead_end"]
    adamw = next(n for n in nodes.values() if n["subject"].startswith("AdamW"))
    assert adamw["folded"] == {adamw["parents"][0]: 2}
    assert adamw["children"] and all(nodes[c]["parents"] for c in adamw["children"])
    assert data["metric"]["name"] == "acc" and data["metric"]["threshold"] == 0.003


def test_show_json_and_the_export_agree_on_the_typical_delta(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    """The surprise rule's yardstick: `show --json` printed null whatever the tree (its header was
    made from an empty copy of the tree)."""
    from gittree import gitio
    from gittree.read import Selection, load_tree
    from gittree.render.jsonview import render_json, render_json_chunks

    shown = json.loads(gittree("-C", str(demo), "show", "--all", "--json").out)
    exported = export(gittree, "--format", "json", before=("-C", str(demo)))
    assert shown["typical_delta"] == exported["metric"]["typical_delta"] == pytest.approx(0.0117, abs=1e-4)
    tree = load_tree(gitio.open_repo(demo), Selection(all_refs=True))
    assert json.loads("".join(render_json_chunks(tree))) == json.loads(render_json(tree))


def test_export_reads_every_ref_unless_told(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    everything = {n["sha"] for n in export(gittree)["nodes"]}
    assert shas["dead"] in everything  # on exp/drop, not reachable from HEAD
    only_head = {n["sha"] for n in export(gittree, "HEAD")["nodes"]}
    assert shas["dead"] not in only_head and shas["merge"] in only_head
    assert json.loads(gittree("export", "--json").out) == export(gittree)


def test_export_validates_on_forests_nan_and_flags(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    for i, value in enumerate((0.5, 0.51, 0.52, 0.515, 0.525, 0.535)):
        repo.experiment(f"step {i}", metrics=[("acc", value)], params=[("i", str(i))])
    repo.commit(
        "too good\n\nbody line one\nbody line two\n\nGittree-Metric: acc=0.9\nGittree-Run: dirty=true\n"
    )
    repo.experiment("diverged", metrics=[("acc", "nan"), ("acc", "inf")])
    repo.commit("broken trailer\n\nGittree-Metric: acc=lots\nGittree-Metric: acc=-inf\n")
    repo.git("checkout", "-q", "--orphan", "other")
    repo.experiment("second root", metrics=[("loss", 2.0)])
    data = export(gittree)
    assert data["counts"]["roots"] == 2
    assert data["counts"]["surprises"] == 1 and data["counts"]["dirty"] == 1
    nodes = {n["subject"]: n for n in data["nodes"]}
    assert nodes["too good"]["body"] == "body line one\nbody line two"
    assert nodes["diverged"]["metrics"]["acc"]["samples"] == ["nan", "inf"]
    assert nodes["broken trailer"]["problems"] and nodes["broken trailer"]["metrics"]["acc"]["mean"] == "-inf"


def test_export_without_any_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("just a note", notes=["nothing measured yet"])
    data = export(gittree)
    assert data["metric"] is None and data["best"] is None and data["best_path"] == []
    markdown = gittree("export", "-f", "markdown").out
    assert "no experiment records a metric yet" in markdown


def test_the_schema_catches_a_missing_or_extra_field(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    data = export(gittree)
    del data["nodes"][0]["verdict"]
    with pytest.raises(Exception, match="verdict"):
        validate(data)
    data = export(gittree)
    data["nodes"][0]["colour"] = "green"
    with pytest.raises(Exception, match="colour"):
        validate(data)


def test_every_schema_field_is_documented() -> None:
    doc = (DOCS / "export.md").read_text(encoding="utf-8")
    names = set(SCHEMA["properties"]) | set(SCHEMA["$defs"]["node"]["properties"])
    names |= set(SCHEMA["$defs"]["edge"]["properties"]) | set(SCHEMA["properties"]["counts"]["properties"])
    missing = sorted(name for name in names if f"`{name}`" not in doc)
    assert not missing, f"docs/export.md does not describe: {missing}"


# -- Markdown ---------------------------------------------------------------------------------------


def test_markdown_tells_the_best_path_first_then_branches_then_dead_ends(demo: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    out = gittree("-C", str(demo), "export", "--format", "markdown").out
    sections = [line for line in out.splitlines() if line.startswith("## ")]
    assert sections == ["## The best path", "## Branches off the best path", "## Dead ends", "## To verify"]
    assert out.startswith("# Research log: repo\n\n31 experiments, 4 dead ends. Judged by **acc**")
    assert "+0.4931 on acc in 15 steps" in out
    assert "- ✗ " in out and "(failed): loss went NaN at epoch 12" in out
    assert "(abandoned): 3x slower per epoch and no gain after 20 epochs" in out
    assert "→ merged into the best path at" in out  # stochastic depth joined the crossover
    # items numbered 10 and up keep their sub-items nested (CommonMark: indent past "10. ")
    assert re.search(r"^10\. .*\n    - ", out, flags=re.MULTILINE)


def test_markdown_of_a_small_history(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    check_expected("export_small.md", gittree("export", "-f", "markdown").out)


def test_markdown_escapes_commit_data(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.experiment(
        "# not a heading <img src=x onerror=alert(1)> [link](javascript:x) *bold* \x1b[31m",
        metrics=[("acc", 0.4)],
        status="abandoned",
        notes=["`code` | pipe $math$"],
    )
    out = gittree("export", "-f", "markdown").out
    hostile = [line for line in out.splitlines() if "heading" in line or "pipe" in line]
    assert len(hostile) >= 3
    for line in hostile:  # past gittree's own `sha` code spans, no special character is left bare
        text = re.sub(r"`[0-9a-f]{7}`", "", line)
        assert not re.search(r"(?<!\\)[<>`|$\[\]]", text), line
    assert "\\<img src=x onerror=alert(1)\\>" in out
    assert "\\[link\\](javascript:x)" in out and "\\*bold\\*" in out and "\\# not a heading" in out
    assert "\\`code\\` \\| pipe \\$math\\$" in out and "\x1b" not in out


def test_export_from_the_installed_console_script(repo: GitRepo) -> None:
    import sys

    repo.experiment("a", metrics=[("acc", 0.5)])
    done = subprocess.run(
        [str(Path(sys.executable).parent / "gittree"), "export", "--format", "json"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    validate(json.loads(done.stdout))


def test_the_export_benchmark_runs(tmp_path: Path) -> None:
    """benchmarks/bench_export.py builds its repository with git fast-import and reports a ratio."""
    import sys

    script = Path(__file__).parents[1] / "benchmarks" / "bench_export.py"
    done = subprocess.run(
        [sys.executable, str(script), "--experiments", "60", "--repeat", "1", "--keep", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "repository: 60 experiments" in done.stdout and "ratio export / git log:" in done.stdout
    count = subprocess.run(
        ["git", "rev-list", "--all", "--count"],
        cwd=tmp_path / "r",
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(count.stdout) > 60


def test_the_node_and_edge_writers_write_what_the_encoder_writes(repo: GitRepo) -> None:
    """The export writes nodes and edges straight from the tree; byte for byte what encoding
    export_node and export_edges gives, on hostile text, folded commits, NaN and multi-run samples."""
    from gittree import gitio
    from gittree.read import Selection, load_tree
    from gittree.render.export import export_fields, export_node, export_node_json_writer, render_export_json
    from gittree.render.jsonview import one_line_encoder
    from gittree.tree.analysis import effective_params
    from tests.render_support import hostile_history

    hostile_history(repo)
    sha = repo.experiment("two seeds and a nan", metrics=[("acc", 0.5), ("acc", 0.7), ("loss", float("nan"))])
    repo.commit("ordinary work, folded into the next edge")
    repo.experiment("after the fold", metrics=[("acc", 0.71)])
    tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    dumps = one_line_encoder()
    params = effective_params(tree)
    write = export_node_json_writer(dumps, params)
    assert [write(node) for node in tree.nodes] == [dumps(export_node(node, params)) for node in tree.nodes]
    # The whole export, written the plain way: every field, node and edge through the encoder.
    pieces = []
    for key, value in export_fields(tree).items():
        if isinstance(value, Iterator):
            items = [dumps(item) for item in value]
            value_text = "[" + ",".join("\n    " + item for item in items) + ("\n  ]" if items else "]")
        else:
            value_text = dumps(value)
        pieces.append(f"  {dumps(key)}: {value_text}")
    assert render_export_json(tree) == "{\n" + ",\n".join(pieces) + "\n}\n"
    assert any(node.sha == sha and node.metrics["acc"].n == 2 for node in tree.nodes)
    assert any(node.folded for node in tree.nodes)
