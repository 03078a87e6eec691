"""Three clones of one bare remote record experiments and notes and sync, in interleaved orders and all at once.

At the end every clone shows the same tree (``gittree show --all --json``), holding the union of every
metric and note anyone recorded: nothing lost, nothing doubled.
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.teamenv import Clone, Team, samples, sync_in_order


class Ledger:
    """What the team recorded, to compare with what every clone ends up showing."""

    def __init__(self, team: Team) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.samples[team.baseline].append(0.5)
        self.notes: dict[str, list[str]] = defaultdict(list)

    def experiment(self, clone: Clone, branch: str, subject: str, value: float) -> str:
        sha = clone.experiment(branch, subject, acc=value)
        self.samples[sha].append(value)
        return sha

    def note(self, clone: Clone, sha: str, value: float) -> None:
        text = f"{clone.name} re-ran it: {value}"
        clone.note(sha, f"Gittree-Metric: acc={value}", f"Gittree-Note: {text}")
        self.samples[sha].append(value)
        self.notes[sha].append(text)

    def check(self, clones: list[Clone]) -> None:
        trees = [clone.tree_json() for clone in clones]
        for clone, tree in zip(clones[1:], trees[1:], strict=True):
            assert tree == trees[0], f"{clone.name} shows a different tree from {clones[0].name}"
        assert samples(trees[0]) == {sha: sorted(values) for sha, values in self.samples.items()}
        notes = {node["sha"]: sorted(node["notes"]) for node in trees[0]["nodes"] if node["notes"]}
        assert notes == {sha: sorted(texts) for sha, texts in self.notes.items()}


def converge(clones: list[Clone]) -> None:
    """Everyone syncs until nobody has anything new: one pass gathers, a second spreads."""
    sync_in_order(clones + clones[:-1])


def test_interleaved_syncs_lose_nothing(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ada, bob, chen = (team.clone(name) for name in ("Ada", "Bob", "Chen"))
    ledger = Ledger(team)

    a1 = ledger.experiment(ada, "exp/ada", "ada: wider", 0.61)
    b1 = ledger.experiment(bob, "exp/bob", "bob: deeper", 0.62)
    ledger.note(chen, team.baseline, 0.51)
    sync_in_order([bob, ada])
    ledger.note(ada, b1, 0.63)  # Ada re-runs Bob's experiment ...
    ledger.note(bob, b1, 0.64)  # ... while Bob does too
    ledger.note(bob, team.baseline, 0.52)
    sync_in_order([chen, bob])
    c1 = ledger.experiment(chen, "exp/chen", "chen: mixup", 0.6)
    ledger.note(chen, a1, 0.65)
    sync_in_order([ada, chen])
    ledger.note(ada, c1, 0.66)
    ledger.experiment(ada, "exp/ada", "ada: wider still", 0.67)
    ledger.note(bob, team.baseline, 0.53)
    sync_in_order([chen, ada, bob])
    ledger.note(chen, team.baseline, 0.54)

    converge([ada, bob, chen])
    ledger.check([ada, bob, chen])


@pytest.mark.slow
def test_concurrent_syncs_lose_nothing(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    clones = [team.clone(name) for name in ("Ada", "Bob", "Chen")]
    ledger = Ledger(team)
    shared: list[str] = []

    for round_ in range(3):
        for i, clone in enumerate(clones):
            value = round(0.6 + round_ / 10 + i / 100, 4)
            shared.append(ledger.experiment(clone, f"exp/{clone.name.lower()}", f"round {round_}", value))
            # Everyone writes to the same notes at once: the baseline's and the latest shared experiment's.
            ledger.note(clone, team.baseline, round(0.5 + value / 100, 6))
            if len(shared) > 3:
                ledger.note(clone, shared[-4], round(value + 0.001, 6))
        # Started together: each process races the others for the remote's refs.
        processes = [
            subprocess.Popen(
                clone.command("sync"),
                env=clone.process_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for clone in clones
        ]
        for clone, process in zip(clones, processes, strict=True):
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, f"{clone.name}: {out}{err}"

    converge(clones)
    ledger.check(clones)
    assert len(samples(clones[0].tree_json())) == 1 + 9


PUSH_ONE = """
import sys
from gittree import gitio
from gittree.sync import push_branch_and_notes
push_branch_and_notes(gitio.open_repo(sys.argv[1]), None, sys.argv[2])
"""


@pytest.mark.slow
def test_parallel_runs_in_one_clone_push_their_branches_and_notes(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    """What `gittree run --branch sweep/NAME --push` does when a sweep starts several runs in one clone."""
    team = Team(tmp_path, gittree)
    node = team.clone("Node")
    ledger = Ledger(team)
    branches = [f"sweep/lr-{i}" for i in range(4)]
    for i, branch in enumerate(branches):
        sha = ledger.experiment(node, branch, f"lr {i}", 0.6 + i / 100)
        ledger.note(node, sha, 0.7 + i / 100)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PUSH_ONE, str(node.path), branch],
            env=node.process_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for branch in branches
    ]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, out + err
    remote = team.remote_refs()
    assert all(remote[f"refs/heads/{branch}"] == node.rev(branch) for branch in branches)
    assert remote["refs/notes/gittree"] == node.rev("refs/notes/gittree")
    reader = team.clone("Reader")
    reader.sync()
    ledger.check([reader])


def test_a_teammates_live_experiment_is_no_dead_end_in_the_default_view(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    """After a sync the merged keep ref brings Ben's experiment, live on ``origin/exp/b``; it was drawn
    as a ``discarded`` dead end in Ana's default view (her scope is her local branches), left out of
    her ``best``, and the clones disagreed. Discarded is what no branch, tag or remote-tracking branch
    reaches, in every view, as ``gittree kept`` says."""
    import json

    team = Team(tmp_path, gittree)
    ana, ben = team.clone("Ana"), team.clone("Ben")
    ana.experiment("exp/a", "a1", acc=0.55)
    ana.sync()
    ben.sync()
    b1 = ben.experiment("exp/b", "b1", start="origin/exp/a", acc=0.9)
    ben.sync()
    ana.sync()
    shown = ana.gittree("show", "--json")
    assert shown.code == 0, shown.err
    node = next(node for node in json.loads(shown.out)["nodes"] if node["sha"] == b1)
    assert node["verdict"] == "better" and node["best"]
    for clone in (ana, ben):
        best = json.loads(clone.gittree("best", "--json").out)
        assert best["best"][0]["sha"] == b1 and best["left_out"]["dead_end"] == 0
    # A try Ben resets away is still a dead end in both clones once synced.
    loser = ben.experiment("exp/b", "b2, worse", acc=0.4)
    ben.git("reset", "-q", "--hard", "HEAD~1")
    ben.sync()
    ana.sync()
    for clone in (ana, ben):
        tree = json.loads(clone.gittree("show", "--json").out)
        assert next(node for node in tree["nodes"] if node["sha"] == loser)["verdict"] == "discarded"
