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


# -- questions: code diffs, folded commits (gittree/questions.py) --------------------------------


def diff_text(repo: Repo, a: str, b: str, *, patch: bool = False) -> str:
    """``git diff --stat A B`` (with ``patch``: the stat followed by the whole patch), never coloured."""
    args = ["diff", "--no-color", "--no-ext-diff", "--stat"]
    if patch:
        args.append("--patch")
    return run_git(repo, *args, resolve_commit(repo, a), resolve_commit(repo, b), "--")


def commits_between(
    repo: Repo, tip: str, stop_at: Sequence[str], *, limit: int
) -> tuple[list[CommitRecord], int]:
    """Commits below ``tip`` down to (not including) ``stop_at``: the first ``limit``, newest first, and the count.

    These are the ordinary commits folded into the experiment ``tip`` (docs/tree.md); ``stop_at`` is
    its experiment parents, empty for a root (then everything below it is counted).
    """
    import pygit2

    handle = repo.handle
    commit = handle[tip].peel(pygit2.Commit)
    parents = [str(p) for p in commit.parent_ids if handle.get(p) is not None]
    if not parents:
        return [], 0
    walker = handle.walk(parents[0], pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME)
    for parent in parents[1:]:
        walker.push(parent)
    for sha in stop_at:
        if handle.get(sha) is not None:
            walker.hide(sha)
    listed: list[CommitRecord] = []
    count = 0
    try:
        for commit in walker:
            count += 1
            if len(listed) < limit:
                listed.append(_record(commit, frozenset(), {}))
    except pygit2.GitError as e:
        raise GitCommandError(f"cannot read the history below {tip[:7]}: {e}", hint="run `git fsck`") from e
    return listed, count


# -- import: finding commits by short hash, keeping them reachable, rolling back (importers.py) ----


@dataclass(frozen=True)
class PrefixMatch:
    """What an abbreviated hash names: the commits it matches, and the types of other objects it matches."""

    commits: tuple[str, ...]
    other_types: tuple[str, ...] = ()


def match_commit_prefix(repo: Repo, prefix: str) -> PrefixMatch:
    """Every object whose name starts with ``prefix`` (4 to 40 hex digits), split into commits and others.

    Like ``git rev-parse PREFIX^{commit}``, a prefix that matches one commit and some blobs or trees
    names that commit. Objects reachable only from the reflog, or from nothing, are found too.
    """
    import pygit2

    try:
        obj = repo.handle[prefix]
    except KeyError:
        return PrefixMatch(())
    except ValueError:  # pygit2.AmbiguousError: several objects share the prefix
        names = run_git(repo, "rev-parse", f"--disambiguate={prefix}").split()
        objects = [repo.handle[name] for name in names]
        commits = tuple(sorted(str(o.id) for o in objects if o.type == pygit2.enums.ObjectType.COMMIT))
        others = tuple(o.type_str for o in objects if o.type != pygit2.enums.ObjectType.COMMIT)
        return PrefixMatch(commits, others)
    if obj.type == pygit2.enums.ObjectType.COMMIT:
        return PrefixMatch((str(obj.id),))
    return PrefixMatch((), (obj.type_str,))


def commit_subject(repo: Repo, sha: str) -> str:
    """The subject line of the commit ``sha`` (no notes read: one object, however many notes exist)."""
    return _record(repo.handle[sha], frozenset(), {}).subject


def reachable_from_refs(repo: Repo, shas: Iterable[str]) -> set[str]:
    """Those of ``shas`` that some branch, tag, remote-tracking branch or gittree ref reaches."""
    import pygit2

    wanted = set(shas)
    tips = list(dict.fromkeys(_kept_alive_tips(repo)))
    if not wanted or not tips:
        return set()
    walker = repo.handle.walk(tips[0], pygit2.enums.SortMode.NONE)
    for tip in tips[1:]:
        walker.push(tip)
    found: set[str] = set()
    for commit in walker:
        sha = str(commit.id)
        if sha in wanted:
            found.add(sha)
            if found == wanted:
                break
    return found


def _kept_alive_tips(repo: Repo) -> Iterator[str]:
    """The commits the refs under :data:`ALL_REF_PREFIXES` point at (what garbage collection keeps)."""
    import pygit2

    for name in repo.handle.references:
        if name.startswith(ALL_REF_PREFIXES):
            try:
                yield str(repo.handle.references[name].peel(pygit2.Commit).id)
            except (pygit2.GitError, pygit2.InvalidSpecError, ValueError, KeyError):
                continue  # a tag of a tree or blob, or a dangling symbolic ref


def ref_target(repo: Repo, ref: str) -> str | None:
    """The object ``ref`` points at, or None when the ref does not exist."""
    try:
        return str(repo.handle.references[ref].target)
    except KeyError:
        return None


def update_refs(repo: Repo, commands: Sequence[str]) -> None:
    """Apply ``git update-ref --stdin`` commands as one transaction: all of them happen, or none."""
    if commands:
        run_git(repo, "update-ref", "--stdin", input_text="".join(line + "\n" for line in commands))
