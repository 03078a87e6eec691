"""Recording an experiment as a commit: validate everything first, commit through git, check what landed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gittree import gitio
from gittree.errors import BadValueError, GitCommandError, TrailersLostError
from gittree.rawcommit import encode_message
from gittree.record.metricsfile import read_metrics_file
from gittree.trailers import (
    append_trailers,
    canonical_status,
    fold_note,
    format_trailer_lines,
    parse_assignment,
    parse_experiment,
    parse_metric_assignment,
    parse_number,
    parse_params,
)


@dataclass(frozen=True)
class ExperimentEntry:
    """What one experiment commit will carry, already validated."""

    message: str
    metrics: tuple[tuple[str, str], ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    status: str | None = None
    run: tuple[tuple[str, str], ...] = field(default=())

    def full_message(self, comment: str = "#") -> str:
        """The message with the trailers where git reads them (``comment``: :func:`gitio.comment_char`)."""
        lines = format_trailer_lines(
            metrics=self.metrics, params=self.params, notes=self.notes, status=self.status, run=self.run
        )
        return append_trailers(self.message, lines, comment)


def prepare_entry(
    message: str | None,
    *,
    metrics: Sequence[str] = (),
    params: Sequence[str] = (),
    notes: Sequence[str] = (),
    status: str | None = None,
    metrics_file: Path | None = None,
    run: Sequence[tuple[str, str]] = (),
) -> ExperimentEntry:
    """Validate the user's input into an entry; raises :class:`BadValueError` before anything is written."""
    if message is None or not message.strip():
        raise BadValueError(
            "an experiment needs a message saying what changed", hint="pass -m 'what you tried'"
        )
    if "\0" in message:
        raise BadValueError("the message contains a NUL byte, which git cannot store")
    message = without_carriage_returns(message)
    metric_pairs = [parse_metric_assignment(text) for text in metrics]
    if metrics_file is not None:
        metric_pairs.extend(read_metrics_file(metrics_file))
    if status is not None:
        status = canonical_status(status)  # any letter case, as the format reads it
    entry = ExperimentEntry(
        message=message,
        metrics=tuple(metric_pairs),
        params=parse_params(params),
        notes=tuple(notes),
        status=status,
        run=tuple(run),
    )
    if not (entry.metrics or entry.params or entry.notes or entry.status or entry.run):
        raise BadValueError(
            "nothing to record: an experiment carries at least one metric, param, note or status",
            hint="add --metric NAME=VALUE (or use plain git commit for an ordinary commit)",
        )
    entry.full_message()  # formats and validates every trailer now, before git is touched
    return entry


def without_carriage_returns(message: str) -> str:
    """``message`` with the carriage returns at line ends removed (CRLF pasted from Windows).

    ``git commit --cleanup=whitespace`` strips them after gittree placed its trailers, which can change
    where git finds the trailer block (a ``# ---- >8 ----\\r`` line becomes the scissors line, and the
    trailers below it are cut): so they go first, and the trailers are placed on what git will store.
    """
    if "\r" not in message:
        return message
    return "\n".join(line.rstrip("\r") for line in message.split("\n"))


def commit_experiment(
    repo: gitio.Repo,
    entry: ExperimentEntry,
    *,
    stage_all: bool = False,
    allow_empty: bool = False,
    env: dict[str, str] | None = None,
) -> str:
    """Commit ``entry`` with the user's git (hooks, identity, signing); returns the new sha.

    The message is written in ``i18n.commitEncoding``, which git expects it in and names in the commit's
    ``encoding`` header; one that encoding cannot hold is refused before anything is written.
    """
    settings = gitio.commit_settings(repo)  # the comment character and the encoding, in one `git config`
    message = encode_message(entry.full_message(settings.comment), settings.encoding)
    if (
        not (stage_all or allow_empty)
        and not gitio.head_is_unborn(repo)
        and not gitio.has_staged_changes(repo)
    ):
        raise GitCommandError(
            "nothing is staged to commit",
            hint="stage the experiment's code with `git add`, pass -a for tracked changes, or --allow-empty",
        )
    sha = gitio.commit_with_message(
        repo,
        message,
        stage_all=stage_all,
        allow_empty=allow_empty,
        env=env,
    )
    verify_recorded(repo, sha, entry)
    gitio.keep_commits(repo, [sha], reason="gittree commit", env=env)  # nothing tried vanishes (docs/tree.md)
    return sha


def verify_recorded(
    repo: gitio.Repo, sha: str, entry: ExperimentEntry, *, message: str | None = None
) -> None:
    """Re-read the commit and check every result in it (metrics, params, notes, status, run facts): a
    commit-msg hook, or git's own clean-up, may have rewritten the message and dropped our trailers.
    ``message``: the commit's message, when the caller knows it as stored (then it is not read back)."""
    if message is None:
        message = gitio.read_one_record(repo, sha).message  # no note needed
    record = parse_experiment(message)
    expected = {name: parse_number(value) for name, value in entry.metrics}
    found = record.metric_dict() if record else {}
    lost = [
        name
        for name, value in expected.items()
        if name not in found or not any(_same(value, sample) for sample in found[name])
    ]
    lost += [
        f"param {name}"
        for name, value in entry.params
        if (record is None or record.param_dict().get(name) != value)
    ]
    if entry.status and (record is None or record.status != entry.status):
        lost.append("status")
    found_notes = list(record.notes) if record else []
    for note in entry.notes:
        if fold_note(note) in found_notes:
            found_notes.remove(fold_note(note))
        else:
            lost.append("note")
    facts = record.run_dict() if record else {}
    for name, value in entry.run:
        name, value = parse_assignment(f"{name}={value}", kind="run")  # as it was written
        if facts.get(name) != value:
            lost.append(f"run fact {name}")
    if lost:
        raise TrailersLostError(
            f"commit {sha[:7]} was made, but these results did not survive in its message: {', '.join(lost)}",
            hint="a commit-msg hook probably rewrote the message; fix it, then `git commit --amend` "
            "or record the results with `gittree record`",
        )


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
