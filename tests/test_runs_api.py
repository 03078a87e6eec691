"""`gittree.log_metric`: a no-op outside a run, one JSON line per value inside one, and a cheap import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import gittree


def test_outside_a_run_it_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    gittree.log_metric("acc", 0.91)
    gittree.log_metrics({"acc": 0.9, "loss": 0.1})
    assert list(tmp_path.iterdir()) == []


def test_inside_a_run_each_value_is_a_json_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "logged.jsonl"
    monkeypatch.setenv("GITTREE_METRICS_FILE", str(target))
    gittree.log_metric("acc", 0.91, step=3)
    gittree.log_metrics({"loss": 2, "val/bpb": float("nan"), "top": float("-inf")})
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["name"], r["value"]) for r in records] == [
        ("acc", 0.91),
        ("loss", 2.0),
        ("val/bpb", "nan"),
        ("top", "-inf"),
    ]
    assert records[0]["step"] == 3 and "time" in records[0]


def test_bad_names_and_values_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITTREE_METRICS_FILE", str(tmp_path / "m.jsonl"))
    with pytest.raises(ValueError, match="acc top1"):
        gittree.log_metric("acc top1", 0.5)
    for bad in ("0.5", True, None, ["0.5"], [0.5, None]):
        with pytest.raises(TypeError):
            gittree.log_metric("acc", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty list"):
        gittree.log_metric("acc", [])
    assert not (tmp_path / "m.jsonl").exists()


def test_a_list_is_several_samples_of_one_metric(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.jsonl"
    monkeypatch.setenv("GITTREE_METRICS_FILE", str(path))
    gittree.log_metric("acc", (0.5, 0.75))
    (line,) = path.read_text().splitlines()
    assert json.loads(line)["values"] == [0.5, 0.75]


def test_numpy_like_scalars_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Scalar:  # what numpy.float32 and a 0-d torch tensor offer
        def __float__(self) -> float:
            return 0.25

    monkeypatch.setenv("GITTREE_METRICS_FILE", str(tmp_path / "m.jsonl"))
    gittree.log_metric("acc", Scalar())
    assert json.loads((tmp_path / "m.jsonl").read_text())["value"] == 0.25


def test_importing_gittree_loads_no_heavy_library() -> None:
    code = (
        "import sys, gittree; gittree.log_metric('acc', 1.0); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'git', 'pygit2', 'typer', 'click', 'yaml', 'pydot', 'tabulate'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    target = tmp_path / "logged.jsonl"
    script = (
        "import gittree, sys\n"
        "for i in range(300):\n"
        "    gittree.log_metrics({f'w{sys.argv[1]}/m{i}': i, 'shared': i})\n"
    )
    env = {**__import__("os").environ, "GITTREE_METRICS_FILE": str(target)}
    writers = [subprocess.Popen([sys.executable, "-c", script, str(n)], env=env) for n in range(4)]
    assert all(writer.wait() == 0 for writer in writers)
    lines = target.read_text().splitlines()
    assert len(lines) == 4 * 300 * 2
    assert all(json.loads(line)["name"] for line in lines)
