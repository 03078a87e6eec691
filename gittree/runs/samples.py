"""Pure rules of repeated runs (docs/runs.md, "Seeds and samples", "Sweeps"): no git, no I/O.

* ``{seed}`` and the other placeholders of a command line, filled per seed and per grid point;
* which argument of a command is its seed (``--seed 3``, ``--seed=3``, ``seed=3``), so that two
  commands that differ only there count as the same command (another sample, not another experiment);
* the grid of a sweep (``--grid lr=1e-3,3e-4``), its points and the names of their branches;
* the ``seed.S`` run fact each sample leaves: how that run ended, how long it took, its journal id.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gittree.errors import BadValueError

#: ``{name}`` in an argument: a placeholder (``{{`` and ``}}`` write braces themselves).
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
#: A seed or a grid value as it appears in a run fact's name and in a branch name.
_TOKEN = re.compile(r"[A-Za-z0-9_.+-]{1,64}")
#: An option whose name ends in "seed": ``--seed``, ``-seed``, ``--random-seed``, ``--data_seed``.
_SEED_OPTION = re.compile(r"-{1,2}[A-Za-z0-9_-]*seed", re.IGNORECASE)
#: ``--seed=3`` or Hydra's ``seed=3`` / ``trainer.seed=3``.
_SEED_ASSIGNMENT = re.compile(r"(-{0,2}[A-Za-z0-9_.-]*seed)=(.*)", re.IGNORECASE | re.DOTALL)
SEED = "seed"
SEED_MARK = "{seed}"


def placeholders(args: Iterable[str]) -> list[str]:
    """The placeholder names used in ``args``, first use first."""
    found: dict[str, None] = {}
    for arg in args:
        for match in _PLACEHOLDER.finditer(arg):
            if match.group(1):
                found[match.group(1)] = None
    return list(found)


def fill(args: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """``args`` with each ``{name}`` in ``values`` replaced (other placeholders are left as they are)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        return values.get(name, match.group(0))

    return [_PLACEHOLDER.sub(one, arg) for arg in args]


def check_metrics_file(
    template: str, runs: Sequence[Mapping[str, str]], *, jobs: int, source: str = "--metrics-file"
) -> None:
    """Before anything runs: ``--metrics-file`` as each run reads it (``runs``: each run's placeholder
    values, ``{seed}`` and a sweep's grid values) names a file of that run's own.

    Refused (docs/runs.md, "Metrics files", "A metrics file per run"): a placeholder some run has no value for, and,
    when several runs go at once (``jobs`` > 1, in one folder), two runs reading one file: each would
    record whichever run wrote it last, a spread of 0 and a sweep's best chosen from wrong numbers.
    ``source``: where the path was given (the option, or ``run.metrics_file`` in .gittree.yaml).
    """
    import os.path

    given = f"{source} {template}" if source.startswith("--") else f"{source} ({template})"
    for name in placeholders([template]):
        if all(name in values for values in runs):
            continue
        if name == SEED:
            raise BadValueError(
                f"{given} uses {SEED_MARK} but the run has no seed",
                hint="give --seeds 0,1,2 (or --seed N in the command), or remove {seed} from the path",
            )
        raise BadValueError(
            f"{given} uses {{{name}}} but no --grid {name}=... gives its values",
            hint=f"write the value in the path, or sweep it: gittree sweep --grid {name}=V1,V2",
        )
    if jobs < 2 or len(runs) < 2:
        return
    paths = [os.path.normpath(fill([template], values)[0]) for values in runs]
    if len(set(paths)) == len(paths):
        return
    shared = next(path for path in paths if paths.count(path) > 1)
    used = placeholders([template])
    varying = [
        f"{{{name}}}"
        for name in runs[0]
        if name not in used and len({values.get(name) for values in runs}) > 1
    ]
    marks = " and ".join(varying) or SEED_MARK
    seed_note = " (GITTREE_SEED holds its seed)" if SEED_MARK in marks else ""
    raise BadValueError(
        f"-j {jobs} runs commands at once in one folder, and {given} is the same "
        f"file ({shared}) for several of them: each would record whichever run wrote it last",
        hint=f"give each run its own file: put {marks} in the path, as in the command, and have the "
        f"script write there{seed_note}; or run one at a time with -j 1",
    )


def parse_seeds(text: str) -> tuple[str, ...]:
    """``0,1,2`` (or ``0-4``, a range, both ends included) -> the seeds, in order; refused: empty, repeated."""
    seeds: list[str] = []
    for part in text.split(","):
        part = part.strip()
        bounds = re.fullmatch(r"(\d+)-(\d+)", part)
        if bounds and int(bounds.group(1)) <= int(bounds.group(2)):
            seeds += [str(n) for n in range(int(bounds.group(1)), int(bounds.group(2)) + 1)]
        elif _TOKEN.fullmatch(part):
            seeds.append(part)
        else:
            raise BadValueError(
                f"bad seed {part!r} in --seeds {text!r}",
                hint="give seeds as a comma-separated list or a range: --seeds 0,1,2 or --seeds 0-4",
            )
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise BadValueError(f"--seeds names seed {repeated[0]} twice", hint="list each seed once")
    return tuple(seeds)


def seed_of(args: Sequence[str]) -> str | None:
    """The seed a command line passes (``--seed 3``, ``--seed=3``, ``seed=3``), None when none is seen."""
    for i, arg in enumerate(args):
        assignment = _SEED_ASSIGNMENT.fullmatch(arg)
        if assignment:
            value = assignment.group(2)
            return value if _TOKEN.fullmatch(value) else None
        if _SEED_OPTION.fullmatch(arg) and i + 1 < len(args):
            value = args[i + 1]
            return value if _TOKEN.fullmatch(value) else None
    return None


def without_seed(args: Sequence[str]) -> list[str]:
    """The command line with its seed replaced by ``{seed}``: what two samples of one experiment share."""
    out = list(args)
    for i, arg in enumerate(out):
        assignment = _SEED_ASSIGNMENT.fullmatch(arg)
        if assignment:
            out[i] = f"{assignment.group(1)}={SEED_MARK}"
        elif _SEED_OPTION.fullmatch(arg) and i + 1 < len(out) and not out[i + 1].startswith("-"):
            out[i + 1] = SEED_MARK
    return out


def outcome_text(
    *, exit_code: int | None, signal: str | None, interrupted: str | None, duration: float | None, run_id: str
) -> str:
    """The value of a sample's ``seed.S`` fact: ``exit 0, 12.301 s, run ID`` (``SIGKILL, ...`` when killed)."""
    if interrupted and interrupted != "lost":
        ended = f"interrupted by {interrupted}"
    elif signal:
        ended = signal
    elif exit_code is not None:
        ended = f"exit {exit_code}"
    else:
        ended = "lost"
    took = f", {duration:.3f} s" if duration is not None else ""
    return f"{ended}{took}, run {run_id}"


def sample_fact_name(seed: str | None, run_id: str) -> str:
    """``seed.S`` for a run with a seed, ``run.ID`` for one without."""
    return f"seed.{seed}" if seed is not None else f"run.{run_id}"


# -- sweeps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridPoint:
    """One combination of a sweep's grid: its values, in the grid's order."""

    values: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return " ".join(f"{name}={value}" for name, value in self.values)

    @property
    def slug(self) -> str:
        """The point's branch name under ``sweep/NAME/``: ``lr=1e-3,wd=0``."""
        return ",".join(f"{name}={_slug(value)}" for name, value in self.values)


def _slug(value: str) -> str:
    """A grid value as a branch-name part: characters git refuses in ref names become ``_``."""
    text = re.sub(r"[^A-Za-z0-9_.+=-]", "_", value).strip(".") or "_"
    return text.replace("..", "_.")


def parse_grid(specs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """``["lr=1e-3,3e-4", "wd=0,0.1"]`` -> ``[("lr", ("1e-3", "3e-4")), ("wd", ("0", "0.1"))]``."""
    from gittree.trailers import validate_name

    grid: list[tuple[str, tuple[str, ...]]] = []
    for spec in specs:
        name, equals, values_text = spec.partition("=")
        name = name.strip()
        if not equals or not name:
            raise BadValueError(
                f"bad --grid {spec!r}", hint="write --grid NAME=V1,V2, such as --grid lr=1e-3,3e-4"
            )
        validate_name(name, kind="param")
        if name == SEED:
            raise BadValueError("--grid seed=... is what --seeds is for", hint="use --seeds 0,1,2")
        values = tuple(value.strip() for value in values_text.split(","))
        if not all(values):
            raise BadValueError(
                f"--grid {spec!r} has an empty value", hint="separate values by single commas"
            )
        if len(set(values)) != len(values):
            raise BadValueError(f"--grid {spec!r} repeats a value", hint="list each value once")
        _refuse_shared_branch_names(name, values)
        if any(name == other for other, _ in grid):
            raise BadValueError(f"--grid {name}=... is given twice", hint="give all its values in one --grid")
        grid.append((name, values))
    if not grid:
        raise BadValueError(
            "a sweep needs at least one --grid NAME=V1,V2", hint="gittree sweep --grid lr=1e-3,3e-4 -- CMD"
        )
    return grid


def _refuse_shared_branch_names(name: str, values: Sequence[str]) -> None:
    """Two values that become the same branch-name part (``a b`` and ``a/b`` are both ``a_b``) would put
    two points on one branch, the second stacked on the first: refused, as a repeated value is."""
    seen: dict[str, str] = {}
    for value in values:
        slug = _slug(value)
        if slug in seen:
            raise BadValueError(
                f"--grid {name}: the values {seen[slug]!r} and {value!r} both become {name}={slug} in "
                "the points' branch names (sweep/NAME/...; characters git refuses become _): "
                "two points would share one branch",
                hint="make the values differ in letters, digits or _ . + = -, or sweep them in two sweeps",
            )
        seen[slug] = value


def grid_points(grid: Sequence[tuple[str, Sequence[str]]]) -> list[GridPoint]:
    """Every combination, the last grid varying fastest (as nested loops in the order given)."""
    names = [name for name, _ in grid]
    return [
        GridPoint(tuple(zip(names, combo, strict=True))) for combo in itertools.product(*(v for _, v in grid))
    ]


def check_grid_against_command(
    grid: Sequence[tuple[str, Sequence[str]]], command: Sequence[str], *, seeds: bool
) -> None:
    """Before anything runs: every placeholder has a grid (or is ``{seed}`` with --seeds), every grid is used."""
    used = placeholders(command)
    names = [name for name, _ in grid]
    for name in used:
        if name == SEED:
            if not seeds:
                raise BadValueError(
                    "the command uses {seed} but no --seeds is given",
                    hint="add --seeds 0,1,2 (or remove {seed} from the command)",
                )
        elif name not in names:
            raise BadValueError(
                f"the command uses {{{name}}} but no --grid {name}=... gives its values",
                hint=f"add --grid {name}=V1,V2 (or write the value in the command)",
            )
    unused = [name for name in names if name not in used]
    if unused:
        raise BadValueError(
            f"--grid {unused[0]}=... is not used by the command: no {{{unused[0]}}} in it",
            hint=f"put {{{unused[0]}}} where the value goes, such as --{unused[0]} {{{unused[0]}}}",
        )
