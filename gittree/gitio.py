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
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from gittree.errors import (
    ConfigError,
    GitCommandError,
    NoCommitsError,
    NotARepositoryError,
    RemoteError,
    RevisionNotFoundError,
)

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    import subprocess
    from typing import Any

    import pygit2

    from gittree.model import (
        CommitRecord,
        FetchResult,
        NoteEntry,
        PrefixMatch,
        PushedRef,
        PushResult,
        RefUpdate,
    )

NOTES_REF = "refs/notes/gittree"
GITTREE_REF_PREFIX = "refs/gittree/"
#: Where ``gittree sync`` keeps its copies of a remote's ``refs/gittree/*`` (docs/teams.md).
GITTREE_REMOTE_REF_PREFIX = "refs/gittree-remote/"
#: Ref namespaces ``--all`` reads: branches, remote-tracking branches, tags and gittree's own keep-alive refs
#: (local, and as last fetched from each remote).
ALL_REF_PREFIXES = (
    "refs/heads/",
    "refs/remotes/",
    "refs/tags/",
    GITTREE_REF_PREFIX,
    GITTREE_REMOTE_REF_PREFIX,
)


class Repo:
    """An opened repository: where things are on disk, and (opened on first use) the libgit2 handle.

    Opening runs ``git rev-parse`` (a few milliseconds) rather than importing pygit2 (about 85 ms), so
    views served from the cache start fast; :attr:`handle` imports and opens libgit2 when needed.
    A plain class, like :class:`RefState`: the cached-view start-up path does not pay for importing
    ``dataclasses`` (about 14 ms here).
    """

    __slots__ = ("_handle", "common_dir", "git_dir", "worktree")

    def __init__(self, git_dir: Path, worktree: Path | None, common_dir: Path | None = None) -> None:
        self.git_dir = git_dir
        #: top of the working tree (also when gittree runs inside ``.git``); None for a bare repository.
        self.worktree = worktree
        #: the folder shared by every worktree of the repository (refs, objects, gittree's cache).
        self.common_dir = common_dir
        self._handle: Any = None

    def __repr__(self) -> str:
        return f"Repo(git_dir={self.git_dir!r}, worktree={self.worktree!r}, common_dir={self.common_dir!r})"

    @property
    def is_bare(self) -> bool:
        return self.worktree is None

    @property
    def shared_dir(self) -> Path:
        return self.common_dir or self.git_dir

    @property
    def handle(self) -> pygit2.Repository:
        if self._handle is None:
            import pygit2

            try:
                self._handle = pygit2.Repository(str(self.git_dir))
            except pygit2.GitError as e:
                raise NotARepositoryError(f"cannot open the repository at {self.git_dir}: {e}") from e
        handle: pygit2.Repository = self._handle
        return handle


def git_output(
    args: Sequence[str], cwd: Path | str | None = None, *, input: bytes | None = None
) -> tuple[int, bytes, bytes]:
    """Run ``git ARGS`` without a shell (``input`` on its stdin); returns (exit code, stdout, stderr).

    For fast read-only queries; replace refs are not followed (docs/reliability.md).
    """
    import subprocess

    env = _history_env()
    stdin = subprocess.DEVNULL if input is None else None
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env, stdin=stdin, input=input)
    except FileNotFoundError as e:
        raise GitCommandError("the git program was not found on PATH", hint="install git") from e
    return done.returncode, done.stdout, done.stderr


def open_repo(path: Path | str | None = None) -> Repo:
    """Open the repository containing ``path`` (default: the current directory), found as git finds it."""
    start = Path(path) if path is not None else Path.cwd()
    if not start.is_dir():
        raise NotARepositoryError(f"{start} is not a folder", hint="pass an existing folder to -C")
    # --show-toplevel comes last: git prints the answers before it even where it fails (a bare repository).
    code, out, err = git_output(
        [
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
            "--is-bare-repository",
            "--show-object-format",
            "--show-toplevel",
        ],
        cwd=start,
    )
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 3:
        reason = err.decode("utf-8", "replace").strip().removeprefix("fatal: ")
        detail = f": {reason}" if reason and "not a git repository" not in reason else ""
        raise NotARepositoryError(
            f"{start} is not inside a git repository{detail}",
            hint="run `git init` first, or `gittree demo` to see an example",
        )
    if lines[0].startswith("--path-format"):  # git before 2.31 echoes the option it does not know
        check_git_version(None)
    git_dir, common_dir = Path(lines[0]), Path(lines[1])
    check_git_version(common_dir)
    if len(lines) > 3 and lines[3] != "sha1":
        # Reading worked, through git; but commits, notes and the incremental read go through libgit2.
        raise GitCommandError(
            f"this repository names its objects with {lines[3].upper()}, which gittree cannot work with "
            "yet: its git library (libgit2, through pygit2) reads SHA-1 repositories only",
            hint="use gittree in a repository with git's default object format, SHA-1",
        )
    if lines[2] != "false":
        worktree = None
    elif code == 0 and len(lines) > 4:
        worktree = Path(lines[4])
    else:  # inside the git dir of a repository that has a working tree
        worktree = _worktree_of(git_dir, common_dir)
    return Repo(git_dir=git_dir, worktree=worktree, common_dir=common_dir)


def _worktree_of(git_dir: Path, common_dir: Path) -> Path | None:
    """The working tree of a repository that is not bare, found from inside its git dir.

    There git sets up no working tree, so ``rev-parse --show-toplevel`` fails (``git -C .git log``
    reads what it reads from the top; ``git -C .git status`` refuses). gittree works as from the
    top of the working tree instead: the repository is not bare, and its views (coloured by the
    checkout's ``.gittree.yaml``) should not change with the folder they are asked from. The working
    tree is the folder holding ``.git``, or, for a linked worktree's own git dir
    (``.git/worktrees/NAME``), the one its ``gitdir`` file names; None when neither is found (a
    ``--separate-git-dir`` repository): then gittree works as in a bare repository.
    """
    if git_dir == common_dir and git_dir.name == ".git":
        return git_dir.parent
    try:
        # absolute, or relative to the git dir (git 2.48's worktree.useRelativePaths)
        linked = (git_dir / git_dir.joinpath("gitdir").read_text(encoding="utf-8").strip()).resolve()
    except (OSError, UnicodeDecodeError):
        return None
    return linked.parent if linked.name == ".git" and linked.exists() else None


#: The oldest git gittree works with: ``git rev-parse --path-format=absolute`` (2.31) finds the
#: repository; ``--end-of-options`` (2.24) and ``fetch --no-write-fetch-head`` (2.29) come before it.
MIN_GIT_VERSION = (2, 31)


def parse_git_version(text: str) -> tuple[int, int] | None:
    """``git version 2.39.5.windows.1`` -> (2, 39); None when the text is not git's answer."""
    import re

    found = re.match(r"git version (\d+)\.(\d+)", text.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def check_git_version(common_dir: Path | None) -> None:
    """Refuse, with the version needed, a git older than :data:`MIN_GIT_VERSION`.

    Asking ``git --version`` costs a process (about 2 ms) on every command, so a passed check is
    remembered in ``$GIT_COMMON_DIR/gittree/git-version``, keyed by the git program's path, size and modification time: a
    new or different git on PATH is checked again. The stamp is only an optimisation (best effort).
    """
    import shutil

    program = shutil.which("git")
    if program is None:
        raise GitCommandError("the git program was not found on PATH", hint="install git")
    info = os.stat(program)
    stamp = f"{program}\0{info.st_size}\0{info.st_mtime_ns}\0{MIN_GIT_VERSION}\n"
    stamp_file = common_dir / "gittree" / "git-version" if common_dir is not None else None
    if stamp_file is not None and os.environ.get("GITTREE_NO_CACHE", "") in ("", "0"):
        try:
            if stamp_file.read_text(encoding="utf-8", errors="replace") == stamp:
                return
        except OSError:
            pass
    else:
        stamp_file = None
    _, out, _ = git_output(["--version"])
    text = out.decode("utf-8", "replace").strip()
    version = parse_git_version(text)
    if version is not None and version < MIN_GIT_VERSION:
        needed = ".".join(map(str, MIN_GIT_VERSION))
        raise GitCommandError(
            f"{text} ({program}) is too old: gittree needs git {needed} or newer",
            hint=f"install git {needed} or newer (https://git-scm.com/downloads) and put it first on PATH",
        )
    if stamp_file is not None and version is not None:
        try:
            stamp_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = stamp_file.with_name(f"git-version.{os.getpid()}.tmp")
            temporary.write_text(stamp, encoding="utf-8")
            os.replace(temporary, stamp_file)
        except OSError:
            pass  # a read-only repository: check again next time


# -- reading -------------------------------------------------------------------------------------


def head_sha(repo: Repo) -> str | None:
    """The commit HEAD points at, or None on an unborn branch."""
    code, out, _ = git_output(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=repo.git_dir)
    return out.decode("ascii").strip() if code == 0 else None


def resolve_commit(repo: Repo, rev: str) -> str:
    """Full sha of the commit ``rev`` names (any revision syntax git accepts)."""
    code, out, _ = git_output(
        ["rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}"],
        cwd=repo.worktree or repo.git_dir,
    )
    if code != 0 or not rev:
        if rev.startswith(("HEAD", "@")) and repo.handle.head_is_unborn:
            raise NoCommitsError(
                f"'{rev}' names no commit: HEAD is on a branch with no commits yet",
                hint="make a first commit (gittree commit -m 'baseline' --metric acc=0.5)",
            )
        raise RevisionNotFoundError(
            f"'{rev}' does not name a commit in this repository",
            hint="use a sha, a branch or tag name, or HEAD~N",
        )
    return out.decode("ascii").strip()


class RefState:
    """Every ref of the repository as ``git show-ref --head --dereference`` lists it.

    ``refs`` holds (name, object id) pairs; an annotated tag also appears as ``NAME^{}`` with the object
    it peels to. Since objects never change, this listing plus the notes ref decides everything a view
    of the history shows: it is what the cache is keyed by.
    """

    __slots__ = ("head", "refs")

    def __init__(self, head: str | None, refs: tuple[tuple[str, str], ...]) -> None:
        self.head = head
        self.refs = refs

    def __repr__(self) -> str:
        return f"RefState(head={self.head!r}, refs=<{len(self.refs)} refs>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RefState) and (self.head, self.refs) == (other.head, other.refs)

    def __hash__(self) -> int:
        return hash((self.head, self.refs))

    def target(self, name: str) -> str | None:
        for ref, sha in self.refs:
            if ref == name:
                return sha
        return None

    def tips(self, prefixes: tuple[str, ...] = ALL_REF_PREFIXES) -> list[str]:
        """The (peeled) objects the refs under ``prefixes`` point at; non-commits are skipped by the walk."""
        peeled = {ref[:-3]: sha for ref, sha in self.refs if ref.endswith("^{}")}
        return [
            peeled.get(ref, sha)
            for ref, sha in self.refs
            if ref.startswith(prefixes) and not ref.endswith("^{}")
        ]


def list_refs(repo: Repo) -> bytes:
    """HEAD and every ref with its object, as one ``git show-ref --head --dereference`` prints them.

    Exactly git's view (packed, loose, any ref backend). The bytes themselves key a cached view of
    every ref: nothing about the refs can change without changing them.
    """
    code, out, err = git_output(["show-ref", "--head", "--dereference"], cwd=repo.git_dir)
    if code not in (0, 1):  # 1: no ref at all (a new repository)
        raise GitCommandError(
            f"cannot list the refs: {err.decode('utf-8', 'replace').strip()}", hint="run `git fsck`"
        )
    return out


def read_refs(repo: Repo, listing: bytes | None = None) -> RefState:
    """HEAD and every ref (from ``listing``, the output of :func:`list_refs`, when already read)."""
    head = None
    refs = []
    text = (list_refs(repo) if listing is None else listing).decode("utf-8", "surrogateescape")
    for line in text.splitlines():
        sha, _, name = line.partition(" ")
        if name == "HEAD":
            head = sha
        else:
            refs.append((name, sha))
    return RefState(head=head, refs=tuple(refs))


def tip_shas(
    repo: Repo, revs: Sequence[str] = (), all_refs: bool = False, refs: RefState | None = None
) -> list[str]:
    """The commits a walk starts from: the named revisions, every ref (``--all``) or HEAD."""
    tips = [resolve_commit(repo, rev) for rev in revs]
    if all_refs or not revs:
        refs = refs or read_refs(repo)
    if all_refs:
        assert refs is not None
        tips.extend(refs.tips())
        if refs.head:
            tips.append(refs.head)
    elif not revs:
        assert refs is not None
        if refs.head is None:
            raise NoCommitsError(
                "this repository has no commits yet",
                hint="record a first experiment: gittree commit -m 'baseline' --metric acc=0.5",
            )
        tips.append(refs.head)
    if not tips:
        raise NoCommitsError("no branch or tag points at a commit yet", hint="make a first commit")
    return list(dict.fromkeys(tips))


def shallow_boundary(repo: Repo) -> frozenset[str]:
    """Commits whose parents were cut away by a shallow clone (``$GIT_DIR/shallow``)."""
    try:
        text = (repo.shared_dir / "shallow").read_text(encoding="ascii")
    except (FileNotFoundError, UnicodeDecodeError):
        return frozenset()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def read_top_file(repo: Repo, name: str) -> tuple[str, bytes | None]:
    """A file at the top of the repository, as gittree's views read it: (where it was read, its bytes).

    The working tree's copy when the repository has one (found from inside ``.git`` too). A bare
    repository has none, so the copy committed in HEAD's tree is read: the file every clone checks
    out (symbolic links inside the tree followed, as a checkout would). The bytes are None when
    there is no such file: none in the working tree, an unborn HEAD, a HEAD without it, or a link
    out of the tree. A file that cannot be read is a :class:`ConfigError`.
    """
    if repo.worktree is not None:
        path = repo.worktree / name
        try:
            return str(path), path.read_bytes()
        except FileNotFoundError:
            return str(path), None
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e}", hint="fix or remove the file") from e
    where = f"HEAD:{name}"
    code, out, err = git_output(
        ["cat-file", "--batch", "--follow-symlinks"], cwd=repo.git_dir, input=f"{where}\n".encode()
    )
    header, _, rest = out.partition(b"\n")
    fields = header.split(b" ")
    if code == 0 and len(fields) == 3 and fields[1] == b"blob" and fields[2].isdigit():
        return where, rest[: int(fields[2])]
    if code == 0 and len(fields) == 3 and fields[1] in (b"tree", b"commit"):
        raise ConfigError(
            f"{where} is a {fields[1].decode()}, not a file", hint="commit a file there, or none"
        )
    if code == 0:  # "missing", or a link that is "dangling", a "loop", "notdir", "symlink" out of the tree
        return where, None
    said = _git_says(err.decode("utf-8", "replace"))
    raise ConfigError(f"cannot read {where} in {repo.git_dir}: {said}", hint="run `git fsck`")


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
    """Annotated commit sha -> note text, for every note under ``ref`` (empty when the ref is absent).

    Read from the notes commit's tree, as git reads notes: libgit2's notes
    iterator parses the notes commit first, and refuses one git reads (an author without an email).
    """
    import pygit2

    try:
        return {
            sha: decode_message(blob.read_raw(), None)
            for sha, _, blob in _notes_in(repo, ref_target(repo, ref))
        }
    except (pygit2.GitError, KeyError, ValueError) as e:
        raise GitCommandError(f"cannot read the notes under {ref}: {e}", hint="run `git fsck`") from e


#: What gittree keeps of one commit object: parents, author name, author email, author time, author
#: offset (minutes east of UTC), committer time, decoded message. A plain tuple: cheap to build, to keep
#: for 100k commits and to store in the cache.
CommitFacts = tuple[tuple[str, ...], str, str, int, int, int, str]

_COMMIT_TYPE = 1  # libgit2's GIT_OBJECT_COMMIT


def stream_commits(repo: Repo, tips: Sequence[str]) -> Iterator[tuple[str, CommitFacts]]:
    """Every commit reachable from ``tips``, with its facts: a whole history read at once.

    ``git rev-list --stdin`` walks and ``git cat-file --batch`` hands over each commit object's exact
    bytes, in two processes working while this one parses; on a 100k-commit history that is about
    twice as fast as reading objects one by one through libgit2. Non-commit tips are skipped, as
    the walk skips them. Raises :class:`GitCommandError` (after the commits it could read) when git
    cannot walk: a tip or a parent that is missing from this clone, for one; the caller then walks
    the history itself, which skips what is missing.
    """
    import tempfile

    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a flood of errors cannot block git
        walker = _start_walk(repo, errors)
        reader = _git_pipe(repo, ["cat-file", "--batch"], walker.stdout, errors)
        assert walker.stdout is not None and reader.stdout is not None
        walker.stdout.close()  # the reader owns it now
        try:
            _feed_tips(walker, tips)
            yield from _batch_objects(reader.stdout)
        finally:
            reader.stdout.close()
            walked, read = walker.wait(), reader.wait()
        if walked != 0 or read != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip()
            raise GitCommandError(f"git could not walk the history: {message or 'no reason given'}")


def _history_env() -> dict[str, str]:
    """git's environment for reading history as recorded: replace refs (``git replace``) and the old
    grafts file (``.git/info/grafts``, which git still honours) ignored, as the commit cache does."""
    return {**os.environ, "GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull}


def _git_pipe(repo: Repo, args: list[str], stdin: Any, errors: Any) -> subprocess.Popen[bytes]:
    """``git ARGS`` reading history as recorded, its output a pipe, its errors to the file ``errors``."""
    import subprocess

    return subprocess.Popen(
        ["git", *args],
        cwd=repo.git_dir,
        env=_history_env(),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=errors,
    )


def _start_walk(repo: Repo, errors: Any) -> subprocess.Popen[bytes]:
    """``git rev-list --stdin``, waiting for its tips (:func:`_feed_tips`); its errors go to ``errors``."""
    import subprocess

    return _git_pipe(repo, ["rev-list", "--stdin"], subprocess.PIPE, errors)


def _feed_tips(walker: subprocess.Popen[bytes], tips: Iterable[str]) -> None:
    """Hand the walk its tips; git reads them all before it walks."""
    assert walker.stdin is not None
    try:
        walker.stdin.write("".join(tip + "\n" for tip in tips).encode("ascii", "replace"))
        walker.stdin.close()
    except BrokenPipeError:  # git stopped at once (a bad tip): its status and message say why
        pass


def _batch_objects(stream: Any) -> Iterator[tuple[str, CommitFacts]]:
    """The commits in ``git cat-file --batch`` output (``SHA TYPE SIZE``, the bytes, a newline).

    The hot loop of a cold read (100k commits): the usual header is matched in place, in the buffer,
    without first copying the object out; names, emails and shas are each made once as text (a
    parent's id is the same string as that commit's own id when it comes later).
    """
    data = b""
    position = 0
    names: dict[bytes, str] = {}
    emails: dict[bytes, str] = {}
    shas: dict[str, str] = {}
    match = _USUAL_HEADER.match
    while chunk := stream.read1(1 << 20):
        data = data[position:] + chunk
        position = 0
        while (eol := data.find(b"\n", position)) >= 0:
            fields = data[position:eol].split(b" ")
            if len(fields) != 3:  # "SHA missing": nothing to read
                position = eol + 1
                continue
            end = eol + 1 + int(fields[2])
            if end >= len(data):  # the object is not all here yet
                break
            if fields[1] == b"commit":
                sha = fields[0].decode("ascii")
                sha = shas.pop(sha, sha)
                usual = match(data, eol + 1, end)
                if usual is not None and usual.end() < end and data[usual.end()] == 10:  # b"\n"
                    facts = _usual_facts(usual, data, end, names, emails, shas)
                else:
                    facts = parse_any_commit_object(data[eol + 1 : end])
                yield sha, facts
            position = end + 1


def _usual_facts(
    usual: Any,
    data: bytes,
    end: int,
    names: dict[bytes, str],
    emails: dict[bytes, str],
    shas: dict[str, str],
) -> CommitFacts:
    """:func:`parse_commit_object` of a header matched by ``_USUAL_HEADER`` inside ``data`` (up to ``end``)."""
    parents, name, email, when, sign, hours, minutes, committed = usual.groups()
    offset = int(hours) * 60 + int(minutes)
    if parents:
        ids = parents[7:-1].decode("ascii").split("\nparent ")
        parent_ids = tuple([shas.setdefault(p, p) for p in ids])
    else:
        parent_ids = ()
    author = names.get(name)
    if author is None:
        author = names[name] = _decode_name(name.strip())
    address = emails.get(email)
    if address is None:
        address = emails[email] = _decode_name(email)
    return (
        parent_ids,
        author,
        address,
        int(when),
        -offset if sign == b"-" else offset,
        int(committed),
        data[usual.end() + 1 : end].decode("utf-8", "replace"),
    )


class CommitReader:
    """Reads commit objects by id, in-process, straight from libgit2's object database.

    There is no revision walk here: the caller walks (``research``), looking most commits up in the
    cache and reading only the others. libgit2's own walker spends most of its time on bookkeeping
    for ~23k tips; a raw object read is a few microseconds.
    """

    def __init__(self, repo: Repo) -> None:
        import pygit2

        self._odb = repo.handle.odb
        self._git_error = pygit2.GitError

    def read(self, sha: str) -> CommitFacts | None:
        """The commit's facts; None when the object is missing (shallow clone) or is not a commit."""
        try:
            kind, data = self._odb.read(sha)[:2]
        except (KeyError, ValueError):
            return None
        except self._git_error as e:
            raise GitCommandError(
                f"cannot read the object {sha}: {e}", hint="the repository may be damaged; run `git fsck`"
            ) from e
        return parse_commit_object(data) if kind == _COMMIT_TYPE else None


# The usual shape of a commit header, read in one match: tree, parents, author, committer, each
# well formed (an email holding ">" is not usual: no backtracking over the line). Anything else
# (other header order, odd idents, an encoding header) takes the general path below, which reads
# every shape the same way libgit2 does; on this shape both agree.
_USUAL_HEADER = re.compile(
    rb"tree [0-9a-f]+\n((?:parent [0-9a-f]+\n)*)"
    rb"author ([^<\n]*)<([^>\n]*)> ([0-9]+) ([-+])([0-9]{2})([0-9]{2})\n"
    rb"committer [^<\n]*<[^>\n]*> ([0-9]+) [-+][0-9]{4}\n"
)


def parse_commit_object(data: bytes) -> CommitFacts:
    """A raw commit object (git's format: header lines, a blank line, the message) -> its facts."""
    usual = _USUAL_HEADER.match(data)
    if usual is not None and data.startswith(b"\n", usual.end()):  # the header ends right there
        return _usual_facts(usual, data, len(data), {}, {}, {})
    return parse_any_commit_object(data)


def parse_any_commit_object(data: bytes) -> CommitFacts:
    """:func:`parse_commit_object` for every shape of header (leniently, like libgit2)."""
    end = data.find(b"\n\n")
    header, raw_message = (data, b"") if end < 0 else (data[:end], data[end + 2 :])
    lines = header.split(b"\n")
    # As git's parse_commit_buffer: the parents are the "parent" lines right after "tree".
    index = 1
    while index < len(lines) and lines[index].startswith(b"parent "):
        index += 1
    parents = tuple(line[7:].decode("ascii", "replace") for line in lines[1:index])
    author = committer = encoding = None
    for line in lines[index:]:  # continuation lines (gpgsig, mergetag) start with a space
        if line.startswith(b"author ") and author is None:
            author = line[7:]
        elif line.startswith(b"committer ") and committer is None:
            committer = line[10:]
        elif line.startswith(b"encoding ") and encoding is None:
            encoding = line[9:].decode("ascii", "replace")
    name, email, when, offset = _ident(author)
    committed = _ident(committer)[2] if committer is not None else when
    return parents, name, email, when, offset, committed, decode_message(raw_message, encoding)


def _ident(raw: bytes | None) -> tuple[str, str, int, int]:
    """``Name <email> 1767225600 +0100`` -> (name, email, time, minutes east of UTC); lenient, like libgit2."""
    if raw is None:
        return "", "", 0, 0
    lt, gt = raw.find(b"<"), raw.rfind(b">")
    if lt < 0 or gt < lt:
        return _decode_name(raw.strip()), "", 0, 0
    rest = raw[gt + 1 :].split()
    when = int(rest[0]) if rest and rest[0].isdigit() else 0
    offset = 0
    if len(rest) > 1 and len(rest[1]) == 5 and rest[1][1:].isdigit():
        tz = rest[1]
        offset = (int(tz[1:3]) * 60 + int(tz[3:5])) * (-1 if tz[:1] == b"-" else 1)
    return _decode_name(raw[:lt].strip()), _decode_name(raw[lt + 1 : gt]), when, offset


def commit_record(
    sha: str, facts: CommitFacts, *, shallow: bool = False, note: str | None = None
) -> CommitRecord:
    from gittree.model import CommitRecord

    parents, name, email, when, offset, _, message = facts
    return CommitRecord(
        sha=sha,
        parents=parents,
        message=message,
        author_name=name,
        author_email=email,
        author_time=when,
        author_offset=offset,
        shallow=shallow,
        note=note,
    )


def read_commits(repo: Repo, tips: Iterable[str], *, with_notes: bool = True) -> Iterator[CommitRecord]:
    """Every commit reachable from ``tips``, each once, with its message and (optionally) its gittree note."""
    shallow = shallow_boundary(repo)
    notes = read_notes(repo) if with_notes else {}
    reader = CommitReader(repo)
    stack = list(tips)
    seen: set[str] = set()
    while stack:
        sha = stack.pop()
        if sha in seen:
            continue
        seen.add(sha)
        facts = reader.read(sha)
        if facts is None:
            continue
        stack.extend(facts[0])
        yield commit_record(sha, facts, shallow=sha in shallow, note=notes.get(sha))


def _decode_name(raw: bytes) -> str:
    # Interned: a history has few authors and many commits; 100k commits would otherwise hold 200k
    # copies of a handful of names and emails.
    return sys.intern(raw.decode("utf-8", errors="replace"))


def read_commit(repo: Repo, rev: str) -> CommitRecord:
    """One commit (with its note) by revision."""
    sha = resolve_commit(repo, rev)
    return _read_record(
        CommitReader(repo), sha, shallow=sha in shallow_boundary(repo), note=_note_of(repo, sha)
    )


def _note_of(repo: Repo, sha: str, ref: str = NOTES_REF) -> str | None:
    """The note on ``sha`` alone, looked up by path (:func:`read_notes` would read every note)."""
    found = _note_at(_commit_tree(repo, ref_target(repo, ref)), sha)
    return None if found is None else decode_message(read_blob(repo, found.blob), None)


def _read_record(
    reader: CommitReader, sha: str, *, shallow: bool = False, note: str | None = None
) -> CommitRecord:
    """The commit ``sha`` read as every view reads it: its raw object, through the lenient parser.

    libgit2's own commit objects are never used for this: libgit2 refuses commits git reads (an
    author without an email, no author line at all; ``git fsck`` only warns about them, and tools
    that import history write them), so ``path`` and ``diff`` would fail where ``show`` works, or
    tell another author and date.
    """
    facts = reader.read(sha)
    if facts is None:
        raise GitCommandError(
            f"cannot read the commit {sha}: it is missing or not a commit",
            hint="the repository may be damaged; run `git fsck`",
        )
    return commit_record(sha, facts, shallow=shallow, note=note)


# -- writing (through the git command line, so the user's hooks and config apply) ----------------


def _git(repo: Repo) -> Any:
    import git

    return git.Git(str(repo.worktree or repo.git_dir))


def run_git(repo: Repo, *args: str, input_text: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run ``git ARGS`` in the repository and return stdout; a refusal becomes :class:`GitCommandError`."""
    import tempfile

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
    import tempfile

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
    """Whether the index differs from HEAD (what a plain ``git commit`` would record).

    ``git diff-index --cached``: libgit2's status would parse HEAD's commit, and refuses some that
    git reads (an author without an email). An unborn HEAD is compared with the empty tree.
    """
    base = ref_sha(repo, "HEAD") or EMPTY_TREE
    code, _, err = run_git_status(repo, "diff-index", "--cached", "--quiet", base, "--")
    if code not in (0, 1):
        raise GitCommandError(
            f"git diff-index failed: {err.strip()}", hint="run `git status` to see what is wrong"
        )
    return code == 1


def append_note(repo: Repo, sha: str, lines: Sequence[str], ref: str = NOTES_REF) -> None:
    """Append trailer lines to the gittree note of ``sha``: a new paragraph, as ``git notes append`` adds."""
    append_notes(repo, [(sha, lines)], ref)


def append_notes(repo: Repo, paragraphs: Sequence[tuple[str, Sequence[str]]], ref: str = NOTES_REF) -> None:
    """Append each (commit sha, trailer lines) as a new paragraph of that commit's note, in order, in one
    notes commit: all of them land, or none.

    ``git notes append`` moves the notes ref without checking where it was, so of two processes
    appending at once (the seeds of a sweep recording on one commit) only the last one's note is kept,
    and neither is told. Here the notes commit is built from the ref's current tip and the ref is moved
    by compare-and-swap; a writer that lost the race builds again on the winner's commit.
    """
    import random
    import time

    added: dict[str, list[bytes]] = {}
    for sha, lines in paragraphs:
        added.setdefault(sha, []).append(("\n".join(lines) + "\n").encode("utf-8"))
    if not added:
        return
    for attempt in range(_NOTE_ATTEMPTS):
        tip = ref_target(repo, ref)
        notes_tree = _commit_tree(repo, tip)
        paths: list[str] = []
        texts: list[bytes] = []
        for sha, new in added.items():
            found = _note_at(notes_tree, sha)
            before = read_blob(repo, found.blob).rstrip(b"\n") if found is not None else b""
            paths.append(found.path if found is not None else sha)
            texts.append(b"\n\n".join([before, *new] if before else new))
        commit = write_notes_commit(
            repo,
            start=tip,
            parents=[tip] if tip is not None else [],
            updates=dict(zip(paths, write_blobs(repo, texts), strict=True)),
            message="Notes added by gittree",
        )
        if update_ref(repo, ref, commit, tip, reason="gittree: notes"):
            return
        time.sleep(random.uniform(0.0, 0.01 * (attempt + 1)))  # spread the writers that lost
    raise GitCommandError(
        f"cannot add the notes: {ref} kept changing under {_NOTE_ATTEMPTS} attempts",
        hint="run the command again; nothing was written",
    )


#: Compare-and-swap attempts before giving up; each lost race means another note did land.
_NOTE_ATTEMPTS = 50


def _commit_tree(repo: Repo, commit: str | None) -> Any:
    """The tree of ``commit`` (a pygit2 object; a tag is followed to its commit), or None for no commit.

    Found in the raw object's ``tree`` line, as git finds it: libgit2 would parse the whole commit
    first, and refuses some that git reads (an author without an email).
    """
    if commit is None:
        return None
    odb = repo.handle.odb
    sha = commit
    for _ in range(_TAG_DEPTH):
        try:
            kind, data = odb.read(sha)[:2]
        except (KeyError, ValueError) as e:
            raise GitCommandError(f"cannot read the object {sha}: {e}", hint="run `git fsck`") from e
        first = data.split(b"\n", 1)[0].decode("ascii", "replace")
        if kind == _COMMIT_TYPE and first.startswith("tree "):
            return repo.handle[first[5:]]
        if kind != _TAG_TYPE or not first.startswith("object "):
            break
        sha = first[7:]
    raise GitCommandError(f"{commit} does not name a commit", hint="run `git fsck`")


_TAG_TYPE = 4  # libgit2's GIT_OBJECT_TAG
#: How many tags of tags are followed to a commit (git itself stops at a loop of them).
_TAG_DEPTH = 16


def _note_at(tree: Any, sha: str) -> NoteEntry | None:
    """The note on ``sha`` in the tree of a notes commit (None: no notes yet), looked up by path: flat,
    or under git's fan-out folders (two hex digits per level), without listing the other notes."""
    from gittree.model import NoteEntry

    if tree is None:
        return None
    for depth in range(len(sha) // 2):
        path = "/".join([sha[2 * i : 2 * i + 2] for i in range(depth)] + [sha[2 * depth :]])
        try:
            entry = tree[path]
        except KeyError:
            continue
        if entry.type_str == "blob":
            return NoteEntry(path=path, blob=str(entry.id))
    return None


# -- questions: code diffs, folded commits (gittree/questions.py) --------------------------------


def diff_text(repo: Repo, a: str, b: str, *, patch: bool = False) -> str:
    """``git diff --stat A B`` (with ``patch``: the stat followed by the whole patch), never coloured."""
    args = ["diff", "--no-color", "--no-ext-diff", "--stat"]
    if patch:
        args.append("--patch")
    return run_git(repo, *args, resolve_commit(repo, a), resolve_commit(repo, b), "--")


def commits_between(
    repo: Repo, tip: str, stop_at: Sequence[str], *, limit: int, skip: Iterable[str] = ()
) -> tuple[list[CommitRecord], int]:
    """Commits below ``tip`` down to (not including) ``stop_at``: the first ``limit``, newest first, and the count.

    These are the ordinary commits folded into the experiment ``tip`` (docs/tree.md); ``stop_at`` is
    its experiment parents, empty for a root (then everything below it is counted). git walks
    (``rev-list --date-order``: no parent before its children, else newest first), since it reads
    every commit git reads; the commits listed are read like every other (:func:`_read_record`).
    Parents and ``stop_at`` commits missing from this clone are left out, as a shallow clone cuts them.
    ``skip``: commits not to list or count (dead-end experiments drawn beside the line, docs/tree.md).
    """
    reader = CommitReader(repo)
    facts = reader.read(tip)
    if facts is None or not facts[0]:
        return [], 0
    starts = [*facts[0], *(f"^{sha}" for sha in stop_at)]
    code, out, err = git_output(
        ["rev-list", "--date-order", "--ignore-missing", "--stdin"],
        cwd=repo.git_dir,
        input="".join(line + "\n" for line in starts).encode("ascii", "replace"),
    )
    if code != 0:
        raise GitCommandError(
            f"cannot read the history below {tip[:7]}: {_git_says(err.decode('utf-8', 'replace'))}",
            hint="run `git fsck`",
        )
    skipped = set(skip)
    below = [sha for sha in out.decode("ascii", "replace").split() if sha not in skipped]
    return [_read_record(reader, sha) for sha in below[:limit]], len(below)


# -- import: finding commits by short hash, keeping them reachable, rolling back (importers.py) ----


def match_commit_prefix(repo: Repo, prefix: str) -> PrefixMatch:
    """Every object whose name starts with ``prefix`` (4 to 40 hex digits), split into commits and others.

    Like ``git rev-parse PREFIX^{commit}``, a prefix that matches one commit and some blobs or trees
    names that commit. Objects reachable only from the reflog, or from nothing, are found too.
    git lists and classifies them (``rev-parse --disambiguate``, ``cat-file --batch-check``): libgit2
    would parse each commit to name it, and refuses some that git reads (an author without an email).
    """
    from gittree.model import PrefixMatch

    code, out, err = git_output(["rev-parse", f"--disambiguate={prefix}"], cwd=repo.git_dir)
    if code != 0:
        raise GitCommandError(
            f"cannot look up '{prefix}': {_git_says(err.decode('utf-8', 'replace'))}",
            hint="give 4 to 40 hexadecimal digits of a commit's name",
        )
    names = out.decode("ascii", "replace").split()
    if not names:
        return PrefixMatch(())
    code, out, err = git_output(
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
        cwd=repo.git_dir,
        input="".join(name + "\n" for name in names).encode("ascii"),
    )
    if code != 0:  # pragma: no cover - the objects were just listed
        raise GitCommandError(f"cannot read the objects named {prefix}…", hint="run `git fsck`")
    kinds = [line.partition(" ")[::2] for line in out.decode("ascii", "replace").splitlines()]
    commits = tuple(sorted(name for name, kind in kinds if kind == "commit"))
    others = tuple(kind for _, kind in kinds if kind != "commit")
    return PrefixMatch(commits, others)


def commit_subject(repo: Repo, sha: str) -> str:
    """The subject line of the commit ``sha`` (no notes read: one object, however many notes exist)."""
    return _read_record(CommitReader(repo), sha).subject


def reachable_from_refs(repo: Repo, shas: Iterable[str]) -> set[str]:
    """Those of ``shas`` that some branch, tag, remote-tracking branch or gittree ref reaches.

    git walks (``rev-list``), from what the refs under :data:`ALL_REF_PREFIXES` point at (what
    garbage collection keeps; tags peeled, non-commits skipped), and stops once every one is found.
    libgit2's walker gives up at the first commit it cannot parse (an author without an email),
    which git reads. Raises :class:`GitCommandError` when git cannot walk (a damaged
    repository) before every one is found.
    """
    import tempfile

    wanted = set(shas)
    tips = list(dict.fromkeys(read_refs(repo).tips()))
    if not wanted or not tips:
        return set()
    found: set[str] = set()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a flood of errors cannot block git
        walker = _start_walk(repo, errors)
        assert walker.stdout is not None
        try:
            _feed_tips(walker, tips)
            for line in walker.stdout:
                sha = line.rstrip().decode("ascii", "replace")
                if sha in wanted:
                    found.add(sha)
                    if found == wanted:
                        walker.kill()  # the rest of the history is not needed
                        break
        finally:
            walker.stdout.close()
            status = walker.wait()
        errors.seek(0)
        said = errors.read().decode("utf-8", "replace")
    if status != 0 and found != wanted:
        raise GitCommandError(
            f"git could not walk the history: {_git_says(said)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    return found


def update_refs(repo: Repo, commands: Sequence[str]) -> None:
    """Apply ``git update-ref --stdin`` commands as one transaction: all of them happen, or none."""
    if commands:
        run_git(repo, "update-ref", "--stdin", input_text="".join(line + "\n" for line in commands))


# -- remotes, refs and notes history (gittree sync; docs/teams.md) --------------------------------

#: git's "no object" id: as an expected old value it means "the ref must not exist".
ZERO_SHA = "0" * 40


def list_remotes(repo: Repo) -> list[str]:
    """The names of the configured remotes (``git remote``)."""
    return [str(name) for name in repo.handle.remotes.names()]


def current_branch(repo: Repo) -> str | None:
    """The short name of the branch HEAD is on; None when HEAD is detached or unborn."""
    if repo.handle.head_is_detached or repo.handle.head_is_unborn:
        return None
    return str(repo.handle.head.shorthand)


def config_values(repo: Repo, key: str) -> list[str]:
    """Every value of a (possibly multi-valued) git setting, as git resolves it; empty when unset."""
    import pygit2

    try:
        return [str(value) for value in repo.handle.config.get_multivar(key)]
    except (KeyError, pygit2.GitError):
        return []


def comment_char(repo: Repo) -> str:
    """The character git starts comment lines with here (``core.commentChar``), which decides where git
    reads a message's trailers; ``#`` when unset or ``auto`` (git then still reads with ``#``)."""
    value = config_value(repo, "core.commentChar") or ""
    return "#" if value in ("", "auto") else value[0]


def add_config_value(repo: Repo, key: str, value: str) -> bool:
    """Add ``value`` to a multi-valued setting of the repository unless it is there; True when added."""
    if value in config_values(repo, key):
        return False
    _plumbing(repo, "config", "--local", "--add", key, value)
    return True


def ref_target(repo: Repo, ref: str) -> str | None:
    """The object a ref points at (symbolic refs followed), or None when there is no such ref."""
    reference = repo.handle.references.get(ref)
    if reference is None:
        return None
    try:
        return str(reference.resolve().target)
    except (KeyError, ValueError):  # a dangling symbolic ref
        return None


def refs_under(repo: Repo, prefix: str) -> dict[str, str]:
    """Full ref name -> object id, for every ref whose name starts with ``prefix``."""
    found: dict[str, str] = {}
    for name in repo.handle.references:
        if name.startswith(prefix):
            target = ref_target(repo, name)
            if target is not None:
                found[name] = target
    return found


def is_ancestor(repo: Repo, ancestor: str, descendant: str) -> bool:
    """Whether ``descendant`` contains ``ancestor`` (a commit is its own ancestor); False for non-commits.

    ``git merge-base --is-ancestor``: libgit2's graph walk refuses commits git reads (an author
    without an email), and would answer False for them. A history cut by a shallow clone gives no
    proof of ancestry, so False; so do a missing object and one that is not a commit (git exits 128).
    """
    code, _, _ = git_output(
        ["merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant], cwd=repo.git_dir
    )
    return code == 0


def merge_bases(repo: Repo, a: str, b: str) -> list[str]:
    """Every best common ancestor of two commits (``git merge-base --all``); empty when unrelated."""
    status, out, _ = _run_git_status(repo, "merge-base", "--all", a, b)
    return out.split() if status == 0 else []


def notes_of_commit(repo: Repo, commit: str | None) -> dict[str, NoteEntry]:
    """Annotated object id -> note entry, for every note in the tree of a notes commit (fan-out included)."""
    from gittree.model import NoteEntry

    return {key: NoteEntry(path=path, blob=str(blob.id)) for key, path, blob in _notes_in(repo, commit)}


def _notes_in(repo: Repo, commit: str | None) -> Iterator[tuple[str, str, Any]]:
    """(annotated object id, path, blob) of every note in the tree of a notes commit (None: no notes)."""
    if commit is None:
        return
    stack: list[tuple[str, Any]] = [("", _commit_tree(repo, commit))]
    while stack:
        prefix, tree = stack.pop()
        for entry in tree:
            path = prefix + str(entry.name)
            kind = entry.type_str
            if kind == "tree":
                stack.append((path + "/", entry))
            elif kind == "blob":
                key = path.replace("/", "")
                # git names a note by its object id, split into fan-out folders; anything else is not a note.
                if _NOTE_NAME(key):
                    yield key, path, entry


_NOTE_NAME = re.compile("[0-9a-f]{40}|[0-9a-f]{64}").fullmatch


def read_blob(repo: Repo, sha: str) -> bytes:
    """The raw bytes of a blob."""
    return bytes(repo.handle[sha].read_raw())


def write_blobs(repo: Repo, contents: Sequence[bytes]) -> list[str]:
    """Store blobs in the object database (one ``git hash-object -w``); returns their ids, in order."""
    import tempfile

    if not contents:
        return []
    with tempfile.TemporaryDirectory(prefix="gittree-blobs-") as folder:
        paths = []
        for i, data in enumerate(contents):
            path = Path(folder) / f"{i}.txt"
            path.write_bytes(data)
            paths.append(str(path))
        out = _plumbing(
            repo, "hash-object", "-w", "--no-filters", "--stdin-paths", input_text="\n".join(paths) + "\n"
        )
    return out.split()


def write_notes_commit(
    repo: Repo, *, start: str | None, parents: Sequence[str], updates: dict[str, str | None], message: str
) -> str:
    """A notes commit: the tree of ``start`` (None: an empty tree) with ``updates`` (path -> blob id, or
    None to remove) applied.

    Built with git's plumbing in a temporary index (``read-tree``, ``update-index``, ``write-tree``,
    ``commit-tree``), so nothing in the user's index, working tree or merge state is touched and two
    processes can do it at once. Like ``git notes``, the commit is never signed.
    """
    import tempfile

    fd, index = tempfile.mkstemp(prefix="gittree-notes-index-")
    os.close(fd)
    os.unlink(index)  # git wants to create the index itself
    env = {"GIT_INDEX_FILE": index}
    try:
        _plumbing(repo, "read-tree", *([f"{start}^{{tree}}"] if start is not None else ["--empty"]), env=env)
        lines = [
            f"100644 {blob}\t{path}" if blob is not None else f"0 {ZERO_SHA}\t{path}"
            for path, blob in sorted(updates.items())
        ]
        if lines:
            _plumbing(repo, "update-index", "--index-info", input_text="\n".join(lines) + "\n", env=env)
        tree = _plumbing(repo, "write-tree", env=env).strip()
        args = ["commit-tree", "--no-gpg-sign", "-m", message]
        for parent in parents:
            args += ["-p", parent]
        return _plumbing(repo, *args, tree).strip()
    finally:
        if os.path.exists(index):
            os.unlink(index)


def update_ref(repo: Repo, ref: str, new: str, old: str | None, *, reason: str = "gittree sync") -> bool:
    """Move ``ref`` to ``new`` only if it still points at ``old`` (None: only if it does not exist).

    Returns False when another process changed the ref first; git's own lock makes this a
    compare-and-swap, so concurrent writers never overwrite each other. Writers that hold the lock
    keep it for milliseconds, so git is asked to wait for it up to a second (its default is 0.1 s, short
    for a sweep's sixteen writers); a lock held longer is reported with git's words.
    """
    try:
        _plumbing(
            repo,
            "-c",
            f"core.filesRefLockTimeout={_REF_LOCK_WAIT_MS}",
            "update-ref",
            "-m",
            reason,
            ref,
            new,
            old or ZERO_SHA,
        )
    except GitCommandError:
        if ref_target(repo, ref) != old:
            return False
        raise
    return True


_REF_LOCK_WAIT_MS = 1000


def delete_ref(repo: Repo, ref: str) -> None:
    """Remove a ref (used for gittree's private copies of remote refs); absent refs are fine."""
    if ref_target(repo, ref) is not None:
        _plumbing(repo, "update-ref", "-d", ref)


def _run_git_status(
    repo: Repo, *args: str, input_text: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run git and return (exit status, stdout, stderr) without raising on a non-zero status.

    The sync path runs git directly rather than through GitPython: it reads git's own output, and a
    sync (often one per job of a sweep) should not pay GitPython's import, a fifth of a second.
    Messages are in English (``LC_ALL=C``) because gittree recognises some of them.
    """
    import subprocess

    full_env = {**os.environ, "LC_ALL": "C", "LANGUAGE": "C", **(env or {})}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=str(repo.worktree or repo.git_dir),
            input=input_text.encode("utf-8") if input_text is not None else None,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            capture_output=True,
            env=full_env,
            check=False,
        )
    except FileNotFoundError as e:
        raise GitCommandError("the git program was not found on PATH", hint="install git") from e
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def _plumbing(
    repo: Repo, *args: str, input_text: str | None = None, env: dict[str, str] | None = None
) -> str:
    """Run a git plumbing command for sync; a failure becomes :class:`GitCommandError` with git's words."""
    status, out, err = _run_git_status(repo, *args, input_text=input_text, env=env)
    if status != 0:
        raise GitCommandError(
            f"git {_subcommand(args)} failed: {_git_says(err or out)}",
            hint="fix what git reports above and run the command again",
        )
    return out


def _subcommand(args: Sequence[str]) -> str:
    """The git command in an argument list that may start with ``-c NAME=VALUE`` options."""
    rest = list(args)
    while len(rest) > 1 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "git"


#: Only the refspecs asked for: no tags (sync does not share them; git would otherwise follow the tags
#: of every fetched commit), no submodules (their remotes are not this one), no FETCH_HEAD (parallel
#: syncs in one clone would fight over it).
_FETCH_OPTIONS = ("--prune", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--quiet")

#: A ref locked by another process at that moment: worth fetching again. Checked after _NAME_CLASH,
#: because git also says "cannot lock ref" when a name clash makes the ref impossible.
_LOCKED = ("cannot lock ref", ".lock': File exists", "Unable to create", "unable to lock")

#: git's words for a ref that cannot exist because another ref's name is a folder of its name, or the
#: other way round (refs/heads/exp and refs/heads/exp/a can never both exist, in any ref backend):
#: refs.c and refs/files-backend.c of git 2.39; GitHub's receive says "directory file conflict".
#: Unlike a lock, waiting never clears it, so it is reported at once and never retried.
_NAME_CLASH = re.compile(
    r"'[^']+' exists; cannot create '[^']+'"
    r"|cannot process '[^']+' and '[^']+' at the same time"
    r"|there is a non-empty directory '[^']+' blocking reference '[^']+'"
    r"|unable to create lock file .+; non-directory in the way"
    r"|directory file conflict"
)
_CLASHING = re.compile(r"'([^']+)' exists; cannot create '([^']+)'")


def fetch(repo: Repo, remote: str, refspecs: Sequence[str]) -> FetchResult:
    """``git fetch --prune REMOTE REFSPECS``; an exact ref the remote lacks is dropped, not an error.

    git refuses the whole fetch when a refspec without ``*`` names a ref the remote does not have
    ("couldn't find remote ref"); such refs are dropped one by one and reported in ``missing``.
    A ref locked by another process is reported in ``busy`` (fetch again). Raises :class:`RemoteError`
    when the remote cannot be reached or read, or when a fetched ref clashes by name with a local one
    (``refs/remotes/origin/exp`` left from a branch the remote renamed to ``exp/a``).
    """
    from gittree.model import FetchResult

    specs = list(refspecs)
    missing: list[str] = []
    while specs:
        status, _, err = _run_git_status(repo, "fetch", *_FETCH_OPTIONS, remote, *specs)
        if status == 0:
            return FetchResult(missing=tuple(missing))
        absent = _missing_remote_ref(err)
        if absent is not None and any(_refspec_source(spec) == absent for spec in specs):
            missing.append(absent)
            specs = [spec for spec in specs if _refspec_source(spec) != absent]
            continue
        clash = name_clash(err)
        if clash is not None:
            raise RemoteError(f"cannot fetch from '{remote}': {clash}", hint=_fetch_clash_hint(remote, clash))
        if any(marker in err for marker in _LOCKED):
            return FetchResult(missing=tuple(missing), busy=err.strip())
        raise RemoteError(
            f"cannot fetch from '{remote}': {_git_says(err)}",
            hint="check the remote's address (git remote -v), the network and your access; "
            "nothing local was changed",
            unreachable=True,
        )
    return FetchResult(missing=tuple(missing))


def name_clash(text: str, ref: str | None = None) -> str | None:
    """git's line saying a ref cannot be written because of another ref's name, or None.

    With ``ref``, only a line that names that ref (quoted, as git does) counts.
    """
    for line in text.splitlines():
        if _NAME_CLASH.search(line) and (ref is None or f"'{ref}'" in line):
            return line.strip().removeprefix("error: ").removeprefix("fatal: ")
    return None


def _clashing_names(text: str) -> tuple[str, str] | None:
    """(the ref that exists, the ref that could not be created) from git's "'X' exists; cannot create 'Y'"."""
    found = _CLASHING.search(text)
    return (found.group(1), found.group(2)) if found else None


def _fetch_clash_hint(remote: str, clash: str) -> str:
    names = _clashing_names(clash)
    tracking = f"refs/remotes/{remote}/"
    if names is not None and names[0].startswith(tracking):
        # The fetched ref exists on the remote, so the one in its way cannot: no remote holds a branch
        # that is also a folder of branches. sync prunes only its own patterns (exp/*, which does not
        # cover exp itself), so this copy outlived its branch.
        stale = names[0][len("refs/remotes/") :]
        return (
            f"{stale} is a leftover copy of a branch '{remote}' no longer has: delete it with "
            f"git branch -d -r {stale} (git fetch --prune {remote} deletes every such leftover), "
            "then run gittree sync again"
        )
    return (
        "a ref cannot also be a folder of other refs (like exp and exp/a): rename or delete one of the "
        "two, then run gittree sync again"
    )


def _missing_remote_ref(err: str) -> str | None:
    marker = "couldn't find remote ref "
    for line in err.splitlines():
        if marker in line:
            return line.split(marker, 1)[1].strip()
    return None


def _refspec_source(spec: str) -> str:
    return spec.lstrip("+").split(":", 1)[0]


def _git_says(err: str) -> str:
    """git's error output as one readable line: the fatal/error lines, else everything."""
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    important = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return " ".join(important or lines) or "git gave no reason"


def push(repo: Repo, remote: str, updates: Sequence[RefUpdate]) -> PushResult:
    """``git push --porcelain`` of exact objects with a lease on each ref (a compare-and-swap on the remote).

    Each update is ``SHA:REF`` with ``--force-with-lease=REF:EXPECTED``: the remote takes it only if
    the ref is still where gittree last saw it, so a concurrent push is never overwritten. The user's
    pre-push hook runs. Rejected refs are reported, not raised; :class:`RemoteError` when the remote
    cannot be reached or the push failed as a whole.
    """
    from gittree.model import PushResult

    args = ["push", "--porcelain", "--no-follow-tags", "--recurse-submodules=no"]
    for update in updates:
        args.append(f"--force-with-lease={update.ref}:{update.expected or ''}")
    args.append(remote)
    args += [f"{update.new}:{update.ref}" for update in updates]
    status, out, err = _run_git_status(repo, *args)
    refs = _parse_porcelain(out)
    messages = tuple(
        line[len("remote:") :].strip()
        for line in err.splitlines()
        if line.startswith("remote:") and line[7:].strip()
    )
    if status != 0 and not refs:
        raise RemoteError(
            f"cannot push to '{remote}': {_git_says(err)}",
            hint="check the remote's address (git remote -v), the network, your access and any pre-push hook; "
            "your local work is intact",
            unreachable=True,
        )
    return PushResult(refs=refs, remote_messages=messages)


def remote_ref_names(repo: Repo, remote: str) -> list[str]:
    """The names of the refs the remote has now (``git ls-remote --refs``), to tell a name clash from a race."""
    status, out, err = _run_git_status(repo, "ls-remote", "--refs", remote)
    if status != 0:
        raise RemoteError(
            f"cannot list the refs of '{remote}': {_git_says(err)}",
            hint="check the remote's address (git remote -v), the network and your access; "
            "your local work is intact",
            unreachable=True,
        )
    return [line.split("\t", 1)[1] for line in out.splitlines() if "\t" in line]


def _parse_porcelain(out: str) -> tuple[PushedRef, ...]:
    """The per-ref lines of ``git push --porcelain``: ``FLAG<TAB>FROM:TO<TAB>SUMMARY``."""
    from gittree.model import PushedRef

    refs = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or len(parts[0]) != 1 or ":" not in parts[1]:
            continue
        flag, spec, summary = parts
        refs.append(PushedRef(ref=spec.rsplit(":", 1)[1], ok=flag != "!", summary=summary.strip()))
    return tuple(refs)


def branch_tips(repo: Repo, patterns: Sequence[str], refs: RefState | None = None) -> list[str]:
    """Commits of the branches, local and remote-tracking, whose names match any of the globs.

    A local branch matches by its name (``exp/a``); a remote-tracking one by its full short name
    (``origin/exp/a``) or by its name on the remote (``exp/a``), so ``exp/*`` finds both copies.
    """
    import fnmatch

    refs = refs or read_refs(repo)
    remotes = list_remotes(repo)
    peeled = {ref[:-3]: sha for ref, sha in refs.refs if ref.endswith("^{}")}
    tips: list[str] = []
    for name, sha in refs.refs:
        if name.startswith("refs/heads/"):
            names = [name[len("refs/heads/") :]]
        elif name.startswith("refs/remotes/"):
            short = name[len("refs/remotes/") :]
            names = [short] + [short[len(r) + 1 :] for r in remotes if short.startswith(r + "/")]
            if any(alias == "HEAD" for alias in names[1:]):
                continue  # origin/HEAD only points at another remote-tracking branch
        else:
            continue
        if any(fnmatch.fnmatchcase(alias, pattern) for alias in names for pattern in patterns):
            tips.append(peeled.get(name, sha))
    if not tips:
        raise RevisionNotFoundError(
            f"no branch matches {', '.join(repr(p) for p in patterns)}",
            hint="list the branches with `git branch -a`; * matches any text, / included",
        )
    return list(dict.fromkeys(tips))


# -- runs: where things live, snapshots and commits that do not touch the checkout --------------
# Used by gittree.treecommit and gittree.runs (docs/runs.md). Each is one git call or one file read.

#: Empty tree object name (SHA-1): what an unborn branch "contains".
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def common_dir(repo: Repo) -> Path:
    """The folder shared by every worktree of the repository (``git rev-parse --git-common-dir``)."""
    return repo.shared_dir


def index_path(repo: Repo) -> Path:
    """The index of this worktree (a linked worktree has its own under ``.git/worktrees/NAME``)."""
    return repo.git_dir / "index"


def git_path(repo: Repo, name: str) -> Path:
    """``git rev-parse --git-path NAME`` as an absolute path (honours ``core.hooksPath`` for ``hooks``)."""
    text = git_text(repo, "rev-parse", "--git-path", name).strip()
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


def git_text(repo: Repo, *args: str, env: dict[str, str] | None = None, input_text: str | None = None) -> str:
    """``git ARGS``'s stdout; a failure becomes :class:`GitCommandError` carrying git's own words."""
    code, out, err = run_git_status(repo, *args, env=env, input_text=input_text)
    if code != 0:
        said = err.strip() or out.strip() or f"exit status {code}"
        raise GitCommandError(f"git {args[0]} failed: {said}", hint="fix what git reports and try again")
    return out


def checked_out_branches(repo: Repo) -> dict[Path, str | None]:
    """Every worktree of the repository and the branch it has checked out (None: detached or bare)."""
    out = git_text(repo, "worktree", "list", "--porcelain", "-z")
    found: dict[Path, str | None] = {}
    current: Path | None = None
    for entry in out.split("\0"):
        if entry.startswith("worktree "):
            current = Path(entry[len("worktree ") :]).resolve()
            found[current] = None
        elif entry.startswith("branch ") and current is not None:
            found[current] = entry[len("branch ") :]
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


# --- import-logs ---
# Resolving a whole log's commit names at once, and writing reconstructed experiment commits (importers.py).

#: The tree with no entries: what a commit reconstructed from a log with no repository holds.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def resolve_names(repo: Repo, names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """What each of ``names`` (hex prefixes) names, in one ``git cat-file --batch-check``.

    Answers ``(sha, type)`` for a name git resolves to one object, ``("", "ambiguous")`` for a
    prefix of several objects (:func:`match_commit_prefix` then tells commits from the others), and
    ``("", "missing")`` for no object. One process for a thousand rows, instead of two per row.
    """
    unique = list(dict.fromkeys(names))
    if not unique:
        return {}
    code, out, err = git_output(
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
        cwd=repo.git_dir,
        input="".join(name + "\n" for name in unique).encode("ascii"),
    )
    if code != 0:
        raise GitCommandError(
            f"cannot look up the log's commits: {_git_says(err.decode('utf-8', 'replace'))}",
            hint="the repository may be damaged; run `git fsck`",
        )
    answers: dict[str, tuple[str, str]] = {}
    for name, line in zip(unique, out.decode("ascii", "replace").splitlines(), strict=False):
        first, _, second = line.partition(" ")
        if second in ("missing", "ambiguous"):
            answers[name] = ("", second)
        else:
            answers[name] = (first, second)
    return answers


def commit_tree_time_parents(repo: Repo, sha: str) -> tuple[str, int, tuple[str, ...]]:
    """The tree a commit holds, its author time and its parents (read in-process)."""
    import pygit2

    commit = repo.handle[sha]
    assert isinstance(commit, pygit2.Commit)
    return str(commit.tree_id), int(commit.author.time), tuple(str(p) for p in commit.parent_ids)


def object_exists(repo: Repo, sha: str) -> bool:
    return sha in repo.handle.odb


def write_commit_objects(repo: Repo, objects: Sequence[bytes]) -> list[str]:
    """Write raw commit objects (parents first) into the object database; their ids, in order.

    The empty tree is written too, since a commit reconstructed without a repository holds it and
    git checks that a commit's tree exists.
    """
    import pygit2

    odb = repo.handle.odb
    try:
        if objects and EMPTY_TREE not in odb:
            odb.write(pygit2.enums.ObjectType.TREE, b"")
        return [str(odb.write(pygit2.enums.ObjectType.COMMIT, data)) for data in objects]
    except pygit2.GitError as e:
        raise GitCommandError(
            f"cannot write the reconstructed commits: {e}", hint="check free space and permissions in .git"
        ) from e
