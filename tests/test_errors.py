"""Every error a user can meet: a message and its documented exit code, never a traceback."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from gittree.errors import EXIT_CODES
from tests.conftest import GitRepo

DOCS = Path(__file__).parents[1] / "docs"


def test_not_a_repository(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = gittree("show")
    assert result.code == 3
    assert "not inside a git repository" in result.err and "hint:" in result.err


def test_repository_without_commits(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    result = gittree("show")
    assert result.code == 4 and "no commits yet" in result.err
    assert gittree("show", "--all").code == 4


def test_no_experiments_yet_gives_a_friendly_hint(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("ordinary work")
    result = gittree("show")
    assert result.code == 5
    assert "no experiments yet" in result.err and "gittree commit" in result.err
    assert "Traceback" not in result.err


def test_unknown_revision(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 1)])
    result = gittree("show", "no-such-branch")
    assert result.code == 10 and "no-such-branch" in result.err


def test_unknown_metric(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 1)])
    result = gittree("show", "--metric", "f1")
    assert result.code == 6 and "recorded metrics: acc" in result.err


def test_invalid_config(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("a", metrics=[("acc", 1)])
    repo.write(".gittree.yaml", "metrics: [unclosed\n")
    result = gittree("show")
    assert result.code == 9 and "not valid YAML" in result.err
    repo.write(".gittree.yaml", "metrics:\n  acc:\n    threshold: lots\n")
    result = gittree("show")
    assert result.code == 9 and "threshold" in result.err
    repo.write(".gittree.yaml", "primry: acc\n")
    result = gittree("show")
    assert result.code == 9 and "primry" in result.err


def test_a_primary_metric_that_is_no_metric_is_an_error_not_a_tree_of_baselines(
    repo: GitRepo, gittree
) -> None:  # type: ignore[no-untyped-def]
    # Regression: `primary: nosuch` drew every experiment as a baseline with no value, silently.
    repo.experiment("a", metrics=[("acc", 0.5)])
    repo.experiment("b", metrics=[("acc", 0.6)])
    repo.write(".gittree.yaml", "primary: nosuch\n")
    result = gittree("show")
    assert result.code == 9 and "'nosuch' is recorded by no experiment" in result.err and "acc" in result.err
    assert gittree("show", "--metric", "acc").code == 0  # the command line still chooses
    repo.write(".gittree.yaml", "primary: bad name\n")
    result = gittree("show")
    assert result.code == 9 and "primary" in result.err and "bad metric name" in result.err
    repo.write(".gittree.yaml", "primary: acc\n")
    assert gittree("show").code == 0


def test_usage_error_is_exit_2(gittree) -> None:  # type: ignore[no-untyped-def]
    assert gittree("show", "--no-such-option").code == 2


def test_malformed_trailers_in_history_are_shown_not_fatal(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("hand-written\n\nGittree-Metric: acc=73%\nGittree-Metric: loss=0.5\n")
    result = gittree("show", "--color", "never")
    assert result.code == 0
    assert "malformed" in result.out


def test_exit_codes_are_distinct_and_documented() -> None:
    codes = [code for name, code in EXIT_CODES.items() if name != "GittreeError"]
    assert len(codes) == len(set(codes))
    guide = (DOCS / "guide.md").read_text()
    for name, code in EXIT_CODES.items():
        assert re.search(rf"\|\s*{code}\s*\|\s*`{name}`", guide), (
            f"{name} ({code}) missing from docs/guide.md"
        )


def test_broken_pipe_is_quiet(repo: GitRepo) -> None:
    for i in range(30):
        repo.experiment(f"e{i}", metrics=[("acc", i)])
    import sys

    done = subprocess.run(
        f"{sys.executable} -m gittree show --color never | head -1",
        shell=True,
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert done.stderr == ""
