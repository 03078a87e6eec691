"""The raw commit parser (gittree/rawcommit.py): git's commit object format -> the facts gittree keeps.

Pure: bytes in, facts out, no repository. Objects are written by hand in each shape git (and tools that
import history) write; the stream of ``git cat-file --batch`` is built byte for byte.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.rawcommit import batch_commits, decode_message, parse_any_commit_object, parse_commit_object

TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
A, B = "a" * 40, "b" * 40


def commit(*headers: str, message: bytes = b"subject\n") -> bytes:
    return ("\n".join([f"tree {TREE}", *headers]) + "\n\n").encode() + message


def test_a_plain_commit() -> None:
    data = commit(
        f"parent {A}", "author Ada <ada@example.org> 1767225600 +0100", "committer C <c@x> 1767225601 +0000"
    )
    assert parse_commit_object(data) == (
        (A,),
        "Ada",
        "ada@example.org",
        1767225600,
        60,
        1767225601,
        "subject\n",
    )


def test_a_root_commit_and_a_negative_offset() -> None:
    data = commit("author Ada <a@b> 5 -0930", "committer Ada <a@b> 6 -0930")
    assert parse_commit_object(data) == ((), "Ada", "a@b", 5, -570, 6, "subject\n")


def test_parents_are_only_the_lines_right_after_the_tree() -> None:
    """As git's parse_commit_buffer: a "parent" line after the author is not a parent."""
    data = commit(f"parent {A}", "author Ada <a@b> 5 +0000", f"parent {B}", "committer Ada <a@b> 6 +0000")
    assert parse_commit_object(data)[0] == (A,)


def test_an_author_without_an_email_or_without_an_author_line() -> None:
    """libgit2's commit parser refuses both; git reads them (fsck only warns), and so does gittree:
    what cannot be split is the name, the missing parts are empty or zero."""
    facts = parse_commit_object(commit("author Ada 5 +0000", "committer C <c@x> 6 +0000"))
    assert facts[1:6] == ("Ada 5 +0000", "", 0, 0, 6)
    facts = parse_commit_object(commit("committer C <c@x> 6 +0000"))
    assert facts[1:6] == ("", "", 0, 0, 6)


def test_an_email_holding_a_closing_bracket_takes_the_general_path() -> None:
    data = commit("author Ada <a>b@c> 5 +0000", "committer Ada <a@b> 6 +0000")
    assert parse_commit_object(data)[1:3] == ("Ada", "a>b@c")


def test_the_encoding_header_decodes_the_message() -> None:
    data = commit(
        "author Ada <a@b> 5 +0000",
        "committer Ada <a@b> 6 +0000",
        "encoding ISO-8859-1",
        message="café\n".encode("latin-1"),
    )
    assert parse_commit_object(data)[6] == "café\n"


def test_signed_commits_keep_their_message() -> None:
    data = commit(
        "author Ada <a@b> 5 +0000",
        "committer Ada <a@b> 6 +0000",
        "gpgsig -----BEGIN PGP SIGNATURE-----",
        " abc",
        " -----END PGP SIGNATURE-----",
        message=b"signed\n\nGittree-Metric: acc=0.5\n",
    )
    assert parse_commit_object(data)[6] == "signed\n\nGittree-Metric: acc=0.5\n"


def test_decode_message_never_fails() -> None:
    assert decode_message(b"caf\xe9", None) == "caf\ufffd"
    assert decode_message(b"caf\xe9", "no-such-encoding") == "caf\ufffd"
    assert decode_message("café".encode("latin-1"), "latin1") == "café"


class Chunked(io.RawIOBase):
    """A stream handing its bytes over in the given chunk sizes, as a pipe does."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data = data
        self.sizes = sizes or [len(data) or 1]
        self.turn = 0

    def read1(self, size: int = -1) -> bytes:
        step = self.sizes[self.turn % len(self.sizes)]
        self.turn += 1
        chunk, self.data = self.data[:step], self.data[step:]
        return chunk


def batch(objects: list[tuple[str, str, bytes]]) -> bytes:
    """``git cat-file --batch`` output for (sha, type, bytes) objects; a type of "missing" is a missing one."""
    out = b""
    for sha, kind, data in objects:
        if kind == "missing":
            out += f"{sha} missing\n".encode()
        else:
            out += f"{sha} {kind} {len(data)}\n".encode() + data + b"\n"
    return out


def test_batch_reads_commits_and_skips_missing_objects_and_other_types() -> None:
    one = commit("author Ada <a@b> 5 +0000", "committer Ada <a@b> 6 +0000")
    two = commit(f"parent {A}", "author Bo <b@c> 7 +0000", "committer Bo <b@c> 8 +0000", message=b"two\n")
    stream = batch(
        [(A, "commit", one), ("c" * 40, "missing", b""), ("d" * 40, "blob", b"x\ny\n"), (B, "commit", two)]
    )
    assert list(batch_commits(Chunked(stream, [len(stream)]))) == [
        (A, parse_commit_object(one)),
        (B, parse_commit_object(two)),
    ]


def test_batch_shares_one_string_for_a_commit_id_and_its_use_as_a_parent() -> None:
    """100k commits: a parent id is the very string of that commit's own id when it comes later."""
    child = commit(f"parent {A}", "author Ada <a@b> 5 +0000", "committer Ada <a@b> 6 +0000")
    root = commit("author Ada <a@b> 4 +0000", "committer Ada <a@b> 4 +0000")
    (_, facts), (sha, _) = batch_commits(Chunked(batch([(B, "commit", child), (A, "commit", root)]), [7]))
    assert facts[0][0] is sha


_NAMES = st.text(st.characters(blacklist_characters="<>\n\x00", codec="utf-8"), max_size=12)
_EMAILS = st.text(st.characters(blacklist_characters="<>\n\x00 ", codec="utf-8"), max_size=12)


@st.composite
def _objects(draw: st.DrawFn) -> tuple[str, bytes]:
    sha = draw(st.text("0123456789abcdef", min_size=40, max_size=40))
    parents = [f"parent {p}" for p in draw(st.lists(st.sampled_from([A, B, "e" * 40]), max_size=2))]
    name, email = draw(_NAMES).strip() or "x", draw(_EMAILS)
    when = draw(st.integers(0, 2**33))
    offset = draw(st.sampled_from(["+0000", "-0130", "+1400", "-1200"]))
    headers = [
        *parents,
        f"author {name} <{email}> {when} {offset}",
        f"committer {name} <{email}> {when} {offset}",
    ]
    message = draw(st.binary(max_size=60))
    return sha, commit(*headers, message=message)


@settings(max_examples=300, deadline=None)
@given(st.lists(_objects(), max_size=6), st.lists(st.integers(1, 97), max_size=5))
def test_batch_agrees_with_one_object_at_a_time_however_the_stream_is_cut(
    objects: list[tuple[str, bytes]], sizes: list[int]
) -> None:
    stream = batch([(sha, "commit", data) for sha, data in objects])
    read = list(batch_commits(Chunked(stream, sizes)))
    assert read == [(sha, parse_commit_object(data)) for sha, data in objects]
    assert [facts for _, facts in read] == [parse_any_commit_object(data) for _, data in objects]
