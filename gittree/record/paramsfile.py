"""The params file: a whole configuration (DVC's ``params.yaml``) recorded as ``Gittree-Param`` trailers.

``gittree run``, ``gittree commit`` (and a sweep's points) read ``run.params_file`` from .gittree.yaml,
else ``params.yaml``, else ``params.json``, at the top of the working tree, as the code being
recorded holds it: the tree a run saved when it started, the index a commit commits. The rules
(docs/runs.md, "Params files"):

* nested mappings are flattened with dots: ``model: {depth: 6}`` is ``model.depth=6``;
* a value is kept as the file writes it (``3e-4`` stays ``3e-4``, ``true`` stays ``true``; a quoted
  string loses its quotes; an empty value or ``null`` is ``null``);
* a list is one param, written compactly as ``[32, 64]`` (a mapping inside it as ``{units: 32}``): a
  change anywhere in it is one change of one param, as DVC shows a list;
* ``--param NAME=VALUE`` overrides the file's key of that name (in place), or adds one.

:func:`flatten_params` is pure; :func:`params_from_file` asks git for the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gittree.errors import BadValueError
from gittree.trailers import parse_assignment, validate_name

TYPE_CHECKING = False  # `typing` costs milliseconds of every run's start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    from gittree import gitio

#: Looked for in this order when ``run.params_file`` is not set.
DEFAULT_PARAMS_FILES = ("params.yaml", "params.json")


@dataclass(frozen=True)
class ParamsFile:
    """A params file found in the code being recorded, and the params it holds."""

    path: str
    params: tuple[tuple[str, str], ...]


def flatten_params(
    text: str, *, source: str, yaml_first: bool = True, problems: list[BadValueError] | None = None
) -> tuple[tuple[str, str], ...]:
    """``(name, value)`` for every leaf of a params file, nested keys joined with ``.``, in file order.

    A key or value that cannot be a param (a blank in a key, a value spanning lines) raises
    :class:`BadValueError`, unless ``problems`` is given: then it is appended there and skipped
    (``gittree run``, whose command runs anyway). A file that is not a mapping always raises.
    """
    from gittree.record.metricsfile import load_as_written

    data = load_as_written(text, source, yaml_first=yaml_first)
    if data is None:
        return ()  # an empty file: no params
    if not isinstance(data, dict):
        raise BadValueError(
            f"{source}: expected a mapping of param names to values",
            hint="for example: train: {lr: 3e-4, epochs: 10}",
        )
    pairs: list[tuple[str, str]] = []
    for name, value in _leaves(data, ""):
        try:
            pairs.append(
                parse_assignment(f"{validate_name(name, kind='param')}={_text(value)}", kind="param")
            )
        except BadValueError as e:
            if problems is None:
                raise BadValueError(f"{source}: {e.message}", hint=e.hint) from e
            problems.append(BadValueError(f"{source}: {e.message}"))
    return tuple(pairs)


def _leaves(data: dict[Any, Any], prefix: str) -> list[tuple[str, Any]]:
    leaves: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            leaves += _leaves(value, name)
        else:
            leaves.append((name, value))
    return leaves


def _text(value: Any) -> str:
    """A value as the file wrote it; lists and mappings inside lists compactly, on one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # JSON's true and false (YAML's arrive as the text written)
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_text(item)}" for key, item in value.items()) + "}"
    text = str(value)
    return text if text.strip() else "''"  # an empty string is a value, not a missing one


def merge_params(
    from_file: Sequence[tuple[str, str]], overrides: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """The file's params with ``overrides`` (``--param``, a sweep point's grid values) applied: a name
    the file has keeps its place with the new value; a new name is added at the end."""
    merged = dict(from_file)
    merged.update(overrides)
    return tuple(merged.items())


def params_file_name(configured: str | None, exists: Callable[[str], bool]) -> str | None:
    """The params file to read: ``configured`` (``run.params_file``), else the first of
    :data:`DEFAULT_PARAMS_FILES` for which ``exists(path)`` is true."""
    if configured:
        return configured
    return next((name for name in DEFAULT_PARAMS_FILES if exists(name)), None)


def params_from_file(
    repo: gitio.Repo,
    configured: str | None,
    *,
    tree: str | None = None,
    index: bool = False,
    problems: list[BadValueError] | None = None,
) -> ParamsFile | None:
    """The params file of the code being recorded, flattened; None when there is none.

    ``configured``: ``run.params_file`` from .gittree.yaml (None: the default names). ``tree``: a tree (or commit) id, the code a run saved when it started (what ``gittree run`` and a
    sweep's points read); else ``index``: the file as staged (what ``gittree commit`` commits); else
    the working tree's copy. ``problems``: see :func:`flatten_params`. A ``run.params_file`` that
    is missing is no error: a project may have none on some lines of work.
    """
    from gittree import gitio

    def read(path: str) -> bytes | None:
        if tree is not None:
            return gitio.file_in(repo, f"{tree}:{path}")
        if index:
            return gitio.file_in(repo, f":{path}")
        if repo.worktree is None:
            return None
        try:
            return (repo.worktree / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as e:
            raise BadValueError(f"cannot read the params file {path}: {e.strerror or e}") from e

    found: dict[str, bytes | None] = {}
    if not configured and (tree is not None or index):  # every default name asked of git at once
        prefix = f"{tree}:" if tree is not None else ":"
        names = DEFAULT_PARAMS_FILES
        found.update(zip(names, gitio.files_in(repo, [prefix + name for name in names]), strict=True))

    def exists(path: str) -> bool:
        if path not in found:
            found[path] = read(path)
        return found[path] is not None

    name = params_file_name(configured, exists)
    if name is None:
        return None
    data = found[name] if name in found else read(name)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadValueError(f"the params file {name} is not UTF-8 text") from e
    yaml_first = not name.lower().endswith(".json")
    return ParamsFile(name, flatten_params(text, source=name, yaml_first=yaml_first, problems=problems))
