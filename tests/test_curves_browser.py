"""The page's card draws the experiment's stored curves over its parent's, in headless Chromium (the
fixtures of tests/test_render_browser.py); names and run ids from git stay text."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from gittree.curves import Curve, StoredRun, downsample, stored_paragraph
from gittree.render.words import LEGEND_MARKS, LEGEND_SWATCHES
from tests.conftest import GitRepo
from tests.test_render_browser import Page, browser  # noqa: F401  (the module's Chromium fixture)

CURVES_REF = "refs/notes/gittree-curves"
ROOT = Path(__file__).parents[1]
SCREENSHOT = ROOT / "docs" / "curves-card.png"
HOSTILE_NAME = '</script><svg onload="window.pwned=1">'
HOSTILE_RUN = "<img src=x onerror=window.pwned=2>"


def add_curves(repo: GitRepo, sha: str, *runs: StoredRun) -> None:
    note = repo.path.parent / f"{sha}.curves"
    note.write_text("\n\n".join("\n".join(stored_paragraph(run)) for run in runs) + "\n", encoding="utf-8")
    repo.git("notes", "--ref", CURVES_REF, "add", "-f", "-F", str(note), sha)


def loss(values: list[float], total: int | None = None) -> Curve:
    return Curve(
        "loss", tuple(float(10 * i) for i in range(len(values))), tuple(values), total or len(values)
    )


@pytest.fixture
def curved(repo: GitRepo, gittree) -> Path:  # type: ignore[no-untyped-def]
    parent = repo.experiment("baseline", metrics=[("loss", 0.5)])
    child = repo.experiment("warmup", metrics=[("loss", 0.4)])
    add_curves(repo, parent, StoredRun("p1", None, {"loss": loss([2.0, 1.0, 0.5])}))
    add_curves(
        repo,
        child,
        StoredRun("c1", "1", {"loss": loss([1.8, 0.8, 0.4, 0.41], total=40_000)}),
        StoredRun(HOSTILE_RUN, "2", {"loss": loss([1.9, 0.9, 0.45]), HOSTILE_NAME: loss([1.0, 2.0])}),
    )
    out = repo.path / "tree.html"
    done = gittree("render", "--format", "html", "-o", str(out))
    assert done.code == 0, done.err
    return out


def curve_lines(page: Page, box: str, name: str) -> Any:
    return page.js(
        """([box, name]) => [...document.querySelectorAll(box + ' figure.curve')]
            .filter(f => f.getAttribute('data-metric') === name)
            .map(f => ({
                this: [...f.querySelectorAll('polyline.this')].map(p => p.getAttribute('points').split(' ').length),
                parent: [...f.querySelectorAll('polyline.parent')].map(p => p.getAttribute('points').split(' ').length),
                caption: f.querySelector('figcaption').textContent,
            }))""",
        [box, name],
    )


@pytest.mark.browser
def test_the_card_overlays_the_parents_curve_and_escapes_what_git_holds(
    browser: Any,  # noqa: F811
    repo: GitRepo,
    curved: Path,
) -> None:
    page = Page(browser, curved)
    try:
        data = page.data()
        child = next(sha for sha in data["order"] if data["nodes"][sha]["subject"] == "warmup")
        parent = data["nodes"][child]["parents"][0]
        page.page.click("#zoom-fit")
        page.page.hover(f"#node-{child}")
        (chart,) = curve_lines(page, "#card", "loss")
        assert chart["this"] == [4, 3] and chart["parent"] == [3]  # each run's points; the parent's dashed
        assert (
            chart["caption"]
            == f"loss · this experiment (2 runs), 40000 steps, downsampled · dashed: parent {parent[:7]}"
        )
        (hostile,) = curve_lines(page, "#card", HOSTILE_NAME)
        assert hostile["parent"] == [] and hostile["caption"].endswith("· no curve of the parent")
        page.page.hover(f"#node-{parent}")
        (root,) = curve_lines(page, "#card", "loss")
        assert root["this"] == [3] and root["caption"] == "loss · this experiment"  # a root: no parent
        page.page.click(f"#node-{child}")
        assert len(curve_lines(page, "#details", "loss")) == 1  # the pinned card draws them too
        assert page.js("window.pwned") is None and page.problems == [] and page.requests == [page.url]
        assert page.js("document.querySelectorAll('img, script').length") == 2  # the page's own two scripts
        assert data["curves"][child][1]["run"] == HOSTILE_RUN
    finally:
        page.close()


def decay(rate: float, steps: int = 20_000) -> Curve:
    values = tuple(0.3 + 2.2 * math.exp(-s / rate) + 0.02 * math.sin(s / 7.0) for s in range(steps))
    return downsample(Curve("loss", tuple(float(s) for s in range(steps)), values, steps))


@pytest.mark.browser
def test_the_card_of_a_real_sized_curve_over_its_parents(browser: Any, repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    parent = repo.experiment("baseline", metrics=[("loss", 0.32)])
    child = repo.experiment("cosine warmup", metrics=[("loss", 0.30)])
    add_curves(repo, parent, StoredRun("20261207-041500-1-aaaaaa", None, {"loss": decay(4000.0)}))
    add_curves(repo, child, StoredRun("20261207-043000-2-bbbbbb", None, {"loss": decay(2000.0)}))
    out = repo.path / "tree.html"
    assert gittree("render", "--format", "html", "-o", str(out)).code == 0
    page = Page(browser, out, width=900, height=600)
    try:
        page.page.click("#zoom-fit")
        page.page.click(f"#node-{child}")
        (chart,) = curve_lines(page, "#details", "loss")
        assert chart["this"] == [len(decay(2000.0).steps)] and chart["parent"] == [len(decay(4000.0).steps)]
        assert "20000 steps, downsampled · dashed: parent" in chart["caption"]
        if os.environ.get("GITTREE_UPDATE_EXPECTED") == "1":
            page.page.locator("#details").screenshot(path=str(SCREENSHOT))
        assert SCREENSHOT.exists(), "run with GITTREE_UPDATE_EXPECTED=1 to write docs/curves-card.png"
        assert page.problems == []
    finally:
        page.close()


@pytest.mark.browser
def test_the_pages_legend_says_the_words_of_render_words(browser: Any, curved: Path) -> None:  # noqa: F811
    page = Page(browser, curved)
    try:
        legend = page.page.inner_text("#legend")
        assert LEGEND_MARKS in legend
        assert all(word in legend for _, word in LEGEND_SWATCHES)
    finally:
        page.close()


def test_page_data_holds_curves_of_drawn_experiments_and_their_parents_only(
    repo: GitRepo, curved: Path
) -> None:
    text = curved.read_text(encoding="utf-8")
    start = text.index('<script type="application/json" id="gittree-data">') + len(
        '<script type="application/json" id="gittree-data">'
    )
    data = json.loads(text[start : text.index("</script>", start)])
    assert data["schema"] == 2
    assert sorted(len(runs) for runs in data["curves"].values()) == [1, 2]
    assert HOSTILE_NAME not in text and "<img" not in text  # escaped in the data block
