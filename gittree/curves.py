"""Metric curves: the values a run logged step by step, and their downsampled form for pictures.

Pure: text in, :class:`Curve` out. ``gittree.log_metric(name, value, step=N)`` appends one JSON line
per call to the run's journal (``logged.jsonl``, docs/runs.md), which keeps the whole curve;
:func:`curves_from_logged` reads those lines back, and :func:`downsample` keeps a few hundred points
that still show every spike (each window's minimum and maximum). Rules: docs/render.md ("Curves").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

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
