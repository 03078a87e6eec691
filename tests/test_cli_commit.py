"""`gittree commit` and `gittree init`: real commits through git, with the user's hooks in force."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo


def head_message(repo: GitRepo) -> str:
    return repo.git("log", "-1", "--format=%B")


def state(repo: GitRepo) -> tuple[str, str]:
    """HEAD and the index, to prove a refused command changed neither."""
    head = repo.git("rev-parse", "-q", "--verify", "HEAD", check=False).strip()
    return head, repo.git("ls-files", "--stage")


def test_commit_records_metrics_params_notes_status(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.write("model.py", "x = 1\n")
    repo.git("add", "model.py")
    result = gittree(
        "commit",
        "-m",
        "patch embedding 16x16",
        "--metric",
        "acc=0.7312",
        "--metric",
        "acc=0.7288",
        "--metric",
        "loss=0.812",
        "--param",
        "lr=3e-4",
        "--note",
        "converged\ntwice as fast",
        "--status",
        "ok",
    )
    assert result.code == 0, result.err
    message = head_message(repo)
    assert message.startswith("patch embedding 16x16\n\n")
    record = parse_experiment(message)
    assert record is not None
    assert record.metric_dict() == {"acc": (0.7312, 0.7288), "loss": (0.812,)}
    assert record.param_dict() == {"lr": "3e-4"}
    assert record.notes == ("converged twice as fast",)
    assert record.status == "ok"
    # git itself agrees on what the trailers are
    assert repo.git("log", "-1", "--format=%(trailers:key=Gittree-Metric,valueonly)").split() == [
        "acc=0.7312",
        "acc=0.7288",
        "loss=0.812",
    ]


def test_commit_all_and_allow_empty(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    repo.write("work.txt", "changed\n")
    assert gittree("commit", "-a", "-m", "tracked change", "--metric", "acc=0.1").code == 0
    assert repo.git("status", "--porcelain") == ""
    assert gittree("commit", "--allow-empty", "-m", "rerun", "--metric", "acc=0.2").code == 0
    assert repo.git("rev-list", "--count", "HEAD").strip() == "3"


def test_repeated_messages_are_paragraphs_as_in_git(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """``-m SUBJECT -m BODY`` kept the last ``-m`` alone, without a word: the subject was lost."""
    result = gittree(
        "commit", "--allow-empty", "-m", "cosine schedule", "-m", "warm-up 500 steps", "--metric", "acc=0.6"
    )
    assert result.code == 0, result.err
    message = repo.git("log", "-1", "--format=%B")
    assert message.startswith("cosine schedule\n\nwarm-up 500 steps\n\nGittree-Metric: acc=0.6")
    # `run`, parsed by the fast path, then by typer (`-j1`, a value bundled with its option, is typer's alone)
    for extra in ([], ["-j1"]):
        done = gittree(
            "run",
            "--new",
            "--capture",
            "acc",
            *extra,
            "-m",
            "first",
            "--name",
            "second",
            "--",
            "sh",
            "-c",
            "echo acc=0.7",
        )
        assert done.code == 0, done.err
        message = repo.git("log", "-1", "--format=%B")
        assert message.startswith("first\n\nsecond\n\nGittree-Metric: acc=0.7"), extra


def test_commit_message_from_file_and_stdin(repo: GitRepo, gittree, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    msg = tmp_path / "msg.txt"
    msg.write_text("from a file\n\nwith a body\n")
    assert gittree("commit", "--allow-empty", "-F", str(msg), "--metric", "acc=1").code == 0
    assert head_message(repo).startswith("from a file\n\nwith a body\n\nGittree-Metric: acc=1")
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin\n"))
    assert gittree("commit", "--allow-empty", "-F", "-", "--metric", "acc=2").code == 0
    assert head_message(repo).startswith("from stdin\n")


def test_commit_appends_to_an_existing_trailer_block(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert (
        gittree("commit", "--allow-empty", "-m", "x\n\nSigned-off-by: A <a@b>", "--metric", "acc=1").code == 0
    )
    assert head_message(repo).rstrip("\n").endswith("Signed-off-by: A <a@b>\nGittree-Metric: acc=1")


def test_commit_metrics_file_json_and_yaml(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "metrics.json").write_text(json.dumps({"acc": 0.9, "val": {"loss": 0.25, "bpb": 1.5}}))
    assert (
        gittree("commit", "--allow-empty", "-m", "dvc", "--metrics-file", str(tmp_path / "metrics.json")).code
        == 0
    )
    record = parse_experiment(head_message(repo))
    assert record is not None
    assert record.metric_dict() == {"acc": (0.9,), "val/loss": (0.25,), "val/bpb": (1.5,)}
    (tmp_path / "m.yaml").write_text("acc: [0.5, 0.52]\n")
    assert (
        gittree("commit", "--allow-empty", "-m", "yaml", "--metrics-file", str(tmp_path / "m.yaml")).code == 0
    )
    record = parse_experiment(head_message(repo))
    assert record is not None and record.metric_dict() == {"acc": (0.5, 0.52)}


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--metric", "acc=0,73"], "0,73"),
        (["--metric", "acc=73%"], "73%"),
        (["--metric", "acc=1_000"], "1_000"),
        (["--metric", "acc="], "acc"),
        (["--metric", "a c=1"], "a c"),
        (["--metric", "acc:x=1"], "acc:x"),
        (["--metric", "acc=\u0663"], "\u0663"),
        (["--param", "=3"], "="),
        (["--status", "great"], "great"),
        (["--note", "   "], "note"),
    ],
)
def test_bad_input_is_rejected_before_anything_is_written(repo: GitRepo, gittree, args, shown) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    repo.write("model.py", "staged\n")
    repo.git("add", "model.py")
    before = state(repo)
    result = gittree("commit", "-m", "try", *args)
    assert result.code == 6, result.err
    assert shown in result.err
    assert "Traceback" not in result.err
    assert state(repo) == before


def test_metrics_file_with_text_value_is_rejected(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "m.json").write_text('{"acc": "high"}')
    before = state(repo)
    result = gittree("commit", "--allow-empty", "-m", "x", "--metrics-file", str(tmp_path / "m.json"))
    assert result.code == 6 and "'acc' is 'high'" in result.err
    assert state(repo) == before


def test_nothing_to_record_or_no_message(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("commit", "--allow-empty", "-m", "x").code == 6
    assert gittree("commit", "--allow-empty", "--metric", "acc=1").code == 6


def test_nothing_staged_is_explained(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    result = gittree("commit", "-m", "x", "--metric", "acc=1")
    assert result.code == 7 and "nothing is staged" in result.err


def _hook(repo: GitRepo, name: str, body: str) -> None:
    path = repo.path / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_a_rejecting_hook_is_reported_with_gits_message(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    _hook(repo, "pre-commit", "echo 'lint failed: tabs in model.py' >&2\nexit 1\n")
    before = state(repo)
    result = gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1")
    assert result.code == 7
    assert "lint failed: tabs in model.py" in result.err
    # git's own reason comes first: eight lines of advice about a grafts file came before it, caused by
    # the grafts file gittree's git policy named (the repository has none)
    assert "graft" not in result.err and result.err.startswith(
        "gittree: error: git commit failed: lint failed"
    )
    assert state(repo) == before


def test_commit_all_with_nothing_changed_says_gits_reason(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """``commit -a`` with no tracked file changed: git says "nothing to commit" on its standard output,
    which was lost behind the grafts advice on its standard error."""
    repo.commit("start")
    result = gittree("commit", "-a", "-m", "nothing changed", "--metric", "acc=0.5")
    assert result.code == 7
    assert "nothing to commit" in result.err and "graft" not in result.err


def test_users_hooks_run(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    _hook(repo, "post-commit", "touch hook-ran\n")
    assert gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1").code == 0
    assert (repo.path / "hook-ran").exists()


def test_a_hook_that_strips_trailers_is_detected(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    _hook(repo, "commit-msg", "sed -i '/^Gittree-/d' \"$1\"\n")
    result = gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1")
    assert result.code == 8
    assert "did not survive" in result.err and "acc" in result.err


def test_no_identity_is_refused_by_git(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("EMAIL", "")
    repo.git("config", "user.useConfigOnly", "true")
    result = gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1")
    assert result.code == 7
    assert "identity" in result.err.lower() or "user.email" in result.err


def test_init_writes_config_and_notes_settings(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("init", "--metric", "val_bpb", "--threshold", "0.001")
    assert result.code == 0, result.err
    text = (repo.path / ".gittree.yaml").read_text()
    assert "primary: val_bpb" in text and "threshold: 0.001" in text
    assert repo.git("config", "--get-all", "notes.rewriteRef").split() == ["refs/notes/gittre[e]"]
    assert gittree("init", "--metric", "val_bpb", "--goal", "min").code == 0  # twice: idempotent
    assert repo.git("config", "--get-all", "notes.rewriteRef").split() == ["refs/notes/gittre[e]"]
    text = (repo.path / ".gittree.yaml").read_text()
    assert "goal: min" in text and "threshold: 0.001" in text


def test_init_rejects_a_bad_goal(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("init", "--metric", "acc", "--goal", "up").code == 6


def test_init_refuses_a_threshold_the_config_file_would_refuse(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Regression: `--threshold inf` (or 1e400) wrote `threshold: .inf`, which every later command,
    # init included, refused with exit 9.
    for value in ("inf", "1e400", "nan", "-1"):
        result = gittree("init", "--metric", "acc", "--threshold", value)
        assert result.code in (2, 6) and not (repo.path / ".gittree.yaml").exists(), value
    assert gittree("init", "--metric", "acc", "--threshold", "0.003").code == 0
    repo.experiment("a", metrics=[("acc", 0.5)])
    assert gittree("show").code == 0


def test_config_thresholds_drive_verdicts(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 0.50)])
    repo.experiment("b", metrics=[("acc", 0.52)])
    assert json.loads(gittree("show", "--json").out)["nodes"][1]["verdict"] == "better"
    assert gittree("init", "--metric", "acc", "--threshold", "0.05").code == 0
    assert json.loads(gittree("show", "--json").out)["nodes"][1]["verdict"] == "negligible"


def test_git_runs_with_the_users_environment(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    assert os.environ["GIT_AUTHOR_NAME"] == "Ada Tester"
    assert gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1").code == 0
    assert repo.git("log", "-1", "--format=%an").strip() == "Ada Tester"


def test_signing_failure_is_reported(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.git("config", "commit.gpgSign", "true")
    repo.git("config", "gpg.program", "false")
    before = state(repo)
    result = gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1")
    assert result.code == 7 and "gpg" in result.err.lower()
    assert state(repo) == before


def test_bare_repository_cannot_commit(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "bare.git")], check=True)
    monkeypatch.chdir(tmp_path / "bare.git")
    result = gittree("commit", "--allow-empty", "-m", "x", "--metric", "acc=1")
    assert result.code == 7 and "bare" in result.err


def test_first_commit_with_nothing_staged_shows_gits_own_words(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("commit", "-m", "x", "--metric", "acc=1")
    assert result.code == 7
    assert "nothing" in result.err and "exit status" not in result.err


def test_trailers_are_read_by_git_under_the_repositorys_comment_char(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """With core.commentChar=';' a '#1 issue fixed' line is text to git: the trailers must not go
    above it (git would then read none), yet gittree and clones with git's default must read them too."""
    repo.git("config", "core.commentChar", ";")
    message = tmp_path / "message.txt"
    message.write_text("subject\n\nbody\n\n#1 issue fixed\n")
    result = gittree("commit", "--allow-empty", "-F", str(message), "--metric", "acc=1")
    assert result.code == 0, result.err
    for comment in (";", "#"):
        trailers = repo.git("-c", f"core.commentChar={comment}", "log", "-1", "--format=%(trailers:only)")
        assert trailers.strip() == "Gittree-Metric: acc=1", comment
    assert head_message(repo).startswith("subject\n\nbody\n\n#1 issue fixed\n")
    shown = json.loads(gittree("show", "--json").out)
    assert [node["metrics"]["acc"]["samples"] for node in shown["nodes"]] == [[1.0]]
