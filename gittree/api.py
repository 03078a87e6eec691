"""The tiny API a training script calls: ``gittree.log_metric("acc", 0.91)``.

Inside ``gittree run``, each call appends one JSON line to the file named by ``$GITTREE_METRICS_FILE``
(format in docs/runs.md); outside a run it does nothing, so a script works the same with or without
gittree. This module imports only the standard library: ``import gittree`` stays cheap.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import SupportsFloat

#: One number, or several samples of one metric (folds of a cross-validation, seeds run by the script).
Value = SupportsFloat | Sequence[SupportsFloat]

#: The environment variable ``gittree run`` sets for its command.
METRICS_FILE_ENV = "GITTREE_METRICS_FILE"


def log_metric(name: str, value: Value, *, step: int | None = None) -> None:
    """Record one metric of the current run; the last value logged for a name is the one committed.

    ``value`` is anything ``float()`` accepts except text and booleans (ints, floats, NumPy and PyTorch
    scalars), or a list (tuple) of them: several samples of the metric, such as the folds of a
    cross-validation, committed as samples the way seeds are (docs/runs.md). Raises ``ValueError`` for a
    name gittree cannot store and ``TypeError`` for a value that is not a number. Does nothing outside
    ``gittree run``.
    """
    log_metrics({name: value}, step=step)


def log_metrics(values: Mapping[str, Value], *, step: int | None = None) -> None:
    """Record several metrics at once (one write, so concurrent writers never interleave inside a line)."""
    path = os.environ.get(METRICS_FILE_ENV)
    if not path:
        return
    now = time.time()
    lines = [_line(name, value, step, now) for name, value in values.items()]
    if not lines:
        return
    data = "".join(lines).encode("utf-8")
    # O_APPEND: every write lands at the end of the file, whole, even with several writers.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _line(name: str, value: Value, step: int | None, now: float) -> str:
    from gittree.errors import BadValueError
    from gittree.trailers import validate_name

    try:
        validate_name(name)
    except BadValueError as e:
        raise ValueError(e.message) from None
    record: dict[str, object] = {"name": name}
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"metric {name!r}: an empty list has no sample")
        record["values"] = [_json_number(_number(name, item)) for item in value]
    else:
        record["value"] = _json_number(_number(name, value))
    record["time"] = round(now, 3)
    if step is not None:
        record["step"] = int(step)
    return json.dumps(record, allow_nan=False) + "\n"


def _number(name: str, value: object) -> float:
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TypeError(f"metric {name!r}: {value!r} is not a number")
    return float(value)  # type: ignore[arg-type]


def _json_number(x: float) -> float | str:
    """JSON has no NaN or infinity: they travel as "nan", "inf", "-inf" (as in ``show --json``)."""
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"
