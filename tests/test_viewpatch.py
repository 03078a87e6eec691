"""``show --json`` after new experiments is the last view patched (issue 19), and byte for byte the view
rendered from nothing.

Each test asks for the view through the cache, then with ``GITTREE_NO_CACHE=1`` (built from nothing),
and compares the bytes; it also checks which way the cached answer was made: patched from the last
view (a patch file in the cache) or rendered again (a change the patch does not take: a note, a
rewrite, a reset, a deleted branch, a revert, a merge...).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittree.read import cache, viewpatch
from tests.conftest import GitRepo
from tests.runtools import py

JSON_VIEWS = (("show", "--json"), ("show", "--all", "--json"))


def newest_view(repo: GitRepo) -> Path:
    views = repo.path / ".git" / "gittree" / "cache" / "views"
    return max(
        (path for path in views.iterdir() if not path.name.endswith(".tmp")),
        key=lambda p: p.stat().st_mtime_ns,
    )


def same_as_cold(repo: GitRepo, gittree, monkeypatch, views=JSON_VIEWS) -> list[bool]:  # type: ignore[no-untyped-def]
    """Each view through the cache and from nothing: the same bytes. Returns whether each was patched
    from the last view (not served from the cache as it was, not rendered again)."""
    patched = []
    made: list[object] = []
    patch = viewpatch.patched_view

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(patch(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(viewpatch, "patched_view", watched)
    for args in views:
        made.clear()
        through_cache = gittree(*args)
        assert through_cache.code == 0, through_cache.err
        patched.append(any(view is not None for view in made))
        monkeypatch.setenv("GITTREE_NO_CACHE", "1")
        cold = gittree(*args)
        monkeypatch.delenv("GITTREE_NO_CACHE")
        assert (through_cache.code, through_cache.out, through_cache.err) == (
            cold.code,
            cold.out,
            cold.err,
        ), args
    monkeypatch.setattr(viewpatch, "patched_view", patch)
    return patched


@pytest.fixture
def loop(repo: GitRepo, gittree, monkeypatch):  # type: ignore[no-untyped-def]
    """A baseline and two steps, every JSON view rendered once (its index stored)."""
    shas = {"base": repo.experiment("baseline", metrics=[("acc", 0.50), ("loss", 1.0)])}
    shas["one"] = repo.experiment("step one", metrics=[("acc", 0.52), ("loss", 0.9)])
    shas["two"] = repo.experiment("step two", metrics=[("acc", 0.53), ("loss", 0.8)])
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    return shas


def test_a_new_experiment_on_top_is_patched_in(repo: GitRepo, loop, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("step three", metrics=[("acc", 0.531), ("loss", 0.79)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]


@pytest.mark.parametrize("log", [viewpatch.MAX_LOG, 2])
def test_a_loop_of_experiments_each_view_patched_from_the_last(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, log: int
) -> None:
    """Each patch is logged beside the index's base and replayed when the index is loaded; past the
    log's length the index is stored whole again."""
    monkeypatch.setattr(viewpatch, "MAX_LOG", log)
    for step in range(12):
        repo.experiment(f"step {step + 3}", metrics=[("acc", 0.53 + (-1) ** step * step / 1000)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step


def test_gittree_commit_moves_the_keep_ref_and_the_view_is_still_patched(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    for step in range(3):
        repo.write("work.txt", f"change {step}\n")
        done = gittree("commit", "-a", "-m", f"recorded {step}", "--metric", f"acc=0.5{4 + step}")
        assert done.code == 0, done.err
        assert repo.git("rev-parse", "-q", "--verify", "refs/gittree/keep", check=False).strip()
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step


def test_a_new_best_moves_every_star_and_the_path(repo: GitRepo, loop, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a big win", metrics=[("acc", 0.9)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    # the best on a branch off an older experiment: the old path's tail leaves the best path
    repo.branch("idea", loop["one"])
    repo.experiment("a bigger win elsewhere", metrics=[("acc", 0.95)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]


def test_the_best_path_through_experiments_without_the_metric_is_patched(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, monkeypatch
) -> None:
    """The best path steps through an experiment with no value on the metric (its parent edge), patched
    as built: a new best above one, above a crossover judged through one, and a sample noted on the
    experiment below one (what is judged against it, past the one without a value, is judged again)."""
    base, _, params, merged = repo.crossover_through_params_only()
    more = repo.experiment("more params", params=[("batch", "512")])
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    top = repo.experiment("a new best", metrics=[("acc", 0.7)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    nodes = json.loads(gittree("show", "--json").out)["nodes"]
    assert {node["sha"] for node in nodes if node["on_best_path"]} == {base, params, merged, more, top}
    repo.branch("line", top)
    measured = repo.experiment("measured", metrics=[("acc", 0.71)])
    repo.experiment("unmeasured", params=[("batch", "64")])
    repo.experiment("measured again", metrics=[("acc", 0.8)])
    same_as_cold(repo, gittree, monkeypatch)
    repo.git("notes", "--ref", "gittree", "append", "-m", "Gittree-Metric: acc=0.75", measured)
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]


def test_experiments_after_ordinary_commits_and_head_on_a_new_branch(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    repo.commit("refactor the loader")
    repo.commit("fix a typo")
    repo.experiment("after two ordinary commits", metrics=[("acc", 0.54)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    repo.branch("side", loop["two"])
    repo.experiment("a sibling of the last one", metrics=[("acc", 0.535)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    repo.commit("ordinary work on top")  # HEAD at an ordinary commit above an experiment
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]


@pytest.mark.parametrize("noted", ["results", "nothing"])
def test_a_new_commit_that_already_carries_a_note_is_read_with_it(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, noted: str
) -> None:
    """A commit noted before any branch reached it (a note fetched ahead of its branch): the notes commit
    has not moved since the last view, yet the new commit's results are in it. The patch reads notes on
    new commits in the same git process as the commits, and takes them in as a whole build does."""
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    message = "plain work\n" if noted == "results" else "measured\n\nGittree-Metric: acc=0.54\n"
    sha = repo.git("commit-tree", tree, "-p", loop["two"], "-m", message).strip()
    if noted == "results":  # its results are in the note alone: without it, an ordinary commit
        repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: acc=0.9", sha)
    else:  # a note on another commit moves the notes ref just the same
        repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Note: looked again", loop["one"])
    same_as_cold(repo, gittree, monkeypatch)
    repo.git("update-ref", "refs/heads/main", sha)
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    assert '"best": "' + sha in gittree("show", "--json").out or noted == "nothing"


@pytest.mark.parametrize("how", ["gittree commit", "gittree run"])
def test_the_agent_loops_losers_are_patched_in_as_dead_ends(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, how: str
) -> None:
    """docs/guide.md's loop: each try committed by gittree (kept), a loser abandoned and reset away before
    the next view. The view finds a new dead end the keep ref alone reaches, with its note: patched in,
    byte for byte the cold view; a winner stays on the branch and the next try builds on it."""
    for step, (acc, wins) in enumerate(
        [(0.31, False), (0.6, True), (0.32, False), (0.33, False), (0.7, True)]
    ):
        repo.write("work.txt", f"try {step}\n")
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-02-01T00:{step:02d}:00+00:00")  # each try its own time
        if how == "gittree commit":
            done = gittree("commit", "-a", "-m", f"try {step}", "--metric", f"acc={acc}")
        else:  # the run commits the change with the metric its command printed
            done = gittree("run", "-m", f"try {step}", "--capture", "acc", "--", *py(f"print('acc: {acc}')"))
        assert done.code == 0, done.err
        if not wins:
            assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
            repo.git("reset", "-q", "--hard", "HEAD~1")
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step


def test_a_view_seen_again_is_where_the_next_patch_starts(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    """The plain-git loop: commit a try, look, take it back (`git reset`: the view before it is served
    from the cache), try again. The index goes back with the view seen again, so the next try is
    patched from it (it was rendered whole: the index was still at the try taken back)."""
    for step in range(3):
        repo.experiment(f"try {step}", metrics=[("acc", 0.3 + step / 100)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step
        repo.git("reset", "-q", "--hard", "HEAD~1")
        assert same_as_cold(repo, gittree, monkeypatch) == [False, False], step  # from the cache
    repo.experiment("a winner", metrics=[("acc", 0.7)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    repo.experiment("on top of the winner", metrics=[("acc", 0.71)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]


def test_head_back_on_a_dead_end_brings_it_back_to_life(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    """A try committed on a detached HEAD is a dead end once HEAD leaves it (the keep ref alone reaches
    it); HEAD back on it, or on a commit above it, makes it live again: rendered whole, as cold (the
    patch moved HEAD's mark and left it a dead end)."""
    repo.git("checkout", "-q", "--detach", loop["one"])
    repo.write("work.txt", "detached try\n")
    assert gittree("commit", "-a", "-m", "detached try", "--metric", "acc=0.4").code == 0
    tried = repo.head()
    same_as_cold(repo, gittree, monkeypatch)
    for target in (tried, "above"):
        repo.git("checkout", "-q", "main")  # the try: a dead end only the keep ref reaches
        same_as_cold(repo, gittree, monkeypatch)
        repo.git("checkout", "-q", "--detach", tried)
        if target == "above":
            repo.commit("ordinary work on the try")
        assert same_as_cold(repo, gittree, monkeypatch) == [False, False], target


def test_blocks_that_move_past_a_tie_with_the_best_move_the_star(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, monkeypatch
) -> None:
    """Two experiments with the best value: the ★ goes to the one drawn first. A branch that outgrows its
    sibling moves its block of lines before it, and the ★ with it: the view is rendered whole then (the
    patch kept the old ★; found by random loops)."""
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-04-01T00:00:00+00:00")  # later than every other commit
    repo.write("work.txt", "recorded\n")
    assert gittree("commit", "-a", "-m", "recorded", "--metric", "acc=0.52").code == 0
    same_as_cold(repo, gittree, monkeypatch)
    repo.git("checkout", "-q", "--detach", base)
    same_as_cold(repo, gittree, monkeypatch)
    repo.experiment("the same value", metrics=[("acc", 0.52)])
    same_as_cold(repo, gittree, monkeypatch)
    repo.experiment("on top of it", metrics=[("acc", 0.5)])  # its branch outgrows the other: blocks move
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]


def test_losers_tried_within_one_second_are_patched_in(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    """A quick loop commits its tries within a second: each loser has the author time of the last one,
    a dead end the keep ref alone reaches, which cannot be the rewrite of a live experiment."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-02-01T00:00:00+00:00")
    for step in range(3):
        repo.write("work.txt", f"quick try {step}\n")
        assert gittree("commit", "-a", "-m", f"quick try {step}", "--metric", f"acc=0.2{step}").code == 0
        assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
        repo.git("reset", "-q", "--hard", "HEAD~1")
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step


def _kept_try(repo: GitRepo, gittree, name: str, value: str) -> str:  # type: ignore[no-untyped-def]
    repo.write("work.txt", f"{name}\n")
    assert gittree("commit", "-a", "-m", name, "--metric", f"acc={value}").code == 0
    return repo.head()


def test_a_try_looked_at_then_reset_away_is_patched_as_a_dead_end(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    """The agent loop that looks at each try before it keeps or resets it: the try the last view drew
    on its branch is a dead end now (only the keep ref reaches it), patched in place, with the next
    try (it rendered every such view whole). Many times over: the index's log replays the deaths."""
    monkeypatch.setattr(viewpatch, "MAX_LOG", 3)
    for step in range(4):
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-03-0{step + 1}T00:00:00+00:00")
        _kept_try(repo, gittree, f"try {step}", f"0.5{step}")
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step
        repo.git("reset", "-q", "--hard", "HEAD~1")
        if step % 2:  # looked at right after the reset too, or only with the next try
            assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step
    shown = json.loads(gittree("show", "--json").out)["nodes"]
    assert sum(node["verdict"] == "discarded" for node in shown) == 4


@pytest.mark.parametrize("reached", ["another branch", "a tag above it", "not kept", "a new branch above it"])
def test_a_try_reset_away_that_is_still_reached_or_gone_renders_the_view_again(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, reached: str
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-03-01T00:00:00+00:00")  # each try its own time
    if reached == "not kept":  # a plain commit: gone from the tree once reset away
        repo.experiment("a plain try", metrics=[("acc", 0.4)])
    else:
        _kept_try(repo, gittree, "a try", "0.4")
    if reached == "another branch":
        repo.git("branch", "still-here")
    elif reached == "a tag above it":
        repo.commit("a note to self")
        repo.git("tag", "-a", "-m", "look here", "marked")
        repo.git("reset", "-q", "--hard", "HEAD~1")
    same_as_cold(repo, gittree, monkeypatch)  # the view that draws the try on its branch
    if reached == "a new branch above it":  # made after that view: its new commit's chain reaches the try
        repo.git("branch", "later", "HEAD")
        repo.git("checkout", "-q", "later")
        repo.commit("work on top of the try")
        repo.git("checkout", "-q", "main")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-03-02T00:00:00+00:00")
    _kept_try(repo, gittree, "the next try", "0.45")
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]


def test_after_an_amend_hidden_as_rewritten_new_experiments_are_still_patched(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    """An amended experiment that gittree kept leaves its earlier version under the keep ref, and a
    whole build hides it (rewritten). Every later view rendered whole while the tree hid one (the patch
    could not tell which new commit might be such a version's next); now the hidden versions'
    identities are in the index, and only a new commit with one of them renders whole."""
    repo.write("work.txt", "kept try\n")
    assert gittree("commit", "-a", "-m", "kept try", "--metric", "acc=0.54").code == 0
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    repo.git("commit", "-q", "--amend", "-m", "kept try, reworded\n\nGittree-Metric: acc=0.54\n")
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    assert json.loads(gittree("show", "--json").out)["left_out"] == {"rewritten": 1}
    for step in range(2):
        repo.experiment(f"after the amend {step}", metrics=[("acc", 0.55 + step / 100)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step
    # the same author and author date as the amended try: maybe its next version
    monkeypatch.setenv("GIT_AUTHOR_DATE", repo.git("log", "-1", "--format=%aI", "HEAD~2").strip())
    repo.write("work.txt", "kept try, again\n")
    assert gittree("commit", "-a", "-m", "kept try, again", "--metric", "acc=0.54").code == 0
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]


@pytest.mark.parametrize("how", ["reset past two tries", "squash of two tries"])
def test_a_branch_moved_back_past_two_tries_renders_the_view_again(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, how: str
) -> None:
    """Two kept tries on the branch, then the branch moved back below both with a new commit on top
    (`git reset --hard HEAD~2` and a new try, or a squash of the two): the patch made the top try a dead
    end in place and left the one below it live, where a whole build finds both only kept."""
    for step in range(2):
        repo.write("work.txt", f"try {step}\n")
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-03-02T1{step}:00:00+00:00")
        # neither is the best (the best dying is rendered whole anyway)
        assert gittree("commit", "-a", "-m", f"try {step}", "--metric", f"acc=0.4{step}").code == 0
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    if how == "squash of two tries":
        repo.squash(2, "fixup")
    else:
        repo.git("reset", "-q", "--hard", "HEAD~2")
        repo.write("work.txt", "another\n")
        assert gittree("commit", "-a", "-m", "another", "--metric", "acc=0.6").code == 0
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]


def test_after_a_rebase_a_late_seed_keeps_the_earlier_version_hidden_and_new_experiments_are_patched(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    """An idea branch kept by gittree and rebased without the post-rewrite hook, then given a late seed
    (`gittree record`): the view renders whole (the note may decide a hidden version), and its earlier
    version stays hidden, as cold; the next experiments are patched in again."""
    repo.git("config", "notes.rewriteRef", "refs/notes/gittree")
    repo.branch("exp/a", loop["two"])
    repo.write("a.txt", "idea a\n")
    repo.git("add", "a.txt")
    assert gittree("commit", "-m", "idea a", "--metric", "acc=0.55").code == 0
    before = repo.head()
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    repo.branch("main", loop["two"])
    repo.write("main.txt", "main\n")
    repo.git("add", "main.txt")
    repo.git("commit", "-q", "-m", "ordinary main work")
    repo.git("checkout", "-q", "exp/a")
    repo.git("rebase", "-q", "main")
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    assert gittree("record", "HEAD", "--metric", "acc=0.56").code == 0
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    shown = gittree("show", "--json").out
    assert json.loads(shown)["left_out"] == {"rewritten": 1} and before not in shown
    for step in range(2):
        repo.experiment(f"after the rebase {step}", metrics=[("acc", 0.57 + step / 100)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step


@pytest.mark.parametrize(
    "change", ["same author date as a live one", "note on an old experiment too", "forget"]
)
def test_new_dead_ends_the_patch_does_not_take_render_the_view_again(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, change: str
) -> None:
    repo.write("work.txt", "a try\n")
    if change == "same author date as a live one":  # it may be that one's earlier version (an amend)
        monkeypatch.setenv("GIT_AUTHOR_DATE", repo.git("log", "-1", "--format=%aI", loop["two"]).strip())
    else:
        monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-02-01T00:00:00+00:00")
    assert gittree("commit", "-a", "-m", "a try", "--metric", "acc=0.1").code == 0
    assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
    repo.git("reset", "-q", "--hard", "HEAD~1")
    if change == "note on an old experiment too":
        assert gittree("record", loop["one"], "--metric", "loss=0.85").code == 0
    elif change == "forget":
        kept = repo.git("rev-parse", "refs/gittree/keep^").strip()  # the try just reset away
        assert gittree("forget", kept).code == 0
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]


def test_a_new_typical_delta_moves_the_surprise_marks(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    value = 0.5
    repo.experiment("baseline", metrics=[("acc", value)])
    for step, delta in enumerate((0.001, 0.001, 0.001, 0.02, 0.001, 0.001)):
        value += delta
        repo.experiment(f"step {step}", metrics=[("acc", round(value, 6))])
    first = same_as_cold(repo, gittree, monkeypatch)
    assert first == [False, False]
    assert '"surprise": true' in gittree("show", "--json").out
    # bigger steps raise the typical delta: the old jump is no longer ten times a usual step
    for step in range(4):
        value += 0.004
        repo.experiment(f"bigger step {step}", metrics=[("acc", round(value, 6))])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step
    assert '"surprise": true' not in gittree("show", "--json").out


@pytest.mark.parametrize(
    "change",
    [
        "note on an ordinary commit",
        "note on the best",
        "amend",
        "rebase",
        "reset",
        "deleted branch",
        "revert",
        "merge",
        "dead end",
        "config",
        "forget",
    ],
)
def test_changes_the_patch_does_not_take_render_the_view_again(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, change: str
) -> None:
    if change == "note on an ordinary commit":  # it becomes an experiment: the tree changes shape
        repo.commit("plain work")
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
        repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: acc=0.6", "HEAD")
    elif change == "note on the best":  # a worse sample of the best: any other may be the best now
        repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: acc=0.1", loop["two"])
    elif change == "amend":
        repo.git("commit", "-q", "--amend", "-m", "step two, reworded\n\nGittree-Metric: acc=0.53\n")
    elif change == "rebase":
        repo.branch("other", loop["one"])
        repo.experiment("on the side", metrics=[("acc", 0.51)])
        repo.git("checkout", "-q", "main")
        repo.git("rebase", "-q", "-X", "theirs", "other")
    elif change == "reset":
        repo.git("reset", "-q", "--hard", loop["one"])
    elif change == "deleted branch":
        repo.branch("doomed", loop["two"])
        repo.experiment("to be deleted", metrics=[("acc", 0.4)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
        repo.git("checkout", "-q", "main")
        repo.git("branch", "-q", "-D", "doomed")
    elif change == "revert":
        repo.git("revert", "--no-edit", "HEAD")
    elif change == "merge":
        repo.branch("idea", loop["one"])
        repo.experiment("an idea", metrics=[("acc", 0.52)])
        repo.git("checkout", "-q", "main")
        repo.merge("idea", "crossover", metrics=[("acc", 0.6)])
    elif change == "dead end":
        repo.experiment("abandoned idea", metrics=[("acc", 0.1)], status="abandoned")
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
        repo.experiment("on top of the abandoned one", metrics=[("acc", 0.55)])
    elif change == "config":
        repo.write(".gittree.yaml", "primary: loss\n")
        repo.experiment("judged by loss now", metrics=[("acc", 0.5), ("loss", 0.7)])
    elif change == "forget":  # a try looked at, reset away, then forgotten: the keep ref lets it go
        repo.write("work.txt", "kept\n")
        assert gittree("commit", "-a", "-m", "kept one", "--metric", "acc=0.3").code == 0
        kept = repo.head()
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
        repo.git("reset", "-q", "--hard", "HEAD~1")
        assert gittree("forget", kept).code == 0
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    # New experiments are patched in again: right away, or (when the view asked for was an earlier one
    # served from the cache, which leaves the last index as it was) after the next whole render.
    repo.experiment("the next step", metrics=[("acc", 0.56), ("loss", 0.6)])
    same_as_cold(repo, gittree, monkeypatch)
    repo.experiment("one more step", metrics=[("acc", 0.57), ("loss", 0.5)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]


@pytest.mark.parametrize("log", [viewpatch.MAX_LOG, 2])
def test_samples_added_by_notes_are_patched_in_with_what_is_judged_against_them(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, log: int
) -> None:
    """Another sample of an experiment (a repeated run, late results): its line, the lines judged
    against it (its delta is their reference) and the marks that move are written again. What each
    patch changed is logged and replayed onto the index's base, which is stored whole again past the log."""
    monkeypatch.setattr(viewpatch, "MAX_LOG", log)
    for value in ("0.531", "0.533", "0.9"):  # the best, better each time
        repo.git("notes", "--ref", "gittree", "append", "-m", f"Gittree-Metric: acc={value}", loop["two"])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], value
    # an experiment in the middle: the ones after it are judged against it again
    repo.git("notes", "--ref", "gittree", "append", "-m", "Gittree-Metric: acc=0.49", loop["one"])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    repo.git(
        "notes",
        "--ref",
        "gittree",
        "append",
        "-m",
        "Gittree-Metric: loss=0.3\nGittree-Note: more",
        loop["base"],
    )
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    repo.experiment("then a new experiment", metrics=[("acc", 0.95)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]


def test_a_repeated_run_is_a_sample_and_its_view_is_patched(
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.runtools import PYTHON
    from tests.test_curves_stored import run

    repo.write("score.py", "import sys\nprint(f'acc={0.61 + int(sys.argv[2]) / 100}')\n")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "add score.py")
    patched = []
    for seed in range(3):  # the same code and command, the seed set aside: one experiment, three samples
        run(repo, "--capture", "acc", "--", PYTHON, "score.py", "--seed", str(seed))
        patched.append(same_as_cold(repo, gittree, monkeypatch))
    assert len(json.loads(gittree("show", "--json").out)["nodes"][-1]["metrics"]["acc"]["samples"]) == 3
    assert patched[1:] == [[True, True], [True, True]]


def test_a_branch_that_outgrows_its_sibling_moves_its_block(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Children are drawn smallest subtree first: a branch that grows past its sibling is drawn after
    it, its whole block of lines moved; at every step the patched view is the cold one."""
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.experiment("a", metrics=[("acc", 0.51)])
    repo.experiment("a2", metrics=[("acc", 0.52)])
    repo.branch("b", base)
    repo.experiment("b", metrics=[("acc", 0.505)])
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    for step in range(4):  # b's block grows past a's
        repo.experiment(f"b{step + 2}", metrics=[("acc", 0.506 + step / 1000)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step
    repo.git("checkout", "-q", "main")
    for step in range(5):  # and a's past b's again, from its tip
        repo.experiment(f"a{step + 3}", metrics=[("acc", 0.53 + step / 1000)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step


def crossover(repo: GitRepo) -> str:
    """A baseline, two ideas off it and their merge (a crossover) on main; returns the baseline."""
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.branch("idea", base)
    repo.experiment("idea", metrics=[("acc", 0.51)])
    repo.git("checkout", "-q", "main")
    repo.experiment("main step", metrics=[("acc", 0.505)])
    repo.merge("idea", "crossover", metrics=[("acc", 0.52)])
    return base


def test_with_a_merge_in_the_tree_a_sibling_reorder_renders_again(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, monkeypatch
) -> None:
    """A merge is drawn after its last parent, so a subtree with one may not be one block of lines."""
    base = crossover(repo)
    repo.branch("b", base)
    repo.experiment("b", metrics=[("acc", 0.5)])
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    patched = []
    for step in range(5):
        repo.experiment(f"b{step + 2}", metrics=[("acc", 0.5 + step / 1000)])
        patched += same_as_cold(repo, gittree, monkeypatch)
    assert True in patched and False in patched


def test_a_damaged_or_missing_base_renders_again(repo: GitRepo, loop, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("step three", metrics=[("acc", 0.531)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    patch = newest_view(repo)
    data = bytearray(patch.read_bytes())
    data[-1] ^= 0xFF
    patch.write_bytes(bytes(data))
    # the damaged patch (the last view of --all) is ignored: that view is rendered again
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    repo.experiment("step four", metrics=[("acc", 0.532)])
    assert same_as_cold(repo, gittree, monkeypatch) == [True, True]
    views = repo.path / ".git" / "gittree" / "cache" / "views"
    for path in views.iterdir():
        with open(path, "rb") as handle:
            if handle.read(len(cache._DELTA_MAGIC)) != cache._DELTA_MAGIC:
                path.unlink()  # every whole view gone: the patches have nothing to copy from
    repo.experiment("step five", metrics=[("acc", 0.533)])
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]


def test_patches_that_grow_too_big_are_rendered_whole_again(
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cache, "MAX_PATCHED", 2600)
    patched = []
    for step in range(4):
        repo.experiment(f"step {step + 3}", metrics=[("acc", 0.54 + step / 100)])
        patched.append(same_as_cold(repo, gittree, monkeypatch, views=(("show", "--json"),))[0])
    assert True in patched and False in patched


@pytest.mark.parametrize("target", ["pipe", "file", "appended file"])
def test_a_patched_view_printed_by_the_kernel_is_the_cold_one(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch, tmp_path: Path, target: str
) -> None:
    """Out of process, a patch's ranges go to stdout by ``sendfile``; a file opened for appending
    refuses it, and the rest is written plainly from where it stopped."""
    repo.experiment("step three", metrics=[("acc", 0.531)])
    command = [sys.executable, "-m", "gittree", "show", "--json"]
    if target == "pipe":
        printed = subprocess.run(command, cwd=repo.path, capture_output=True, check=True).stdout
    else:
        out = tmp_path / "out.json"
        out.write_bytes(b"before\n" if target == "appended file" else b"")
        with open(out, "ab" if target == "appended file" else "wb") as handle:
            subprocess.run(command, cwd=repo.path, stdout=handle, check=True)
        printed = out.read_bytes().removeprefix(b"before\n")
    monkeypatch.setenv("GITTREE_NO_CACHE", "1")
    assert printed.decode() == gittree("show", "--json").out
    monkeypatch.delenv("GITTREE_NO_CACHE")
    views = repo.path / ".git" / "gittree" / "cache" / "views"
    assert any(path.read_bytes().startswith(cache._DELTA_MAGIC) for path in views.iterdir())


def test_curves_follow_the_blocks_a_patch_moves(repo: GitRepo, loop, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The curves are listed in drawing order: when a branch outgrows its sibling and its block of
    lines moves, its curves move with it (found by hand: they stayed where they were)."""
    from tests.runtools import PYTHON
    from tests.test_curves_stored import run, write_script

    write_script(repo, "train", 20, 3)
    fork = repo.head()
    run(repo, "--new", "-m", "curved first", "--", PYTHON, "train.py", "1")
    repo.branch("later", fork)
    run(repo, "--new", "-m", "curved second", "--", PYTHON, "train.py", "2")
    same_as_cold(repo, gittree, monkeypatch)
    repo.git("checkout", "-q", "main")
    patched = []
    for step in range(2):  # the first one's block grows past the second's: drawn after it now
        repo.experiment(f"on the first {step}", metrics=[("acc", 0.6)])
        patched += same_as_cold(repo, gittree, monkeypatch)
    assert True in patched


def test_runs_that_store_curves_are_patched_in_with_the_curves_written_again(  # type: ignore[no-untyped-def]
    repo: GitRepo, loop, gittree, monkeypatch
) -> None:
    from tests.runtools import PYTHON
    from tests.test_curves_stored import run, write_script

    write_script(repo, "train", 50, 7)
    patched = []
    for seed in (1, 2, 3):
        run(repo, "--new", "-m", f"curved {seed}", "--", PYTHON, "train.py", str(seed))
        assert repo.git("notes", "--ref", "gittree-curves", "list", "HEAD").strip()
        patched.append(same_as_cold(repo, gittree, monkeypatch))
    assert patched[1:] == [[True, True], [True, True]]
    assert len(json.loads(gittree("show", "--json").out)["curves"]) == 3


def test_a_merge_elsewhere_does_not_stop_blocks_below_another_experiment_from_moving(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, monkeypatch
) -> None:
    crossover(repo)
    fork = repo.experiment("fork point", metrics=[("acc", 0.53)])  # above the merge: its children are clean
    repo.experiment("a", metrics=[("acc", 0.531)])
    repo.experiment("a2", metrics=[("acc", 0.532)])
    repo.branch("b", fork)
    repo.experiment("b", metrics=[("acc", 0.533)])
    assert same_as_cold(repo, gittree, monkeypatch) == [False, False]
    for step in range(3):  # b's block grows past a's: moved, below the fork point
        repo.experiment(f"b{step + 2}", metrics=[("acc", 0.534 + step / 1000)])
        assert same_as_cold(repo, gittree, monkeypatch) == [True, True], step


LOOP_STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "on top",
                "off an older one",
                "ordinary",
                "commit",
                "loser",
                "sample",
                "checkout",
                "merge",
                "amend",
                "reset",
                "params only",
            ]
        ),
        st.integers(0, 1000),
        st.sampled_from(["0.5", "0.52", "0.55", "0.9", "0.1"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=LOOP_STEPS)
def test_any_loop_of_experiments_samples_and_branches_gives_the_cold_view(  # type: ignore[no-untyped-def]
    tmp_path_factory, gittree, monkeypatch, steps: list[tuple[str, int, str]]
) -> None:
    """Random loops of what the patch takes (and some of what it refuses): after every step the
    patched (or rendered) view is the cold one, byte for byte."""
    repo = GitRepo(tmp_path_factory.mktemp("loop") / "repo")
    monkeypatch.chdir(repo.path)
    experiments = [repo.experiment("baseline", metrics=[("acc", 0.5)])]
    same_as_cold(repo, gittree, monkeypatch)
    for counter, (step, pick, value) in enumerate(steps):
        chosen = experiments[pick % len(experiments)]
        if step == "on top":
            experiments.append(repo.experiment(f"step {counter}", metrics=[("acc", float(value))]))
        elif step == "params only":  # no value on the metric: a step of any path through it
            experiments.append(repo.experiment(f"params {counter}", params=[("batch", str(counter))]))
        elif step == "off an older one":
            repo.branch(f"idea/{counter}", chosen)
            experiments.append(repo.experiment(f"idea {counter}", metrics=[("acc", float(value))]))
        elif step == "ordinary":
            repo.commit(f"chore {counter}")
        elif step == "commit":
            repo.write("work.txt", f"recorded {counter}\n")
            assert gittree("commit", "-a", "-m", f"recorded {counter}", "--metric", f"acc={value}").code == 0
            experiments.append(repo.head())
        elif step == "loser":  # kept by gittree, abandoned and reset away (its own author time)
            monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-04-01T00:{counter:02d}:00+00:00")
            repo.write("work.txt", f"tried {counter}\n")
            assert gittree("commit", "-a", "-m", f"tried {counter}", "--metric", f"acc={value}").code == 0
            assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
            repo.git("reset", "-q", "--hard", "HEAD~1")
        elif step == "sample":
            repo.git("notes", "--ref", "gittree", "append", "-m", f"Gittree-Metric: acc={value}", chosen)
        elif step == "checkout":
            repo.git("checkout", "-q", "--detach", chosen)
        elif step == "merge" and repo.head() != chosen:
            repo.git("checkout", "-q", "-B", f"merged/{counter}")
            repo.merge(chosen, f"crossover {counter}", metrics=[("acc", float(value))])
            experiments.append(repo.head())
        elif step == "reset" and repo.head() in experiments[1:]:  # a try looked at, then taken back
            experiments.remove(repo.head())
            repo.git("reset", "-q", "--hard", "HEAD~1")
        elif step == "amend" and repo.head() in experiments:  # reworded, same results: a kept one is hidden
            trailers = repo.git("log", "-1", "--format=%(trailers)").strip()
            repo.git("commit", "-q", "--amend", "--allow-empty", "-m", f"reworded {counter}\n\n{trailers}\n")
            experiments[experiments.index(repo.git("rev-parse", "HEAD@{1}").strip())] = repo.head()
        same_as_cold(repo, gittree, monkeypatch)
