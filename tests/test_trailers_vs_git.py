"""git is the oracle: gittree.trailers.git_trailers must read every message exactly as git does.

Each batch of messages becomes commits through ONE ``git fast-import`` (messages byte-exact), and
ONE ``git log --no-walk`` prints their trailers, so thousands of messages cost a few git processes.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittree.errors import BadValueError
from gittree.trailers import (
    STATUSES,
    ExperimentRecord,
    append_trailers,
    fold_note,
    format_number,
    format_trailer_lines,
    git_trailers,
    merge_records,
    parse_experiment,
)
from tests.gitenv import git_env_context, init_repo

SAMPLES = Path(__file__).parent / "samples" / "trailers"
SAMPLE_PATHS = sorted(SAMPLES.glob("*.txt"))
CUT = "# ------------------------ >8 ------------------------"


def decode(data: bytes) -> str:
    """Bytes -> str the same way on both sides; non-UTF-8 bytes survive as lone surrogates."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class GitOracle:
    """Asks a real git what the trailers of many messages are, in two git processes per batch."""

    def __init__(self, repo: Path, comment: str = "#") -> None:
        self.repo = repo
        self.commits = 0
        self.comment = comment  # git's core.commentChar for reading

    def trailers(self, messages: Sequence[str]) -> list[list[tuple[str, str]]]:
        if not messages:
            return []
        refs = self._commit_all(messages)
        # Each record is "<hash>\n" then "key: value\n" per trailer, NUL-terminated (-z). A key
        # never holds ':' and an unfolded value never holds '\n', so this is unambiguous, and a
        # message cannot smuggle a NUL into it (git stops reading a message at NUL).
        out = self._git(
            [
                *(["-c", f"core.commentChar={self.comment}"] if self.comment != "#" else []),
                *["log", "--no-walk=unsorted", "-z", "--format=%H%n%(trailers:only,unfold)", "--stdin"],
            ],
            input="".join(f"{ref}\n" for ref in refs).encode(),
        )
        records = out.split(b"\0")
        assert records[-1] == b"", "git log -z output should end with a NUL"
        records = records[:-1]
        assert len(records) == len(messages)
        return [self._parse_record(decode(record)) for record in records]

    def _commit_all(self, messages: Sequence[str]) -> list[str]:
        stream = bytearray()
        refs = []
        for message in messages:
            self.commits += 1
            ref = f"refs/heads/t{self.commits}"
            refs.append(ref)
            data = encode(message)
            # A distinct date per commit keeps equal messages apart (--no-walk drops duplicates).
            stream += (
                f"commit {ref}\ncommitter T <t@example.com> {1767225600 + self.commits} +0000\n".encode()
            )
            stream += b"data %d\n" % len(data) + data + b"\n"
        self._git(["fast-import", "--quiet", "--done"], input=bytes(stream) + b"done\n")
        return refs

    @staticmethod
    def _parse_record(record: str) -> list[tuple[str, str]]:
        _hash, _, body = record.partition("\n")
        trailers = []
        for line in body.split("\n")[:-1]:
            key, separator, value = line.partition(": ")
            assert separator, f"unexpected git output line {line!r}"
            trailers.append((key, value))
        return trailers

    def _git(self, args: list[str], input: bytes) -> bytes:
        result = subprocess.run(["git", "-C", str(self.repo), *args], input=input, capture_output=True)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return result.stdout


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitOracle]:
    root = tmp_path_factory.mktemp("oracle")
    with git_env_context(root / "home"):
        yield GitOracle(init_repo(root / "repo"))


@pytest.fixture(scope="module")
def semicolon_oracle(oracle: GitOracle) -> GitOracle:
    """The same repository read by a git whose core.commentChar is ';'."""
    semicolon = GitOracle(oracle.repo, comment=";")
    semicolon.commits = 10**6  # its own branch names and dates, apart from the other oracle's
    return semicolon


def assert_agrees_with_git(oracle: GitOracle, messages: Sequence[str]) -> None:
    expected = oracle.trailers(messages)
    mismatches = [
        (message, ours, theirs)
        for message, theirs in zip(messages, expected, strict=True)
        if (ours := git_trailers(message, oracle.comment)) != theirs
    ]
    assert not mismatches, (
        "\n\n".join(
            f"message={message!r}\n  gittree={ours!r}\n  git    ={theirs!r}"
            for message, ours, theirs in mismatches[:5]
        )
        + f"\n\n({len(mismatches)} of {len(messages)} messages differ)"
    )


# ------------------------------------------------------------------------------------------------
# The corpus: crafted messages, one file each, compared in a single batch.
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_from_git(oracle: GitOracle) -> dict[str, list[tuple[str, str]]]:
    messages = [decode(path.read_bytes()) for path in SAMPLE_PATHS]
    return dict(zip((path.stem for path in SAMPLE_PATHS), oracle.trailers(messages), strict=True))


def test_corpus_is_large_enough() -> None:
    assert len(SAMPLE_PATHS) >= 60


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda path: path.stem)
def test_corpus_message_reads_as_git_reads_it(
    path: Path, corpus_from_git: dict[str, list[tuple[str, str]]]
) -> None:
    assert git_trailers(decode(path.read_bytes())) == corpus_from_git[path.stem]


APPENDED = format_trailer_lines(metrics=[("acc", "0.5")], notes=["appended"])


@pytest.fixture(scope="module")
def appended_corpus_from_git(oracle: GitOracle) -> dict[str, list[tuple[str, str]]]:
    appended = {}
    for path in SAMPLE_PATHS:
        with contextlib.suppress(BadValueError):
            appended[path.stem] = append_trailers(decode(path.read_bytes()), APPENDED)
    return dict(zip(appended, oracle.trailers(list(appended.values())), strict=True))


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda path: path.stem)
def test_appending_to_corpus_message_reads_back_in_git(
    path: Path, appended_corpus_from_git: dict[str, list[tuple[str, str]]]
) -> None:
    message = decode(path.read_bytes())
    if path.stem not in appended_corpus_from_git:
        assert is_subjectless(message)
        with pytest.raises(BadValueError):
            append_trailers(message, APPENDED)
        return
    assert appended_corpus_from_git[path.stem] == [
        *git_trailers(message),
        ("Gittree-Metric", "acc=0.5"),
        ("Gittree-Note", "appended"),
    ]


# ------------------------------------------------------------------------------------------------
# Generated messages: lines of every shape the parser distinguishes, glued with LF or CRLF.
# ------------------------------------------------------------------------------------------------

WORD = st.text(alphabet="ab Z9-_.:#()=\t\r\x0b\x0céü✓\udcff", max_size=10)
GITTREE_KEYS = [
    "Gittree-Metric",
    "gittree-metric",
    "Gittree-Param",
    "Gittree-Note",
    "Gittree-Status",
    "Gittree-Run",
]
ODD_KEYS = [
    "Gittree-Foo",
    "Signed-off-by",
    "Key",
    "a",
    "-",
    "Ünï",
    "https",
    "Conflicts",
    "#Key",
    " Key",
    "\tKey",
]
KEY = st.one_of(
    st.sampled_from([*GITTREE_KEYS, *ODD_KEYS]), st.text(alphabet="Ab1-_é. ", min_size=1, max_size=6)
)
VALUE = st.one_of(
    st.sampled_from(["acc=0.73", "lr=3e-4", "acc=0,73", "ok", "abandoned", "exit=0", "", "=", "x=nan"]),
    WORD,
)
TRAILER = st.builds(
    lambda key, before, after, value: f"{key}{before}:{after}{value}",
    KEY,
    st.sampled_from(["", "", " ", "\t", " \t "]),
    st.sampled_from(["", " ", " ", "  ", "\t"]),
    VALUE,
)
SPECIAL = st.sampled_from(
    [
        "Signed-off-by: Ada <ada@example.com>",
        "Signed-off-by:Ada",
        "(cherry picked from commit 0123abcd)",
        "Conflicts:",
        "\tsrc/file.c",
        "---",
        "--- ",
        CUT,
        f" {CUT}",
        "#",
        "# Please enter the commit message",
        "https://example.com/x",
        "a\x00b",
    ]
)
PROSE = st.one_of(WORD, st.sampled_from(["Some prose.", "Fix: the bug", "key word: value", "subject line"]))
BLANK = st.sampled_from(["", "", "", " ", "\t", "\r", " \r", "\x0b", "\x0c"])
COMMENT = st.builds(lambda text: "#" + text, WORD)
CONTINUATION = st.builds(lambda indent, text: indent + text, st.sampled_from([" ", "  ", "\t"]), WORD)
LINE = st.one_of(TRAILER, TRAILER, TRAILER, PROSE, BLANK, BLANK, COMMENT, CONTINUATION, SPECIAL)
ENDED_LINE = st.builds(lambda line, end: line + end, LINE, st.sampled_from(["\n", "\n", "\n", "\r\n"]))
# Any sequence of lines, each ended by LF or CRLF, the last one maybe unended.
LINE_SOUP = st.builds(
    lambda lines, last: "".join(lines) + last,
    st.lists(ENDED_LINE, max_size=14),
    st.one_of(st.just(""), LINE),
)
SEPARATOR = st.sampled_from(["", "", "", " ", "\t", "\r", "\x0b"])
BLOCK_LINE = st.one_of(
    TRAILER, TRAILER, TRAILER, TRAILER, SPECIAL, CONTINUATION, COMMENT, PROSE, st.sampled_from(["", " "])
)


def _paragraphs(
    lead: list[str],
    title: list[str],
    body: list[list[str]],
    block: list[str],
    tail: list[str],
    separator: str,
    end: str,
    final_newline: bool,
) -> str:
    lines = [*lead, *title]
    for paragraph in [*body, block]:
        lines += [separator, *paragraph]
    lines += tail
    return end.join(lines) + (end if final_newline else "")


# Messages shaped like commits: a title, maybe body paragraphs, a trailer-heavy last paragraph,
# maybe comments, blank lines or a scissors line after it.
SHAPED = st.builds(
    _paragraphs,
    st.lists(st.sampled_from(["", " ", "\r"]), max_size=2),
    st.lists(st.one_of(PROSE, COMMENT, TRAILER), min_size=1, max_size=2),
    st.lists(st.lists(st.one_of(PROSE, CONTINUATION, TRAILER, COMMENT), min_size=1, max_size=3), max_size=2),
    st.lists(BLOCK_LINE, min_size=1, max_size=8),
    st.lists(st.one_of(COMMENT, BLANK, SPECIAL), max_size=3),
    SEPARATOR,
    st.sampled_from(["\n", "\n", "\r\n"]),
    st.booleans(),
)
MESSAGE = st.one_of(LINE_SOUP, SHAPED, SHAPED)
# Hypothesis gives up on examples over its size budget (a list of 200 messages is over it and
# takes a minute to fail): 125 batches of 80 messages stay well within it, 10,000 messages per run.
BATCH_SETTINGS = settings(
    max_examples=125,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@BATCH_SETTINGS
@given(messages=st.lists(MESSAGE, min_size=80, max_size=80))
def test_generated_messages_read_as_git_reads_them(oracle: GitOracle, messages: list[str]) -> None:
    assert_agrees_with_git(oracle, messages)


@settings(BATCH_SETTINGS, max_examples=30)
@given(messages=st.lists(MESSAGE, min_size=80, max_size=80))
def test_generated_messages_read_as_git_reads_them_with_another_comment_char(
    semicolon_oracle: GitOracle, messages: list[str]
) -> None:
    """core.commentChar=';': '#' lines are content, ';' lines (and a ';' scissors line) comments."""
    semicolon = [message.replace("#", ";") for message in messages[::2]]
    assert_agrees_with_git(semicolon_oracle, [*messages, *semicolon])


# ------------------------------------------------------------------------------------------------
# Round trip: what gittree appends, both gittree and git read back, for any base message.
# ------------------------------------------------------------------------------------------------

NAME = st.from_regex(r"[A-Za-z0-9_./-]{1,12}", fullmatch=True)
NUMBER_TEXT = st.one_of(
    st.floats().map(format_number),
    st.sampled_from(["0.73", "3e-4", ".5", "1.", "+2", "1E3", "-0", "NaN", "+inf", "-INF", " 7 "]),
)
PLAIN_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20
).filter(lambda text: text.strip(" \t\n\r\v\f"))
NOTE_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="".join(
            chr(code) for code in [*range(0x20), *range(0x7F, 0xA0)] if chr(code) not in "\t\n\r"
        ),
    ),
    min_size=1,
    max_size=30,
).filter(lambda text: text.split())
SPEC = st.fixed_dictionaries(
    {
        "metrics": st.lists(st.tuples(NAME, NUMBER_TEXT), max_size=4),
        "params": st.lists(st.tuples(NAME, PLAIN_TEXT), max_size=3),
        "notes": st.lists(NOTE_TEXT, max_size=2),
        "status": st.one_of(st.none(), st.sampled_from([*STATUSES, "OK", "Abandoned"])),
        "run": st.lists(st.tuples(NAME, PLAIN_TEXT), max_size=2),
    }
)


def is_subjectless(message: str) -> bool:
    """The messages append_trailers refuses: empty, NUL, or nothing before the scissors line."""
    if "\0" in message or not message.strip():
        return True
    first = next((line for line in message.split("\n") if line.strip(" \t\r")), "")
    return first == CUT


def comparable(record: ExperimentRecord | None) -> object:
    """A record with samples as text, so that nan == nan."""
    if record is None:
        return None
    return (
        tuple((name, tuple(map(format_number, samples))) for name, samples in record.metrics),
        record.params,
        record.notes,
        record.status,
        record.run,
        record.problems,
    )


@settings(BATCH_SETTINGS, max_examples=50)
@given(cases=st.lists(st.tuples(MESSAGE, SPEC), min_size=20, max_size=20))
def test_appended_trailers_read_back_for_any_message(
    oracle: GitOracle, cases: list[tuple[str, dict[str, object]]]
) -> None:
    results = []
    for message, spec in cases:
        lines = format_trailer_lines(**spec)  # type: ignore[arg-type]
        try:
            result = append_trailers(message, lines)
        except BadValueError:
            assert is_subjectless(message), repr(message)
            continue
        new = git_trailers("subject\n\n" + "\n".join(lines))
        assert len(new) == len(lines)
        assert git_trailers(result) == git_trailers(message) + new, repr(message)
        # Appending trailers is merging records: nothing of the old message is lost or changed.
        alone = parse_experiment("subject\n\n" + "\n".join(lines))
        expected = merge_records(parse_experiment(message), alone)
        assert comparable(parse_experiment(result)) == comparable(expected), repr(message)
        if parse_experiment(message) is None and alone is not None:
            assert_record_matches_spec(alone, spec)
        results.append(result)
    assert_agrees_with_git(oracle, results)


@settings(BATCH_SETTINGS, max_examples=30)
@given(cases=st.lists(st.tuples(MESSAGE, SPEC), min_size=20, max_size=20))
def test_appended_trailers_read_back_with_the_repositorys_comment_char_and_the_default(
    oracle: GitOracle, semicolon_oracle: GitOracle, cases: list[tuple[str, dict[str, object]]]
) -> None:
    """Written for core.commentChar=';', the trailers are read by that git and by a default one."""
    results = []
    for message, spec in cases:
        for base in (message, message.replace("#", ";")):
            lines = format_trailer_lines(**spec)  # type: ignore[arg-type]
            try:
                result = append_trailers(base, lines, ";")
            except BadValueError:
                continue
            new = git_trailers("subject\n\n" + "\n".join(lines))
            both = git_trailers(result, ";") == git_trailers(base, ";") + new
            if not (both and git_trailers(result) == git_trailers(base) + new):
                # No place suits both readers: a paragraph of their own at the very end (docs/format.md),
                # where each reader finds them last and keeps every Gittree-* trailer it found before.
                for reader in (";", "#"):
                    read = git_trailers(result, reader)
                    assert read[len(read) - len(new) :] == new, repr(base)
                    before = [t for t in git_trailers(base, reader) if t[0].lower().startswith("gittree-")]
                    assert [t for t in read if t[0].lower().startswith("gittree-")] == before + new, repr(
                        base
                    )
            results.append(result)
    assert_agrees_with_git(semicolon_oracle, results)
    assert_agrees_with_git(oracle, results)


def assert_record_matches_spec(record: ExperimentRecord, spec: dict[str, object]) -> None:
    metrics = record.metric_dict()
    for name, text in spec["metrics"]:  # type: ignore[attr-defined]
        value = float(text.strip())
        assert any(sample == value or (math.isnan(sample) and math.isnan(value)) for sample in metrics[name])
    assert record.param_dict() == {name: value.strip(" \t\n\r\v\f") for name, value in spec["params"]}  # type: ignore[attr-defined]
    assert list(record.notes) == [fold_note(note) for note in spec["notes"]]  # type: ignore[attr-defined]
    status = spec["status"]
    assert record.status == (status.lower() if isinstance(status, str) else None)
    assert record.run_dict() == {name: value.strip(" \t\n\r\v\f") for name, value in spec["run"]}  # type: ignore[attr-defined]
    assert record.problems == ()


# Note text as people write it: words, runs of spaces, tabs, line breaks, no-break and other Unicode spaces.
NOTE_TEXT = (
    st.lists(
        st.sampled_from(
            ["a", "b1", "%", ".", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2009", "\u2028", "é"]
        ),
        min_size=1,
        max_size=15,
    )
    .map("".join)
    .filter(lambda text: text.strip(" \t\n\r\u2028\u2029"))
)


@settings(BATCH_SETTINGS, max_examples=40)
@given(notes=st.lists(NOTE_TEXT, min_size=20, max_size=20))
def test_a_note_reads_back_exactly_as_written_and_as_git_reads_it(
    oracle: GitOracle, notes: list[str]
) -> None:
    """Written notes are folded to one line once (fold_note); reading keeps every other space as git
    reports it (issue 18: `a   b` was read as `a b`, `10\u00a0%` as `10 %`)."""
    messages = []
    for note in notes:
        lines = format_trailer_lines(notes=[note])
        message = append_trailers("subject\n\nbody", lines)
        record = parse_experiment(message)
        assert record is not None and record.notes == (fold_note(note),), repr(note)
        assert git_trailers(message) == [("Gittree-Note", fold_note(note))]
        messages.append(message)
    assert_agrees_with_git(oracle, messages)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=" \t\r\n\x0b\x0cab#é\u2028", max_size=40))
def test_stripspace_cleans_a_message_as_git_stripspace_does(text: str) -> None:
    """A run's message is cleaned in process when no hook ran (issue 19): git is the oracle."""
    from gittree.trailers import stripspace

    done = subprocess.run(["git", "stripspace"], input=text.encode(), capture_output=True, check=True)
    assert stripspace(text) == done.stdout.decode()
