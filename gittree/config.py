"""``.gittree.yaml`` -> :class:`Config`, with defaults that work untouched and validation that names the bad key.

The file is optional. Its reference is ``docs/config.md``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gittree import CONFIG_FILE
from gittree.errors import ConfigError

TYPE_CHECKING = False  # `typing` costs milliseconds of every run's start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    # Imported where used: a run reads its settings but no goal, and gittree.model (a dozen dataclasses
    # and two enums) cost it milliseconds of start-up (issue 19).
    from gittree.model import Goal, MetricSpec

#: The branches ``gittree sync`` shares unless ``sync.branches`` says otherwise (docs/teams.md).
DEFAULT_SYNC_BRANCHES = ("exp/*", "sweep/*")

#: Name tokens that mean "smaller is better" (docs/config.md, "Goals").
MINIMISED_TOKENS = frozenset(
    [
        "loss",
        "error",
        "err",
        "perplexity",
        "ppl",
        "bpb",
        "mse",
        "mae",
        "rmse",
        "wer",
        "cer",
        "latency",
        "time",
    ]
)


def infer_goal(metric: str) -> Goal:
    """``min`` when any word of the name (split at ``_ . - /`` and digits) is a known cost, else ``max``."""
    from gittree.model import Goal

    tokens = re.split(r"[^a-z]+", metric.lower())
    return Goal.MIN if any(token in MINIMISED_TOKENS for token in tokens) else Goal.MAX


@dataclass(frozen=True)
class MetricConfig:
    goal: Goal | None = None
    threshold: float | None = None
    #: |delta| above this is always a surprise ("⚠ verify"), whatever the tree's usual steps.
    surprise_bound: float | None = None


@dataclass(frozen=True)
class RunConfig:
    """Defaults for ``gittree run`` (docs/runs.md): what to capture, which metrics file to read."""

    capture: tuple[str, ...] = ()
    metrics_file: str | None = None
    #: commit a run that exits non-zero (with Gittree-Status: failed); False keeps it in the journal only.
    commit_failed: bool = True
    #: ``gittree runs --prune`` removes committed runs that ended more than this many days ago.
    keep_days: float = 30.0
    #: the params file (relative to the top of the working tree); None: params.yaml, else params.json.
    params_file: str | None = None


@dataclass(frozen=True)
class Config:
    primary: str | None = None
    metrics: Mapping[str, MetricConfig] = field(default_factory=dict)
    relative_threshold: float = 0.001
    noise_sigmas: float = 2.0
    surprise_factor: float = 10.0
    surprise_min_deltas: int = 5
    dirty_can_be_best: bool = True
    #: branch-name patterns ``gittree sync`` fetches and pushes (``sync.branches``).
    sync_branches: tuple[str, ...] = DEFAULT_SYNC_BRANCHES
    run: RunConfig = field(default_factory=RunConfig)
    #: where the file was read (a path, or ``REV:.gittree.yaml``); None: no file, the defaults.
    source: str | None = field(default=None, compare=False)

    def spec(self, metric: str) -> MetricSpec:
        from gittree.model import MetricSpec

        configured = self.metrics.get(metric, MetricConfig())
        return MetricSpec(
            name=metric,
            goal=configured.goal or infer_goal(metric),
            threshold=configured.threshold,
            relative_threshold=self.relative_threshold,
            noise_sigmas=self.noise_sigmas,
            surprise_factor=self.surprise_factor,
            surprise_min_deltas=self.surprise_min_deltas,
            surprise_bound=configured.surprise_bound,
            dirty_can_be_best=self.dirty_can_be_best,
        )


def load_config(where: Path | None) -> Config:
    """Read the ``.gittree.yaml`` at the top of the working tree ``where``; a missing file gives the defaults.

    None gives the defaults. A repository's file, as its views read it (the checkout's, else, in a
    bare repository, the one committed in HEAD's tree), is read through git by
    :func:`gittree.read.repo_config`: this module never runs git.
    """
    if where is None:
        return Config()
    path = where / CONFIG_FILE
    try:
        data: bytes | None = path.read_bytes()
    except FileNotFoundError:
        data = None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e}", hint="fix or remove the file") from e
    return config_from_bytes(data, str(path))


def config_from_bytes(data: bytes | None, source: str) -> Config:
    """The configuration in the bytes of a ``.gittree.yaml`` read from ``source`` (None: no file, the defaults)."""
    if data is None:
        return Config()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"cannot read {source}: {e}", hint="fix or remove the file") from e
    return dataclasses.replace(parse_config(text, source=source), source=source)


def parse_config(text: str, *, source: str = CONFIG_FILE) -> Config:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source} is not valid YAML: {e}", hint="fix the file or remove it") from e
    if data is None:
        return Config()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    known = {
        "primary",
        "metrics",
        "relative_threshold",
        "noise_sigmas",
        "surprise_factor",
        "surprise_min_deltas",
        "dirty_can_be_best",
        "sync",
        "run",
    }
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {', '.join(unknown)}", hint=f"known keys: {', '.join(sorted(known))}"
        )
    primary = data.get("primary")
    if primary is not None and not isinstance(primary, str):
        raise ConfigError(f"{source}: 'primary' must be a metric name, got {primary!r}")
    if primary is not None:
        _check_metric_name(primary, source, "primary")
    return Config(
        primary=primary,
        metrics=_parse_metrics(data.get("metrics") or {}, source),
        relative_threshold=_non_negative(data.get("relative_threshold", 0.001), "relative_threshold", source),
        noise_sigmas=_non_negative(data.get("noise_sigmas", 2.0), "noise_sigmas", source),
        surprise_factor=_non_negative(data.get("surprise_factor", 10.0), "surprise_factor", source),
        surprise_min_deltas=_count(data.get("surprise_min_deltas", 5), "surprise_min_deltas", source),
        dirty_can_be_best=_flag(data.get("dirty_can_be_best", True), "dirty_can_be_best", source),
        sync_branches=_parse_sync(data.get("sync"), source),
        run=_parse_run(data.get("run") or {}, source),
    )


def _check_metric_name(name: str, source: str, key: str) -> None:
    from gittree.errors import BadValueError
    from gittree.trailers import validate_name

    try:
        validate_name(name)
    except BadValueError as e:
        raise ConfigError(f"{source}: {key}: {e.message}", hint=e.hint) from e


def _parse_run(raw: Any, source: str) -> RunConfig:
    from gittree.errors import BadValueError
    from gittree.trailers import validate_name

    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: 'run' must be a mapping with capture, metrics_file, params_file, commit_failed, "
            "keep_days"
        )
    extra = sorted(
        set(map(str, raw)) - {"capture", "metrics_file", "params_file", "commit_failed", "keep_days"}
    )
    if extra:
        raise ConfigError(f"{source}: run: unknown key(s) {', '.join(extra)}")
    capture = raw.get("capture") or []
    if isinstance(capture, str):
        capture = [capture]
    if not isinstance(capture, list) or not all(isinstance(name, str) for name in capture):
        raise ConfigError(f"{source}: run.capture must be a list of metric names, got {capture!r}")
    try:
        names = tuple(validate_name(name, kind="capture") for name in capture)
    except BadValueError as e:
        raise ConfigError(f"{source}: run.capture: {e.message}") from e
    metrics_file = raw.get("metrics_file")
    if metrics_file is not None and (not isinstance(metrics_file, str) or not metrics_file):
        raise ConfigError(f"{source}: run.metrics_file must be a path, got {metrics_file!r}")
    params_file = raw.get("params_file")
    if params_file is not None and (not isinstance(params_file, str) or not params_file.strip()):
        raise ConfigError(f"{source}: run.params_file must be a path, got {params_file!r}")
    commit_failed = raw.get("commit_failed", True)
    if not isinstance(commit_failed, bool):
        raise ConfigError(f"{source}: run.commit_failed must be true or false, got {commit_failed!r}")
    keep_days = raw.get("keep_days", 30)
    if isinstance(keep_days, bool) or not isinstance(keep_days, int | float) or not 0 <= keep_days < 1e6:
        raise ConfigError(f"{source}: run.keep_days must be a number of days, 0 or more, got {keep_days!r}")
    return RunConfig(
        capture=names,
        metrics_file=metrics_file,
        commit_failed=commit_failed,
        keep_days=float(keep_days),
        params_file=params_file,
    )


def _parse_metrics(raw: Any, source: str) -> dict[str, MetricConfig]:
    from gittree.model import Goal

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: 'metrics' must map metric names to settings")
    metrics: dict[str, MetricConfig] = {}
    for name, settings in raw.items():
        settings = settings or {}
        if not isinstance(settings, dict):
            raise ConfigError(
                f"{source}: metrics.{name} must be a mapping with 'goal', 'threshold' and/or 'surprise_bound'"
            )
        extra = sorted(set(map(str, settings)) - {"goal", "threshold", "surprise_bound"})
        if extra:
            raise ConfigError(f"{source}: metrics.{name}: unknown key(s) {', '.join(extra)}")
        goal = settings.get("goal")
        if goal is not None and goal not in ("max", "min"):
            raise ConfigError(f"{source}: metrics.{name}.goal must be 'max' or 'min', got {goal!r}")
        threshold = settings.get("threshold")
        bound = settings.get("surprise_bound")
        metrics[str(name)] = MetricConfig(
            goal=Goal(goal) if goal else None,
            threshold=None
            if threshold is None
            else _non_negative(threshold, f"metrics.{name}.threshold", source),
            surprise_bound=None
            if bound is None
            else _non_negative(bound, f"metrics.{name}.surprise_bound", source),
        )
    return metrics


def _count(value: Any, key: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{source}: '{key}' must be a whole number of at least 1, got {value!r}")
    return value


def _flag(value: Any, key: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: '{key}' must be true or false, got {value!r}")
    return value


def _parse_sync(raw: Any, source: str) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_SYNC_BRANCHES
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: 'sync' must be a mapping, for example: sync: {{branches: [exp/*]}}")
    extra = sorted(set(map(str, raw)) - {"branches"})
    if extra:
        raise ConfigError(f"{source}: sync: unknown key(s) {', '.join(extra)}", hint="known keys: branches")
    branches = raw.get("branches", list(DEFAULT_SYNC_BRANCHES))
    if not isinstance(branches, list) or not all(isinstance(b, str) for b in branches):
        raise ConfigError(f"{source}: 'sync.branches' must be a list of branch patterns such as exp/*")
    for pattern in branches:
        problem = branch_pattern_problem(pattern)
        if problem:
            raise ConfigError(
                f"{source}: sync.branches: {pattern!r} {problem}",
                hint="write branch names as git does, with at most one * (e.g. exp/* or sweep/*)",
            )
    return tuple(dict.fromkeys(branches))


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?\[\\]")


def branch_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a branch name git accepts in a refspec (at most one ``*``), or None.

    The rules are ``git check-ref-format --refspec-pattern``'s, applied to ``refs/heads/PATTERN``.
    """
    if not pattern:
        return "is empty"
    if pattern.startswith("refs/"):
        return "is a full ref name; give the branch name without refs/heads/"
    if pattern.count("*") > 1:
        return "has more than one *"
    if _REF_FORBIDDEN.search(pattern):
        return "contains a space, a control character or one of ~ ^ : ? [ \\"
    if ".." in pattern or "@{" in pattern or pattern == "@" or "//" in pattern:
        return "contains '..', '@{', '//' or is '@'"
    if pattern.startswith("/") or pattern.endswith(("/", ".")):
        return "starts with / or ends with / or ."
    if any(part.startswith(".") or part.endswith(".lock") for part in pattern.split("/")):
        return "has a part starting with . or ending with .lock"
    return None


def _non_negative(value: Any, key: str, source: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigError(f"{source}: '{key}' must be a non-negative number, got {value!r}")
    return float(value)


def dump_config(config: Config) -> str:
    """The YAML ``gittree init`` writes."""
    import yaml

    data: dict[str, Any] = {}
    if config.primary:
        data["primary"] = config.primary
    if config.metrics:
        data["metrics"] = {
            name: {
                key: value
                for key, value in (
                    ("goal", m.goal.value if m.goal else None),
                    ("threshold", m.threshold),
                    ("surprise_bound", m.surprise_bound),
                )
                if value is not None
            }
            for name, m in config.metrics.items()
        }
    data["relative_threshold"] = config.relative_threshold
    data["noise_sigmas"] = config.noise_sigmas
    # The honesty rules are written out too, so that a reader of the file sees they exist.
    data["surprise_factor"] = config.surprise_factor
    data["surprise_min_deltas"] = config.surprise_min_deltas
    data["dirty_can_be_best"] = config.dirty_can_be_best
    if config.sync_branches != DEFAULT_SYNC_BRANCHES:
        data["sync"] = {"branches": list(config.sync_branches)}
    if config.run != RunConfig():
        run: dict[str, Any] = {}
        if config.run.capture:
            run["capture"] = list(config.run.capture)
        if config.run.metrics_file:
            run["metrics_file"] = config.run.metrics_file
        if config.run.params_file:
            run["params_file"] = config.run.params_file
        if not config.run.commit_failed:
            run["commit_failed"] = False
        if config.run.keep_days != RunConfig().keep_days:
            run["keep_days"] = config.run.keep_days
        data["run"] = run
    header = "# gittree configuration: see docs/config.md\n"
    return header + yaml.safe_dump(data, sort_keys=False)
