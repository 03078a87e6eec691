"""Metric curves: the values a run logged step by step, and their downsampled form for pictures.

Pure: text in, :class:`Curve` out. ``gittree.log_metric(name, value, step=N)`` appends one JSON line
per call to the run's journal (``logged.jsonl``, docs/runs.md), which keeps the whole curve;
:func:`curves_from_logged` reads those lines back, and :func:`downsample` keeps a few hundred points
that still show every spike (each window's minimum and maximum). Rules: docs/render.md ("Curves").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

TYPE_CHECKING = False  # `typing` costs milliseconds of every run's start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

#: Points a downsampled curve keeps at most (two per window, plus the first and the last).
CURVE_POINTS = 400


@dataclass(frozen=True)
class Curve:
    name: str
    steps: tuple[float, ...]
    values: tuple[float, ...]
    #: how many points the whole curve had (more than ``len(steps)`` once downsampled).
    total: int

    @property
    def downsampled(self) -> bool:
        return len(self.steps) < self.total


def curves_from_logged(text: str) -> dict[str, Curve]:
    """The curves in ``log_metric``'s JSON lines, by metric name, in step order.

    A line without a step takes the place after the name's previous one (a script that logs in a loop
    without ``step=`` still has a curve). Lines that are not a name and a finite number are skipped:
    the run's metrics, read from the same file, already warned about them.
    """
    points: dict[str, list[tuple[float, int, float]]] = {}
    for order, line in enumerate(text.splitlines()):
        try:
            record = json.loads(line)
            name, value = record["name"], record["value"]
        except (ValueError, KeyError, TypeError):
            continue
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            continue
        series = points.setdefault(name, [])
        step = record.get("step")
        if isinstance(step, bool) or not isinstance(step, (int, float)):
            step = series[-1][0] + 1 if series else 0
        series.append((float(step), order, float(value)))
    curves = {}
    for name, series in points.items():
        series.sort()  # by step, then by the order logged
        curves[name] = Curve(
            name, tuple(s for s, _, _ in series), tuple(v for _, _, v in series), len(series)
        )
    return curves


def downsample(curve: Curve, points: int = CURVE_POINTS) -> Curve:
    """At most ``points`` points: the first, the last, and each window's minimum and maximum in step order.

    Averaging would hide the spike that matters (a loss that exploded for ten steps); the minimum and
    maximum of each window keep it, and the curve drawn through them has the original's envelope.
    """
    count = len(curve.steps)
    if count <= points:
        return curve
    windows = max(1, (points - 2) // 2)
    size = math.ceil((count - 2) / windows)
    keep = {0, count - 1}
    for start in range(1, count - 1, size):
        window = range(start, min(start + size, count - 1))
        keep.add(min(window, key=curve.values.__getitem__))
        keep.add(max(window, key=curve.values.__getitem__))
    chosen = sorted(keep)
    return Curve(
        curve.name,
        tuple(curve.steps[i] for i in chosen),
        tuple(curve.values[i] for i in chosen),
        curve.total,
    )


# -- DVCLive's layout -------------------------------------------------------------------------------

#: Where DVCLive writes each metric's history: ``<folder>/plots/metrics/<name>.tsv`` (``train/loss.tsv``).
DVCLIVE_METRICS = "dvclive/plots/metrics"


def curves_from_dvclive(files: dict[str, bytes], folder: str = DVCLIVE_METRICS) -> dict[str, Curve]:
    """The curves in DVCLive's metric history files, by metric name (the path below ``folder``, no suffix).

    ``.tsv``: a header ``timestamp  step  <name>`` then one row per step, as DVCLive writes them;
    ``.json``: a list of ``{"step": N, "<name>": value}`` objects (DVC's data-series layout). A row
    without a finite number is skipped; a file in neither shape is left out.
    """
    curves = {}
    prefix = folder.rstrip("/") + "/"
    for path, data in sorted(files.items()):
        name, dot, suffix = path.removeprefix(prefix).rpartition(".")
        if not dot or suffix not in ("tsv", "json"):
            continue
        text = data.decode("utf-8", "replace")
        rows = _tsv_rows(text) if suffix == "tsv" else _json_rows(text)
        points = sorted(rows)
        if points:
            curves[name] = Curve(name, tuple(s for s, _ in points), tuple(v for _, v in points), len(points))
    return curves


def _number(text: object) -> float | None:
    if isinstance(text, bool):
        return None
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _tsv_rows(text: str) -> list[tuple[float, float]]:
    lines = text.splitlines()
    if not lines:
        return []
    header = lines[0].split("\t")
    if "step" not in header:
        return []
    step_at = header.index("step")
    value_at = next(
        (i for i in range(len(header) - 1, -1, -1) if header[i] not in ("step", "timestamp")), None
    )
    if value_at is None:
        return []
    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) != len(header):
            continue
        step, value = _number(cells[step_at]), _number(cells[value_at])
        if step is not None and value is not None:
            rows.append((step, value))
    return rows


def _json_rows(text: str) -> list[tuple[float, float]]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    rows = []
    for record in data:
        if not isinstance(record, dict) or "step" not in record:
            continue
        others = [key for key in record if key not in ("step", "timestamp")]
        step = _number(record["step"])
        value = _number(record[others[-1]]) if others else None
        if step is not None and value is not None:
            rows.append((step, value))
    return rows


# -- Curves stored in git (docs/format.md, "Curves") --------------------------------------------------

#: The first line of every stored run's paragraph names the format and its version.
STORED_FORMAT = "gittree-curves"
STORED_VERSION = 1


@dataclass(frozen=True)
class StoredRun:
    """The curves one run logged, as kept with its experiment in git (downsampled)."""

    run: str
    seed: str | None
    curves: dict[str, Curve]


def stored_paragraph(run: StoredRun) -> list[str]:
    """The lines of one run's paragraph in the curves note: a header, then one JSON line per metric.

    Each line is compact JSON (no blank line can appear inside a paragraph, so git's paragraph joining
    and sync's paragraph merge keep a run whole). Steps that are whole numbers are written as integers.
    """
    header = {"format": STORED_FORMAT, "version": STORED_VERSION, "run": run.run, "seed": run.seed}
    lines = [json.dumps(header, ensure_ascii=False, separators=(",", ":"))]
    for name in sorted(run.curves):
        curve = run.curves[name]
        record = {
            "name": name,
            "total": curve.total,
            "steps": step_numbers(curve.steps),
            "values": list(curve.values),
        }
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
    return lines


def step_numbers(steps: Iterable[float]) -> list[float | int]:
    """Steps as JSON writes them best: whole numbers as integers (``40``, not ``40.0``)."""
    return [int(s) if s.is_integer() and abs(s) < 2**53 else s for s in steps]


def curve_entries(
    order: Iterable[str], stored: Mapping[str, Sequence[StoredRun]]
) -> Iterator[dict[str, Any]]:
    """The ``curves`` of ``show --json`` and ``export`` (docs/export.md): one entry per stored run, the
    experiments in ``order``, each run's metrics by name."""
    for sha in order:
        for run in stored.get(sha, ()):
            yield {
                "sha": sha,
                "run": run.run,
                "seed": run.seed,
                "metrics": {
                    name: {
                        "steps": step_numbers(curve.steps),
                        "values": list(curve.values),
                        "total": curve.total,
                    }
                    for name, curve in sorted(run.curves.items())
                },
            }


def parse_stored(text: str) -> list[StoredRun]:
    """The runs in a curves note, in the order written. A paragraph of another format or a newer version
    is left out (a later gittree wrote it: updating gittree reads it), and so is a line that is not a
    curve with as many finite values as steps."""
    runs = []
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        header = _json_object(lines[0])
        if header is None or header.get("format") != STORED_FORMAT or not _is_version(header.get("version")):
            continue
        run, seed = header.get("run"), header.get("seed")
        if not isinstance(run, str):
            continue
        curves = {}
        for line in lines[1:]:
            curve = _stored_curve(_json_object(line))
            if curve is not None:
                curves[curve.name] = curve
        runs.append(StoredRun(run, seed if isinstance(seed, str) else None, curves))
    return runs


def _is_version(value: object) -> bool:
    return type(value) is int and value == STORED_VERSION  # not True, not 1.0


def _json_object(line: str) -> dict[str, object] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _stored_curve(record: dict[str, object] | None) -> Curve | None:
    if record is None:
        return None
    name, total, steps, values = (record.get(key) for key in ("name", "total", "steps", "values"))
    if not isinstance(name, str) or not isinstance(steps, list) or not isinstance(values, list):
        return None
    numbers = [_number(x) if isinstance(x, (int, float)) else None for x in (*steps, *values)]
    if len(steps) != len(values) or any(x is None for x in numbers):
        return None
    count = len(steps)
    if isinstance(total, bool) or not isinstance(total, int) or total < count:
        total = count
    return Curve(
        name,
        tuple(float(x) for x in numbers[:count] if x is not None),
        tuple(float(x) for x in numbers[count:] if x is not None),
        total,
    )
