"""Merging two versions of one gittree note without losing a line. Pure: bytes in, bytes out.

A gittree note is a list of paragraphs separated by blank lines: ``git notes append`` (what
``gitio.append_note`` runs) adds each late result as a new paragraph of ``Gittree-*`` trailers, and
``tree.experiment_of`` reads every paragraph in order. Two clones that append to the same note
concurrently produce two versions with a common ancestor; the merge is a three-way merge of
paragraphs, counted as a multiset (docs/teams.md, "How conflicts resolve"):

    merged = local paragraphs, minus those the remote side removed, plus those the remote side added

so every paragraph either side added survives exactly once per addition, a paragraph both sides
inherited is never doubled, and a removal made on one side (``git notes edit``) is respected.

One exception: a paragraph written by ``gittree import`` (it carries ``Gittree-Run: imported=...``)
states what a log says, not a run of its own. Two clones importing the same log write the same
paragraph, and it is one result, so the merged note keeps identical import paragraphs once. Paragraphs
of ``gittree record`` carry no run id or time: two identical ones are two seeds that gave the same
value, and both are kept.

git's ``cat_sort_uniq`` strategy is not used: it sorts lines, which moves a later
``Gittree-Status`` before an earlier one (so the older status wins), and it drops repeated lines, so
a second seed that happened to give the same value as the first would lose its sample.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

#: The run fact every imported paragraph carries (``importers.plan.SOURCE_FACT``).
IMPORTED_FACT = "imported"
#: Trailer keys are case-insensitive (git's trailer rules); the fact may sit on any line.
_IMPORTED_LINE = re.compile(rb"^gittree-run:[ \t]*" + IMPORTED_FACT.encode() + rb"=", re.I | re.M)


def paragraphs(note: bytes | None) -> list[bytes]:
    """The non-empty paragraphs of a note, in order, as ``tree.experiment_of`` splits them."""
    if not note:
        return []
    text = note.replace(b"\r\n", b"\n")
    return [part.strip(b"\n") for part in text.split(b"\n\n") if part.strip(b"\n").strip()]


def join_paragraphs(parts: Sequence[bytes]) -> bytes | None:
    """A note made of ``parts`` (one blank line between paragraphs), or None when there is nothing left."""
    if not parts:
        return None
    return b"\n\n".join(parts) + b"\n"


def union_of_paragraphs(versions: Sequence[bytes]) -> list[bytes]:
    """Every paragraph of any version, as often as the version holding it most often, in first-seen order."""
    most: Counter[bytes] = Counter()
    order: list[bytes] = []
    for version in versions:
        counts = Counter(paragraphs(version))
        for part in paragraphs(version):
            if part not in most:
                order.append(part)
        most |= counts
    return [part for part in order for _ in range(most[part])]


def is_imported(part: bytes) -> bool:
    """Whether a paragraph was written by ``gittree import``."""
    return _IMPORTED_LINE.search(part) is not None


def _imports_once(parts: Sequence[bytes]) -> list[bytes]:
    """``parts`` with each import paragraph at its first place only; every other paragraph kept."""
    seen: set[bytes] = set()
    kept: list[bytes] = []
    for part in parts:
        if is_imported(part):
            if part in seen:
                continue
            seen.add(part)
        kept.append(part)
    return kept


def merge_note(base: bytes | None, local: bytes | None, remote: bytes | None) -> bytes | None:
    """Three-way merge of one note's paragraphs; None means the merged note is empty (remove it).

    Identical import paragraphs are kept once (see the module's docstring)."""
    base_parts, local_parts, remote_parts = paragraphs(base), paragraphs(local), paragraphs(remote)
    removed_by_remote = Counter(base_parts) - Counter(remote_parts)
    # Appends go at the end: of a paragraph the remote has more often than the base, the first copies
    # are the inherited ones and the last are its additions.
    inherited = Counter(base_parts) & Counter(remote_parts)

    merged: list[bytes] = []
    for part in local_parts:
        if removed_by_remote[part] > 0:
            removed_by_remote[part] -= 1
            continue
        merged.append(part)
    for part in remote_parts:
        if inherited[part] > 0:
            inherited[part] -= 1
            continue
        merged.append(part)
    return join_paragraphs(_imports_once(merged))
