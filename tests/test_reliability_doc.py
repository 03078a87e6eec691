"""docs/reliability.md: every catalogue row names a test, and every test named exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

DOC = Path(__file__).parent.parent / "docs" / "reliability.md"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def catalogue_rows() -> list[str]:
    return [
        line
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and "`tests/" in line
    ]


def test_the_catalogue_has_at_least_forty_rows_each_with_a_test() -> None:
    rows = catalogue_rows()
    assert len(rows) >= 40, len(rows)
    assert all(TEST_REF.search(row) for row in rows)


def test_every_test_named_in_the_catalogue_exists() -> None:
    missing = []
    for path, name in {ref for row in catalogue_rows() for ref in TEST_REF.findall(row)}:
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        if not callable(getattr(module, name, None)):
            missing.append(f"{path}::{name}")
    assert not missing, missing
