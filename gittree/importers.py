"""Reading other research logs into the tree: ``gittree import results.tsv --format autoresearch``.

autoresearch-style agent loops commit each idea, run it, and append a row to a tab-separated log::

    commit  val_bpb   memory_gb  status   description
    a1b2c3d 0.997900  44.0       keep     baseline
    b2c3d4e 1.005000  44.2       discard  switch to GeLU
    c3d4e5f 0.000000  0.0        crash    double the width (OOM)

A kept idea stays on the branch; a discarded or crashed one is reset away and survives only in the
reflog. The import records every row on its commit as a gittree note (what ``gittree record`` writes)
and keeps every row's commit in gittree's keep ref (``refs/gittree/keep``, :func:`gitio.keep_commits`)
so the tree shows the dead ends and garbage collection cannot take them. Every row is checked before anything is written; a failure
while writing undoes what was written. The rules are in ``docs/guide.md`` ("Import a log").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gittree import gitio
from gittree.errors import BadValueError, GitCommandError, GittreeError
from gittree.model import ImportReport, RowOutcome
from gittree.notemerge import IMPORTED_FACT
from gittree.trailers import format_trailer_lines, is_number, parse_number, validate_name

FORMATS = ("autoresearch",)
#: The run fact that marks a note written by an import: a second import of a row is a no-op, and
#: ``gittree sync`` keeps one copy of a paragraph that two clones imported (notemerge.py).
SOURCE_FACT = (IMPORTED_FACT, "autoresearch")
#: Columns with a meaning of their own; every other column is a metric (numbers) or a param (text).
COMMIT, STATUS, DESCRIPTION = "commit", "status", "description"
#: Resources a run used are facts about the run, not research results: recorded as Gittree-Run.
RUN_FACT_COLUMNS = frozenset(["memory_gb"])
DEFAULT_COLUMNS = (COMMIT, "val_bpb", "memory_gb", STATUS, DESCRIPTION)
STATUSES = {"keep": None, "discard": "abandoned", "crash": "failed"}
#: Cells that mean "no value" in a text column (autoresearch forks write N/A for crashes).
EMPTY_CELLS = frozenset(["", "-", "n/a", "na", "none"])
_HEX = re.compile(r"[0-9a-fA-F]{4,40}")


@dataclass(frozen=True)
class Row:
    """One data row of the log, as written."""

    line: int
    cells: dict[str, str]

    @property
    def commit(self) -> str:
        return self.cells.get(COMMIT, "")

    @property
    def status(self) -> str:
        return self.cells.get(STATUS, "").strip().lower()


# -- reading the file ------------------------------------------------------------------------------


def read_log(path: Path) -> str:
    # utf-8-sig: spreadsheets and Windows editors start UTF-8 files with a byte order mark, which would
    # otherwise be part of the first column's name.
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise BadValueError(f"{path}: no such file", hint="give the path of the results log") from e
    except (OSError, UnicodeDecodeError) as e:
        raise BadValueError(f"cannot read {path}: {e}", hint="the log must be UTF-8 text") from e


def parse_log(text: str) -> tuple[tuple[str, ...], list[Row], list[RowOutcome]]:
    """(columns, rows, malformed rows). The header row names the columns; without one, the default five."""
    lines = text.replace("\r\n", "\n").split("\n")
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    start = 0
    if first is not None:
        header = tuple(cell.strip().lower() for cell in lines[first].split("\t"))
        if header[0] == COMMIT:
            columns = header
            _check_header(columns)
            start = first + 1
        elif _looks_like_header(header):
            raise _unexpected_header(first + 1, header)
    rows: list[Row] = []
    malformed: list[RowOutcome] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        cells = line.split("\t")
        number = index + 1
        if len(cells) != len(columns):
            malformed.append(
                _error(
                    number,
                    cells[0].strip(),
                    "",
                    f"malformed row: {len(cells)} tab-separated cells, the header has {len(columns)}",
                )
            )
            continue
        rows.append(Row(number, dict(zip(columns, (cell.strip() for cell in cells), strict=True))))
    return columns, rows, malformed


def _looks_like_header(cells: tuple[str, ...]) -> bool:
    """A first line that names no commit and holds no status is a header, not a data row with a typo."""
    return not _HEX.fullmatch(cells[0]) and not any(cell in STATUSES for cell in cells)


def _unexpected_header(line: int, cells: tuple[str, ...]) -> BadValueError:
    found = ", ".join(f"'{cell}'" for cell in cells)
    untabbed = " (the line holds no tab: are the columns separated by spaces?)" if len(cells) == 1 else ""
    return BadValueError(
        f"line {line} looks like a header row, but its first column is not 'commit': {found}{untabbed}",
        hint="an autoresearch log starts with the tab-separated header: "
        f"{' '.join(DEFAULT_COLUMNS)}; name the first column 'commit'",
    )


def _check_header(columns: tuple[str, ...]) -> None:
    for required in (COMMIT, STATUS):
        if required not in columns:
            raise BadValueError(
                f"the header row has no '{required}' column: {' '.join(columns)}",
                hint="autoresearch logs start with: commit val_bpb memory_gb status description",
            )
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise BadValueError(f"the header row names the column '{name}' twice")
        seen.add(name)
        if name not in (COMMIT, STATUS, DESCRIPTION):
            try:
                validate_name(name, kind="metric")
            except BadValueError as e:
                raise BadValueError(f"the header row has a bad column name: {e.message}") from e


def _error(line: int, commit: str, status: str, message: str) -> RowOutcome:
    return RowOutcome(line=line, commit=commit, status=status, action="error", message=message)


# -- checking rows ---------------------------------------------------------------------------------


def _data_columns(columns: tuple[str, ...], rows: list[Row]) -> tuple[list[str], list[str], list[str]]:
    """(metric columns, run-fact columns, param columns).

    Resource columns (memory) are run facts. Any other column is a metric when some row that did not
    crash holds a number in it (crash rows hold placeholders), else a param (text such as ``true``).
    In metric and run-fact columns every such row must then hold a number or an empty marker (N/A):
    a typo such as ``0,99`` is an error, not a silent change of the column's kind.
    """
    metrics, facts, params = [], [], []
    for name in columns:
        if name in (COMMIT, STATUS, DESCRIPTION):
            continue
        if name in RUN_FACT_COLUMNS:
            facts.append(name)
        elif any(is_number(row.cells[name]) for row in rows if row.status != "crash"):
            metrics.append(name)
        else:
            params.append(name)
    return metrics, facts, params


def _is_empty(text: str) -> bool:
    return text.strip().lower() in EMPTY_CELLS


def _trailer_lines(
    row: Row, subject: str, metrics: list[str], facts: list[str], params: list[str]
) -> list[str]:
    """The note lines for a row: its results, its status and reason, and where they came from."""
    crashed = row.status == "crash"
    values = (
        [] if crashed else [(name, row.cells[name]) for name in metrics if not _is_empty(row.cells[name])]
    )
    texts = [(name, row.cells[name]) for name in params if not _is_empty(row.cells[name])]
    run = [] if crashed else [(name, row.cells[name]) for name in facts if not _is_empty(row.cells[name])]
    description = " ".join(row.cells.get(DESCRIPTION, "").split())
    # A kept row's description usually repeats the commit subject; a discarded one is the reason it died.
    keep_note = description and (row.status != "keep" or description.lower() != subject.strip().lower())
    return format_trailer_lines(
        metrics=values,
        params=texts,
        notes=[description] if keep_note else [],
        status=STATUSES[row.status],
        run=[*run, SOURCE_FACT],
    )


def check_rows(repo: gitio.Repo, text: str, source: str) -> ImportReport:
    """Every row checked against the repository; nothing is written."""
    columns, rows, malformed = parse_log(text)
    metrics, facts, params = _data_columns(columns, rows)
    report = ImportReport(source=source)
    outcomes = {outcome.line: outcome for outcome in malformed}
    notes = gitio.read_notes(repo)
    first_row_of: dict[str, int] = {}
    for row in rows:
        outcome = _check_row(repo, row, metrics, facts, params, notes)
        sha = outcome.sha
        if sha is not None and outcome.action != "error":
            if sha in first_row_of:
                outcome = _error(
                    row.line,
                    row.commit,
                    row.status,
                    f"names the same commit as line {first_row_of[sha]}; "
                    "two rows would record two runs on one commit",
                )
            else:
                first_row_of[sha] = row.line
        outcomes[row.line] = outcome
    report.rows = [outcomes[line] for line in sorted(outcomes)]
    _plan_kept_refs(repo, report)
    return report


def _check_row(
    repo: gitio.Repo,
    row: Row,
    metrics: list[str],
    facts: list[str],
    params: list[str],
    notes: dict[str, str],
) -> RowOutcome:
    commit, status = row.commit, row.status
    if status not in STATUSES:
        return _error(
            row.line,
            commit,
            status,
            f"bad status '{row.cells.get(STATUS, '')}': expected keep, discard or crash",
        )
    if not _HEX.fullmatch(commit):
        return _error(row.line, commit, status, f"bad commit '{commit}': expected 4 to 40 hexadecimal digits")
    if status != "crash":
        for name in (*metrics, *facts):
            cell = row.cells[name]
            if not _is_empty(cell) and not is_number(cell):
                try:
                    parse_number(cell, name=name)
                except BadValueError as e:
                    return _error(row.line, commit, status, e.message + (f" ({e.hint})" if e.hint else ""))
    match = gitio.match_commit_prefix(repo, commit.lower())
    if len(match.commits) > 1:
        names = ", ".join(sha[:12] for sha in match.commits)
        return _error(row.line, commit, status, f"ambiguous: '{commit}' matches the commits {names}")
    if not match.commits:
        if match.other_types:
            kinds = " and ".join(sorted(set(match.other_types)))
            return _error(row.line, commit, status, f"'{commit}' names a {kinds}, not a commit")
        if status == "keep":
            return _error(
                row.line,
                commit,
                status,
                f"unknown commit '{commit}': a kept row's commit should be in this repository "
                "(is this the log of another clone?)",
            )
        return RowOutcome(
            line=row.line,
            commit=commit,
            status=status,
            action="unrecoverable",
            message="the commit is gone (reset away and garbage-collected): nothing to record it on",
        )
    sha = match.commits[0]
    subject = gitio.commit_subject(repo, sha)
    try:
        lines = tuple(_trailer_lines(row, subject, metrics, facts, params))
    except BadValueError as e:
        return _error(row.line, commit, status, e.message)
    if _already_recorded(notes.get(sha), lines):
        return RowOutcome(
            row.line, commit, status, "already imported", "this row is already in the note", sha, lines
        )
    return RowOutcome(row.line, commit, status, "record", _summary(lines), sha, lines)


def _already_recorded(note: str | None, lines: tuple[str, ...]) -> bool:
    if not note:
        return False
    paragraphs = note.replace("\r\n", "\n").split("\n\n")
    return "\n".join(lines) in (paragraph.strip("\n") for paragraph in paragraphs)


def _summary(lines: tuple[str, ...]) -> str:
    """What a row records, in short: ``val_bpb=0.9979 · abandoned: switch to GeLU``."""
    values = [
        line.split(": ", 1)[1] for line in lines if line.startswith(("Gittree-Metric:", "Gittree-Param:"))
    ]
    status = next((line.split(": ", 1)[1] for line in lines if line.startswith("Gittree-Status:")), None)
    note = next((line.split(": ", 1)[1] for line in lines if line.startswith("Gittree-Note:")), None)
    parts = [" ".join(values)] if values else []
    if status:
        parts.append(f"{status}: {note}" if note else status)
    elif note:
        parts.append(f"note: {note}")
    return " · ".join(parts) or "no results (crash)"


def _plan_kept_refs(repo: gitio.Repo, report: ImportReport) -> None:
    """Rows whose commit no branch, tag or gittree ref reaches are kept alive by the keep ref."""
    planned = [row for row in report.rows if row.action in ("record", "already imported") and row.sha]
    reachable = gitio.reachable_from_refs(repo, {row.sha for row in planned if row.sha})
    for row in planned:
        if row.sha not in reachable:
            row.kept_ref = gitio.KEEP_REF


# -- writing ----------------------------------------------------------------------------------------


def import_log(
    repo: gitio.Repo, path: Path, *, fmt: str = "autoresearch", dry_run: bool = False
) -> ImportReport:
    """Check every row, then (unless ``dry_run`` or a row is in error) write notes and keep-alive refs.

    Raises nothing for row problems: they are in the report, and nothing is written when there are
    any. A git failure while writing rolls back the notes ref and the refs created, then re-raises.
    """
    if fmt not in FORMATS:
        raise BadValueError(f"unknown import format '{fmt}'", hint=f"known formats: {', '.join(FORMATS)}")
    report = check_rows(repo, read_log(path), str(path))
    if dry_run or report.errors:
        return report
    write_report(repo, report)
    return report


def write_report(repo: gitio.Repo, report: ImportReport) -> None:
    """Keep every row's commit (the keep ref), then append each row's note; all or nothing.

    ``report.written`` says whether anything was written: not when every row was already imported.
    """
    rows = [str(row.sha) for row in report.rows if row.action in ("record", "already imported") and row.sha]
    notes = [(row.sha, row.lines) for row in report.rows if row.action == "record" and row.sha]
    if not (any(row.kept_ref for row in report.rows) or notes):
        return
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
