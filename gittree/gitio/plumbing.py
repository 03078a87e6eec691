"""Writes: the index, trees and commits, through git's plumbing (a run's commit, notes) and porcelain
(``git commit``, so the user's hooks, identity, signing and configuration apply exactly)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from gittree.errors import GitCommandError
from gittree.gitio.refs import head_sha, ref_sha
from gittree.gitio.repo import Repo
from gittree.gitio.runner import run

#: Empty tree object name (SHA-1): what an unborn branch "contains".
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def stage_all(repo: Repo) -> None:
    """``git add -A``: every change of the working tree, new files included, into the index."""
    run(["add", "-A"], cwd=repo.cwd, check=True)


def has_staged_changes(repo: Repo) -> bool:
    """Whether the index differs from HEAD (what a plain ``git commit`` would record).

    ``git diff-index --cached``: libgit2's status would parse HEAD's commit, and refuses some that
    git reads (an author without an email). An unborn HEAD is compared with the empty tree.
    """
    base = ref_sha(repo, "HEAD") or EMPTY_TREE
    found = run(["diff-index", "--cached", "--quiet", base, "--"], cwd=repo.cwd)
    if found.code not in (0, 1):
        raise GitCommandError(
            f"git diff-index failed: {found.err_text.strip()}", hint="run `git status` to see what is wrong"
        )
    return found.code == 1


def worktree_differs(repo: Repo, rev: str) -> bool:
    """Whether tracked files in the working tree differ from ``rev`` (``git diff --quiet REV``)."""
    if repo.worktree is None:
        return False
    found = run(["diff", "--quiet", "--no-ext-diff", "--no-textconv", rev, "--"], cwd=repo.cwd)
    if found.code not in (0, 1):
        raise GitCommandError(
            f"git diff failed: {found.err_text.strip()}", hint="run `git status` to see what is wrong"
        )
    return found.code == 1


def untracked_files(repo: Repo) -> list[str]:
    """Untracked files that are not ignored, relative to the working tree's top; a folder holding
    only untracked files is one entry (``data/``), as ``git status`` shows it."""
    if repo.worktree is None:
        return []
    found = run(
        ["ls-files", "-z", "--others", "--exclude-standard", "--directory", "--no-empty-directory"],
        cwd=repo.worktree,
    )
    if found.code != 0:
        raise GitCommandError(
            f"git ls-files failed: {found.err_text.strip()}", hint="run `git status` to see what is wrong"
        )
    return [path for path in found.text.split("\0") if path]


def commit_with_message(
    repo: Repo,
    message: str | bytes,
    *,
    stage_all: bool = False,
    allow_empty: bool = False,
    env: dict[str, str] | None = None,
) -> str:
    """``git commit -F <file>`` with the user's hooks and config; returns the new commit's sha.

    ``message``: text is stored as UTF-8; bytes as they are, which must be in ``i18n.commitEncoding``
    (:func:`gittree.rawcommit.encode_message`): git only labels them.
    """
    import tempfile

    if repo.worktree is None:
        raise GitCommandError(
            "this is a bare repository: there is no working tree to commit",
            hint="run gittree commit inside a clone with a working tree",
        )
    fd, path = tempfile.mkstemp(prefix="gittree-msg-", suffix=".txt")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.encode("utf-8") if isinstance(message, str) else message)
        args = ["commit", "--file", path, "--cleanup=whitespace"]
        if stage_all:
            args.append("--all")
        if allow_empty:
            args.append("--allow-empty")
        run(args, cwd=repo.cwd, env=env, check=True)
    finally:
        os.unlink(path)
    sha = head_sha(repo)
    if sha is None:  # pragma: no cover - git said it committed
        raise GitCommandError("git reported success but HEAD does not point at a commit")
    return sha


def checkout(repo: Repo, branch: str, start: str | None = None) -> None:
    """``git checkout BRANCH``; with ``start``, the branch is (re)created there first (``-B``)."""
    run(
        ["checkout", "-q", *(["-B", branch, start] if start is not None else [branch])],
        cwd=repo.cwd,
        check=True,
    )


def merge_without_commit(repo: Repo, rev: str, *, env: Mapping[str, str] | None = None) -> None:
    """``git merge --no-ff --no-commit REV``: the merge staged, for the caller to commit."""
    run(["merge", "-q", "--no-ff", "--no-commit", rev], cwd=repo.cwd, env=env, check=True)


def reset_hard(repo: Repo, rev: str, *, env: Mapping[str, str] | None = None) -> None:
    """``git reset --hard REV``: the branch and the working tree back to REV (an agent loop dropping a loser)."""
    run(["reset", "-q", "--hard", rev], cwd=repo.cwd, env=env, check=True)


def revert(repo: Repo, rev: str, *, env: Mapping[str, str] | None = None) -> None:
    """``git revert --no-edit REV``: a new commit undoing REV (an agent loop keeping the loser in history)."""
    run(["revert", "--no-edit", rev], cwd=repo.cwd, env=env, check=True)


def add_to_index(repo: Repo, index: Path, *, untracked: bool = False) -> None:
    """``git add --update`` (with ``untracked``: ``--all``) of the working tree into the index file ``index``."""
    run(["add", "--all" if untracked else "--update"], cwd=repo.cwd, env=_index_env(index), check=True)


def read_tree(repo: Repo, tree: str, index: Path) -> None:
    """Make the index file ``index`` hold exactly ``tree`` (``git read-tree``)."""
    run(["read-tree", tree], cwd=repo.cwd, env=_index_env(index), check=True)


def carry_index(repo: Repo, old: str, new: str, index: Path) -> bool:
    """Move the index file ``index`` from ``old`` to ``new`` as a branch switch does (``git read-tree -m -i``):
    entries staged for files the move does not change are kept. False when git refuses (a staged file
    the move changes), leaving the index as it was."""
    return run(["read-tree", "-m", "-i", old, new], cwd=repo.cwd, env=_index_env(index)).code == 0


def write_tree(repo: Repo, index: Path) -> str:
    """The tree object of the index file ``index`` (``git write-tree``)."""
    return run(["write-tree"], cwd=repo.cwd, env=_index_env(index), check=True).text.strip()


def _index_env(index: Path) -> dict[str, str]:
    return {"GIT_INDEX_FILE": str(index)}


class CommitSettings:
    """What of git's configuration a commit made with plumbing depends on, read in one ``git config``
    (a run asked three times before, issue 19)."""

    __slots__ = ("comment", "encoding", "hooks_path_set", "sign")

    def __init__(
        self, comment: str, sign: bool, encoding: str | None, *, hooks_path_set: bool = True
    ) -> None:
        #: the character comment lines start with (:func:`gittree.gitio.comment_char`).
        self.comment = comment
        #: ``commit.gpgSign``: ``commit-tree`` ignores it, so the caller signs with ``-S``.
        self.sign = sign
        #: ``i18n.commitEncoding``, None when unset: the message is then stored as the UTF-8 written.
        self.encoding = encoding
        #: whether ``core.hooksPath`` is set (True when not known): :func:`hooks_folder` asks git then.
        self.hooks_path_set = hooks_path_set


#: The settings :class:`CommitSettings` holds, as ``git config --get-regexp`` names them (lower case).
_COMMIT_SETTINGS = r"^(core\.commentchar|commit\.gpgsign|i18n\.commitencoding|core\.hookspath)$"
_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off", "")


def commit_settings(repo: Repo) -> CommitSettings:
    """``core.commentChar``, ``commit.gpgSign`` and ``i18n.commitEncoding`` as git reads them (every level,
    the last value of each winning, as ``git config --get`` picks it), and whether ``core.hooksPath`` is
    set (:func:`hooks_folder`). A boolean git writes in a form
    not read here, or a ``git config`` that fails, is asked the way :func:`gittree.gitio.config_value`
    asks (its error and all)."""
    from gittree.gitio.repo import comment_char, config_value

    done = run(["config", "-z", "--get-regexp", _COMMIT_SETTINGS], cwd=repo.cwd)
    if done.code not in (0, 1):  # 1: none is set
        return CommitSettings(
            comment_char(repo),
            config_value(repo, "commit.gpgSign", kind="bool") == "true",
            config_value(repo, "i18n.commitEncoding"),
        )
    values: dict[str, str | None] = {}
    for entry in done.text.split("\0"):
        if entry:
            key, newline, value = entry.partition("\n")
            values[key] = value if newline else None  # no "=": a boolean's true
    comment = (values.get("core.commentchar") or "").strip()
    sign_text = values.get("commit.gpgsign", "false")
    if sign_text is None or sign_text.lower() in _TRUE:
        sign = True
    elif sign_text.lower() in _FALSE:
        sign = False
    elif sign_text.isdecimal() and sign_text.isascii():
        sign = int(sign_text) != 0
    else:  # a unit suffix, a sign, a value git refuses: git's own reading, and its error
        sign = config_value(repo, "commit.gpgSign", kind="bool") == "true"
    encoding = (values["i18n.commitencoding"] or "") if "i18n.commitencoding" in values else None
    return CommitSettings(
        "#" if comment in ("", "auto") else comment[0],
        sign,
        encoding,
        hooks_path_set="core.hookspath" in values,
    )


def hooks_folder(repo: Repo, settings: CommitSettings) -> Path:
    """``git rev-parse --git-path hooks`` (:func:`gittree.gitio.git_path`) without asking git when
    ``core.hooksPath`` is not set: git's own folder, ``hooks`` in the common git folder. A set
    ``core.hooksPath`` (``~``, a relative path: git's rules) is asked of git (issue 19)."""
    from gittree.gitio.repo import common_dir, git_path

    if settings.hooks_path_set:
        return git_path(repo, "hooks")
    return (common_dir(repo) / "hooks").resolve()


def stripspace(repo: Repo, message: bytes) -> bytes:
    """A commit message cleaned as ``git commit`` cleans it (``git stripspace``: comments kept); bytes, in
    whatever encoding they are, as git's own clean-up reads them."""
    return run(["stripspace"], cwd=repo.cwd, input=message, check=True).out


def changed_paths(repo: Repo, old: str, new: str) -> set[str]:
    """The paths whose content differs between two trees or commits (``git diff-tree -r``, no renames)."""
    done = run(["diff-tree", "-r", "-z", "--name-only", "--no-renames", old, new], cwd=repo.cwd, check=True)
    return {path for path in done.text.split("\0") if path}


def write_blobs(repo: Repo, contents: Sequence[bytes]) -> list[str]:
    """Store blobs in the object database, all in one pack (:func:`write_objects`); their ids, in order."""
    return write_objects(repo, [("blob", data) for data in contents])


#: Fewer objects than this are written loose, more in a pack of their own (git's transfer.unpackLimit).
_UNPACK_LIMIT = 100
#: The type numbers of git's pack format (Documentation/gitformat-pack.txt).
_PACK_TYPES = {"commit": 1, "tree": 2, "blob": 3}


def write_objects(repo: Repo, objects: Sequence[tuple[str, bytes]]) -> list[str]:
    """Store (type, content) objects in the object database, sent as one pack to one git process
    (``index-pack --stdin`` from :data:`_UNPACK_LIMIT` objects up, else ``unpack-objects``); their ids,
    in order.

    An import writing 500 reconstructed commits and 500 notes made 1,000 loose objects one by one (a
    file, a compression and a directory entry each); now one pack file. The ids
    are git's, ``sha1("TYPE SIZE\\0" + content)``, computed here: git stores the very bytes given.
    """
    import hashlib
    import struct
    import zlib

    ids = [hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest() for kind, data in objects]
    unique = list(dict(zip(ids, objects, strict=True)).values())
    if not unique:
        return ids
    parts = [b"PACK" + struct.pack(">II", 2, len(unique))]
    for kind, data in unique:
        size = len(data)
        byte = (_PACK_TYPES[kind] << 4) | (size & 0x0F)
        size >>= 4
        header = bytearray()
        while size:
            header.append(byte | 0x80)
            byte, size = size & 0x7F, size >> 7
        header.append(byte)
        parts += [bytes(header), zlib.compress(data, 1)]
    pack = b"".join(parts)
    pack += hashlib.sha1(pack).digest()
    # As git's own transfer.unpackLimit: a few objects (a run's note) become loose objects, a pack per
    # write would pile up packs that every later read searches until a gc.
    command = ["index-pack", "--stdin"] if len(unique) >= _UNPACK_LIMIT else ["unpack-objects", "-q"]
    done = run(command, cwd=repo.cwd, input=pack)
    if done.code != 0:
        raise GitCommandError(
            f"cannot write {len(unique)} objects: {' '.join(done.said.split())}",
            hint="check free space and permissions in .git",
        )
    return ids


def commit_tree(
    repo: Repo,
    tree: str,
    parents: Sequence[str],
    *,
    message: str | None = None,
    message_file: Path | None = None,
    sign: bool = False,
    encoding: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """A commit object of ``tree`` (``git commit-tree``), the message given or in ``message_file``; returns its id.

    Signed (``-S``) when ``sign`` asks, else never (``--no-gpg-sign``): ``commit-tree`` ignores
    ``commit.gpgSign``, so the caller decides. ``encoding``: the encoding the bytes of ``message_file``
    are in, for the commit's ``encoding`` header (``UTF-8``: none); None: ``i18n.commitEncoding``, as
    git labels any message. No ref moves: see :func:`update_ref`.
    """
    args = ["-c", f"i18n.commitEncoding={encoding}"] if encoding is not None else []
    args += ["commit-tree", "-S" if sign else "--no-gpg-sign", tree]
    for parent in parents:
        args += ["-p", parent]
    args += ["-F", str(message_file)] if message_file is not None else ["-m", message or ""]
    done = run(args, cwd=repo.cwd, env=env)
    if done.code != 0:
        raise GitCommandError(
            f"git could not create the commit: {' '.join(done.said.split())}",
            hint="fix what git reports, then try again",
        )
    return done.text.strip()


def write_commit_objects(repo: Repo, objects: Sequence[bytes]) -> list[str]:
    """Write raw commit objects into the object database, in one pack (:func:`write_objects`); their ids.

    The empty tree is written too, since a commit reconstructed without a repository holds it and
    git checks that a commit's tree exists.
    """
    if not objects:
        return []
    return write_objects(repo, [("tree", b""), *(("commit", data) for data in objects)])[1:]


def add_temporary_worktree(repo: Repo, path: Path, rev: str) -> None:
    """Check out ``rev`` (detached) in a new worktree at ``path``; the user's checkout and index stay as they are."""
    found = run(["worktree", "add", "--detach", "--quiet", str(path), rev], cwd=repo.cwd)
    if found.code != 0:
        raise GitCommandError(
            f"cannot check out {rev[:7]} in a temporary worktree: {' '.join(found.said.split())}",
            hint="fix what git reports (git worktree list shows the worktrees) and run the command again",
        )


def remove_temporary_worktree(repo: Repo, path: Path) -> None:
    """Remove a worktree made by :func:`add_temporary_worktree`, whatever the command left in it."""
    import shutil

    run(["worktree", "remove", "--force", "--force", str(path)], cwd=repo.cwd)
    shutil.rmtree(path, ignore_errors=True)
    run(["worktree", "prune"], cwd=repo.cwd)
