"""`gittree show` on real repositories, checked against tests/expected/ (COLUMNS=100, TERM pinned)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.conftest import GitRepo, check_expected


def small_history(repo: GitRepo) -> dict[str, str]:
    shas = {"base": repo.experiment("baseline", metrics=[("acc", 0.5)])}
    repo.commit("refactor loader")
    shas["lr"] = repo.experiment("lower lr", metrics=[("acc", 0.62)], params=[("lr", "1e-4")])
    repo.branch("exp/wide", shas["lr"])
    shas["wide"] = repo.experiment("wider layers", metrics=[("acc", 0.61)])
    repo.branch("exp/drop", shas["lr"])
    shas["drop"] = repo.experiment("dropout 0.1", metrics=[("acc", 0.66), ("acc", 0.64)])
    shas["dead"] = repo.experiment(
        "dropout 0.5", metrics=[("acc", 0.41)], status="abandoned", notes=["underfits badly"]
    )
    repo.branch("main", shas["lr"])
    shas["seed"] = repo.experiment("seed sweep", metrics=[("acc", 0.621), ("acc", 0.619)])
    shas["merge"] = repo.merge("exp/wide", "wide + lower lr", metrics=[("acc", 0.70)])
    return shas


def test_show_small_history_plain(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("show", "--all", "--color", "never")
    assert result.code == 0, result.err
    check_expected("show_small_plain.txt", result.out)


def test_show_small_history_colour(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    result = gittree("show", "--all", "--color", "always")
    assert "\x1b[32m" in result.out and "\x1b[31m" in result.out
    check_expected("show_small_colour.txt", result.out)


def test_show_auto_colour_is_off_on_a_pipe_and_with_no_color(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    coloured = gittree("show", "--all", "--color", "always")
    assert coloured.code == 0 and "\x1b[" in coloured.out  # the same tree can be coloured
    plain = gittree("show", "--all", "--color", "never").out
    piped = gittree("show", "--all")  # captured output is a pipe, not a terminal
    assert piped.code == 0, piped.err
    assert piped.out == plain and all(sha[:7] in piped.out for sha in shas.values())
    monkeypatch.setenv("NO_COLOR", "1")
    auto = gittree("show", "--all", "--color", "auto")
    assert auto.code == 0, auto.err
    assert auto.out == plain


def test_show_narrow_terminal_truncates_subjects(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment(
        "a very long subject line that cannot possibly fit in a narrow terminal window",
        metrics=[("acc", 0.5)],
    )
    monkeypatch.setenv("COLUMNS", "60")
    out = gittree("show", "--color", "never").out
    assert "…" in out
    check_expected("show_narrow.txt", out)


def test_every_line_of_show_keeps_to_the_terminal_width(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A crossover row with long marks (``← HEAD ⚠ verify ⊕ also …``), seeds and an author column was 99
    cells at COLUMNS=80, and the legend's notes 90: the subject stopped at 12 cells and nothing else
    was cut. Now the row is cut at its end, the legend wrapped, at any width and in colour too."""
    from gittree.render.escape import display_width
    from gittree.render.words import FAR_NOTE, SURPRISE_NOTE

    def strip_colour(text: str) -> str:
        return re.sub("\x1b\\[[0-9;]*m", "", text)

    repo.experiment("baseline model", metrics=[("acc", 0.5), ("acc", 0.51)])
    repo.branch("early", "HEAD")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Bob")
    repo.experiment("early idea on the side", metrics=[("acc", 0.55), ("acc", 0.56)])
    monkeypatch.delenv("GIT_AUTHOR_NAME")
    repo.branch("main", "HEAD~1")
    for step in range(1, 46):
        repo.experiment(f"main step {step}", metrics=[("acc", 0.6 + step / 1000)] * 2)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Bob")
    merge = repo.merge("early", "crossover with the early idea", metrics=[("acc", 0.7), ("acc", 0.71)])
    for width in (100, 80, 50, 30):
        monkeypatch.setenv("COLUMNS", str(width))
        for colour in ("never", "always"):
            out = gittree("show", "--color", colour).out
            lines = strip_colour(out).splitlines()
            assert max(map(display_width, lines)) <= width, (width, colour)
            row = next(line for line in lines if merge[:7] in line)
            assert row.endswith("⊕ also " + repo.git("rev-parse", "early")[:7]) or row.endswith("…")
            legend = " ".join(line.strip() for line in lines[lines.index("") + 1 :])
            assert SURPRISE_NOTE in legend and FAR_NOTE in legend  # wrapped, not cut
            if colour == "always":
                assert out.count("\x1b[0m") == out.count("\x1b[") - out.count("\x1b[0m")  # none left open
    monkeypatch.setenv("COLUMNS", "80")
    row = next(line for line in gittree("show").out.splitlines() if merge[:7] in line)
    assert "crossover w…" in row and "  ← H" in row and row.endswith("…") and display_width(row) == 80
    # Narrower than the lanes and a sha: the lanes are never cut (they are the tree's shape).
    monkeypatch.setenv("COLUMNS", "8")
    rows = [line for line in gittree("show").out.splitlines() if "…" in line and line[0] in "●★│├"]
    assert rows and all(re.fullmatch("[●★│├─ ]{4}[0-9a-f]{7}…", row) for row in rows)


def test_show_default_is_every_local_branch_and_head_narrows(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """The scope rule (docs/tree.md): every local branch by default, not only HEAD's history (issue 18)."""
    shas = small_history(repo)
    out = gittree("show", "--color", "never").out
    assert shas["drop"][:7] in out and shas["merge"][:7] in out
    out = gittree("show", "HEAD", "--color", "never").out
    assert shas["drop"][:7] not in out and shas["merge"][:7] in out


def test_show_named_revision(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    out = gittree("show", "exp/drop", "--color", "never").out
    assert shas["dead"][:7] in out and shas["merge"][:7] not in out


def test_show_json_schema(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    data = json.loads(gittree("show", "--all", "--json").out)
    assert data["metric"] == "acc" and data["goal"] == "max"
    nodes = {n["sha"]: n for n in data["nodes"]}
    assert set(nodes) == {shas[k] for k in ("base", "lr", "wide", "drop", "dead", "seed", "merge")}
    drop = nodes[shas["drop"]]
    assert drop["metrics"]["acc"]["samples"] == [0.66, 0.64]
    assert drop["metrics"]["acc"]["n"] == 2
    assert drop["parents"] == [shas["lr"]]
    assert nodes[shas["dead"]]["verdict"] == "abandoned"
    assert nodes[shas["dead"]]["notes"] == ["underfits badly"]
    assert set(nodes[shas["merge"]]["parents"]) == {shas["seed"], shas["wide"]}
    assert nodes[shas["lr"]]["params"] == {"lr": "1e-4"}
    assert nodes[shas["lr"]]["folded"] == {shas["base"]: 1}
    for node in data["nodes"]:
        assert set(node) >= {
            "sha",
            "subject",
            "parents",
            "metrics",
            "params",
            "notes",
            "status",
            "delta",
            "verdict",
        }


def test_show_by_another_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.5), ("loss", 2.0)])
    repo.experiment("b", metrics=[("acc", 0.4), ("loss", 1.0)])
    data = json.loads(gittree("show", "--json", "--metric", "loss").out)
    assert data["metric"] == "loss" and data["goal"] == "min"
    assert data["nodes"][1]["verdict"] == "better"


def test_show_detached_head(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    first = repo.experiment("a", metrics=[("acc", 0.5)])
    repo.experiment("b", metrics=[("acc", 0.6)])
    repo.git("checkout", "-q", "--detach", first)
    out = gittree("show", "--color", "never").out
    assert "← HEAD" in out and "b\n" not in out


def test_show_shallow_clone_shows_a_cut(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for i in range(4):
        repo.experiment(f"step {i}", metrics=[("acc", 0.5 + i / 10)])
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    result = gittree("show", "--color", "never")
    assert result.code == 0, result.err
    assert "history cut" in result.out
    assert "step 3" in result.out and "step 1" not in result.out


def test_a_warm_cache_stops_at_the_shallow_boundary_as_git_does(
    repo: GitRepo, gittree, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Regression: the first read went through git (which stops at the boundary); every later one
    walked the commit cache, which followed a boundary commit's parents wherever they were still
    known: a full clone shortened by `git fetch --depth` showed its whole past again, a --depth clone
    the parents of commits fetched earlier. Each view must be the uncached one."""
    for i in range(6):
        repo.experiment(f"step {i}", metrics=[("acc", 0.5 + i / 10)])
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{repo.path}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    full = gittree("show", "--json")
    assert len(json.loads(full.out)["nodes"]) == 6  # the commit cache now holds every commit
    subprocess.run(["git", "fetch", "-q", "--depth", "2", "origin"], check=True)
    for args in (("show", "--json"), ("best",), ("path", "HEAD"), ("show", "--json", "--limit", "5")):
        cached = gittree(*args)
        monkeypatch.setenv("GITTREE_NO_CACHE", "1")
        uncached = gittree(*args)
        monkeypatch.delenv("GITTREE_NO_CACHE")
        assert cached.code == 0 and cached.out == uncached.out, args
    assert [node["subject"] for node in json.loads(gittree("show", "--json").out)["nodes"]] == [
        "step 4",
        "step 5",
    ]


def test_a_cut_walk_keeps_the_commit_cache_of_the_rest(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: `show --all --limit 3` dropped every cached commit it had not walked, as if no ref
    reached them: the next full view read them all again."""
    from gittree import gitio
    from gittree.read import cache

    for i in range(10):
        repo.experiment(f"step {i}", metrics=[("acc", 0.5 + i / 100)])
    assert gittree("show", "--all").code == 0
    common = gitio.common_dir(gitio.open_repo(repo.path))
    repo.experiment("new", metrics=[("acc", 0.9)])
    assert gittree("show", "--all", "--limit", "3").code == 0
    assert len(cache.CommitStore(common).entries) == 11
    repo.experiment("newer", metrics=[("acc", 0.91)])
    assert gittree("show", "--all", "--since", "@1767225600").code == 0  # a window by date
    assert len(cache.CommitStore(common).entries) == 12


def test_show_non_utf8_message_is_decoded_with_replacement(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # git commit-tree would re-encode Latin-1 bytes; a raw object keeps them as a careless tool writes them.
    repo.raw_commit(b"caf\xe9 au lait\n\nGittree-Metric: acc=0.5\n")
    out = gittree("show", "--color", "never").out
    assert "caf\ufffd au lait" in out


def test_show_latin1_message_with_encoding_header(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    tree = repo.git("write-tree").strip()
    raw = b"caf\xe9 au lait\n\nGittree-Metric: acc=0.5\n"
    sha = (
        subprocess.run(
            ["git", "commit-tree", tree], input=raw, cwd=repo.path, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    repo.git("update-ref", "HEAD", sha)
    assert "café au lait" in gittree("show", "--color", "never").out


def test_terminal_escapes_in_subjects_are_made_harmless(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "250")
    repo.experiment(
        "evil \x1b]8;;http://x\x07link\x1b]8;;\x07 \x1b[31mred \u202egnp.exe \x9b", metrics=[("acc", 1)]
    )
    out = gittree("show", "--color", "never").out
    assert "\x1b" not in out and "\u202e" not in out and "\x9b" not in out and "\x07" not in out
    assert "\\x1b]8;;http://x\\x07link" in out and "\\u202e" in out


def test_wide_characters_are_measured_in_cells(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each CJK character takes two terminal cells: a wide subject is cut to the same number of cells
    as a long ASCII one, so the columns after it line up, and no row passes the terminal's 60 cells
    (counted here by the Unicode standard's East Asian Width, not by the code under test)."""
    ascii_sha = repo.experiment("an ascii subject much longer than the room it has", metrics=[("acc", 0.5)])
    wide_sha = repo.experiment(
        "中文字符的实验名称非常长非常长非常长非常长非常长非常长", metrics=[("acc", 0.6)]
    )
    monkeypatch.setenv("COLUMNS", "60")
    result = gittree("show", "--color", "never")
    assert result.code == 0, result.err
    tree_lines = result.out.split("\n\n")[0].splitlines()  # the header and the rows, not the legend
    ascii_row = next(line for line in tree_lines if ascii_sha[:7] in line)
    wide_row = next(line for line in tree_lines if wide_sha[:7] in line)
    assert "中文字符" in wide_row and "…" in wide_row  # the subject is there, and cut
    assert cells(wide_row) > len(wide_row)  # wide characters in it, so cells and characters differ
    # The value column starts at the same cell in both rows.
    ascii_at = cells(ascii_row[: ascii_row.index("0.5000")])
    wide_at = cells(wide_row[: wide_row.index("0.6000")])
    assert ascii_at == wide_at
    assert max(cells(line) for line in tree_lines) <= 60


def cells(text: str) -> int:
    """Terminal cells of ``text``: two for East Asian Wide and Fullwidth characters, one for the others."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def test_help_output(gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("--help")
    assert result.code == 0
    check_expected("help.txt", result.out)


def test_version(gittree) -> None:  # type: ignore[no-untyped-def]
    from gittree import __version__

    assert gittree("--version").out == f"gittree {__version__}\n"


def test_python_dash_m_works(repo: GitRepo) -> None:
    repo.experiment("a", metrics=[("acc", 0.5)])
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "gittree", "show", "--color", "never"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and " a " in done.stdout


def test_notes_add_samples_and_every_appended_paragraph_counts(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.experiment("a", metrics=[("acc", 0.5)])
    repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: acc=0.6", sha)
    repo.git(
        "notes", "--ref", "gittree", "append", "-m", "Gittree-Metric: acc=0.7\nGittree-Note: late seed", sha
    )
    node = json.loads(gittree("show", "--json").out)["nodes"][0]
    assert node["metrics"]["acc"]["samples"] == [0.5, 0.6, 0.7]
    assert node["notes"] == ["late seed"]


def test_a_note_alone_makes_an_ordinary_commit_an_experiment(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.commit("plain work")
    from gittree import gitio

    gitio.append_note(gitio.open_repo(repo.path), sha, ["Gittree-Metric: acc=0.9"])
    node = json.loads(gittree("show", "--json").out)["nodes"][0]
    assert node["sha"] == sha and node["metrics"]["acc"]["samples"] == [0.9]


def test_forest_and_octopus_merge(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("root one", metrics=[("loss", 2.0)])
    tips = []
    for name, loss in (("a", 1.5), ("b", 1.8), ("c", 2.2)):
        repo.branch(f"exp/{name}", base)
        tips.append(repo.experiment(f"idea {name}", metrics=[("loss", loss)]))
    repo.branch("main", tips[0])
    repo.git("merge", "-q", "--no-ff", "--no-commit", "-s", "ours", tips[1], tips[2])
    repo.write("merge.txt", "octopus\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "all three ideas\n\nGittree-Metric: loss=1.2")
    repo.git("checkout", "-q", "--orphan", "other")
    repo.experiment("root two", metrics=[("loss", 3.0)])
    repo.experiment("root two, step", metrics=[("loss", 2.9)])
    result = gittree("show", "--all", "--color", "never")
    assert result.code == 0, result.err
    check_expected("show_forest_octopus.txt", result.out)
    data = json.loads(gittree("show", "--all", "--json").out)
    octopus = next(n for n in data["nodes"] if n["subject"] == "all three ideas")
    assert len(octopus["parents"]) == 3 and data["goal"] == "min"
    assert sum(1 for n in data["nodes"] if not n["parents"]) == 2


def test_the_help_says_what_the_options_do(gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: `--since` claimed git log's date parser (gittree's own is strict), the scope left out
    the kept experiments it reads, and `render --depth` said it counts from the tips (it counts from the tops)."""
    show = gittree("show", "--help")
    assert show.code == 0 and "as git log" not in show.out
    assert "@EPOCH" in show.out and "kept experiments" in show.out
    render = gittree("render", "--help")
    assert (
        "kept experiments" in render.out and "counted from" in render.out and "most recent" not in render.out
    )
