"""gittree best, path, table, diff, export and import: asking the research tree questions."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gittree.cli.common import AllOption, JsonOption, MetricOption, RevsArgument, State, app, print_lines
from gittree.cli.output import ExportFormat, TableFormat

if TYPE_CHECKING:
    from gittree.gitio import Repo


class ImportFormat(str, Enum):
    autoresearch = "autoresearch"


def _repo() -> Repo:
    from gittree import gitio

    return gitio.open_repo(State.repo_path)


@app.command()
def best(
    revs: RevsArgument = None,
    all_refs: AllOption = False,
    metric: MetricOption = None,
    top: Annotated[int, typer.Option("--top", "-k", metavar="K", help="How many to list, best first.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """The best experiment(s): the best mean of repeated runs on the metric; dead ends and NaN never win."""
    from gittree.cli.answers import print_best
    from gittree.read import Selection

    print_best(
        State.repo_path, Selection(revs or [], all_refs=all_refs, metric=metric), top=top, as_json=as_json
    )


@app.command()
def path(
    rev: Annotated[
        str | None,
        typer.Argument(help="The experiment to trace (default: the best one).", show_default=False),
    ] = None,
    all_refs: AllOption = False,
    metric: MetricOption = None,
    as_json: JsonOption = False,
) -> None:
    """The chain of experiments from the root to REV: each step's delta, cumulative gain, notes and folded commits."""
    from gittree.cli.answers import print_path
    from gittree.read import Selection

    chosen = Selection([rev] if rev else [], all_refs=all_refs, within_scope=True, metric=metric)
    print_path(State.repo_path, chosen, as_json=as_json)


@app.command()
def table(
    revs: RevsArgument = None,
    all_refs: AllOption = False,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            "-m",
            metavar="NAME",
            help="Judge and colour by this metric. Repeat for more columns: the first sets delta and verdict.",
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option("--sort", metavar="KEY", help="A metric (best first), or tree, date or delta."),
    ] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.plain,
    as_json: JsonOption = False,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="NAME",
            help="A param column (repeatable): the effective value, marked * where the experiment set it.",
        ),
    ] = None,
) -> None:
    """One row per experiment: sha, subject, metrics (mean ± std (n)), delta, verdict, status, author, date."""
    from gittree.cli.fastpath import print_table
    from gittree.read import Selection

    print_table(
        State.repo_path,
        Selection(revs or [], all_refs=all_refs, metric=metric[0] if metric else None),
        metrics=metric,
        sort=sort,
        fmt=fmt.value,
        as_json=as_json,
        param=param,
    )


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="The experiment to compare against.")],
    b: Annotated[str, typer.Argument(help="The experiment to compare.")],
    all_refs: AllOption = False,
    metric: MetricOption = None,
    patch: Annotated[
        bool, typer.Option("--patch", "-p", help="Show the whole code diff, not only the stat.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """B against A: metrics side by side with deltas, params that changed, notes, and the code change."""
    from gittree.cli.answers import print_diff

    print_diff(State.repo_path, a, b, all_refs=all_refs, metric=metric, patch=patch, as_json=as_json)


@app.command()
def export(
    revs: RevsArgument = None,
    all_refs: AllOption = False,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="json or markdown.")
    ] = ExportFormat.json,
    metric: MetricOption = None,
    as_json: JsonOption = False,
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget",
            metavar="N",
            help="Markdown: fit the story into N characters, best path first (docs/agents.md).",
        ),
    ] = None,
) -> None:
    """The whole research map: JSON with a documented schema (docs/export.md), or a Markdown narrative."""
    from gittree.cli.fastpath import print_export
    from gittree.read import Selection

    print_export(
        State.repo_path,
        Selection(revs or [], all_refs=all_refs, metric=metric),
        fmt=fmt.value,
        as_json=as_json,
        budget=budget,
    )


@app.command("import")
def import_(
    log: Annotated[Path, typer.Argument(help="The results log, such as results.tsv.")],
    fmt: Annotated[
        ImportFormat, typer.Option("--format", "-f", help="The log's format.")
    ] = ImportFormat.autoresearch,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", "-n", help="Check every row and say what would be written; write nothing."),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Write nothing when any row cannot be imported (else it is skipped)."),
    ] = False,
    status_map: Annotated[
        list[str] | None,
        typer.Option(
            "--status-map",
            metavar="WORD=STATUS,...",
            help="Import a logged status as keep, discard or crash: tentative=keep,repair=discard.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record another tool's results log on its commits (git notes); rows naming no commit become
    reconstructed experiments; discarded commits are kept reachable (docs/import.md)."""
    from gittree.errors import BadValueError
    from gittree.importers import import_log
    from gittree.importers.autoresearch import parse_status_map
    from gittree.render import answers

    mapping = parse_status_map(status_map or [])
    report = import_log(_repo(), log, fmt=fmt.value, dry_run=dry_run, strict=strict, status_map=mapping)
    if as_json:
        sys.stdout.write(answers.render_import_json(report))
    else:
        print_lines(answers.render_import(report))
    if report.errors:
        count = len(report.errors)
        raise BadValueError(
            f"{count} row{'s' if count > 1 else ''} of {log} cannot be imported; with --strict nothing was written",
            hint="fix or remove the rows marked 'error', or import without --strict to skip them",
        )
