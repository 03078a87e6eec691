"""``gittree run`` and ``gittree sweep`` without typer: the typer commands and the start-up fast path
share them.

Also what every command that runs something prints about it (the report of a run, a sweep's lines).
"""

from __future__ import annotations

import sys
from pathlib import Path

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TextIO

    from gittree import gitio
    from gittree.runs.execute import RunReport
    from gittree.runs.journal import RunMeta


def run_experiment(
    repo_path: Path | None,
    command: Sequence[str],
    *,
    name: Sequence[str] | None = None,
    metrics_file: str | None = None,
    capture: Sequence[str] | None = None,
    branch: str | None = None,
    no_commit: bool = False,
    add: bool = False,
    param: Sequence[str] | None = None,
    note: Sequence[str] | None = None,
    push: bool = False,
    remote: str | None = None,
    seeds: str | None = None,
    jobs: int = 1,
    new: bool = False,
) -> int:
    """``gittree run``: run ``command``, record it, say what became of it; returns the exit code."""
    from gittree import gitio
    from gittree.repoconfig import repo_config
    from gittree.runs import journal
    from gittree.runs.execute import make_request, run_command

    repo = gitio.open_repo(repo_path)
    config = repo_config(repo)
    push_to: str | None = None
    if push:  # checked before the command runs: a typo must not cost a run's push
        from gittree.sync import check_pushable, resolve_remote

        check_pushable(branch, config.sync_branches)
        push_to = resolve_remote(repo, remote)
    request = make_request(
        command,
        cwd=(repo_path or Path.cwd()).resolve(),  # -C: run as if started there, the command too
        config=config,
        name=paragraphs(name),
        params=param or (),
        notes=note or (),
        metrics_file=metrics_file,
        capture=capture or (),
        branch=branch,
        commit=not no_commit,
        add_untracked=add,
        seeds=seeds,
        jobs=jobs,
        new=new,
    )
    report = run_command(repo, request, out=writer(sys.stdout), err=writer(sys.stderr))
    print_report(report)
    if push_to is not None and report.meta.status == journal.COMMITTED and report.meta.branch:
        push_run(repo, push_to, report.meta.branch)
    return report.exit_code


def run_grid(
    repo_path: Path | None,
    command: Sequence[str],
    *,
    grid: Sequence[str] | None = None,
    seeds: str | None = None,
    jobs: int = 1,
    name: str | None = None,
    message: Sequence[str] | None = None,
    metric: str | None = None,
    metrics_file: str | None = None,
    capture: Sequence[str] | None = None,
    param: Sequence[str] | None = None,
    note: Sequence[str] | None = None,
    add: bool = False,
) -> int:
    """``gittree sweep``: a sibling experiment per point of the grid, a line per point, the summary; the
    exit code (130: stopped by a signal; 1: a point failed or could not be committed)."""
    from gittree import gitio
    from gittree.repoconfig import repo_config
    from gittree.runs.execute import make_request
    from gittree.runs.sweep import plan_sweep, run_sweep

    repo = gitio.open_repo(repo_path)
    config = repo_config(repo)
    request = make_request(
        command,
        cwd=(repo_path or Path.cwd()).resolve(),
        config=config,
        name=paragraphs(message),
        params=param or (),
        notes=note or (),
        metrics_file=metrics_file,
        capture=capture or (),
        add_untracked=add,
        seeds=seeds,
        jobs=jobs,
    )
    plan = plan_sweep(repo, request, grid or (), name=name)
    total = len(plan.points)
    per_point = f" × {len(request.seeds)} seeds" if request.seeds else ""
    head = gitio.head_sha(repo)
    say(
        f"gittree: sweep {plan.name}: {total} point(s){per_point}, {jobs} run(s) at a time, "
        f"off {head[:7] if head else 'an unborn branch'}, on branches sweep/{plan.name}/..."
    )
    done = [0]

    def progress(index: int, point: Any) -> None:
        done[0] += 1
        say(f"gittree: [{done[0]}/{total}] {_point_line(plan.points[index].label, point)}")

    points = run_sweep(
        repo, plan, jobs=jobs, out=writer(sys.stdout), err=writer(sys.stderr), on_point=progress
    )
    _print_sweep_summary(plan, points, config, metric)
    stopped = [point for point in points if point.interrupted]
    if stopped:
        kept = sum(1 for point in points if point.report is not None)
        say(f"gittree: sweep stopped: {kept} of {total} point(s) committed and kept")
        for point in stopped:
            if point.metas:
                say(f"  {point.request.label}: stopped, in the journal: gittree recover {point.metas[0].id}")
        return 130
    # A point that failed (every seed), or that could not be committed, fails the sweep, as make expects.
    if any(
        point.report is None
        or point.report.error is not None
        or point.report.hook_exit
        or all(meta.outcome != "ok" for meta in point.metas)
        for point in points
    ):
        return 1
    return 0


def _point_line(label: str, point: Any) -> str:
    from gittree.runs import journal
    from gittree.runs.sweep import point_metric

    if point.error is not None:
        return f"{label}: not run: {point.error.message}"
    metas = point.metas
    ok = sum(1 for meta in metas if meta.outcome == "ok")
    outcome = "ok" if ok == len(metas) else f"{ok} of {len(metas)} ok" if ok else "failed"
    values = " ".join(
        f"{name}={_mean_text(samples)}" for name, samples in list(point_metric(point).items())[:3]
    )
    lead = metas[0]
    where = (
        f" -> {lead.sha[:7]} on {lead.branch}"
        if lead.status == journal.COMMITTED and lead.sha
        else f" (not committed: {lead.reason or lead.status})"
    )
    return f"{label}: {outcome}{' · ' + values if values else ''}{where}"


def _mean_text(samples: list[float]) -> str:
    from gittree.model import MetricSummary
    from gittree.render.numbers import format_summary

    return format_summary(MetricSummary(tuple(samples)))


def _print_sweep_summary(plan: Any, points: Any, config: Any, metric: str | None) -> None:
    from gittree.render.escape import terminal_safe
    from gittree.render.numbers import format_summary
    from gittree.runs.sweep import summary

    chosen, goal, rows = summary(plan, points, config, metric)
    header = ["POINT", chosen or "METRIC", "STATE", "COMMIT", "BRANCH"]
    table = [
        [
            row.label,
            format_summary(row.value) if row.value is not None else "—",
            row.state,
            row.sha[:7] if row.sha else "",
            row.branch or "",
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *table]) for i in range(len(header))]
    title = f"sweep {plan.name}" + (f" · {chosen} ({goal.value}), best first" if chosen and goal else "")
    print(terminal_safe(title))
    for line in [header, *table]:
        print(terminal_safe("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip()))


def writer(stream: TextIO) -> Callable[[bytes], None]:
    """Bytes to a text stream: straight to its buffer when it has one, so partial lines show at once."""

    def write(data: bytes) -> None:
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            stream.write(data.decode("utf-8", errors="replace"))
        else:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        stream.flush()

    return write


def say(text: str) -> None:
    from gittree.render.escape import terminal_safe

    for line in text.splitlines():
        print(terminal_safe(line), file=sys.stderr)


def push_run(repo: gitio.Repo, remote: str, branch: str) -> None:
    """Share the committed run; a failure leaves the commit safe locally and says how to retry."""
    from gittree.errors import RemoteError
    from gittree.sync import push_branch_and_notes

    try:
        report = push_branch_and_notes(repo, remote, branch)
    except RemoteError as e:
        # Only a remote that could not be reached is fixed by waiting; otherwise the error's own hint
        # is the next step (a diverged branch: how to merge; a name clash: what to delete).
        steps = ["the commit and the journal are safe", *([e.hint] if e.hint else [])]
        if not e.hint or e.unreachable:
            steps.append(f"run `gittree sync {remote}` when the remote is back")
        raise RemoteError(
            f"the run is committed on {branch} here, but the push failed: {e.message}", hint="; ".join(steps)
        ) from e
    say(f"gittree: pushed {branch} and the notes to {report.remote}")


def landed_text(meta: RunMeta) -> str:
    """Where a committed run went: a new experiment, samples of an existing one, or a sibling."""
    assert meta.sha is not None
    if meta.sample:
        return (
            f"gittree: added to {meta.sha[:7]} as another sample (same code, command and params; "
            "--new makes a new experiment)"
        )
    where = meta.branch or "a detached HEAD"
    if meta.moved_from:
        moved = meta.moved_from.removeprefix("refs/heads/")
        return (
            f"gittree: committed {meta.sha[:7]} on {where}: {moved} moved during the run (another run "
            f"landed first), so this run is its sibling, off {(meta.base or meta.head or '')[:7]}"
        )
    return f"gittree: committed {meta.sha[:7]} on {where}"


def print_report(report: RunReport) -> None:
    from gittree.cli.runlist import metrics_text, outcome_text
    from gittree.runs import journal
    from gittree.runs.metrics import collected_metrics

    meta = report.meta
    for member, run_dir in report.members or [(meta, report.run_dir)]:
        duration = f", {member.duration:.1f} s" if member.duration is not None else ""
        what = f"seed {member.seed} (run {member.id})" if report.members else f"run {member.id}"
        head = f"gittree: {what}: {outcome_text(member) if member.outcome else 'not run'}{duration}"
        metrics = metrics_text(collected_metrics(run_dir))
        if metrics:
            head += f" · {metrics}"
        say(head)
        for warning in member.warnings:
            say(f"gittree: warning: {warning}")
    committed = meta.sha if meta.status == journal.COMMITTED else None
    if committed:
        say(landed_text(meta))
    if report.hook is not None and report.hook_exit:
        from gittree.hooks import chained_step

        code = report.hook_exit  # negative: subprocess's way of saying signal -code ended it
        ended = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        if committed:  # a step after the commit failed: a chained post-run.legacy, a push added to the hook
            step = chained_step(report.hook)
            what = (
                f"{step.name}, run by gittree's post-run hook,"
                if step
                else f"the post-run hook {report.hook}"
            )
            say(f"gittree: error: {what} {ended} after the run was committed")
            say(
                f"hint: the run is committed ({committed[:7]}) and safe, nothing to recover; "
                "fix that step, and run it again by hand if it matters"
            )
        else:
            say(f"gittree: error: the post-run hook {report.hook} {ended}")
            say(f"hint: the run is safe in the journal ({meta.status}): see `gittree runs {meta.id}`")
    elif committed:
        return
    elif report.error is not None:
        say(f"gittree: error: the run finished but could not be committed: {report.error.message}")
        # The cause's own advice (a merge in progress says how to record the crossover), with this run's id.
        advice = (report.error.hint or "fix the cause").replace("RUN_ID", meta.id)
        if "gittree recover" not in advice:
            advice += f"; then: gittree recover {meta.id}"
        say(f"hint: its metrics and log are safe in the journal (gittree runs); {advice}")
    elif meta.status == journal.NOT_COMMITTED and meta.interrupted:
        # The first line said how it was interrupted: say it once.
        say(f"gittree: kept in the journal, not committed (gittree recover {meta.id} commits it)")
    elif meta.status == journal.NOT_COMMITTED:
        say(f"gittree: kept in the journal, not committed: {meta.reason}")
    elif meta.status != journal.COMMITTED:
        say(f"gittree: the run is {meta.status} in the journal; commit it with: gittree recover {meta.id}")


def paragraphs(messages: Sequence[str] | None) -> str | None:
    """``-m`` given several times: one paragraph each, as ``git commit -m A -m B`` writes them (the last
    one alone was kept, and the others lost without a word)."""
    return "\n\n".join(messages) if messages else None
