"""Reading a few commits through git, many through libgit2: the same facts either way (issue 19).

A view after a new commit reads one or two commits that the commit cache does not hold; importing
pygit2 for them cost more than the rest of a small view. :class:`gitio.CommitReader` reads its first
commits through one ``git cat-file --batch`` process and opens libgit2 past
:attr:`~gittree.gitio.CommitReader.GIT_READS`; :func:`gitio.new_commits` reads the commits a view grows
by in two git processes one after the other, and hands more than ``FEW_COMMITS`` to the pipeline.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gittree import gitio
from gittree.errors import GitCommandError
from gittree.gitio import history, objects
from tests.conftest import BASE_TIME, GitRepo

#: Author lines git reads and libgit2's commit parser refuses: both reads must hand them over as they are.
ODD_AUTHORS = [f"author Broken {BASE_TIME + 60} +0000", None, "author Rita <rita@example.com> soon +0000"]


def odd_history(repo: GitRepo) -> list[str]:
    """A line of commits, some with an author libgit2 refuses, one with a non-UTF-8 message; newest last."""
    tree = repo.git("write-tree").strip()
    shas: list[str] = []
    for number in range(12):
        author = ODD_AUTHORS[number % 4] if number % 4 < 3 else f"author A <a@b> {BASE_TIME + number} +0100"
        header = f"tree {tree}\n" + (f"parent {shas[-1]}\n" if shas else "")
        header += f"{author}\n" if author is not None else ""
        header += f"committer C <c@d> {BASE_TIME + number} +0000\n"
        message = f"try {number}\n\nGittree-Metric: acc=0.{number}\n".encode()
        if number == 5:
            message = b"caf\xe9 latin-1\n\nGittree-Metric: acc=0.5\n"
        done = subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
            input=header.encode() + b"\n" + message,
            cwd=repo.path,
            capture_output=True,
            check=True,
        )
        shas.append(done.stdout.decode().strip())
    repo.git("update-ref", "HEAD", shas[-1])
    return shas


def read_each(repo: GitRepo, names: list[str], git_reads: int) -> list[object]:
    with gitio.CommitReader(gitio.open_repo(repo.path)) as reader:
        reader.GIT_READS = git_reads
        return [reader.read(name) for name in names]


def test_git_and_libgit2_reads_give_the_same_facts(repo: GitRepo) -> None:
    shas = odd_history(repo)
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    names = [*shas, tree, "0" * 40]  # a tree and a missing object: None either way
    by_git = read_each(repo, names, git_reads=len(names))
    by_libgit2 = read_each(repo, names, git_reads=0)
    switched = read_each(repo, names, git_reads=5)  # git first, then libgit2
    assert by_git == by_libgit2 == switched
    assert by_git[-2:] == [None, None] and all(facts is not None for facts in by_git[:-2])
    assert str(by_git[0][1]).startswith("Broken")  # type: ignore[index]  # libgit2 refuses this author


def test_a_few_reads_do_not_import_pygit2(repo: GitRepo) -> None:
    """The reason for the git reads: a fresh process that reads a few commits never loads libgit2."""
    shas = odd_history(repo)
    code = (
        "import sys\n"
        "from gittree import gitio\n"
        f"with gitio.CommitReader(gitio.open_repo({str(repo.path)!r})) as reader:\n"
        f"    assert all(reader.read(sha) is not None for sha in {shas[:3]!r})\n"
        "print('pygit2' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=repo.env(), check=True
    )
    assert done.stdout.strip() == "False", done.stderr


def test_the_git_process_is_let_go(repo: GitRepo) -> None:
    shas = odd_history(repo)
    batch = objects.GitBatch(gitio.open_repo(repo.path))
    assert batch.read(shas[0]) is not None
    batch.close()
    batch.close()  # twice is harmless
    assert batch._git.returncode == 0
    with gitio.CommitReader(gitio.open_repo(repo.path)) as reader:
        reader.GIT_READS = 2
        for sha in shas[:4]:  # past its git reads: the git process ends as libgit2 takes over
            reader.read(sha)
        assert reader._batch is None


def test_a_damaged_object_is_an_error_that_says_what_to_do(repo: GitRepo) -> None:
    shas = odd_history(repo)
    damaged = shas[3]
    path = repo.path / ".git" / "objects" / damaged[:2] / damaged[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"not zlib at all")
    for git_reads in (10, 0):
        with pytest.raises(GitCommandError) as raised:
            read_each(repo, [shas[0], damaged], git_reads=git_reads)
        assert damaged in raised.value.message and "git fsck" in (raised.value.hint or "")


@pytest.mark.parametrize("few", [history.FEW_COMMITS, 1], ids=["in turn", "pipeline"])
def test_new_commits_are_those_the_pipeline_streams(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    shas = odd_history(repo)
    monkeypatch.setattr(history, "FEW_COMMITS", few)
    opened = gitio.open_repo(repo.path)
    tips = [shas[-1], f"^{shas[6]}"]
    new = gitio.new_commits(opened, tips)
    assert new == list(gitio.stream_commits(opened, tips))
    assert [sha for sha, _ in new] == shas[:6:-1]
    assert gitio.new_commits(opened, [shas[-1], f"^{shas[-1]}"]) == []


def test_new_commits_of_a_missing_tip_is_an_error(repo: GitRepo) -> None:
    odd_history(repo)
    with pytest.raises(GitCommandError, match="could not walk"):
        gitio.new_commits(gitio.open_repo(repo.path), ["1" * 40])
