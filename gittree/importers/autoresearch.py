"""The autoresearch log as written: its columns, its rows and what each cell means (docs/import.md).

Pure: text in, rows out; no git. What a row becomes in the repository is :mod:`gittree.importers.plan`'s
decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gittree.errors import BadValueError
from gittree.model import RowOutcome
from gittree.trailers import is_number, validate_name

#: Columns with a meaning of their own (matched in any letter case); every other column is a metric
#: (numbers), a param (one-word text) or a note (free text).
COMMIT, STATUS, DESCRIPTION = "commit", "status", "description"
#: Resources a run used are facts about the run, not research results: recorded as Gittree-Run.
RUN_FACT_COLUMNS = frozenset(["memory_gb"])
DEFAULT_COLUMNS = (COMMIT, "val_bpb", "memory_gb", STATUS, DESCRIPTION)
#: autoresearch's own metric: the one its loop keeps or discards by, lower is better.
AUTORESEARCH_METRIC = "val_bpb"
KEEP, DISCARD, CRASH = "keep", "discard", "crash"
STATUSES = {KEEP: None, DISCARD: "abandoned", CRASH: "failed"}
#: The nearest-status rule for statuses other than keep/discard/crash (docs/import.md): a word that
#: says the run broke is a crash, one that says the idea was dropped is a discard, and any other
#: (``tentative``, ``repair``, ``support``, ``run``) is kept: the loop went on from it.
CRASH_WORDS = ("crash", "fail", "error", "oom", "timeout", "timed out", "killed", "abort", "broke", "diverge")
DISCARD_WORDS = ("discard", "reject", "revert", "drop", "abandon", "worse", "regress", "skip", "undo", "dead")
#: Cells that mean "no value" (autoresearch forks write N/A for crashes).
EMPTY_CELLS = frozenset(["", "-", "n/a", "na", "none", "null", "nan%"])
#: The commit cell of a reference row that names no commit: the code the loop started from.
BASELINE_WORD = "baseline"
DIRTY_SUFFIX = "-dirty"
_HEX = re.compile(r"[0-9a-fA-F]{4,40}")


@dataclass(frozen=True)
class Row:
    """One data row of the log, as written (cells keyed by the header's names as written)."""

    line: int
    cells: dict[str, str]
    columns: Columns

    @property
    def commit(self) -> str:
        return self.cells.get(self.columns.commit, "")

    @property
    def logged_status(self) -> str:
        return self.cells.get(self.columns.status, "").strip()

    @property
    def description(self) -> str:
        return " ".join(self.cells.get(self.columns.description or "", "").split())


@dataclass(frozen=True)
class Columns:
    """The header's columns as written, and what each one is."""

    names: tuple[str, ...]
    commit: str = COMMIT
    status: str = STATUS
    description: str | None = DESCRIPTION
    metrics: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


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


def parse_log(text: str) -> tuple[Columns, list[Row], list[RowOutcome]]:
    """(columns, rows, malformed rows). The header row names the columns; without one, the default five.

    A row with fewer cells than the header is padded with empty ones (editors drop trailing tabs);
    one with more cannot be read and is reported.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    names: tuple[str, ...] = DEFAULT_COLUMNS
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    start = 0
    if first is not None:
        header = tuple(cell.strip() for cell in lines[first].split("\t"))
        if header[0].lower() == COMMIT:
            names = header
            _check_header(names)
            start = first + 1
        elif _looks_like_header(header):
            raise _unexpected_header(first + 1, header)
    rows: list[Row] = []
    malformed: list[RowOutcome] = []
    raw_rows: list[tuple[int, list[str]]] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if len(cells) > len(names):
            malformed.append(
                row_problem(
                    index + 1,
                    cells[0],
                    "",
                    f"malformed row: {len(cells)} tab-separated cells, the header has {len(names)}",
                )
            )
            continue
        raw_rows.append((index + 1, cells + [""] * (len(names) - len(cells))))
    columns = _classify(names, raw_rows)
    rows = [Row(number, dict(zip(names, cells, strict=True)), columns) for number, cells in raw_rows]
    return columns, rows, malformed


def _looks_like_header(cells: tuple[str, ...]) -> bool:
    """A first line that names no commit and holds no status is a header, not a data row with a typo."""
    return not _HEX.fullmatch(cells[0]) and not any(cell.lower() in STATUSES for cell in cells)


def _unexpected_header(line: int, cells: tuple[str, ...]) -> BadValueError:
    found = ", ".join(f"'{cell}'" for cell in cells)
    untabbed = " (the line holds no tab: are the columns separated by spaces?)" if len(cells) == 1 else ""
    return BadValueError(
        f"line {line} looks like a header row, but its first column is not 'commit': {found}{untabbed}",
        hint="an autoresearch log starts with the tab-separated header: "
        f"{' '.join(DEFAULT_COLUMNS)}; name the first column 'commit'",
    )


def _check_header(names: tuple[str, ...]) -> None:
    lowered = [name.lower() for name in names]
    for required in (COMMIT, STATUS):
        if required not in lowered:
            raise BadValueError(
                f"the header row has no '{required}' column: {' '.join(names)}",
                hint="autoresearch logs start with: commit val_bpb memory_gb status description",
            )
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            raise BadValueError(f"the header row names the column '{name}' twice")
        seen.add(name.lower())
        if name.lower() not in (COMMIT, STATUS, DESCRIPTION):
            try:
                validate_name(name, kind="metric")
            except BadValueError as e:
                raise BadValueError(f"the header row has a bad column name: {e.message}") from e


def _classify(names: tuple[str, ...], rows: list[tuple[int, list[str]]]) -> Columns:
    """What each column is (docs/import.md, "Columns").

    Resource columns (memory) are run facts. Any other column is a metric when some row that did not
    crash holds a number in it (crash rows hold placeholders); else a note when some cell holds free
    text (a blank inside: hypothesis, interpretation), else a param (one word such as ``true``).
    """
    special = {name.lower(): name for name in names if name.lower() in (COMMIT, STATUS, DESCRIPTION)}
    status_at = names.index(special[STATUS])
    live = [cells for _, cells in rows if nearest_status(cells[status_at].lower()) != CRASH]
    metrics, facts, params, notes = [], [], [], []
    for at, name in enumerate(names):
        if name.lower() in special:
            continue
        if name.lower() in RUN_FACT_COLUMNS:
            facts.append(name)
        elif any(is_number(cells[at]) for cells in live):
            metrics.append(name)
        elif any(len(cells[at].split()) > 1 for _, cells in rows):
            notes.append(name)
        else:
            params.append(name)
    return Columns(
        names=names,
        commit=special[COMMIT],
        status=special[STATUS],
        description=special.get(DESCRIPTION),
        metrics=tuple(metrics),
        facts=tuple(facts),
        params=tuple(params),
        notes=tuple(notes),
    )


def log_metric(columns: Columns) -> str | None:
    """The metric the log judges its rows by: autoresearch's ``val_bpb``, else its first metric column."""
    for name in columns.metrics:
        if name.lower() == AUTORESEARCH_METRIC:
            return name
    return columns.metrics[0] if columns.metrics else None


# -- statuses ----------------------------------------------------------------------------------------


def parse_status_map(entries: Sequence[str]) -> dict[str, str]:
    """``--status-map tentative=keep,repair=discard`` (repeatable) -> {logged word: keep/discard/crash}."""
    mapping: dict[str, str] = {}
    for entry in entries:
        for part in entry.split(","):
            if not part.strip():
                continue
            word, sep, status = part.partition("=")
            word, status = word.strip().lower(), status.strip().lower()
            if not sep or not word or status not in STATUSES:
                raise BadValueError(
                    f"bad --status-map entry '{part.strip()}': expected WORD=keep, WORD=discard or WORD=crash",
                    hint="for example: --status-map tentative=keep,repair=discard",
                )
            mapping[word] = status
    return mapping


def nearest_status(word: str) -> str:
    """keep, discard or crash for a logged status word (the nearest-status rule, docs/import.md)."""
    if word in STATUSES:
        return word
    if any(part in word for part in CRASH_WORDS):
        return CRASH
    if any(part in word for part in DISCARD_WORDS):
        return DISCARD
    return KEEP


# -- cells -------------------------------------------------------------------------------------------


def row_problem(line: int, commit: str, status: str, message: str) -> RowOutcome:
    """A row that cannot be imported: "skipped" or, with --strict, "error" (decided in check_rows)."""
    return RowOutcome(line=line, commit=commit, status=status, action="error", message=message)


def is_empty(text: str) -> bool:
    return text.strip().lower() in EMPTY_CELLS


def is_placeholder(text: str, status: str) -> bool:
    """A cell that holds no value: empty or N/A; every number of a crash row (the run gave none:
    autoresearch writes ``0.000000``, forks write settings such as the batch size); a zero on a
    discard row."""
    if is_empty(text) or status == CRASH:
        return True
    if status == KEEP:
        return False
    try:
        return float(text) == 0.0
    except ValueError:
        return False


@dataclass(frozen=True)
class Name:
    """What a commit cell names: a hash to look up (with -dirty), the word baseline, or nothing usable."""

    text: str
    hex: str | None
    dirty: bool


def read_name(cell: str) -> Name:
    text = cell.strip()
    body = text[: -len(DIRTY_SUFFIX)] if text.lower().endswith(DIRTY_SUFFIX) else text
    if _HEX.fullmatch(body):
        return Name(text, body.lower(), body != text)
    return Name(text, None, False)
