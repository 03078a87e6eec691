"""`gittree render --format html`: one self-contained page, its data, and escaping for every context."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from gittree import gitio
from gittree.config import Config
from gittree.errors import RenderError
from gittree.read import Selection, load_tree
from gittree.render.html import clean_svg, render_html, script_json
from gittree.render.picture import draw
from gittree.render.subgraph import DrawingOptions
from gittree.tree import evaluate_each
from tests.conftest import GitRepo
from tests.render_support import (
    HOSTILE_AUTHOR,
    HOSTILE_SUBJECTS,
    hostile_history,
    negligible_chain,
    small_history,
)


def page_of(gittree, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = gittree("render", "--all", "--format", "html", *args)
    assert result.code == 0, result.err
    return str(result.out)


def data_of(page: str) -> dict:  # type: ignore[type-arg]
    block = re.search(r'<script type="application/json" id="gittree-data">(.*?)</script>', page, re.S)
    assert block is not None
    return json.loads(block.group(1))  # type: ignore[no-any-return]


def scripts_of(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, re.S)


def csp_of(page: str) -> str:
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert meta is not None
    return meta.group(1).replace("&#x27;", "'")


def sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_page_is_self_contained(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    page = page_of(gittree)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"\s(src|href)=", page.replace('xmlns:xlink="http://www.w3.org/1999/xlink"', ""))
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert re.search(r"<svg id=\"graph\"", page)


def test_content_security_policy_allows_only_the_inline_script_and_style(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    page = page_of(gittree)
    csp = csp_of(page)
    [script] = scripts_of(page)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style is not None
    assert csp.startswith("default-src 'none';")
    assert f"script-src 'sha256-{sha256(script)}';" in csp
    assert f"style-src 'sha256-{sha256(style.group(1))}';" in csp
    assert (
        "unsafe" not in csp and "http" not in csp and "connect-src" not in csp
    )  # default-src 'none' covers it
    assert "img-src 'none'" in csp and "form-action 'none'" in csp and "base-uri 'none'" in csp


def test_page_data_has_every_node_and_each_metric_s_verdicts(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    data = data_of(page_of(gittree))
    assert data["metric"] == "acc" and set(data["metrics"]) == {"acc", "loss"}
    assert set(data["nodes"]) == set(shas.values())
    lr = data["nodes"][shas["lr"]]
    assert lr["params"] == [["lr", "1e-4"]] and lr["notes"] == ["stable"]
    assert lr["metrics"] == {"acc": "0.6200", "loss": "0.9000"}
    # loss is minimised: "wider layers" lowered it from 0.9 to 0.7, so it is better by loss, worse by acc
    assert data["metrics"]["acc"]["verdicts"][shas["wide"]] == "worse"
    assert data["metrics"]["loss"]["verdicts"][shas["wide"]] == "better"
    assert (
        data["metrics"]["loss"]["label"]
        == "loss (min, negligible within 0.1% of parent, or 2 standard errors where seeds exist)"
    )
    assert data["metrics"]["loss"]["values"][shas["wide"]] == "loss 0.7000"
    assert data["metrics"]["loss"]["deltas"][shas["wide"]] == "-0.2000 better¹"
    assert data["metrics"]["loss"]["best"] == shas["wide"]


def test_switcher_verdicts_are_those_show_computes_for_that_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    data = data_of(page_of(gittree))
    for metric in ("acc", "loss"):
        tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True, metric=metric))
        assert data["metrics"][metric]["verdicts"] == {n.sha: n.verdict.value for n in tree.nodes}
        assert data["metrics"][metric]["best"] == tree.best
        assert set(data["metrics"][metric]["best_path"]) == {n.sha for n in tree.nodes if n.on_best_path}


def test_evaluating_each_metric_leaves_the_tree_alone(repo: GitRepo) -> None:
    small_history(repo)
    tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    before = [(n.sha, n.verdict, n.delta, n.reference, n.best, n.on_best_path) for n in tree.nodes]
    evaluations = evaluate_each(tree, [Config().spec("acc"), Config().spec("loss")])
    assert set(evaluations) == {"acc", "loss"}
    assert evaluations["acc"].best == tree.best and evaluations["loss"].best != tree.best
    assert [(n.sha, n.verdict, n.delta, n.reference, n.best, n.on_best_path) for n in tree.nodes] == before
    assert tree.metric is not None and tree.metric.name == "acc"


def test_pinned_card_data_has_message_parents_and_their_deltas(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    a = repo.experiment("idea a", metrics=[("acc", 0.6)])
    repo.branch("b", base)
    b = repo.experiment("idea b", metrics=[("acc", 0.55)])
    merge = repo.merge("main", "a + b", metrics=[("acc", 0.7)])
    data = data_of(page_of(gittree))
    assert data["nodes"][merge]["parents"] == [b, a]
    assert data["metrics"]["acc"]["parent_deltas"][merge] == [[b, "+0.1500 better"], [a, "+0.1000 better"]]
    assert data["metrics"]["acc"]["references"][merge] == a
    assert data["nodes"][merge]["message"].startswith("a + b\n\nGittree-Metric: acc=0.7")


def test_folded_chains_are_in_the_data(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = negligible_chain(repo, 5)
    data = data_of(page_of(gittree))
    assert data["folds"] == {f"fold-{shas[1]}": shas[1:6]}
    assert set(data["nodes"]) == set(shas)


# -- escaping ---------------------------------------------------------------------------------------


def test_script_json_cannot_end_the_script_block() -> None:
    text = script_json({"s": "</script><!-- <script> & \u2028\u2029"})
    assert "</" not in text and "<!--" not in text and "<" not in text and ">" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"s": "</script><!-- <script> & \u2028\u2029"}


def test_hostile_commit_text_never_becomes_markup(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GIT_AUTHOR_NAME", HOSTILE_AUTHOR)
    shas = hostile_history(repo)
    page = page_of(gittree, "--fold", "0")
    assert page.count("<script") == 2  # the data block and the page's own script
    assert "<img" not in page  # a subject carries one
    assert all(node["author"] == HOSTILE_AUTHOR for node in data_of(page)["nodes"].values())
    assert "\x1b" not in page and "\u202e" not in page and "\u2028" not in page
    data = data_of(page)
    for sha, subject in zip(shas, HOSTILE_SUBJECTS, strict=True):
        shown = data["nodes"][sha]["subject"]
        assert shown == subject.translate(
            {0x1B: "\\x1b", 0x07: "\\x07", 0x202E: "\\u202e", 0x202C: "\\u202c", 0x2028: "\\u2028"}
        )
    # in the drawn graph, text is text: the subjects appear only escaped
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    assert "&lt;script&gt;window.pwned=1;" in svg and "&lt;/svg&gt;&lt;img" in svg
    assert "<script" not in svg and "<img" not in svg
    assert svg.count("</svg>") == 1


def test_clean_svg_refuses_executable_markup() -> None:
    for bad in (
        '<svg width="1pt" height="1pt"><script>alert(1)</script></svg>',
        '<svg width="1pt" height="1pt"><g onclick="alert(1)"></g></svg>',
        '<svg width="1pt" height="1pt"><foreignObject></foreignObject></svg>',
        '<svg width="1pt" height="1pt"><a xlink:href="javascript:alert(1)"></a></svg>',
    ):
        with pytest.raises(RenderError, match="could run in a browser"):
            clean_svg(bad)
    with pytest.raises(RenderError, match="no SVG"):
        clean_svg("not svg")


def test_clean_svg_drops_prolog_comments_and_titles() -> None:
    svg = '<?xml version="1.0"?>\n<!-- x -->\n<svg width="8pt" height="9pt" viewBox="0 0 8 9"><title>t</title><g/></svg>'
    assert (
        clean_svg(svg) == '<svg id="graph" role="img" aria-label="research tree" viewBox="0 0 8 9"><g/></svg>'
    )


def test_the_page_script_never_turns_strings_into_markup_or_code() -> None:
    from pathlib import Path

    import gittree.render

    script = (Path(gittree.render.__file__).parent / "assets" / "page.js").read_text()
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
        'setTimeout("',
    ):
        assert forbidden not in script
    assert 'setAttribute("style"' not in script  # the CSP allows no inline style attributes


def test_a_tree_without_metrics_still_makes_a_page(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    first = repo.experiment("scaffold", notes=["no numbers yet"])
    second = repo.experiment("abandoned idea", status="abandoned", notes=["too slow"])
    data = data_of(page_of(gittree))
    assert data["metric"] is None and data["metrics"] == {}
    assert data["order"] == [first, second]
    assert '<select id="metric" aria-label="colour by metric"></select>' in page_of(gittree)


def test_text_that_merely_mentions_markup_is_fine(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: the final SVG guard looks at markup only, so such subjects do not block the page."""
    repo.experiment("call javascript: onload = x from <script>", metrics=[("acc", 0.5)])
    assert "javascript: onload = x" in data_of(page_of(gittree))["nodes"][repo.head()]["subject"]


@pytest.mark.parametrize(
    "options",
    [
        DrawingOptions(),
        DrawingOptions(depth=2),
        DrawingOptions(only_best_path=True),
        DrawingOptions(fold=3, legend=True),
    ],
    ids=["all", "depth", "best-path", "fold"],
)
def test_the_page_from_the_callers_selection_is_the_page_it_selects_itself(
    repo: GitRepo, options: DrawingOptions
) -> None:
    """`render --format html` hands the page the view it already selected; the page must be the same."""
    small_history(repo)
    negligible_chain(repo, 4)
    tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    drawn = b"".join(piece for piece in draw(tree, "html", options, Config()) if isinstance(piece, bytes))
    assert drawn == render_html(tree, Config(), options).encode("utf-8")
