"""`gittree table` in every format: layout, order, columns, and hostile commit data escaped for each format."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.model import CommitRecord
from gittree.render import table as table_module
from gittree.tree import build_tree
from tests.conftest import GitRepo, check_expected
from tests.test_cli_show import small_history

HOSTILE = "a|b *x* <script>alert(1)</script> & $5 50% _u_ #1 {c} ~ ^ \\ `tick` [l](u) \x1b[31mred"


def hostile_history(repo: GitRepo) -> str:
    repo.experiment("base", metrics=[("acc", 0.5)])
    return repo.experiment(HOSTILE, metrics=[("acc", 0.6)], params=[("note", "=HYPERLINK(x)")])


@pytest.mark.parametrize("fmt", ["plain", "github", "markdown", "latex", "html", "csv", "tsv"])
def test_table_formats_on_a_small_history(repo: GitRepo, gittree, fmt: str) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("table", "--all", "--format", fmt)
    assert result.code == 0, result.err
    check_expected(f"table_small.{fmt}", result.out)


def test_table_rows_columns_and_single_run_marks(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    out = gittree("table", "--all").out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["sha", "subject", "acc"]
    assert len(lines) == 1 + 7
    drop = next(line for line in lines if shas["drop"][:7] in line)
    assert (
        "0.6500 ± 0.0141 (2)" in drop and "+0.0300" in drop and "negligible" in drop
    )  # inside its two seeds' noise
    dead = next(line for line in lines if shas["dead"][:7] in line)
    assert "abandoned" in dead and "Ada Tester" in dead and "2026-01-01" in dead
    assert "★ best" in next(line for line in lines if shas["merge"][:7] in line)


def test_table_escapes_commit_data_for_markdown(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    hostile_history(repo)
    for fmt in ("github", "markdown"):
        out = gittree("table", "-f", fmt).out
        row = out.splitlines()[-1]
        # the row keeps exactly the table's own cell separators: no pipe from the subject survives unescaped
        header = out.splitlines()[0]
        assert len(re.findall(r"(?<!\\)\|", row)) == len(re.findall(r"(?<!\\)\|", header))
        for escaped in (
            r"a\|b",
            r"\*x\*",
            r"\<script\>",
            r"\&",
            r"\$5",
            r"\_u\_",
            r"\`tick\`",
            r"\[l\]",
            r"\~",
        ):
            assert escaped in row, escaped
        assert "\x1b" not in out and r"\\x1b\[31mred" in row


def test_table_escapes_commit_data_for_latex(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    hostile_history(repo)
    out = gittree("table", "-f", "latex").out
    assert out.startswith("\\begin{tabular}")
    row = next(line for line in out.splitlines() if "alert" in line)
    for escaped in (
        r"\&",
        r"\$5",
        r"50\%",
        r"\_u\_",
        r"\#1",
        r"\{c\}",
        r"\textasciitilde{}",
        r"\textasciicircum{}",
    ):
        assert escaped in row, escaped
    assert r"\textless{}script\textgreater{}" in row and r"a\textbar{}b" in row
    assert r"\textbackslash{}" in row and "\x1b" not in out
    # one cell separator per column boundary: no '&' from commit data is left bare
    assert row.count(" & ") == 8
    # gittree's own symbols compile with pdflatex too
    assert r"\ensuremath{\Delta} acc" in out and "better\\textsuperscript{1}" in out


def test_table_escapes_commit_data_for_html(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    hostile_history(repo)
    out = gittree("table", "-f", "html").out
    assert out.startswith("<table>") and "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; $5" in out and "\x1b" not in out


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_table_delimited_is_full_precision_and_formula_safe(
    repo: GitRepo, gittree, fmt: str, delimiter: str
) -> None:  # type: ignore[no-untyped-def]
    sha = hostile_history(repo)
    repo.experiment("=cmd|' /C calc'!A0", metrics=[("acc", 0.612345678)])
    rows = list(csv.DictReader(io.StringIO(gittree("table", "-f", fmt).out), delimiter=delimiter))
    assert rows[1]["sha"] == sha and rows[1]["acc_mean"] == "0.6" and rows[1]["acc_n"] == "1"
    assert rows[1]["subject"].startswith("a|b *x* <script>") and "\\x1b[31mred" in rows[1]["subject"]
    assert rows[2]["subject"] == "'=cmd|' /C calc'!A0"  # a spreadsheet must not run it
    assert rows[2]["acc_mean"] == "0.612345678" and rows[2]["delta"].startswith("0.01234567")
    assert rows[0]["acc_std"] == "" and rows[0]["delta"] == "" and rows[1]["single_run"] == "true"
    assert rows[0]["date"] == "2026-01-01T03:00:00+00:00"  # the test clock: an hour per git call


def test_table_json_rows_are_typed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    repo.experiment("diverged", metrics=[("acc", "nan")])
    data = json.loads(gittree("table", "--json").out)
    assert data["metric"] == "acc" and data["columns"][:5] == [
        "sha",
        "subject",
        "acc_mean",
        "acc_std",
        "acc_n",
    ]
    rows = {row["sha"]: row for row in data["rows"]}
    seed = rows[shas["seed"]]
    assert (
        seed["acc_n"] == 2 and seed["acc_mean"] == pytest.approx(0.62) and seed["single_run"] is False
    )  # its seeds are a noise estimate
    diverged = data["rows"][-1]
    assert diverged["acc_mean"] == "nan" and diverged["verdict"] == "worse"


def test_table_sorting(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    repo.experiment("diverged", metrics=[("acc", "nan"), ("loss", 1.0)])

    def order(*args: str) -> list[str]:
        return [row["sha"] for row in json.loads(gittree("table", "--all", "--json", *args).out)["rows"]]

    by_acc = order("--sort", "acc")
    assert by_acc[0] == shas["merge"] and by_acc[1] == shas["drop"]
    assert by_acc[-1] != shas["dead"]  # missing values and NaN go last
    by_date = order("--sort", "date")
    assert by_date[0] == shas["base"]
    by_delta = order("--sort", "delta")
    assert by_delta[0] == shas["lr"]  # +0.12, the biggest gain
    # a minimised metric sorts lowest first
    assert order("--sort", "loss")[0] != shas["base"]
    result = gittree("table", "--sort", "colour")
    assert result.code == 6 and "cannot sort by 'colour'" in result.err


def test_table_metric_columns(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.5), ("loss", 2.0)])
    repo.experiment("b", metrics=[("acc", 0.4), ("loss", 1.0)])
    header = gittree("table", "--metric", "loss", "--metric", "acc").out.splitlines()[0]
    assert header.split()[:6] == ["sha", "subject", "loss", "acc", "Δ", "loss"]
    assert "better" in gittree("table", "--metric", "loss").out.splitlines()[-1]
    assert gittree("table").out.splitlines()[0].split()[2:4] == ["acc", "loss"]
    result = gittree("table", "--metric", "acc", "--metric", "f1")
    assert result.code == 6 and "no experiment records the metric 'f1'" in result.err


def test_table_default_is_every_local_branch_and_head_narrows(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    out = gittree("table").out
    assert shas["dead"][:7] in out and shas["merge"][:7] in out
    out = gittree("table", "HEAD").out
    assert shas["dead"][:7] not in out and shas["merge"][:7] in out
    assert shas["dead"][:7] in gittree("table", "exp/drop").out


# -- the row writer against tabulate itself --------------------------------------------------------

CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("ab |%*_<>&$#{}~^\\`[]\n\r\t\x1b\x01é中\u0301-=.0123456789")), max_size=24
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(CELL_TEXT, st.sampled_from(["0.5", "nan", "inf", "-0.0", "1e-05", "3"])),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(sorted(table_module.HUMAN_FORMATS)),
)
def test_rows_are_written_exactly_as_tabulate_writes_them(
    experiments: list[tuple[str, str]], fmt: str
) -> None:
    # The human formats lay out a few sample rows with tabulate and write the others themselves
    # (tabulate typed every one of a 100k table's cells): both must give the same text.
    commits = [
        CommitRecord(
            f"{index:040x}",
            (f"{index - 1:040x}",) if index else (),
            # the subject is one line (a line break would make another message); the author keeps hers
            f"{' '.join(subject.split()) or 'x'}\n\nGittree-Metric: acc={value}\nGittree-Param: p={index}\n",
            author_name=subject[:6],
            author_time=index,
        )
        for index, (subject, value) in enumerate(experiments)
    ]
    tree = build_tree(commits)
    nodes = tree.nodes
    assert len(nodes) == len(experiments)
    escape = table_module._ESCAPES[fmt]
    columns = table_module.human_columns(tree, ["acc"])
    headers = [escape(column.header) for column in columns]
    cells = [table_module.escaped_cells(column, nodes, escape) for column in columns]
    expected = table_module._tabulate([list(row) for row in zip(*cells, strict=True)], headers, fmt) + "\n"
    assert "".join(table_module.render_table_chunks(tree, nodes, ["acc"], fmt)) == expected


def test_wide_characters_are_aligned_by_terminal_cells_whether_or_not_wcwidth_is_installed(
    repo: GitRepo,
) -> None:
    """tabulate measures cells with wcwidth when it can import it, else in code points: a CJK subject
    was aligned on one machine (IPython installed) and not on another. gittree hands tabulate its own
    measure: every row's metric column starts at the same terminal cell, with wcwidth (installed in the
    test environment) importable or not, and the bytes are the same."""
    import os
    import subprocess
    import sys

    from gittree.render.escape import display_width

    repo.experiment("注意力机制 baseline", metrics=[("acc", 0.5)])
    repo.experiment("plain idea", metrics=[("acc", 0.6)])
    for argv in (["table"], ["best", "-k", "2"]):
        outputs = []
        for hide in ("", "sys.modules['wcwidth'] = None\n"):
            probe = f"import sys\n{hide}from gittree.cli import main\nmain({argv!r})\n"
            done = subprocess.run(  # each rendered (a cached view would give the first one's bytes)
                [sys.executable, "-c", probe],
                cwd=repo.path,
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "GITTREE_NO_CACHE": "1"},
            )
            assert done.returncode == 0, done.stderr
            outputs.append(done.stdout)
        assert outputs[0] == outputs[1], argv
        rows = [line for line in outputs[0].splitlines() if "0.5000" in line or "0.6000" in line]
        assert len(rows) == 2 and len({display_width(row[: row.index("0.")]) for row in rows}) == 1, rows
