"""The HTML page's "progress" view in headless Chromium: drawn from the page's data, linked to the tree both ways."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gittree.tree.progress import progress_of
from tests.conftest import GitRepo
from tests.render_support import small_history
from tests.test_render_browser import Page, browser, demo_html  # noqa: F401  (fixtures)

SCREENSHOT = Path(__file__).parents[1] / "docs" / "demo-progress-view.png"


@pytest.fixture
def demo(browser: Any, demo_html: Path) -> Iterator[Page]:  # noqa: F811
    page = Page(browser, demo_html)
    yield page
    page.close()


def dots(page: Page) -> Any:
    return page.js(
        "[...document.querySelectorAll('#chart [data-sha]')].map(d => ({sha: d.dataset.sha, verdict: d.dataset.verdict,"
        " tag: d.tagName, cls: d.getAttribute('class'), cx: +(d.getAttribute('cx') || 0), cy: +(d.getAttribute('cy') || 0)}))"
    )


@pytest.mark.browser
def test_the_progress_view_draws_every_experiment_in_the_order_made(demo: Page) -> None:
    assert demo.page.is_hidden("#progress")
    demo.page.click("#show-progress")
    assert demo.page.is_visible("#progress")
    assert demo.js("document.getElementById('show-progress').getAttribute('aria-pressed')") == "true"
    data = demo.data()
    progress = data["metrics"]["acc"]["progress"]
    drawn = dots(demo)
    assert [d["sha"] for d in drawn] == [data["order"][p[0]] for p in progress["points"]]
    assert len(drawn) == 31
    assert all(d["verdict"] == data["metrics"]["acc"]["verdicts"][d["sha"]] for d in drawn)
    # made later, drawn further right; a higher accuracy, drawn higher (smaller y)
    circles = [d for d in drawn if d["tag"] == "circle"]
    assert [d["cx"] for d in circles] == sorted(d["cx"] for d in circles)
    by_sha = {data["order"][p[0]]: p for p in progress["points"]}
    best = data["metrics"]["acc"]["best"]
    assert min(circles, key=lambda d: d["cy"])["sha"] == best
    assert data["order"][progress["new_best"][-1]] == best
    assert by_sha[best][2] == progress["frontier"][-1][1]
    assert demo.js("document.querySelectorAll('#chart path.frontier').length") == 1
    failed = [d for d in drawn if data["nodes"][d["sha"]]["status"] == "failed"]
    assert failed and all("cross" in d["cls"] for d in failed)
    assert demo.problems == [] and demo.requests == [demo.url]
    if os.environ.get("GITTREE_UPDATE_EXPECTED") == "1":
        demo.page.click(f"#chart [data-sha='{best}']")
        demo.page.screenshot(path=str(SCREENSHOT))


@pytest.mark.browser
def test_a_dot_selects_its_experiment_in_the_tree_and_back(demo: Page) -> None:
    data = demo.data()
    sha = next(s for s in data["order"] if data["nodes"][s]["subject"] == "depth 8")
    demo.page.click("#show-progress")
    demo.page.click(f"#chart [data-sha='{sha}']")
    assert demo.js("document.querySelector('#graph .selected').dataset.mark") == sha
    assert demo.page.is_visible("#details")
    assert "depth 8" in demo.page.inner_text("#details")
    assert demo.js("[...document.querySelectorAll('#chart .selected')].map(d => d.dataset.sha)") == [sha]
    # and the other way: an experiment chosen in the tree is marked on the chart
    other = data["nodes"][sha]["parents"][0]
    demo.page.keyboard.press("ArrowUp")
    assert demo.js("document.querySelector('#graph .selected').dataset.mark") == other
    assert demo.js("[...document.querySelectorAll('#chart .selected')].map(d => d.dataset.sha)") == [other]
    # the metric switcher redraws the chart with that metric's verdicts and direction
    demo.page.select_option("#metric", "loss")
    assert "loss (lower is better)" in demo.js("document.getElementById('chart').textContent")
    assert all(d["verdict"] == data["metrics"]["loss"]["verdicts"][d["sha"]] for d in dots(demo))
    assert demo.js("[...document.querySelectorAll('#chart .selected')].map(d => d.dataset.sha)") == [other]
    assert demo.problems == []


def test_the_page_carries_what_gittree_plot_draws(repo: GitRepo) -> None:
    from gittree import gitio
    from gittree.config import load_config
    from gittree.read import Selection, load_tree
    from gittree.render.html import page_data
    from gittree.render.subgraph import DrawingOptions, select_drawing

    small_history(repo)
    tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    data = page_data(tree, select_drawing(tree, DrawingOptions()), load_config(repo.path))
    progress = progress_of(tree)
    chart = data["metrics"]["acc"]["progress"]
    order = data["order"]
    assert [[order[p[0]], *p[1:]] for p in chart["points"]] == [
        [p.node.sha, p.place, p.mean, p.std] for p in progress.points
    ]
    assert chart["frontier"] == [list(step) for step in progress.frontier]
    assert [order[i] for i in chart["new_best"]] == [p.node.sha for p in progress.new_bests]
    assert data["metrics"]["loss"]["progress"]["goal"] == "min"
