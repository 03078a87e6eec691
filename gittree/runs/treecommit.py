"""How a run becomes a commit: the code it started with, committed onto a branch, the checkout left alone.

``gittree commit`` uses ``git commit``; a run cannot, for two reasons (docs/runs.md, "How a run is
committed"):

* the code of the experiment is the code the run *started* with. A run can last hours while its
  author keeps editing, so :func:`snapshot` saves the working tree as a tree object before the command
  starts (a private copy of the index, ``git add -u``, ``git write-tree``);
* ``--branch B`` must commit on B without touching the user's checkout, index or stash.

So the commit is made with plumbing: a temporary index (``GIT_INDEX_FILE``) holding the saved tree,
``git commit-tree``, and ``git update-ref REF NEW OLD``, a compare-and-swap that fails if anything moved
the branch meanwhile (then gittree retries on the new tip, unless the tip is now an experiment the run
repeats: the caller adds the run to it as a sample). ``commit-tree`` runs no hooks and ignores
``commit.gpgSign``, so gittree runs the commit hooks itself, exactly as ``git commit --only`` does with
its own temporary index: ``pre-commit``, ``prepare-commit-msg FILE message``, ``commit-msg FILE`` in the
working tree with ``GIT_INDEX_FILE`` set, ``post-commit`` after the branch moved, with
``GIT_INDEX_FILE`` naming the checkout's own index; and signs with ``-S`` when ``commit.gpgSign`` is set.
When the branch is the one checked out, the checkout's index is moved to the new commit under git's own
``index.lock`` protocol, as ``git commit`` would leave it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gittree import gitio
from gittree.errors import BadValueError, GitCommandError, RefLockedError
from gittree.rawcommit import encode_message
from gittree.trailers import stripspace

#: Attempts after the branch moved under us (each one means another commit landed: progress, not a wait).
MAX_MOVES = 1000


@dataclass(frozen=True)
class TreeCommit:
    """What to commit where."""

    tree: str
    #: ``refs/heads/NAME``, or ``HEAD`` for whatever HEAD is when the commit is made.
    target: str
    #: HEAD's commit when the run started: a new branch starts there.
    head: str | None
    #: the target's commit when the run started (None: it did not exist).
    base: str | None
    message: str
    #: the working tree the run started in: hooks run there, and its index follows when it has the target.
    worktree: Path
    #: a private folder for the temporary index and message files.
    scratch: Path
    #: the author date (when the result was produced); GIT_AUTHOR_DATE in the environment wins.
    author_date: str | None = None
    reflog: str = "gittree run"
    #: seconds to wait for ``index.lock`` or a ref lock held by another process.
    lock_timeout: float = 10.0
    #: where to land instead when the target moved meanwhile with another experiment on it, or with
    #: changes the saved tree would undo: a new branch whose parent is where the run started, so the run
    #: is a sibling of what landed first (docs/runs.md, "Runs started together are siblings").
    sibling: str | None = None
    #: the hooks folder (``git rev-parse --git-path hooks``) of the repository given to :func:`commit_tree`,
    #: when the caller has just asked git for it (a run, looking for its ``post-run`` hook): one git
    #: process less per run (issue 19). None: asked here.
    hooks: Path | None = None
    #: ``commit.gpgSign`` of that repository, when the caller has read it (:func:`gitio.commit_settings`).
    sign: bool | None = None
    #: ``i18n.commitEncoding`` of that repository when the caller has read it ("" when unset); None: read here.
    encoding: str | None = None
    #: whether a commit the target moved to since ``base`` is an experiment this run repeats (same code,
    #: command and params): then nothing is committed, and :class:`RepeatLanded` names it, so that the run
    #: is added to it as a sample (docs/runs.md, "Running the same code again"). None: never.
    repeats: Callable[[str], bool] | None = None


@dataclass(frozen=True)
class Landed:
    """The commit :func:`commit_tree_as_written` made."""

    sha: str
    #: the ref it landed on: the target, or the plan's sibling when the target moved.
    ref: str
    #: the message the commit holds when no commit hook ran (None when one did, and may have rewritten it).
    message: str | None
    #: ``i18n.commitEncoding`` when it could not hold the message, which was stored as UTF-8 instead.
    not_in_encoding: str | None = None


class RepeatLanded(Exception):
    """The target moved during the run to an experiment the run repeats (another run of the same code and
    command landed first): the run is one more sample of it, not a commit of its own."""

    def __init__(self, sha: str) -> None:
        super().__init__(sha)
        self.sha = sha


class _Contention(Exception):
    """A lock file is held by another process: wait and try again."""


class _Moved(Exception):
    """The branch moved between reading it and updating it: build on the new tip."""


def copy_keeping_time(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` with its access and modification times, as ``shutil.copy2`` does
    for what matters to git here (shutil itself loads the compression modules: milliseconds of every
    run). FileNotFoundError when ``source`` is missing."""
    with open(source, "rb") as handle:
        data = handle.read()
        times = os.fstat(handle.fileno())
    target.write_bytes(data)
    os.utime(target, ns=(times.st_atime_ns, times.st_mtime_ns))


def snapshot(repo: gitio.Repo, scratch: Path, *, add_untracked: bool = False) -> str:
    """The working tree's tracked files (and untracked ones with ``add_untracked``) as a tree object.

    Works on a private copy of the index, so the user's index and working tree are not touched; the
    copy keeps git's cached file stats, so only changed files are read.
    """
    index = scratch / "snapshot.index"
    _clear_private_index(index)
    source = gitio.index_path(repo)
    try:
        # The copy keeps the index's modification time: git tells a racily clean entry (a file changed
        # within the same clock tick as the index was written, same size) by comparing the two, and a
        # copy stamped "now" would make git trust a stale entry and snapshot the old content.
        copy_keeping_time(source, index)
    except FileNotFoundError:
        pass  # no index yet (a new repository): git add starts an empty one
    except OSError as e:
        raise GitCommandError(f"cannot copy the index {source}: {e.strerror or e}") from e
    try:
        gitio.add_to_index(repo, index, untracked=add_untracked)
        return gitio.write_tree(repo, index)
    finally:
        for leftover in (index, index.with_name(index.name + ".lock")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _clear_private_index(index: Path) -> None:
    """Remove what an earlier attempt left of a run's private index (and git's lock on it).

    The index lives in the run's own journal folder and only the process holding the run (its
    ``gittree run``, or a ``gittree recover`` under the run's lock) uses it; a leftover means that
    attempt was killed (kill -9 during ``git add``), and its ``.lock`` would make git refuse forever.
    """
    for leftover in (index, index.with_name(index.name + ".lock")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def commit_tree(repo: gitio.Repo, plan: TreeCommit) -> tuple[str, str]:
    """Commit ``plan.tree`` onto ``plan.target`` with the user's hooks, identity and signing.

    Returns the commit and the ref it landed on: the target, or ``plan.sibling`` when the target moved.
    """
    made = commit_tree_as_written(repo, plan)
    return made.sha, made.ref


def commit_tree_as_written(repo: gitio.Repo, plan: TreeCommit) -> Landed:
    """:func:`commit_tree`, and the message the commit holds when no commit hook ran: the caller need not
    read the commit back to check it.

    The message is stored in ``i18n.commitEncoding``, as ``git commit`` expects a message written in
    it; one that encoding cannot hold (a character outside Latin-1) is stored as UTF-8 with no
    ``encoding`` header, which is what its absence means: the run's results are not lost for a
    character in its command (docs/format.md, "Commit encoding")."""
    wt = _open_worktree(plan.worktree, repo)
    target = plan.target
    branch = gitio.symbolic_head(wt) if target == "HEAD" else None
    if branch is not None:
        # Started on a detached HEAD, which is now on a branch: committing "on HEAD" would move that
        # branch, which the run never started from.
        raise GitCommandError(
            f"the run started on a detached HEAD, which is now on {branch.removeprefix('refs/heads/')}: "
            "gittree does not put the run on a branch it did not start from",
            hint="the run stays in the journal: `gittree recover ID --branch NAME` commits it on a branch "
            "(a new one starts where the run did), or detach HEAD again (git switch --detach) and recover",
        )
    on_checkout = _check_where_checked_out(wt, target)
    hooks = plan.hooks if plan.hooks is not None and wt is repo else gitio.git_path(wt, "hooks")
    index = plan.scratch / "commit.index"
    message_file = plan.scratch / "COMMIT_EDITMSG"
    hook_env = {"GIT_INDEX_FILE": str(index), "GIT_EDITOR": ":"}
    # Without a hook that could change them, the tree is the saved one and the message gittree's own:
    # the index the hooks would see (read-tree, then write-tree after them) is not made (issue 19).
    hooked = any(_runnable(hooks / name) for name in COMMIT_HOOKS)
    _clear_private_index(index)
    try:
        if hooked:
            gitio.read_tree(wt, plan.tree, index)
            _run_hook(wt, hooks, "pre-commit", [], hook_env, plan.scratch)
        encoding = plan.encoding if plan.encoding is not None and wt is repo else None
        if encoding is None:
            encoding = gitio.config_value(wt, "i18n.commitEncoding") or ""
        message = stripspace(plan.message)  # gittree's clean-up, git's rules (hooks: git's own, below)
        try:
            data, label = encode_message(message, encoding), None
        except BadValueError:
            data, label = message.encode("utf-8"), "UTF-8"
        message_file.write_bytes(data)
        if hooked:
            _run_hook(wt, hooks, "prepare-commit-msg", [str(message_file), "message"], hook_env, plan.scratch)
            _run_hook(wt, hooks, "commit-msg", [str(message_file)], hook_env, plan.scratch)
            # git's own clean-up of a message a hook may have written anything into, as the bytes it is
            data = gitio.stripspace(wt, message_file.read_bytes())
            message_file.write_bytes(data)
        tree = gitio.write_tree(wt, index) if hooked else plan.tree  # a pre-commit hook may have staged fixes
        if not data.strip():
            raise GitCommandError("the commit message is empty after the commit hooks ran")
        sign = plan.sign if plan.sign is not None and wt is repo else None
        sha, landed = _land(wt, plan, target, tree, message_file, on_checkout, sign, label)
    finally:
        for leftover in (index, index.with_name(index.name + ".lock"), message_file):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    # git runs post-commit with the checkout's own index, also after `git commit --only` (builtin/commit.c
    # passes get_index_file(), not its temporary index): the hook's git commands see the commit just made.
    after_env = {**hook_env, "GIT_INDEX_FILE": str(gitio.index_path(wt))}
    _run_hook(wt, hooks, "post-commit", [], after_env, plan.scratch, check=False)
    return Landed(sha, landed, None if hooked else message, encoding if label is not None else None)


def _open_worktree(path: Path, fallback: gitio.Repo) -> gitio.Repo:
    if fallback.worktree is not None and path.resolve() == fallback.worktree:
        return fallback
    if path.is_dir():
        return gitio.open_repo(path)
    return fallback  # the run's worktree was removed since: commit from where we are


def _short(ref: str) -> str:
    return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref


def _check_where_checked_out(wt: gitio.Repo, target: str) -> bool:
    """Whether ``target`` is this worktree's checkout; refuse what would pull a rug from under someone."""
    assert wt.worktree is not None
    own = wt.worktree
    branches = gitio.checked_out_branches(wt)
    elsewhere = [path for path, branch in branches.items() if branch == target and path != own]
    if elsewhere:
        raise GitCommandError(
            f"branch {_short(target)} is checked out in another worktree, {elsewhere[0]}",
            hint="commit the run from that worktree, or on a branch of its own "
            "(gittree recover RUN_ID --branch NEW)",
        )
    on_checkout = target == "HEAD" or branches.get(own) == target
    busy = gitio.operation_in_progress(wt)
    if busy and (on_checkout or busy[1] == target):
        what = busy[0]
        hint = (
            f"finish it or abort it (git {what} --continue / --abort), then commit the run again "
            "with gittree recover"
        )
        if what == "merge":  # a run on a merge being made is a crossover: its commit is the merge itself
            hint = (
                "to record the crossover, resolve the merge and commit it with the run's results: "
                "gittree commit -m 'crossover ...' --metric NAME=VALUE (its results: gittree runs RUN_ID); "
                "or abort the merge (git merge --abort) and commit the run with gittree recover RUN_ID"
            )
        raise GitCommandError(
            f"a {what} is in progress in {own}: committing now would mix the run into it", hint=hint
        )
    return on_checkout


def _land(
    wt: gitio.Repo,
    plan: TreeCommit,
    target: str,
    tree: str,
    message_file: Path,
    on_checkout: bool,
    sign: bool | None = None,
    encoding: str | None = None,
) -> tuple[str, str]:
    """Create the commit on the current tip and move the branch to it, retrying on contention; or, when
    the branch moved under the run, land it as a sibling (``plan.sibling``), or raise :class:`RepeatLanded`
    when it moved to an experiment the run repeats. ``sign``: ``commit.gpgSign`` (None: read here);
    ``encoding``: the message file's, when not ``i18n.commitEncoding`` (:func:`gitio.commit_tree`)."""
    if sign is None:
        sign = gitio.config_value(wt, "commit.gpgSign", kind="bool") == "true"
    deadline = time.monotonic() + plan.lock_timeout
    delay = 0.005
    start = plan.base if plan.base is not None or target == "HEAD" else None
    for _ in range(MAX_MOVES):
        tip = gitio.ref_sha(wt, target)
        # Checked here, on the tip the commit would be built on, and again after every lost compare-and-swap:
        # the caller's own look happened before this run's hooks ran, and runs of the same command started
        # together all look before any of them lands.
        if plan.repeats is not None and tip is not None and tip != start and plan.repeats(tip):
            raise RepeatLanded(tip)
        if (
            plan.sibling is not None
            and tip is not None
            and tip != start
            and _must_be_sibling(wt, plan, tip, tree)
        ):
            parent = plan.base or plan.head
            sha = _commit_object(wt, tree, parent, message_file, sign, plan.author_date, encoding)
            try:
                _update_ref(wt, plan.sibling, None, sha, plan.reflog)
            except _Moved:
                raise GitCommandError(
                    f"{_short(target)} moved during the run, and the branch {_short(plan.sibling)} "
                    "that would hold the run beside it exists already",
                    hint=f"delete it if it is a leftover (git branch -D {_short(plan.sibling)}), "
                    "or commit the run elsewhere: gittree recover RUN_ID --branch NEW",
                ) from None
            except _Contention:
                if time.monotonic() >= deadline:
                    raise GitCommandError(f"gave up waiting for the lock of {plan.sibling}") from None
                time.sleep(delay)
                continue
            return sha, plan.sibling
        if tip is not None and plan.sibling is None:
            _refuse_to_undo(wt, plan.base or plan.head or gitio.EMPTY_TREE, tip, tree, target)
        sha = _commit_object(wt, tree, tip or plan.head, message_file, sign, plan.author_date, encoding)
        try:
            if on_checkout:
                _move_checked_out(wt, target, tip, sha, plan)
            else:
                _update_ref(wt, target, tip, sha, plan.reflog)
            return sha, target
        except _Moved:
            continue  # another commit landed first: look again
        except _Contention as e:
            if time.monotonic() >= deadline:
                raise GitCommandError(
                    f"gave up after {plan.lock_timeout:g} s waiting for a lock held by another process: {e}",
                    hint="wait for the other git command to finish (or remove the lock file if none is "
                    "running), then commit the run again with gittree recover",
                ) from None
            import random  # only under contention: most runs never wait

            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.25)
    raise GitCommandError(f"{_short(target)} kept moving: gave up after {MAX_MOVES} attempts")


def _must_be_sibling(wt: gitio.Repo, plan: TreeCommit, tip: str, tree: str) -> bool:
    """The target moved during the run: is the run a sibling of what landed, rather than its child?

    It is when an experiment landed (another run: the two are two ideas tried on the same parent), or
    when committing the saved code on top would undo the changes that landed. Ordinary commits whose
    changes the run's code already holds (committed during the run from the same edits) are built on.
    """
    start = plan.base if plan.base is not None else None
    if start is None or gitio.experiment_landed(wt, start, tip):
        return True
    moved = gitio.changed_paths(wt, start, tip)
    return bool(moved & gitio.changed_paths(wt, tip, tree))


def _refuse_to_undo(wt: gitio.Repo, reference: str, tip: str, tree: str, target: str) -> None:
    """The branch moved since the run started: committing the run's code on top must not revert that work."""
    if tip == reference:
        return
    moved = gitio.changed_paths(wt, reference, tip)
    if not moved:
        return
    undone = sorted(moved & gitio.changed_paths(wt, tip, tree))
    if undone:
        shown = ", ".join(undone[:5]) + (f" and {len(undone) - 5} more" if len(undone) > 5 else "")
        raise GitCommandError(
            f"{_short(target)} moved during the run (now at {tip[:7]}), and committing the code the run "
            f"used on top would undo those changes to {shown}",
            hint="commit the run on a branch of its own: gittree recover RUN_ID --branch NEW",
        )


def _commit_object(
    wt: gitio.Repo,
    tree: str,
    parent: str | None,
    message_file: Path,
    sign: bool,
    author_date: str | None,
    encoding: str | None,
) -> str:
    env = {"GIT_AUTHOR_DATE": author_date} if author_date and "GIT_AUTHOR_DATE" not in os.environ else None
    return gitio.commit_tree(
        wt, tree, [parent] if parent else [], message_file=message_file, sign=sign, encoding=encoding, env=env
    )


def _update_ref(wt: gitio.Repo, ref: str, old: str | None, new: str, reflog: str) -> None:
    """Move REF to NEW only if it is still at OLD (absent when OLD is None): :func:`gitio.update_ref`."""
    try:
        # git's own wait for a ref lock (0.1 s): longer waits are _land's, up to the plan's lock_timeout
        moved = not gitio.update_ref(
            wt, ref, new, old, reason=reflog, no_deref=ref == "HEAD", lock_wait_ms=_GIT_LOCK_WAIT_MS
        )
    except RefLockedError as e:
        raise _Contention(e.message) from None
    if moved:
        raise _Moved(ref)


#: git's default ``core.filesRefLockTimeout``.
_GIT_LOCK_WAIT_MS = 100


def _move_checked_out(wt: gitio.Repo, ref: str, old: str | None, new: str, plan: TreeCommit) -> None:
    """Move the checked-out branch and its index together, as ``git commit`` leaves them.

    git's lock protocol: create ``index.lock`` exclusively, write the new index into it, move the ref,
    rename the lock over the index. Index entries the user staged are kept where the commit did not
    change the file (``git read-tree -m -i OLD NEW``, what a branch switch does); the working tree is
    not touched, so edits made during the run stay unstaged edits.
    """
    index = gitio.index_path(wt)
    lock = index.with_name(index.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise _Contention(f"{lock} exists") from None
    except OSError as e:
        raise GitCommandError(f"cannot create {lock}: {e.strerror or e}") from e
    renamed = False
    try:
        moved = plan.scratch / "checkout.index"
        try:
            copy_keeping_time(index, moved)  # the index's own time: see snapshot()
        except FileNotFoundError:
            with contextlib.suppress(FileNotFoundError):
                moved.unlink()
        if not gitio.carry_index(wt, old or gitio.EMPTY_TREE, new, moved):
            # the user staged other content for a file the run changed: the commit wins
            gitio.read_tree(wt, new, moved)
        data = memoryview(moved.read_bytes())
        moved.unlink()
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        _update_ref(wt, ref, old, new, plan.reflog)
        os.replace(lock, index)
        renamed = True
    finally:
        if fd >= 0:
            os.close(fd)
        if not renamed:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()


#: The hooks run before the commit is made, which may stage fixes or rewrite the message.
COMMIT_HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg")


def _runnable(path: Path) -> bool:
    """Whether git would run the hook at ``path``: a file with the run bit (git ignores any other)."""
    return path.is_file() and os.access(path, os.X_OK)


def _run_hook(
    wt: gitio.Repo,
    hooks: Path,
    name: str,
    args: list[str],
    env: dict[str, str],
    scratch: Path,
    *,
    check: bool = True,
) -> None:
    """Run one of the user's commit hooks as git would: only if it exists and is executable."""
    path = hooks / name
    if not _runnable(path):
        return
    try:
        done = subprocess.run(
            [str(path), *args],
            cwd=str(wt.worktree),
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError as e:
        if not check:
            return
        raise GitCommandError(f"cannot run the {name} hook {path}: {e.strerror or e}") from e
    said = (done.stdout + done.stderr).decode("utf-8", errors="replace").strip()
    if said:
        with contextlib.suppress(OSError), open(scratch / "hooks.log", "a", encoding="utf-8") as log:
            log.write(f"--- {name} (exit {done.returncode})\n{said}\n")
    if check and done.returncode != 0:
        tail = "\n".join(said.splitlines()[-10:]) or "(no output)"
        raise GitCommandError(
            f"the {name} hook refused the commit (exit {done.returncode}): {tail}",
            hint=f"fix what the hook reports ({path}), then commit the run again with gittree recover",
        )
