"""A saved tree committed onto a branch without touching the checkout (gittree/runs/treecommit.py), called
directly, in real repositories: snapshot the working tree, commit it elsewhere, build on a branch that
moved, run the user's hooks, refuse to undo work (docs/runs.md, "How a run is committed")."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gittree import gitio
from gittree.errors import GitCommandError
from gittree.runs.treecommit import TreeCommit, commit_tree, snapshot
from tests.conftest import GitRepo


def plan(
    repo: GitRepo, tree: str, target: str, scratch: Path, *, base: str | None, message: str
) -> TreeCommit:
    return TreeCommit(
        tree=tree,
        target=target,
        head=repo.head(),
        base=base,
        message=message,
        worktree=repo.path,
        scratch=scratch,
        lock_timeout=2.0,
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def test_snapshot_saves_tracked_changes_and_leaves_the_index_alone(repo: GitRepo, scratch: Path) -> None:
    repo.write("model.py", "depth = 4\n")
    repo.commit("start")
    repo.write("model.py", "depth = 8\n")  # edited, not staged
    repo.write("notes.txt", "scratch\n")  # untracked
    git = gitio.open_repo(repo.path)
    tree = snapshot(git, scratch)
    assert repo.git("show", f"{tree}:model.py") == "depth = 8\n"
    assert "notes.txt" not in repo.git("ls-tree", "--name-only", tree).split()
    assert repo.git("status", "--porcelain").splitlines() == [
        " M model.py",
        "?? notes.txt",
    ]  # index untouched
    with_untracked = snapshot(git, scratch, add_untracked=True)
    assert "notes.txt" in repo.git("ls-tree", "--name-only", with_untracked).split()
    assert list(scratch.iterdir()) == []  # the private index is gone


def test_commit_tree_on_a_new_branch_leaves_the_checkout_as_it_was(repo: GitRepo, scratch: Path) -> None:
    repo.write("model.py", "depth = 4\n")
    start = repo.commit("start")
    repo.write("model.py", "depth = 8\n")
    git = gitio.open_repo(repo.path)
    tree = snapshot(git, scratch)
    sha, _ = commit_tree(
        git, plan(repo, tree, "refs/heads/exp/deeper", scratch, base=None, message="deeper\n")
    )
    assert repo.git("rev-parse", "exp/deeper").strip() == sha
    assert repo.git("log", "-1", "--format=%P %s", sha).split() == [start, "deeper"]
    assert repo.head() == start and repo.git("status", "--porcelain").splitlines() == [" M model.py"]


def run_beside_a_branch(repo: GitRepo, scratch: Path) -> tuple[gitio.Repo, str, str]:
    """``start`` (depth = 4) with a branch exp/a on it, and a run that started from it with depth = 8
    in the working tree: (the repository, start, the run's saved tree)."""
    repo.write("model.py", "depth = 4\n")
    start = repo.commit("start")
    repo.git("branch", "exp/a")
    git = gitio.open_repo(repo.path)
    repo.write("model.py", "depth = 8\n")
    return git, start, snapshot(git, scratch)


def commit_on_branch(repo: GitRepo, branch: str, change: str | None) -> str:
    """A commit on ``branch``, made in the checkout and left again; ``change``: model.py's new text,
    or None for a commit that changes no file (another run of the same code landing first)."""
    repo.git("stash", "-q")
    repo.git("checkout", "-q", branch)
    if change is None:
        repo.git("commit", "-q", "--allow-empty", "-m", "another run")
    else:
        repo.write("model.py", change)
        repo.git("commit", "-q", "-am", "deeper still")
    sha = repo.head()
    repo.git("checkout", "-q", "main")
    repo.git("stash", "pop", "-q")
    return sha


def test_commit_tree_builds_on_a_branch_that_moved_when_nothing_is_undone(
    repo: GitRepo, scratch: Path
) -> None:
    git, start, tree = run_beside_a_branch(repo, scratch)
    moved = commit_on_branch(repo, "exp/a", None)
    sha, _ = commit_tree(git, plan(repo, tree, "refs/heads/exp/a", scratch, base=start, message="deeper\n"))
    assert repo.git("log", "-1", "--format=%P", sha).strip() == moved  # on the new tip, not on start
    assert repo.git("show", f"{sha}:model.py") == "depth = 8\n"


def test_commit_tree_refuses_to_revert_what_the_branch_changed_meanwhile(
    repo: GitRepo, scratch: Path
) -> None:
    git, start, tree = run_beside_a_branch(repo, scratch)
    tip = commit_on_branch(repo, "exp/a", "depth = 16\n")  # the file the run's code has otherwise
    with pytest.raises(GitCommandError, match=r"would undo those changes to model\.py"):
        commit_tree(git, plan(repo, tree, "refs/heads/exp/a", scratch, base=start, message="run\n"))
    assert repo.git("rev-parse", "exp/a").strip() == tip


def test_commit_tree_runs_the_users_commit_msg_hook(repo: GitRepo, scratch: Path) -> None:
    repo.commit("start")
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.write_text('#!/bin/sh\nprintf "\\nSigned-off-by: Ada\\n" >> "$1"\n', newline="\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    git = gitio.open_repo(repo.path)
    tree = snapshot(git, scratch)
    sha, _ = commit_tree(git, plan(repo, tree, "refs/heads/exp/b", scratch, base=None, message="signed\n"))
    assert "Signed-off-by: Ada" in repo.git("log", "-1", "--format=%B", sha)


def test_a_hook_that_refuses_stops_the_commit(repo: GitRepo, scratch: Path) -> None:
    repo.commit("start")
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 1\n", newline="\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    git = gitio.open_repo(repo.path)
    tree = snapshot(git, scratch)
    with pytest.raises(GitCommandError, match="pre-commit"):
        commit_tree(git, plan(repo, tree, "refs/heads/exp/c", scratch, base=None, message="x\n"))
    assert repo.git("branch", "--list", "exp/c") == ""


# -- the commit's settings, read in one git process ---------------------------------------------------

#: Values as written in a configuration file (None: the key with no ``=``, which a boolean reads as true).
SETTING_VALUES = [
    None,
    "",
    "true",
    "TRUE",
    "Yes",
    "on",
    "off",
    "no",
    "False",
    "0",
    "1",
    "7",
    "1k",
    "+1",
    "-0",
]


@pytest.mark.parametrize("value", SETTING_VALUES)
def test_commit_settings_read_gpgsign_as_git_config_does(repo: GitRepo, value: str | None) -> None:
    repo.commit("start")
    line = "\tgpgSign\n" if value is None else f"\tgpgSign = {value}\n"
    with (repo.path / ".git" / "config").open("a") as config:
        config.write("[commit]\n\tgpgSign = false\n[commit]\n" + line)  # the last one wins
    git = gitio.open_repo(repo.path)
    assert gitio.commit_settings(git).sign == (
        gitio.config_value(git, "commit.gpgSign", kind="bool") == "true"
    )


def test_commit_settings_raise_what_git_config_raises_for_a_bad_boolean(repo: GitRepo) -> None:
    repo.commit("start")
    repo.git("config", "commit.gpgSign", "perhaps")
    git = gitio.open_repo(repo.path)
    with pytest.raises(GitCommandError) as expected:
        gitio.config_value(git, "commit.gpgSign", kind="bool")
    with pytest.raises(GitCommandError) as found:
        gitio.commit_settings(git)
    assert found.value.message == expected.value.message


@pytest.mark.parametrize("value", ["auto", ";", "%"])
def test_commit_settings_read_the_comment_char_as_comment_char_does(repo: GitRepo, value: str) -> None:
    repo.commit("start")
    line = f'\tcommentChar = "{value}"\n'
    with (repo.path / ".git" / "config").open("a") as config:
        config.write("[core]\n" + line)
    git = gitio.open_repo(repo.path)
    assert gitio.commit_settings(git).comment == gitio.comment_char(git)


def test_commit_settings_say_whether_a_commit_encoding_is_set(repo: GitRepo) -> None:
    repo.commit("start")
    git = gitio.open_repo(repo.path)
    assert gitio.commit_settings(git).encoding is None
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    assert gitio.commit_settings(git).encoding == "ISO-8859-1"


def test_head_and_branch_answer_as_head_sha_and_symbolic_head_do(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run reads HEAD's commit and branch with one git process (issue 19): the same answers on a
    branch, through a symbolic ref, detached, on an unborn branch and with a tag named HEAD."""
    from gittree.gitio import refs

    git = gitio.open_repo(repo.path)
    calls: list[list[str]] = []
    real_run = refs.run

    def counted(args: list[str], **kwargs: object) -> object:
        calls.append(args)
        return real_run(args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(refs, "run", counted)

    def both() -> tuple[str | None, str | None]:
        return gitio.head_sha(git), gitio.symbolic_head(git)

    assert gitio.head_and_branch(git) == both() == (None, "refs/heads/main")  # unborn
    start = repo.commit("start")
    calls.clear()
    assert gitio.head_and_branch(git) == (start, "refs/heads/main")
    assert len(calls) == 1  # one git process on a branch with commits
    assert both() == (start, "refs/heads/main")
    repo.git("symbolic-ref", "refs/heads/alias", "refs/heads/main")
    repo.git("symbolic-ref", "HEAD", "refs/heads/alias")
    assert gitio.head_and_branch(git) == both()
    repo.git("checkout", "-q", "--detach")
    calls.clear()
    assert gitio.head_and_branch(git) == (start, None)
    assert len(calls) == 1  # and detached
    assert both() == (start, None)
    repo.git("update-ref", "refs/tags/HEAD", start)
    assert gitio.head_and_branch(git) == both()
    repo.git("update-ref", "-d", "refs/tags/HEAD")
    repo.git("checkout", "-q", "--orphan", "fresh")
    assert gitio.head_and_branch(git) == both() == (None, "refs/heads/fresh")


def test_the_notes_settings_are_read_in_one_git_config_as_config_all_reads_each(repo: GitRepo) -> None:
    """Every note's writer checks notes.rewriteRef and notes.displayRef (issue 19): one ``git config``
    answers both as :func:`gitio.config_all` answers each, several values, odd ones and none alike."""
    from gittree.gitio.notes import _local_notes_settings

    repo.commit("start")
    git = gitio.open_repo(repo.path)
    keys = ["notes.rewriteRef", "notes.displayRef"]

    def each() -> dict[str, list[str]]:
        return {key: gitio.config_all(git, key, local=True) for key in keys}

    assert _local_notes_settings(git, keys) == each() == {key: [] for key in keys}
    with (repo.path / ".git" / "config").open("a") as config:
        config.write(
            '[notes]\n\trewriteRef = refs/notes/*\n\tREWRITEREF = "two\\nlines"\n\tdisplayRef\n'
            '[NOTES]\n\tdisplayref = refs/notes/gittree\n\trewriteRef = "ends in a newline\\n"\n'
        )
    assert _local_notes_settings(git, keys) == each()
    assert each()["notes.rewriteRef"] == ["refs/notes/*", "two", "lines", "ends in a newline", ""]


def test_the_hooks_folder_is_where_git_rev_parse_git_path_hooks_says(repo: GitRepo, tmp_path: Path) -> None:
    """A run finds its hooks folder without asking git when core.hooksPath is unset (issue 19): the same
    folder as ``git rev-parse --git-path hooks``, from a linked worktree and through a symbolic link too;
    a core.hooksPath (relative, absolute, ``~``) is asked of git."""
    repo.commit("start")
    repo.git("worktree", "add", "-q", str(tmp_path / "linked"))

    def both(path: Path) -> tuple[Path, Path]:
        git = gitio.open_repo(path)
        return gitio.hooks_folder(git, gitio.commit_settings(git)), gitio.git_path(git, "hooks")

    for path in (repo.path, tmp_path / "linked"):
        found, expected = both(path)
        assert found == expected == (repo.path / ".git" / "hooks").resolve()
    (tmp_path / "elsewhere").mkdir()
    hooks = repo.path / ".git" / "hooks"
    if hooks.exists():
        for item in hooks.iterdir():
            item.unlink()
        hooks.rmdir()
    hooks.symlink_to(tmp_path / "elsewhere")
    assert both(repo.path)[0] == both(repo.path)[1] == (tmp_path / "elsewhere").resolve()
    for value in (".githooks", str(tmp_path / "absolute"), "~/hooks"):
        repo.git("config", "core.hooksPath", value)
        git = gitio.open_repo(repo.path)
        assert gitio.commit_settings(git).hooks_path_set
        found, expected = both(repo.path)
        assert found == expected
