"""Metrics files written by a training run: JSON or YAML numbers, nested keys joined with ``/``.

This is how DVC's ``metrics.json`` and most training scripts write their results; a list of numbers
is several samples of one metric (seeds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gittree.errors import BadValueError
from gittree.trailers import format_number, validate_name


def read_metrics_file(path: Path) -> list[tuple[str, str]]:
    """``(name, value text)`` pairs from a JSON or YAML file, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise BadValueError(f"cannot read the metrics file {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise BadValueError(f"the metrics file {path} is not UTF-8 text") from e
    return parse_metrics_text(text, source=str(path), yaml_first=path.suffix.lower() in (".yaml", ".yml"))


def parse_metrics_text(text: str, *, source: str, yaml_first: bool = False) -> list[tuple[str, str]]:
    data = _load(text, source, yaml_first)
    if not isinstance(data, dict):
        raise BadValueError(
            f"{source}: expected a mapping of metric names to numbers",
            hint='for example {"acc": 0.91, "val": {"loss": 0.3}}',
        )
    pairs: list[tuple[str, str]] = []
    _flatten(data, "", pairs, source)
    return pairs


def _load(text: str, source: str, yaml_first: bool) -> Any:
    if not yaml_first:
        try:
            return json.loads(text)
        except ValueError:
            pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise BadValueError(f"{source} is neither valid JSON nor valid YAML: {e}") from e


def _flatten(data: Any, prefix: str, out: list[tuple[str, str]], source: str) -> None:
    for key, value in data.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            _flatten(value, name, out, source)
        elif isinstance(value, list):
            for item in value:
                out.append((validate_name(name), _number_text(item, name, source)))
        else:
            out.append((validate_name(name), _number_text(value, name, source)))


def _number_text(value: Any, name: str, source: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadValueError(
            f"{source}: '{name}' is {value!r}, not a number",
            hint="a metrics file holds numbers only; put text in --note or --param",
        )
    if isinstance(value, int):
        return str(value)
    return format_number(value)
