"""``gittree sweep``: one sibling experiment per point of a grid, off the current commit (docs/runs.md, "Sweeps").

Every point is a group of runs (its seeds) committed as one experiment on a branch of its own,
``sweep/<name>/<point>``, created from HEAD: the points are siblings, each judged against the commit
the sweep started from, and the checkout is never touched. The grid is checked against the command's
placeholders before anything runs; the code is saved once, so every point runs the same code even if
the working tree changes meanwhile.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gittree import gitio
from gittree.config import Config
from gittree.errors import BadValueError, GitCommandError, GittreeError
from gittree.model import Goal, MetricSummary
from gittree.runs.execute import PointReport, RunReport, RunRequest, Sink, run_points
from gittree.runs.samples import (
    SEED,
    GridPoint,
    check_grid_against_command,
    check_metrics_file,
    fill,
    grid_points,
    parse_grid,
)

SWEEP_PREFIX = "sweep/"


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: its name, its points and the request that runs each one."""

    name: str
    points: tuple[GridPoint, ...]
    requests: tuple[RunRequest, ...]

    def branch(self, index: int) -> str:
        return f"{SWEEP_PREFIX}{self.name}/{self.points[index].slug}"


#: Where a sweep holds its name while it runs (``refs/gittree-sweeps/lr``, at the commit it started
#: from): created by a compare-and-swap from nothing, so two sweeps started together never take one name.
#: Not under ``refs/gittree/``: it is neither synced nor read by any view.
CLAIM_PREFIX = "refs/gittree-sweeps/"


def plan_sweep(
    repo: gitio.Repo, request: RunRequest, grid_specs: Sequence[str], *, name: str | None
) -> SweepPlan:
    """Check everything a sweep needs before anything runs: the grid against the command's placeholders,
    every point's branch name, then take the sweep's name (free under ``sweep/``): ``run_sweep`` gives
    it back when the sweep ends, its points' branches holding it from then on."""
    if repo.worktree is None:
        raise BadValueError("gittree sweep needs a working tree: this is a bare repository")
    grid = parse_grid(grid_specs)
    check_grid_against_command(grid, request.command, seeds=bool(request.seeds))
    points = tuple(grid_points(grid))
    if request.metrics_file:
        runs = [
            {**dict(point.values), **({SEED: seed} if seed is not None else {})}
            for point in points
            for seed in request.seeds or (None,)
        ]
        check_metrics_file(request.metrics_file, runs, jobs=request.jobs, source=request.metrics_file_source)
    stem = "-".join(key for key, _ in grid)
    if name is not None and not gitio.is_valid_branch_name(repo, f"{SWEEP_PREFIX}{name}/x"):
        raise BadValueError(f"'{name}' cannot name a sweep's branches", hint="use a name such as lr-wd")
    for point in points:
        branch = f"{SWEEP_PREFIX}{name or stem}/{point.slug}"
        if not gitio.is_valid_branch_name(repo, branch):
            raise BadValueError(
                f"the point {point.label} gives the branch name {branch!r}, which git refuses"
            )
    params = [_merged_params(request.params, point.values) for point in points]
    sweep_name = _claim_name(repo, name) if name is not None else _claim_free_name(repo, stem)
    requests = [
        replace(
            request,
            command=tuple(fill(request.command, dict(point.values))),
            metrics_file=fill([request.metrics_file], dict(point.values))[0]
            if request.metrics_file
            else None,
            branch=f"{SWEEP_PREFIX}{sweep_name}/{point.slug}",
            params=point_params,
            name=request.name.replace("{point}", point.label)
            if request.name
            else f"{sweep_name}: {point.label}",
            label=point.label,
        )
        for point, point_params in zip(points, params, strict=True)
    ]
    return SweepPlan(sweep_name, points, tuple(requests))


def _merged_params(
    given: Sequence[tuple[str, str]], values: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    clash = sorted({name for name, _ in given} & {name for name, _ in values})
    if clash:
        raise BadValueError(
            f"--param {clash[0]}=... is also a --grid: each point records its own value",
            hint=f"drop --param {clash[0]}",
        )
    return (*values, *given)


def _name_in_use(repo: gitio.Repo, name: str) -> bool:
    return bool(
        gitio.refs_under(repo, f"refs/heads/{SWEEP_PREFIX}{name}/")
        or gitio.ref_sha(repo, f"refs/heads/{SWEEP_PREFIX}{name}")
    )


def _try_claim(repo: gitio.Repo, name: str) -> bool:
    """Take ``name`` for this sweep, unless another sweep holds it or its points' branches exist."""
    if _name_in_use(repo, name):
        return False
    target = gitio.head_sha(repo) or gitio.write_blobs(repo, [b""])[0]
    try:
        if not gitio.update_ref(repo, f"{CLAIM_PREFIX}{name}", target, None, reason="gittree sweep"):
            return False
    except GitCommandError:  # a name that clashes with another claim's folder (lr and lr/wd)
        return False
    # A sweep that ended (its claim given back) between the look above and the claim left its branches.
    if _name_in_use(repo, name):
        release_name(repo, name)
        return False
    return True


def _claim_name(repo: gitio.Repo, name: str) -> str:
    if not _try_claim(repo, name):
        raise BadValueError(
            f"a sweep named {name} exists already (branches under {SWEEP_PREFIX}{name}/), or is running",
            hint=f"choose another --name, or leave it out for a new one (a sweep that was killed holds "
            f"its name until: git update-ref -d {CLAIM_PREFIX}{name})",
        )
    return name


def _claim_free_name(repo: gitio.Repo, stem: str) -> str:
    """``lr-wd``, else ``lr-wd-2``, ``lr-wd-3``...: the first name no branch under ``sweep/`` uses and no
    running sweep holds, taken for this sweep."""
    number = 1
    while True:
        name = stem if number == 1 else f"{stem}-{number}"
        if _try_claim(repo, name):
            return name
        number += 1


def release_name(repo: gitio.Repo, name: str) -> None:
    """Give the sweep's name back: its points' branches hold it from now on."""
    with contextlib.suppress(GittreeError):
        gitio.delete_ref(repo, f"{CLAIM_PREFIX}{name}")


def run_sweep(
    repo: gitio.Repo,
    plan: SweepPlan,
    *,
    jobs: int,
    out: Sink,
    err: Sink,
    on_point: Callable[[int, PointReport], None] | None = None,
) -> list[PointReport]:
    """Run every point (its seeds), ``jobs`` runs at a time, on the code as it is now (saved once)."""
    from gittree.runs.execute import snapshot_or_none

    try:
        tree = snapshot_or_none(repo, plan.requests[0])
        return run_points(repo, plan.requests, jobs=jobs, out=out, err=err, on_point=on_point, tree=tree)
    finally:
        release_name(repo, plan.name)


@dataclass(frozen=True)
class SummaryRow:
    index: int
    label: str
    value: MetricSummary | None
    sha: str | None
    branch: str | None
    state: str


def point_metric(point: PointReport) -> dict[str, list[float]]:
    """Every sample of every metric the point's seeds recorded."""
    from gittree.runs.metrics import collected_metrics

    values: dict[str, list[float]] = {}
    for run_dir in point.run_dirs:
        for name, value in collected_metrics(run_dir):
            try:
                values.setdefault(name, []).append(float(value))
            except ValueError:
                continue
    return values


def summary(
    plan: SweepPlan, points: Sequence[PointReport], config: Config, metric: str | None = None
) -> tuple[str | None, Goal | None, list[SummaryRow]]:
    """The sweep's points, best first on ``metric`` (else the configured primary one, else the first
    recorded); points without a value (failed, stopped) last, in grid order."""
    values = [point_metric(point) for point in points]
    chosen = metric or config.primary or next((name for found in values for name in found), None)
    goal = config.spec(chosen).goal if chosen else None
    rows = []
    for index, point in enumerate(points):
        samples = values[index].get(chosen, []) if chosen else []
        lead = point.metas[0] if point.metas else None
        if point.interrupted:
            state = "stopped"
        elif point.error is not None:
            state = "not run"
        elif lead is not None and lead.sha:
            state = "ok" if any(meta.outcome == "ok" for meta in point.metas) else "failed"
        else:
            state = lead.status if lead is not None else "not run"
        rows.append(
            SummaryRow(
                index,
                plan.points[index].label,
                MetricSummary(tuple(samples)) if samples else None,
                lead.sha if lead is not None and lead.status == "committed" else None,
                lead.branch if lead is not None and lead.status == "committed" else None,
                state,
            )
        )

    def key(row: SummaryRow) -> tuple[int, float, int]:
        if row.value is None or math.isnan(row.value.mean):
            return (1, 0.0, row.index)
        return (0, -row.value.mean if goal == Goal.MAX else row.value.mean, row.index)

    return chosen, goal, sorted(rows, key=key)


# -- gittree rerun ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RerunPlan:
    sha: str
    request: RunRequest
    #: where the command ran, relative to the top of the working tree.
    cwd: str


def plan_rerun(
    repo: gitio.Repo,
    rev: str,
    *,
    config: Config,
    seeds: str | None,
    jobs: int,
    capture: Sequence[str] = (),
    metrics_file: str | None = None,
) -> RerunPlan:
    """REV's recorded command, seeds and metric sources, checked before anything runs."""
    import shlex
    from pathlib import Path

    from gittree.errors import RunError
    from gittree.runs import journal
    from gittree.runs.execute import check_metrics_files, make_request
    from gittree.runs.samples import SEED_MARK, placeholders, seed_of, without_seed
    from gittree.tree import experiment_of

    sha = gitio.resolve_commit(repo, rev)
    record = experiment_of(gitio.read_commit(repo, sha))
    facts = record.run_dict() if record is not None else {}
    if "cmd" not in facts:
        raise BadValueError(
            f"{sha[:7]} has no recorded command (Gittree-Run: cmd): it was not made by gittree run",
            hint="rerun works on experiments made by gittree run or gittree sweep",
        )
    try:
        command = shlex.split(facts["cmd"])
    except ValueError as e:
        raise BadValueError(f"the command recorded in {sha[:7]} cannot be read: {e}") from e
    recorded = [name[len("seed.") :] for name in facts if name.startswith("seed.")]
    in_placeholder = "seed" in placeholders(command)
    # A command with neither {seed} nor --seed N that recorded seeds (seed.S facts) took each from
    # GITTREE_SEED (run --seeds sets it): its seeds run as a {seed} command's do, never seedless.
    from_environment = not in_placeholder and seed_of(command) is None and bool(recorded)
    if seeds is not None and not in_placeholder and not from_environment:
        if seed_of(command) is None:
            raise BadValueError(
                f"{sha[:7]} was run without a seed: its command takes none (no {SEED_MARK}, no --seed N) "
                "and it records no seed.S fact, so --seeds cannot apply",
                hint=f"rerun it as recorded: gittree rerun {rev}; or run it with seeds as a new "
                "experiment: gittree run --seeds 0,1,2 -- CMD (GITTREE_SEED holds each seed)",
            )
        command = without_seed(command)
    if seeds is None and (in_placeholder or from_environment):
        seeds = ",".join(recorded) if recorded else None
        if seeds is None:
            raise BadValueError(f"the command of {sha[:7]} uses {SEED_MARK}: give --seeds")
    # The run's own journal entry, if this machine still has it, says what the metrics came from.
    capture_names, file_name = tuple(capture), metrics_file
    if "id" in facts and not (capture or metrics_file):
        try:
            meta = journal.load_meta(
                journal.find_run_dir(journal.runs_root(gitio.common_dir(repo)), facts["id"])
            )
            capture_names = tuple(meta.capture)
            file_name = meta.metrics_file_template or meta.metrics_file
        except RunError:
            pass
    request = make_request(
        command,
        cwd=Path("."),
        config=config,
        metrics_file=file_name,
        capture=capture_names,
        seeds=seeds,
        jobs=jobs,
    )
    check_metrics_files(request)
    return RerunPlan(sha, replace(request, sample_of=sha), facts.get("cwd", ""))


def rerun(repo: gitio.Repo, plan: RerunPlan, *, out: Sink, err: Sink) -> RunReport:
    """Run ``plan`` on the commit's exact code in a temporary worktree, adding the results to it as samples;
    the user's checkout, index and branches are never touched."""
    import tempfile
    from pathlib import Path

    from gittree.runs.execute import point_report, run_command

    folder = Path(tempfile.mkdtemp(prefix="gittree-rerun-"))
    path = folder / "worktree"
    gitio.add_temporary_worktree(repo, path, plan.sha)
    try:
        there = gitio.open_repo(path)
        request = replace(plan.request, cwd=(path / plan.cwd) if plan.cwd else path)
        if request.seeds:
            (point,) = run_points(there, [request], jobs=request.jobs, out=out, err=err)
            return point_report(point)
        return run_command(there, request, out=out, err=err)
    finally:
        gitio.remove_temporary_worktree(repo, path)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
