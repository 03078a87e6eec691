"""A live agent loop and the same loop imported from its log give the same tree (issue 17, point 3).

Two real repositories are built by one scripted autoresearch-style loop: edit train.py, run it, keep
the change or take it back (`git reset --hard HEAD~1`, or `git revert`), append a row to results.tsv.
In the live repository the agent runs each try through `gittree run --capture val_bpb` and marks a loser
with `gittree abandon HEAD --reason ...` before taking it back (docs/agents.md); in the other it commits
with plain git and `gittree import results.tsv` reads its log afterwards (docs/import.md). Both trees
must agree on every experiment, verdict, ★, dead end and parent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import GitRepo
from tests.runtools import PYTHON, gittree_process

CONFIG = "primary: val_bpb\nmetrics:\n  val_bpb:\n    goal: min\n"
HEADER = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"

# (description, val_bpb or None for a crash, what the agent does with it)
LOOP: list[tuple[str, float | None, str]] = [
    ("baseline", 0.9979, "keep"),
    ("increase LR to 0.04", 0.9932, "keep"),
    ("switch to GeLU activation", 1.0050, "reset"),
    ("double the model width", None, "reset"),
    ("add 5% warmup", 0.9901, "keep"),
    ("weight decay 0.1", 0.9950, "revert"),
    ("RMSNorm instead of LayerNorm", 0.9880, "keep"),
    ("batch size 2x", 0.9890, "reset"),
    ("rotary base 50k", 0.9895, "reset"),
    ("longer warmup", 0.9871, "keep"),
    ("drop dropout", 0.9990, "revert"),
    ("tie embeddings", 0.9862, "keep"),
]


def train_script(description: str, bpb: float | None) -> str:
    if bpb is None:
        return f"# {description}\nraise SystemExit('CUDA out of memory')\n"
    return f"# {description}\nprint('step 100 loss 3.2')\nprint('val_bpb: {bpb:.6f}')\n"


def status_of(bpb: float | None, action: str) -> str:
    return "crash" if bpb is None else ("keep" if action == "keep" else "discard")


def start(path: Path) -> GitRepo:
    repo = GitRepo(path / "repo")
    repo.write(".gittree.yaml", CONFIG)
    repo.write("train.py", "print('val_bpb: 1.5')\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "prepare.py and train.py")
    return repo


def gittree_ok(repo: GitRepo, *args: str) -> str:
    done = gittree_process(*args, cwd=repo.path)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def take_back(repo: GitRepo, action: str) -> None:
    if action == "reset":
        repo.git("reset", "-q", "--hard", "HEAD~1")
    elif action == "revert":
        repo.git("revert", "--no-edit", "HEAD")


def log_row(log: list[str], sha: str, description: str, bpb: float | None, action: str) -> None:
    memory = "0.0" if bpb is None else "44.0"
    log.append(f"{sha[:7]}\t{bpb or 0:.6f}\t{memory}\t{status_of(bpb, action)}\t{description}\n")


def live_loop(path: Path, *, abandon: bool = True) -> tuple[GitRepo, str]:
    """The agent records every try with `gittree run` and says "discard" with `gittree abandon`."""
    repo = start(path)
    log = [HEADER]
    for description, bpb, action in LOOP:
        repo.write("train.py", train_script(description, bpb))
        run = ("run", "-m", description, "--capture", "val_bpb", "--", PYTHON, "train.py")
        # the loop's clock moves as in the other repository: one hour per step
        done = gittree_process(*run, cwd=repo.path, env=repo.env())
        assert done.returncode == (0 if bpb is not None else 1), done.stderr
        sha = repo.head()
        log_row(log, sha, description, bpb, action)
        if abandon and bpb is not None and action != "keep":
            gittree_ok(repo, "abandon", "HEAD", "--reason", description)
        take_back(repo, action)
    return repo, "".join(log)


def imported_loop(path: Path) -> tuple[GitRepo, str]:
    """The agent commits with plain git, runs, and only writes results.tsv; gittree imports it after."""
    repo = start(path)
    log = [HEADER]
    for description, bpb, action in LOOP:
        repo.write("train.py", train_script(description, bpb))
        repo.git("commit", "-q", "-am", description)
        log_row(log, repo.head(), description, bpb, action)
        take_back(repo, action)
    return repo, "".join(log)


def shown(repo: GitRepo) -> dict[str, dict[str, Any]]:
    """`show --json` keyed by subject (the two repositories' shas differ), parents as subjects."""
    nodes = json.loads(gittree_ok(repo, "show", "--json"))["nodes"]
    subject = {n["sha"]: n["subject"] for n in nodes}
    assert len(set(subject.values())) == len(nodes)
    return {
        n["subject"]: {
            "verdict": n["verdict"],
            "best": n["best"],
            "status": n.get("status"),
            "parents": [subject.get(p, p[:7]) for p in n["parents"]],
            "val_bpb": (n["metrics"].get("val_bpb") or {}).get("mean"),
        }
        for n in nodes
    }


def import_log(repo: GitRepo, log: str) -> str:
    path = repo.path.parent / "results.tsv"  # outside the working tree, as autoresearch leaves it
    path.write_text(log, encoding="utf-8")
    return gittree_ok(repo, "import", str(path), "--format", "autoresearch")


def drawn(repo: GitRepo) -> str:
    """`show` without what differs by design: the shas, the exit code (only a run knows it), and the
    author column (drawn when reconstructed experiments, authored by `gittree import`, are in view)."""
    text = gittree_ok(repo, "show", "--color", "never")
    text = re.sub(r"\b[0-9a-f]{7}\b", "SHA", text)
    text = re.sub(r"(Ada Tester|gittree imp…) +", "", text.replace("failed  exit 1", "failed"))
    return re.sub(r" {2,}", "  ", text)


def test_a_live_loop_and_its_imported_log_give_the_same_tree(tmp_path: Path) -> None:
    live, _ = live_loop(tmp_path / "live")
    imported, log = imported_loop(tmp_path / "imported")
    # the losers the plain loop reset away are collected: the import reconstructs them from the log
    imported.git("reflog", "expire", "--expire=now", "--all")
    imported.git("gc", "-q", "--prune=now")
    assert "8 recorded, 4 reconstructed" in import_log(imported, log)
    tree = shown(live)
    assert tree == shown(imported)
    assert drawn(live) == drawn(imported)
    assert [key for key, node in tree.items() if node["best"]] == ["tie embeddings"]
    dead = {key: node["verdict"] for key, node in tree.items() if node["verdict"] in ("abandoned", "failed")}
    assert dead == {
        description: "failed" if bpb is None else "abandoned"
        for description, bpb, action in LOOP
        if action != "keep"
    }
    # dead ends hang off the kept line, the kept line runs past the reverts and is judged against kept ones
    assert tree["rotary base 50k"]["parents"] == ["RMSNorm instead of LayerNorm"]
    assert tree["RMSNorm instead of LayerNorm"]["parents"] == ["add 5% warmup"]
    assert tree["tie embeddings"]["parents"] == ["longer warmup"]


def test_importing_a_live_loops_own_log_changes_nothing(tmp_path: Path) -> None:
    """Regression: every row of a loop that used `gittree run` was recorded again, doubling each sample
    (0.9979 ± 0.0000 (2)) and so faking a noise estimate of zero behind every verdict."""
    live, log = live_loop(tmp_path / "live")
    before = (shown(live), live.git("rev-parse", "refs/notes/gittree", "refs/gittree/keep"))
    summary = import_log(live, log)
    assert "12 rows: 12 already imported · nothing written" in summary
    assert "the commit already records these results" in summary
    assert (shown(live), live.git("rev-parse", "refs/notes/gittree", "refs/gittree/keep")) == before


def test_a_live_loop_that_does_not_abandon_its_losers(tmp_path: Path) -> None:
    """Without `gittree abandon` the live tree knows what git shows it (docs/agents.md): a loser reset
    away is a `discarded` dead end where the log says `abandoned`, and so is a reverted one (`git
    revert` names it: `This reverts commit <sha>.`). Everything else agrees with the imported log:
    every dead end hangs where the log's does, and the kept line is judged against kept experiments."""
    live, _ = live_loop(tmp_path / "live", abandon=False)
    imported, log = imported_loop(tmp_path / "imported")
    import_log(imported, log)
    tree, told = shown(live), shown(imported)
    assert set(tree) == set(told)
    losers = {d for d, bpb, action in LOOP if action != "keep" and bpb is not None}
    for key in losers:
        assert (tree[key]["verdict"], told[key]["verdict"]) == ("discarded", "abandoned")
        assert {**tree[key], "verdict": "", "status": ""} == {**told[key], "verdict": "", "status": ""}
    assert {k: tree[k] for k in set(tree) - losers} == {k: told[k] for k in set(told) - losers}
    assert tree["RMSNorm instead of LayerNorm"]["parents"] == ["add 5% warmup"]
    assert tree["tie embeddings"]["parents"] == ["longer warmup"]
    reverted = next(line for line in drawn(live).splitlines() if "weight decay 0.1" in line)
    assert "discarded" in reverted
    revert = live.git("log", "--format=%h", "--grep", "^This reverts commit", "-1").strip()
    story = gittree_ok(live, "export", "--format", "markdown")
    assert f"(discarded): reverted by {revert[:7]}" in story
