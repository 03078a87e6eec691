"""The `--capture NAME` parser: examples from real training scripts, and properties checked with hypothesis."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gittree.errors import BadValueError
from gittree.runs.capture import CaptureParser, LineSplitter, split_lines
from gittree.trailers import format_number, parse_number


def captured(names: list[str], *lines: str) -> dict[str, str]:
    parser = CaptureParser(names)
    for line in lines:
        parser.feed_line(line)
    return parser.values


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("val_bpb:          0.997900", {"val_bpb": "0.997900"}),  # autoresearch's summary lines
        ("val_bpb=0.9979", {"val_bpb": "0.9979"}),
        ("val_bpb = 1e-3", {"val_bpb": "1e-3"}),
        ("step 100 | loss: 2.31 | acc: 0.41", {"loss": "2.31", "acc": "0.41"}),
        ("epoch 3 loss=0.25, acc=0.9;", {"loss": "0.25", "acc": "0.9"}),
        ("(acc: 0.5)", {"acc": "0.5"}),
        ("acc: NaN", {"acc": "nan"}),
        ("loss: -inf", {"loss": "-inf"}),
        ("\x1b[32macc: 0.7\x1b[0m", {"acc": "0.7"}),  # colours are not part of the value
        ("final acc: 0.5.", {"acc": "0.5"}),  # a full stop ends a sentence, not the number
        ("loss: Infinity", {"loss": "inf"}),  # JavaScript's and Java's infinity, as a JSON file's
        ("loss: -infinity;", {"loss": "-inf"}),
    ],
)
def test_lines_that_are_captured(line: str, expected: dict[str, str]) -> None:
    assert captured(["acc", "loss", "val_bpb"], line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "val_acc: 0.5",  # another metric whose name ends in acc
        "acc_top5: 0.5",  # or starts with it
        "acc: 91%",  # a unit would be lost: 91 is not 0.91
        "acc: 0.5s",
        "acc: 0,73",  # decimal comma
        "acc: high",
        "acc 0.5",  # neither ':' nor '='
        "ACC: 0.5",  # names are case-sensitive, as in trailers
        "acc: \u0663",  # non-ASCII digits
        # the number must end at a blank, the end of the line or , ; | ) ] } (docs/runs.md): the first
        # digits of each of these were taken
        "acc: 45/50",
        "acc: 1.#QNAN",  # MSVC's NaN was recorded as 1
        "acc: 0.5-0.7",
        "acc: 0.91#",
        "acc: 0.91.5",
        "acc: nan%",
    ],
)
def test_lines_that_are_not_captured(line: str) -> None:
    assert captured(["acc"], line) == {}


@pytest.mark.parametrize("line", ["acc: 45/50", "acc: 1.#QNAN", "acc: Infinityx", "acc: NaN%", "acc: -inf%"])
def test_a_value_that_starts_like_a_number_is_quoted_in_a_warning(line: str) -> None:
    """Not "matched nothing; names printed with a number: acc" (a warning that contradicted itself for
    a value starting with nan or inf): the line is quoted, as for 91%."""
    parser = CaptureParser(["acc"])
    parser.feed_line(line)
    assert parser.warnings() == [f"--capture acc: not a number, not captured: {line!r}"]


def test_the_last_value_printed_wins() -> None:
    assert captured(["loss"], "loss: 3.0", "noise", "loss: 2.0", "loss=1.5") == {"loss": "1.5"}


def test_capture_names_are_validated() -> None:
    with pytest.raises(BadValueError):
        CaptureParser(["acc top1"])


def test_progress_bars_split_on_carriage_returns() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.append)
    for chunk in (b"10% loss: 3.0\r50% loss: 2.0\r", b"\n", b"done acc: 0.9\r\n", b"tail"):
        splitter.feed(chunk)
    splitter.close()
    assert lines == ["10% loss: 3.0", "50% loss: 2.0", "done acc: 0.9", "tail"]


# -- properties ------------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_./-]{0,15}", fullmatch=True)
numbers = st.floats(allow_nan=False, allow_infinity=True, width=64)
# Text around a metric that cannot glue itself to the name or the value.
noise = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=20)
separators = st.sampled_from([": ", ":", "=", " = ", ":\t"])


@settings(max_examples=300)
@given(name=names, value=numbers, prefix=noise, suffix=noise, separator=separators)
def test_a_printed_metric_reads_back_exactly(
    name: str, value: float, prefix: str, suffix: str, separator: str
) -> None:
    line = f"{prefix} {name}{separator}{format_number(value)} {suffix}"
    parser = CaptureParser([name])
    for piece in split_lines(line):
        parser.feed_line(piece)
    # Noise after the value may repeat the name with another number; only the first must be exact.
    first = CaptureParser([name])
    first.feed_line(f"{prefix} {name}{separator}{format_number(value)}")
    if name not in first.values:  # the prefix glued a name character in front of ours
        assert prefix[-1:] not in ("", " ")
        return
    assert parse_number(first.values[name]) == value


@settings(max_examples=200)
@given(values=st.lists(numbers, min_size=1, max_size=8), name=names)
def test_the_last_of_many_lines_wins(values: list[float], name: str) -> None:
    parser = CaptureParser([name])
    for value in values:
        parser.feed_line(f"{name}: {format_number(value)}")
    assert parse_number(parser.values[name]) == values[-1]


@settings(max_examples=300)
@given(text=st.text(max_size=200), wanted=st.lists(names, min_size=1, max_size=3))
def test_any_output_is_safe_and_only_yields_valid_numbers(text: str, wanted: list[str]) -> None:
    parser = CaptureParser(wanted)
    parser.feed_text(text)
    for name, value in parser.values.items():
        assert name in wanted
        number = parse_number(value)  # never raises: what is captured is a valid metric value
        assert isinstance(number, float) and (math.isnan(number) or number == number)


@settings(max_examples=200)
@given(
    data=st.binary(max_size=300) | st.text(alphabet="ab: 01.\r\n\x1b[m", max_size=300).map(str.encode),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=10),
)
@example(data=b"\r\x00", cuts=[1])  # a lone '\r' ending a chunk: the empty line it ends was dropped
def test_lines_do_not_depend_on_how_the_pipe_chunks_the_bytes(data: bytes, cuts: list[int]) -> None:
    whole: list[str] = []
    one = LineSplitter(whole.append)
    one.feed(data)
    one.close()
    pieces: list[str] = []
    many = LineSplitter(pieces.append)
    last = 0
    for cut in sorted(min(cut, len(data)) for cut in cuts):
        many.feed(data[last:cut])
        last = cut
    many.feed(data[last:])
    many.close()
    assert pieces == whole


def test_a_long_line_without_newlines_is_read_in_linear_time_and_in_pieces() -> None:
    """Regression: the unfinished line was one buffer searched again with every chunk: 100 MB printed
    without a newline took 57 s, and the command waited on its pipe meanwhile. Now each chunk is
    searched once, and a line is handed on in pieces of MAX_LINE (metrics after it still count)."""
    from gittree.runs.capture import MAX_LINE

    pieces: list[str] = []
    splitter = LineSplitter(pieces.append)
    chunk = b"x" * 65536
    for _ in range(3 * MAX_LINE // len(chunk) + 1):
        splitter.feed(chunk)
    splitter.feed(b"\nacc: 0.9\n")
    splitter.close()
    assert all(len(piece) <= MAX_LINE + len(chunk) for piece in pieces)
    assert sum(len(piece) for piece in pieces) == (3 * MAX_LINE // len(chunk) + 1) * len(chunk) + len(
        "acc: 0.9"
    )
    assert pieces[-1] == "acc: 0.9"
