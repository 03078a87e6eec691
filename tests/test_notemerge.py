"""The paragraph merge of gittree notes (gittree/notemerge.py), and why git's cat_sort_uniq is not used."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gittree.model import CommitRecord
from gittree.notemerge import join_paragraphs, merge_note, paragraphs, union_of_paragraphs
from gittree.tree import experiment_of

A = b"Gittree-Metric: acc=0.51"
B = b"Gittree-Metric: acc=0.52"
C = b"Gittree-Status: abandoned\nGittree-Note: diverged"


def note(*parts: bytes) -> bytes:
    return b"\n\n".join(parts) + b"\n"


def test_paragraphs_split_like_the_tree_reader() -> None:
    assert paragraphs(b"a\n\nb\n") == [b"a", b"b"]
    assert paragraphs(b"a\r\n\r\nb\r\n") == [b"a", b"b"]
    assert paragraphs(b"\n\na\n\n\n\nb\n\n") == [b"a", b"b"]
    assert paragraphs(None) == [] and paragraphs(b"") == [] and paragraphs(b"\n \n") == []


def test_both_sides_append() -> None:
    assert merge_note(note(A), note(A, B), note(A, C)) == note(A, B, C)


def test_a_new_note_on_both_sides() -> None:
    assert merge_note(None, note(A), note(B)) == note(A, B)


def test_identical_additions_on_both_sides_are_two_results() -> None:
    assert merge_note(None, note(A), note(A)) == note(A, A)


def test_inherited_paragraphs_are_kept_once() -> None:
    assert merge_note(note(A, B), note(A, B, C), note(A, B)) == note(A, B, C)


def test_a_removal_on_either_side_is_respected() -> None:
    assert merge_note(note(A, B), note(A, B, C), note(A)) == note(A, C)
    assert merge_note(note(A, B), note(A), note(A, B, C)) == note(A, C)
    assert merge_note(note(A), None, note(A)) is None


def test_repeated_paragraphs_count() -> None:
    # The base holds A once; the remote appended A again (a second seed with the same value).
    assert merge_note(note(A), note(A, B), note(A, A)) == note(A, B, A)


def test_union_of_paragraphs_for_several_merge_bases() -> None:
    assert union_of_paragraphs([note(A, B), note(A, C), note(A, A)]) == [A, A, B, C]
    assert join_paragraphs([]) is None


def _read(text: bytes) -> dict[str, list[float]]:
    record = experiment_of(CommitRecord(sha="0" * 40, parents=(), message="x", note=text.decode()))
    assert record is not None
    return {name: sorted(values) for name, values in record.metric_dict().items()}


def test_the_merged_note_reads_as_the_union_of_results() -> None:
    merged = merge_note(note(A), note(A, B), note(A, b"Gittree-Metric: acc=0.53\nGittree-Metric: loss=1"))
    assert merged is not None
    assert _read(merged) == {"acc": [0.51, 0.52, 0.53], "loss": [1.0]}


paragraph = st.sampled_from([A, B, C, b"Gittree-Metric: acc=0.51\n  continued", b"Gittree-Param: lr=3e-4"])


@given(
    base=st.lists(paragraph, max_size=4),
    mine=st.lists(paragraph, max_size=3),
    theirs=st.lists(paragraph, max_size=3),
)
def test_appends_on_both_sides_are_all_kept_exactly(
    base: list[bytes], mine: list[bytes], theirs: list[bytes]
) -> None:
    """Notes only grow by appending: the merge holds the base once and every addition of either side."""
    merged = merge_note(join_paragraphs(base), join_paragraphs(base + mine), join_paragraphs(base + theirs))
    assert Counter(paragraphs(merged)) == Counter(base) + Counter(mine) + Counter(theirs)
    assert paragraphs(merged)[: len(base) + len(mine)] == base + mine  # ours first, in order


@given(base=st.lists(paragraph, max_size=4), theirs=st.lists(paragraph, max_size=3))
def test_merging_with_an_unchanged_side_gives_the_other(base: list[bytes], theirs: list[bytes]) -> None:
    assert merge_note(join_paragraphs(base), join_paragraphs(base), join_paragraphs(base + theirs)) == (
        join_paragraphs(base + theirs)
    )
    assert merge_note(join_paragraphs(base), join_paragraphs(base + theirs), join_paragraphs(base)) == (
        join_paragraphs(base + theirs)
    )


def test_git_cat_sort_uniq_would_lose_a_sample_and_reorder_statuses(tmp_path: Path) -> None:
    """Why gittree merges notes itself: git's cat_sort_uniq sorts lines and drops duplicates."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "experiment")
    git("notes", "--ref", "gittree", "add", "-m", "Gittree-Status: running")
    git("update-ref", "refs/notes/other", "refs/notes/gittree")
    git("notes", "--ref", "gittree", "append", "-m", "Gittree-Metric: acc=0.51\nGittree-Status: ok")
    git("notes", "--ref", "other", "append", "-m", "Gittree-Metric: acc=0.51")
    git("notes", "--ref", "gittree", "merge", "-q", "-s", "cat_sort_uniq", "refs/notes/other")
    merged = git("notes", "--ref", "gittree", "show", "HEAD").encode()
    record = experiment_of(CommitRecord(sha="0" * 40, parents=(), message="x", note=merged.decode()))
    assert record is not None
    assert list(record.metric_dict()["acc"]) == [0.51]  # two results of 0.51, one survives
    assert record.status == "running"  # "ok" was written last, but sorting put "running" after it
