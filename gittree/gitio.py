"""The one module that talks to git.

Reading the graph goes through pygit2 (libgit2: fast, in-process). Writing goes through the git
command line (via GitPython's ``Git`` runner) so that the user's own hooks, identity, signing and
configuration apply exactly as they would to a plain ``git commit``. Both libraries are imported
inside the functions that need them, to keep start-up fast.

Every library error is translated here into a :mod:`gittree.errors` exception that tells the user
what to do.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gittree.errors import (
    GitCommandError,
    NoCommitsError,
    NotARepositoryError,
    RevisionNotFoundError,
)
from gittree.model import CommitRecord

if TYPE_CHECKING:
    import pygit2

NOTES_REF = "refs/notes/gittree"
GITTREE_REF_PREFIX = "refs/gittree/"
#: Ref namespaces ``--all`` reads: branches, remote-tracking branches, tags and gittree's own keep-alive refs.
ALL_REF_PREFIXES = ("refs/heads/", "refs/remotes/", "refs/tags/", GITTREE_REF_PREFIX)


@dataclass
class Repo:
    """An opened repository: the libgit2 handle plus where things are on disk."""

    handle: pygit2.Repository
    git_dir: Path
    #: top of the working tree; None for a bare repository.
    worktree: Path | None

    @property
    def is_bare(self) -> bool:
        return self.worktree is None


def open_repo(path: Path | str | None = None) -> Repo:
    """Open the repository containing ``path`` (default: the current directory)."""
    import pygit2

    start = str(Path(path) if path is not None else Path.cwd())
    try:
        found = pygit2.discover_repository(start)
    except pygit2.GitError as e:  # pragma: no cover - libgit2 reports "not found" as None
        raise NotARepositoryError(f"{start} is not inside a git repository: {e}") from e
    if found is None:
        raise NotARepositoryError(
            f"{start} is not inside a git repository",
            hint="run `git init` first, or `gittree demo` to see an example",
        )
    try:
        handle = pygit2.Repository(found)
    except pygit2.GitError as e:
        raise NotARepositoryError(f"cannot open the repository at {found}: {e}") from e
    worktree = None if handle.is_bare else Path(handle.workdir).resolve()
    return Repo(handle=handle, git_dir=Path(handle.path).resolve(), worktree=worktree)


# -- reading -------------------------------------------------------------------------------------


def head_sha(repo: Repo) -> str | None:
    """The commit HEAD points at, or None on an unborn branch."""
    if repo.handle.head_is_unborn:
        return None
    return str(repo.handle.head.target)


def resolve_commit(repo: Repo, rev: str) -> str:
    """Full sha of the commit ``rev`` names (any revision syntax git accepts)."""
    import pygit2

    try:
        obj = repo.handle.revparse_single(rev)
        commit = obj.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError) as e:
        raise RevisionNotFoundError(
            f"'{rev}' does not name a commit in this repository",
            hint="use a sha, a branch or tag name, or HEAD~N",
        ) from e
    return str(commit.id)


def tip_shas(repo: Repo, revs: Sequence[str] = (), all_refs: bool = False) -> list[str]:
    """The commits a walk starts from: the named revisions, every ref (``--all``) or HEAD."""
    tips = [resolve_commit(repo, rev) for rev in revs]
    if all_refs:
        tips.extend(_ref_tips(repo))
        head = head_sha(repo)
        if head:
            tips.append(head)
    elif not revs:
        head = head_sha(repo)
        if head is None:
            raise NoCommitsError(
                "this repository has no commits yet",
                hint="record a first experiment: gittree commit -m 'baseline' --metric acc=0.5",
            )
        tips.append(head)
    if not tips:
        raise NoCommitsError("no branch or tag points at a commit yet", hint="make a first commit")
    return list(dict.fromkeys(tips))


def _ref_tips(repo: Repo) -> Iterator[str]:
    import pygit2

    for name in repo.handle.references:
        if not name.startswith(ALL_REF_PREFIXES):
            continue
        try:
            commit = repo.handle.references[name].peel(pygit2.Commit)
        except (pygit2.GitError, pygit2.InvalidSpecError, ValueError, KeyError):
            continue  # a tag of a tree or blob, or a dangling symbolic ref: not part of any history
        yield str(commit.id)


def shallow_boundary(repo: Repo) -> frozenset[str]:
    """Commits whose parents were cut away by a shallow clone (``$GIT_DIR/shallow``)."""
    try:
        text = (repo.git_dir / "shallow").read_text(encoding="ascii")
    except (FileNotFoundError, UnicodeDecodeError):
        return frozenset()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def decode_message(raw: bytes, encoding: str | None) -> str:
    """Decode a commit message: its declared ``encoding`` header if git knows it, else UTF-8; never fails."""
    codec = "utf-8"
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            codec = "utf-8"
    return raw.decode(codec, errors="replace")


def read_notes(repo: Repo, ref: str = NOTES_REF) -> dict[str, str]:
    """Annotated commit sha -> note text, for every note under ``ref`` (empty when the ref is absent)."""
    import pygit2

    try:
        repo.handle.references[ref]
    except KeyError:
        return {}
    notes: dict[str, str] = {}
    try:
        for note in repo.handle.notes(ref):  # type: ignore[call-arg]  # stubs lag: ref is accepted
            blob = repo.handle[note.id]
            notes[str(note.annotated_id)] = decode_message(blob.read_raw(), None)
    except pygit2.GitError as e:
        raise GitCommandError(f"cannot read the notes under {ref}: {e}", hint="run `git fsck`") from e
    return notes


def read_commits(repo: Repo, tips: Iterable[str], *, with_notes: bool = True) -> Iterator[CommitRecord]:
    """Every commit reachable from ``tips``, each once, with its message and (optionally) its gittree note."""
    import pygit2

    tips = list(tips)
    if not tips:
        return
    shallow = shallow_boundary(repo)
    notes = read_notes(repo) if with_notes else {}
    walker = repo.handle.walk(tips[0], pygit2.enums.SortMode.NONE)
    for tip in tips[1:]:
        walker.push(tip)
    try:
        for commit in walker:
            yield _record(commit, shallow, notes)
    except pygit2.GitError as e:
        raise GitCommandError(
            f"cannot read the history: {e}", hint="the repository may be damaged; run `git fsck`"
        ) from e


def _record(commit: Any, shallow: frozenset[str], notes: dict[str, str]) -> CommitRecord:
    sha = str(commit.id)
    author = commit.author
    return CommitRecord(
        sha=sha,
        parents=tuple(str(p) for p in commit.parent_ids),
        message=decode_message(commit.raw_message, commit.message_encoding),
        author_name=_decode_name(author.raw_name),
        author_email=_decode_name(author.raw_email),
        author_time=int(author.time),
        author_offset=int(author.offset),
        shallow=sha in shallow,
        note=notes.get(sha),
    )


def _decode_name(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def read_commit(repo: Repo, rev: str) -> CommitRecord:
    """One commit (with its note) by revision."""
    sha = resolve_commit(repo, rev)
    notes = read_notes(repo)
    return _record(repo.handle[sha], shallow_boundary(repo), notes)


# -- writing (through the git command line, so the user's hooks and config apply) ----------------


def _git(repo: Repo) -> Any:
    import git

    return git.Git(str(repo.worktree or repo.git_dir))


def run_git(repo: Repo, *args: str, input_text: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run ``git ARGS`` in the repository and return stdout; a refusal becomes :class:`GitCommandError`."""
    import git

    runner = _git(repo)
    kwargs: dict[str, Any] = {"with_extended_output": False, "strip_newline_in_stdout": False}
    if env:
        kwargs["env"] = env
    try:
        if input_text is None:
            out = runner.execute(["git", *args], **kwargs)
        else:
            with tempfile.TemporaryFile() as stdin:
                stdin.write(input_text.encode("utf-8"))
                stdin.seek(0)
                out = runner.execute(["git", *args], istream=stdin, **kwargs)
    except git.GitCommandError as e:
        raise GitCommandError(
            f"git {args[0]} failed: {_stderr(e)}",
            hint="fix what git reports above and run the command again",
        ) from e
    except git.GitCommandNotFound as e:
        raise GitCommandError("the git program was not found on PATH", hint="install git") from e
    return str(out)


def _stderr(e: Any) -> str:
    """What git said: its stderr, else its stdout (``git commit`` reports "nothing to commit" there)."""
    for stream in (e.stderr, e.stdout):
        text = stream if isinstance(stream, str) else bytes(stream or b"").decode("utf-8", "replace")
        text = text.strip()
        for prefix in ("stderr:", "stdout:"):
            if text.startswith(prefix):
                text = text[len(prefix) :].strip().strip("'").strip()
        if text:
            return text
    return f"exit status {e.status}"


def commit_with_message(
    repo: Repo,
    message: str,
    *,
    stage_all: bool = False,
    allow_empty: bool = False,
    env: dict[str, str] | None = None,
) -> str:
    """``git commit -F <file>`` with the user's hooks and config; returns the new commit's sha."""
    if repo.worktree is None:
        raise GitCommandError(
            "this is a bare repository: there is no working tree to commit",
            hint="run gittree commit inside a clone with a working tree",
        )
    fd, path = tempfile.mkstemp(prefix="gittree-msg-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(message)
        args = ["commit", "--file", path, "--cleanup=whitespace"]
        if stage_all:
            args.append("--all")
        if allow_empty:
            args.append("--allow-empty")
        run_git(repo, *args, env=env)
    finally:
        os.unlink(path)
    sha = head_sha(repo)
    if sha is None:  # pragma: no cover - git said it committed
        raise GitCommandError("git reported success but HEAD does not point at a commit")
    return sha


def has_staged_changes(repo: Repo) -> bool:
    """Whether the index differs from HEAD (what a plain ``git commit`` would record)."""
    import pygit2

    status = repo.handle.status()
    staged = (
        pygit2.enums.FileStatus.INDEX_NEW
        | pygit2.enums.FileStatus.INDEX_MODIFIED
        | pygit2.enums.FileStatus.INDEX_DELETED
        | pygit2.enums.FileStatus.INDEX_RENAMED
        | pygit2.enums.FileStatus.INDEX_TYPECHANGE
    )
    return any(flags & staged for flags in status.values())


def append_note(repo: Repo, sha: str, lines: Sequence[str], ref: str = NOTES_REF) -> None:
    """Append trailer lines to the gittree note of ``sha`` (``git notes append``: a new paragraph)."""
    fd, path = tempfile.mkstemp(prefix="gittree-note-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write("\n".join(lines) + "\n")
        run_git(repo, "notes", "--ref", ref, "append", "--file", path, sha)
    finally:
        os.unlink(path)


def set_config(repo: Repo, key: str, value: str) -> None:
    """Set a repository-local git configuration value."""
    run_git(repo, "config", "--local", key, value)


# -- runs: where things live, snapshots and commits that do not touch the checkout --------------
# Used by gittree.treecommit and gittree.runs (docs/runs.md). Each is one git call or one file read.

#: Empty tree object name (SHA-1): what an unborn branch "contains".
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def common_dir(repo: Repo) -> Path:
    """The folder shared by every worktree of the repository (``git rev-parse --git-common-dir``)."""
    try:
        text = (repo.git_dir / "commondir").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return repo.git_dir
    return (repo.git_dir / text).resolve()


def index_path(repo: Repo) -> Path:
    """The index of this worktree (a linked worktree has its own under ``.git/worktrees/NAME``)."""
    return repo.git_dir / "index"


def git_path(repo: Repo, name: str) -> Path:
    """``git rev-parse --git-path NAME`` as an absolute path (honours ``core.hooksPath`` for ``hooks``)."""
    text = git_output(repo, "rev-parse", "--git-path", name).strip()
    return (Path(repo.worktree or repo.git_dir) / text).resolve()


def config_value(repo: Repo, key: str, *, kind: str | None = None) -> str | None:
    """One git configuration value as git reads it (every level), or None when unset."""
    args = ["config", *([f"--type={kind}"] if kind else []), "--get", key]
    code, out, err = run_git_status(repo, *args)
    if code == 1:
        return None  # git exits 1 when the key is unset
    if code != 0:
        raise GitCommandError(f"git config {key} failed: {err.strip()}", hint="check your git configuration")
    return out.strip()


def symbolic_head(repo: Repo) -> str | None:
    """The branch HEAD points at (``refs/heads/...``, born or not), or None when HEAD is detached."""
    try:
        target = repo.handle.references["HEAD"].target
    except KeyError:  # pragma: no cover - every repository has a HEAD
        return None
    return target if isinstance(target, str) else None


def ref_sha(repo: Repo, ref: str) -> str | None:
    """The commit ``ref`` (a full ref name or ``HEAD``) points at, or None when it does not exist."""
    code, out, _ = run_git_status(repo, "rev-parse", "-q", "--verify", f"{ref}^{{commit}}")
    return out.strip() if code == 0 else None


def run_git_status(
    repo: Repo, *args: str, env: dict[str, str] | None = None, input_text: str | None = None
) -> tuple[int, str, str]:
    """``git ARGS`` without raising: (exit status, stdout, stderr), for commands whose failure is an answer.

    A plain subprocess (no GitPython import: ``gittree run`` pays for every millisecond). Messages are
    in English (``LC_ALL=C``, as GitPython does) because callers recognise lock contention by them.
    """
    import subprocess

    full_env = {**os.environ, **(env or {}), "LANGUAGE": "C", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=str(repo.worktree or repo.git_dir),
            env=full_env,
            input=input_text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except FileNotFoundError as e:
        raise GitCommandError("the git program was not found on PATH", hint="install git") from e
    return done.returncode, done.stdout, done.stderr


def git_output(
    repo: Repo, *args: str, env: dict[str, str] | None = None, input_text: str | None = None
) -> str:
    """``git ARGS``'s stdout; a failure becomes :class:`GitCommandError` carrying git's own words."""
    code, out, err = run_git_status(repo, *args, env=env, input_text=input_text)
    if code != 0:
        said = err.strip() or out.strip() or f"exit status {code}"
        raise GitCommandError(f"git {args[0]} failed: {said}", hint="fix what git reports and try again")
    return out


def checked_out_branches(repo: Repo) -> dict[Path, str | None]:
    """Every worktree of the repository and the branch it has checked out (None: detached or bare)."""
    out = git_output(repo, "worktree", "list", "--porcelain", "-z")
    found: dict[Path, str | None] = {}
    current: Path | None = None
    for field in out.split("\0"):
        if field.startswith("worktree "):
            current = Path(field[len("worktree ") :]).resolve()
            found[current] = None
        elif field.startswith("branch ") and current is not None:
            found[current] = field[len("branch ") :]
    return found


def operation_in_progress(repo: Repo) -> tuple[str, str | None] | None:
    """(what, branch being rebased) when a merge, rebase, cherry-pick, revert or bisect is under way here."""
    git_dir = repo.git_dir
    for folder in ("rebase-merge", "rebase-apply"):
        if (git_dir / folder).is_dir():
            try:
                head_name: str | None = (git_dir / folder / "head-name").read_text(encoding="utf-8").strip()
            except OSError:
                head_name = None
            return "rebase", head_name
    for marker, what in (
        ("MERGE_HEAD", "merge"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
        ("BISECT_LOG", "bisect"),
    ):
        if (git_dir / marker).exists():
            return what, None
    return None


def worktree_differs(repo: Repo, rev: str) -> bool:
    """Whether tracked files in the working tree differ from ``rev`` (``git diff --quiet REV``)."""
    if repo.worktree is None:
        return False
    code, _, err = run_git_status(repo, "diff", "--quiet", "--no-ext-diff", "--no-textconv", rev, "--")
    if code not in (0, 1):
        raise GitCommandError(f"git diff failed: {err.strip()}", hint="run `git status` to see what is wrong")
    return code == 1


def is_valid_branch_name(repo: Repo, name: str) -> bool:
    """Whether git accepts ``name`` as a new branch name (``git check-ref-format --branch``)."""
    if not name or name.startswith("-"):
        return False
    return run_git_status(repo, "check-ref-format", "--branch", name)[0] == 0
