"""Views grown from the last view's tree (issue 19) are byte for byte the views built cold.

After each change a repository goes through in an agent loop (a new experiment, a new note, an amend,
a rebase, a reset that leaves a kept dead end, a deleted branch, a new best, a new .gittree.yaml), every
view is asked twice: with the cache, which grows the stored seed when it can, and with
``GITTREE_NO_CACHE=1``, which builds the tree from nothing. Both must print the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gittree import read
from tests.conftest import GitRepo

#: The views compared after every change: the scope and every ref, text and JSON, and views of named
#: revisions (built whole every time, never grown).
VIEWS = (
    ("show", "--json"),
    ("show", "--color", "never"),
    ("show", "--all", "--json"),
    ("table", "--all"),
    ("best", "--all"),
    ("export", "--format", "json"),
    ("render", "--all", "--format", "dot"),
    ("show", "--json", "--metric", "loss"),
    ("show", "--json", "--author", "ada"),
    ("show", "--json", "main"),
)


def seeds(repo: GitRepo) -> Path:
    return repo.path / ".git" / "gittree" / "cache"


def same_as_cold(gittree, monkeypatch, views=VIEWS) -> None:  # type: ignore[no-untyped-def]
    """Every view, through the cache (grown) and without it (cold), gives the same output and exit code."""
    for args in views:
        grown = gittree(*args)
        monkeypatch.setenv("GITTREE_NO_CACHE", "1")
        cold = gittree(*args)
        monkeypatch.delenv("GITTREE_NO_CACHE")
        assert (grown.code, grown.out, grown.err) == (cold.code, cold.out, cold.err), args


def start(repo: GitRepo) -> dict[str, str]:
    """A baseline, an ordinary commit, two branches of ideas: the history every test grows."""
    shas = {"base": repo.experiment("baseline", metrics=[("acc", 0.5), ("loss", 1.0)])}
    repo.commit("refactor loader")
    shas["lr"] = repo.experiment("lower lr", metrics=[("acc", 0.52), ("loss", 0.9)], params=[("lr", "1e-4")])
    repo.branch("exp/wide", shas["lr"])
    shas["wide"] = repo.experiment("wider layers", metrics=[("acc", 0.53), ("loss", 0.7)])
    repo.branch("main", shas["lr"])
    shas["drop"] = repo.experiment("dropout 0.1", metrics=[("acc", 0.51), ("loss", 0.95)])
    return shas


@pytest.fixture
def grown(repo: GitRepo, gittree, monkeypatch):  # type: ignore[no-untyped-def]
    """The history of :func:`start`, its views built once (the seeds stored)."""
    shas = start(repo)
    same_as_cold(gittree, monkeypatch)
    assert (seeds(repo) / "seed-scope.base").exists() and (seeds(repo) / "seed-all.base").exists()
    return shas


def test_a_new_experiment_is_read_alone_and_the_view_is_the_cold_one(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    repo.experiment("label smoothing", metrics=[("acc", 0.515), ("loss", 0.9)])

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole history was read: the tree was not grown")

    monkeypatch.setattr(read, "read_history", whole)
    for args in (("show", "--json"), ("show", "--all", "--json"), ("table", "--all")):
        assert gittree(*args).code == 0
    assert (seeds(repo) / "seed-scope.delta").exists()
    monkeypatch.undo()
    same_as_cold(gittree, monkeypatch)


def test_several_new_experiments_at_once_then_one_more(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The new nodes are stored parents first: the next growth lists them in that order.
    for n in range(6):
        repo.experiment(f"step {n}", metrics=[("acc", 0.52 + n / 1000)])
    same_as_cold(gittree, monkeypatch)
    repo.experiment("one more", metrics=[("acc", 0.5)])
    same_as_cold(gittree, monkeypatch)


def test_only_the_new_experiments_are_evaluated_again(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import gittree.tree as tree_module

    evaluated: list[str] = []
    evaluate_node = tree_module._evaluate_node

    def counting(node, *args):  # type: ignore[no-untyped-def]
        evaluated.append(node.sha)
        return evaluate_node(node, *args)

    new = [repo.experiment(f"step {n}", metrics=[("acc", 0.52 + n / 1000)]) for n in range(2)]
    monkeypatch.setattr(tree_module, "_evaluate_node", counting)
    assert gittree("show", "--json").code == 0
    assert sorted(evaluated) == sorted(new)
    monkeypatch.undo()
    same_as_cold(gittree, monkeypatch)


def test_a_note_that_changes_the_verdicts_below_it_then_new_experiments(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    # lower lr's new sample changes the delta and verdict of everything judged against it
    assert gittree("record", grown["lr"], "--metric", "acc=0.40").code == 0
    same_as_cold(gittree, monkeypatch)
    repo.experiment("on top", metrics=[("acc", 0.515)])
    same_as_cold(gittree, monkeypatch)
    repo.write(".gittree.yaml", "primary: loss\ngoal: min\n")
    same_as_cold(gittree, monkeypatch)
    repo.experiment("judged by loss", metrics=[("acc", 0.5), ("loss", 0.8)])
    same_as_cold(gittree, monkeypatch)
    (repo.path / ".gittree.yaml").unlink()
    repo.experiment("judged by acc again", metrics=[("acc", 0.53), ("loss", 0.8)])
    same_as_cold(gittree, monkeypatch)


def test_a_new_best_moves_every_star(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("much better", metrics=[("acc", 0.9), ("loss", 0.2)])
    same_as_cold(gittree, monkeypatch)
    assert '"best": true' in gittree("show", "--json").out


def test_experiments_on_top_of_an_ordinary_commit_and_a_merge(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    repo.commit("tidy up")  # the branch's tip is an ordinary commit: its frontier is stored
    same_as_cold(gittree, monkeypatch)
    repo.commit("tidy more")
    repo.experiment("after the tidy-up", metrics=[("acc", 0.56)])
    same_as_cold(gittree, monkeypatch)
    repo.merge("exp/wide", "wide + dropout", metrics=[("acc", 0.6), ("loss", 0.5)])
    same_as_cold(gittree, monkeypatch)


def test_a_branch_off_an_old_experiment(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.branch("exp/again", grown["base"])
    repo.experiment("from the baseline again", metrics=[("acc", 0.7)])
    same_as_cold(gittree, monkeypatch)


@pytest.mark.parametrize("how", ["record", "abandon", "abandon-leaf", "ordinary"])
def test_a_new_note(repo: GitRepo, grown, gittree, monkeypatch, how: str) -> None:  # type: ignore[no-untyped-def]
    leaf = repo.experiment("a leaf", metrics=[("acc", 0.505)])
    same_as_cold(gittree, monkeypatch)
    if how == "record":
        assert gittree("record", grown["wide"], "--metric", "acc=0.9").code == 0
    elif how == "abandon":  # an experiment with children: they hang from the live line now
        assert gittree("abandon", grown["lr"], "--reason", "diverged").code == 0
    elif how == "abandon-leaf":
        assert gittree("abandon", leaf, "--reason", "worse").code == 0
    else:  # a note that turns an ordinary commit into an experiment
        ordinary = repo.git("rev-parse", f"{grown['lr']}~1").strip()
        assert gittree("record", ordinary, "--metric", "acc=0.45").code == 0
    same_as_cold(gittree, monkeypatch)


def test_amend_rebase_reset_and_a_deleted_branch(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("to amend", metrics=[("acc", 0.54)])
    same_as_cold(gittree, monkeypatch)
    repo.git("commit", "--amend", "-q", "-m", "amended\n\nGittree-Metric: acc=0.55\n")
    same_as_cold(gittree, monkeypatch)
    repo.git("checkout", "-q", "exp/wide")
    repo.git("rebase", "-q", "-X", "theirs", "main")
    same_as_cold(gittree, monkeypatch)
    repo.git("checkout", "-q", "main")
    dead = repo.experiment("worse", metrics=[("acc", 0.3)])
    same_as_cold(gittree, monkeypatch)
    assert gittree("abandon", dead, "--reason", "worse").code == 0
    repo.git("reset", "-q", "--hard", "HEAD~1")  # the kept dead end stays, reached by the keep ref
    same_as_cold(gittree, monkeypatch)
    repo.experiment("after the reset", metrics=[("acc", 0.56)])
    same_as_cold(gittree, monkeypatch)
    repo.git("branch", "-q", "-D", "exp/wide")
    same_as_cold(gittree, monkeypatch)


def test_an_agent_loop_that_abandons_and_resets_its_losers_grows_each_view(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    """The loop of docs/guide.md: each try committed by gittree (the keep ref keeps it), a loser abandoned
    and reset away before the next view asks. The view finds a new kept dead end on top of the tree:
    grown, not built whole, and the same as cold. A winner stays and the next try builds on it."""

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole history was read: the tree was not grown")

    for step, (acc, wins) in enumerate(
        [(0.31, False), (0.6, True), (0.32, False), (0.33, False), (0.7, True)]
    ):
        repo.write("work.txt", f"try {step}\n")
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-02-01T00:{step:02d}:00+00:00")  # each try its own time
        done = gittree("commit", "-a", "-m", f"try {step}", "--metric", f"acc={acc}")
        assert done.code == 0, done.err
        if not wins:
            assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
            repo.git("reset", "-q", "--hard", "HEAD~1")
        with monkeypatch.context() as patched:
            patched.setattr(read, "read_history", whole)
            for args in (
                ("show", "--json"),
                ("show", "--all", "--color", "never"),
                ("export", "--format", "json"),
            ):
                assert gittree(*args).code == 0, (step, args)
        same_as_cold(gittree, monkeypatch)


def test_an_agent_loop_that_looks_before_it_resets_grows_each_view(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    """The same loop with a view after each step: the try on its branch, then abandoned, then reset away
    (a try the last view saw live is a dead end now, in place): every view grown, the same as cold."""

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole history was read: the tree was not grown")

    def grown_and_cold(step: object) -> None:
        with monkeypatch.context() as patched:
            patched.setattr(read, "read_history", whole)
            for args in (("show", "--json"), ("best", "--json"), ("show", "--all", "--color", "never")):
                assert gittree(*args).code == 0, (step, args)
        same_as_cold(gittree, monkeypatch)

    for step, (acc, wins) in enumerate([(0.31, False), (0.6, True), (0.32, False), (0.7, True)]):
        repo.write("work.txt", f"try {step}\n")
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-02-01T00:{step:02d}:00+00:00")  # each try its own time
        assert gittree("commit", "-a", "-m", f"try {step}", "--metric", f"acc={acc}").code == 0
        grown_and_cold((step, "tried"))
        if not wins:
            assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
            grown_and_cold((step, "abandoned"))
            repo.git("reset", "-q", "--hard", "HEAD~1")
            grown_and_cold((step, "reset"))


def test_a_new_dead_end_that_may_be_a_rewrite_is_built_whole(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    """A kept try amended before any view: the old version is a new dead end with the new one's author
    and date (without the post-rewrite hook, a rewrite a whole build hides); new dead ends on top of
    each other, and one on a branch that is then deleted, give the cold views too."""
    repo.write("work.txt", "kept\n")
    assert gittree("commit", "-a", "-m", "kept try", "--metric", "acc=0.4").code == 0
    repo.git("commit", "-q", "--amend", "-m", "kept try, reworded\n\nGittree-Metric: acc=0.4\n")
    same_as_cold(gittree, monkeypatch)
    repo.write("work.txt", "seen, then amended\n")  # the view sees it live; amended, it is a dead end
    assert gittree("commit", "-a", "-m", "seen try", "--metric", "acc=0.45").code == 0
    same_as_cold(gittree, monkeypatch)
    repo.git("commit", "-q", "--amend", "-m", "seen try, reworded\n\nGittree-Metric: acc=0.45\n")
    same_as_cold(gittree, monkeypatch)
    for n in range(2):
        repo.write("work.txt", f"stacked {n}\n")
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-02-02T00:{n:02d}:00+00:00")
        assert gittree("commit", "-a", "-m", f"stacked {n}", "--metric", f"acc=0.3{n}").code == 0
    repo.git("reset", "-q", "--hard", "HEAD~2")
    same_as_cold(gittree, monkeypatch)
    repo.branch("exp/doomed", repo.head())
    repo.write("work.txt", "doomed\n")
    assert gittree("commit", "-a", "-m", "on a doomed branch", "--metric", "acc=0.2").code == 0
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "exp/doomed")
    same_as_cold(gittree, monkeypatch)


@pytest.mark.parametrize("how", ["git notes", "gittree record", "a note on the earlier version"])
def test_a_note_after_a_rewrite_keeps_its_earlier_version_hidden_unless_it_is_on_that_version(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch, how: str
) -> None:
    """A kept try amended with the same results: its earlier version is hidden (the same author, date and
    results: docs/tree.md). A note added to the new version afterwards (a late seed) was not there at the
    rewrite: the earlier version stays hidden (it came back as a second, discarded copy). A note on the
    earlier version alone gives it results the new one never had: two experiments again. Grown, patched
    and cold views agree each time."""
    repo.write("work.txt", "kept\n")
    assert gittree("commit", "-a", "-m", "kept try", "--metric", "acc=0.4").code == 0
    earlier = repo.head()
    same_as_cold(gittree, monkeypatch)
    repo.git("commit", "-q", "--amend", "-m", "kept try, reworded\n\nGittree-Metric: acc=0.4\n")
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 1' in gittree("show", "--json").out
    if how == "git notes":
        repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: loss=2", "HEAD")
    elif how == "gittree record":
        assert gittree("record", "HEAD", "--metric", "acc=0.41").code == 0
    else:
        repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: loss=2", earlier)
    same_as_cold(gittree, monkeypatch)
    shown = gittree("show", "--json").out
    assert ('"rewritten": 1' in shown) == (how != "a note on the earlier version")
    assert (earlier in shown) == (how == "a note on the earlier version")


def test_a_squash_then_a_late_seed_then_new_experiments(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two kept tries squashed into one (no post-rewrite hook: both earlier versions hidden by what git
    kept of them), a late seed on the squashed one, then experiments on top: grown, patched and cold
    views agree at each step, and a note on a hidden version, then its removal, too."""
    repo.git("config", "notes.rewriteRef", "refs/notes/gittree")
    tries = []
    for step, acc in enumerate(("0.54", "0.55")):
        repo.write("work.txt", f"try {step}\n")
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-03-02T1{step}:00:00+00:00")
        assert gittree("commit", "-a", "-m", f"try {step}", "--metric", f"acc={acc}").code == 0
        tries.append(repo.head())
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    same_as_cold(gittree, monkeypatch)
    repo.squash(2)
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 2' in gittree("show", "--json").out
    assert gittree("record", "HEAD", "--metric", "acc=0.56").code == 0
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 2' in gittree("show", "--json").out
    repo.experiment("after the squash", metrics=[("acc", 0.57)])
    same_as_cold(gittree, monkeypatch)
    repo.git("notes", "--ref", "gittree", "add", "-m", "Gittree-Metric: loss=2", tries[1])
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 1' in gittree("show", "--json").out
    repo.git("notes", "--ref", "gittree", "remove", tries[1])
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 2' in gittree("show", "--json").out


def test_a_hidden_version_whose_note_held_its_results_removed_is_not_counted(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    """An ordinary commit made an experiment by `gittree record`, then amended (git carries the note): its
    earlier version is hidden. The note removed from that version, it records nothing, and a whole build
    no longer counts it as rewritten; the grown and patched views kept counting it."""
    repo.git("config", "notes.rewriteRef", "refs/notes/gittree")
    earlier = repo.commit("plain work")
    assert gittree("record", "HEAD", "--metric", "acc=0.54").code == 0
    repo.git("commit", "-q", "--amend", "-m", "plain work, reworded")
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 1' in gittree("show", "--json").out
    repo.git("notes", "--ref", "gittree", "remove", earlier)
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten"' not in gittree("show", "--json").out


def test_a_version_that_hid_a_dead_end_dying_in_turn_shows_it_again(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    """A kept loser, then a try with its author, date and results on a detached HEAD: a whole build takes
    the loser for the try's earlier version and hides it. HEAD going back leaves the try to the keep ref
    alone: both are dead ends, neither hides the other (the grown tree kept the loser hidden)."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-04-01T00:00:00+00:00")
    repo.write("work.txt", "tried\n")
    assert gittree("commit", "-a", "-m", "tried", "--metric", "acc=0.5").code == 0
    assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
    repo.git("reset", "-q", "--hard", "HEAD~1")
    same_as_cold(gittree, monkeypatch)
    repo.git("checkout", "-q", "--detach", grown["base"])
    repo.write("work.txt", "again\n")
    assert gittree("commit", "-a", "-m", "tried again", "--metric", "acc=0.5").code == 0
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 1' in gittree("show", "--json").out
    repo.git("checkout", "-q", grown["base"])
    same_as_cold(gittree, monkeypatch)
    assert '"rewritten": 1' not in gittree("show", "--json").out


def test_a_revert_takes_an_experiment_back_then_new_experiments_grow(  # type: ignore[no-untyped-def]
    repo: GitRepo, grown, gittree, monkeypatch
) -> None:
    loser = repo.experiment("a loser", metrics=[("acc", 0.3)])
    same_as_cold(gittree, monkeypatch)
    repo.git("revert", "--no-edit", loser)  # a dead end on the line (built whole: it changes an old node)
    same_as_cold(gittree, monkeypatch)
    repo.experiment("after the revert", metrics=[("acc", 0.55)])  # grown: the seed keeps the revert
    same_as_cold(gittree, monkeypatch)


def test_a_new_configuration(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write(".gittree.yaml", "primary: loss\ngoal: min\n")  # in the working tree first, then committed
    same_as_cold(gittree, monkeypatch)
    repo.git("add", ".gittree.yaml")
    repo.git("commit", "-q", "-m", "judge by loss")
    same_as_cold(gittree, monkeypatch)
    repo.experiment("lower loss", metrics=[("acc", 0.5), ("loss", 0.1)])
    same_as_cold(gittree, monkeypatch)


def test_two_worktrees_each_grow_their_own_seed(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    other = repo.path.parent / "other"
    repo.git("worktree", "add", "-q", str(other), "exp/wide")
    for turn in range(2):
        repo.experiment(f"main {turn}", metrics=[("acc", 0.52 + turn / 100)])
        same_as_cold(gittree, monkeypatch)
        monkeypatch.chdir(other)
        (other / "work.txt").write_text(f"wide {turn}\n", encoding="utf-8")
        repo.git("-C", str(other), "commit", "-q", "-am", f"wide {turn}\n\nGittree-Metric: acc=0.6\n")
        same_as_cold(gittree, monkeypatch)
        monkeypatch.chdir(repo.path)
    assert len(list(seeds(repo).glob("seed-scope-*.base"))) == 1  # the linked worktree's own


def test_a_big_delta_is_folded_into_a_new_base(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gittree.read import cache

    monkeypatch.setattr(cache, "DELTA_NODES", 2)
    base = (seeds(repo) / "seed-scope.base").read_bytes()
    for n in range(4):
        repo.experiment(f"step {n}", metrics=[("acc", 0.52 + n / 1000)])
        same_as_cold(gittree, monkeypatch)
    assert (seeds(repo) / "seed-scope.base").read_bytes() != base


def test_a_damaged_delta_falls_back_to_the_base(repo: GitRepo, grown, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("one", metrics=[("acc", 0.54)])
    same_as_cold(gittree, monkeypatch)
    delta = seeds(repo) / "seed-scope.delta"
    delta.write_bytes(delta.read_bytes()[:-5])
    repo.experiment("two", metrics=[("acc", 0.57)])
    same_as_cold(gittree, monkeypatch)


# -- random sequences of the same changes -----------------------------------------------------------

STEPS = st.lists(
    st.sampled_from(
        [
            "experiment",
            "several",
            "best",
            "ordinary",
            "branch",
            "merge",
            "record",
            "abandon",
            "amend",
            "reset",
            "delete",
            "kept",
            "kept loser",
        ]
    ),
    min_size=1,
    max_size=6,
)


def apply(repo: GitRepo, gittree, step: str, counter: int, monkeypatch=None) -> None:  # type: ignore[no-untyped-def]
    """One change of an agent loop (or of a person) to the repository."""
    head = repo.head()
    if step.startswith("kept"):  # a try gittree commits (the keep ref keeps it), a loser taken back
        if monkeypatch is not None:  # its own author time, as tries made one after another have
            monkeypatch.setenv("GIT_AUTHOR_DATE", f"2026-03-01T00:{counter:02d}:00+00:00")
        repo.write("work.txt", f"try {counter}\n")
        assert gittree("commit", "-a", "-m", f"try {counter}", "--metric", f"acc=0.4{counter}").code == 0
        if step == "kept loser":
            assert gittree("abandon", "HEAD", "--reason", "worse").code == 0
            repo.git("reset", "-q", "--hard", "HEAD~1")
        return
    if step == "experiment":
        repo.experiment(f"idea {counter}", metrics=[("acc", 0.5 + counter / 1000)])
    elif step == "several":  # more than one new node in one growth: they are stored parents first
        for n in range(3):
            repo.experiment(f"idea {counter}.{n}", metrics=[("acc", 0.5 - n / 100)])
        repo.commit(f"chore {counter}")
    elif step == "best":
        repo.experiment(f"best {counter}", metrics=[("acc", 0.8 + counter / 100)])
    elif step == "ordinary":
        repo.commit(f"chore {counter}")
    elif step == "branch":
        repo.branch(f"exp/b{counter}", f"{head}~1")
        repo.experiment(f"side {counter}", metrics=[("acc", 0.49)])
    elif step == "merge":
        repo.merge("exp/wide", f"merge {counter}", metrics=[("acc", 0.52)])
    elif step == "record":
        assert gittree("record", head, "--metric", f"loss={counter}").code == 0
    elif step == "abandon":
        gittree("abandon", head, "--reason", "worse")  # refused on an ordinary commit: fine too
    elif step == "amend":
        repo.git(
            "commit",
            "--amend",
            "-q",
            "--allow-empty",
            "-m",
            f"amended {counter}\n\nGittree-Metric: acc=0.4\n",
        )
    elif step == "reset":  # (at the root commit there is nothing to take back)
        if repo.git("rev-parse", "-q", "--verify", "HEAD~1", check=False).strip():
            repo.git("reset", "-q", "--hard", "HEAD~1")
    elif step == "delete":
        repo.git("checkout", "-q", "main")
        repo.git("branch", "-q", "-D", "exp/wide", check=False)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_any_sequence_of_changes_gives_the_cold_views(  # type: ignore[no-untyped-def]
    tmp_path_factory, gittree, monkeypatch, steps: list[str]
) -> None:
    repo = GitRepo(tmp_path_factory.mktemp("seq") / "repo")
    monkeypatch.chdir(repo.path)
    start(repo)
    views = (("show", "--json"), ("show", "--all", "--color", "never"))
    same_as_cold(gittree, monkeypatch, views)
    for counter, step in enumerate(steps):
        apply(repo, gittree, step, counter, monkeypatch)
        same_as_cold(gittree, monkeypatch, views)
