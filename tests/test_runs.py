"""`gittree run`, `runs` and `recover`: real repositories, real child processes."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import GITTREE, journal, only_run, py, run_dir, wait_for


def message(repo: GitRepo, rev: str = "HEAD") -> str:
    return repo.git("log", "-1", "--format=%B", rev)


def record_of(repo: GitRepo, rev: str = "HEAD"):  # type: ignore[no-untyped-def]
    record = parse_experiment(message(repo, rev))
    assert record is not None, message(repo, rev)
    return record


def test_a_run_is_streamed_journalled_and_committed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    repo.write("train.py", "lr = 3e-4\n")
    repo.git("add", "train.py")
    repo.write("work.txt", "edited\n")  # tracked and modified: part of the experiment's code
    result = gittree(
        "run",
        "--capture",
        "val_bpb",
        "--name",
        "cosine schedule",
        "--param",
        "lr=3e-4",
        "--",
        *py(
            "import sys; print('step 1 val_bpb: 1.2'); print('val_bpb:   0.9979'); print('warn', file=sys.stderr)"
        ),
    )
    assert result.code == 0, result.err
    assert "val_bpb:   0.9979" in result.out and "warn" in result.out + result.err
    assert "committed" in result.err

    record = record_of(repo)
    assert message(repo).startswith("cosine schedule\n\n")
    assert record.metric_dict() == {"val_bpb": (0.9979,)}
    assert record.param_dict() == {"lr": "3e-4"}
    assert record.status is None
    facts = record.run_dict()
    assert facts["exit"] == "0" and "print" in facts["cmd"] and float(facts["duration"]) >= 0
    entry = only_run(repo.path)
    assert facts["id"] == entry["id"]
    assert entry["status"] == "committed" and entry["sha"] == repo.head() and entry["branch"] == "main"
    assert entry["exit_code"] == 0 and entry["start"] and entry["end"] and entry["duration"] >= 0
    folder = run_dir(repo.path, entry["id"])
    assert "val_bpb:   0.9979" in (folder / "output.log").read_text()
    assert json.loads((folder / "metrics.json").read_text())["metrics"] == [
        {"name": "val_bpb", "value": "0.9979", "source": "capture"}
    ]
    # the code was committed, and the checkout is clean afterwards, as after `git commit -a`
    assert repo.git("show", "HEAD:work.txt") == "edited\n" and repo.git("show", "HEAD:train.py")
    assert repo.git("status", "--porcelain") == ""


def test_output_is_live_while_the_command_runs(repo: GitRepo, tmp_path: Path) -> None:
    """The command waits until the test has seen its first line: buffered output would hang here."""
    repo.commit("start")
    go = tmp_path / "go"
    script = f"import pathlib, time\nprint('first line')\nwhile not pathlib.Path({str(go)!r}).exists(): time.sleep(0.02)\nprint('done')"
    runner = subprocess.Popen(
        [str(GITTREE), "run", "--", *py(script)], cwd=repo.path, stdout=subprocess.PIPE, text=True
    )
    assert runner.stdout is not None
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(iter(runner.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for(lambda: "first line\n" in seen, "the first line to arrive while the command still runs")
    finally:
        go.touch()
    assert runner.wait(timeout=60) == 0
    reader.join(timeout=60)
    assert seen == ["first line\n", "done\n"]


def test_dash_c_runs_the_command_in_that_folder(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    monkeypatch.chdir(tmp_path)
    assert gittree("-C", str(repo.path), "run", "--", "touch", "made-here").code == 0
    assert (repo.path / "made-here").exists()


def test_three_metric_sources_and_which_wins(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    script = (
        "import json, gittree\n"
        "gittree.log_metric('acc', 0.5)\n"
        "gittree.log_metric('acc', 0.91)\n"  # logged every epoch: the last value is recorded
        "json.dump({'acc': 0.1, 'val': {'loss': 0.25}, 'seeds': [1, 2]}, open('metrics.json', 'w'))\n"
        "print('acc: 0.2'); print('loss: 0.3'); print('val/loss: 9')\n"
    )
    result = gittree(
        "run",
        "--metrics-file",
        "metrics.json",
        "--capture",
        "acc",
        "--capture",
        "loss",
        "--capture",
        "val/loss",
        "--",
        *py(script),
    )
    assert result.code == 0, result.err
    assert record_of(repo).metric_dict() == {
        "acc": (0.91,),  # log_metric beats the file and the output
        "val/loss": (0.25,),  # the file beats the output
        "seeds": (1.0, 2.0),  # a list in the file is several samples
        "loss": (0.3,),
    }
    folder = run_dir(repo.path, only_run(repo.path)["id"])
    assert json.loads((folder / "metrics-file.json").read_text())["acc"] == 0.1  # kept as the run left it


def test_config_supplies_capture_and_metrics_file(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write(".gittree.yaml", "run:\n  capture: [val_bpb]\n  metrics_file: out/m.yaml\n")
    repo.commit("config")
    script = (
        "import os; os.makedirs('out'); open('out/m.yaml', 'w').write('loss: 1.5\\n'); print('val_bpb: 0.8')"
    )
    assert gittree("run", "--", *py(script)).code == 0
    assert record_of(repo).metric_dict() == {"loss": (1.5,), "val_bpb": (0.8,)}


def test_a_missing_or_bad_metrics_file_is_a_warning_not_a_loss(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("run", "--metrics-file", "nope.json", "--capture", "acc", "--", *py("print('acc: 0.4')"))
    assert result.code == 0 and "was not written" in result.err
    assert record_of(repo).metric_dict() == {"acc": (0.4,)}
    result = gittree(
        "run", "--metrics-file", "m.json", "--", *py("open('m.json','w').write('{\"acc\": \"hi\"}')")
    )
    assert result.code == 0 and "ignored" in result.err
    assert "ignored" in journal(repo.path)[-1]["warnings"][0]


def test_a_failing_command_is_committed_as_failed_and_its_code_passed_on(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("run", "--capture", "loss", "--", *py("print('loss: nan'); raise SystemExit(3)"))
    assert result.code == 3
    record = record_of(repo)
    assert record.status == "failed" and record.run_dict()["exit"] == "3"
    assert [str(x) for x in record.metric_dict()["loss"]] == ["nan"]
    assert only_run(repo.path)["outcome"] == "failed"


def test_failed_runs_can_be_kept_out_of_the_tree_by_config(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write(".gittree.yaml", "run:\n  commit_failed: false\n")
    start = repo.commit("start")
    assert gittree("run", "--", "false").code == 1
    assert repo.head() == start
    entry = only_run(repo.path)
    assert entry["status"] == "not-committed" and "commit_failed" in entry["reason"]
    assert gittree("recover").code == 0 and repo.head() == start  # kept on purpose: not recovered
    assert gittree("recover", entry["id"]).code == 0
    assert record_of(repo).status == "failed"


def test_no_commit_keeps_the_run_for_later(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    result = gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.7')"))
    assert result.code == 0 and "not committed" in result.err
    assert repo.head() == start
    run_id = only_run(repo.path)["id"]
    listing = gittree("runs")
    assert run_id in listing.out and "not-committed" in listing.out
    result = gittree("recover", run_id[:20])  # a unique prefix is enough
    assert result.code == 0 and "committed as" in result.out
    assert record_of(repo).metric_dict() == {"acc": (0.7,)}
    again = gittree("recover", run_id)  # idempotent: the post-run hook may call it twice
    assert again.code == 0 and "already committed" in again.out
    elsewhere = gittree("recover", run_id, "--branch", "exp/other")  # committed: not moved elsewhere
    assert elsewhere.code == 11 and "still not committed" not in elsewhere.err
    assert f"already committed as {repo.head()[:7]} on " in elsewhere.err and "cherry-pick" in elsewhere.err
    unknown = gittree("recover", "nosuch")
    assert unknown.code == 11 and "no run 'nosuch' in the journal" in unknown.err
    assert "still not committed" not in unknown.err


def test_the_commit_holds_the_code_the_run_started_with(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("model.py", "depth = 4\n")
    repo.commit("start")
    repo.write("model.py", "depth = 8\n")
    # The run's author keeps working while it runs: the edit is not the experiment's code.
    script = "open('model.py', 'w').write('depth = 16\\n'); print('acc: 0.8')"
    assert gittree("run", "--capture", "acc", "--", *py(script)).code == 0
    assert repo.git("show", "HEAD:model.py") == "depth = 8\n"
    assert (repo.path / "model.py").read_text() == "depth = 16\n"
    assert repo.git("status", "--porcelain").strip() == "M model.py"  # an unstaged edit, nothing lost


def test_an_edit_in_the_same_second_as_the_index_is_snapshotted(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Regression: the run's private copy of the index was stamped "now". git tells a racily clean
    # entry (a file changed in the same second as the index was written, same size) by comparing
    # the entry's time with the index file's time; stamped a second later, the copy made git trust
    # the stale entry and the run committed the old code (a test flaked that way under load).
    for attempt in range(5):
        time.sleep(1.02 - time.time() % 1)  # the start of a fresh second
        repo.write("model.py", f"v{attempt} = 4\n")
        repo.commit("start")
        repo.write("model.py", f"v{attempt} = 8\n")  # the same size, in the same second
        index, model = (repo.path / ".git" / "index").stat(), (repo.path / "model.py").stat()
        if int(index.st_mtime) == int(model.st_mtime) == int(model.st_ctime):
            break
    else:
        pytest.fail("could not make the edit within one second of the commit (the machine is too busy)")
    time.sleep(1.02 - time.time() % 1)  # a copy made now is a second younger than the index
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.8')")).code == 0
    assert repo.git("show", "HEAD:model.py") == f"v{attempt} = 8\n"


def test_new_files_need_add(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    repo.write("new_layer.py", "x = 1\n")
    assert gittree("run", "--", "true").code == 0
    assert "new_layer.py" not in repo.git("ls-tree", "--name-only", "HEAD")
    assert gittree("run", "--add", "--", "true").code == 0
    assert "new_layer.py" in repo.git("ls-tree", "--name-only", "HEAD")


def test_staged_work_unrelated_to_the_run_stays_staged(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("a.py", "a\n")
    repo.commit("start")
    repo.write("a.py", "a2\n")  # part of the run
    # staged during the run, by the user in another terminal
    script = (
        "import subprocess; open('b.py','w').write('b\\n'); subprocess.run(['git','add','b.py'], check=True)"
    )
    assert gittree("run", "--", *py(script)).code == 0
    assert "b.py" not in repo.git("ls-tree", "--name-only", "HEAD")
    assert repo.git("status", "--porcelain").splitlines() == ["A  b.py"]


def test_branch_commits_elsewhere_without_touching_the_checkout(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("model.py", "narrow\n")
    start = repo.commit("start")
    repo.write("model.py", "wide\n")
    repo.write("notes.txt", "staged\n")
    repo.git("add", "notes.txt")
    before = (repo.git("status", "--porcelain"), repo.git("ls-files", "--stage"), repo.git("stash", "list"))
    result = gittree("run", "--branch", "exp/wide", "--capture", "acc", "--", *py("print('acc: 0.6')"))
    assert result.code == 0, result.err
    assert "on exp/wide" in result.err
    assert repo.head() == start and repo.git("symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert (
        repo.git("status", "--porcelain"),
        repo.git("ls-files", "--stage"),
        repo.git("stash", "list"),
    ) == before
    tip = repo.git("rev-parse", "exp/wide").strip()
    assert repo.git("rev-parse", f"{tip}^").strip() == start  # a new branch starts at HEAD
    assert (
        repo.git("show", f"{tip}:model.py") == "wide\n" and repo.git("show", f"{tip}:notes.txt") == "staged\n"
    )
    assert record_of(repo, "exp/wide").metric_dict() == {"acc": (0.6,)}
    # an existing branch: the run lands on its tip
    assert gittree("run", "--branch", "exp/wide", "--", "true").code == 0
    assert repo.git("rev-parse", "exp/wide^").strip() == tip


def test_a_bad_branch_name_is_refused_before_running(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("run", "--branch", "bad..name", "--", "touch", "ran")
    assert result.code == 6 and not (repo.path / "ran").exists() and journal(repo.path) == []


def test_a_command_that_cannot_start(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("run", "--", "no-such-program-xyz")
    assert result.code == 11 and "no-such-program-xyz" in result.err
    entry = only_run(repo.path)
    assert entry["status"] == "not-committed" and "could not be started" in entry["reason"]


def test_a_run_in_a_new_repository_makes_the_first_commit(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("train.py", "print(1)\n")
    repo.git("add", "train.py")
    assert gittree("run", "--capture", "acc", "--", *py("print('acc=0.1')")).code == 0
    assert repo.git("rev-list", "--count", "HEAD").strip() == "1"
    assert repo.git("ls-tree", "--name-only", "HEAD").split() == ["train.py"]
    assert repo.git("status", "--porcelain") == ""


def test_a_run_on_a_detached_head(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    second = repo.commit("second")
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    assert gittree("run", "--", "true").code == 0
    assert repo.git("rev-parse", "HEAD~1").strip() != second
    assert repo.git("rev-parse", "main").strip() == second
    assert only_run(repo.path)["branch"] is None


def test_a_run_started_detached_never_lands_on_the_branch_checked_out_meanwhile(
    repo: GitRepo, gittree
) -> None:  # type: ignore[no-untyped-def]
    # Regression: the run moved `main` to its commit and said "committed ... on a detached HEAD".
    repo.commit("start")
    main = repo.head()
    repo.git("checkout", "-q", "--detach")
    result = gittree("run", "--capture", "acc", "--", "sh", "-c", "git checkout -q main; echo acc: 0.7")
    assert result.code == 7 and "started on a detached HEAD, which is now on main" in result.err
    assert repo.git("rev-parse", "main").strip() == main
    entry = only_run(repo.path)
    assert entry["status"] == "commit-failed"
    recovered = gittree("recover", entry["id"], "--branch", "exp/from-detached")
    assert recovered.code == 0, recovered.err
    assert repo.git("rev-parse", "exp/from-detached~1").strip() == main
    assert repo.git("rev-parse", "main").strip() == main


def test_a_run_in_a_linked_worktree(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "side", str(linked))
    monkeypatch.chdir(linked)
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.3')")).code == 0
    assert record_of(repo, "side").metric_dict() == {"acc": (0.3,)}
    assert journal(repo.path) == journal(linked)  # one journal, in the common git directory
    assert (
        subprocess.run(["git", "status", "--porcelain"], cwd=linked, capture_output=True, text=True).stdout
        == ""
    )


def test_a_branch_checked_out_in_another_worktree_is_refused(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    repo.git("worktree", "add", "-q", "-b", "busy", str(tmp_path / "other"))
    result = gittree("run", "--branch", "busy", "--", "true")
    assert result.code == 7 and "checked out in another worktree" in result.err
    assert only_run(repo.path)["status"] == "commit-failed"


def checkout_with_its_git_dir_elsewhere(repo: GitRepo, tmp_path: Path, layout: str) -> Path:
    """The top of a checkout whose git dir is not its ``.git`` folder: a submodule (git dir under the
    superproject's ``.git/modules``), or a repository made by ``git init --separate-git-dir``."""
    if layout == "submodule":
        library = GitRepo(tmp_path / "library")
        library.commit("library start")
        repo.commit("outer start")
        repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library.path), "lib")
        repo.git("commit", "-q", "-m", "add the library")
        return repo.path / "lib"
    top = tmp_path / "separate"
    subprocess.run(
        ["git", "init", "-q", "-b", "main", f"--separate-git-dir={tmp_path / 'separate.git'}", str(top)],
        check=True,
    )
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "start"], cwd=top, check=True)
    return top


@pytest.mark.parametrize("layout", ["submodule", "separate git dir"])
def test_a_run_commits_where_git_lists_the_git_dir_as_the_main_worktree(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, tmp_path: Path, monkeypatch, layout: str
) -> None:
    """There `git worktree list` names the main worktree after its git dir (git 2.39): that entry is this
    checkout, not another worktree holding the branch."""
    top = checkout_with_its_git_dir_elsewhere(repo, tmp_path, layout)
    monkeypatch.chdir(top)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=top, capture_output=True, text=True, check=True).stdout

    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.3')"))
    assert result.code == 0, result.err
    assert git("log", "-1", "--format=%s", "main").startswith("run: ")
    assert git("status", "--porcelain") == ""
    assert gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.4')")).code == 0
    recovered = gittree("recover", journal(top)[-1]["id"])
    assert recovered.code == 0, recovered.err
    assert "acc=0.4" in git("log", "-1", "--format=%B", "main")
    assert git("status", "--porcelain") == ""
    # a branch checked out in a linked worktree is still refused, and this checkout's branch from there
    git("worktree", "add", "-q", "-b", "busy", str(tmp_path / "linked"))
    refused = gittree("run", "--branch", "busy", "--", "true")
    assert refused.code == 7 and "checked out in another worktree" in refused.err
    monkeypatch.chdir(tmp_path / "linked")
    refused = gittree("run", "--branch", "main", "--", "true")
    assert refused.code == 7 and "checked out in another worktree" in refused.err


@pytest.mark.parametrize("with_pre_commit", [False, True], ids=["post-commit alone", "with pre-commit"])
def test_the_post_commit_hook_sees_the_real_index_as_after_git_commit(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree, tmp_path: Path, with_pre_commit: bool
) -> None:
    """git runs post-commit with the checkout's index, also after `git commit --only` (whose other hooks
    see its temporary index): a hook's git commands see the commit just made, not an empty index."""
    repo.write("model.py", "depth = 4\n")
    repo.commit("start")
    seen = tmp_path / "seen.txt"
    hooks = repo.path / ".git" / "hooks"
    (hooks / "post-commit").write_text(
        f'#!/bin/sh\n{{ git ls-files; echo "status: $(git status --porcelain)"; }} > "{seen}"\n'
    )
    (hooks / "post-commit").chmod(0o755)
    if with_pre_commit:
        (hooks / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
        (hooks / "pre-commit").chmod(0o755)
    repo.write("model.py", "depth = 8\n")
    repo.git("commit", "-q", "-a", "-m", "by git")
    after_git_commit = seen.read_text()
    assert after_git_commit == "model.py\nwork.txt\nstatus: \n"
    repo.write("model.py", "depth = 16\n")
    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.5')"))
    assert result.code == 0, result.err
    assert seen.read_text() == after_git_commit


def test_work_committed_during_the_run_is_never_undone(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("model.py", "v1\n")
    start = repo.commit("start")
    # While the run goes, its author commits other work touching the same file.
    script = (
        "import subprocess\n"
        "open('model.py', 'w').write('v2\\n')\n"
        "subprocess.run(['git', 'commit', '-qam', 'other work'], check=True)\n"
        "print('acc: 0.5')\n"
    )
    result = gittree("run", "--capture", "acc", "--", *py(script))
    assert result.code == 0, result.err
    assert "moved during the run" in result.err and "sibling" in result.err
    other = repo.head()
    assert other != start and repo.git("show", "HEAD:model.py") == "v2\n"
    entry = only_run(repo.path)
    # The run lands beside that work, off the commit it started from, with the code it ran.
    assert entry["status"] == "committed" and entry["branch"] == f"run/{entry['id']}"
    assert entry["moved_from"] == "refs/heads/main"
    assert repo.git("rev-parse", f"run/{entry['id']}^").strip() == start
    assert repo.git("show", f"run/{entry['id']}:model.py") == "v1\n" and repo.head() == other


def test_runs_lists_and_details_the_journal(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("runs").out.startswith("no runs")
    repo.commit("start")
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.25')")).code == 0
    run_id = only_run(repo.path)["id"]
    table = gittree("runs")
    assert table.code == 0 and run_id in table.out and "committed" in table.out
    details = gittree("runs", run_id)
    assert "acc=0.25" in details.out and "acc: 0.25" in details.out and repo.head()[:7] in details.out
    data = json.loads(gittree("runs", "--json").out)
    assert data[0]["id"] == run_id and data[0]["state"] == "committed"
    assert data[0]["metrics"] == [{"name": "acc", "value": "0.25"}]
    assert gittree("runs", "nope").code == 11


def test_run_ids_are_unique_and_sort_by_time(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    for _ in range(3):
        assert gittree("run", "--no-commit", "--", "true").code == 0
    ids = [entry["id"] for entry in journal(repo.path)]
    assert len(set(ids)) == 3
    assert all(run_id.split("-")[2] == str(os.getpid()) for run_id in ids)  # time-pid-random
    listed = [line.split()[0] for line in gittree("runs").out.splitlines()[1:] if line[:1].isdigit()]
    assert listed == ids  # in the order they started


def test_the_journal_is_written_atomically(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("run", "--", "true").code == 0
    folder = run_dir(repo.path, only_run(repo.path)["id"])
    leftovers = [
        p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith((".tmp", ".lock"))
    ]
    assert leftovers == []
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "metrics.json", "output.log"]
