"""gittree record and abandon: late results and dead ends join an experiment already committed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gittree.cli.common import State, app


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
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run",
            metavar="RUN_ID",
            help="Record that journalled run's metrics; dirty only if the code it ran differs from REV.",
        ),
    ] = None,
) -> None:
    """Attach late results to an existing commit (a git note under refs/notes/gittree)."""
    from gittree import gitio
    from gittree.record.notes import record

    result = record(
        gitio.open_repo(State.repo_path),
        rev,
        metrics=metric or (),
        params=param or (),
        notes=note or (),
        status=status,
        metrics_file=metrics_file,
        run_id=run_id,
    )
    print(f"recorded on {result.sha[:7]}: {len(result.lines)} line(s)")
    if result.dirty:
        print(
            "gittree: warning: the working tree differs from this commit: the result is marked dirty=true "
            "(it may not come from the committed code)",
            file=sys.stderr,
        )


@app.command()
def abandon(
    rev: Annotated[str, typer.Argument(help="The experiment that is a dead end.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is abandoned (kept as a note).")],
) -> None:
    """Mark an experiment as a dead end, with the reason why."""
    from gittree import gitio
    from gittree.record.notes import abandon as abandon_commit

    result = abandon_commit(gitio.open_repo(State.repo_path), rev, reason=reason)
    print(f"abandoned {result.sha[:7]}")
