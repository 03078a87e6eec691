"""Issue 6: the cache is never wrong, --limit/--since cut the walk, start-up skips typer, the quick parser agrees.

Cache tests compare what gittree prints with the cache against what it prints with the cache off
(``GITTREE_NO_CACHE=1``), after each way a history can change under it.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from gittree.read import cache
from gittree.trailers import parse_experiment, parse_experiment_quick
from tests.conftest import GitRepo
from tests.test_cli_show import small_history

GITTREE = str(Path(sys.executable).parent / "gittree")


def cache_folder(repo: GitRepo) -> Path:
    return repo.path / ".git" / "gittree" / "cache"


def check_cached_equals_uncached(gittree, monkeypatch, *args: str) -> str:  # type: ignore[no-untyped-def]
    """Run twice with the cache (filling it, then reading it) and once without: all three must agree."""
    first = gittree(*args)
    second = gittree(*args)
    monkeypatch.setenv("GITTREE_NO_CACHE", "1")
    plain = gittree(*args)
    monkeypatch.delenv("GITTREE_NO_CACHE")
    assert first.code == second.code == plain.code == 0, plain.err
    assert first.out == plain.out and second.out == plain.out
    return plain.out


def test_a_cached_view_is_served_and_matches(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    for args in (("show", "--all", "--color", "never"), ("show", "--json"), ("show", "--all", "-m", "acc")):
        check_cached_equals_uncached(gittree, monkeypatch, *args)
    assert (cache_folder(repo) / f"commits.v{cache.FORMAT}").exists()
    assert len(list((cache_folder(repo) / "views").iterdir())) == 3


#: Every command whose output is a cached view, in the forms that name different views.
CACHED_COMMANDS = (
    ("table", "--all"),
    ("table", "--all", "--format", "csv", "-m", "acc", "--sort", "acc"),
    ("table", "--all", "--json"),
    ("export", "--format", "json"),
    ("export", "--format", "markdown"),
    ("render", "--all", "--format", "dot"),
    ("render", "--all", "--format", "dot", "--fold", "0", "--depth", "2"),
    ("render", "--all", "--format", "html"),
)


def test_table_export_and_render_are_cached_views(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    outputs = {args: check_cached_equals_uncached(gittree, monkeypatch, *args) for args in CACHED_COMMANDS}
    assert len(set(outputs.values())) == len(CACHED_COMMANDS)  # each form is its own view
    views = cache_folder(repo) / "views"
    assert len(list(views.iterdir())) == len(CACHED_COMMANDS)
    for path in views.iterdir():  # served from the cache: a changed file is what comes out
        data = path.read_bytes()
        if b"dropout 0.1" in data:
            path.write_bytes(data.replace(b"dropout 0.1", b"dropout 0.X"))
    # ... but only when its checksum still holds: a damaged view is never served
    for args, expected in outputs.items():
        assert gittree(*args).out == expected


def test_cached_table_export_and_render_see_a_new_note(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    before = {args: check_cached_equals_uncached(gittree, monkeypatch, *args) for args in CACHED_COMMANDS}
    repo.git("notes", "--ref", "gittree", "append", "-m", "Gittree-Metric: acc=0.3", shas["base"])
    for args in CACHED_COMMANDS:
        after = check_cached_equals_uncached(gittree, monkeypatch, *args)
        assert after != before[args], args


def test_diff_is_a_cached_view_and_asks_git_for_the_code_each_time(
    repo: GitRepo, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The comparison is cached (it depends on the tree); the code change is git's answer every time,
    which also depends on the environment (COLUMNS sets the width of ``--stat``) and git's config."""
    shas = small_history(repo)
    deep = "a/very/long/folder/name/that/goes/on/and/on/for/a/while/with_a_long_file_name.py"
    repo.write(deep, "x = 1\n")
    repo.git("add", deep)
    moved = repo.experiment("deep module", metrics=[("acc", 0.67)])
    forms = [
        ("diff", shas["drop"], moved),
        ("diff", "--patch", "--json", shas["drop"], moved),
        ("diff", "-m", "acc", "exp/drop", "main"),
    ]
    monkeypatch.setenv("COLUMNS", "60")
    narrow = {args: check_cached_equals_uncached(gittree, monkeypatch, *args) for args in forms}
    assert len(list((cache_folder(repo) / "views").iterdir())) == len(forms)
    assert f".../{deep[-30:]}" not in narrow[forms[0]] and deep not in narrow[forms[0]]
    monkeypatch.setenv("COLUMNS", "200")
    wide = {args: check_cached_equals_uncached(gittree, monkeypatch, *args) for args in forms}
    assert deep in wide[forms[0]] and deep in json.loads(wide[forms[1]])["code"]["text"]
    assert len(list((cache_folder(repo) / "views").iterdir())) == len(forms)  # the same views, served
    # A branch that moves is a new view (the commits it names now are in the key) ...
    repo.branch("main", "main")
    repo.experiment("one more", metrics=[("acc", 0.3)])
    after = check_cached_equals_uncached(gittree, monkeypatch, *forms[2])
    assert after != wide[forms[2]] and "one more" in after
    # ... and so is a new note on either commit.
    repo.git("notes", "--ref", "gittree", "append", "-m", "Gittree-Note: checked twice", shas["drop"])
    noted = check_cached_equals_uncached(gittree, monkeypatch, *forms[0])
    assert "checked twice" in noted and "checked twice" not in wide[forms[0]]


def test_a_failed_view_is_not_cached(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    for _ in range(2):
        result = gittree("table", "--all", "-m", "nope")
        assert result.code != 0 and "no experiment records the metric 'nope'" in result.err
    assert not (cache_folder(repo) / "views").exists() or not list((cache_folder(repo) / "views").iterdir())


def test_a_cached_view_is_copied_whole_to_a_file_and_a_pipe(repo: GitRepo, tmp_path: Path) -> None:
    """A cached view goes out through sendfile where stdout is a file or a pipe: every byte, once."""
    small_history(repo)
    command = [GITTREE, "show", "--all", "--json"]
    fresh = subprocess.run(command, cwd=repo.path, capture_output=True, check=True).stdout
    target = tmp_path / "out.json"
    with open(target, "wb") as handle:
        subprocess.run(command, cwd=repo.path, stdout=handle, check=True)
    piped = subprocess.run(command, cwd=repo.path, capture_output=True, check=True).stdout
    with open(target, "ab") as handle:  # O_APPEND: sendfile refuses it, the plain copy takes over
        subprocess.run(command, cwd=repo.path, stdout=handle, check=True)
    assert piped == fresh and target.read_bytes() == fresh + fresh
    assert json.loads(fresh)["nodes"]


def test_amend_is_seen(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.experiment("try", metrics=[("acc", 0.6)])
    check_cached_equals_uncached(gittree, monkeypatch, "show", "--json")
    repo.git("commit", "-q", "--amend", "-m", "try again\n\nGittree-Metric: acc=0.7\n")
    out = check_cached_equals_uncached(gittree, monkeypatch, "show", "--json")
    subjects = [node["subject"] for node in json.loads(out)["nodes"]]
    assert subjects == ["baseline", "try again"]


def test_rebase_is_seen(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.branch("side", base)
    repo.experiment("side idea", metrics=[("acc", 0.55)])
    repo.branch("main", base)
    repo.experiment("main idea", metrics=[("acc", 0.6)])
    before = check_cached_equals_uncached(gittree, monkeypatch, "show", "--all", "--json")
    repo.git("checkout", "-q", "side")
    repo.git("rebase", "-q", "-X", "theirs", "main")
    after = check_cached_equals_uncached(gittree, monkeypatch, "show", "--all", "--json")
    assert before != after
    side = next(n for n in json.loads(after)["nodes"] if n["subject"] == "side idea")
    assert len(side["parents"]) == 1 and side["parents"][0] != base


def test_new_notes_are_seen(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sha = repo.experiment("baseline", metrics=[("acc", 0.5)])
    check_cached_equals_uncached(gittree, monkeypatch, "show", "--json")
    repo.git("notes", "--ref", "gittree", "append", "-m", "Gittree-Metric: test_acc=0.4", sha)
    out = check_cached_equals_uncached(gittree, monkeypatch, "show", "--json")
    assert "test_acc" in json.loads(out)["nodes"][0]["metrics"]
    repo.git("notes", "--ref", "gittree", "append", "-m", "Gittree-Status: abandoned", sha)
    out = check_cached_equals_uncached(gittree, monkeypatch, "show", "--json")
    assert json.loads(out)["nodes"][0]["status"] == "abandoned"


def test_deleted_branches_are_seen(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shas = small_history(repo)
    check_cached_equals_uncached(gittree, monkeypatch, "show", "--all", "--json")
    repo.git("branch", "-D", "exp/drop")
    out = check_cached_equals_uncached(gittree, monkeypatch, "show", "--all", "--json")
    assert shas["drop"] not in out and shas["dead"] not in out


def test_git_gc_and_packed_refs(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    check_cached_equals_uncached(gittree, monkeypatch, "show", "--all", "--color", "never")
    repo.git("commit", "-q", "--amend", "-m", "seed sweep, again\n\nGittree-Metric: acc=0.8\n")
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    out = check_cached_equals_uncached(gittree, monkeypatch, "show", "--all", "--color", "never")
    assert "seed sweep, again" in out


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_damaged_cache_file_is_rebuilt_silently(repo: GitRepo, gittree, monkeypatch, damage: str) -> None:  # type: ignore[no-untyped-def]
    sha = small_history(repo)["base"]
    repo.git("notes", "--ref", "gittree", "append", "-m", "Gittree-Metric: test_acc=0.4", sha)
    args = ("show", "--all", "--json")
    expected = check_cached_equals_uncached(gittree, monkeypatch, *args)
    files = [p for p in cache_folder(repo).rglob("*") if p.is_file()]
    # commits, notes, the seed of the next view and where .gittree.yaml was looked for (issue 19), one view
    # and its index with the hint of which view it is at (patching, issue 19)
    assert len(files) == 7
    for path in files:
        data = path.read_bytes()
        if damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "flip":
            middle = len(data) // 2
            path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :])
        elif damage == "garbage":
            path.write_bytes(b"not a cache file at all\n" * 10)
        else:
            path.write_bytes(b"")
    result = gittree(*args)
    assert result.code == 0 and result.err == ""
    assert result.out == expected
    # rewritten: the next run reads every file again, and still agrees
    assert gittree(*args).out == expected
    assert cache._read_checked(cache_folder(repo) / f"commits.v{cache.FORMAT}") is not None
    assert cache._read_checked(cache_folder(repo) / f"config-lookup.v{cache.FORMAT}") is not None


def test_each_cached_commit_is_checked_when_its_file_is_damaged_mid_way(repo: GitRepo) -> None:
    small_history(repo)
    store = cache.CommitStore(repo.path / ".git")
    store.put("a" * 40, ((), "n", "e", 1, 0, 1, "m", None))
    store.save()
    path = cache_folder(repo) / f"commits.v{cache.FORMAT}"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    assert cache.CommitStore(repo.path / ".git").entries == {}


def test_the_commit_cache_is_read_back_whole_from_its_pieces(repo: GitRepo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The cache is written in pieces (for peak memory); every piece must come back, in full.
    monkeypatch.setattr(cache, "PIECE", 2)
    store = cache.CommitStore(repo.path / ".git")
    entries = {f"{i:040x}": ((f"{i + 1:040x}",), "n", "e", i, 0, i, f"m{i}", None) for i in range(5)}
    for sha, entry in entries.items():
        store.put(sha, entry)
    store.save()
    assert cache.CommitStore(repo.path / ".git").entries == entries
    path = cache_folder(repo) / f"commits.v{cache.FORMAT}"
    path.write_bytes(path.read_bytes()[:-7])  # a piece cut short: the whole file is ignored
    assert cache.CommitStore(repo.path / ".git").entries == {}


def test_two_processes_writing_at_once(repo: GitRepo) -> None:
    small_history(repo)
    for index in range(20):
        repo.experiment(f"more {index}", metrics=[("acc", 0.5 + index / 100)])
    expected = subprocess.run(
        [GITTREE, "show", "--all", "--json"],
        cwd=repo.path,
        capture_output=True,
        env={**os.environ, "GITTREE_NO_CACHE": "1"},
        check=True,
    ).stdout
    for _ in range(3):
        subprocess.run(["rm", "-rf", str(cache_folder(repo))], check=True)
        runs = [
            subprocess.Popen([GITTREE, "show", "--all", "--json"], cwd=repo.path, stdout=subprocess.PIPE)
            for _ in range(4)
        ]
        outputs = [run.communicate()[0] for run in runs]
        assert all(run.returncode == 0 for run in runs)
        assert all(out == expected for out in outputs)
        leftovers = [p for p in cache_folder(repo).rglob("*.tmp")]
        assert leftovers == []
        again = subprocess.run([GITTREE, "show", "--all", "--json"], cwd=repo.path, capture_output=True)
        assert again.stdout == expected


def test_pruning_views_skips_files_another_process_moves_away(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Bug fix: a view or temporary file renamed or removed by another gittree between the folder's
    listing and its stat made pruning raise FileNotFoundError (seen with four concurrent writers)."""
    for index in range(5):
        (tmp_path / f"view{index}").write_bytes(b"x")
        os.utime(tmp_path / f"view{index}", (1_000 + index, 1_000 + index))
    (tmp_path / "view9.abc.tmp").write_bytes(b"in progress")
    real_scandir = os.scandir

    def listing_then_vanish(path):  # type: ignore[no-untyped-def]
        entries = list(real_scandir(path))
        os.unlink(tmp_path / "view3")  # another process prunes it right after our listing
        return iter(entries)

    monkeypatch.setattr(cache.os, "scandir", listing_then_vanish)
    cache._prune(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view2", "view4", "view9.abc.tmp"]


def test_no_cache_is_written_when_turned_off(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    small_history(repo)
    monkeypatch.setenv("GITTREE_NO_CACHE", "1")
    assert gittree("show").code == 0
    assert not cache_folder(repo).exists()


# -- --limit and --since ----------------------------------------------------------------------------


def chain(repo: GitRepo, count: int) -> list[str]:
    return [repo.experiment(f"step {i}", metrics=[("acc", 0.5 + i / 100)]) for i in range(count)]


def test_limit_shows_the_newest_experiments_and_reads_no_further(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = chain(repo, 6)
    data = json.loads(gittree("show", "--json", "--limit", "2").out)
    assert [n["sha"] for n in data["nodes"]] == shas[-2:]
    assert data["nodes"][0]["parents"] == []  # its parent is outside the window: a root, not a cut
    assert data["nodes"][0]["cut"] is False
    # the walk stopped: only the newest commits (and the next one queued) were read
    read = cache.CommitStore(repo.path / ".git").entries
    assert set(read) <= set(shas[-3:])


def test_limit_text_output(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    chain(repo, 4)
    out = gittree("show", "--limit", "1", "--color", "never").out
    assert out.startswith("research tree · 1 experiment ·") and "step 3" in out and "step 2" not in out


def test_since_stops_the_walk_at_older_commits(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = chain(repo, 5)
    since = "@" + repo.git("log", "-1", "--format=%ct", shas[2]).strip()
    data = json.loads(gittree("show", "--json", "--since", since).out)
    assert [n["sha"] for n in data["nodes"]] == shas[2:]
    assert set(cache.CommitStore(repo.path / ".git").entries) <= set(shas[1:])


@pytest.mark.parametrize(
    "argv",
    [["show", "--limit", "²"], ["render", "--depth", "²"], ["render", "--fold", "³"], ["best", "-k", "²"]],
)
def test_a_superscript_digit_is_a_usage_error_not_a_traceback(
    repo: GitRepo, gittree, argv: list[str]
) -> None:  # type: ignore[no-untyped-def]
    """``"²".isdigit()`` is true but ``int("²")`` fails: the fast path took it and crashed with a traceback."""
    chain(repo, 1)
    result = gittree(*argv)
    assert result.code == 2 and "Traceback" not in result.err and result.out == ""


def test_limit_must_be_positive(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    chain(repo, 1)
    assert gittree("show", "--limit", "0").code == 2


# -- start-up ---------------------------------------------------------------------------------------


FAST_FORMS = [
    ["--version"],
    ["show", "--all", "--color", "never"],
    ["show", "--json", "--all"],
    ["show", "-m", "acc", "--all", "--colour=never"],
    ["show", "--metric=acc", "--color", "always"],
    ["show", "exp/drop", "--color", "never"],
    ["show", "--limit", "3", "--json"],
    ["show", "--since", "@0", "--all", "--json"],
    ["show", "--", "exp/wide"],
    ["table", "--all"],
    ["table", "-m", "acc", "--metric=acc", "--sort", "acc", "-f", "csv", "--all"],
    ["table", "--json", "exp/drop"],
    ["table", "--all", "-m", "nope"],
    ["table", "--all", "--sort", "nope"],
    ["export"],
    ["export", "--format", "markdown", "-m", "acc"],
    ["export", "--json", "exp/wide"],
    ["export", "--format", "markdown", "--budget", "600"],
    ["export", "-f", "markdown", "--budget=80"],
    ["export", "--budget", "600"],
    ["render", "--all", "--format", "dot"],
    ["render", "--all", "-f", "html", "--depth", "2", "--fold=0", "--only-best-path"],
    ["render", "--since", "@0", "--format", "dot", "--", "exp/drop"],
    ["render", "--since", "next tuesday", "--format", "dot"],
]


@pytest.mark.parametrize("argv", FAST_FORMS, ids=" ".join)
def test_the_fast_path_prints_what_typer_prints(repo: GitRepo, gittree, monkeypatch, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    from gittree.cli import fastpath

    small_history(repo)
    fast = gittree(*argv)
    monkeypatch.setattr(fastpath, "try_fast", lambda argv: False)
    slow = gittree(*argv)
    assert (fast.code, fast.out, fast.err) == (slow.code, slow.out, slow.err)
    with_repo = gittree("-C", str(repo.path), *argv)
    assert with_repo.out == fast.out


#: The question commands' usual forms, and the ones that fail, on small_history's branches.
QUESTION_FORMS = [
    ["best"],
    ["best", "--all", "--top", "3"],
    ["best", "-k", "2", "--json", "-m", "acc", "exp/drop"],
    ["best", "--metric=nope"],
    ["best", "--top", "0", "--all"],
    ["path"],
    ["path", "exp/wide", "--all"],
    ["path", "--json", "-m", "acc", "--", "exp/drop"],
    ["path", "nope"],
    ["diff", "exp/wide", "exp/drop"],
    ["diff", "-p", "--json", "exp/wide", "exp/drop"],
    ["diff", "--patch", "--metric", "acc", "main", "exp/wide"],
    ["diff", "exp/wide", "nope"],
]


@pytest.mark.parametrize("argv", QUESTION_FORMS, ids=" ".join)
def test_the_fast_path_answers_questions_as_typer_does(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, monkeypatch, argv: list[str]
) -> None:
    from gittree.cli import fastpath

    small_history(repo)
    assert fastpath.parse_form(argv[0], argv[1:]) is not None  # these forms are the fast path's
    fast = gittree(*argv)
    monkeypatch.setattr(fastpath, "try_fast", lambda argv: False)
    slow = gittree(*argv)
    assert (fast.code, fast.out, fast.err) == (slow.code, slow.out, slow.err)
    assert gittree("-C", str(repo.path), *argv).out == fast.out


def test_the_fast_path_lists_runs_as_typer_does(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gittree.cli import fastpath
    from tests.runtools import py

    small_history(repo)
    empty = [gittree("runs"), gittree("runs", "--json")]
    with monkeypatch.context() as typer_only:
        typer_only.setattr(fastpath, "try_fast", lambda argv: False)
        assert [(r.code, r.out) for r in empty] == [
            (0, gittree("runs").out),
            (0, gittree("runs", "--json").out),
        ]
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.7')")).code == 0
    assert gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.6')")).code == 0
    listed = json.loads(gittree("runs", "--json").out)
    run_id = listed[0]["id"]
    forms = [
        ["runs"],
        ["runs", "--json"],
        ["runs", run_id],
        ["runs", "--json", run_id[:-1]],
        ["runs", "nope"],
    ]
    fast = [gittree(*argv) for argv in forms]
    monkeypatch.setattr(fastpath, "try_fast", lambda argv: False)
    slow = [gittree(*argv) for argv in forms]
    assert [(r.code, r.out, r.err) for r in fast] == [(r.code, r.out, r.err) for r in slow]
    assert fast[0].code == 0 and run_id in fast[0].out and fast[4].code != 0


def test_the_fast_path_runs_as_typer_does(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``gittree run`` without typer: the same output, exit code, commit and journal entry as through typer."""
    import re

    from gittree.cli import fastpath
    from tests.runtools import py

    small_history(repo)
    forms = [
        ["run", "--capture", "acc", "--", *py("print('acc: 0.7')")],
        ["run", "-m", "wider", "--param", "lr=0.1", "--note", "a note", "--new", *py("print('acc=0.5')")],
        ["run", "--capture=acc", "--no-commit", "-j", "1", "--", *py("import sys; sys.exit(3)")],
        ["run", "-b", "exp/fast", "--name=on a branch", *py("print('-m is the command s own')"), "-m"],
        ["run", "--seeds", "0,1", "--capture", "acc", "--", *py("print('acc: 0.{seed}')")],
    ]

    def same(text: str) -> str:  # what differs between two runs of one form: ids, shas, times
        text = re.sub(r"\d{8}-\d{6}-\d+-[0-9a-f]{6}", "ID", text)
        text = re.sub(r"\b[0-9a-f]{7,40}\b", "SHA", text)
        return re.sub(r"\d+\.\d+ s\b|duration=[\d.]+", "T", text)

    start = repo.git("rev-parse", "HEAD").strip()

    def outcome(argv: list[str]) -> tuple[int, str, str, str]:
        """The run's exit code, output, and the message of the commit it made; then back to the start."""
        done = gittree(*argv)
        message = repo.git("log", "-1", "--format=%B", "exp/fast" if "-b" in argv else "HEAD")
        repo.git("reset", "-q", "--hard", start)
        repo.git("branch", "-D", "exp/fast", check=False)
        return done.code, same(done.out), same(done.err), same(message)

    for argv in forms:
        assert fastpath.parse_form(argv[0], argv[1:]) is not None, argv  # these forms are the fast path's
        fast = outcome(argv)
        with monkeypatch.context() as typer_only:
            typer_only.setattr(fastpath, "try_fast", lambda argv: False)
            slow = outcome(argv)
        assert fast == slow, argv
    assert fast[0] == 0 and "acc=0.0" in fast[3] and "Gittree-Run: seed.1=" in fast[3]
    listed = json.loads(gittree("runs", "--json").out)
    assert len(listed) == 2 * (len(forms) + 1)  # the seeds' form: two runs each


def test_the_fast_path_sweeps_as_typer_does(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``gittree sweep`` without typer: the same lines, summary, exit code and commits as through typer."""
    import re

    from gittree.cli import fastpath
    from tests.runtools import py

    small_history(repo)
    argv = ["sweep", "--grid", "x=1,2", "--name=s", "-j", "1", "--capture", "acc"]
    argv += ["--", *py("import sys; print('acc:', sys.argv[1]); sys.exit(sys.argv[1] == '2')"), "{x}"]
    assert fastpath.parse_form(argv[0], argv[1:]) is not None

    def outcome() -> tuple[int, str, str, str]:
        done = gittree(*argv)
        messages = repo.git("log", "--format=%s%n%b", "sweep/s/x=1", "sweep/s/x=2", "--not", "main")
        for branch in ("sweep/s/x=1", "sweep/s/x=2"):
            repo.git("branch", "-D", branch)

        def same(text: str) -> str:
            text = re.sub(r"\d{8}-\d{6}-\d+-[0-9a-f]{6}", "ID", text)
            text = re.sub(r"\b[0-9a-f]{7,40}\b", "SHA", text)
            return re.sub(r"\d+\.\d+ s\b|duration=[\d.]+", "T", text)

        return done.code, same(done.out), same(done.err), same(messages)

    fast = outcome()
    monkeypatch.setattr(fastpath, "try_fast", lambda argv: False)
    assert outcome() == fast
    assert fast[0] == 1 and "x=1: ok" in fast[2] and "acc=1" in fast[3]  # the point x=2 failed


def test_best_from_the_cache_follows_a_new_experiment(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """``best`` is a cached view: a new best experiment, or a note that abandons the best, is seen at once."""
    shas = small_history(repo)
    assert gittree("best").out == gittree("best").out  # the second answer is the cached one
    assert shas["merge"][:7] in gittree("best").out
    newer = repo.experiment("longer schedule", metrics=[("acc", 0.9)])
    assert newer[:7] in gittree("best").out
    assert gittree("abandon", newer, "--reason", "leaked the test set").code == 0
    after = gittree("best", "--json")
    assert json.loads(after.out) == json.loads(gittree("best", "--json").out)
    assert newer not in after.out and shas["merge"] in after.out


def test_path_from_the_cache_follows_a_moved_branch(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """``path REV`` is a cached view named by the commit REV names now: a branch moved is a new answer."""
    shas = small_history(repo)
    first = gittree("path", "--json", "exp/drop")
    assert first.out == gittree("path", "--json", "exp/drop").out
    assert json.loads(first.out)["steps"][-1]["sha"] == shas["dead"]
    repo.git("branch", "-f", "exp/drop", shas["drop"])
    moved = json.loads(gittree("path", "--json", "exp/drop").out)
    assert moved["steps"][-1]["sha"] == shas["drop"]


def test_render_to_a_file_by_both_paths(repo: GitRepo, gittree, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gittree.cli import fastpath

    small_history(repo)
    fast = gittree("render", "--all", "-o", str(tmp_path / "fast.dot"))
    monkeypatch.setattr(fastpath, "try_fast", lambda argv: False)
    slow = gittree("render", "--all", "-o", str(tmp_path / "slow.dot"))
    assert fast.code == slow.code == 0 and fast.out.startswith("wrote ")
    assert (tmp_path / "fast.dot").read_bytes() == (tmp_path / "slow.dot").read_bytes()
    (tmp_path / "old.dot").write_text("keep me")
    failed = gittree(
        "render", "--all", "--depth", "1", "--only-best-path", "-m", "nope", "-o", str(tmp_path / "old.dot")
    )
    assert failed.code != 0 and (tmp_path / "old.dot").read_text() == "keep me"


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "--help"],
        ["show", "--bogus"],
        ["show", "--color", "purple"],
        ["show", "-m"],
        ["table", "--format", "yaml"],
        ["table", "-fcsv"],
        ["export", "-fjson"],
        ["render", "--depth", "0"],
        ["render", "--fold", "-1"],
        ["render", "-o", "-"],
        ["render", "--format", "jpeg"],
        ["render", "--depth", "²"],
        ["best", "--top", "x"],
        ["best", "--top", "-1"],
        ["best", "-k3"],
        ["path", "a", "b"],
        ["diff", "a"],
        ["diff", "a", "b", "c"],
        ["diff", "-pm", "acc", "a", "b"],
        ["runs", "--prune"],
        ["runs", "--older-than", "3"],
        ["runs", "a", "b"],
        ["commit", "-m", "x"],
    ],
)
def test_unusual_forms_go_to_typer(argv: list[str]) -> None:
    from gittree.cli.fastpath import form_of, parse_form, try_fast

    if form_of(argv[0]) is not None:
        assert parse_form(argv[0], argv[1:]) is None
    else:
        assert try_fast(argv) is False


#: What a cached answer must not import: the command line library, the git libraries, and the standard
#: modules that each cost a noticeable slice of start-up (docs/performance.md).
HEAVY_MODULES = (
    "typer",
    "click",
    "pygit2",
    "git",
    "yaml",
    "rich",
    "pydantic",
    "dataclasses",
    "typing",
    "json",
    "shutil",  # bz2 and lzma with it
)


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "--all"],
        ["table"],
        ["export"],
        ["render", "--format", "dot"],
        ["best"],
        ["best", "--json", "-k", "2"],
        ["path"],
        ["diff", "HEAD~1", "HEAD"],
        ["diff", "--patch", "exp/drop", "main"],
    ],
    ids=" ".join,
)
def test_a_cached_answer_imports_nothing_heavy(repo: GitRepo, argv: list[str]) -> None:
    small_history(repo)
    _loaded_by(repo, argv, HEAVY_MODULES)  # the view cached
    assert _loaded_by(repo, argv, HEAVY_MODULES) == "[]"


def _loaded_by(repo: GitRepo, argv: list[str], modules: tuple[str, ...]) -> str:
    """Run gittree with ``argv`` in a fresh interpreter: which of ``modules`` it imported (a list's repr)."""
    probe = (
        f"import sys\nfrom gittree.cli import main\nmain({argv!r})\n"
        f"sys.stderr.write(repr(sorted(m for m in {modules!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True, check=True
    )
    return done.stderr


#: What the first answer after a new experiment need not import: the command line library (each of
#: these is on the fast path), libgit2 (the new commit is read through git), importlib.metadata
#: (tabulate 0.10 imports it to look up its own version: pinned below that, docs/performance.md) and
#: wcwidth (tabulate imports it when installed, as it is here with IPython: tables are measured with
#: gittree's own cell widths instead, gittree.render.tabulated).
AFTER_A_CHANGE_UNUSED = ("typer", "click", "pydantic", "pygit2", "importlib.metadata", "wcwidth")


@pytest.mark.parametrize(
    "argv",
    [
        ["show"],
        ["show", "--json"],
        ["table"],
        ["export", "--format", "markdown", "--budget", "4000"],
        ["best"],
        ["path"],
        ["diff", "HEAD~1", "HEAD"],
    ],
    ids=" ".join,
)
def test_the_first_answer_after_a_new_experiment_imports_no_unused_library(
    repo: GitRepo, argv: list[str]
) -> None:
    small_history(repo)
    _loaded_by(repo, argv, AFTER_A_CHANGE_UNUSED)  # the view cached, and what grows it next time
    repo.experiment("one more try", metrics=[("acc", 0.99)])
    assert _loaded_by(repo, argv, AFTER_A_CHANGE_UNUSED) == "[]"


@pytest.mark.parametrize("keep", ["no keep ref yet", "a keep ref"])
def test_a_committed_run_imports_no_libgit2_and_no_read_path(repo: GitRepo, keep: str) -> None:
    """A run that commits asks git itself for HEAD's branch, re-reads its commit and writes the keep
    ref with git's plumbing: importing pygit2 was a third of a run's CPU time (issue 19). Nor does it
    import the read path, hook installation or sync, which it does not use, the curves' modules when
    it logged no curve, or shutil (which loads the compression modules)."""
    small_history(repo)
    if keep == "a keep ref":
        repo.write("model.py", "lr = 0.1\n")
        subprocess.run(
            [sys.executable, "-m", "gittree", "run", "--new", "--", "true"], cwd=repo.path, check=True
        )
    kept_before = repo.git("ls-tree", "-r", "--name-only", "refs/gittree/keep", check=False).split()
    repo.write("model.py", "lr = 0.2\n")
    # nor gittree.model (a run that reads no experiment reads the settings without it), nor datetime
    assert _run_in_probe(repo, ["run", "--new", "--", "true"], also=("gittree.model", "datetime")) == []
    sha = repo.head()
    kept = repo.git("ls-tree", "-r", "--name-only", "refs/gittree/keep").split()
    assert sorted(kept) == sorted([*kept_before, f"{sha[:2]}/{sha[2:]}"])
    assert repo.git("log", "-1", "--format=%P", "refs/gittree/keep").split() == [sha]


def test_a_run_adding_a_sample_imports_no_libgit2(repo: GitRepo) -> None:
    """A run of the same code, command and params reads the experiment at HEAD and appends to its note
    through git too (issue 19)."""
    small_history(repo)
    repo.write("model.py", "lr = 0.3\n")
    assert _run_in_probe(repo, ["run", "--", "true"]) == []
    sha = repo.head()
    assert _run_in_probe(repo, ["run", "--", "true"]) == []
    assert repo.head() == sha
    note = repo.git("notes", "--ref", "refs/notes/gittree", "show", sha)
    assert note.count("Gittree-Run:") == 1 and "\n\nGittree-Run:" not in note  # the sample, one paragraph


def _run_in_probe(repo: GitRepo, argv: list[str], also: tuple[str, ...] = ()) -> list[str]:
    """Run gittree with ``argv`` in a fresh interpreter; the modules a run need not load (and ``also``)
    that it loaded."""
    probe = (
        "import sys\nfrom gittree.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "unused = ('pygit2', 'gittree.read', 'gittree.hooks', 'gittree.sync', 'gittree.curves',\n"
        f"    'gittree.runs.curves', 'shutil', *{also!r})\n"
        "import json\nsys.stderr.write('\\n' + json.dumps(sorted(m for m in unused if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stderr.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("argv", [["--version"], ["-C", ".", "--version"]], ids=" ".join)
def test_version_imports_nothing_heavy(argv: list[str]) -> None:
    probe = (
        f"import sys\nfrom gittree.cli import main\nmain({argv!r})\n"
        f"heavy = sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    version = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert version.stderr == "[]"


# -- progress ---------------------------------------------------------------------------------------


def test_no_progress_on_a_pipe(repo: GitRepo, monkeypatch) -> None:
    from gittree import read

    chain(repo, 3)
    monkeypatch.setattr(read, "PROGRESS_EVERY", 1)
    done = subprocess.run([GITTREE, "show"], cwd=repo.path, capture_output=True, text=True, check=True)
    assert done.stderr == ""


def test_progress_on_a_terminal(repo: GitRepo, monkeypatch) -> None:
    from gittree import gitio, read
    from gittree.cli.output import Progress

    class Terminal:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(read, "PROGRESS_EVERY", 1)
    chain(repo, 3)
    progress = Progress()
    read.load_tree(gitio.open_repo(repo.path), progress=progress)
    progress.clear()
    assert "reading history… 3 commits" in terminal.text and terminal.text.endswith("\r\x1b[K")


# -- the quick trailer parser agrees with the full one ---------------------------------------------

PIECES = [
    "subject",
    "\n",
    "\n\n",
    "Gittree-Metric: acc=0.5",
    "gittree-metric : acc = 0.5",
    "Gittree-Metric: acc=1e999",
    "Gittree-Metric: acc=nan",
    "Gittree-Metric: acc=0,5",
    "Gittree-Metric: a b=1",
    "Gittree-Param: lr=3e-4",
    "Gittree-Param: opt=adam w",
    "Gittree-Param: x= y ",
    "Gittree-Param: x=\ty",
    "Gittree-Note: a note",
    "Gittree-Status: abandoned",
    "gittree-status:FAILED ",
    "Gittree-Status: ok\t",
    "Gittree-Status: faİled",
    "Gittree-Status: done",
    "Gittree-Status:",
    "Gittree-Run: exit=0",
    "Gittree-Bogus: x",
    "Signed-off-by: A <a@b>",
    "(cherry picked from commit abc)",
    "  continued",
    "# a comment",
    "Conflicts:\n\tfile",
    "\r\n",
    ":colon",
    "Key: value",
    "   ",
    "body text line",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12), st.sampled_from(["", "\n", "\n\n"]))
def test_quick_parser_agrees_with_git_rules(pieces: list[str], end: str) -> None:
    message = "\n".join(pieces) + end
    assert repr(parse_experiment_quick(message)) == repr(parse_experiment(message))


@pytest.mark.parametrize(
    "message",
    [
        "exp\n\nGittree-Metric: acc=0.5\nGittree-Metric: loss=1.5\nGittree-Param: lr=3e-4\n",
        "exp\n\nbody\n\nGittree-Metric: acc=0.5\nGittree-Metric: acc=0.6\n",
        "exp\n\nGittree-Param: a=1\nGittree-Param: a=2\nGittree-Param: b=3\n",
        "Gittree-Metric: acc=0.5\n",
        "exp\n\nSigned-off-by: x\nGittree-Metric: acc=.5\n\n\n",
        "exp\n\nGittree-Metric: acc=0.5\nGittree-Status: Abandoned\n",
        "exp\n\nGittree-Status: failed\nGittree-Status: ok\n",
        "exp\n\nGittree-Status: nope\nGittree-Metric: acc=0.5\n",
    ],
)
def test_quick_parser_on_common_messages(message: str) -> None:
    assert repr(parse_experiment_quick(message)) == repr(parse_experiment(message))


def test_cache_written_by_other_code_is_ignored(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Cached parses and views are the old code's output: a code change must not serve them."""
    from gittree.read import cache

    repo.experiment("a", metrics=[("acc", 0.5)])
    first = gittree("show", "--color", "never").out
    monkeypatch.setattr(cache, "_TAG", cache.format_tag() ^ 1)  # as if gittree's code had changed
    store = cache.CommitStore(repo.path / ".git")
    assert store.entries == {}
    assert gittree("show", "--color", "never").out == first


def test_the_code_fingerprint_covers_every_module_of_the_package(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An edit to the parser, the tree or a renderer changes the cache's tag, not only one to gittree/read/
    (the fingerprint once walked the cache module's own folder: a changed renderer served old views)."""
    import shutil

    copy = tmp_path / "gittree"
    shutil.copytree(cache.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE", str(copy))
    tags = []
    for module in ("read/cache.py", "trailers.py", "tree/__init__.py", "render/jsonview.py", "read/cache.py"):
        monkeypatch.setattr(cache, "_TAG", None)
        info = (copy / module).stat()
        os.utime(copy / module, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
        tags.append(cache.format_tag())
    assert len(set(tags)) == len(tags)
    monkeypatch.setattr(cache, "_TAG", None)
    assert cache.format_tag() == tags[-1]  # nothing changed since: the same tag


def test_a_cache_file_written_behind_is_the_pieces_joined_or_an_error(tmp_path: Path) -> None:
    """Big cache files are written by a second thread while their next pieces are made: the same bytes,
    length and CRC; a write that fails raises once, and no piece is made after it."""
    import zlib

    pieces = [bytes([n]) * (n * 1000 + 1) for n in range(1, 9)]
    with open(tmp_path / "out", "wb") as handle:
        assert cache._write_behind(handle, iter(pieces)) == (
            len(b"".join(pieces)),
            zlib.crc32(b"".join(pieces)),
        )
    assert (tmp_path / "out").read_bytes() == b"".join(pieces)

    made: list[int] = []

    def counted() -> Any:
        for n, piece in enumerate(pieces):
            made.append(n)
            yield piece

    (tmp_path / "read-only").write_bytes(b"")
    with open(tmp_path / "read-only", "rb") as handle, pytest.raises(OSError):
        cache._write_behind(handle, counted())  # type: ignore[arg-type]
    assert len(made) < len(pieces)

    # Any other error of the writer too (here a closed file): raised in this thread, never a wait on a
    # writer that stopped with more pieces than the queue holds still to come.
    made.clear()
    handle = open(tmp_path / "closed", "wb")  # noqa: SIM115
    handle.close()
    with pytest.raises(ValueError):
        cache._write_behind(handle, counted())  # type: ignore[arg-type]
    assert len(made) < len(pieces)


def test_show_since_refuses_a_date_it_cannot_read(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """git's parser reads a typo as "now" and would show nothing; show and render share one strict parser."""
    repo.experiment("a", metrics=[("acc", 0.5)])
    result = gittree("show", "--since", "last tuesdya")
    assert result.code == 6 and "cannot read the date" in result.err
    assert gittree("render", "--format", "dot", "--since", "last tuesdya").code == 6


# -- the commit header fast path --------------------------------------------------------------------

_SHAS = st.text("0123456789abcdef", min_size=40, max_size=40)
_IDENT_TEXT = st.text(st.sampled_from(list("Ada Lovelace<>@. \t-+0123456789é\x00")), max_size=24)
# mostly well formed, so that the fast path is taken often; the rest must fall through to the general one
_ZONES = st.sampled_from(["+0000", "-0130", "+0545"] * 4 + ["+000", "0100", "-99999", "", "+01a0"])
_TIMES = st.sampled_from(["1767225600", "0", "99999999999999999999"] * 4 + ["", "12x", "-5"])


@st.composite
def _ident(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 3)):  # well formed, the usual case
        name = draw(
            st.text(st.characters(blacklist_characters="<>\n\x00", blacklist_categories=("Cs",)), max_size=12)
        )
        email = draw(
            st.text(st.characters(blacklist_characters="<>\n\x00", blacklist_categories=("Cs",)), max_size=12)
        )
        return f"{name} <{email}> {draw(_TIMES)} {draw(_ZONES)}".encode()
    text = draw(_IDENT_TEXT)
    return f"{text} {draw(_TIMES)} {draw(_ZONES)}".encode()


@st.composite
def _commit_object(draw: st.DrawFn) -> bytes:
    lines = [b"tree " + draw(_SHAS).encode()]
    lines += [b"parent " + sha.encode() for sha in draw(st.lists(_SHAS, max_size=3))]
    extra = draw(st.sampled_from([[], [], [], [b"encoding ISO-8859-1"], [b"gpgsig -----BEGIN", b" more"]]))
    if draw(st.integers(0, 3)):
        lines += [b"author " + draw(_ident()), b"committer " + draw(_ident()), *extra]
    else:  # another order, or a missing line
        lines += draw(st.permutations([b"author " + draw(_ident()), *extra]))
    message = draw(st.binary(max_size=40)) if draw(st.booleans()) else "subject\n\nbody é\n".encode()
    return b"\n".join(lines) + b"\n\n" + message


@settings(max_examples=2000, deadline=None)
@given(_commit_object())
def test_header_fast_path_agrees_with_the_general_parser(data: bytes) -> None:
    from gittree.rawcommit import _USUAL_HEADER, parse_any_commit_object, parse_commit_object

    assert parse_commit_object(data) == parse_any_commit_object(data)
    usual = _USUAL_HEADER.match(data)
    event("fast path" if usual is not None and data.startswith(b"\n", usual.end()) else "general")


def test_header_fast_path_reads_merges_and_plain_commits() -> None:
    from gittree.rawcommit import _USUAL_HEADER, parse_commit_object

    a, b = "a" * 40, "b" * 40
    data = (
        f"tree {'c' * 40}\nparent {a}\nparent {b}\nauthor Ada <ada@example.com> 1767225600 -0130\n"
        "committer C <c@x> 1767225700 +0000\n\nmerge\n"
    ).encode()
    assert _USUAL_HEADER.match(data) is not None
    assert parse_commit_object(data) == (
        (a, b),
        "Ada",
        "ada@example.com",
        1767225600,
        -90,
        1767225700,
        "merge\n",
    )


def test_the_page_is_drawn_again_when_the_graphviz_that_lays_it_out_changes(
    repo: GitRepo, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Regression: the page holds an SVG laid out by Graphviz, but only svg/png/pdf were keyed by the
    Graphviz program: after installing another one, the cached page kept the old drawing."""
    from gittree import gitio
    from gittree.read import views
    from gittree.render import graphviz

    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.experiment("next", metrics=[("acc", 0.6)])
    opened = gitio.open_repo(repo.path)
    drawn: list[str] = []
    real = views.view

    def counting_view(*args, **kwargs):  # type: ignore[no-untyped-def]
        drawn.append(args[1])  # the view's name, which holds the engine
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "view", counting_view)
    first = b"".join(views.drawing_view(opened, fmt="html"))
    monkeypatch.setattr(graphviz, "engine_identity", lambda fmt: f"another Graphviz for {fmt}")
    second = b"".join(views.drawing_view(opened, fmt="html"))
    assert drawn[0] != drawn[1] and "another Graphviz for svg" in drawn[1]
    assert first.startswith(b"<!DOCTYPE html>") and second.startswith(b"<!DOCTYPE html>")


# -- the fast path and the typer app cannot drift apart --------------------------------------------

#: Options of a fast command that only the typer app reads (their forms go to typer, whole).
TYPER_ONLY = {
    "show": {"--author", "--branch"},
    "render": {"--author", "--limit"},
    "runs": {"--prune", "--older-than", "--drop"},
}


@functools.cache
def _typer_commands() -> dict[str, Any]:
    import typer

    from gittree.cli import app

    return dict(typer.main.get_command(app).commands)


def _typer_command(name: str) -> Any:
    return _typer_commands()[name]


def _fast_commands() -> list[str]:
    from gittree.cli.fastpath import form_of

    return [name for name in _typer_commands() if form_of(name) is not None]


def test_the_fast_tables_name_every_option_of_their_commands() -> None:
    """Each option of a fast command is in its table, under typer's name and kind, or marked typer's alone."""
    from gittree.cli.fastpath import ARGUMENT_COUNTS, form_of

    commands = _fast_commands()
    assert {"show", "table", "export", "render", "best", "path", "diff", "runs", "run", "sweep"} <= set(
        commands
    )
    for name in commands:
        form = form_of(name)
        assert form is not None
        flags, takes_value, repeated, _ = form
        params = _typer_command(name).params
        options = {opt: p for p in params if p.param_type_name == "option" for opt in p.opts}
        options.pop("--help", None)
        options.pop("-h", None)
        assert set(flags) | set(takes_value) | TYPER_ONLY.get(name, set()) == set(options), name
        assert not (set(flags) | set(takes_value)) & TYPER_ONLY.get(name, set()), name  # one or the other
        for opt, dest in flags.items():
            assert options[opt].is_flag and options[opt].name == dest, (name, opt)
        for opt, dest in takes_value.items():
            param = options[opt]
            assert not param.is_flag and param.name == dest, (name, opt)
            assert param.multiple == (dest in repeated), (name, opt)
        arguments = [p for p in params if p.param_type_name == "argument"]
        least = sum(max(p.nargs, 1) for p in arguments if p.required)  # nargs -1: one or more
        most = None if any(p.nargs == -1 for p in arguments) else sum(p.nargs for p in arguments)
        counts = ARGUMENT_COUNTS.get(name)
        assert (counts or (0, None)) == (least, most), name


#: Values that typer takes or refuses, for the options of every fast command.
_VALUES = ["acc", "0", "1", "2", "²", "-1", "csv", "svg", "dot", "json", "markdown", "never", "always"]
_VALUES += ["purple", "@0", "exp/a", "x=y", "-", "--", "tree"]


@st.composite
def _fast_argv(draw: st.DrawFn) -> tuple[str, list[str]]:
    from gittree.cli.fastpath import form_of

    command = draw(
        st.sampled_from(["show", "table", "export", "render", "best", "path", "diff", "runs", "run", "sweep"])
    )
    form = form_of(command)
    assert form is not None
    flags, takes_value, _, _ = form
    options = sorted({*flags, *takes_value, *TYPER_ONLY.get(command, ())})
    token = st.one_of(
        st.sampled_from(options),
        st.sampled_from(_VALUES),
        st.builds(lambda o, v: f"{o}={v}", st.sampled_from(options), st.sampled_from(_VALUES)),
    )
    return command, draw(st.lists(token, max_size=6))


def _plain(value: object) -> object:
    from enum import Enum

    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(_fast_argv())
def test_what_the_fast_path_reads_typer_reads_the_same(case: tuple[str, list[str]]) -> None:
    """Any form the fast path accepts, typer accepts too and reads into the same values."""
    from gittree.cli.fastpath import parse_form

    command, args = case
    fast = parse_form(command, list(args))
    event("fast" if fast is not None else "typer")
    if fast is None:
        return
    typer_params = _typer_command(command).make_context(command, list(args)).params
    for name, value in fast.items():
        if name == "revs":
            continue
        got = _plain(typer_params[name])
        assert (str(got) if isinstance(got, int) and not isinstance(got, bool) else got) == value, name
    arguments = [p.name for p in _typer_command(command).params if p.param_type_name == "argument"]
    positional: list[object] = []
    for name in arguments:
        value = _plain(typer_params[name])
        positional += value if isinstance(value, list) else [] if value is None else [value]
    assert positional == fast["revs"]


def test_a_cold_view_with_notes_and_no_remote_imports_neither_libgit2_nor_sync(
    repo: GitRepo, gittree
) -> None:  # type: ignore[no-untyped-def]
    """A first read takes the notes from git itself and asks sync nothing without a remote: importing
    pygit2 for the notes alone was about a fifth of a cold 10k-commit view (docs/performance.md)."""
    small_history(repo)
    assert gittree("record", "HEAD", "--metric", "loss=0.5").code == 0
    probe = (
        "import sys\nfrom gittree import gitio\nfrom gittree.read import Selection, load_tree\n"
        "tree = load_tree(gitio.open_repo('.'), Selection(all_refs=True))\n"
        "sys.stderr.write(repr(sorted(m for m in ('pygit2', 'gittree.sync') if m in sys.modules)))\n"
        "sys.stdout.write(repr(sorted(n.sha for n in tree.nodes if 'loss' in n.metrics)))\n"
    )
    env = {**os.environ, "GITTREE_NO_CACHE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True, check=True, env=env
    )
    assert done.stderr == "[]"
    assert done.stdout == repr([repo.head()])


def test_a_note_both_flat_and_under_a_fan_out_folder_is_read_as_before(repo: GitRepo) -> None:
    """git never writes both, but a notes tree can hold them: the fan-out one wins, as when libgit2
    walked the tree (the folder after the flat names), and a non-note blob is not a note."""
    from gittree import gitio

    sha = repo.experiment("both", metrics=[("acc", 0.5)])
    flat = repo.git("hash-object", "-w", "--stdin", input="Gittree-Metric: acc=0.6\n").strip()
    fanned = repo.git("hash-object", "-w", "--stdin", input="Gittree-Metric: acc=0.7\n").strip()
    inner = repo.git("mktree", input=f"100644 blob {fanned}\t{sha[2:]}\n").strip()
    tree = repo.git(
        "mktree",
        input=f"100644 blob {flat}\t{sha}\n040000 tree {inner}\t{sha[:2]}\n100644 blob {flat}\tREADME\n",
    ).strip()
    repo.git("update-ref", "refs/notes/gittree", repo.git("commit-tree", "-m", "notes", tree).strip())
    assert gitio.read_notes(gitio.open_repo(repo.path)) == {sha: "Gittree-Metric: acc=0.7\n"}


@pytest.mark.parametrize("columns", [None, "80", "0", "-3", "wide", "", "250"])
def test_the_terminal_width_is_the_one_shutil_gives(monkeypatch, columns: str | None) -> None:  # type: ignore[no-untyped-def]
    """The width a view is drawn to is found without importing shutil (issue 19), and is the same."""
    import shutil

    from gittree.cli.output import terminal_width

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert terminal_width() == shutil.get_terminal_size((100, 24)).columns
