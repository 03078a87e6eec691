"""Faults found by replaying git's own trailer tests against gittree, git being the oracle (issue 18)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import GitRepo


def _git_reads(repo: GitRepo, rev: str = "HEAD") -> tuple[str, str]:
    """git's subject and ``Gittree-Metric`` values of ``rev``, as ``git log`` shows them."""
    out = repo.git("log", "-1", "--format=%s%x00%(trailers:key=Gittree-Metric,valueonly,separator=%x2C)", rev)
    subject, _, metrics = out.rstrip("\n").partition("\0")
    return subject, metrics


def _nodes(gittree: Any) -> dict[str, dict[str, Any]]:  # type: ignore[misc]
    result = gittree("show", "--all", "--json")
    assert result.code == 0 and "Traceback" not in result.err, result.err
    return {node["sha"]: node for node in json.loads(result.out)["nodes"]}


@pytest.mark.parametrize(
    "encoding", ["base64", "rot13", "rot_13", "hex", "zlib", "undefined", "idna", "unicode_escape", "no-such"]
)
def test_an_encoding_header_git_cannot_convert_is_read_as_git_reads_it(
    repo: GitRepo, gittree, encoding: str
) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    sha = repo.raw_commit(
        b"Fix crash\n\nGittree-Metric: acc=0.6\n", parent=repo.head(), header=f"encoding {encoding}\n"
    )
    node = _nodes(gittree)[sha]
    subject, metrics = _git_reads(repo)
    assert (node["subject"], metrics) == (subject, "acc=0.6") == ("Fix crash", "acc=0.6")
    assert node["metrics"]["acc"]["samples"] == [0.6]


def test_an_encoding_git_knows_is_still_converted(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    sha = repo.raw_commit(
        "Café\n\nGittree-Metric: acc=0.6\n".encode("latin-1"),
        parent=repo.head(),
        header="encoding ISO-8859-1\n",
    )
    assert _nodes(gittree)[sha]["subject"] == _git_reads(repo)[0] == "Café"


# -- gittree commit -m with Windows line ends ------------------------------------------------------


def _git_trailers(repo: GitRepo, *config: str) -> list[str]:
    """The trailers git reads in HEAD's message (``config``: ``-c`` settings), one ``Key: value`` each."""
    args = [arg for setting in config for arg in ("-c", setting)]
    out = repo.git(*args, "log", "-1", "--format=%(trailers:only,unfold)")
    return [line for line in out.splitlines() if line]


CRLF_MESSAGES = [
    "Try dropout\r\n\r\nWorks better on the small set.\r\n",
    "Try dropout\r\n\r\nSigned-off-by: Ada <ada@example.com>\r\n",
    # the scissors line ends in CR: git's clean-up makes it a real one, and cut the trailers below it
    "Try dropout\r\n\r\n# ------------------------ >8 ------------------------\r\nold text\r\n",
    "Try dropout\r\rbody with a lone CR\r\n",
]


@pytest.mark.parametrize("message", CRLF_MESSAGES)
def test_a_crlf_message_keeps_every_trailer_gittree_commit_writes(
    repo: GitRepo, gittree, message: str
) -> None:  # type: ignore[no-untyped-def]
    repo.write("work.txt", "x\n")
    repo.git("add", "work.txt")
    result = gittree("commit", "-m", message, "--metric", "acc=0.5", "--note", "seed 1", "--status", "ok")
    assert result.code == 0, result.err
    trailers = _git_trailers(repo)
    assert trailers[-3:] == ["Gittree-Metric: acc=0.5", "Gittree-Note: seed 1", "Gittree-Status: ok"]
    node = next(iter(_nodes(gittree).values()))
    assert (node["metrics"]["acc"]["samples"], node["notes"], node["status"]) == ([0.5], ["seed 1"], "ok")


def test_a_commit_whose_note_did_not_survive_is_not_reported_as_success(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.write_text('#!/bin/sh\nsed -i "/^Gittree-Note/d" "$1"\n', encoding="utf-8")
    hook.chmod(0o755)
    repo.write("work.txt", "x\n")
    repo.git("add", "work.txt")
    result = gittree("commit", "-m", "Try it", "--metric", "acc=0.5", "--note", "seed 1")
    assert result.code == 8 and "note" in result.err, result.err  # it said nothing and exited 0


# -- core.commentChar --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "Fix crash\n\n#123 was caused by a null check.\nFixes: #123",
        "Fix crash\n\n#123 was caused by a null check.\nFixes: #123\n",
        "Fix crash\n\n; a comment\n#1 issue fixed\nSigned-off-by: Ada <ada@example.com>\n",
    ],
)
def test_with_another_comment_char_the_trailers_go_in_a_paragraph_of_their_own(
    repo: GitRepo, gittree, message: str
) -> None:  # type: ignore[no-untyped-def]
    repo.git("config", "core.commentChar", ";")
    repo.write("work.txt", "x\n")
    repo.git("add", "work.txt")
    result = gittree("commit", "-m", message, "--metric", "acc=0.5")
    assert result.code == 0, result.err  # it was refused: exit 6, "cannot add trailers"
    for comment in (";", "#"):
        assert _git_trailers(repo, f"core.commentChar={comment}")[-1] == "Gittree-Metric: acc=0.5", comment
    assert next(iter(_nodes(gittree).values()))["metrics"]["acc"]["samples"] == [0.5]
