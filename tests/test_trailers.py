"""gittree.trailers as a user meets it: numbers, names, notes, trailer lines, records.

How git itself reads trailers is checked against git in ``test_trailers_vs_git.py``; the examples of
``git_trailers`` here are the rules in readable form.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittree.errors import BadValueError
from gittree.trailers import (
    KEY_METRIC,
    KEY_NOTE,
    KEY_PARAM,
    KEY_RUN,
    KEY_STATUS,
    STATUSES,
    ExperimentRecord,
    append_trailers,
    fold_note,
    format_number,
    format_trailer_lines,
    git_trailers,
    merge_records,
    parse_assignment,
    parse_experiment,
    parse_metric_assignment,
    parse_number,
    validate_name,
)

SPEC_EXAMPLE = """patch embedding 16x16

Split the cloud into 16-point patches.

Gittree-Metric: acc=0.7312
Gittree-Metric: acc=0.7288
Gittree-Param: lr=3e-4
Gittree-Note: converged twice as fast
Gittree-Status: abandoned
Gittree-Run: exit=0
"""
CUT = "# ------------------------ >8 ------------------------"


def test_public_constants() -> None:
    assert STATUSES == ("ok", "abandoned", "failed", "running")
    assert (KEY_METRIC, KEY_PARAM, KEY_NOTE, KEY_STATUS, KEY_RUN) == (
        "Gittree-Metric",
        "Gittree-Param",
        "Gittree-Note",
        "Gittree-Status",
        "Gittree-Run",
    )


# ------------------------------------------------------------------------------------------------
# Numbers
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.73", 0.73),
        ("-1.5", -1.5),
        ("3e-4", 3e-4),
        (".5", 0.5),
        ("1.", 1.0),
        ("+2", 2.0),
        ("1E3", 1000.0),
        ("42", 42.0),
        ("  0.73\t", 0.73),
        ("1e-400", 0.0),  # underflow rounds to zero, like any float rounding
        ("inf", math.inf),
        ("+inf", math.inf),
        ("-inf", -math.inf),
        ("INF", math.inf),
        ("-Inf", -math.inf),
    ],
)
def test_parse_number_accepts_plain_numbers(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_parse_number_accepts_nan_in_any_case() -> None:
    assert math.isnan(parse_number("nan"))
    assert math.isnan(parse_number("NaN"))


def test_parse_number_keeps_the_sign_of_zero() -> None:
    assert math.copysign(1.0, parse_number("-0")) == -1.0


@pytest.mark.parametrize(
    "text",
    ["0,73", "73%", "1_000", "٣", "１", "", "   ", "1 000", "1.2.3", "e5", "1e", "0x10", "--1", "+-1", "-nan",
     "infinity", "1.5f", "1\u00a0", "\u22121"],
)  # fmt: skip
def test_parse_number_rejects_everything_else(text: str) -> None:
    with pytest.raises(
        BadValueError, match=r"expected a plain number such as 0\.73, -1\.5, 3e-4, nan, inf or -inf"
    ):
        parse_number(text)


def test_parse_number_error_shows_the_text_and_the_name() -> None:
    with pytest.raises(BadValueError) as caught:
        parse_number("0,73", name="acc")
    assert caught.value.message == (
        "bad number '0,73' for 'acc': expected a plain number such as 0.73, -1.5, 3e-4, nan, inf or -inf"
    )
    assert caught.value.hint == "use a dot as the decimal separator: 0.73, not 0,73"
    assert caught.value.exit_code == 6


@pytest.mark.parametrize(
    ("text", "hint"),
    [("73%", "percent"), ("1_000", "digit separators"), ("٣", "ASCII digits"), ("abc", None)],
)
def test_parse_number_hints_at_the_likely_fix(text: str, hint: str | None) -> None:
    with pytest.raises(BadValueError) as caught:
        parse_number(text)
    if hint is None:
        assert caught.value.hint is None
    else:
        assert hint in (caught.value.hint or "")


def test_parse_number_refuses_a_finite_literal_that_overflows() -> None:
    with pytest.raises(BadValueError, match=r"bad number '1e309' for 'value': it is too large") as caught:
        parse_number("1e309")
    assert "write inf" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.73, "0.73"), (1.0, "1.0"), (-0.0, "-0.0"), (3e-4, "0.0003"), (1e16, "1e+16"), (1e-5, "1e-05"),
     (math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (2, "2.0")],
)  # fmt: skip
def test_format_number_is_the_shortest_round_trip(value: float, text: str) -> None:
    assert format_number(value) == text


@given(st.floats())
def test_format_number_reads_back_exactly(value: float) -> None:
    back = parse_number(format_number(value))
    assert back == value or (math.isnan(back) and math.isnan(value))
    assert math.copysign(1.0, back) == math.copysign(1.0, value) or math.isnan(value)


# ------------------------------------------------------------------------------------------------
# Names, notes, assignments
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["acc", "val/loss", "top-1", "f1_macro", "v2.3", "A" * 200, "-", "."])
def test_validate_name_accepts_ascii_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "bad"),
    [("a b", "' ' (U+0020)"), ("a=b", "'=' (U+003D)"), ("a:b", "':' (U+003A)"), ("größe", "'ö' (U+00F6)"),
     ("tab\there", "'\\t' (U+0009)"), ("λ", "'λ' (U+03BB)")],
)  # fmt: skip
def test_validate_name_refuses_other_characters(name: str, bad: str) -> None:
    with pytest.raises(BadValueError) as caught:
        validate_name(name, kind="param")
    assert caught.value.message == (
        f"bad param name {name!r}: names use ASCII letters, digits and _ . - / only, not {bad}"
    )


def test_validate_name_refuses_empty_and_long_names() -> None:
    with pytest.raises(BadValueError, match=r"^empty metric name"):
        validate_name("")
    with pytest.raises(BadValueError, match="is 201 characters long; the limit is 200"):
        validate_name("a" * 201)


@pytest.mark.parametrize(
    ("text", "folded"),
    [("converged twice as fast", "converged twice as fast"), ("  two\nlines\r\n\tand a tab  ", "two lines and a tab"),
     ("a\u2028b\u00a0c", "a b\u00a0c"), ("a   b", "a   b"), ("10\u00a0%", "10\u00a0%"),
     ("très bien ✓", "très bien ✓")],
)  # fmt: skip
def test_fold_note_makes_one_line(text: str, folded: str) -> None:
    assert fold_note(text) == folded


@pytest.mark.parametrize("text", ["", " \n\t "])
def test_fold_note_refuses_an_empty_note(text: str) -> None:
    with pytest.raises(BadValueError, match=r"^empty note"):
        fold_note(text)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"])
def test_fold_note_refuses_control_characters(char: str) -> None:
    with pytest.raises(BadValueError) as caught:
        fold_note(f"bad{char}note")
    assert caught.value.message == (
        f"bad note {'bad' + char + 'note'!r}: it contains the control character {char!r} (U+{ord(char):04X})"
    )


def test_parse_assignment_splits_at_the_first_equals_sign() -> None:
    assert parse_assignment("cmd=python train.py --lr=3e-4", kind="param") == (
        "cmd",
        "python train.py --lr=3e-4",
    )
    assert parse_assignment("  lr = 3e-4 ", kind="param") == ("lr", "3e-4")
    assert parse_assignment("exit=0", kind="run") == ("exit", "0")
    assert parse_assignment("host=nöde ✓", kind="run") == ("host", "nöde ✓")


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("lr", "param", "bad param 'lr': expected NAME=VALUE, such as lr=3e-4"),
        ("exit", "run", "bad run 'exit': expected NAME=VALUE, such as exit=0"),
        ("lr=", "param", "empty value for param 'lr': expected NAME=VALUE, such as lr=3e-4"),
        ("lr=  ", "param", "empty value for param 'lr': expected NAME=VALUE, such as lr=3e-4"),
        ("=3", "param", "empty param name: names use ASCII letters, digits and _ . - / only"),
        ("l r=3", "param", "bad param name 'l r': names use ASCII letters, digits and _ . - / only, not ' ' (U+0020)"),
        ("lr=a\tb", "param", "bad value 'a\\tb' for param 'lr': it contains the control character '\\t' (U+0009);"
         " values are one line of plain text"),
        ("lr=a\nb", "param", "bad value 'a\\nb' for param 'lr': it contains the control character '\\n' (U+000A);"
         " values are one line of plain text"),
    ],
)  # fmt: skip
def test_parse_assignment_errors_show_the_text_and_the_form(text: str, kind: str, message: str) -> None:
    with pytest.raises(BadValueError) as caught:
        parse_assignment(text, kind=kind)
    assert caught.value.message == message


def test_parse_metric_assignment_keeps_the_number_as_written() -> None:
    assert parse_metric_assignment("acc=0.7310") == ("acc", "0.7310")
    assert parse_metric_assignment("lr = 3e-4") == ("lr", "3e-4")
    assert parse_metric_assignment("loss=NaN") == ("loss", "nan")
    assert parse_metric_assignment("gain=+INF") == ("gain", "inf")
    assert parse_metric_assignment("delta=-0") == ("delta", "-0")


def test_parse_metric_assignment_error_matches_the_documented_example() -> None:
    with pytest.raises(BadValueError) as caught:
        parse_metric_assignment("acc=0,73")
    assert caught.value.message == (
        "bad metric value '0,73' for 'acc': expected a plain number such as 0.73, -1.5, 3e-4, nan, inf or -inf"
    )
    assert str(caught.value).endswith("hint: use a dot as the decimal separator: 0.73, not 0,73")


@pytest.mark.parametrize(
    ("text", "start"),
    [("acc", "bad metric 'acc': expected NAME=VALUE"), ("acc=", "empty value for metric 'acc'"),
     ("a cc=1", "bad metric name 'a cc'"), ("acc=1e999", "bad metric value '1e999' for 'acc': it is too large")],
)  # fmt: skip
def test_parse_metric_assignment_errors(text: str, start: str) -> None:
    with pytest.raises(BadValueError) as caught:
        parse_metric_assignment(text)
    assert caught.value.message.startswith(start)


# ------------------------------------------------------------------------------------------------
# git_trailers: git's rules by example (each is also in tests/samples/trailers/ and checked by git)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "trailers"),
    [
        pytest.param("subject\n\nA: b\nC: d\n", [("A", "b"), ("C", "d")], id="last paragraph of trailers"),
        pytest.param("subject\nA: b\n", [], id="the title paragraph never holds trailers"),
        pytest.param("A: b\n", [], id="a title alone"),
        pytest.param("\n\n  \nA: b\n", [], id="leading blank lines are skipped before the title"),
        pytest.param("subject\n\nprose\nA: b\n", [], id="one prose line spoils a block"),
        pytest.param(
            "subject\n\nprose\nprose\nprose\nSigned-off-by: x\nA: b\n",
            [("Signed-off-by", "x"), ("A", "b")],
            id="with a Signed-off-by, 25% trailers are enough",
        ),
        pytest.param(
            "subject\n\np\np\np\np\np\np\np\nSigned-off-by: x\nA: b\n",
            [],
            id="below 25% even with Signed-off-by",
        ),
        pytest.param(
            "subject\n\nA: one\n  two\n\tthree\n", [("A", "one two three")], id="continuation unfolded"
        ),
        pytest.param("subject\n\nKey : v\n", [("Key", "v")], id="blanks before the colon"),
        pytest.param("subject\n\nKey word: v\n", [], id="no blank inside a key"),
        pytest.param("subject\n\nmy_key: v\n", [], id="no underscore in a key"),
        pytest.param("subject\n\nSchlüssel: v\n", [], id="ASCII keys only"),
        pytest.param(
            "subject\n\nhttps://example.com\n", [("https", "//example.com")], id="a URL is a trailer"
        ),
        pytest.param("subject\n\nA: b\n# comment\n", [("A", "b")], id="final comments are ignored"),
        pytest.param(f"subject\n\nA: b\n{CUT}\nB: c\n", [("A", "b")], id="all below the scissors is ignored"),
        pytest.param("subject\n\nA: b\n---\nB: c\n", [], id="a --- line is prose for %(trailers)"),
        pytest.param(
            "subject\n\nA: b\n\nConflicts:\n\tx.c\n", [("A", "b")], id="old Conflicts: block ignored"
        ),
        pytest.param("subject\r\n\r\nA: b\r\n", [("A", "b")], id="CRLF"),
        pytest.param("subject\n\nA: b\x00\nB: c\n", [("A", "b")], id="git stops at a NUL"),
        pytest.param("subject\n\nA:\n", [("A", "")], id="empty value"),
    ],
)
def test_git_trailers_by_example(message: str, trailers: list[tuple[str, str]]) -> None:
    assert git_trailers(message) == trailers


# ------------------------------------------------------------------------------------------------
# Reading experiments
# ------------------------------------------------------------------------------------------------


def test_parse_experiment_reads_the_documented_example() -> None:
    record = parse_experiment(SPEC_EXAMPLE)
    assert record == ExperimentRecord(
        metrics=(("acc", (0.7312, 0.7288)),),
        params=(("lr", "3e-4"),),
        notes=("converged twice as fast",),
        status="abandoned",
        run=(("exit", "0"),),
        problems=(),
    )
    assert record.metric_dict() == {"acc": (0.7312, 0.7288)}
    assert record.param_dict() == {"lr": "3e-4"}
    assert record.run_dict() == {"exit": "0"}


@pytest.mark.parametrize(
    "message",
    [
        "subject\n",
        "subject\n\nSigned-off-by: Ada <ada@example.com>\n",
        "subject\n\nGittree-Metric: acc=1\n\nprose\n",
    ],
)
def test_parse_experiment_is_none_without_gittree_trailers(message: str) -> None:
    assert parse_experiment(message) is None


def test_parse_experiment_matches_keys_in_any_case_and_keeps_other_trailers_out() -> None:
    record = parse_experiment(
        "subject\n\ngittree-metric: acc=0.5\nSigned-off-by: Ada <a@b>\nGITTREE-STATUS: OK\nGittree-Param : lr=1\n"
    )
    assert record == ExperimentRecord(metrics=(("acc", (0.5,)),), params=(("lr", "1"),), status="ok")


def test_parse_experiment_orders_names_by_first_sight_and_lets_the_last_value_win() -> None:
    record = parse_experiment(
        "subject\n\nGittree-Metric: loss=2\nGittree-Metric: acc=0.5\nGittree-Metric: loss=1\n"
        "Gittree-Param: lr=1\nGittree-Param: bs=8\nGittree-Param: lr=2\n"
        "Gittree-Run: exit=1\nGittree-Run: exit=0\n"
    )
    assert record is not None
    assert record.metrics == (("loss", (2.0, 1.0)), ("acc", (0.5,)))
    assert record.params == (("lr", "2"), ("bs", "8"))
    assert record.run == (("exit", "0"),)


def test_parse_experiment_reports_malformed_trailers_as_problems() -> None:
    record = parse_experiment(
        "subject\n\nGittree-Metric: acc=0,73\nGittree-Metric: acc=0.7\nGittree-Metric: loss\n"
        "Gittree-Status: done\nGittree-Foo: bar\nGittree-Param: lr=\nGittree-Note:\n"
    )
    assert record is not None
    assert record.metrics == (("acc", (0.7,)),)
    assert record.params == ()
    assert record.notes == ()
    assert record.status is None
    assert record.problems == (
        "Gittree-Metric: acc=0,73: bad metric value '0,73' for 'acc': expected a plain number such as 0.73, "
        "-1.5, 3e-4, nan, inf or -inf",
        "Gittree-Metric: loss: bad metric 'loss': expected NAME=VALUE, such as acc=0.73",
        "Gittree-Status: done: bad status 'done': expected one of ok, abandoned, failed, running",
        "Gittree-Foo: bar: unknown gittree trailer; known keys are Gittree-Metric, Gittree-Param, Gittree-Note, "
        "Gittree-Status, Gittree-Run",
        "Gittree-Param: lr=: empty value for param 'lr': expected NAME=VALUE, such as lr=3e-4",
        "Gittree-Note: : empty note: a note needs some text",
    )


def test_an_unknown_gittree_key_alone_still_makes_an_experiment() -> None:
    record = parse_experiment("subject\n\nGittree-Foo: bar\n")
    assert record is not None
    assert len(record.problems) == 1


def test_the_last_valid_status_wins() -> None:
    record = parse_experiment(
        "subject\n\nGittree-Status: failed\nGittree-Status: Abandoned\nGittree-Status: nope\n"
    )
    assert record is not None
    assert record.status == "abandoned"
    assert record.problems == (
        "Gittree-Status: nope: bad status 'nope': expected one of ok, abandoned, failed, running",
    )


def test_parse_experiment_keeps_nan_and_infinite_samples() -> None:
    record = parse_experiment("subject\n\nGittree-Metric: loss=nan\nGittree-Metric: loss=-inf\n")
    assert record is not None
    (samples,) = record.metric_dict().values()
    assert math.isnan(samples[0]) and samples[1] == -math.inf


# ------------------------------------------------------------------------------------------------
# Merging records (trailers + git notes)
# ------------------------------------------------------------------------------------------------


def test_merge_records_adds_samples_and_notes_and_lets_later_values_win() -> None:
    first = ExperimentRecord(
        metrics=(("acc", (0.7,)), ("loss", (1.0,))),
        params=(("lr", "1"), ("bs", "8")),
        notes=("first",),
        status="running",
        run=(("exit", "1"),),
        problems=("p1",),
    )
    second = ExperimentRecord(
        metrics=(("f1", (0.3,)), ("acc", (0.8,))),
        params=(("lr", "2"),),
        notes=("second",),
        status=None,
        run=(("exit", "0"), ("host", "a")),
        problems=("p2",),
    )
    third = ExperimentRecord(status="ok")
    assert merge_records(first, None, second, third) == ExperimentRecord(
        metrics=(("acc", (0.7, 0.8)), ("loss", (1.0,)), ("f1", (0.3,))),
        params=(("lr", "2"), ("bs", "8")),
        notes=("first", "second"),
        status="ok",
        run=(("exit", "0"), ("host", "a")),
        problems=("p1", "p2"),
    )


def test_merge_records_of_nothing_is_none() -> None:
    assert merge_records() is None
    assert merge_records(None, None) is None
    record = ExperimentRecord(notes=("x",))
    assert merge_records(None, record) == record


# ------------------------------------------------------------------------------------------------
# Writing: trailer lines and appending them
# ------------------------------------------------------------------------------------------------


def test_format_trailer_lines_in_the_documented_order() -> None:
    lines = format_trailer_lines(
        run=[("exit", "0")],
        status="Abandoned",
        notes=["converged\ntwice as fast"],
        params=[("lr", "3e-4")],
        metrics=[("acc", "0.7312"), ("acc", " 0.7288 ")],
    )
    assert lines == [
        "Gittree-Metric: acc=0.7312",
        "Gittree-Metric: acc=0.7288",
        "Gittree-Param: lr=3e-4",
        "Gittree-Note: converged twice as fast",
        "Gittree-Status: abandoned",
        "Gittree-Run: exit=0",
    ]
    assert (
        append_trailers("patch embedding 16x16\n\nSplit the cloud into 16-point patches.\n", lines)
        == SPEC_EXAMPLE
    )


def test_format_trailer_lines_of_nothing_is_empty() -> None:
    assert format_trailer_lines() == []


@pytest.mark.parametrize(
    ("kwargs", "start"),
    [
        ({"metrics": [("acc", "0,73")]}, "bad metric value '0,73' for 'acc'"),
        ({"metrics": [("a=b", "1")]}, "bad metric name 'a=b'"),
        ({"params": [("a=b", "c")]}, "bad param name 'a=b'"),
        ({"params": [("lr", "")]}, "empty value for param 'lr'"),
        ({"run": [("exit", "0\n1")]}, "bad value '0\\n1' for run 'exit'"),
        ({"notes": ["  "]}, "empty note"),
        ({"status": "done"}, "bad status 'done': expected one of ok, abandoned, failed, running"),
    ],
)
def test_format_trailer_lines_validates_everything(kwargs: dict[str, object], start: str) -> None:
    with pytest.raises(BadValueError) as caught:
        format_trailer_lines(**kwargs)  # type: ignore[arg-type]
    assert caught.value.message.startswith(start)


METRIC = ["Gittree-Metric: acc=0.5"]


@pytest.mark.parametrize(
    ("message", "result"),
    [
        pytest.param("subject", "subject\n\nGittree-Metric: acc=0.5\n", id="title without newline"),
        pytest.param("subject\n", "subject\n\nGittree-Metric: acc=0.5\n", id="title only"),
        pytest.param(
            "subject\n\nbody\n\n\n", "subject\n\nbody\n\nGittree-Metric: acc=0.5\n\n\n", id="blank lines"
        ),
        pytest.param(
            "subject\n\nSigned-off-by: Ada <a@b>\n",
            "subject\n\nSigned-off-by: Ada <a@b>\nGittree-Metric: acc=0.5\n",
            id="joins an existing block",
        ),
        pytest.param(
            "subject\n\nbody\n# Please enter the commit message\n#\n",
            "subject\n\nbody\n\nGittree-Metric: acc=0.5\n# Please enter the commit message\n#\n",
            id="above final comments",
        ),
        pytest.param(
            f"subject\n\nA: b\n{CUT}\ndiff --git a/x b/x\n",
            f"subject\n\nA: b\nGittree-Metric: acc=0.5\n{CUT}\ndiff --git a/x b/x\n",
            id="above the scissors line",
        ),
        pytest.param(
            "subject\r\n\r\nbody\r\n",
            "subject\r\n\r\nbody\r\n\r\nGittree-Metric: acc=0.5\r\n",
            id="CRLF message keeps CRLF",
        ),
        pytest.param(
            "subject\n\nprose\nprose\nprose\nSigned-off-by: x\nprose\n",
            "subject\n\nprose\nprose\nprose\nSigned-off-by: x\nprose\n\nGittree-Metric: acc=0.5\n",
            id="a paragraph that joining would turn into trailers stays prose",
        ),
        pytest.param(
            "subject\n\nA: b\n \n# c\n\t\n",
            "subject\n\nA: b\nGittree-Metric: acc=0.5\n \n# c\n\t\n",
            id="a block read across blank lines that only comments follow",
        ),
        pytest.param(
            "Conflicts:\nsubject\n\n#\n\tpath/file.c",
            "Conflicts:\nsubject\n\n#\n\tpath/file.c\n\nGittree-Metric: acc=0.5\n",
            id="a Conflicts: subject swallowing tab lines",
        ),
    ],
)
def test_append_trailers_by_example(message: str, result: str) -> None:
    assert append_trailers(message, METRIC) == result
    assert git_trailers(result) == [*git_trailers(message), ("Gittree-Metric", "acc=0.5")]


def test_append_trailers_with_no_lines_changes_nothing() -> None:
    assert append_trailers("subject", []) == "subject"


@pytest.mark.parametrize(
    ("message", "start"),
    [
        ("", "the commit message is empty"),
        (" \n\t\r\n", "the commit message is empty"),
        ("subject\x00", "the commit message contains a NUL character"),
        (f"{CUT}\nsubject\n", "the commit message has no subject line"),
        ("\n\n" + CUT, "gittree cannot add trailers"),
    ],
)
def test_append_trailers_refuses_messages_without_a_subject(message: str, start: str) -> None:
    with pytest.raises(BadValueError) as caught:
        append_trailers(message, METRIC)
    assert caught.value.message.startswith(start)


@pytest.mark.parametrize(
    "line", ["no separator", " Key: indented", "Key: two\nlines", "Key: a\rb", "# Key: c", ""]
)
def test_append_trailers_refuses_lines_that_are_not_trailers(line: str) -> None:
    with pytest.raises(BadValueError, match="bad trailer line"):
        append_trailers("subject", [line])
