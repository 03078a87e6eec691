"""Metrics files written by a training run: JSON or YAML numbers, nested keys joined with ``/``.

This is how DVC's ``metrics.json`` and most training scripts write their results; a list of numbers
is several samples of one metric (seeds).

A number in the file follows exactly the rules of ``--metric NAME=VALUE`` (docs/format.md, "Values"):
the loaders hand over the text as written, never a value the parser made of it. YAML 1.1 would read
``1:30`` as 90 (base 60), ``0x10`` as 16, ``017`` as 15 (octal) and ``1_000`` as 1000, yet not read
``1e-3`` as a number at all; JSON's ``1e999`` would become infinity. Here they are ``1:30``
(refused), ``0x10`` (refused), ``017`` (17), ``1_000`` (refused), ``1e-3`` and ``1e999`` (refused).
Quoted text (a JSON string, a quoted YAML scalar) and ``true`` are not numbers. The spellings of the
special values that JSON and YAML writers use (Python's ``NaN``, ``Infinity``; YAML's ``.nan``,
``.inf``) are ``nan``, ``inf``, ``-inf``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from gittree.errors import BadValueError
from gittree.trailers import is_number, parse_metric_assignment, validate_name

TYPE_CHECKING = False  # `typing` costs milliseconds of every run's start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

_NUMBER_HINT = "a metrics file holds numbers only; put text in --note or --param"
# The non-finite numbers as JSON writers (Python's json.dump) and YAML writers (YAML 1.1) spell them.
_JSON_SPECIAL = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}
_YAML_SPECIAL = {".nan": "nan", ".inf": "inf", "+.inf": "inf", "-.inf": "-inf"}
_NUMBER_TAG = "tag:gittree:number"
# YAML resolvers kept: an empty value is null, `<<` merges. Every other plain scalar is number text.
_YAML_KEPT = ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")


class _Literal(str):
    """A number as the file wrote it (a JSON number, a plain YAML scalar), not yet read."""


def read_metrics_file(path: Path, *, problems: list[BadValueError] | None = None) -> list[tuple[str, str]]:
    """``(name, value text)`` pairs from a JSON or YAML file, in file order.

    A bad name or value raises :class:`BadValueError` (``gittree commit`` refuses the file), unless
    ``problems`` is given: then it is appended there and the other values are kept (``gittree run``,
    whose command has already run). A file that cannot be read, parsed or is not a mapping always raises.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise BadValueError(f"cannot read the metrics file {path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise BadValueError(f"the metrics file {path} is not UTF-8 text") from e
    yaml_first = path.suffix.lower() in (".yaml", ".yml")
    return parse_metrics_text(text, source=str(path), yaml_first=yaml_first, problems=problems)


def parse_metrics_text(
    text: str, *, source: str, yaml_first: bool = False, problems: list[BadValueError] | None = None
) -> list[tuple[str, str]]:
    data = _load(text, source, yaml_first)
    if not isinstance(data, dict):
        raise BadValueError(
            f"{source}: expected a mapping of metric names to numbers",
            hint='for example {"acc": 0.91, "val": {"loss": 0.3}}',
        )
    pairs: list[tuple[str, str]] = []
    for name, value in _leaves(_without_step_counter(data), ""):
        try:
            pairs.append(_metric(name, value))
        except BadValueError as e:
            if problems is None:
                raise BadValueError(f"{source}: {e.message}", hint=e.hint) from e
            problems.append(e)
    return pairs


def load_as_written(text: str, source: str, *, yaml_first: bool) -> Any:
    """JSON or YAML data whose numbers (and YAML's plain scalars) are kept as the text written
    (:class:`str` subclasses), for the params file too (docs/runs.md, "Params files")."""
    return _load(text, source, yaml_first)


def _load(text: str, source: str, yaml_first: bool) -> Any:
    if not yaml_first:
        try:
            return json.loads(text, parse_float=_Literal, parse_int=_Literal, parse_constant=_json_constant)
        except ValueError:
            pass
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as e:
        raise BadValueError(f"{source} is neither valid JSON nor valid YAML: {e}") from e


def _yaml_loader() -> type[Any]:
    """PyYAML's SafeLoader, but a plain scalar (``0.5``, ``1:30``, ``true``) arrives as the text written."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag in _YAML_KEPT]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(_NUMBER_TAG, re.compile(r".*", re.DOTALL), None)
    Loader.add_constructor(_NUMBER_TAG, _yaml_number)
    return Loader


def _json_constant(text: str) -> _Literal:
    return _Literal(_JSON_SPECIAL[text])


def _yaml_number(loader: Any, node: Any) -> _Literal:
    text = str(loader.construct_scalar(node))
    return _Literal(_YAML_SPECIAL.get(text.lower(), text))


def _without_step_counter(data: dict[Any, Any]) -> dict[Any, Any]:
    """The file's metrics without DVCLive's step counter: its ``metrics.json`` holds, beside the
    metrics, the step they were logged at as a top-level integer ``step``. Taken as a metric, it was
    judged (no configured metric, a tie broken by name: ``step`` before ``train/…`` and ``val/…``) and
    the run that trained longest was the best. A file holding ``step`` alone keeps it."""
    step = data.get("step")
    if len(data) < 2 or not isinstance(step, _Literal) or not step.isdigit():
        return data
    return {key: value for key, value in data.items() if key != "step"}


def _leaves(data: dict[Any, Any], prefix: str) -> list[tuple[str, Any]]:
    """``(name, value)`` for every value, nested keys joined with ``/``, a list's items one by one."""
    leaves: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            leaves += _leaves(value, name)
        elif isinstance(value, list):
            leaves += [(name, item) for item in value]
        else:
            leaves.append((name, value))
    return leaves


def _metric(name: str, value: Any) -> tuple[str, str]:
    validate_name(name)
    if not isinstance(value, _Literal):
        raise _not_a_number(name, value)
    try:
        return parse_metric_assignment(f"{name}={value}")
    except BadValueError as e:
        raise BadValueError(e.message, hint=e.hint or _NUMBER_HINT) from e


def _not_a_number(name: str, value: Any) -> BadValueError:
    """A value that is not number text at all: null, true, a quoted string, a date given a YAML tag."""
    if value is None:
        return BadValueError(f"'{name}' has no value, not a number", hint=_NUMBER_HINT)
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    quoted = isinstance(value, str) and is_number(value)
    hint = "write the number without quotes: quoted, it is text" if quoted else _NUMBER_HINT
    return BadValueError(f"'{name}' is {shown}, not a number", hint=hint)
