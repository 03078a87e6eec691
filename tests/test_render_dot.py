"""`gittree render --format dot`: the graph pydot builds from the research tree, and what it may not do."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from xml.dom import minidom

import pydot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittree import gitio
from gittree.read import Selection, load_tree
from gittree.render import dot as dot_module
from gittree.render.dot import DrawingOptions, dot_string, render_dot, visible
from tests.conftest import GitRepo, check_expected
from tests.render_support import (
    HOSTILE_AUTHOR,
    HOSTILE_NOTES,
    HOSTILE_SUBJECTS,
    bin_without_graphviz,
    hostile_history,
    negligible_chain,
    small_history,
)

SHA = re.compile(r"[0-9a-f]{40}")
# pydot's parser calls pyparsing names deprecated in pyparsing 3.3; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pydot.*")


def parse(dot: str) -> pydot.Dot:
    graphs = pydot.graph_from_dot_data(dot)
    assert graphs is not None and len(graphs) == 1
    return graphs[0]


def nodes_of(graph: pydot.Dot) -> dict[str, pydot.Node]:
    return {
        node.get_name().strip('"'): node
        for node in graph.get_nodes()
        if node.get_name() not in ("node", "edge")
    }


def text_of(raw: str) -> str:
    """What Graphviz shows for a quoted DOT label: undo the quoting, then the label escapes and entities."""
    assert raw.startswith('"') and raw.endswith('"')
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out).replace("&amp;", "&")


def dot_of(gittree, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = gittree("render", "--all", "--format", "dot", *args)
    assert result.code == 0, result.err
    return str(result.out)


# -- the picture ------------------------------------------------------------------------------------


def test_small_history_dot_matches_expected(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    check_expected("render_small.dot", dot_of(gittree))


def test_node_ids_are_shas_never_user_text(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("project skeleton")  # an ordinary commit below the root: drawn as a "+1 commit" mark
    shas = small_history(repo)
    names = set(nodes_of(parse(dot_of(gittree))))
    experiments = {name for name in names if SHA.fullmatch(name)}
    assert experiments == set(shas.values())
    marks = names - experiments - {"legend"}
    assert marks and all(SHA.fullmatch(name.split("-")[0]) for name in marks)  # "<sha>-below"


def test_each_node_shows_subject_sha_metric_and_delta_coloured_by_verdict(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    nodes = nodes_of(parse(dot_of(gittree)))
    drop = text_of(nodes[shas["drop"]].get("label"))
    assert drop.splitlines() == [
        "dropout 0.1",
        shas["drop"][:7],
        "acc 0.6500 ± 0.0141 (2)",
        "+0.0300 negligible",  # inside the noise its two seeds measure
    ]
    assert nodes[shas["drop"]].get("fillcolor") == '"#fff1b8"'  # yellow: negligible
    assert nodes[shas["wide"]].get("fillcolor") == '"#fde0e0"'  # red: worse
    assert nodes[shas["base"]].get("fillcolor") == '"#ffffff"'  # baseline


def test_long_subjects_are_wrapped(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.experiment(
        "a rather long subject that says in many words what this experiment changed", metrics=[("acc", 0.5)]
    )
    label = text_of(nodes_of(parse(dot_of(gittree)))[sha].get("label")).splitlines()
    assert label[:3] == ["a rather long subject that", "says in many words what this", "experiment changed"]


def test_dead_ends_are_red_dashed_with_their_reason(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    dead = nodes_of(parse(dot_of(gittree)))[shas["dead"]]
    assert "dashed" in dead.get("style") and dead.get("color") == '"#c62828"'
    assert "✗ abandoned: underfits badly" in text_of(dead.get("label"))


def _drawn_lines(svg: str, sha: str) -> list[str]:
    """The text lines Graphviz drew inside an experiment's mark in the SVG."""
    for group in minidom.parseString(svg.encode()).getElementsByTagName("g"):
        if group.getAttribute("id") == f"node-{sha}":
            return [
                "".join(t.data for t in el.childNodes if t.nodeType == t.TEXT_NODE)
                for el in group.getElementsByTagName("text")
            ]
    raise AssertionError(f"no mark for {sha}")


def test_a_dead_end_is_worded_the_same_in_the_picture_and_the_markdown_export(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """One reason for a dead end everywhere: all its notes, joined (the drawing once showed only the
    first, so a late note saying why was in the Markdown narrative but not on the picture)."""
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    slow = repo.experiment("bigger model", metrics=[("acc", 0.4)], notes=["too slow"], status="abandoned")
    repo.git("notes", "--ref=gittree", "add", "-m", "Gittree-Note: OOM at batch 512", slow)
    repo.branch("side", base)
    crashed = repo.experiment("fp8 weights", status="failed")
    markdown = gittree("export", "--format", "markdown").out
    svg = gittree("render", "--all", "--format", "svg").out
    labels = nodes_of(parse(dot_of(gittree)))
    for sha, words in ((slow, "too slow; OOM at batch 512"), (crashed, "no reason recorded")):
        status = "abandoned" if sha == slow else "failed"
        assert f"({status}): {words}\n" in markdown
        # The drawing wraps the line at spaces: its lines, joined by spaces, are the sentence again.
        assert f"✗ {status}: {words}" in " ".join(text_of(labels[sha].get("label")).split("\n"))
        assert f"✗ {status}: {words}" in " ".join(_drawn_lines(svg, sha))


def test_best_experiment_and_its_path_are_emphasised(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    graph = parse(dot_of(gittree))
    nodes = nodes_of(graph)
    best = nodes[shas["merge"]]
    assert "★ best" in text_of(best.get("label")) and best.get("penwidth") == "3.5"
    bold = {
        (e.get_source().strip('"'), e.get_destination().strip('"'))
        for e in graph.get_edges()
        if e.get("penwidth") == "2.5"
    }
    # "wider layers" descends from "lower lr", so the merge's only experiment parent is "wider layers"
    assert bold == {(shas["base"], shas["lr"]), (shas["lr"], shas["wide"]), (shas["wide"], shas["merge"])}


def test_folded_ordinary_commits_are_a_small_mark_on_the_edge(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    edges = {
        (e.get_source().strip('"'), e.get_destination().strip('"')): e
        for e in parse(dot_of(gittree)).get_edges()
    }
    assert edges[(shas["base"], shas["lr"])].get("label") == '"+1"'
    assert edges[(shas["lr"], shas["drop"])].get("label") is None


def test_legend_names_colours_metric_goal_and_threshold(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    repo.write(".gittree.yaml", "metrics:\n  loss:\n    threshold: 0.05\n")
    legend = nodes_of(parse(dot_of(gittree, "--metric", "loss")))["legend"].get("label")
    for text in (
        "colour by loss (min, negligible within 0.05, or 2 standard errors where seeds exist if larger)",
        "better",
        "negligible",
        "worse",
        "dead end",
        "★ best",
    ):
        assert text in legend


def test_tooltips_carry_notes_params_author_and_date(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    tooltip = text_of(nodes_of(parse(dot_of(gittree)))[shas["lr"]].get("tooltip"))
    assert "param lr = 1e-4" in tooltip and "note: stable" in tooltip
    assert re.search(r"Ada Tester <ada@example.com> · 2026-01-01 \d\d:\d\d \+0000", tooltip)
    assert "acc: 0.6200" in tooltip and "loss: 0.9000" in tooltip


def test_dot_needs_no_graphviz(repo: GitRepo, gittree, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    monkeypatch.setenv("PATH", str(bin_without_graphviz(tmp_path)))
    import gittree.render.graphviz as graphviz

    monkeypatch.setattr(graphviz, "layout", lambda *a: pytest.fail("--format dot must not lay out"))
    assert dot_of(gittree).startswith("digraph research {")


# -- folding and selection --------------------------------------------------------------------------


def test_a_long_chain_of_negligible_experiments_folds_into_one_mark(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = negligible_chain(repo, 6)
    dot = dot_of(gittree)
    check_expected("render_folded.dot", dot)
    nodes = nodes_of(parse(dot))
    fold = nodes[f"fold-{shas[1]}"]
    assert text_of(fold.get("label")).startswith("⋯ 6 negligible experiments")
    assert not any(sha in nodes for sha in shas[1:7])
    assert shas[0] in nodes and shas[7] in nodes
    unfolded = nodes_of(parse(dot_of(gittree, "--fold", "0")))
    assert all(sha in unfolded for sha in shas)


def test_a_short_negligible_chain_stays(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = negligible_chain(repo, 3)
    assert all(sha in nodes_of(parse(dot_of(gittree))) for sha in shas)


def test_head_is_never_folded(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = negligible_chain(repo, 6)
    repo.git("checkout", "-q", shas[4])
    nodes = nodes_of(parse(dot_of(gittree)))
    assert shas[4] in nodes
    assert not any(name.startswith("fold-") for name in nodes)  # 3 on each side of HEAD: too short to fold


def test_only_best_path(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    drawn = {name for name in nodes_of(parse(dot_of(gittree, "--only-best-path"))) if SHA.fullmatch(name)}
    assert drawn == {shas["base"], shas["lr"], shas["wide"], shas["merge"]}


def test_depth_counts_generations_from_the_top_and_marks_what_is_below(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    nodes = nodes_of(parse(dot_of(gittree, "--depth", "2")))
    assert {name for name in nodes if SHA.fullmatch(name)} == {shas["base"], shas["lr"]}
    assert f"{shas['lr']}-deeper" in nodes
    assert "⋯ 4 more experiments below" in dot_of(gittree, "--depth", "2")


def test_since_keeps_later_experiments_and_marks_hidden_parents(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    when = int(repo.git("log", "-1", "--format=%at", shas["drop"]))
    since = datetime.fromtimestamp(when, tz=timezone.utc).isoformat()
    dot = dot_of(gittree, "--since", since)
    drawn = {name for name in nodes_of(parse(dot)) if SHA.fullmatch(name)}
    assert drawn == {shas["drop"], shas["dead"], shas["merge"]}
    assert "earlier experiments not drawn" in dot
    assert "(3 more not drawn)" in dot


def test_nothing_left_to_draw_is_an_error(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("render", "--since", "2030-01-01", "--format", "dot")
    assert result.code == 1 and "nothing to draw" in result.err


# -- hostile commit text ----------------------------------------------------------------------------


def test_dot_string_escapes_quotes_backslashes_entities_and_controls() -> None:
    assert dot_string('say "hi"') == '"say \\"hi\\""'
    assert dot_string("ends with \\") == '"ends with \\\\"'
    assert dot_string("&lt;") == '"&amp;lt;"'
    assert dot_string("\x1b[31m") == '"\\\\x1b[31m"'
    assert dot_string(["two", "lines"]) == '"two\\nlines"'


@pytest.fixture
def hostile(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("GIT_AUTHOR_NAME", HOSTILE_AUTHOR)
    return hostile_history(repo)


def test_hostile_text_stays_text_for_pydot(hostile: list[str], gittree) -> None:  # type: ignore[no-untyped-def]
    graph = parse(dot_of(gittree, "--fold", "0"))
    nodes = nodes_of(graph)
    assert {name for name in nodes if SHA.fullmatch(name)} == set(hostile)
    assert len(graph.get_edges()) == len(hostile) - 1  # one line of work: nothing injected a node or an edge
    for sha, subject in zip(hostile, HOSTILE_SUBJECTS, strict=True):
        label = text_of(nodes[sha].get("label"))
        assert label.replace("\n", " ").startswith(visible(subject)[:20].strip())
        tooltip = text_of(nodes[sha].get("tooltip"))
        assert visible(HOSTILE_NOTES[0]) in tooltip and f"{HOSTILE_AUTHOR} <ada@example.com>" in tooltip


def svg_texts(svg: bytes) -> list[str]:
    """Every text Graphviz drew, from an SVG that must be well-formed XML (raw controls would break it)."""
    document = minidom.parseString(svg)
    return [
        "".join(t.data for t in el.childNodes if t.nodeType == t.TEXT_NODE)
        for el in document.getElementsByTagName("text")
    ]


def _tree_text(repo: GitRepo) -> str:
    tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    return render_dot(tree, DrawingOptions(fold=0))


def test_hostile_text_stays_text_for_the_webassembly_graphviz(hostile: list[str], repo: GitRepo) -> None:
    from gittree.render.graphviz import wasm_layout

    _check_svg(wasm_layout(_tree_text(repo)))


@pytest.mark.skipif(shutil.which("dot") is None, reason="system Graphviz not installed (not required)")
def test_hostile_text_stays_text_for_the_system_graphviz(hostile: list[str], repo: GitRepo) -> None:
    done = subprocess.run(["dot", "-Tsvg"], input=_tree_text(repo).encode(), capture_output=True, check=True)
    _check_svg(done.stdout)


def _check_svg(svg: bytes) -> None:
    drawn = "".join("".join(svg_texts(svg)).split())  # wrapped lines, joined without blanks
    for subject in HOSTILE_SUBJECTS:
        start = "".join(visible(subject).split())[:25]
        assert start in drawn, start
    elements = minidom.parseString(svg).getElementsByTagName("*")
    assert {el.tagName for el in elements} <= {
        "svg",
        "g",
        "title",
        "a",
        "path",
        "polygon",
        "text",
        "ellipse",
        "polyline",
    }
    attributes = [name for el in elements for name in el.attributes.keys()]  # noqa: SIM118 (a NamedNodeMap)
    assert not [name for name in attributes if name.lower().startswith("on")]
    assert b"\x1b" not in svg and "\u202e".encode() not in svg


def test_expected_dot_files_are_read_back_by_pydot() -> None:
    for path in sorted(Path(__file__).parent.joinpath("expected").glob("*.dot")):
        assert parse(path.read_text(encoding="utf-8")).get_name() == "research"


# -- the line writer relies on two rules; each is checked here on generated text ----------------------


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=80))
def test_pydot_keeps_every_dot_string_as_it_is(text: str) -> None:
    # dot_lines passes dot_string values on without pydot's quoting: pydot must agree they need none.
    quoted = dot_string(text)
    assert pydot.quote_attr_if_necessary(quoted) == quoted


WORDS = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.one_of(WORDS, st.sampled_from(["", " ", "-", "é", "\t", "x" * 40])), max_size=12),
    st.integers(1, 40),
)
def test_quick_wrap_is_textwrap(words: list[str], width: int) -> None:
    import textwrap

    text = " ".join(words)
    expected = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)
    assert dot_module._wrapped(text, width) == expected
