"""The hardening catalogue (docs/reliability.md): bad input, hostile text and odd repositories.

Each test is one row of the catalogue: the input, what gittree does, and proof that nothing reached the
user as a traceback and nothing in the repository changed when the input was refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gittree.render.numbers import format_delta
from gittree.trailers import parse_experiment
from tests.conftest import GitRepo


def repo_state(repo: GitRepo) -> tuple[str, str, str]:
    head = repo.git("rev-parse", "-q", "--verify", "HEAD", check=False).strip()
    return head, repo.git("ls-files", "--stage"), repo.git("for-each-ref")


def commit_metric(gittree, *values: str):  # type: ignore[no-untyped-def]
    args = ["commit", "--allow-empty", "-m", "try"]
    for value in values:
        args += ["--metric", value]
    return gittree(*args)


# -- numbers and names ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-0", "1e-400", "+2", ".5", "3e-4"])
def test_accepted_numbers_round_trip(repo: GitRepo, gittree, text: str) -> None:  # type: ignore[no-untyped-def]
    result = commit_metric(gittree, f"acc={text}")
    assert result.code == 0, result.err
    assert json.loads(gittree("show", "--json").out)["nodes"][0]["metrics"]["acc"]["n"] == 1


@pytest.mark.parametrize(
    "text",
    [
        "1e309",
        "-1e309",
        "0,73",
        "73%",
        "1_000",
        "\u0663",
        "\uff11",
        "",
        " ",
        "1 000",
        "0x10",
        "1e",
        "--1",
        "infinity",
    ],
)
def test_rejected_numbers_change_nothing(repo: GitRepo, gittree, text: str) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    before = repo_state(repo)
    result = commit_metric(gittree, f"acc={text}")
    assert result.code == 6, (text, result.err)
    assert "Traceback" not in result.err
    assert (text.strip() or "acc") in result.err  # the message shows the offending text
    assert repo_state(repo) == before


@pytest.mark.parametrize("name", ["a b", "a:b", "a\tb", "a\x1bb", "ä", "", "x" * 201, "a\nb"])
def test_rejected_names(repo: GitRepo, gittree, name: str) -> None:  # type: ignore[no-untyped-def]
    before = repo_state(repo)
    result = commit_metric(gittree, f"{name}=1")
    assert result.code == 6, (name, result.err)
    assert repo_state(repo) == before


def test_equals_in_a_param_value_is_kept(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("commit", "--allow-empty", "-m", "x", "--param", "expr=a=b").code == 0
    assert json.loads(gittree("show", "--json").out)["nodes"][0]["params"] == {"expr": "a=b"}


def test_same_metric_twice_is_two_samples(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert commit_metric(gittree, "acc=0.5", "acc=0.7").code == 0
    metric = json.loads(gittree("show", "--json").out)["nodes"][0]["metrics"]["acc"]
    assert metric["samples"] == [0.5, 0.7] and metric["n"] == 2


def test_the_same_param_twice_is_refused_before_anything_runs(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Regression: `commit` committed, then exited 8 blaming a hook (the check read back the last value
    # only); `run` then copied every trailer into a note, so each metric got a second, false sample.
    repo.commit("start")
    head = repo.head()
    marker = tmp_path / "ran"
    for args in (
        ("commit", "--allow-empty", "-m", "x", "--metric", "acc=0.5", "--param", "lr=1", "--param", "lr=2"),
        ("run", "--param", "lr=1", "--param", "lr=2", "--", "touch", str(marker)),
        ("record", "HEAD", "--param", "lr=1", "--param", "lr=2"),
    ):
        result = gittree(*args)
        assert result.code == 6 and "param 'lr' is given twice (1, 2)" in result.err, args
    assert repo.head() == head and not marker.exists()
    assert repo.git("notes", "--ref", "refs/notes/gittree", "list", check=False).strip() == ""


def test_very_long_values_are_kept_and_truncated_on_screen(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    note = "n" * 100_000
    assert (
        gittree(
            "commit", "--allow-empty", "-m", "s" * 5000, "--note", note, "--param", "p=" + "v" * 5000
        ).code
        == 0
    )
    node = json.loads(gittree("show", "--json").out)["nodes"][0]
    assert node["notes"] == [note] and len(node["params"]["p"]) == 5000
    out = gittree("show", "--color", "never").out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_a_huge_delta_is_written_as_a_number_not_309_digits(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Regression: a delta is written at its reference's precision, 0 decimals for a value of 1e308,
    # so -4e307 came out as 309 digits and pushed the verdict far off the screen.
    repo.experiment("big", metrics=[("acc", "1e308")])
    repo.experiment("smaller", metrics=[("acc", "6e307")])
    out = gittree("show", "--color", "never").out
    assert "-4.000e+307" in out and max(len(line) for line in out.splitlines()) <= 100
    assert "-4.000e+307" in gittree("table").out
    assert "+2.000e+06" in format_delta(2e6, 5e6) and format_delta(12345.0, 5e6) == "+12345"


def test_a_delta_against_a_tiny_reference_keeps_four_significant_digits(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Regression: the decimals of a reference of 1e-20 (23 of them) were pinned on its delta, which
    # came out as +0.80000000000000004440892: float noise; against 1e-300, 300 digits wide.
    repo.experiment("tiny", metrics=[("acc", "1e-20")])
    repo.experiment("child", metrics=[("acc", "0.8")])
    repo.experiment("tinier", metrics=[("acc", "1e-300")])
    out = gittree("show", "--color", "never").out
    assert "+0.8000" in out and "0.80000" not in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert format_delta(0.8, 1e-300) == "+0.8000" and format_delta(-1e-21, 1e-20) == "-1.000e-21"
    assert format_delta(0.024, 0.7312) == "+0.0240"  # a reference with decimals still pins them


def test_dates_no_calendar_holds_do_not_stop_a_view(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Regression: an author date past year 9999 in UTC (git shows it as 9999-12-31 12:00 -1200), one
    # past any calendar, and an offset of +9999 made table, export, render (DOT and HTML) fail with a
    # traceback. Scripts write such commits; git accepts them.
    tree = repo.git("write-tree").strip()
    parent = None
    for subject, date in [
        ("future", "253402300800 -1200"),
        ("overflow", "99999999999999999999 +0000"),
        ("odd zone", "1767225600 +9999"),
    ]:
        header = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
        header += f"author A <a@b> {date}\ncommitter A <a@b> 1767225600 +0000\n\n"
        parent = repo.git(
            "hash-object",
            "-t",
            "commit",
            "-w",
            "--stdin",
            "--literally",
            input=header + f"{subject}\n\nGittree-Metric: acc=0.5\n",
        ).strip()
    repo.git("update-ref", "HEAD", parent)
    for args in (
        ["show"],
        ["table"],
        ["table", "--format", "csv"],
        ["export", "--format", "json"],
        ["export", "--format", "markdown"],
        ["render", "--format", "dot"],
        ["render", "--format", "html", "-o", str(repo.path / "page.html")],
    ):
        result = gittree(*args)
        assert result.code == 0, (args, result.err)
    dates = [node["date"] for node in json.loads(gittree("export", "--format", "json").out)["nodes"]]
    assert sorted(dates) == [
        "1970-01-01T00:00:00+00:00",
        "2026-01-01T00:00:00+00:00",
        "9999-12-31T12:00:00-12:00",
    ]
    assert "9999-12-31 12:00 -1200" in gittree("render", "--format", "dot").out


def test_the_author_clock_never_raises() -> None:
    from datetime import datetime, timedelta, timezone

    from gittree.dates import author_clock

    assert author_clock(1767225600, 120) == datetime(2026, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert author_clock(253402300800, -720).isoformat() == "9999-12-31T12:00:00-12:00"
    assert author_clock(10**20, 0) == author_clock(-(10**20), 60) == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert author_clock(1767225600, 6039).utcoffset() == timedelta(0)


def test_multiline_note_is_folded_to_one_line(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("commit", "--allow-empty", "-m", "x", "--note", "a\n\nGittree-Status: abandoned").code == 0
    node = json.loads(gittree("show", "--json").out)["nodes"][0]
    assert node["notes"] == ["a Gittree-Status: abandoned"] and node["status"] is None


# -- messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "samples"),
    [
        (b"crlf\r\n\r\nGittree-Metric: acc=0.5\r\n", [0.5]),
        (b"dashes\n\n---\nbody\n\nGittree-Metric: acc=0.5\n", [0.5]),
        (b"looks\n\nGittree-Metric: acc=0.1\n\nprose after\n", None),
        (b"mixed\n\nReviewed-by: X\nGittree-Metric: acc=0.5\nSigned-off-by: Y <y@z>\n", [0.5]),
        (b"cherry\n\nGittree-Metric: acc=0.5\n(cherry picked from commit 1234567)\n", [0.5]),
        (b"fold\n\nGittree-Note: first\n  second\nGittree-Metric: acc=0.5\n", [0.5]),
        (b"comments\n\nGittree-Metric: acc=0.5\n# a comment\n", [0.5]),
        (b"\n\nleading blanks\n\nGittree-Metric: acc=0.5\n", [0.5]),
    ],
)
def test_message_shapes_are_read_as_git_reads_them(repo: GitRepo, gittree, message: bytes, samples) -> None:  # type: ignore[no-untyped-def]
    repo.raw_commit(message)
    git_view = repo.git("log", "-1", "--format=%(trailers:key=Gittree-Metric,valueonly)").split()
    result = gittree("show", "--json")
    if samples is None:
        assert git_view == [] and result.code == 5
        return
    assert git_view == [f"acc={s}" for s in samples]
    assert json.loads(result.out)["nodes"][0]["metrics"]["acc"]["samples"] == samples


def test_a_one_megabyte_message(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    body = ("lorem ipsum dolor sit amet " * 40 + "\n") * 1000
    repo.raw_commit(b"huge\n\n" + body.encode() + b"\nGittree-Metric: acc=0.5\n")
    assert json.loads(gittree("show", "--json").out)["nodes"][0]["metrics"]["acc"]["samples"] == [0.5]


def test_nul_bytes_are_refused(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "msg").write_bytes(b"with\0nul\n")
    before = repo_state(repo)
    result = gittree("commit", "--allow-empty", "-F", str(tmp_path / "msg"), "--metric", "acc=1")
    assert result.code == 6 and "NUL" in result.err
    assert repo_state(repo) == before


def test_unknown_encoding_header_falls_back_to_utf8(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.raw_commit(b"caf\xc3\xa9\n\nGittree-Metric: acc=0.5\n", header="encoding no-such-charset\n")
    assert "café" in gittree("show", "--color", "never").out


# -- hostile text --------------------------------------------------------------------------------

HOSTILE = [
    "\x1b[2J\x1b[31mred",  # ANSI: clear screen, colour
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",  # OSC 8 hyperlink
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # OSC 52 clipboard write
    "\x9b31m C1 CSI",  # C1 control
    "\u202egnp.exe",  # bidi override
    "zero\u200bwidth",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_subjects_reach_the_terminal_escaped(repo: GitRepo, gittree, text: str) -> None:  # type: ignore[no-untyped-def]
    repo.experiment(text, metrics=[("acc", 1)])
    for colour in ("never", "always"):
        out = gittree("show", "--color", colour).out
        visible = out.replace("\x1b[0m", "")
        for code in ("32", "33", "31", "2", "1"):
            visible = visible.replace(f"\x1b[{code}m", "")
        assert not any(ch in visible for ch in "\x1b\x07\x9b\u202e\u200b"), repr(visible)


def test_hostile_text_in_errors_is_escaped(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 1)])
    result = gittree("show", "no\x1b[31mref")
    assert result.code == 10 and "\x1b" not in result.err


# -- repositories ----------------------------------------------------------------------------------


def test_merge_of_experiments_with_different_metrics(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("base", metrics=[("acc", 0.5), ("loss", 1.0)])
    repo.branch("exp/a", base)
    only_loss = repo.experiment("only loss", metrics=[("loss", 0.8)])
    repo.branch("main", base)
    repo.experiment("only acc", metrics=[("acc", 0.6)])
    merged = repo.merge(only_loss, "both", metrics=[("acc", 0.65), ("loss", 0.7)])
    nodes = {n["sha"]: n for n in json.loads(gittree("show", "--json", "--metric", "acc").out)["nodes"]}
    assert nodes[merged]["verdict"] == "better" and nodes[merged]["reference"] != only_loss
    nodes = {n["sha"]: n for n in json.loads(gittree("show", "--json", "--metric", "loss").out)["nodes"]}
    assert nodes[merged]["reference"] in (only_loss, base)


def test_linked_worktree(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.5)])
    repo.git("worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    monkeypatch.chdir(tmp_path / "wt")
    assert gittree("commit", "--allow-empty", "-m", "in a worktree", "--metric", "acc=0.6").code == 0
    out = gittree("show", "--color", "never").out
    assert "in a worktree" in out and "← HEAD" in out
    monkeypatch.chdir(repo.path)
    assert "in a worktree" in gittree("show", "--all", "--color", "never").out


def test_submodule(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    inner = GitRepo(tmp_path / "inner")
    inner.experiment("inner idea", metrics=[("acc", 0.5)])
    repo.commit("outer start")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.path), "sub")
    repo.git("commit", "-q", "-m", "add submodule\n\nGittree-Metric: acc=0.1")
    assert "add submodule" in gittree("show", "--color", "never").out
    monkeypatch.chdir(repo.path / "sub")
    assert "inner idea" in gittree("show", "--color", "never").out


def test_bare_repository_reads_but_does_not_write(
    repo: GitRepo, gittree, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.5)])
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(tmp_path / "b.git")], check=True)
    monkeypatch.chdir(tmp_path / "b.git")
    assert gittree("show", "--color", "never").code == 0
    result = gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1")
    assert result.code == 7 and "bare" in result.err
    assert gittree("init").code == 7


def test_a_sha256_repository_is_refused_at_once_with_the_reason(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    """A SHA-256 repository was read cold through git, but once a cache and a new commit existed
    every view failed (exit 3, "unknown object format") and `commit` committed, then failed: libgit2
    reads SHA-1 repositories only. Now every command says so up front, and writes nothing."""
    repo = tmp_path / "s256"
    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(repo)], check=True)
    for args in (("show",), ("commit", "--allow-empty", "-m", "x", "--metric", "acc=1"), ("export",)):
        result = gittree("-C", str(repo), *args)
        assert result.code == 7 and "SHA256" in result.err and "SHA-1" in result.err, args
    assert subprocess.run(["git", "-C", str(repo), "rev-parse", "-q", "--verify", "HEAD"]).returncode != 0


def test_empty_folder_and_unborn_head(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    assert gittree("show").code == 3
    subprocess.run(["git", "init", "-q"], check=True)
    assert gittree("show").code == 4
    assert gittree("show", "--json").code == 4


def test_corrupt_object_is_reported(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    first = repo.experiment("a", metrics=[("acc", 0.5)])
    repo.experiment("b", metrics=[("acc", 0.6)])
    obj = repo.path / ".git" / "objects" / first[:2] / first[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"garbage")
    result = gittree("show")
    assert result.code == 7 and "git fsck" in result.err
    assert "Traceback" not in result.err


def test_parse_experiment_never_raises_on_history() -> None:
    record = parse_experiment("x\n\nGittree-Metric: acc=73%\nGittree-Status: great\nGittree-Bogus: 1\n")
    assert record is not None and len(record.problems) == 3


def test_subprocess_entry_point_has_no_traceback_on_bad_input(repo: GitRepo) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gittree", "commit", "--allow-empty", "-m", "x", "--metric", "acc=1,5"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 6 and "Traceback" not in done.stderr and "1,5" in done.stderr
