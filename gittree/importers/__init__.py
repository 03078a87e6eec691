"""Reading other research logs into the tree: ``gittree import results.tsv --format autoresearch``.

autoresearch-style agent loops commit each idea, run it, and append a row to a tab-separated log::

    commit  val_bpb   memory_gb  status   description
    a1b2c3d 0.997900  44.0       keep     baseline
    b2c3d4e 1.005000  44.2       discard  switch to GeLU
    c3d4e5f 0.000000  0.0        crash    double the width (OOM)

The import takes such a file as it is (docs/import.md): each row it understands is recorded on its
commit as a gittree note (what ``gittree record`` writes); a row naming no commit of this history
(a hash reset away and collected, ``exp001``, ``baseline``) becomes a reconstructed experiment, a
commit of gittree's own hanging off the experiment logged before it; repeated rows of one commit are
samples of one experiment; unknown statuses map to the nearest known one. Rows it cannot understand
are reported one line each and skipped (``--strict``: nothing is written when any row is in error).
Every row's commit is kept in gittree's keep ref (``refs/gittree/keep``, :func:`gitio.keep_commits`),
so the tree shows the dead ends and garbage collection cannot take them.

Three steps, a module each: :mod:`~gittree.importers.autoresearch` reads the log (pure),
:mod:`~gittree.importers.plan` decides what each row becomes (reading git, writing nothing), and this
module writes it, all or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gittree import gitio
from gittree.errors import BadValueError, GitCommandError, GittreeError
from gittree.importers.autoresearch import parse_log, read_log
from gittree.importers.plan import IMPORTED_ACTIONS, check_rows
from gittree.model import ImportReport

FORMATS = ("autoresearch",)


def import_log(
    repo: gitio.Repo,
    path: Path,
    *,
    fmt: str = "autoresearch",
    dry_run: bool = False,
    strict: bool = False,
    status_map: Mapping[str, str] | None = None,
) -> ImportReport:
    """Check and plan every row, then (unless ``dry_run``, or ``strict`` and a row is in error) write.

    Raises nothing for row problems: they are in the report (skipped; with ``strict`` nothing is
    written). A git failure while writing rolls back the notes ref and the refs created, then re-raises.
    """
    from gittree.read import repo_config

    if fmt not in FORMATS:
        raise BadValueError(f"unknown import format '{fmt}'", hint=f"known formats: {', '.join(FORMATS)}")
    text = read_log(path)
    config = repo_config(repo)
    columns = parse_log(text)[0]
    goal_of = {name: config.spec(name).goal.value for name in columns.metrics}
    if config.primary:
        goal_of[config.primary] = config.spec(config.primary).goal.value
    report = check_rows(
        repo,
        text,
        str(path),
        strict=strict,
        status_map=status_map,
        config_primary=config.primary,
        goal_of=goal_of,
    )
    if dry_run or report.errors:
        return report
    write_report(repo, report)
    return report


def write_report(repo: gitio.Repo, report: ImportReport) -> None:
    """Write the reconstructed commits, keep every row's commit (the keep ref), then append each
    row's note; all or nothing (unreferenced objects left by a failure are git's garbage).

    ``report.written`` says whether anything was written: not when every row was already imported.
    """
    commits = [row.raw for row in report.rows if row.action == "reconstruct"]
    rows = list(
        dict.fromkeys(str(row.sha) for row in report.rows if row.action in IMPORTED_ACTIONS and row.sha)
    )
    notes = [(row.sha, row.lines) for row in report.rows if row.action == "record" and row.sha]
    if not (commits or any(row.kept_ref for row in report.rows) or notes):
        return
    gitio.write_commit_objects(repo, commits)
    notes_before = gitio.ref_target(repo, gitio.NOTES_REF)
    kept = gitio.keep_commits(repo, rows, reason="gittree import")
    try:
        gitio.append_notes(repo, notes)
    except GittreeError as e:
        _roll_back(repo, notes_before, kept, e)
        raise
    report.written = True


def _roll_back(repo: gitio.Repo, notes_before: str | None, kept: list[str], cause: GittreeError) -> None:
    """Put the notes ref back where it was and forget the commits this import kept."""
    commands = []
    notes_now = gitio.ref_target(repo, gitio.NOTES_REF)
    if notes_now != notes_before:
        if notes_before is None:
            commands.append(f"delete {gitio.NOTES_REF} {notes_now}")
        else:
            commands.append(f"update {gitio.NOTES_REF} {notes_before} {notes_now}")
    try:
        gitio.update_refs(repo, commands)
        gitio.forget_commits(repo, kept, descendants=False, reason="gittree import (undone)")
    except GitCommandError as e:
        raise GitCommandError(
            f"{cause.message}; and undoing the partial import failed too: {e.message}",
            hint=f"reset by hand: git update-ref {gitio.NOTES_REF} {notes_before or '(delete it)'}; "
            f"then forget what this import kept: gittree forget SHA",
        ) from e
