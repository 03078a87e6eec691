"""gittree run, sweep, rerun, runs and recover: a command run becomes an experiment."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from gittree.cli.common import State, app
from gittree.cli.running import print_report, say, writer

if TYPE_CHECKING:
    from gittree import gitio


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    command: Annotated[
        list[str],
        typer.Argument(help="The command to run, after -- (its options are its own).", metavar="CMD"),
    ],
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name", "-m", help="What this run tries (default: the command line); repeated: paragraphs."
        ),
    ] = None,
    metrics_file: Annotated[
        str | None,
        typer.Option("--metrics-file", help="JSON or YAML metrics the run writes (relative to here)."),
    ] = None,
    capture: Annotated[
        list[str] | None,
        typer.Option("--capture", help="Record NAME from output lines 'NAME: VALUE' or 'NAME=VALUE'."),
    ] = None,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch", "-b", help="Commit on this branch (new: from HEAD); the checkout is untouched."
        ),
    ] = None,
    no_commit: Annotated[
        bool, typer.Option("--no-commit", help="Only journal the run; `gittree recover ID` commits it later.")
    ] = False,
    add: Annotated[
        bool, typer.Option("--add", help="Also commit untracked files (not ignored) with the run's code.")
    ] = False,
    param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE; repeatable.")] = None,
    note: Annotated[list[str] | None, typer.Option("--note", help="A one-line note; repeatable.")] = None,
    push: Annotated[
        bool,
        typer.Option(
            "--push", help="After the commit, push the branch and the notes (as gittree sync does)."
        ),
    ] = False,
    remote: Annotated[
        str | None, typer.Option("--remote", help="Remote for --push (default: as gittree sync chooses).")
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            "--seeds",
            metavar="LIST",
            help="Run once per seed (0,1,2 or 0-4): {seed} in the command and GITTREE_SEED are set; "
            "one experiment with a sample per seed.",
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="With --seeds: how many seeds run at once.")] = 1,
    new: Annotated[
        bool,
        typer.Option(
            "--new", help="A new experiment even when the code, command and params repeat the one at HEAD."
        ),
    ] = False,
) -> None:
    """Run a command and record it as an experiment commit, with its metrics, whatever happens.

    The output streams live and is saved with the run in a journal inside .git before anything can fail.
    Metrics come from gittree.log_metric() in the script, --metrics-file and --capture. The commit holds
    the code the run started with (tracked files; --add for new ones). A command that exits non-zero is
    committed with Gittree-Status: failed. Ctrl-C stops the command and commits nothing.

    Running the code, command (seed aside) and params of the experiment at HEAD again adds a sample
    to it instead of a new experiment (--new for a new one). If the branch moved during the run because
    another run landed first, the run lands beside it as a sibling, on the branch run/ID.

    Afterwards gittree runs the post-run hook if one is installed (gittree hook install). Without it,
    gittree run works the same: it does the hook's default step itself and commits the run. If the
    commit fails, the run stays in the journal: see `gittree runs`, fix the cause, `gittree recover`.
    """
    from gittree.cli.running import run_experiment

    code = run_experiment(
        State.repo_path,
        command,
        name=name,
        metrics_file=metrics_file,
        capture=capture,
        branch=branch,
        no_commit=no_commit,
        add=add,
        param=param,
        note=note,
        push=push,
        remote=remote,
        seeds=seeds,
        jobs=jobs,
        new=new,
    )
    raise typer.Exit(code)


@app.command(context_settings={"allow_interspersed_args": False})
def sweep(
    command: Annotated[
        list[str],
        typer.Argument(
            help="The command, after --, a placeholder per --grid name, such as {lr} for --grid lr=..., and {seed}.",
            metavar="CMD",
        ),
    ],
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid", metavar="NAME=V1,V2", help="A param and its values; repeatable (every combination)."
        ),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option("--seeds", metavar="LIST", help="Run each point once per seed (0,1,2 or 0-4)."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="How many runs at once.")] = 1,
    name: Annotated[
        str | None, typer.Option("--name", help="The sweep's name: its branches are sweep/NAME/POINT.")
    ] = None,
    message: Annotated[
        list[str] | None,
        typer.Option(
            "--message", "-m", help="Each point's subject ({point}: its values); repeated: paragraphs."
        ),
    ] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="Rank the summary by this metric (default: as show does).")
    ] = None,
    metrics_file: Annotated[
        str | None, typer.Option("--metrics-file", help="JSON or YAML metrics each run writes.")
    ] = None,
    capture: Annotated[
        list[str] | None, typer.Option("--capture", help="Record NAME from output lines 'NAME: VALUE'.")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE for every point.")] = None,
    note: Annotated[list[str] | None, typer.Option("--note", help="A one-line note on every point.")] = None,
    add: Annotated[bool, typer.Option("--add", help="Also commit untracked files with the code.")] = False,
) -> None:
    """Run a command over a grid of params: one sibling experiment per point, off the current commit.

    Each point runs on a branch of its own, sweep/NAME/POINT, created from HEAD (the checkout is never
    touched), records its grid values as params and its seeds as samples, and is committed as soon as
    its seeds end. A progress line per point, then a table of the points, best first. Ctrl-C stops
    the sweep: the points already committed stay; the one running stays in the journal.
    """
    from gittree.cli.running import run_grid

    raise typer.Exit(
        run_grid(
            State.repo_path,
            command,
            grid=grid,
            seeds=seeds,
            jobs=jobs,
            name=name,
            message=message,
            metric=metric,
            metrics_file=metrics_file,
            capture=capture,
            param=param,
            note=note,
            add=add,
        )
    )


@app.command()
def rerun(
    rev: Annotated[str, typer.Argument(help="The experiment to run again.")],
    seeds: Annotated[
        str | None,
        typer.Option("--seeds", metavar="LIST", help="Run these seeds (default: the ones it recorded)."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="How many seeds run at once.")] = 1,
    metrics_file: Annotated[
        str | None, typer.Option("--metrics-file", help="JSON or YAML metrics the run writes.")
    ] = None,
    capture: Annotated[
        list[str] | None, typer.Option("--capture", help="Record NAME from output lines 'NAME: VALUE'.")
    ] = None,
) -> None:
    """Run REV's recorded command on REV's exact code again, adding the results to REV as samples.

    The code is checked out in a temporary worktree, removed afterwards: your checkout, index and
    branches are never touched, and the results are not dirty. Files git does not track (data sets)
    are not in that worktree: give their absolute paths to the command.
    """
    from gittree import gitio
    from gittree.read import repo_config
    from gittree.runs.sweep import plan_rerun
    from gittree.runs.sweep import rerun as rerun_commit

    repo = gitio.open_repo(State.repo_path)
    plan = plan_rerun(
        repo,
        rev,
        config=repo_config(repo),
        seeds=seeds,
        jobs=jobs,
        capture=capture or (),
        metrics_file=metrics_file,
    )
    report = rerun_commit(repo, plan, out=writer(sys.stdout), err=writer(sys.stderr))
    print_report(report)
    raise typer.Exit(report.exit_code)


@app.command()
def runs(
    run_id: Annotated[
        str | None, typer.Argument(help="Show this run in full (a unique prefix will do).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the journal entries as JSON.")] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Remove the entries of committed runs that ended more than --older-than days ago "
            "and whose commit a ref still reaches; nothing else is ever removed.",
        ),
    ] = False,
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            min=0,
            metavar="DAYS",
            help="With --prune: the age in days (default: run.keep_days, 30).",
        ),
    ] = None,
    drop: Annotated[
        str | None,
        typer.Option(
            "--drop",
            metavar="ID",
            help="Take this run out of the journal on purpose (one whose commit failed, say); its output, "
            "metrics and record are kept in a folder it names.",
        ),
    ] = None,
) -> None:
    """List the run journal: pending runs, committed ones with their sha, failed commits with the reason."""
    from gittree import gitio
    from gittree.cli.runlist import print_runs

    repo = gitio.open_repo(State.repo_path)
    if drop is not None:
        _drop(repo, drop, run_id, prune, as_json)
        return
    if prune:
        _prune(repo, run_id, older_than, as_json)
        return
    if older_than is not None:
        from gittree.errors import BadValueError

        # Never read alone as "prune": a listing asked for must not delete anything.
        raise BadValueError("--older-than goes with --prune", hint="gittree runs --prune --older-than DAYS")
    print_runs(repo, run_id, as_json=as_json)


def _drop(repo: gitio.Repo, drop: str, run_id: str | None, prune: bool, as_json: bool) -> None:
    from gittree.errors import BadValueError
    from gittree.runs.listing import drop_run

    if run_id is not None or prune:
        raise BadValueError("--drop takes one run id and nothing else", hint="gittree runs --drop ID")
    dropped = drop_run(repo, drop)
    if as_json:
        data = {"id": dropped.run_id, "status": dropped.status, "kept": str(dropped.kept)}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    print(f"dropped run {dropped.run_id} ({dropped.status}) from the journal")
    print(f"its output, metrics and record are kept in {dropped.kept} (output.log, metrics.json, meta.json)")


def _prune(repo: gitio.Repo, run_id: str | None, older_than: float | None, as_json: bool) -> None:
    from gittree.errors import BadValueError
    from gittree.read import repo_config
    from gittree.runs.listing import prune_runs

    if run_id is not None:
        raise BadValueError("--prune takes no run id", hint="gittree runs --prune [--older-than DAYS]")
    days = older_than if older_than is not None else repo_config(repo).run.keep_days
    report = prune_runs(repo, keep_days=days)
    if as_json:
        from dataclasses import asdict

        sys.stdout.write(json.dumps(asdict(report), indent=2) + "\n")
        return
    print(
        f"removed {len(report.removed)} committed run(s) that ended more than {days:g} day(s) ago "
        f"({report.bytes_freed / 1e6:.1f} MB)"
    )
    kept = [
        (report.kept_recent, "committed more recently"),
        (report.kept_uncommitted, "not committed (never pruned)"),
        (
            len(report.kept_unreachable),
            "committed, but no ref reaches the commit (the entry may be its last copy)",
        ),
    ]
    for count, why in kept:
        if count:
            print(f"kept {count}: {why}")
    for run in report.kept_unreachable:
        print(f"    {run}")


@app.command()
def recover(
    run_ids: Annotated[
        list[str] | None, typer.Argument(help="Runs to commit (default: every pending or failed one).")
    ] = None,
    branch: Annotated[
        str | None,
        typer.Option("--branch", "-b", help="Commit on this branch instead (new: from the run's start)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Commit a run journalled as running on another machine.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Commit journalled runs that are not committed yet, once the cause of the failure is fixed."""
    from gittree import gitio
    from gittree.runs.listing import recover as recover_runs

    outcomes = recover_runs(gitio.open_repo(State.repo_path), run_ids or (), branch=branch, force=force)
    if not outcomes and not quiet:
        print("nothing to recover: every run in the journal is committed or kept on purpose")
    failed = None
    for outcome in outcomes:
        if outcome.error is not None:
            failed = failed or outcome.error
            message = outcome.error.message
            if outcome.run_id not in message:  # a failed commit: the run is still in the journal
                message = f"run {outcome.run_id} is still not committed: {message}"
            say(f"gittree: error: {message}")
            if outcome.error.hint:
                say(f"hint: {outcome.error.hint}")
        elif outcome.result is not None and not quiet:
            from gittree.runs.commit import where_committed

            result = outcome.result
            print(
                f"run {result.meta.id} {'was already ' if result.already else ''}{where_committed(result.meta)}"
            )
            for warning in result.warnings:
                say(f"gittree: warning: {warning}")
    if failed is not None:
        raise typer.Exit(failed.exit_code)
