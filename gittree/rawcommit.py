"""Raw commit objects -> the facts gittree keeps of them: a pure parser, no git and no I/O.

A commit object is git's text format (``tree``, ``parent`` lines, ``author``, ``committer``, other
headers, a blank line, the message). The git boundary (:mod:`gittree.gitio`) hands over the bytes,
one object at a time (libgit2) or as ``git cat-file --batch`` output (:func:`batch_commits`); this
module reads them exactly as leniently as libgit2 does, and fast on the usual shape.
"""

from __future__ import annotations

import codecs
import re
import sys
from collections.abc import Iterator

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any


#: What gittree keeps of one commit object: parents, author name, author email, author time, author
#: offset (minutes east of UTC), committer time, decoded message. A plain tuple: cheap to build, to keep
#: for 100k commits and to store in the cache.
CommitFacts = tuple[tuple[str, ...], str, str, int, int, int, str]


# The usual shape of a commit header, read in one match: tree, parents, author, committer, each
# well formed (an email holding ">" is not usual: no backtracking over the line). Anything else
# (other header order, odd idents, an encoding header) takes the general path below, which reads
# every shape the same way libgit2 does; on this shape both agree.
_USUAL_HEADER = re.compile(
    rb"tree [0-9a-f]+\n((?:parent [0-9a-f]+\n)*)"
    rb"author ([^<\n]*)<([^>\n]*)> ([0-9]+) ([-+])([0-9]{2})([0-9]{2})\n"
    rb"committer [^<\n]*<[^>\n]*> ([0-9]+) [-+][0-9]{4}\n"
)


def parse_commit_object(data: bytes) -> CommitFacts:
    """A raw commit object (git's format: header lines, a blank line, the message) -> its facts."""
    usual = _USUAL_HEADER.match(data)
    if usual is not None and data.startswith(b"\n", usual.end()):  # the header ends right there
        return _usual_facts(usual, data, len(data), {}, {}, {})
    return parse_any_commit_object(data)


def parse_any_commit_object(data: bytes) -> CommitFacts:
    """:func:`parse_commit_object` for every shape of header (leniently, like libgit2)."""
    end = data.find(b"\n\n")
    header, raw_message = (data, b"") if end < 0 else (data[:end], data[end + 2 :])
    lines = header.split(b"\n")
    # As git's parse_commit_buffer: the parents are the "parent" lines right after "tree".
    index = 1
    while index < len(lines) and lines[index].startswith(b"parent "):
        index += 1
    parents = tuple(line[7:].decode("ascii", "replace") for line in lines[1:index])
    author = committer = encoding = None
    for line in lines[index:]:  # continuation lines (gpgsig, mergetag) start with a space
        if line.startswith(b"author ") and author is None:
            author = line[7:]
        elif line.startswith(b"committer ") and committer is None:
            committer = line[10:]
        elif line.startswith(b"encoding ") and encoding is None:
            encoding = line[9:].decode("ascii", "replace")
    name, email, when, offset = _ident(author)
    committed = _ident(committer)[2] if committer is not None else when
    return parents, name, email, when, offset, committed, decode_message(raw_message, encoding)


def _usual_facts(
    usual: Any,
    data: bytes,
    end: int,
    names: dict[bytes, str],
    emails: dict[bytes, str],
    shas: dict[str, str],
) -> CommitFacts:
    """:func:`parse_commit_object` of a header matched by ``_USUAL_HEADER`` inside ``data`` (up to ``end``)."""
    parents, name, email, when, sign, hours, minutes, committed = usual.groups()
    offset = int(hours) * 60 + int(minutes)
    if parents:
        ids = parents[7:-1].decode("ascii").split("\nparent ")
        parent_ids = tuple([shas.setdefault(p, p) for p in ids])
    else:
        parent_ids = ()
    author = names.get(name)
    if author is None:
        author = names[name] = _decode_name(name.strip())
    address = emails.get(email)
    if address is None:
        address = emails[email] = _decode_name(email)
    return (
        parent_ids,
        author,
        address,
        int(when),
        -offset if sign == b"-" else offset,
        int(committed),
        data[usual.end() + 1 : end].decode("utf-8", "replace"),
    )


def _ident(raw: bytes | None) -> tuple[str, str, int, int]:
    """``Name <email> 1767225600 +0100`` -> (name, email, time, minutes east of UTC); lenient, like libgit2."""
    if raw is None:
        return "", "", 0, 0
    lt, gt = raw.find(b"<"), raw.rfind(b">")
    if lt < 0 or gt < lt:
        return _decode_name(raw.strip()), "", 0, 0
    rest = raw[gt + 1 :].split()
    when = int(rest[0]) if rest and rest[0].isdigit() else 0
    offset = 0
    if len(rest) > 1 and len(rest[1]) == 5 and rest[1][1:].isdigit():
        tz = rest[1]
        offset = (int(tz[1:3]) * 60 + int(tz[3:5])) * (-1 if tz[:1] == b"-" else 1)
    return _decode_name(raw[:lt].strip()), _decode_name(raw[lt + 1 : gt]), when, offset


def _decode_name(raw: bytes) -> str:
    # Interned: a history has few authors and many commits; 100k commits would otherwise hold 200k
    # copies of a handful of names and emails.
    return sys.intern(raw.decode("utf-8", errors="replace"))


def decode_message(raw: bytes, encoding: str | None) -> str:
    """Decode a commit message: its declared ``encoding`` header if git knows it, else UTF-8; never fails.

    git converts a message with iconv and shows it as it is when iconv does not know the encoding.
    Python's codec registry also holds codecs that are no text encodings (``base64``, ``rot13``,
    ``zlib``: decoding with them raised LookupError, and one such commit broke every view) and
    Python-only ones iconv lacks (``idna``, ``unicode_escape``, ``undefined``): those are read as git
    reads them, as UTF-8.
    """
    codec = message_codec(encoding)
    try:
        return raw.decode(codec, errors="replace")
    except (LookupError, UnicodeError):  # a codec that refuses even with errors="replace"
        return raw.decode("utf-8", errors="replace")


def message_codec(encoding: str | None) -> str:
    """The Python codec a message under the ``encoding`` header is read with (:func:`decode_message`).

    The name is read as git's iconv reads it: ``ISO88591`` is Latin-1 there (Python lacks that
    spelling: such messages were written as UTF-8 under a Latin-1 header), and ``latin`` or ``8859``
    are nothing there (Python's aliases: git shows such messages as they are, so they are UTF-8)."""
    if encoding:
        spelled = _ISO_8859_SPELLING.fullmatch(encoding)
        name = f"iso8859-{spelled.group(1)}" if spelled else encoding
        try:
            info = None if name.lower() in _PYTHON_ONLY_NAMES else codecs.lookup(name)
        except LookupError:
            info = None
        if info is not None and getattr(info, "_is_text_encoding", True) and info.name not in _NOT_ICONV:
            return info.name
    return "utf-8"


def encode_message(text: str, encoding: str | None) -> bytes:
    """The bytes a commit stores for the message ``text`` under the ``encoding`` header (git's
    ``i18n.commitEncoding``): what :func:`decode_message` reads back as ``text``.

    git stores the bytes it is given and only labels them (git-commit(1), "Discussion"), so the
    bytes must already be in that encoding: UTF-8 bytes under ``encoding ISO-8859-1`` read back as
    mojibake. :class:`BadValueError` when the encoding cannot hold ``text``, or cannot hold git's own
    text (UTF-16 and the like: git finds the header's end, the lines and the trailers as ASCII bytes).
    """
    from gittree.errors import BadValueError

    codec = message_codec(encoding)
    if codec == "utf-8":
        return text.encode("utf-8")
    try:
        if _ASCII_PROBE.encode(codec) != _ASCII_PROBE.encode("ascii"):
            raise BadValueError(
                f"git cannot store a commit message in {encoding} (i18n.commitEncoding): its lines "
                "and trailers must be ASCII bytes",
                hint="set an ASCII-compatible encoding, or unset it to store messages in UTF-8 "
                "(git config --unset i18n.commitEncoding)",
            )
        return text.encode(codec)
    except UnicodeEncodeError:
        pass
    unstorable = sorted({char for char in text if not _encodable(char, codec)})
    shown = " ".join(f"{char} (U+{ord(char):04X})" for char in unstorable[:5])
    more = f" and {len(unstorable) - 5} more" if len(unstorable) > 5 else ""
    raise BadValueError(
        f"the commit message holds characters that {encoding}, the repository's commit encoding "
        f"(i18n.commitEncoding), cannot store: {shown}{more}",
        hint="write the message without them; nothing was committed",
    )


#: Text every commit message of gittree holds: newlines, trailer keys, comment characters, digits.
_ASCII_PROBE = "Gittree-Metric: a_1=0.5\n# \t"


def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


#: ``ISO88591``, ``iso_8859_15``...: iconv's spellings of the ISO 8859 parts.
_ISO_8859_SPELLING = re.compile(r"(?i)iso[-_ ]?8859[-_ ]?(\d{1,2})")
#: Names Python's codec registry knows and iconv does not.
_PYTHON_ONLY_NAMES = frozenset({"latin", "8859"})
#: Text codecs of Python that iconv does not have (git shows such a message as it is).
_NOT_ICONV = frozenset(
    {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "mbcs", "oem"}
)


def batch_commits(stream: Any) -> Iterator[tuple[str, CommitFacts]]:
    """The commits in ``git cat-file --batch`` output (``SHA TYPE SIZE``, the bytes, a newline).

    The hot loop of a cold read (100k commits): the usual header is matched in place, in the buffer,
    without first copying the object out; names, emails and shas are each made once as text (a
    parent's id is the same string as that commit's own id when it comes later).
    """
    data = b""
    position = 0
    names: dict[bytes, str] = {}
    emails: dict[bytes, str] = {}
    shas: dict[str, str] = {}
    match = _USUAL_HEADER.match
    while chunk := stream.read1(1 << 20):
        data = data[position:] + chunk
        position = 0
        while (eol := data.find(b"\n", position)) >= 0:
            fields = data[position:eol].split(b" ")
            if len(fields) != 3:  # "SHA missing": nothing to read
                position = eol + 1
                continue
            end = eol + 1 + int(fields[2])
            if end >= len(data):  # the object is not all here yet
                break
            if fields[1] == b"commit":
                sha = fields[0].decode("ascii")
                sha = shas.pop(sha, sha)
                usual = match(data, eol + 1, end)
                if usual is not None and usual.end() < end and data[usual.end()] == 10:  # b"\n"
                    facts = _usual_facts(usual, data, end, names, emails, shas)
                else:
                    facts = parse_any_commit_object(data[eol + 1 : end])
                yield sha, facts
            position = end + 1
