"""Which dead end is an earlier version of an experiment shown, when git did not say (docs/tree.md,
"A rewritten experiment is shown once").

Without the post-rewrite hook, nothing records that a rebase, an amend or a squash replaced a commit.
What git keeps through a rewrite tells it instead: the author and author date of the commit (of the
first commit, for a squash), its message unless the user edits it, and its gittree note when
``notes.rewriteRef`` names it (git copies the note, and for a squash joins the notes of the squashed
commits, each a paragraph). Notes added to the new version afterwards (``gittree record``: a late
seed) are appended paragraphs. Two different experiments never share all of that by chance: a match
needs the old version's message and results found whole in the new one, not only its author date.

Pure: commits in, an answer out.
"""

from __future__ import annotations

from gittree.trailers import stripspace
from gittree.tree import experiment_of, note_paragraphs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from gittree.model import CommitRecord
    from gittree.trailers import ExperimentRecord


def carried_over(
    old: CommitRecord, new: CommitRecord, parsed: Mapping[str, ExperimentRecord | None] | None = None
) -> bool:
    """Whether ``new`` is ``old`` rewritten (rebased, amended, reworded, or squashed into), given that
    both have the same author and author date (:func:`gittree.model.author_identity`): both record an
    experiment, and

    * their results (metrics and params, notes included) are the same; or
    * ``new``'s note begins with ``old``'s (git carried it over; what follows was added since), and
      either ``new``'s results without those later paragraphs are ``old``'s (a rewrite that kept the
      numbers, then a late seed on the new version), or ``new``'s message begins with ``old``'s whole
      message (a rebase keeps it; a squash or fixup starts from the first commit's message).
    """
    old_record, new_record = _record(old, parsed), _record(new, parsed)
    if old_record is None or new_record is None:
        return False
    if _results(old_record) == _results(new_record):
        return True
    old_note, new_note = note_paragraphs(old.note), note_paragraphs(new.note)
    if new_note[: len(old_note)] != old_note:
        return False
    if _results(_record_with_note(new, old.note, parsed)) == _results(old_record):
        return True
    return _begins_with(message_lines(new.message), message_lines(old.message))


def folded_into(
    old: CommitRecord, new: CommitRecord, parsed: Mapping[str, ExperimentRecord | None] | None = None
) -> bool:
    """Whether ``old``, an experiment whose parent was rewritten into ``new``, was squashed into it too
    (``pick A``, ``squash B``: B has its own author date, and git keeps A's): ``new``'s message holds
    ``old``'s whole message after its first paragraph, and ``new``'s note holds ``old``'s note paragraphs
    in a row (git joins the squashed commits' notes). A fixup, or a squash whose message was edited,
    leaves no such trace: ``old`` stays a dead end (the hook knows better; docs/tree.md)."""
    if _record(old, parsed) is None:
        return False
    lines = message_lines(old.message)
    if not lines or not _holds(message_lines(new.message), lines, start=1):
        return False
    note = note_paragraphs(old.note)
    return not note or _holds(note_paragraphs(new.note), note, start=0, paragraphs=True)


def message_lines(message: str) -> list[str]:
    """A message's lines as git's whitespace clean-up leaves them (``git stripspace``, which a commit and
    a squash's message go through: :func:`gittree.trailers.stripspace`): trailing blanks gone, runs of
    blank lines made one, none at the ends."""
    return stripspace(message).split("\n")[:-1]


def _record(
    commit: CommitRecord, parsed: Mapping[str, ExperimentRecord | None] | None
) -> ExperimentRecord | None:
    return experiment_of(commit, parsed)


def _record_with_note(
    commit: CommitRecord, note: str | None, parsed: Mapping[str, ExperimentRecord | None] | None
) -> ExperimentRecord | None:
    """The experiment ``commit`` records with ``note`` in place of its own."""
    from dataclasses import replace

    return _record(replace(commit, note=note), parsed)


def _results(record: ExperimentRecord | None) -> tuple[object, ...] | None:
    return None if record is None else (record.metrics, record.params)


def _begins_with(lines: list[str], start: list[str]) -> bool:
    """Whether ``lines`` begin with the whole paragraphs ``start``."""
    end = len(start)
    return bool(start) and lines[:end] == start and (len(lines) == end or not lines[end])


def _holds(lines: list[str], part: list[str], *, start: int, paragraphs: bool = False) -> bool:
    """Whether ``part`` is found in ``lines`` at or after ``start``: whole paragraphs (a blank line, or
    the ends, on either side) of message lines, or a run of note ``paragraphs``."""
    size = len(part)
    for at in range(start, len(lines) - size + 1):
        if lines[at : at + size] != part:
            continue
        if paragraphs or (
            (at == 0 or not lines[at - 1]) and (at + size == len(lines) or not lines[at + size])
        ):
            return True
    return False
