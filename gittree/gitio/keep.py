"""The keep ref (docs/tree.md, "Nothing tried vanishes"): ONE ref holding every experiment gittree wrote.

It points at a commit that is never an experiment: its parents are the frontier of the kept commits
(those no other kept commit descends from), so everything kept is reachable and ``git gc`` keeps it;
its tree lists every kept sha as an empty file ``aa/bbbb...`` (fanned out like notes, so an update
rewrites one small subtree and the root), so ``forget`` can recompute the frontier.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from gittree.errors import GitCommandError
from gittree.gitio.refs import GITTREE_REF_PREFIX, GITTREE_REMOTE_REF_PREFIX, ref_target, update_ref
from gittree.gitio.repo import Repo
from gittree.gitio.runner import git_says, popen, run

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

KEEP_REF = GITTREE_REF_PREFIX + "keep"
_KEEP_ATTEMPTS = 50
_KEEP_IDENTITY = ("gittree", "gittree@localhost")


def is_keep_ref(name: str) -> bool:
    """Whether ``name`` is a keep ref: the local one, or a remote's copy that sync or fetch brought."""
    return name == KEEP_REF or (name.startswith(GITTREE_REMOTE_REF_PREFIX) and name.endswith("/keep"))


def keep_frontier(repo: Repo, keep: str) -> list[str]:
    """The parents of the keep commit ``keep``: the tips a view walks from instead of the commit itself."""
    done = run(["cat-file", "commit", keep], cwd=repo.git_dir)
    if done.code != 0:
        return []  # not fetched, or not a commit: nothing to keep from here
    parents = []
    for line in done.out.split(b"\n"):
        if not line:
            break
        if line.startswith(b"parent "):
            parents.append(line[7:].decode("ascii").strip())
    return parents


def kept_shas(repo: Repo, keep: str | None = None) -> list[str]:
    """Every sha the keep commit lists (default: the one the keep ref points at), sorted."""
    keep = keep if keep is not None else ref_target(repo, KEEP_REF)
    if keep is None:
        return []
    done = run(["ls-tree", "-r", "--name-only", "-z", keep], cwd=repo.git_dir)
    if done.code != 0:
        raise GitCommandError(
            f"cannot read {KEEP_REF}: {git_says(done.err_text)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    return sorted(name.decode("ascii").replace("/", "") for name in done.out.split(b"\0") if name)


def keep_commits(
    repo: Repo, shas: Iterable[str], *, reason: str = "gittree keep", env: dict[str, str] | None = None
) -> list[str]:
    """Keep ``shas`` reachable from :data:`KEEP_REF` until forgotten; returns those not kept before.

    The one way gittree keeps what it wrote (commit, run, sweep, record, abandon, import). A
    compare-and-swap on the ref: a concurrent writer that moved it first makes this one start again
    from what it wrote, so parallel runs never drop each other's experiments. Only the subtrees of
    the new shas are read and rewritten, whatever the number of kept commits.
    """
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return []
    return _change_keep(repo, wanted, None, reason, env)


def forget_commits(
    repo: Repo, shas: Iterable[str], *, descendants: bool = True, reason: str = "gittree forget"
) -> list[str]:
    """Drop ``shas`` (and, with ``descendants``, every kept commit that descends from one of them) from the
    keep; returns what was dropped. A kept descendant would keep a forgotten commit reachable as its
    history, so ``gittree forget`` drops them too.
    """
    roots = list(dict.fromkeys(shas))

    def dropped(kept: set[str]) -> list[str]:
        if not kept or not roots:
            return []
        if not descendants:
            return sorted(set(roots) & kept)
        lines = [f"^{sha}" for sha in roots] + sorted(kept)
        done = run(
            ["rev-list", "--ancestry-path", "--stdin"],
            cwd=repo.git_dir,
            input="\n".join(lines).encode() + b"\n",
        )
        if done.code != 0:
            raise GitCommandError(
                f"git could not walk the kept commits: {git_says(done.err_text)}",
                hint="the repository may be damaged; run `git fsck`",
            )
        below = {line.decode("ascii") for line in done.out.split()}
        return sorted((below | set(roots)) & kept)

    return _change_keep(repo, (), dropped, reason)


def merge_keep(repo: Repo, mine: str | None, theirs: str) -> str:
    """A keep commit listing what ``mine`` and ``theirs`` list (the union; ``gittree sync``); not a ref update."""
    import pygit2

    if mine is None:
        return theirs
    handle = repo.handle
    ours = set(kept_shas(repo, mine))
    added = [sha for sha in kept_shas(repo, theirs) if sha not in ours]
    present = [sha for sha in added if _exists(handle, sha)]  # a remote's commits not fetched: left out
    if not present:
        return mine
    old_tree = handle[mine].peel(pygit2.Tree)
    frontier = independent_commits(repo, keep_frontier(repo, mine) + present)
    return _write_keep(repo, old_tree, present, (), frontier)


def keep_covers(repo: Repo, mine: str, theirs: str) -> bool:
    """Whether keep commit ``mine`` lists every sha ``theirs`` lists (so pushing it loses nothing)."""
    return mine == theirs or set(kept_shas(repo, theirs)) <= set(kept_shas(repo, mine))


def independent_commits(repo: Repo, shas: Iterable[str]) -> list[str]:
    """Those of ``shas`` that no other one descends from (``git merge-base --independent``), sorted.

    One walk: each commit is asked for and its parents excluded (``X ^X^@``), so what git still
    prints among them is reachable from no other one's parents. ``merge-base --independent`` walks
    once per commit without a commit-graph file: quadratic for a frontier of thousands of dead ends.
    """
    unique = list(dict.fromkeys(shas))
    if len(unique) < 2:
        return unique
    lines = [line for sha in unique for line in (sha, f"^{sha}^@")]
    done = run(["rev-list", "--stdin"], cwd=repo.git_dir, input="\n".join(lines).encode() + b"\n")
    if done.code != 0:
        raise GitCommandError(
            f"git could not walk the kept commits: {git_says(done.err_text)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    printed = {line.decode("ascii") for line in done.out.split()}
    return sorted(sha for sha in unique if sha in printed)


def commits_only_from(repo: Repo, tips: Sequence[str], excluded: Sequence[str]) -> set[str]:
    """The commits reachable from ``tips`` but from none of ``excluded`` (``git rev-list TIPS --not EXCLUDED``)."""
    return start_commits_only_from(repo, tips, excluded)()


def start_commits_only_from(
    repo: Repo, tips: Sequence[str], excluded: Sequence[str]
) -> Callable[[], set[str]]:
    """:func:`commits_only_from`, started now and answered when the function returned is called.

    git walks in a process of its own while the caller does other work: a cold view reads the whole
    history meanwhile, and this walk (about a third of a second at 100k commits and 23k branches)
    then costs no time of its own on a second core (docs/performance.md). Its output goes to a file,
    so a long answer never stops git. The answer raises :class:`GitCommandError` when git cannot walk.
    """
    if not tips:
        return set
    import subprocess
    import tempfile

    lines = list(tips) + [f"^{sha}" for sha in excluded]
    # Files, not pipes, so git never waits on this process; the answer closes them.
    output = tempfile.TemporaryFile()  # noqa: SIM115
    errors = tempfile.TemporaryFile()  # noqa: SIM115
    walker = popen(
        ["rev-list", "--stdin"], cwd=repo.git_dir, stdin=subprocess.PIPE, stderr=errors, stdout=output
    )
    assert walker.stdin is not None
    try:
        walker.stdin.write("\n".join(lines).encode() + b"\n")
        walker.stdin.close()
    except BrokenPipeError:  # git stopped at once (a bad tip): its status and message say why
        pass

    def answer() -> set[str]:
        with output, errors:
            status = walker.wait()
            if status != 0:
                errors.seek(0)
                said = errors.read().decode("utf-8", "replace")
                raise GitCommandError(
                    f"git could not walk the history: {git_says(said)}",
                    hint="the repository may be damaged; run `git fsck`",
                )
            output.seek(0)
            return {line.decode("ascii") for line in output.read().split()}

    return answer


def _exists(handle: Any, sha: str) -> bool:
    try:
        return handle.get(sha) is not None
    except ValueError:
        return False


def _change_keep(
    repo: Repo,
    wanted: Sequence[str],
    removing: Callable[[set[str]], list[str]] | None,
    reason: str,
    env: dict[str, str] | None = None,
) -> list[str]:
    """Add ``wanted`` to the keep ref, or drop what ``removing`` picks among the kept shas, by
    compare-and-swap, reading the ref again when another writer won."""
    import pygit2

    handle = repo.handle
    for _ in range(_KEEP_ATTEMPTS):
        old = ref_target(repo, KEEP_REF)
        old_commit = handle[old].peel(pygit2.Commit) if old else None
        old_tree = old_commit.tree if old_commit is not None else None
        added = [
            sha
            for sha in wanted
            if (old_tree is None or f"{sha[:2]}/{sha[2:]}" not in old_tree) and _exists(handle, sha)
        ]
        kept = set(kept_shas(repo, old)) if removing is not None and old else set()
        removed = removing(kept) if removing is not None else []
        if not added and not removed:
            return []
        if old is not None and removed and not kept - set(removed):
            if _delete_ref_if(repo, KEEP_REF, old):  # nothing left to keep: no ref, as before the first
                return removed
            continue
        if removed:
            frontier = independent_commits(repo, sorted(kept - set(removed)))
        else:
            parents = [str(parent) for parent in old_commit.parent_ids] if old_commit is not None else []
            frontier = independent_commits(repo, parents + added)
        new = _write_keep(repo, old_tree, added, removed, frontier, env)
        if update_ref(repo, KEEP_REF, new, old, reason=reason):
            return added or removed
    raise GitCommandError(
        f"could not update {KEEP_REF}: other gittree processes kept changing it",
        hint="run the command again once they are done",
    )


def _write_keep(
    repo: Repo,
    old_tree: Any,
    added: Sequence[str],
    removed: Sequence[str],
    frontier: Sequence[str],
    env: dict[str, str] | None = None,
) -> str:
    """Write the keep commit: ``old_tree`` with ``added`` listed and ``removed`` not, parents ``frontier``."""

    import pygit2

    handle = repo.handle
    empty = handle.create_blob(b"")
    changes: dict[str, list[tuple[str, bool]]] = {}
    for sha in added:
        changes.setdefault(sha[:2], []).append((sha[2:], True))
    for sha in removed:
        changes.setdefault(sha[:2], []).append((sha[2:], False))
    root = handle.TreeBuilder(old_tree) if old_tree is not None else handle.TreeBuilder()
    for prefix, entries in sorted(changes.items()):
        existing = old_tree[prefix] if old_tree is not None and prefix in old_tree else None
        sub = handle.TreeBuilder(existing.id) if existing is not None else handle.TreeBuilder()
        for name, add in entries:
            if add:
                sub.insert(name, empty, pygit2.GIT_FILEMODE_BLOB)
            elif sub.get(name) is not None:
                sub.remove(name)
        if len(sub):
            root.insert(prefix, sub.write(), pygit2.GIT_FILEMODE_TREE)
        elif root.get(prefix) is not None:
            root.remove(prefix)
    tree = root.write()
    who = _committer(repo, env)
    count = len(added) or len(removed)
    message = f"gittree keep: {'kept' if added else 'forgot'} {count} experiment{'s' if count != 1 else ''}\n"
    parents = [pygit2.Oid(hex=sha) for sha in frontier]
    return str(handle.create_commit(None, who, who, message, tree, parents))


def _committer(repo: Repo, env: dict[str, str] | None) -> Any:
    """Who writes a keep commit: the user's committer identity as git resolves it (environment, then
    configuration, as ``git notes`` does), else ``gittree <gittree@localhost>``."""
    import time

    import pygit2

    done = run(["var", "GIT_COMMITTER_IDENT"], cwd=repo.cwd, env=env)
    ident = re.fullmatch(r"(.*) <(.*)> (\d+) ([+-])(\d\d)(\d\d)\s*", done.text) if done.code == 0 else None
    if ident is None:
        return pygit2.Signature(*_KEEP_IDENTITY, int(time.time()), 0)
    name, email, when, sign, hours, minutes = ident.groups()
    offset = (int(hours) * 60 + int(minutes)) * (-1 if sign == "-" else 1)
    return pygit2.Signature(name, email, int(when), offset)


def _delete_ref_if(repo: Repo, ref: str, old: str) -> bool:
    """Delete ``ref`` only if it still points at ``old`` (compare-and-swap); False when it moved."""
    return run(["update-ref", "-d", ref, old], cwd=repo.cwd).code == 0
