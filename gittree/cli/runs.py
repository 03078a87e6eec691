"""gittree run, runs, recover, record and abandon: runs become experiments, late results join them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from gittree.cli.common import State, app

if TYPE_CHECKING:
    from gittree import gitio
    from gittree.runs import RunReport


def _writer(stream: TextIO) -> Any:
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


def _say(text: str) -> None:
    from gittree.render.escape import terminal_safe

    for line in text.splitlines():
        print(terminal_safe(line), file=sys.stderr)


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    command: Annotated[
        list[str],
        typer.Argument(help="The command to run, after -- (its options are its own).", metavar="CMD"),
    ],
    name: Annotated[
        str | None, typer.Option("--name", "-m", help="What this run tries (default: the command line).")
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
) -> None:
    """Run a command and record it as an experiment commit, with its metrics, whatever happens.

    The output streams live and is saved with the run in a journal inside .git before anything can fail.
    Metrics come from gittree.log_metric() in the script, --metrics-file and --capture. The commit holds
    the code the run started with (tracked files; --add for new ones). A command that exits non-zero is
    committed with Gittree-Status: failed. Ctrl-C stops the command and commits nothing.

    Afterwards gittree runs the post-run hook if one is installed (gittree hook install). Without it,
    gittree run works the same: it does the hook's default step itself and commits the run. If the
    commit fails, the run stays in the journal: see `gittree runs`, fix the cause, `gittree recover`.
    """
    from gittree import gitio, journal
    from gittree.research import repo_config
    from gittree.runs import make_request, run_command

    repo = gitio.open_repo(State.repo_path)
    config = repo_config(repo)
    push_to: str | None = None
    if push:  # checked before the command runs: a typo must not cost a run's push
        from gittree.sync import check_pushable, resolve_remote

        check_pushable(branch, config.sync_branches)
        push_to = resolve_remote(repo, remote)
    request = make_request(
        command,
        cwd=(State.repo_path or Path.cwd()).resolve(),  # -C: run as if started there, the command too
        config=config,
        name=name,
        params=param or (),
        notes=note or (),
        metrics_file=metrics_file,
        capture=capture or (),
        branch=branch,
        commit=not no_commit,
        add_untracked=add,
    )
    report = run_command(repo, request, out=_writer(sys.stdout), err=_writer(sys.stderr))
    _print_report(report)
    if push_to is not None and report.meta.status == journal.COMMITTED and report.meta.branch:
        _push_run(repo, push_to, report.meta.branch)
    raise typer.Exit(report.exit_code)


def _push_run(repo: gitio.Repo, remote: str, branch: str) -> None:
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
    _say(f"gittree: pushed {branch} and the notes to {report.remote}")


def _print_report(report: RunReport) -> None:
    from gittree import journal
    from gittree.cli.runlist import metrics_text, outcome_text
    from gittree.runmetrics import collected_metrics

    meta = report.meta
    duration = f", {meta.duration:.1f} s" if meta.duration is not None else ""
    head = f"gittree: run {meta.id}: {outcome_text(meta)}{duration}"
    metrics = metrics_text(collected_metrics(report.run_dir))
    if metrics:
        head += f" · {metrics}"
    _say(head)
    for warning in meta.warnings:
        _say(f"gittree: warning: {warning}")
    committed = meta.sha if meta.status == journal.COMMITTED else None
    if committed:
        _say(f"gittree: committed {committed[:7]} on {meta.branch or 'a detached HEAD'}")
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
            _say(f"gittree: error: {what} {ended} after the run was committed")
            _say(
                f"hint: the run is committed ({committed[:7]}) and safe, nothing to recover; "
                "fix that step, and run it again by hand if it matters"
            )
        else:
            _say(f"gittree: error: the post-run hook {report.hook} {ended}")
            _say(f"hint: the run is safe in the journal ({meta.status}): see `gittree runs {meta.id}`")
    elif committed:
        return
    elif report.error is not None:
        _say(f"gittree: error: the run finished but could not be committed: {report.error.message}")
        _say(
            "hint: its metrics and log are safe in the journal (gittree runs); "
            f"fix the cause, then: gittree recover {meta.id}"
        )
    elif meta.status == journal.NOT_COMMITTED:
        _say(f"gittree: kept in the journal, not committed: {meta.reason}")
    elif meta.status != journal.COMMITTED:
        _say(f"gittree: the run is {meta.status} in the journal; commit it with: gittree recover {meta.id}")


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
) -> None:
    """List the run journal: pending runs, committed ones with their sha, failed commits with the reason."""
    from gittree import gitio
    from gittree.cli.runlist import print_runs

    repo = gitio.open_repo(State.repo_path)
    if prune:
        _prune(repo, run_id, older_than, as_json)
        return
    if older_than is not None:
        from gittree.errors import BadValueError

        # Never read alone as "prune": a listing asked for must not delete anything.
        raise BadValueError("--older-than goes with --prune", hint="gittree runs --prune --older-than DAYS")
    print_runs(repo, run_id, as_json=as_json)


def _prune(repo: gitio.Repo, run_id: str | None, older_than: float | None, as_json: bool) -> None:
    from gittree.errors import BadValueError
    from gittree.research import repo_config
    from gittree.runcommit import prune_runs

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
    from gittree.runcommit import recover as recover_runs

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
            _say(f"gittree: error: {message}")
            if outcome.error.hint:
                _say(f"hint: {outcome.error.hint}")
        elif outcome.result is not None and not quiet:
            result = outcome.result
            verb = "was already committed as" if result.already else "committed as"
            print(
                f"run {result.meta.id} {verb} {result.sha[:7]} on {result.meta.branch or 'a detached HEAD'}"
            )
            for warning in result.warnings:
                _say(f"gittree: warning: {warning}")
    if failed is not None:
        raise typer.Exit(failed.exit_code)


@app.command("record")
def record_results(
    rev: Annotated[str, typer.Argument(help="The commit the results belong to.")],
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="NAME=VALUE; adds a sample (another seed).")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE; repeatable.")] = None,
    note: Annotated[list[str] | None, typer.Option("--note", help="A one-line note; repeatable.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="ok, abandoned, failed or running.")] = None,
    metrics_file: Annotated[
        Path | None, typer.Option("--metrics-file", help="JSON or YAML file of metrics.")
    ] = None,
) -> None:
    """Attach late results to an existing commit (a git note under refs/notes/gittree)."""
    from gittree import gitio
    from gittree.notes import record

    result = record(
        gitio.open_repo(State.repo_path),
        rev,
        metrics=metric or (),
        params=param or (),
        notes=note or (),
        status=status,
        metrics_file=metrics_file,
    )
    print(f"recorded on {result.sha[:7]}: {len(result.lines)} line(s)")
    if result.dirty:
        _say(
            "gittree: warning: the working tree differs from this commit: the result is marked dirty=true "
            "(it may not come from the committed code)"
        )


@app.command()
def abandon(
    rev: Annotated[str, typer.Argument(help="The experiment that is a dead end.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is abandoned (kept as a note).")],
) -> None:
    """Mark an experiment as a dead end, with the reason why."""
    from gittree import gitio
    from gittree.notes import abandon as abandon_commit

    result = abandon_commit(gitio.open_repo(State.repo_path), rev, reason=reason)
    print(f"abandoned {result.sha[:7]}")
