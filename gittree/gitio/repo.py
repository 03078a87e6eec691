"""The repository: finding and opening it, the git version, its configuration and where its files are."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from gittree.errors import ConfigError, GitCommandError, NotARepositoryError
from gittree.gitio.runner import git_says, run

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    import pygit2


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
    def cwd(self) -> Path:
        """Where git commands about this repository run: the top of the working tree, else the git dir."""
        return self.worktree or self.git_dir

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


def open_repo(path: Path | str | None = None) -> Repo:
    """Open the repository containing ``path`` (default: the current directory), found as git finds it."""
    start = Path(path) if path is not None else Path.cwd()
    if not start.is_dir():
        raise NotARepositoryError(f"{start} is not a folder", hint="pass an existing folder to -C")
    # --show-toplevel comes last: git prints the answers before it even where it fails (a bare repository).
    found = run(
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
    lines = found.out.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 3:
        reason = found.err_text.strip().removeprefix("fatal: ")
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
    elif found.code == 0 and len(lines) > 4:
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

    found = re.match(r"git version (\d+)\.(\d+)", text.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def check_git_version(common_dir: Path | None) -> None:
    """Refuse, with the version needed, a git older than :data:`MIN_GIT_VERSION`.

    Asking ``git --version`` costs a process (about 2 ms) on every command, so a passed check is
    remembered in ``$GIT_COMMON_DIR/gittree/git-version``, keyed by the git program's path, size and modification time: a
    new or different git on PATH is checked again. The stamp is only an optimisation (best effort).
    """
    program = _which_git()
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
    text = run(["--version"]).text.strip()
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


def _which_git() -> str | None:
    """``shutil.which("git")``, by the same rules on POSIX (``PATH``, else the system's default path; the
    first entry holding an executable file named git, an empty entry meaning the current folder),
    without importing ``shutil``, which loads the compression modules: milliseconds of every command."""
    if os.name == "nt":  # PATHEXT and the current folder first: shutil's own rules
        import shutil

        return shutil.which("git")
    path = os.environ.get("PATH", None)
    if path is None:
        try:
            path = os.confstr("CS_PATH")
        except (AttributeError, ValueError):
            path = os.defpath
    if not path:
        return None
    seen = set()
    for folder in os.fsdecode(path).split(os.pathsep):
        if folder in seen:
            continue
        seen.add(folder)
        name = os.path.join(folder, "git")
        if os.path.exists(name) and os.access(name, os.F_OK | os.X_OK) and not os.path.isdir(name):
            return name
    return None


def init_repo(path: Path, *, branch: str, settings: Sequence[tuple[str, str]] = ()) -> Repo:
    """A new repository at ``path`` (``git init``) on ``branch``, with ``settings`` in its own configuration."""
    run(["init", "-q", "-b", branch, str(path)], check=True)
    for key, value in settings:
        run(["config", "--local", key, value], cwd=path, check=True)
    return open_repo(path)


def common_dir(repo: Repo) -> Path:
    """The folder shared by every worktree of the repository (``git rev-parse --git-common-dir``)."""
    return repo.shared_dir


def index_path(repo: Repo) -> Path:
    """The index of this worktree (a linked worktree has its own under ``.git/worktrees/NAME``)."""
    return repo.git_dir / "index"


def git_path(repo: Repo, name: str) -> Path:
    """``git rev-parse --git-path NAME`` as an absolute path (honours ``core.hooksPath`` for ``hooks``)."""
    text = run(["rev-parse", "--git-path", name], cwd=repo.cwd, check=True).text.strip()
    return (Path(repo.worktree or repo.git_dir) / text).resolve()


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
    found = run(["cat-file", "--batch", "--follow-symlinks"], cwd=repo.git_dir, input=f"{where}\n")
    code = found.code
    header, _, rest = found.out.partition(b"\n")
    fields = header.split(b" ")
    if code == 0 and len(fields) == 3 and fields[1] == b"blob" and fields[2].isdigit():
        return where, rest[: int(fields[2])]
    if code == 0 and len(fields) == 3 and fields[1] in (b"tree", b"commit"):
        raise ConfigError(
            f"{where} is a {fields[1].decode()}, not a file", hint="commit a file there, or none"
        )
    if code == 0:  # "missing", or a link that is "dangling", a "loop", "notdir", "symlink" out of the tree
        return where, None
    said = git_says(found.err_text)
    raise ConfigError(f"cannot read {where} in {repo.git_dir}: {said}", hint="run `git fsck`")


def shallow_boundary(repo: Repo) -> frozenset[str]:
    """Commits whose parents were cut away by a shallow clone (``$GIT_DIR/shallow``)."""
    try:
        text = (repo.shared_dir / "shallow").read_text(encoding="ascii")
    except (FileNotFoundError, UnicodeDecodeError):
        return frozenset()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def config_value(repo: Repo, key: str, *, kind: str | None = None) -> str | None:
    """One git configuration value as git reads it (every level), or None when unset."""
    args = ["config", *([f"--type={kind}"] if kind else []), "--get", key]
    found = run(args, cwd=repo.cwd)
    if found.code == 1:
        return None  # git exits 1 when the key is unset
    if found.code != 0:
        raise GitCommandError(
            f"git config {key} failed: {found.err_text.strip()}", hint="check your git configuration"
        )
    return found.text.strip()


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


def add_config_value(repo: Repo, key: str, value: str, *, only_local: bool = False) -> bool:
    """Add ``value`` to a multi-valued setting of the repository unless it is there; True when added.

    "There" is as git resolves the setting (every level), or with ``only_local`` in the repository's
    own configuration only (what the repository itself must carry, whatever the user's global one says).
    """
    present = _local_config_values(repo, key) if only_local else config_values(repo, key)
    if value in present:
        return False
    run(["config", "--local", "--add", key, value], cwd=repo.cwd, check=True)
    return True


def _local_config_values(repo: Repo, key: str) -> list[str]:
    """Every value of a setting in the repository's own configuration (``git config --local --get-all``)."""
    found = run(["config", "--local", "--get-all", key], cwd=repo.cwd)
    return found.text.split() if found.code == 0 else []  # git exits 1 when the key is unset


def remove_config_value(repo: Repo, key: str, value: str) -> None:
    """Remove every line of a multi-valued setting of the repository that is exactly ``value``."""
    run(["config", "--local", "--fixed-value", "--unset-all", key, value], cwd=repo.cwd, check=True)


def list_remotes(repo: Repo) -> list[str]:
    """The names of the configured remotes (``git remote``)."""
    return [str(name) for name in repo.handle.remotes.names()]


def checked_out_branches(repo: Repo) -> dict[Path, str | None]:
    """Every worktree of the repository, by its top folder, and the branch it has checked out (None:
    detached or bare).

    git lists the main worktree first, under the path of the common git dir with ``/.git`` stripped
    (``get_main_worktree`` in git's worktree.c), not where its working tree is: in a submodule (git dir
    ``.git/modules/NAME`` of the superproject) or a repository made by ``git init --separate-git-dir``,
    that is the git dir itself. So when ``repo`` is the main worktree (its git dir is the common one),
    its own top folder stands in that first entry, and a caller finds itself in the list.
    """
    out = run(["worktree", "list", "--porcelain", "-z"], cwd=repo.cwd, check=True).text
    found: dict[Path, str | None] = {}
    current: Path | None = None
    main = repo.worktree if repo.worktree is not None and _is_main_worktree(repo) else None
    for entry in out.split("\0"):
        if entry.startswith("worktree "):
            current = Path(entry[len("worktree ") :]).resolve()
            if main is not None and not found:
                current = main.resolve()
            found[current] = None
        elif entry.startswith("branch ") and current is not None:
            found[current] = entry[len("branch ") :]
    return found


def _is_main_worktree(repo: Repo) -> bool:
    """Whether ``repo`` is the repository's main worktree, not a linked one (``git worktree add``)."""
    return repo.git_dir.resolve() == repo.shared_dir.resolve()


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


def read_shared_file(repo: Repo, name: str, listing: bytes | None = None) -> tuple[str | None, bytes | None]:
    """A file at the top of the research tree, found the same way in every clone: (where, its bytes).

    In order (docs/config.md, "Which file is read"): the working tree's copy; else the one committed
    at HEAD; else the one on a remote's default branch (``refs/remotes/origin/HEAD`` first, then any
    other remote's); else the one at the newest tip (branch or remote-tracking branch, by committer
    date, then name) that has it, looked for only among at most :data:`NEWEST_TIP_SCAN` tips. So a
    ``--no-checkout`` clone, a bare mirror and a clone on a branch made before the file existed read
    what the author's checkout reads. ``where`` is the working tree file's path or ``REV:NAME``; both
    are None when no tip has the file. Only the first step costs nothing; the others ask git only
    when the earlier ones found nothing. ``listing``: the refs as :func:`~gittree.gitio.refs.list_refs`
    printed them, when already read (:func:`read_committed_file`).
    """
    found = read_worktree_file(repo, name)
    if found is not None:
        return found
    committed = read_committed_file(repo, name, listing)
    return committed.where, committed.data


def read_worktree_file(repo: Repo, name: str) -> tuple[str, bytes] | None:
    """The first step of :func:`read_shared_file`: (path, bytes) of the working tree's copy; None in a
    bare repository or when there is no such file. No git process."""
    if repo.worktree is None:
        return None
    path = repo.worktree / name
    try:
        return str(path), path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e}", hint="fix or remove the file") from e


class CommittedFile:
    """Steps 2 to 4 of :func:`read_shared_file`'s answer: where the file was found (``REV:NAME``) and its
    bytes, both None when no tip has it; and ``facts``, what of a ref listing the answer follows from.

    Objects never change, so the answer depends on nothing but which commits HEAD and the tips are:
    ``facts`` holds those the lookup looked at (HEAD's alone when HEAD has the file; HEAD and the remotes'
    default branches; every branch and remote-tracking branch when it went on to the newest tip).
    Another listing with the same facts has the same answer (:func:`read_committed_file` with
    ``known``); None: not to be reused (read without a listing, or a tip moved while it was read).
    A plain class, like :class:`Repo`: the cached-view start-up does not import ``dataclasses``.
    """

    __slots__ = ("data", "facts", "where")

    def __init__(self, where: str | None, data: bytes | None, facts: tuple[Any, ...] | None) -> None:
        self.where = where
        self.data = data
        self.facts = facts

    def __repr__(self) -> str:
        return f"CommittedFile(where={self.where!r}, facts={self.facts is not None})"

    def as_tuple(self) -> tuple[Any, ...]:
        """The answer as plain values (for a cache to store; :meth:`from_tuple` reads them back)."""
        return (self.where, self.data, self.facts)

    @classmethod
    def from_tuple(cls, stored: object) -> CommittedFile | None:
        """An answer from :meth:`as_tuple`'s values; None when ``stored`` is not one."""
        if not isinstance(stored, tuple) or len(stored) != 3:
            return None
        where, data, facts = stored
        if (
            (where is None or isinstance(where, str))
            and (data is None or isinstance(data, bytes))
            and isinstance(facts, tuple)
            and len(facts) == 3
        ):
            return cls(where, data, facts)
        return None


def read_committed_file(
    repo: Repo, name: str, listing: bytes | None = None, known: CommittedFile | None = None
) -> CommittedFile:
    """Steps 2 to 4 of :func:`read_shared_file`, the committed copies (:class:`CommittedFile`).

    With ``listing`` (the bytes :func:`~gittree.gitio.refs.list_refs` printed), HEAD and the tips are
    the commits it names, not the refs as they are a moment later, so the answer follows from the
    listing, and ``known`` (an earlier answer) is returned as it is, without a git process, when its
    facts hold in this listing too: a warm start asks git nothing about the file. HEAD and the remotes'
    default branches are then looked at in one git call.
    """
    if listing is None:
        found = _first_file(repo, name, [("HEAD", "HEAD")])
        if found is None:
            found = _first_file(repo, name, [(ref, ref) for ref in _tips_newest_first(repo)])
        return CommittedFile(*found, None) if found is not None else CommittedFile(None, None, None)
    facts = known.facts if known is not None else None
    if (
        known is not None
        and facts is not None
        and facts[0] == name
        and _listed_facts(listing, facts[1]) == facts[2]
    ):
        return known
    head, defaults, others = _listed_heads(listing)
    first = [("HEAD", head)] if head is not None else []
    found = _first_file(repo, name, first + defaults)
    if found is not None:
        depth = _AT_HEAD if head is not None and found[0] == f"HEAD:{name}" else _AT_DEFAULTS
        return CommittedFile(*found, (name, depth, _listed_facts(listing, depth)))
    if others > NEWEST_TIP_SCAN:
        return CommittedFile(None, None, (name, _NOT_SCANNED, _listed_facts(listing, _NOT_SCANNED)))
    listed_tips = _listed_facts(listing, _AT_NEWEST)
    newest = _newest_tips(repo)
    # Unless a branch moved, came or went since the listing: then the answer is right for the refs of now.
    facts = (name, _AT_NEWEST, listed_tips) if dict(newest) == dict(listed_tips[1]) else None
    listed = {ref for ref, _ in defaults}
    found = _first_file(repo, name, [(ref, sha) for ref, sha in newest if ref not in listed])
    return CommittedFile(*found, facts) if found is not None else CommittedFile(None, None, facts)


#: The newest-tip step looks through at most this many branches and remote-tracking branches: with more
#: (a sweep of thousands), sorting them by date costs every view a read of each tip (docs/config.md).
NEWEST_TIP_SCAN = 64

# How far a lookup went, which decides the facts of the listing its answer follows from (_listed_facts).
_AT_HEAD, _AT_DEFAULTS, _NOT_SCANNED, _AT_NEWEST = 1, 2, 3, 4


def _listed_heads(listing: bytes) -> tuple[str | None, list[tuple[str, str]], int]:
    """From a ref listing: HEAD's commit, (ref, object) of the remotes' default branches (origin's first),
    and how many other branches and remote-tracking branches there are.

    Found by searching the bytes, not read line by line (a listing can hold tens of thousands of refs):
    a ref name has no space (``git check-ref-format``), so `` refs/heads/`` starts a name wherever it
    is found, and `` HEAD`` is HEAD's own line."""
    from gittree.gitio.refs import listed_target  # refs imports this module

    head = listed_target(listing, "HEAD")
    if not listing.endswith(b"\n"):
        listing += b"\n"
    defaults = []
    at = listing.find(b"/HEAD\n")
    while at >= 0:
        start = listing.rfind(b"\n", 0, at) + 1
        sha, _, ref = listing[start : at + len(b"/HEAD")].partition(b" ")
        if ref.startswith(b"refs/remotes/"):
            defaults.append((ref.decode("utf-8", "surrogateescape"), sha.decode("ascii")))
        at = listing.find(b"/HEAD\n", at + 1)
    defaults.sort(key=lambda pair: pair[0] != "refs/remotes/origin/HEAD")
    tips = listing.count(b" refs/heads/") + listing.count(b" refs/remotes/")
    peeled = len(re.findall(rb" refs/(?:heads|remotes)/[^\n]*\^\{\}$", listing, re.MULTILINE))
    return head, defaults, tips - peeled - len(defaults)


def _listed_facts(listing: bytes, depth: int) -> tuple[Any, ...]:
    """What a lookup that went as far as ``depth`` read of ``listing``: HEAD's commit; then the remotes'
    default branches; then whether the others are too many to scan; or every branch and
    remote-tracking branch with its object."""
    head, defaults, others = _listed_heads(listing)
    if depth == _AT_HEAD:
        return (head,)
    if depth == _AT_DEFAULTS:
        return (head, tuple(defaults))
    if depth == _NOT_SCANNED:
        return (head, tuple(defaults), others > NEWEST_TIP_SCAN)
    tips = re.findall(rb"([0-9a-f]+) (refs/(?:heads|remotes)/[^\n]*)$", listing, re.MULTILINE)
    return (
        head,
        tuple(
            (ref.decode("utf-8", "surrogateescape"), sha.decode("ascii"))
            for sha, ref in tips
            if not ref.endswith(b"^{}")
        ),
    )


def _remote_defaults(refs: Sequence[str]) -> list[str]:
    """The remotes' default branches (``refs/remotes/NAME/HEAD``) among ``refs``: origin's first."""
    return sorted(
        (ref for ref in refs if ref.startswith("refs/remotes/") and ref.endswith("/HEAD")),
        key=lambda ref: ref != "refs/remotes/origin/HEAD",
    )


def _tips_newest_first(repo: Repo) -> list[str]:
    """Remotes' default branches (origin's first), then every branch and remote-tracking branch, newest
    first; only the default branches when there are more than :data:`NEWEST_TIP_SCAN` others."""
    listed = run(["for-each-ref", "--format=%(refname)", "refs/heads/", "refs/remotes/"], cwd=repo.git_dir)
    refs = listed.text.split() if listed.code == 0 else []
    defaults = _remote_defaults(refs)
    if len(refs) - len(defaults) > NEWEST_TIP_SCAN:
        return defaults
    args = ["for-each-ref", "--sort=refname", "--sort=-committerdate", "--format=%(refname)"]
    found = run([*args, "refs/heads/", "refs/remotes/"], cwd=repo.git_dir)
    newest = found.text.split() if found.code == 0 else []
    return defaults + [ref for ref in newest if ref not in defaults]


def _newest_tips(repo: Repo) -> list[tuple[str, str]]:
    """(ref, object) of every branch and remote-tracking branch, newest commit first, then by name."""
    args = ["for-each-ref", "--sort=refname", "--sort=-committerdate", "--format=%(objectname) %(refname)"]
    found = run([*args, "refs/heads/", "refs/remotes/"], cwd=repo.git_dir)
    newest = []
    for line in found.text.splitlines() if found.code == 0 else []:
        sha, _, ref = line.partition(" ")
        newest.append((ref, sha))
    return newest


def _first_file(
    repo: Repo, name: str, candidates: Sequence[tuple[str, str]]
) -> tuple[str, bytes | None] | None:
    """``(REF:NAME, bytes)`` for the first ``(REF, REV)`` of ``candidates`` whose tree at REV has ``name``
    (a file, or a link: followed inside the tree as a checkout would, its bytes None when it leads
    nowhere or out of the tree), in one git call; None when none has it."""
    if not candidates:
        return None
    wanted = "".join(f"{rev}:{name}\n" for _, rev in candidates)
    found = run(["cat-file", "--batch", "--follow-symlinks"], cwd=repo.git_dir, input=wanted)
    out = found.out
    at = 0
    for ref, _ in candidates:
        where = f"{ref}:{name}"
        end = out.find(b"\n", at)
        if end < 0:
            break
        fields = out[at:end].split(b" ")
        at = end + 1
        # "<object> <type> <size>", or "<status> <size>" for a link that is "dangling", a "loop",
        # "notdir" or a "symlink" out of the tree, each followed by that many bytes; else "<rev> missing"
        if len(fields) == 3 and fields[2].isdigit():
            if fields[1] in (b"tree", b"commit"):
                raise ConfigError(
                    f"{where} is a {fields[1].decode()}, not a file", hint="commit a file there, or none"
                )
            return where, out[at : at + int(fields[2])] if fields[1] == b"blob" else None
        if len(fields) == 2 and fields[1].isdigit():
            return where, None
    if found.code != 0:
        raise ConfigError(
            f"cannot read {name} in {repo.git_dir}: {git_says(found.err_text)}", hint="run `git fsck`"
        )
    return None


def config_all(repo: Repo, key: str, *, local: bool = False) -> list[str]:
    """Every value of a setting as git itself reads it (every level, ``GIT_CONFIG_GLOBAL`` honoured,
    which libgit2 ignores; with ``local``, the repository's own configuration only); empty when unset."""
    found = run(["config", *(["--local"] if local else []), "--get-all", key], cwd=repo.cwd)
    if found.code not in (0, 1):  # 1: unset
        raise GitCommandError(
            f"cannot read {key}: {git_says(found.err_text)}", hint="fix your git configuration"
        )
    return found.text.splitlines() if found.code == 0 else []
