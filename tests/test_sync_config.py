"""`sync.branches` in .gittree.yaml, and the refspecs gittree builds from it."""

from __future__ import annotations

import pytest

from gittree.config import DEFAULT_SYNC_BRANCHES, dump_config, parse_config
from gittree.errors import ConfigError
from gittree.sync import branch_matches, fetch_refspecs, push_refspecs


def test_default_namespace() -> None:
    assert parse_config("").sync_branches == DEFAULT_SYNC_BRANCHES == ("exp/*", "sweep/*")
    assert parse_config("sync: {}").sync_branches == DEFAULT_SYNC_BRANCHES


def test_custom_namespace_round_trips() -> None:
    config = parse_config("sync:\n  branches: [research/*, main, exp/*]\n")
    assert config.sync_branches == ("research/*", "main", "exp/*")
    assert parse_config(dump_config(config)).sync_branches == config.sync_branches
    assert "sync" not in dump_config(parse_config(""))  # the default is not written out


def test_an_empty_list_shares_no_branches() -> None:
    assert parse_config("sync:\n  branches: []\n").sync_branches == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sync: [exp/*]", "'sync' must be a mapping"),
        ("sync: {branch: [exp/*]}", "unknown key(s) branch"),
        ("sync: {branches: exp/*}", "must be a list"),
        ("sync: {branches: [1]}", "must be a list"),
        ("sync: {branches: ['a*/*']}", "more than one *"),
        ("sync: {branches: ['refs/heads/exp/*']}", "full ref name"),
        ("sync: {branches: ['exp/a b']}", "space"),
        ("sync: {branches: ['exp/..']}", "'..'"),
        ("sync: {branches: ['exp/']}", "ends with /"),
        ("sync: {branches: ['.hidden/*']}", "starting with ."),
        ("sync: {branches: ['x.lock']}", ".lock"),
        ("sync: {branches: ['']}", "is empty"),
    ],
)
def test_bad_sync_settings_are_named(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="sync") as caught:
        parse_config(text)
    assert message in caught.value.message


def test_branch_matches_like_a_git_refspec() -> None:
    assert branch_matches("exp/a", "exp/*") and branch_matches("exp/a/b", "exp/*")
    assert not branch_matches("experiment", "exp/*") and not branch_matches("main", "exp/*")
    assert branch_matches("main", "main") and not branch_matches("main2", "main")
    assert branch_matches("ada/x/done", "ada/*/done") and not branch_matches("ada/done", "ada/*/done")


def test_refspecs_fetch_into_private_places_and_never_force_a_push() -> None:
    fetch = fetch_refspecs("origin", ("exp/*",))
    assert fetch == [
        "+refs/heads/exp/*:refs/remotes/origin/exp/*",
        "+refs/notes/gittree:refs/notes/gittree-remote/origin",
        "+refs/notes/gittree-curves:refs/notes/gittree-curves-remote/origin",
        "+refs/gittree/*:refs/gittree-remote/origin/*",
    ]
    push = push_refspecs(("exp/*",))
    assert push == [
        "HEAD",
        "refs/heads/exp/*:refs/heads/exp/*",
        "refs/notes/gittree:refs/notes/gittree",
        "refs/notes/gittree-curves:refs/notes/gittree-curves",
        "refs/gittree/*:refs/gittree/*",
    ]
    assert not any(spec.startswith("+") for spec in push)


def test_the_command_line_default_is_the_core_default() -> None:
    import inspect

    from gittree.cli.sync import sync as command
    from gittree.sync import MAX_ATTEMPTS

    assert inspect.signature(command).parameters["attempts"].default == MAX_ATTEMPTS
