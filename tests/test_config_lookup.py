"""A warm view finds `.gittree.yaml` without asking git (issue 19), and never serves an old answer.

When the working tree has no `.gittree.yaml`, the committed one is looked up (docs/config.md, "Which
file is read") and the answer is remembered with the commits of HEAD and the tips it looked at. These
tests change the file in the working tree, at HEAD, on a remote's default branch and at the newest tip,
and check after each change that the warm view (cache on) prints what a view without any cache prints,
and that the look-up with a listing gives what the plain look-up gives.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gittree import CONFIG_FILE, gitio
from tests.conftest import GitRepo

TIGHT = "metrics:\n  acc:\n    threshold: 0.001\n"
LOOSE = "metrics:\n  acc:\n    threshold: 0.05\n"


def _view(gittree: Any, monkeypatch: pytest.MonkeyPatch, folder: Path) -> tuple[Any, Any]:
    """(config, threshold) of `show --json`, warm (run twice: the second is served from the caches), after
    checking that it prints what a view without any cache prints."""
    args = ("-C", str(folder), "show", "--all", "--json")
    first, warm = gittree(*args), gittree(*args)
    monkeypatch.setenv("GITTREE_NO_CACHE", "1")
    cold = gittree(*args)
    monkeypatch.delenv("GITTREE_NO_CACHE")
    assert first.code == warm.code == cold.code == 0, cold.err
    assert first.out == warm.out == cold.out
    data = json.loads(warm.out)
    return data["config"], data["threshold"]


def _same_with_and_without_the_listing(folder: Path) -> tuple[str | None, bytes | None]:
    """The look-up keyed by a ref listing, with and without the remembered answer, agrees with the
    plain look-up (no listing: git asked about the refs as they are)."""
    repo = gitio.open_repo(folder)
    plain = gitio.read_shared_file(repo, CONFIG_FILE)
    listing = gitio.list_refs(repo)
    assert gitio.read_shared_file(repo, CONFIG_FILE, listing) == plain
    if gitio.read_worktree_file(repo, CONFIG_FILE) is None:
        fresh = gitio.read_committed_file(repo, CONFIG_FILE, listing)
        assert (fresh.where, fresh.data) == plain and fresh.facts is not None
        again = gitio.read_committed_file(repo, CONFIG_FILE, listing, known=fresh)
        assert again is fresh  # remembered: no git process
    return plain


def _commit_config(repo: GitRepo, text: str, message: str = "configure") -> None:
    repo.write(CONFIG_FILE, text)
    repo.git("add", CONFIG_FILE)
    repo.git("commit", "-q", "-m", message)


def _author(root: Path) -> GitRepo:
    author = GitRepo(root / "author")
    author.experiment("baseline", metrics=[("acc", 0.90)])
    author.git("branch", "early")  # made before the file existed
    _commit_config(author, TIGHT)
    author.experiment("wider", metrics=[("acc", 0.92)])
    return author


def test_a_change_in_the_working_tree_is_seen_by_the_next_view(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.90)])
    _commit_config(repo, TIGHT)
    repo.experiment("wider", metrics=[("acc", 0.92)])
    (repo.path / CONFIG_FILE).unlink()  # HEAD's file is read, and its answer remembered
    assert _view(gittree, monkeypatch, repo.path) == ("HEAD:.gittree.yaml", 0.001)
    _same_with_and_without_the_listing(repo.path)
    repo.write(CONFIG_FILE, LOOSE)  # nothing committed, no ref moved
    assert _view(gittree, monkeypatch, repo.path) == (str(repo.path / CONFIG_FILE), 0.05)
    _same_with_and_without_the_listing(repo.path)
    (repo.path / CONFIG_FILE).unlink()
    assert _view(gittree, monkeypatch, repo.path) == ("HEAD:.gittree.yaml", 0.001)


def test_a_change_at_head_is_seen_by_the_next_view(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    author = _author(tmp_path)
    bare = tmp_path / "shared.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(author.path), str(bare)], check=True)
    assert _view(gittree, monkeypatch, bare) == ("HEAD:.gittree.yaml", 0.001)
    _commit_config(author, LOOSE, "loosen")  # pushed: HEAD of the bare repository moves
    author.git("push", "-q", str(bare), "main")
    assert _same_with_and_without_the_listing(bare) == ("HEAD:.gittree.yaml", LOOSE.encode())
    assert _view(gittree, monkeypatch, bare) == ("HEAD:.gittree.yaml", 0.05)
    # HEAD names another branch, one without the file: the next step (the newest tip) answers
    subprocess.run(["git", "-C", str(bare), "symbolic-ref", "HEAD", "refs/heads/early"], check=True)
    assert _view(gittree, monkeypatch, bare) == ("refs/heads/main:.gittree.yaml", 0.05)
    _same_with_and_without_the_listing(bare)


def test_a_change_on_the_remote_default_branch_is_seen_by_the_next_view(
    tmp_path: Path, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    author = _author(tmp_path)
    clone = tmp_path / "on-early"
    subprocess.run(["git", "clone", "-q", "-b", "early", str(author.path), str(clone)], check=True)
    source = "refs/remotes/origin/HEAD:.gittree.yaml"
    assert _view(gittree, monkeypatch, clone) == (source, 0.001)
    _commit_config(author, LOOSE, "loosen")
    subprocess.run(["git", "-C", str(clone), "fetch", "-q"], check=True)  # origin/main moves; HEAD does not
    assert _same_with_and_without_the_listing(clone) == (source, LOOSE.encode())
    assert _view(gittree, monkeypatch, clone) == (source, 0.05)
    # the remote's default branch becomes one without the file: no file anywhere but origin/main
    subprocess.run(["git", "-C", str(clone), "remote", "set-head", "origin", "early"], check=True)
    assert _view(gittree, monkeypatch, clone) == ("refs/remotes/origin/main:.gittree.yaml", 0.05)
    _same_with_and_without_the_listing(clone)


def test_a_newer_tip_with_the_file_is_seen_by_the_next_view(tmp_path: Path, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    author = _author(tmp_path)
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(author.path), str(mirror)], check=True)
    subprocess.run(["git", "-C", str(mirror), "symbolic-ref", "HEAD", "refs/heads/early"], check=True)
    assert _view(gittree, monkeypatch, mirror) == ("refs/heads/main:.gittree.yaml", 0.001)
    author.git("switch", "-q", "-c", "later")
    _commit_config(author, LOOSE, "loosen on a newer branch")
    author.git("push", "-q", str(mirror), "later")
    assert _same_with_and_without_the_listing(mirror) == ("refs/heads/later:.gittree.yaml", LOOSE.encode())
    assert _view(gittree, monkeypatch, mirror) == ("refs/heads/later:.gittree.yaml", 0.05)
    # the file gone from every tip: the defaults, not the last answer
    for branch in ("main", "later"):
        subprocess.run(["git", "-C", str(mirror), "update-ref", "-d", f"refs/heads/{branch}"], check=True)
    assert _same_with_and_without_the_listing(mirror) == (None, None)
    assert _view(gittree, monkeypatch, mirror) == (None, None)


def test_an_answer_read_after_a_branch_moved_is_not_remembered(tmp_path: Path) -> None:
    """The newest-tip step asks git for the tips' dates: when a branch moved after the listing was
    read, the answer is right for the refs of now but does not follow from the listing, so it must not
    be kept under that listing's facts."""
    author = _author(tmp_path)
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(author.path), str(mirror)], check=True)
    subprocess.run(["git", "-C", str(mirror), "symbolic-ref", "HEAD", "refs/heads/early"], check=True)
    repo = gitio.open_repo(mirror)
    listing = gitio.list_refs(repo)
    assert gitio.read_committed_file(repo, CONFIG_FILE, listing).facts is not None
    author.experiment("newer", metrics=[("acc", 0.93)])
    author.git("push", "-q", str(mirror), "main")  # after the listing
    moved = gitio.read_committed_file(repo, CONFIG_FILE, listing)
    assert moved.where == "refs/heads/main:.gittree.yaml" and moved.facts is None


def test_a_remembered_answer_is_used_only_where_its_facts_hold(repo: GitRepo) -> None:
    repo.experiment("baseline", metrics=[("acc", 0.90)])
    _commit_config(repo, TIGHT)
    (repo.path / CONFIG_FILE).unlink()
    opened = gitio.open_repo(repo.path)
    known = gitio.read_committed_file(opened, CONFIG_FILE, gitio.list_refs(opened))
    assert known.where == "HEAD:.gittree.yaml" and known.facts is not None
    # found at HEAD: a new branch elsewhere changes the listing, not the answer's facts
    repo.git("branch", "elsewhere", "HEAD~1")
    assert gitio.read_committed_file(opened, CONFIG_FILE, gitio.list_refs(opened), known=known) is known
    # another file name, or HEAD at another commit: looked up again
    assert gitio.read_committed_file(opened, "other.yaml", gitio.list_refs(opened), known=known) is not known
    repo.git("rm", "-q", CONFIG_FILE)
    repo.git("commit", "-q", "-m", "no configuration")
    again = gitio.read_committed_file(opened, CONFIG_FILE, gitio.list_refs(opened), known=known)
    assert again is not known and (again.where, again.data) == (None, None)
    # a stored answer of another shape is not one
    assert gitio.CommittedFile.from_tuple(("HEAD:x", b"", None)) is None
    assert gitio.CommittedFile.from_tuple(known.as_tuple()) is not None


def test_a_warm_view_without_a_checked_out_file_runs_two_git_processes(
    tmp_path: Path, gittree, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Opening the repository and listing its refs: the committed `.gittree.yaml` comes from the
    remembered answer (issue 19; docs/performance.md, "A warm start")."""
    author = _author(tmp_path)
    bare = tmp_path / "shared.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(author.path), str(bare)], check=True)
    assert gittree("-C", str(bare), "show", "--json").code == 0
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert gittree("-C", str(bare), "show", "--json").code == 0
    monkeypatch.delenv("GIT_TRACE")
    commands = [
        line.split("built-in: git ")[1] for line in trace.read_text().splitlines() if "built-in:" in line
    ]
    assert [command.split()[0] for command in commands] == ["rev-parse", "show-ref"], commands
    assert os.path.exists(bare / "gittree" / "cache" / "config-lookup.v1")


# -- reading a ref listing by searching its bytes ------------------------------------------------

_NAMES = st.text(alphabet="abcHEADx-/.é", min_size=1, max_size=12).filter(
    lambda name: " " not in name and not name.startswith("/") and "//" not in name and not name.endswith("/")
)
_LINES = st.lists(
    st.tuples(
        st.sampled_from(["refs/heads/", "refs/remotes/", "refs/tags/", "refs/gittree/", "refs/notes/"]),
        _NAMES,
        st.booleans(),  # an annotated tag's peeled line follows
        st.text(alphabet="0123456789abcdef", min_size=40, max_size=40),
    ),
    max_size=30,
)


def _listing_line_by_line(listing: bytes) -> tuple[str | None, list[tuple[str, str]], int]:
    head, defaults, others = None, [], 0
    for line in listing.decode("utf-8", "surrogateescape").splitlines():
        sha, _, ref = line.partition(" ")
        if ref == "HEAD":
            head = sha
        elif ref.startswith(("refs/heads/", "refs/remotes/")) and not ref.endswith("^{}"):
            if ref.startswith("refs/remotes/") and ref.endswith("/HEAD"):
                defaults.append((ref, sha))
            else:
                others += 1
    defaults.sort(key=lambda pair: pair[0] != "refs/remotes/origin/HEAD")
    return head, defaults, others


@given(head=st.booleans(), lines=_LINES, origin=st.booleans())
def test_the_listing_is_read_as_line_by_line(head: bool, lines: list[Any], origin: bool) -> None:
    from gittree.gitio.repo import _listed_heads

    text = f"{'1' * 40} HEAD\n" if head else ""
    refs = [(prefix + name, peeled, sha) for prefix, name, peeled, sha in lines]
    if origin:
        refs.append(("refs/remotes/origin/HEAD", False, "2" * 40))
    for ref, peeled, sha in sorted(refs):
        text += f"{sha} {ref}\n" + (f"{sha[::-1]} {ref}^{{}}\n" if peeled else "")
    listing = text.encode()
    assert (
        _listed_heads(listing) == _listed_heads(listing.removesuffix(b"\n")) == _listing_line_by_line(listing)
    )


def test_with_too_many_tips_to_scan_a_new_branch_keeps_the_answer_and_fewer_tips_look_again(
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    """Beyond NEWEST_TIP_SCAN tips the newest-tip step is skipped (docs/config.md): the answer then
    follows from HEAD, the remotes' default branches and there being too many tips, so one more
    branch (a run's, a sweep's) changes nothing, but dropping back under the limit looks again."""
    from gittree.gitio.repo import NEWEST_TIP_SCAN

    author = _author(tmp_path)
    author.git("switch", "-q", "-c", "configured")
    _commit_config(author, LOOSE, "configure on a side branch")
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(author.path), str(mirror)], check=True)
    subprocess.run(["git", "-C", str(mirror), "symbolic-ref", "HEAD", "refs/heads/early"], check=True)
    early = subprocess.run(
        ["git", "-C", str(mirror), "rev-parse", "early"], check=True, capture_output=True, text=True
    ).stdout.strip()
    for ref in ("refs/heads/main", "refs/heads/configured"):  # only `configured` has the file
        subprocess.run(["git", "-C", str(mirror), "update-ref", "-d", ref], check=True)
    subprocess.run(
        ["git", "-C", str(mirror), "update-ref", "refs/heads/configured", author.head()], check=True
    )
    for index in range(NEWEST_TIP_SCAN):
        subprocess.run(
            ["git", "-C", str(mirror), "update-ref", f"refs/heads/sweep/{index}", early], check=True
        )
    repo = gitio.open_repo(mirror)
    known = gitio.read_committed_file(repo, CONFIG_FILE, gitio.list_refs(repo))
    assert (known.where, known.data) == (None, None) == _same_with_and_without_the_listing(mirror)
    subprocess.run(["git", "-C", str(mirror), "update-ref", "refs/heads/sweep/more", early], check=True)
    assert gitio.read_committed_file(repo, CONFIG_FILE, gitio.list_refs(repo), known=known) is known
    for index in range(3):
        subprocess.run(
            ["git", "-C", str(mirror), "update-ref", "-d", f"refs/heads/sweep/{index}"], check=True
        )
    again = gitio.read_committed_file(repo, CONFIG_FILE, gitio.list_refs(repo), known=known)
    assert again is not known and again.where == "refs/heads/configured:.gittree.yaml"
    assert _same_with_and_without_the_listing(mirror) == (again.where, LOOSE.encode())
