"""Reading objects in-process through libgit2: commits (through the lenient parser), trees, blobs."""

from __future__ import annotations

import os
from collections.abc import Sequence

from gittree.errors import GitCommandError
from gittree.gitio.repo import Repo
from gittree.gitio.runner import git_says, popen, run
from gittree.rawcommit import CommitFacts, parse_commit_object

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    from gittree.model import CommitRecord, PrefixMatch


_COMMIT_TYPE = 1  # libgit2's GIT_OBJECT_COMMIT


_TAG_TYPE = 4  # libgit2's GIT_OBJECT_TAG


#: How many tags of tags are followed to a commit (git itself stops at a loop of them).
_TAG_DEPTH = 16


class CommitReader:
    """Reads commit objects by id: in-process, straight from libgit2's object database.

    There is no revision walk here: the caller walks (``gittree.read``), looking most commits up in the
    cache and reading only the others. libgit2's own walker spends most of its time on bookkeeping
    for ~23k tips; a raw object read is a few microseconds.

    The first :data:`GIT_READS` reads go through one ``git cat-file --batch`` process instead: a view
    after a new commit reads one or two commits, and importing pygit2 costs ten times a whole small
    view (about 35 ms, issue 19). Both hand over the same raw object to the same parser. Call
    :meth:`close` (or use the reader as a context manager) to let the git process go.
    """

    #: How many commits are read through git before libgit2 is opened for the rest.
    GIT_READS = 64

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self._odb: Any = None
        self._git_error: type[Exception] = Exception
        self._batch: GitBatch | None = None
        self._reads = 0

    def __enter__(self) -> CommitReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, sha: str) -> CommitFacts | None:
        """The commit's facts; None when the object is missing (shallow clone) or is not a commit."""
        if self._odb is None:
            self._reads += 1
            if self._reads <= self.GIT_READS:
                return self._read_by_git(sha)
            self._open_odb()
        try:
            kind, data = self._odb.read(sha)[:2]
        except (KeyError, ValueError):
            return None
        except self._git_error as e:
            raise _unreadable(sha, str(e)) from e
        return parse_commit_object(data) if kind == _COMMIT_TYPE else None

    def _read_by_git(self, sha: str) -> CommitFacts | None:
        if self._batch is None:
            self._batch = GitBatch(self._repo)
        found = self._batch.read(sha)
        return parse_commit_object(found[1]) if found is not None and found[0] == "commit" else None

    def _open_odb(self) -> None:
        import pygit2

        self.close()
        self._odb = self._repo.handle.odb
        self._git_error = pygit2.GitError

    def close(self) -> None:
        if self._batch is not None:
            self._batch.close()
            self._batch = None


class GitBatch:
    """One ``git cat-file --batch`` process, asked for one object at a time (each answer waited for)."""

    def __init__(self, repo: Repo) -> None:
        import subprocess

        self._git = popen(
            ["cat-file", "--batch"], cwd=repo.git_dir, stdin=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._said = ""
        assert self._git.stderr is not None
        # git says why it could not read an object (a damaged one: "error: inflate...") on stderr,
        # then answers "missing": what is waiting there is read without waiting for more
        os.set_blocking(self._git.stderr.fileno(), False)

    def read(self, name: str) -> tuple[str, bytes] | None:
        """The object's type and content; None when git has none by that name (or it is ambiguous)."""
        git = self._git
        assert git.stdin is not None and git.stdout is not None
        try:
            git.stdin.write(name.encode("ascii", "replace") + b"\n")
            git.stdin.flush()
        except BrokenPipeError:
            pass  # git stopped: the empty answer below says so
        header = git.stdout.readline().split()
        if len(header) == 2:  # "NAME missing", "NAME ambiguous"
            said = self._said_so_far()
            if said:  # git found it but could not read it
                raise _unreadable(name, git_says(said))
            return None
        if len(header) != 3 or not header[2].isdigit():
            raise _unreadable(name, self._stopped())
        size = int(header[2])
        content = git.stdout.read(size + 1)[:size]  # and the newline after it
        if len(content) != size:
            raise _unreadable(name, self._stopped())
        return header[1].decode("ascii", "replace"), content

    def _said_so_far(self) -> str:
        assert self._git.stderr is not None
        try:
            said = os.read(self._git.stderr.fileno(), 1 << 16)
        except BlockingIOError:
            return ""
        return said.decode("utf-8", "replace").strip()

    def _stopped(self) -> str:
        """Why git stopped answering (it is ended and waited for)."""
        self.close()
        return git_says(self._said) or "git stopped answering"

    def close(self) -> None:
        """Let git go: its input is closed, it is waited for, and what it said is kept."""
        from contextlib import suppress

        git = self._git
        if git.returncode is not None:
            return
        for pipe in (git.stdin, git.stdout):
            if pipe is not None:
                with suppress(BrokenPipeError):  # git went first: nothing was left to flush
                    pipe.close()
        git.wait()
        if git.stderr is not None:
            self._said = self._said_so_far()
            git.stderr.close()


def _unreadable(sha: str, why: str) -> GitCommandError:
    return GitCommandError(
        f"cannot read the object {sha}: {why}", hint="the repository may be damaged; run `git fsck`"
    )


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


def read_record(
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


def read_one_record(repo: Repo, sha: str, *, shallow: bool = False, note: str | None = None) -> CommitRecord:
    """:func:`read_record` of one commit, read by one git process (``git cat-file commit``) instead of
    libgit2: for a lone commit (a run checking the commit it made), importing pygit2 costs ten times
    the read (issue 19). The same raw object and the same lenient parser, so the same record."""
    done = run(["cat-file", "commit", sha], cwd=repo.git_dir)
    if done.code != 0:
        raise GitCommandError(
            f"cannot read the commit {sha}: {git_says(done.err_text)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    return commit_record(sha, parse_commit_object(done.out), shallow=shallow, note=note)


def read_objects(repo: Repo, names: Sequence[str]) -> dict[str, tuple[str, str, bytes] | None]:
    """Each object of ``names`` (``SHA``, ``REV:path``) as ``(id, type, content)``, None when git has no
    such object: one ``git cat-file --batch`` for all of them, no libgit2 (a run reads a few objects,
    and importing pygit2 would cost ten times the reads, issue 19)."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    done = run(["cat-file", "--batch"], cwd=repo.git_dir, input="".join(name + "\n" for name in wanted))
    if done.code != 0:
        raise GitCommandError(
            f"cannot read objects: {git_says(done.err_text)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    found: dict[str, tuple[str, str, bytes] | None] = {}
    out, at = done.out, 0
    for name in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].decode("utf-8", "replace").rsplit(" ", 2)
        at = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "NAME missing", "NAME ambiguous"
            found[name] = None
            continue
        size = int(header[2])
        found[name] = (header[0], header[1], out[at : at + size])
        at += size + 1
    return found


def commit_subject(repo: Repo, sha: str) -> str:
    """The subject line of the commit ``sha`` (no notes read: one object, however many notes exist)."""
    return read_one_record(repo, sha).subject


def tree_of_commit(repo: Repo, commit: str | None) -> Any:
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


def read_blob(repo: Repo, sha: str) -> bytes:
    """The raw bytes of a blob."""
    return bytes(repo.handle[sha].read_raw())


def match_commit_prefix(repo: Repo, prefix: str) -> PrefixMatch:
    """Every object whose name starts with ``prefix`` (4 to 40 hex digits), split into commits and others.

    Like ``git rev-parse PREFIX^{commit}``, a prefix that matches one commit and some blobs or trees
    names that commit. Objects reachable only from the reflog, or from nothing, are found too.
    git lists and classifies them (``rev-parse --disambiguate``, ``cat-file --batch-check``): libgit2
    would parse each commit to name it, and refuses some that git reads (an author without an email).
    """
    from gittree.model import PrefixMatch

    found = run(["rev-parse", f"--disambiguate={prefix}"], cwd=repo.git_dir)
    if found.code != 0:
        raise GitCommandError(
            f"cannot look up '{prefix}': {git_says(found.err_text)}",
            hint="give 4 to 40 hexadecimal digits of a commit's name",
        )
    names = found.text.split()
    if not names:
        return PrefixMatch(())
    found = run(
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
        cwd=repo.git_dir,
        input="".join(name + "\n" for name in names),
    )
    if found.code != 0:  # pragma: no cover - the objects were just listed
        raise GitCommandError(f"cannot read the objects named {prefix}…", hint="run `git fsck`")
    kinds = [line.partition(" ")[::2] for line in found.text.splitlines()]
    commits = tuple(sorted(name for name, kind in kinds if kind == "commit"))
    others = tuple(kind for _, kind in kinds if kind != "commit")
    return PrefixMatch(commits, others)


def diff_text(repo: Repo, a: str, b: str, *, patch: bool = False) -> str:
    """``git diff --stat A B`` of two commit ids (with ``patch``: the stat followed by the whole patch),
    never coloured; :func:`resolve_commit` gives the ids of revisions."""
    args = ["diff", "--no-color", "--no-ext-diff", "--stat"]
    if patch:
        args.append("--patch")
    return run([*args, "--end-of-options", a, b, "--"], cwd=repo.cwd, check=True).text


def resolve_names(repo: Repo, names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """What each of ``names`` (hex prefixes) names, in one ``git cat-file --batch-check``.

    Answers ``(sha, type)`` for a name git resolves to one object, ``("", "ambiguous")`` for a
    prefix of several objects (:func:`match_commit_prefix` then tells commits from the others), and
    ``("", "missing")`` for no object. One process for a thousand rows, instead of two per row.
    """
    unique = list(dict.fromkeys(names))
    if not unique:
        return {}
    found = run(
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
        cwd=repo.git_dir,
        input="".join(name + "\n" for name in unique).encode("ascii"),
    )
    if found.code != 0:
        raise GitCommandError(
            f"cannot look up the log's commits: {git_says(found.err_text)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    answers: dict[str, tuple[str, str]] = {}
    for name, line in zip(unique, found.text.splitlines(), strict=False):
        first, _, second = line.partition(" ")
        answers[name] = ("", second) if second in ("missing", "ambiguous") else (first, second)
    return answers


def commit_tree_time_parents(repo: Repo, sha: str) -> tuple[str, int, tuple[str, ...]]:
    """The tree a commit holds, its author time and its parents (read in-process)."""
    import pygit2

    commit = repo.handle[sha]
    assert isinstance(commit, pygit2.Commit)
    return str(commit.tree_id), int(commit.author.time), tuple(str(p) for p in commit.parent_ids)


def object_exists(repo: Repo, sha: str) -> bool:
    return sha in repo.handle.odb


def file_in(repo: Repo, where: str) -> bytes | None:
    """The bytes of the file ``where`` names, as git names them: ``TREE:path`` (a saved tree, a
    commit) or ``:path`` (the index); None when there is no such file (or it is not a file)."""
    return files_in(repo, [where])[0]


#: What ``cat-file --batch --follow-symlinks`` says instead of an object, followed by that many bytes.
_LINK_ANSWERS = frozenset({b"symlink", b"dangling", b"loop", b"notdir"})


def files_in(repo: Repo, wheres: Sequence[str]) -> list[bytes | None]:
    """:func:`file_in` of each of ``wheres``, in order, read by one git process (a run looks for two
    params files: one process less, issue 19)."""
    if not wheres:
        return []
    found = run(
        ["cat-file", "--batch", "--follow-symlinks"],
        cwd=repo.git_dir,
        input="".join(f"{where}\n" for where in wheres),
    )
    if found.code != 0:
        shown = wheres[0] if len(wheres) == 1 else ", ".join(wheres)
        raise GitCommandError(f"cannot read {shown}: {git_says(found.err_text)}", hint="run `git fsck`")
    files: list[bytes | None] = []
    out, at = found.out, 0
    for _ in wheres:
        end = out.find(b"\n", at)
        if end < 0:
            files.append(None)
            continue
        fields = out[at:end].split(b" ")
        at = end + 1
        if len(fields) == 3 and fields[2].isdigit():  # an object: "ID TYPE SIZE", then its bytes
            size = int(fields[2])
            files.append(out[at : at + size] if fields[1] == b"blob" else None)
            at += size + 1
        elif len(fields) == 2 and fields[0] in _LINK_ANSWERS and fields[1].isdigit():
            files.append(None)  # a link git did not follow into the tree: "dangling SIZE", then a name
            at += int(fields[1]) + 1
        else:  # "NAME missing", "NAME ambiguous"
            files.append(None)
    return files


def tree_of(repo: Repo, rev: str) -> str | None:
    """The tree object of the commit ``rev`` (None: no such commit)."""
    found = run(["rev-parse", "-q", "--verify", f"{rev}^{{tree}}"], cwd=repo.cwd)
    return found.text.strip() if found.code == 0 else None


def files_under(repo: Repo, commit: str, folder: str) -> dict[str, bytes]:
    """The files below ``folder`` in ``commit``'s tree, by path (``git ls-tree -r`` and one ``cat-file --batch``).

    Empty when the commit has no such folder. Used for metric curves committed with the code
    (DVCLive's ``dvclive/plots/metrics/``).
    """
    listed = run(["ls-tree", "-r", "-z", commit, "--", folder.rstrip("/") + "/"], cwd=repo.git_dir)
    if listed.code != 0:
        raise GitCommandError(
            f"cannot list {folder} in {commit[:12]}: {git_says(listed.err_text)}",
            hint="check that the revision names a commit",
        )
    entries: list[tuple[str, str]] = []
    for record in listed.out.split(b"\0"):
        info, _, raw_path = record.partition(b"\t")
        fields = info.split(b" ")
        if len(fields) == 3 and fields[1] == b"blob":
            entries.append((raw_path.decode("utf-8", "surrogateescape"), fields[2].decode("ascii")))
    if not entries:
        return {}
    blobs = run(["cat-file", "--batch"], cwd=repo.git_dir, input="".join(f"{blob}\n" for _, blob in entries))
    if blobs.code != 0:
        raise GitCommandError(f"cannot read the files under {folder}: {git_says(blobs.err_text)}")
    files: dict[str, bytes] = {}
    position = 0
    for name, _ in entries:
        end = blobs.out.index(b"\n", position)
        size = int(blobs.out[position:end].split(b" ")[2])
        files[name] = blobs.out[end + 1 : end + 1 + size]
        position = end + 1 + size + 1  # the blob, then a newline
    return files
