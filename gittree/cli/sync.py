"""gittree sync: share the research tree through a git remote (docs/teams.md)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from gittree.cli.common import State, app

if TYPE_CHECKING:
    from gittree.sync import ConfigureResult, SyncReport, SyncStep


@app.command()
def sync(
    remote: Annotated[
        str | None,
        typer.Argument(
            help="The remote (default: the branch's upstream remote, else origin, else the only one)."
        ),
    ] = None,
    configure: Annotated[
        bool,
        typer.Option(
            "--configure",
            help="Instead of syncing, add refspecs to remote.REMOTE.fetch/push so plain git fetch and "
            "git push carry branches, notes and gittree refs too (idempotent).",
        ),
    ] = False,
    attempts: Annotated[
        int,
        typer.Option(
            "--attempts",
            min=1,
            metavar="N",
            help="Fetch-merge-push attempts when other clones keep pushing first (backoff grows "
            "between them); raise it when hundreds of jobs sync at once.",
        ),
    ] = 10,
) -> None:
    """Fetch and push the research tree: experiment branches, notes (merged, never overwritten), gittree refs.

    Branches are those matching sync.branches in .gittree.yaml (default exp/* and sweep/*). Notes
    written in two clones are merged paragraph by paragraph; a push that loses a race with another
    clone is retried. A branch that moved both here and on the remote is left alone and reported
    (exit code 14). See docs/teams.md.
    """
    from gittree import gitio

    repo = gitio.open_repo(State.repo_path)
    if configure:
        from gittree.sync import configure_remote

        _print_configured(configure_remote(repo, remote))
        return
    from gittree.sync import sync as sync_remote

    report = sync_remote(repo, remote, attempts=attempts, on_step=_show_step)
    _print_report(report)
    problem = report.problem()
    if problem is not None:
        raise problem


def _show_step(step: SyncStep) -> None:
    if step.kind == "retry":
        from gittree.render.escape import terminal_safe

        print(
            f"gittree: the remote changed under this push ({terminal_safe(step.detail)}); "
            f"fetching again in {step.delay:.1f}s (attempt {step.attempt + 1})",
            file=sys.stderr,
        )


def _print_report(report: SyncReport) -> None:
    from gittree.render.escape import terminal_safe
    from gittree.sync import short_ref

    def names(refs: list[str]) -> str:
        return terminal_safe(", ".join(short_ref(ref) for ref in refs))

    remote = terminal_safe(report.remote)
    tries = "" if report.attempts == 1 else f" ({report.attempts} attempts)"
    print(f"synced with {remote}{tries}")
    if report.notes_received:
        noun = "note" if report.notes_received == 1 else "notes"
        print(f"  received {report.notes_received} {noun} from {remote}, merged into yours")
    if report.adopted:
        print(f"  received {names(report.adopted)}")
    if report.pushed:
        print(f"  pushed {names(report.pushed)}")
    elif not report.diverged:
        print(f"  nothing to push: {remote} has it all")
    if report.behind:
        print(
            f"  {remote} is ahead on {names(report.behind)} (shown as {remote}/...; your branches are unchanged)"
        )


def _print_configured(result: ConfigureResult) -> None:
    from gittree.render.escape import terminal_safe

    for key, value in result.removed:  # the exact refspecs an older gittree wrote
        print(terminal_safe(f"git config --unset {key} {value}"))
    for key, value in result.added:
        print(terminal_safe(f"git config --add {key} {value}"))
    if result.present and not result.added and not result.removed:
        print(terminal_safe(f"remote '{result.remote}' already carries the research tree: nothing to change"))
