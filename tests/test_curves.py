"""Curves: log_metric(step=) lines read back, downsampled by window min and max, overlaid by gittree plot --curves."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittree.curves import CURVE_POINTS, Curve, curves_from_logged, downsample
from tests.conftest import GitRepo
from tests.runtools import PYTHON, gittree_process, only_run, run_dir

SVG = "{http://www.w3.org/2000/svg}"


def logged(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def test_logged_lines_become_curves_in_step_order() -> None:
    text = (
        logged(
            {"name": "loss", "value": 2.0, "step": 10},
            {"name": "loss", "value": 3.0, "step": 0},
            {"name": "acc", "value": 0.1},
            {"name": "acc", "value": 0.2},
            {"name": "loss", "value": "nan", "step": 20},  # not a number a curve can draw
            {"name": "loss", "value": True, "step": 30},
        )
        + "not json\n"
    )
    curves = curves_from_logged(text)
    assert curves["loss"] == Curve("loss", (0.0, 10.0), (3.0, 2.0), 2)
    assert curves["acc"].steps == (0.0, 1.0)  # no step: one after the other


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=3000), st.integers(4, 500))
def test_downsampling_keeps_the_ends_the_extremes_and_the_order(values: list[float], points: int) -> None:
    curve = Curve("x", tuple(float(i) for i in range(len(values))), tuple(values), len(values))
    small = downsample(curve, points)
    assert len(small.steps) <= max(points, 2) + 1 or len(values) <= points
    assert len(small.steps) <= len(values)
    assert small.steps[0] == 0 and small.steps[-1] == len(values) - 1
    assert list(small.steps) == sorted(small.steps)
    assert min(small.values) == min(values) and max(small.values) == max(values)
    assert small.total == len(values)


def test_a_spike_survives_downsampling() -> None:
    values = [1.0] * 100_000
    values[61_234] = 50.0  # ten thousand windows' worth of calm, one step of divergence
    curve = Curve("loss", tuple(float(i) for i in range(len(values))), tuple(values), len(values))
    small = downsample(curve)
    assert len(small.steps) <= CURVE_POINTS + 1
    assert (61_234.0, 50.0) in zip(small.steps, small.values, strict=True)


SCRIPT = """
import gittree
for step in range(STEPS):
    gittree.log_metric("loss", 1.0 / (step + 1) + (5.0 if step == SPIKE else 0.0), step=step)
gittree.log_metric("acc", 0.5 + OFFSET)
"""


def run_script(repo: GitRepo, name: str, steps: int, spike: int, offset: float) -> str:
    repo.write(
        f"{name}.py",
        SCRIPT.replace("STEPS", str(steps)).replace("SPIKE", str(spike)).replace("OFFSET", str(offset)),
    )
    repo.git("add", "-A")
    repo.git("commit", "-qm", f"add {name}")
    done = gittree_process("run", "-m", name, "--", PYTHON, f"{name}.py", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    return repo.head()


def test_plot_curves_overlays_the_runs_of_the_experiments_named(repo: GitRepo, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    first = run_script(repo, "long", 20_000, 12_345, 0.0)
    entry = only_run(repo.path)
    whole = (run_dir(repo.path, entry["id"]) / "logged.jsonl").read_text()
    assert whole.count('"loss"') == 20_000  # the journal keeps the whole curve
    second = run_script(repo, "short", 50, 10, 0.1)
    out = tmp_path / "curves.svg"
    done = gittree_process("plot", "--curves", first, second, "-m", "loss", "-o", str(out), cwd=repo.path)
    assert done.returncode == 0, done.stderr
    root = ET.fromstring(out.read_bytes())
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert {"curve-0", "curve-1"} <= ids
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any(t.startswith(f"{first[:7]} long") and "of 20,000 points" in t for t in texts), texts
    assert f"{second[:7]} short" in texts, texts[-4:]
    assert out.stat().st_size < 200_000  # 20,000 steps drawn as a few hundred points


def test_plot_curves_of_an_experiment_without_one_says_where_curves_come_from(repo: GitRepo) -> None:
    pytest.importorskip("matplotlib")
    sha = repo.experiment("by hand", metrics=[("acc", 0.5)])
    done = gittree_process("plot", "--curves", sha, cwd=repo.path)
    assert done.returncode == 1
    assert f"no curve recorded for {sha[:7]}" in done.stderr
    assert "log_metric(name, value, step=N)" in done.stderr
    assert gittree_process("plot", "--curves", cwd=repo.path).returncode == 6


def dvclive_tsv(name: str, rows: list[tuple[int, float]]) -> str:
    """A metric history as DVCLive writes it: timestamp, step and the metric's last path component."""
    leaf = name.rsplit("/", 1)[-1]
    return f"timestamp\tstep\t{leaf}\n" + "".join(f"{1_772_400_000_000 + s}\t{s}\t{v}\n" for s, v in rows)


def test_dvclive_histories_are_read_as_they_are() -> None:
    from gittree.curves import curves_from_dvclive

    files = {
        "dvclive/plots/metrics/train/loss.tsv": dvclive_tsv(
            "train/loss", [(1, 0.5), (0, 0.9), (2, 0.3)]
        ).encode(),
        "dvclive/plots/metrics/acc.json": json.dumps(
            [{"step": 0, "acc": 0.1}, {"step": 1, "acc": "0.2"}]
        ).encode(),
        "dvclive/plots/metrics/bad.tsv": b"timestamp\tstep\tbad\n1\tx\t0.1\n2\t3\tnan\n4\t5\n",
        "dvclive/plots/metrics/notes.txt": b"not a history",
        "dvclive/plots/metrics/broken.json": b"{not json",
    }
    curves = curves_from_dvclive(files)
    assert set(curves) == {"train/loss", "acc"}
    assert curves["train/loss"] == Curve("train/loss", (0.0, 1.0, 2.0), (0.9, 0.5, 0.3), 3)
    assert curves["acc"].values == (0.1, 0.2)


def test_committed_dvclive_curves_travel_with_the_commit(repo: GitRepo, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    repo.write(
        "dvclive/plots/metrics/train/loss.tsv",
        dvclive_tsv("train/loss", [(s, 1 / (s + 1)) for s in range(3000)]),
    )
    repo.write(
        "dvclive/plots/metrics/val/loss.tsv",
        dvclive_tsv("val/loss", [(s, 2 / (s + 1)) for s in range(0, 3000, 100)]),
    )
    sha = repo.commit("wider MLP\n\nGittree-Metric: val_loss=0.0007\n")
    clone = tmp_path / "clone"
    repo.git("clone", "-q", str(repo.path), str(clone))
    out = tmp_path / "curves.svg"
    done = gittree_process("plot", "--curves", sha, "-m", "train/loss", "-o", str(out), cwd=clone)
    assert done.returncode == 0, done.stderr
    texts = ["".join(t.itertext()) for t in ET.fromstring(out.read_bytes()).iter(f"{SVG}text")]
    assert any(t.startswith(f"{sha[:7]} wider MLP") and "of 3,000 points)" in t for t in texts), texts[-3:]
    assert "curves · train/loss" in texts
    wrong = gittree_process("plot", "--curves", sha, "-m", "acc", cwd=clone)
    assert wrong.returncode == 6 and "curves logged: train/loss, val/loss" in wrong.stderr
