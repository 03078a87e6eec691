"""Every command's --help speaks to users (issue 18): no Python type names (<str>, <list[str]>, <int range>)
nor {name} placeholders; the scope options read the same in every view. Snapshots in tests/expected/help/,
with COLUMNS, TERM and NO_COLOR pinned by the sandbox fixture."""

from __future__ import annotations

import re

import pytest

from tests.conftest import check_expected


def command_names() -> list[str]:
    from gittree.cli import _load_app

    app = _load_app()
    return [command.name or command.callback.__name__ for command in app.registered_commands]


TYPE_NAMES = re.compile(r"<(str|int|float|bool|path|list\[[^\]]*\]|[a-z]+ range)>|\{[A-Za-z_.]+\}")
#: Placeholders a user writes in a run's or a sweep's command (or a sweep's subject) for gittree to fill (docs/runs.md): syntax
#: shown as it is typed, not type names.
COMMAND_PLACEHOLDERS = ("{seed}", "{lr}", "{point}")
VIEWS = ("show", "best", "path", "table", "diff", "export", "render")


@pytest.mark.parametrize("command", command_names())
def test_help_has_no_type_names_and_matches_its_snapshot(command: str, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NO_COLOR", "1")
    result = gittree(command, "--help")
    assert result.code == 0, result.err
    text = result.out
    for placeholder in COMMAND_PLACEHOLDERS:
        text = text.replace(placeholder, "")
    assert not TYPE_NAMES.search(text), TYPE_NAMES.search(text)
    check_expected(f"help/{command}.txt", result.out)


def test_the_scope_options_read_the_same_in_every_view(gittree) -> None:  # type: ignore[no-untyped-def]
    lines: dict[str, set[str]] = {}
    for view in VIEWS:
        text = " ".join(gittree(view, "--help").out.split())  # unwrapped
        for option in ("--all", "-m, --metric NAME", "--json"):
            if (view, option) == ("render", "--json"):
                continue  # a drawing: DOT, SVG, PNG, PDF or HTML
            found = re.search(re.escape(option) + r" ([A-Z].*?\.)", text)
            assert found, (view, option)
            lines.setdefault(option, set()).add(found.group(1))
    assert all(len(texts) == 1 for texts in lines.values()), lines
