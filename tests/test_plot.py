"""gittree plot: the progress chart's data (gittree.tree.progress), read back from the figure's artists and the SVG."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from gittree import gitio
from gittree.model import ResearchTree
from gittree.read import Selection, load_tree
from gittree.tree.progress import progress_of
from tests.conftest import GitRepo, Result
from tests.render_support import small_history

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}"


def tree_of(repo: GitRepo, metric: str | None = None) -> ResearchTree:
    return load_tree(gitio.open_repo(repo.path), Selection(all_refs=True, metric=metric))


def artist(figure: Any, gid: str) -> Any:
    found = [a for a in figure.axes[0].get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {found}"
    return found[0]


def offsets(figure: Any, gid: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in artist(figure, gid).get_offsets()]


def test_progress_orders_by_date_and_steps_the_best_so_far(repo: GitRepo) -> None:
    shas = small_history(repo)
    progress = progress_of(tree_of(repo))
    assert [p.node.sha for p in progress.points] == [
        shas[k] for k in ("base", "lr", "wide", "drop", "dead", "merge")
    ]
    assert [p.node.sha for p in progress.new_bests] == [shas[k] for k in ("base", "lr", "drop", "merge")]
    assert progress.frontier == ((0, 0.5), (1, 0.62), (3, pytest.approx(0.65)), (5, 0.70))
    assert progress.points[4].best_so_far == pytest.approx(0.65)  # the dead end changes nothing


def test_lower_is_better_is_respected_and_dead_ends_never_set_a_best(repo: GitRepo) -> None:
    shas = small_history(repo)
    repo.branch("exp/dead", shas["merge"])
    repo.experiment("broken loss", metrics=[("loss", 0.01)], status="failed")
    progress = progress_of(tree_of(repo, "loss"))
    assert [p.node.subject for p in progress.new_bests] == ["baseline", "lower lr", "wider layers"]
    # the step line runs on to the last experiment at the best value
    assert progress.frontier == ((0, 1.0), (1, 0.9), (2, 0.7), (6, 0.7))
    assert progress.points[-1].failed and not progress.points[-1].new_best


def test_the_figure_holds_the_data(repo: GitRepo) -> None:
    from gittree.render.chart import progress_figure

    shas = small_history(repo)
    figure = progress_figure(progress_of(tree_of(repo)))
    assert offsets(figure, "progress-better") == [(1, 0.62), (5, 0.70)]
    assert offsets(figure, "progress-negligible") == [(3, pytest.approx(0.65))]  # inside its seeds' noise
    assert offsets(figure, "progress-worse") == [(2, 0.61)]
    assert offsets(figure, "progress-baseline") == [(0, 0.5)]
    assert offsets(figure, "progress-abandoned") == [(4, 0.41)]
    frontier = artist(figure, "progress-frontier")
    assert list(frontier.get_xdata()) == [0, 1, 3, 5]
    assert frontier.get_drawstyle() == "steps-post"
    labels = {a.get_gid(): a.get_text() for a in figure.axes[0].texts}
    assert labels == {
        f"progress-label-{shas[k]}": subject
        for k, subject in (
            ("base", "baseline"),
            ("lr", "lower lr"),
            ("drop", "dropout 0.1"),
            ("merge", "wide + lower lr"),
        )
    }
    # the seeds of "dropout 0.1" (0.66, 0.64) as an error bar of ± their std around the mean
    from matplotlib.collections import LineCollection

    (bars,) = [
        a
        for a in figure.axes[0].get_children()
        if a.get_gid() == "progress-noise" and isinstance(a, LineCollection)
    ]
    ((x0, low), (x1, high)) = bars.get_segments()[0]
    assert (x0, x1) == (3, 3)
    assert high - low == pytest.approx(2 * 0.0141421, rel=1e-4)
    assert figure.axes[0].get_ylabel() == "acc (higher is better)"


def test_the_svg_names_its_groups_and_keeps_text_inert(repo: GitRepo) -> None:
    from gittree.render.plot import plot_bytes

    repo.experiment("baseline", metrics=[("loss", 2.0)])
    hostile = "$\\frac{x}{ <script>alert(1)</script> & \x1b[31m"
    repo.experiment(hostile, metrics=[("loss", 1.0)])
    svg = plot_bytes(tree_of(repo), "svg")
    root = ET.fromstring(svg)  # well-formed XML: the subject's < and & were escaped
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert {"progress-frontier", "progress-baseline", "progress-better"} <= ids
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any(t.startswith("$\\frac{x}{ <script>alert(1)</script> &") for t in texts), texts
    assert b"<script" not in svg
    assert "loss (lower is better)" in texts
    assert plot_bytes(tree_of(repo), "svg") == svg  # no date, no random ids: the same chart, the same bytes


def test_plot_writes_each_format_by_its_extension(repo: GitRepo, gittree: Any, tmp_path: Path) -> None:
    small_history(repo)
    for name, magic in (("chart.svg", b"<?xml"), ("chart.png", b"\x89PNG"), ("chart.pdf", b"%PDF")):
        result: Result = gittree("plot", "--all", "-o", str(tmp_path / name))
        assert result.code == 0, result.err
        assert (tmp_path / name).read_bytes().startswith(magic)
    result = gittree("plot", "-o", str(tmp_path / "chart.gif"))
    assert result.code == 6
    assert "name it .svg, .png or .pdf" in result.err


def test_plot_without_matplotlib_says_how_to_install_it(repo: GitRepo) -> None:
    small_history(repo)
    blocked = "import sys; sys.modules['matplotlib'] = None; from gittree.cli import main; main(['plot'])"
    done = subprocess.run(
        [sys.executable, "-c", blocked], cwd=repo.path, capture_output=True, text=True, env=dict(os.environ)
    )
    assert done.returncode == 15
    assert "matplotlib" in done.stderr
    assert "pip install 'gittree[plot]'" in done.stderr
    assert done.stdout == ""


def test_plot_of_a_history_without_numbers_says_how_to_record_one(repo: GitRepo, gittree: Any) -> None:
    repo.experiment("an idea", notes=["no number yet"])
    result = gittree("plot", "-o", "chart.svg")
    assert result.code == 6
    assert "no experiment in this history records a metric" in result.err
    assert not (repo.path / "chart.svg").exists()
