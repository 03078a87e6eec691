"""A repository whose commits are stored in a legacy encoding (``i18n.commitEncoding=ISO-8859-1``).

git stores the message bytes it is given and names ``i18n.commitEncoding`` in the commit's ``encoding``
header (git-commit(1), "Discussion"); readers decode by that header. gittree writes its messages in
that encoding, so every reader (gittree's own, ``git log``) reads back what was written.
"""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from gittree.errors import BadValueError
from gittree.rawcommit import decode_message
from tests.conftest import GitRepo


def raw_commit(repo: GitRepo, rev: str = "HEAD") -> bytes:
    import subprocess

    return subprocess.run(
        ["git", "cat-file", "commit", rev], cwd=repo.path, capture_output=True, check=True
    ).stdout


@pytest.fixture
def latin1(repo: GitRepo) -> GitRepo:
    repo.commit("start")
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    return repo


def test_commit_is_written_in_the_commit_encoding_and_read_back_whole(latin1: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    latin1.write("work.txt", "changed\n")
    result = gittree(
        "commit",
        "-a",
        "-m",
        "café schedule",
        "--param",
        "opt=naïve",
        "--note",
        "résumé",
        "--metric",
        "acc=0.5",
    )
    assert result.code == 0, result.err
    raw = raw_commit(latin1)
    assert b"\nencoding ISO-8859-1\n" in raw
    assert b"caf\xe9 schedule" in raw and b"Gittree-Param: opt=na\xefve" in raw  # Latin-1 bytes, as labelled
    assert "caf\xe9 schedule" in latin1.git("log", "-1", "--format=%s", "--encoding=UTF-8")  # git reads it so
    (node,) = [n for n in json.loads(gittree("show", "--json").out)["nodes"] if n["params"]]
    assert node["subject"] == "café schedule"
    assert node["params"] == {"opt": "naïve"} and node["notes"] == ["résumé"]
    exported = gittree("export", "--format", "json").out
    assert "café schedule" in exported and "naïve" in exported and "Ã" not in exported
    assert "café schedule" in gittree("show", "--color", "never").out


def test_commit_refuses_a_message_the_commit_encoding_cannot_hold(latin1: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    before = latin1.head()
    latin1.write("work.txt", "changed\n")
    result = gittree("commit", "-a", "-m", "price in €", "--metric", "acc=0.5")
    assert result.code == 6
    assert "ISO-8859-1" in result.err and "U+20AC" in result.err and "nothing was committed" in result.err
    assert latin1.head() == before


def test_run_is_written_in_the_commit_encoding_with_no_false_alarm(latin1: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree(
        "run", "--name", "café", "--param", "opt=naïve", "--note", "résumé", "--capture", "acc", "--",
        sys.executable, "-c", "print('acc=0.6')",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "hook" not in result.err and "warning" not in result.err
    raw = raw_commit(latin1)
    assert b"\nencoding ISO-8859-1\n" in raw and b"caf\xe9\n" in raw and b"na\xefve" in raw
    assert latin1.git("notes", "--ref", "gittree", "list", check=False) == ""  # no note was needed
    (node,) = [n for n in json.loads(gittree("show", "--json").out)["nodes"] if n["params"]]
    assert node["subject"] == "café" and node["params"] == {"opt": "naïve"} and node["notes"] == ["résumé"]


def test_run_whose_message_the_encoding_cannot_hold_is_stored_as_utf8(latin1: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """The run's results are not lost for a character of its command: UTF-8, no encoding header, a warning."""
    result = gittree(
        "run", "--name", "price in €", "--capture", "acc", "--", sys.executable, "-c", "print('acc=0.6')"
    )
    assert result.code == 0, result.err
    assert "ISO-8859-1" in result.err and "stored as UTF-8" in result.err
    raw = raw_commit(latin1)
    assert b"\nencoding " not in raw and "price in €".encode() in raw
    (node,) = [n for n in json.loads(gittree("show", "--json").out)["nodes"] if n["metrics"]]
    assert node["subject"] == "price in €"


def test_a_run_hook_writing_the_commit_encoding_is_read_in_it(latin1: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """git hands commit-msg the message in the commit encoding; a hook adds to it in that encoding."""
    hook = latin1.path / ".git" / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\nprintf 'Reviewed-by: Ren\\351e\\n' >> \"$1\"\n", encoding="ascii")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    result = gittree(
        "run", "--name", "café", "--capture", "acc", "--", sys.executable, "-c", "print('acc=0.6')"
    )
    assert result.code == 0, result.err
    assert "warning" not in result.err
    raw = raw_commit(latin1)
    assert b"caf\xe9\n" in raw and b"Reviewed-by: Ren\xe9e\n" in raw
    assert "Renée" in latin1.git("log", "-1", "--format=%B", "--encoding=UTF-8")


def test_record_notes_stay_utf8(latin1: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Notes are blobs, which git reads as UTF-8 whatever the commit encoding."""
    sha = latin1.head()
    assert gittree("record", sha, "--metric", "acc=0.5", "--note", "résumé €").code == 0
    note = latin1.git("notes", "--ref", "gittree", "show", sha)
    assert "résumé €" in note
    (node,) = [n for n in json.loads(gittree("show", "--json").out)["nodes"] if n["sha"] == sha]
    assert node["notes"] == ["résumé €"]


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "latin1", "cp1252", "EUC-JP", "UTF-8", "", None])
def test_encode_message_reads_back_as_written(encoding: str | None) -> None:
    from gittree.rawcommit import encode_message

    text = "café\n\nGittree-Param: opt=naïve\n"
    assert decode_message(encode_message(text, encoding), encoding) == text


def test_encode_message_refuses_what_git_cannot_store() -> None:
    from gittree.rawcommit import encode_message

    with pytest.raises(BadValueError, match="U\\+4E2D"):
        encode_message("中", "ISO-8859-1")
    with pytest.raises(BadValueError, match="ASCII"):
        encode_message("cafe", "UTF-16")
    assert encode_message("中", "no-such-encoding") == "中".encode()  # read back as UTF-8, as git shows it


def test_the_commit_msg_check_reads_the_commit_encoding(latin1: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    message = latin1.path / "msg"
    message.write_bytes(b"caf\xe9\n\nGittree-Note: r\xe9sum\xe9\n")
    assert gittree("hook", "check-message", str(message)).code == 0
    assert os.path.exists(message)


@pytest.mark.parametrize(("spelled", "latin"), [("iso88591", True), ("ISO_8859-1", True), ("latin", False)])
def test_the_commit_encoding_is_named_as_git_reads_it(
    repo: GitRepo, gittree, spelled: str, latin: bool
) -> None:  # type: ignore[no-untyped-def]
    """git reads the name with iconv: ``iso88591`` is Latin-1 there (Python lacks that spelling, and
    gittree wrote UTF-8 under the header: git showed cafÃ©), ``latin`` is nothing there (a Python alias:
    gittree wrote Latin-1, which git shows as it is: caf\\xe9). Either way git and gittree now agree."""
    repo.commit("start")
    repo.git("config", "i18n.commitEncoding", spelled)
    repo.write("work.txt", "changed\n")
    assert gittree("commit", "-a", "-m", "café schedule", "--metric", "acc=0.5").code == 0
    raw = raw_commit(repo)
    assert (b"caf\xe9 schedule" in raw) is latin and (b"caf\xc3\xa9 schedule" in raw) is not latin
    shown = repo.git("log", "-1", "--format=%s", "--encoding=UTF-8")
    assert (
        shown == "café schedule\n"
        and json.loads(gittree("show", "--json").out)["nodes"][-1]["subject"] == "café schedule"
    )
