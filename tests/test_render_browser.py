"""The HTML page in a real browser: headless Chromium (Debian's package) driven by Playwright.

Skipped only on a developer machine without Chromium; in CI (``CI`` set) a missing Chromium is a
failure, since .ci/run installs it. Run with ``GITTREE_UPDATE_EXPECTED=1`` to refresh
docs/demo-tree.png, the screenshot the README shows.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gittree import gitio
from gittree.config import load_config
from gittree.read import Selection, load_tree
from gittree.render.dot import visible
from gittree.render.html import render_html
from tests.conftest import GitRepo
from tests.gitenv import git_env_context
from tests.render_support import HOSTILE_AUTHOR, HOSTILE_NOTES, HOSTILE_SUBJECTS, hostile_history

ROOT = Path(__file__).parents[1]
SCREENSHOT = ROOT / "docs" / "demo-tree.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def require_chromium(find: Callable[[], str | None] = chromium) -> str:
    """Chromium's path; skips on a machine without it, but fails in CI, which must run these tests."""
    path = find()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests, but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs these tests")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Page:
    """A loaded page that records every console message, page error, dialog and request."""

    def __init__(self, browser: Any, file: Path, width: int = 1400, height: int = 900) -> None:
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.url = file.as_uri()
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready=true]")

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def fill_of(self, sha: str) -> str:
        return str(
            self.js(
                "sha => document.querySelector('#node-' + sha + ' path, #node-' + sha + ' polygon').getAttribute('fill')",
                sha,
            )
        )

    def texts_of(self, sha: str) -> list[str]:
        return list(
            self.js(
                "sha => [...document.querySelectorAll('#node-' + sha + ' text')].map(t => t.textContent)", sha
            )
        )

    def data(self) -> Any:
        return self.js("JSON.parse(document.getElementById('gittree-data').textContent)")

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def demo_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gittree.demo import build_demo

    home = tmp_path_factory.mktemp("home")
    folder = tmp_path_factory.mktemp("demo") / "repo"
    with git_env_context(home):
        build_demo(folder)
        repo = gitio.open_repo(folder)
        config = load_config(repo.worktree)
        page = render_html(load_tree(repo, Selection(all_refs=True), config=config), config)
    out = folder / "tree.html"
    out.write_text(page, encoding="utf-8")
    return out


@pytest.fixture
def demo(browser: Any, demo_html: Path) -> Iterator[Page]:
    page = Page(browser, demo_html)
    yield page
    page.close()


def by_subject(page: Page, start: str) -> str:
    data = page.data()
    return next(sha for sha in data["order"] if data["nodes"][sha]["subject"].startswith(start))


@pytest.mark.browser
def test_demo_page_loads_offline_with_no_console_errors(demo: Page) -> None:
    assert demo.problems == []
    assert demo.requests == [demo.url]  # nothing but the file itself
    assert demo.js("document.querySelectorAll('#graph g.node.experiment').length") == 31
    if os.environ.get("GITTREE_UPDATE_EXPECTED") == "1":
        demo.page.hover(f"#node-{by_subject(demo, 'RandAugment')}")  # show a card too
        demo.page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.exists(), "run with GITTREE_UPDATE_EXPECTED=1 to write docs/demo-tree.png"


@pytest.mark.browser
def test_hover_shows_the_card_with_the_metric(demo: Page) -> None:
    sha = by_subject(demo, "depth 8")
    demo.page.click("#zoom-fit")
    assert demo.page.is_hidden("#card")
    demo.page.hover(f"#node-{sha}")
    card = demo.page.inner_text("#card")
    assert demo.page.is_visible("#card")
    assert "depth 8" in card and sha in card
    assert "acc 0.7610" in card and "+0.0127 better" in card  # against seeds: not a single-run verdict
    assert "depth\t8" in card or "depth 8" in card  # the params table
    assert re.search(r"<[^>]+@example\.\w+> · 2026-03-06 \d\d:\d\d \+0000", card)  # author, email, date
    demo.page.mouse.move(1, 1)
    assert demo.page.is_hidden("#card")


@pytest.mark.browser
def test_metric_switcher_recolours_the_tree(demo: Page) -> None:
    data = demo.data()
    acc, loss = data["metrics"]["acc"]["verdicts"], data["metrics"]["loss"]["verdicts"]
    changed = [sha for sha in data["order"] if acc[sha] != loss[sha] and f"node-{sha}"]
    assert changed, "the demo has experiments judged differently by acc and by loss"
    sha = changed[0]
    assert demo.fill_of(sha) == data["palette"][acc[sha]]["fill"]
    demo.page.select_option("#metric", "loss")
    assert demo.fill_of(sha) == data["palette"][loss[sha]]["fill"]
    assert demo.texts_of(sha)[-2:] == [
        data["metrics"]["loss"]["values"][sha],
        data["metrics"]["loss"]["deltas"][sha],
    ]
    assert "colour by loss (min" in demo.page.inner_text("#legend")
    for other in data["order"]:  # every node follows the loss verdicts now
        assert demo.fill_of(other) == data["palette"][loss[other]]["fill"]
    demo.page.click("#zoom-fit")
    demo.page.hover(f"#node-{by_subject(demo, 'depth 8')}")
    assert "loss 0.7020" in demo.page.inner_text("#card")
    assert demo.problems == []


@pytest.mark.browser
def test_click_pins_the_card_with_message_parents_and_deltas(demo: Page) -> None:
    sha = by_subject(demo, "mixup + stochastic depth")  # the crossover
    demo.page.click("#zoom-fit")
    demo.page.click(f"#node-{sha}")
    assert demo.page.is_visible("#details")
    details = demo.js("document.getElementById('details').textContent")
    assert "parents (crossover)" in details and "commit message" in details
    assert "mixup 0.8" in details and "stochastic depth 0.1" in details
    assert "+0.0127 better (reference)" in details
    assert "the two regularisers add up" in details
    demo.page.mouse.move(5, 5)
    assert demo.page.is_visible("#details")  # pinned: stays when the pointer leaves
    demo.page.keyboard.press("Escape")
    assert demo.page.is_hidden("#details")


@pytest.mark.browser
def test_search_highlights_matching_experiments(demo: Page) -> None:
    demo.page.fill("#search", "depth")
    data = demo.data()
    expected = {
        sha
        for sha in data["order"]
        if "depth" in (data["nodes"][sha]["message"] + str(data["nodes"][sha]["params"])).lower()
    }
    matched = set(demo.js("[...document.querySelectorAll('#graph .match')].map(g => g.dataset.mark)"))
    assert matched == expected and len(matched) >= 4
    dimmed = demo.js("document.querySelectorAll('#graph .dimmed').length")
    assert dimmed == len(data["order"]) - len(matched)
    assert demo.page.inner_text("#matches") == f"{len(matched)} matches"
    demo.page.fill("#search", "")
    assert demo.js("document.querySelectorAll('#graph .match, #graph .dimmed').length") == 0


@pytest.mark.browser
def test_keyboard_moves_between_parent_and_children(demo: Page) -> None:
    data = demo.data()
    sha = by_subject(demo, "depth 8")
    node = data["nodes"][sha]
    demo.page.click("#zoom-fit")
    demo.page.click(f"#node-{sha}")
    demo.page.keyboard.press("Escape")  # unpinned; keyboard focus stays on the page
    demo.page.click(f"#node-{sha}")
    selected = "document.querySelector('#graph .selected').dataset.mark"
    demo.page.keyboard.press("ArrowUp")
    assert demo.js(selected) == node["parents"][0]
    demo.page.keyboard.press("ArrowDown")
    assert demo.js(selected) == sha
    demo.page.keyboard.press("ArrowDown")
    assert demo.js(selected) == node["children"][-1]  # the main line continues with the last child
    demo.page.keyboard.press("ArrowLeft")
    assert demo.js(selected) == node["children"][-2]
    assert data["nodes"][node["children"][-2]]["subject"] in demo.page.inner_text("#details")


@pytest.mark.browser
def test_left_and_right_move_between_boxes_whose_parent_is_not_drawn(browser: Any, repo: GitRepo) -> None:
    """Under --since every top box has an undrawn parent: they are siblings for ← and →.

    Only boxes with no parent at all were, so the arrows could not leave the first box.
    """
    repo.experiment("base", metrics=[("acc", 0.5)])
    parent = repo.experiment("parent", metrics=[("acc", 0.6)])
    one = repo.experiment("sibling one", metrics=[("acc", 0.61)])
    repo.branch("other", parent)
    two = repo.experiment("sibling two", metrics=[("acc", 0.62)])
    since = int(repo.git("log", "-1", "--format=%at", one))
    tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    file = repo.path / "since.html"
    from gittree.render.subgraph import DrawingOptions

    file.write_text(render_html(tree, options=DrawingOptions(since=since)), encoding="utf-8")
    page = Page(browser, file)
    try:
        assert page.data()["order"] == [one, two]
        page.page.click("#zoom-fit")
        page.page.click(f"#node-{one}")
        page.page.keyboard.press("Escape")
        page.page.click(f"#node-{one}")
        selected = "document.querySelector('#graph .selected').dataset.mark"
        page.page.keyboard.press("ArrowRight")
        assert page.js(selected) == two
        page.page.keyboard.press("ArrowRight")
        assert page.js(selected) == two  # the last box: nowhere further to go
        page.page.keyboard.press("ArrowLeft")
        assert page.js(selected) == one
        page.page.keyboard.press("ArrowUp")
        assert page.js(selected) == one  # its parent is not drawn
        assert page.problems == []
    finally:
        page.close()


def focused_mark(page: Page) -> Any:
    return page.js("(document.activeElement.closest('g[data-mark]') || {dataset: {}}).dataset.mark || null")


@pytest.mark.browser
def test_enter_on_the_panel_buttons_follows_links_and_closes(demo: Page) -> None:
    """Enter on a button does what the button does; the page's Enter (pin) is for the boxes only.

    It used to pin the selected box again first, rebuilding the panel: the focused button was gone
    before the browser turned Enter into a click, and focus dropped to <body>.
    """
    data = demo.data()
    sha = by_subject(demo, "depth 8")
    parent = data["nodes"][sha]["parents"][0]
    shown = "document.querySelector('#details .sha').textContent"
    demo.page.click("#zoom-fit")
    demo.page.focus(f"#node-{sha}")  # Tab reaches the boxes: focus selects, Enter pins
    demo.page.keyboard.press("Enter")
    assert demo.page.is_visible("#details") and demo.js(shown) == sha
    demo.page.focus("#details ul.parents button.jump")
    demo.page.keyboard.press("Enter")
    assert demo.js(shown) == parent  # the panel follows the link
    assert demo.js("document.querySelector('#graph .selected').dataset.mark") == parent
    assert demo.js("document.activeElement.id") == "details"  # the keyboard stays in the panel
    back = demo.js(
        "sha => [...document.querySelectorAll('#details ul.children button.jump')]"
        ".findIndex(b => b.textContent.startsWith(sha.slice(0, 7)))",
        sha,
    )
    demo.page.focus(f"#details ul.children li:nth-child({back + 1}) button.jump")
    demo.page.keyboard.press("Enter")
    assert demo.js(shown) == sha  # and a child link back down
    demo.page.focus("#details button.close")
    demo.page.keyboard.press("Enter")
    assert demo.page.is_hidden("#details")
    assert focused_mark(demo) == sha  # focus goes back to the box the panel showed
    demo.page.keyboard.press("Enter")  # where the page's Enter pins it again
    assert demo.page.is_visible("#details") and demo.js(shown) == sha
    demo.page.focus("#details button.close")
    demo.page.keyboard.press(" ")
    assert demo.page.is_hidden("#details")
    assert demo.problems == []


@pytest.mark.browser
def test_enter_on_a_zoom_button_zooms_without_pinning(demo: Page) -> None:
    view_box = "document.getElementById('graph').getAttribute('viewBox')"
    demo.page.click("#zoom-fit")
    width = float(demo.js(view_box).split()[2])
    demo.page.focus(f"#node-{by_subject(demo, 'depth 8')}")  # a box selected, nothing pinned
    demo.page.focus("#zoom-in")
    demo.page.keyboard.press("Enter")
    assert float(demo.js(view_box).split()[2]) < width
    assert demo.page.is_hidden("#details")
    assert demo.js("document.activeElement.id") == "zoom-in"


@pytest.mark.browser
def test_escape_in_the_panel_closes_it_and_hands_focus_to_the_tree(demo: Page) -> None:
    demo.page.click("#zoom-fit")
    demo.page.click(f"#node-{by_subject(demo, 'depth 8')}")
    demo.page.focus("#details button.close")
    demo.page.keyboard.press("Escape")
    assert demo.page.is_hidden("#details")
    assert demo.js("document.querySelectorAll('#graph .selected').length") == 0
    assert demo.js("document.activeElement.id") == "viewport"


@pytest.mark.browser
def test_pan_and_zoom(demo: Page) -> None:
    view_box = "document.getElementById('graph').getAttribute('viewBox')"
    demo.page.click("#zoom-fit")
    fitted = demo.js(view_box)
    demo.page.mouse.move(700, 500)
    demo.page.mouse.wheel(0, -400)
    zoomed = [float(x) for x in demo.js(view_box).split()]
    assert zoomed[2] < [float(x) for x in fitted.split()][2]
    demo.page.mouse.down()
    demo.page.mouse.move(600, 400, steps=5)
    demo.page.mouse.up()
    panned = [float(x) for x in demo.js(view_box).split()]
    assert panned[0] > zoomed[0] and panned[1] > zoomed[1] and panned[2] == pytest.approx(zoomed[2])
    demo.page.click("#zoom-fit")
    assert demo.js(view_box) == fitted


@pytest.mark.browser
def test_a_tree_without_metrics_has_a_working_page(browser: Any, repo: GitRepo) -> None:
    sha = repo.experiment("scaffold", notes=["no numbers yet"])
    file = repo.path / "plain.html"
    file.write_text(render_html(load_tree(gitio.open_repo(repo.path))), encoding="utf-8")
    page = Page(browser, file)
    try:
        assert page.js("document.getElementById('metric').disabled") is True
        assert page.page.inner_text("#legend") == "no metric recorded"
        page.page.hover(f"#node-{sha}")
        assert "no numbers yet" in page.page.inner_text("#card")
        assert page.problems == []
    finally:
        page.close()


@pytest.mark.browser
def test_hostile_commit_text_renders_as_text_and_runs_nothing(
    browser: Any, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", HOSTILE_AUTHOR)
    shas = hostile_history(repo)
    tree = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    file = repo.path / "hostile.html"
    from gittree.render.subgraph import DrawingOptions

    file.write_text(render_html(tree, options=DrawingOptions(fold=0)), encoding="utf-8")
    page = Page(browser, file)
    try:
        assert page.problems == [] and page.requests == [page.url]
        assert page.js("window.pwned") is None
        assert page.js("document.querySelectorAll('script').length") == 2
        assert page.js("document.querySelectorAll('img, foreignObject, iframe').length") == 0
        assert page.js("document.querySelectorAll('svg').length") == 1
        page.page.click("#zoom-fit")
        for sha, subject in zip(shas, HOSTILE_SUBJECTS, strict=True):
            page.page.hover(f"#node-{sha}")
            assert page.js("document.querySelector('#card .subject').textContent") == visible(subject)
            assert page.js("document.querySelector('#card .meta').textContent").startswith(
                HOSTILE_AUTHOR + " <"
            )
            notes = page.js("[...document.querySelectorAll('#card .notes li')].map(li => li.textContent)")
            assert notes == list(HOSTILE_NOTES)
        page.page.click(f"#node-{shas[2]}")
        assert page.js("document.querySelector('#details .message').textContent").startswith(
            HOSTILE_SUBJECTS[2]
        )
        page.page.fill("#search", "</script>")
        assert page.js("document.querySelectorAll('#graph .match').length") == len(shas)  # every note has one
        assert page.js("window.pwned") is None and page.problems == []
    finally:
        page.close()


def test_browser_tests_skip_only_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_chromium(lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        require_chromium(lambda: None)
    assert require_chromium(lambda: "/usr/bin/chromium") == "/usr/bin/chromium"


def test_ci_installs_chromium_before_running_the_tests() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if "apt-get install" in line and "chromium" in line)
    tests = next(i for i, line in enumerate(lines) if line.startswith("python3 -m venv"))
    assert install < tests
    assert 'export CI="${CI:-true}"' in lines


def test_playwright_is_a_test_extra() -> None:
    assert '"playwright' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.browser
def test_a_card_opened_by_search_and_enter_follows_a_metric_switch(demo: Page) -> None:
    """It kept the old metric's value and verdict until the pointer moved (issue 18)."""
    data = demo.data()
    sha = by_subject(demo, "depth 8")
    demo.page.click("#zoom-fit")
    demo.page.fill("#search", data["nodes"][sha]["short"])
    demo.page.press("#search", "Enter")
    assert demo.page.is_visible("#card")
    assert demo.js("document.querySelector('#graph .selected').dataset.mark") == sha

    def headline() -> str:
        return str(demo.js("document.querySelector('#card .headline').textContent"))

    acc, loss = data["metrics"]["acc"], data["metrics"]["loss"]
    assert headline() == acc["values"][sha] + acc["deltas"][sha]
    demo.page.select_option("#metric", "loss")
    assert demo.page.is_visible("#card")
    assert headline() == loss["values"][sha] + loss["deltas"][sha] != acc["values"][sha] + acc["deltas"][sha]
    assert demo.problems == []
