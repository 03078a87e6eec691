"""`gittree render` on the command line: formats, output, selection options, and the promise of the README."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gittree.dates import parse_since
from gittree.errors import BadValueError
from tests.conftest import GitRepo
from tests.render_support import bin_without_graphviz, small_history

ROOT = Path(__file__).parents[1]
NOW = 1772442000  # 2026-03-02 09:00 UTC


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("tree.dot", b"digraph research {"),
        ("tree.gv", b"digraph research {"),
        ("tree.svg", b"<?xml"),
        ("tree.html", b"<!DOCTYPE html>"),
        ("TREE.HTM", b"<!DOCTYPE html>"),
    ],
)
def test_format_comes_from_the_file_name(repo: GitRepo, gittree, name: str, start: bytes) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("render", "-o", name)
    assert result.code == 0, result.err
    assert result.out == f"wrote {name}\n"
    assert (repo.path / name).read_bytes().startswith(start)


def test_format_option_wins_over_the_file_name(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    assert gittree("render", "--format", "dot", "-o", "tree.svg").code == 0
    assert (repo.path / "tree.svg").read_text().startswith("digraph research {")


def test_dash_and_no_output_write_to_stdout(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    assert gittree("render", "-f", "dot", "-o", "-").out.startswith("digraph research {")
    assert gittree("render").out.startswith("<?xml")  # SVG by default
    assert gittree("render", "-o", "-").out.startswith("<?xml")


def test_unknown_file_name_asks_for_a_format(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("render", "-o", "tree.jpeg")
    assert result.code == 6
    assert "cannot tell the format from the file name 'tree.jpeg'" in result.err and "--format" in result.err


def test_binary_formats_are_not_written_to_a_terminal(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    result = gittree("render", "--format", "png")
    assert result.code == 6 and "gittree render -o tree.png" in result.err


def test_unwritable_output_is_an_error(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("render", "-o", "missing/folder/tree.dot")
    assert result.code == 1 and "cannot write missing/folder/tree.dot" in result.err


def test_metric_option_colours_by_another_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    out = gittree("render", "-f", "dot", "--metric", "loss").out
    assert (
        "colour by loss (min, negligible within 0.1% of parent, or 2 standard errors where seeds exist)"
        in out
    )
    assert gittree("render", "-f", "dot", "--metric", "nope").code == 6


def test_revisions_choose_the_history(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    out = gittree("render", "-f", "dot", "exp/drop").out
    assert shas["dead"] in out and shas["merge"] not in out
    assert shas["dead"] not in gittree("render", "-f", "dot", "HEAD").out
    assert shas["dead"] in gittree("render", "-f", "dot").out  # every local branch (docs/tree.md)


def test_outside_a_repository(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert gittree("render", "-f", "dot").code == 3


# -- --since ----------------------------------------------------------------------------------------


def test_since_reads_iso_dates_and_times() -> None:
    assert parse_since("2026-03-01T12:00+00:00", now=NOW) == int(
        datetime(2026, 3, 1, 12, tzinfo=timezone.utc).timestamp()
    )
    assert parse_since("2026-03-01T12:00Z", now=NOW) == parse_since("2026-03-01T12:00+00:00", now=NOW)
    local_midnight = datetime(2026, 3, 1).astimezone()
    assert parse_since("2026-03-01", now=NOW) == int(local_midnight.timestamp())


def test_since_reads_relative_dates() -> None:
    assert parse_since("3 days ago", now=NOW) == NOW - 3 * 86400
    assert parse_since("@1767225600", now=NOW) == 1767225600
    assert parse_since("2.weeks.ago", now=NOW) == NOW - 14 * 86400
    assert parse_since("1 hour ago", now=NOW) == NOW - 3600
    today = datetime.fromtimestamp(NOW).astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    assert parse_since("today", now=NOW) == int(today.timestamp())
    assert parse_since("yesterday", now=NOW) == int(today.timestamp()) - 86400


@pytest.mark.parametrize("text", ["garbage", "", "3 fortnights ago", "2026-13-01", "last tuesday"])
def test_since_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(BadValueError, match="cannot read the date"):
        parse_since(text, now=NOW)


def test_since_error_on_the_command_line(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("render", "--since", "garbage")
    assert result.code == 6 and "2.weeks.ago" in result.err


# -- the README's promise ---------------------------------------------------------------------------


def _path_without_graphviz(tmp_path: Path, *extra: Path) -> str:
    return os.pathsep.join(str(p) for p in (*extra, bin_without_graphviz(tmp_path)))


def _svg_and_html_on_the_demo(gittree_exe: Path, tmp_path: Path, env: dict[str, str]) -> None:
    demo = tmp_path / "demo"

    def run(*args: str) -> None:
        done = subprocess.run([str(gittree_exe), *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    run("demo", str(demo))
    for name in ("tree.svg", "tree.html"):
        run("-C", str(demo), "render", "--all", "-o", str(demo / name))
    assert "Generated by graphviz" in (demo / "tree.svg").read_text()
    page = (demo / "tree.html").read_text()
    assert "Content-Security-Policy" in page and "sharpness-aware minimisation" in page


def test_console_script_renders_the_demo_without_graphviz(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "gittree"
    env = {**os.environ, "PATH": _path_without_graphviz(tmp_path)}
    _svg_and_html_on_the_demo(exe, tmp_path, env)


@pytest.mark.slow
def test_fresh_install_renders_the_demo_without_graphviz(tmp_path: Path) -> None:
    """`pip install .` into a new virtual environment, then `render -o tree.svg` and `-o tree.html`, no Graphviz."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], capture_output=True, text=True, timeout=900
    )
    assert pip.returncode == 0, pip.stderr
    env = {
        "PATH": _path_without_graphviz(tmp_path, venv / "bin"),
        "HOME": os.environ["HOME"],
        "GIT_CONFIG_GLOBAL": os.environ["GIT_CONFIG_GLOBAL"],
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    _svg_and_html_on_the_demo(venv / "bin" / "gittree", tmp_path, env)


def _drawn_shas(dot: str, shas: list[str]) -> list[str]:
    return [sha for sha in shas if f'"{sha}"' in dot]


def test_author_and_limit_choose_what_is_drawn_as_they_choose_what_show_shows(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """``render`` takes ``--author`` and ``--limit`` as ``show`` does (they were show's alone): the
    drawing holds the experiments ``show --json`` holds with the same options."""
    import json

    small_history(repo)
    message = "bea's idea\n\nGittree-Metric: acc=0.61\n"
    repo.git("commit", "-q", "--allow-empty", "--author", "Bea <bea@example.org>", "-m", message)
    every = [node["sha"] for node in json.loads(gittree("show", "--json").out)["nodes"]]
    for options in (["--author", "bea@"], ["--limit", "2"], ["--author", "BEA", "--limit", "1"]):
        shown = [node["sha"] for node in json.loads(gittree("show", "--json", *options).out)["nodes"]]
        drawn = gittree("render", "--format", "dot", *options)
        assert drawn.code == 0, drawn.err
        assert _drawn_shas(drawn.out, every) == [sha for sha in every if sha in shown] and shown, options
    assert len(_drawn_shas(gittree("render", "--format", "dot", "--limit", "2").out, every)) == 2
    refused = gittree("render", "--format", "dot", "--author", "nobody")
    assert refused.code != 0 and "no experiment" in refused.err
