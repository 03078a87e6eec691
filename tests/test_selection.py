"""The selection every view of the tree shares: a frozen value, compared by its options (issue 15)."""

from __future__ import annotations

import pytest

from gittree.read import Selection


def test_a_selection_is_frozen_and_compared_by_value() -> None:
    chosen = Selection(
        ["main"], all_refs=True, metric="acc", limit=3, since=100, branches=["exp/*"], author="ada"
    )
    assert chosen == Selection(
        ("main",), all_refs=True, metric="acc", limit=3, since=100, branches=("exp/*",), author="ada"
    )
    assert hash(chosen) == hash(
        Selection(["main"], all_refs=True, metric="acc", limit=3, since=100, branches=["exp/*"], author="ada")
    )
    assert chosen.revs == ("main",) and chosen.branches == ("exp/*",)
    with pytest.raises(AttributeError):
        chosen.limit = 4  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del chosen.author


@pytest.mark.parametrize(
    "other",
    [
        Selection(["dev"]),
        Selection(all_refs=True),
        Selection(within_scope=True),
        Selection(metric="loss"),
        Selection(limit=1),
        Selection(since=0),
        Selection(branches=["exp/*"]),
        Selection(author="ada"),
    ],
)
def test_every_option_tells_selections_apart(other: Selection) -> None:
    assert other != Selection() and "Selection(" in repr(other)
