"""gittree.open in notebooks: the API's answers, and a real notebook executed in a Jupyter kernel by nbclient."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gittree
from gittree.errors import MissingExtraError
from gittree.notebook import Tree
from tests.conftest import GitRepo
from tests.render_support import small_history
from tests.test_render_browser import browser  # noqa: F401  (the fixture)


def test_the_api_answers_as_the_command_line_does(repo: GitRepo) -> None:
    from gittree import gitio
    from gittree.read import Selection, load_tree

    shas = small_history(repo)
    research = gittree.open(repo.path)
    tree = research.tree(all=True)
    assert isinstance(tree, Tree)
    reference = load_tree(gitio.open_repo(repo.path), Selection(all_refs=True))
    assert [n.sha for n in tree.nodes] == [n.sha for n in reference.nodes]
    assert [n.verdict for n in tree.nodes] == [n.verdict for n in reference.nodes]
    assert tree[shas["drop"][:7]].params == {} and tree[shas["lr"]].params == {"lr": "1e-4"}
    # the default scope (every local branch and gittree's kept experiments), as `gittree show`
    assert [n.sha for n in research.tree().nodes] == [
        n.sha for n in load_tree(gitio.open_repo(repo.path)).nodes
    ]
    best = research.best(all=True)
    assert best is not None and best.sha == shas["merge"] == tree.best
    loss_best = research.best(all=True, metric="loss")
    assert loss_best is not None and loss_best.sha == shas["wide"]  # lower is better for loss
    steps = research.path().steps
    assert [step.node.sha for step in steps] == [shas[k] for k in ("base", "lr", "wide", "merge")]
    rows = research.table(all=True)
    assert [row["sha"] for row in rows] == [n.sha for n in tree.nodes]
    drop = next(row for row in rows if row["sha"] == shas["drop"])
    assert (
        drop["acc_mean"] == pytest.approx(0.65) and drop["acc_n"] == 2 and drop["verdict"] == "negligible"
    )  # inside its seeds' noise
    assert next(row for row in rows if row["sha"] == shas["lr"])["params"] == {"lr": "1e-4"}


def test_to_pandas_and_its_error_without_pandas(repo: GitRepo) -> None:
    pandas = pytest.importorskip("pandas")
    shas = small_history(repo)
    frame = gittree.open(repo.path).to_pandas(all=True)
    assert isinstance(frame, pandas.DataFrame)
    assert frame.loc[shas["lr"], "param.lr"] == "1e-4"
    assert frame.loc[shas["drop"], "acc_n"] == 2
    blocked = (
        "import sys; sys.modules['pandas'] = None; import gittree\n"
        "try:\n    gittree.open('.').to_pandas()\n"
        "except gittree.errors.MissingExtraError as e:\n    print(e.exit_code, e.hint)\n"
    )
    done = subprocess.run([sys.executable, "-c", blocked], cwd=repo.path, capture_output=True, text=True)
    assert done.stdout.strip() == "15 install it with: pip install pandas", done.stderr
    assert MissingExtraError.exit_code == 15


def test_import_gittree_stays_light() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gittree; gittree.log_metric; print(sorted(m for m in sys.modules if m.startswith(('gittree', 'pygit2', 'git', 'matplotlib'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['gittree', 'gittree.api']"


def test_the_tree_shows_itself_as_the_page_in_a_sandboxed_frame(repo: GitRepo) -> None:
    small_history(repo)
    shown = gittree.open(repo.path).tree(all=True)._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in shown
    assert "allow-same-origin" not in shown
    # Everything of the page is inside the attribute: no script or style reaches the notebook itself.
    assert "<script" not in shown and "<style" not in shown
    assert "&lt;script&gt;" in shown and "Content-Security-Policy" in shown


NOTEBOOK_CELLS = [
    "import gittree\nresearch = gittree.open(REPO)",
    "tree = research.tree(all=True)\ntree",
    "research.best(all=True).subject",
    "[step.node.subject for step in research.path().steps]",
    "frame = research.to_pandas(all=True)\nframe.shape",
    "research.plot(all=True)",
]


def test_a_notebook_runs_in_a_real_kernel(repo: GitRepo, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    small_history(repo)
    cells = [
        nbformat.v4.new_code_cell(source.replace("REPO", json.dumps(str(repo.path))))
        for source in NOTEBOOK_CELLS
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [cell.outputs for cell in notebook.cells]
    assert all(output.output_type != "error" for cell in outputs for output in cell), outputs

    def data(index: int) -> dict[str, Any]:
        (result,) = [o for o in outputs[index] if o.output_type in ("execute_result", "display_data")]
        return dict(result.data)

    page = data(1)
    assert page["text/html"].startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in page["text/html"]
    assert page["text/plain"].startswith("<gittree.Tree · 6 experiments · acc (max) · best ")
    assert data(2)["text/plain"] == "'wide + lower lr'"
    assert data(3)["text/plain"] == "['baseline', 'lower lr', 'wider layers', 'wide + lower lr']"
    assert data(4)["text/plain"] == "(6, 20)"  # 19 table columns (sha is the index) and param.lr
    svg = data(5)["image/svg+xml"]
    assert 'id="progress-frontier"' in svg and "acc (higher is better)" in svg
    notebook_file = tmp_path / "research.ipynb"
    nbformat.write(notebook, notebook_file)
    assert notebook_file.stat().st_size > 0


@pytest.mark.browser
def test_the_framed_page_works_and_keeps_to_its_frame(browser: Any, repo: GitRepo, tmp_path: Path) -> None:  # noqa: F811
    small_history(repo)
    host = tmp_path / "notebook.html"
    framed = gittree.open(repo.path).tree(all=True)._repr_html_()
    host.write_text(
        f"<!DOCTYPE html><html><body><p id='cell'>output</p>{framed}</body></html>", encoding="utf-8"
    )
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(host.as_uri())
    frame = page.frames[1]
    frame.wait_for_selector("body[data-ready=true]")
    assert frame.evaluate("document.querySelectorAll('#graph g.node.experiment').length") == 6
    # The page's style sheet and script stay in the frame: the notebook's own page is untouched,
    # and the frame's script cannot reach it (no allow-same-origin).
    assert page.evaluate("getComputedStyle(document.body).overflow") == "visible"
    assert page.evaluate("document.body.getAttribute('data-ready')") is None
    assert (
        frame.evaluate(
            "(() => { try { return !!window.parent.document; } catch (e) { return 'blocked'; } })()"
        )
        == "blocked"
    )
    assert problems == []
    page.close()
