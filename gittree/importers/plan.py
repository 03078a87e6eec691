"""What each row of a log becomes: a note on the commit it names, a sample of another row's
experiment, or a reconstructed experiment (a commit of gittree's own off the row before it); nothing
is written here (docs/import.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from gittree import gitio, tree
from gittree.errors import BadValueError
from gittree.importers.autoresearch import (
    BASELINE_WORD,
    KEEP,
    STATUSES,
    Columns,
    Row,
    is_empty,
    is_placeholder,
    log_metric,
    nearest_status,
    parse_log,
    read_name,
    row_problem,
)
from gittree.model import RECONSTRUCTED_FACT, ImportReport, RowOutcome
from gittree.notemerge import IMPORTED_FACT
from gittree.trailers import format_trailer_lines, is_number, parse_number

#: The run fact that marks a note written by an import: a second import of a row is a no-op, and
#: ``gittree sync`` keeps one copy of a paragraph that two clones imported (notemerge.py).
SOURCE_FACT = (IMPORTED_FACT, "autoresearch")
#: The run fact naming the metric the log judged its rows by: the tree's metric when neither
#: ``--metric`` nor ``primary`` in .gittree.yaml says otherwise (tree.choose_metric).
JUDGED_BY_FACT = tree.JUDGED_BY_FACT
#: The run fact naming an experiment in views by the log's description (model.Node.label).
LABEL_FACT = "label"
#: The run fact holding a row's commit id as logged, when the row became a reconstructed experiment.
LOGGED_COMMIT_FACT = RECONSTRUCTED_FACT
#: Who and when a reconstructed experiment says it is: fixed, so one log gives the same commits in
#: every clone (they then sync as one). Its time is a second after the experiment it hangs off; a
#: reconstructed root (a log with no repository) is dated 2000-01-01 plus its line number in seconds.
RECONSTRUCTED_AUTHOR = b"gittree import <import@gittree.invalid>"
RECONSTRUCTED_EPOCH = 946684800


def check_rows(
    repo: gitio.Repo,
    text: str,
    source: str,
    *,
    strict: bool = False,
    status_map: Mapping[str, str] | None = None,
    config_primary: str | None = None,
    goal_of: Mapping[str, str] | None = None,
) -> ImportReport:
    """Every row checked against the repository and planned; nothing is written.

    ``config_primary``: .gittree.yaml's primary metric, which wins over the log's own;
    ``goal_of``: each metric's goal as the configuration decides it (for the summary).
    """
    columns, rows, malformed = parse_log(text)
    report = ImportReport(source=source, strict=strict)
    judged_by = log_metric(columns)
    report.metric = config_primary or judged_by
    report.metric_source = ".gittree.yaml's primary" if config_primary else "the log's metric"
    report.goal = (goal_of or {}).get(report.metric or "")
    planner = _Planner(repo, columns, rows, dict(status_map or {}), judged_by)
    outcomes = {outcome.line: outcome for outcome in malformed}
    for outcome in planner.plan():
        outcomes[outcome.line] = outcome
    report.rows = [outcomes[line] for line in sorted(outcomes)]
    report.status_rules = planner.status_rules
    for row in report.rows:
        if row.action == "error" and not strict:
            row.action = "skipped"
    _plan_kept_refs(repo, report)
    return report


class _Planner:
    """Decides each row's experiment, in log order (a reconstructed one hangs off the row before)."""

    def __init__(
        self,
        repo: gitio.Repo,
        columns: Columns,
        rows: list[Row],
        status_map: dict[str, str],
        judged_by: str | None,
    ) -> None:
        self.repo = repo
        self.columns = columns
        self.rows = rows
        self.status_map = status_map
        self.judged_by = judged_by
        self.status_rules: dict[str, tuple[str, int, str]] = {}
        self.names = {row.line: read_name(row.commit) for row in rows}
        self.found = gitio.resolve_names(repo, [n.hex for n in self.names.values() if n.hex])
        self.notes = gitio.read_notes(repo)
        #: the tree and author time of each commit a reconstructed one may hang off, by sha.
        self.facts: dict[str, tuple[str, int]] = {}

    def plan(self) -> list[RowOutcome]:
        outcomes: list[RowOutcome] = []
        groups: dict[str, list[tuple[Row, RowOutcome]]] = {}
        previous: str | None = None
        for index, row in enumerate(self.rows):
            outcome = self._plan_row(index, row, previous, groups)
            outcomes.append(outcome)
            if outcome.action != "error" and outcome.sha:
                previous = outcome.sha
        for sha, members in groups.items():
            self._note_lines(sha, members)
        return outcomes

    def _status(self, row: Row) -> str | None:
        word = row.logged_status.lower()
        if not word:
            return None
        if word in STATUSES:
            return word
        status, how = (
            (self.status_map[word], "--status-map")
            if word in self.status_map
            else (nearest_status(word), "nearest-status rule")
        )
        _, count, _ = self.status_rules.get(word, (status, 0, how))
        self.status_rules[word] = (status, count + 1, how)
        return status

    def _plan_row(
        self,
        index: int,
        row: Row,
        previous: str | None,
        groups: dict[str, list[tuple[Row, RowOutcome]]],
    ) -> RowOutcome:
        name, line, logged = self.names[row.line], row.line, row.logged_status
        status = self._status(row)
        if status is None:
            return row_problem(
                line, name.text, logged, "no status: expected keep, discard, crash or a word to map"
            )
        problem = self._bad_cell(row, status)
        if problem:
            return row_problem(line, name.text, logged, problem)
        target: str | None = None
        if name.hex is not None:
            found = self._commit_of(name.hex)
            if isinstance(found, RowOutcome):
                found.line, found.commit, found.status = line, name.text, logged
                return found
            target = found
        elif name.text.lower() == BASELINE_WORD:
            target = self._baseline_commit(index)
        if target is not None:
            members = groups.setdefault(target, [])
            if not members or _same_experiment(members[0][0], row, status, members[0][1].imported_status):
                outcome = RowOutcome(line, name.text, logged, "record", "", target, imported_status=status)
                if members:
                    outcome.action = "sample"
                    outcome.message = f"another run of line {members[0][0].line}'s experiment (a sample)"
                members.append((row, outcome))
                return outcome
            # Another experiment run on the same code (a settings sweep logged on one commit): a
            # reconstructed sibling on that commit.
            return self._reconstruct(row, status, parent=target, why="another experiment on this commit")
        why = (
            "names no commit of this history"
            if name.hex
            else "names no commit"
            if name.text.lower() != BASELINE_WORD
            else "the baseline names no commit"
        )
        return self._reconstruct(row, status, parent=previous, why=why)

    def _bad_cell(self, row: Row, status: str) -> str | None:
        for column in (*self.columns.metrics, *self.columns.facts):
            cell = row.cells[column]
            if not is_placeholder(cell, status) and not is_number(cell):
                try:
                    parse_number(cell, name=column)
                except BadValueError as e:
                    return e.message + (f" ({e.hint})" if e.hint else "")
        return None

    def _commit_of(self, hex_name: str) -> str | RowOutcome | None:
        """The commit a hash names; None when git knows no such object; a problem when it is not one commit."""
        sha, kind = self.found.get(hex_name, ("", "missing"))
        if kind == "commit":
            return sha
        if kind == "missing":
            return None
        if kind == "ambiguous":
            match = gitio.match_commit_prefix(self.repo, hex_name)
            if len(match.commits) == 1:
                return match.commits[0]  # a prefix of one commit and some other objects names the commit
            if match.commits:
                names = ", ".join(s[:12] for s in match.commits)
                return row_problem(0, "", "", f"ambiguous: '{hex_name}' matches the commits {names}")
            kind = " and ".join(sorted(set(match.other_types)))
        return row_problem(0, "", "", f"'{hex_name}' names a {kind}, not a commit")

    def _baseline_commit(self, index: int) -> str | None:
        """The code a ``baseline`` row measured: the parent of the next logged commit, when it has one
        that no row names (autoresearch's first row runs the code the loop starts from)."""
        named = {self.found.get(n.hex or "", ("", ""))[0] for n in self.names.values()}
        for row in self.rows[index + 1 :]:
            name = self.names[row.line]
            sha, kind = self.found.get(name.hex or "", ("", "missing"))
            if kind == "commit":
                parents = self._parents(sha)
                if parents and parents[0] not in named:
                    return parents[0]
                return None
        return None

    def _parents(self, sha: str) -> tuple[str, ...]:
        tree, time, parents = gitio.commit_tree_time_parents(self.repo, sha)
        self.facts[sha] = (tree, time)
        return parents

    def _tree_and_time(self, sha: str) -> tuple[str, int]:
        if sha not in self.facts:
            self._parents(sha)
        return self.facts[sha]

    def _reconstruct(self, row: Row, status: str, *, parent: str | None, why: str) -> RowOutcome:
        name = self.names[row.line]
        try:
            lines = self._trailers([row], status, subject=None, dirty=name.dirty, logged=name.text)
        except BadValueError as e:
            return row_problem(row.line, name.text, row.logged_status, e.message)
        if parent is None:
            tree, time = gitio.EMPTY_TREE, RECONSTRUCTED_EPOCH + row.line
        else:
            tree, parent_time = self._tree_and_time(parent)
            time = parent_time + 1
        subject = row.description or f"line {row.line} of the log"
        message = subject + "\n\n" + "\n".join(lines) + "\n"
        raw = _commit_object(tree, parent, time, message)
        sha = hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest()
        self.facts[sha] = (tree, time)
        exists = gitio.object_exists(self.repo, sha)
        where = f"on {parent[:12]}" if parent else "as a root"
        return RowOutcome(
            row.line,
            name.text,
            row.logged_status,
            "already imported" if exists else "reconstruct",
            f"{why}: reconstructed {where} · {_summary(tuple(lines))}",
            sha,
            tuple(lines),
            imported_status=status,
            parent=parent,
            raw=raw,
        )

    def _note_lines(self, sha: str, members: list[tuple[Row, RowOutcome]]) -> None:
        """The note of a commit the log names: every sample of its rows, in one paragraph."""
        first_row, first = members[0]
        name = self.names[first_row.line]
        subject = gitio.commit_subject(self.repo, sha)
        try:
            lines = tuple(
                self._trailers(
                    [row for row, _ in members], first.imported_status, subject=subject, dirty=name.dirty
                )
            )
        except BadValueError as e:
            for _, outcome in members:
                outcome.action, outcome.message = "error", e.message
            return
        first.lines = lines
        if _already_recorded(self.notes.get(sha), lines):
            for _, outcome in members:
                outcome.action = "already imported"
            first.message = "this row is already in the note"
        elif _results_on_commit(self.repo, sha, self.notes.get(sha), lines):
            # the loop ran this try through `gittree run` (and `gittree abandon`d it): recording the log's
            # copy again would double every sample and fake a noise estimate (docs/import.md)
            for _, outcome in members:
                outcome.action = "already imported"
            first.message = "the commit already records these results"
        else:
            samples = f" ({len(members)} samples)" if len(members) > 1 else ""
            first.message = _summary(lines) + samples

    def _trailers(
        self, rows: list[Row], status: str, *, subject: str | None, dirty: bool, logged: str | None = None
    ) -> list[str]:
        """The trailer lines of an experiment: each row's results (samples), status, notes, facts."""
        columns, row = self.columns, rows[0]
        values = [
            (name, r.cells[name])
            for r in rows
            for name in columns.metrics
            if not is_placeholder(r.cells[name], status)
        ]
        params = [(name, row.cells[name]) for name in columns.params if not is_empty(row.cells[name])]
        notes = [
            f"{name}: {' '.join(row.cells[name].split())}"
            for name in columns.notes
            if not is_empty(row.cells[name])
        ]
        description = row.description
        # A kept row's description usually repeats the commit subject; a discarded one is the reason it
        # died. A reconstructed experiment's subject is the description itself.
        if (
            subject is not None
            and description
            and (status != KEEP or description.lower() != subject.strip().lower())
        ):
            notes.insert(0, description)
        run = [
            (name, row.cells[name]) for name in columns.facts if not is_placeholder(row.cells[name], status)
        ]
        if subject is not None and description and description.lower() != subject.strip().lower():
            # The log's description names the row in every view; the subject stays in the card and JSON.
            run.append((LABEL_FACT, description))
        if dirty:
            run.append(("dirty", "true"))
        if logged:
            run.append((LOGGED_COMMIT_FACT, logged))
        if self.judged_by:
            run.append((JUDGED_BY_FACT, self.judged_by))
        return format_trailer_lines(
            metrics=values, params=params, notes=notes, status=STATUSES[status], run=[*run, SOURCE_FACT]
        )


def _same_experiment(first: Row, row: Row, status: str, first_status: str) -> bool:
    """Whether two rows of one commit are two runs of one experiment: they agree on all but the metrics."""
    columns = first.columns
    other = [name for name in columns.names if name not in columns.metrics and name not in columns.facts]
    return status == first_status and all(
        first.cells[name] == row.cells[name] for name in other if name not in (columns.status, columns.commit)
    )


def _commit_object(tree: str, parent: str | None, time: int, message: str) -> bytes:
    """A reconstructed experiment's raw commit: the tree of the one it hangs off (an empty change)."""
    ident = RECONSTRUCTED_AUTHOR + b" %d +0000" % time
    head = b"tree " + tree.encode("ascii") + b"\n"
    if parent is not None:
        head += b"parent " + parent.encode("ascii") + b"\n"
    return head + b"author " + ident + b"\ncommitter " + ident + b"\n\n" + message.encode("utf-8")


def _already_recorded(note: str | None, lines: tuple[str, ...]) -> bool:
    if not note:
        return False
    paragraphs = note.replace("\r\n", "\n").split("\n\n")
    return "\n".join(lines) in (paragraph.strip("\n") for paragraph in paragraphs)


def _results_on_commit(repo: gitio.Repo, sha: str, note: str | None, lines: tuple[str, ...]) -> bool:
    """Whether the commit (its message or its note) already records every value and the status of ``lines``."""
    from gittree.trailers import git_trailers

    message = gitio.read_one_record(repo, sha).message
    recorded = git_trailers(message) + [
        (key.strip(), value.strip())
        for line in (note or "").splitlines()
        if line.startswith("Gittree-")
        for key, _, value in [line.partition(":")]
    ]
    wanted = [_trailer_entry(line) for line in lines]
    metrics = {_metric_value(value) for key, value in wanted if key == "Gittree-Metric"}
    status = {value for key, value in wanted if key == "Gittree-Status"}
    if not metrics and not status:
        return False
    has_metrics = {_metric_value(value) for key, value in recorded if key.lower() == "gittree-metric"}
    has_status = {value for key, value in recorded if key.lower() == "gittree-status"}
    return metrics <= has_metrics and status <= has_status


def _trailer_entry(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip(), value.strip()


def _metric_value(value: str) -> tuple[str, float | str]:
    """``val_bpb=0.997900`` as ``("val_bpb", 0.9979)``: the run and the log write one number differently."""
    name, _, number = value.partition("=")
    number = number.strip()
    return name.strip(), parse_number(number) if is_number(number) else number


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
    return " · ".join(parts) or "no results"


def _plan_kept_refs(repo: gitio.Repo, report: ImportReport) -> None:
    """Rows whose commit no branch, tag or gittree ref reaches are kept alive by the keep ref."""
    planned = [row for row in report.rows if row.action in IMPORTED_ACTIONS and row.sha]
    existing = {row.sha for row in planned if row.sha and row.action != "reconstruct"}
    reachable = gitio.reachable_from_refs(repo, existing)
    for row in planned:
        if row.action != "sample" and row.sha not in reachable:
            row.kept_ref = gitio.KEEP_REF


#: The actions that leave a row in the tree.
IMPORTED_ACTIONS = ("record", "reconstruct", "sample", "already imported")
