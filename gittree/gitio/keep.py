"""The keep ref (docs/tree.md, "Nothing tried vanishes"): ONE ref holding every experiment gittree wrote.

It points at a commit that is never an experiment: its parents are the frontier of the kept commits
(those no other kept commit descends from), so everything kept is reachable and ``git gc`` keeps it;
its tree lists every kept sha as a file ``aa/bbbb...`` (fanned out like notes, so an update
rewrites one small subtree and the root), so ``forget`` can recompute the frontier, and every forgotten
sha as ``forgotten/aa/bbbb...``, so that a forget travels with ``gittree sync`` (docs/teams.md).

Each listed sha has a count, odd while kept and even once forgotten (1: kept; 2: forgotten; 3: kept
again...), and a merge takes the larger count of each sha: what a clone forgot after keeping it stays
forgotten, whichever clone merges first, and keeping it again later wins over that forget. A first
keep is an empty file (one blob shared by every kept sha); any other count is the file's content,
followed, for a sha forgotten because it was rewritten (amend, rebase), by the sha that rewrote it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence

from gittree.errors import GitCommandError
from gittree.gitio.refs import (
    GITTREE_REF_PREFIX,
    GITTREE_REMOTE_REF_PREFIX,
    ref_object,
    ref_target,
    update_ref,
)
from gittree.gitio.repo import Repo
from gittree.gitio.runner import git_says, popen, run

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

KEEP_REF = GITTREE_REF_PREFIX + "keep"
#: The keep commit's folder of forgotten shas (fanned out like the kept ones), which masks them at a merge.
_FORGOTTEN_DIR = "forgotten"
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
    """Every sha the keep commit lists as kept (default: the one the keep ref points at), sorted."""
    keep = keep if keep is not None else ref_target(repo, KEEP_REF)
    if keep is None:
        return []
    done = run(["ls-tree", "-r", "--name-only", "-z", keep], cwd=repo.git_dir)
    if done.code != 0:
        raise GitCommandError(
            f"cannot read {KEEP_REF}: {git_says(done.err_text)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    names = (name.decode("ascii") for name in done.out.split(b"\0") if name)
    return sorted(name.replace("/", "") for name in names if not name.startswith(_FORGOTTEN_DIR + "/"))


def forgotten_shas(repo: Repo, keep: str | None = None) -> dict[str, str | None]:
    """Every sha the keep commit lists as forgotten, each with the commit that rewrote it (amend, rebase:
    the post-rewrite hook or ``forget --rewritten`` said so), else None. Empty without a keep ref."""
    keep = keep if keep is not None else ref_target(repo, KEEP_REF)
    if keep is None:
        return {}
    # git, not pygit2: views read this, and importing pygit2 costs their start-up.
    from gittree.gitio.objects import files_under

    found = {}
    for path, data in files_under(repo, keep, _FORGOTTEN_DIR).items():
        sha = path[len(_FORGOTTEN_DIR) + 1 :].replace("/", "")
        found[sha] = _Entry.parse(data, kept=False).into
    return found


def keep_commits(
    repo: Repo, shas: Iterable[str], *, reason: str = "gittree keep", env: dict[str, str] | None = None
) -> list[str]:
    """Keep ``shas`` reachable from :data:`KEEP_REF` until forgotten; returns those not kept before.

    The one way gittree keeps what it wrote (commit, run, sweep, record, abandon, import). A
    compare-and-swap on the ref: a concurrent writer that moved it first makes this one start again
    from what it wrote, so parallel runs never drop each other's experiments. Only the subtrees of
    the new shas are read and rewritten, whatever the number of kept commits. A sha forgotten before
    is kept again (its count goes up one, so the keep wins over the old forget at the next sync).
    """
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return []

    def change(view: _KeepView) -> _Change:
        view.prepare(wanted)
        return _Change(added=[sha for sha in wanted if not view.is_kept(sha) and view.exists(sha)])

    return _change_keep(repo, change, reason, env, wanted).added


def forget_commits(
    repo: Repo, shas: Iterable[str], *, descendants: bool = True, reason: str = "gittree forget"
) -> list[str]:
    """Drop ``shas`` (and, with ``descendants``, every kept commit that descends from one of them) from the
    keep; returns what was dropped. A kept descendant would keep a forgotten commit reachable as its
    history, so ``gittree forget`` drops them too. What is dropped is listed as forgotten in the keep
    commit, so that ``gittree sync`` carries the forget to every clone (docs/teams.md).
    """
    roots = list(dict.fromkeys(shas))

    def change(view: _KeepView) -> _Change:
        kept = set(view.kept())
        if not kept or not roots:
            return _Change()
        if not descendants:
            return _Change(removed=sorted(set(roots) & kept))
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
        return _Change(removed=sorted((below | set(roots)) & kept))

    return _change_keep(repo, change, reason).removed


def follow_rewrites(
    repo: Repo, pairs: Iterable[tuple[str, str]], *, reason: str = "gittree keep: rewritten"
) -> list[tuple[str, str]]:
    """Make the keep follow rewrites (``git commit --amend``, ``git rebase``: the post-rewrite hook's
    ``OLD NEW`` pairs): each kept OLD is forgotten as rewritten into NEW, and NEW is kept. Returns the
    pairs that changed the keep; OLD not kept, or OLD equal to NEW, change nothing.
    A rewrite of a rewrite (amend twice, then rebase) is followed to its last version.
    """
    into: dict[str, str] = {}
    for old, new in pairs:
        if old != new:
            into[old] = new
    if not into:
        return []

    def last(sha: str) -> str:
        seen = {sha}
        while sha in into and into[sha] not in seen:
            sha = into[sha]
            seen.add(sha)
        return sha

    def change(view: _KeepView) -> _Change:
        view.prepare([*into, *into.values()])
        olds = [old for old in into if view.is_kept(old)]
        news = [last(old) for old in olds]
        added = [sha for sha in dict.fromkeys(news) if not view.is_kept(sha) and view.exists(sha)]
        removed = [old for old in olds if old not in added]
        return _Change(added=added, removed=removed, into={old: last(old) for old in removed})

    done = _change_keep(repo, change, reason, shas=[*into, *into.values()])
    return [(old, done.into[old]) for old in done.removed if old in done.into]


def merge_keep(repo: Repo, mine: str | None, theirs: str) -> str:
    """A keep commit holding both keep commits' lists (``gittree sync``); not a ref update.

    Each sha carries a count (kept the first time: 1; forgotten: 2; kept again: 3...): the merge takes
    the larger count of each, so what either side kept is kept, and what either side forgot after
    keeping it is forgotten, whichever clone merges (docs/teams.md). A kept commit of the remote's that
    this clone has not fetched is left out.
    """
    if mine is None or mine == theirs:
        return theirs if mine is None else mine
    ours, other = _state(repo, mine), _state(repo, theirs)
    handle = repo.handle
    changes: dict[str, _Entry] = {}
    left_out = False
    for sha, entry in other.items():
        current = ours.get(sha)
        if current is not None and not _wins(entry, current):
            continue
        if entry.kept and not _exists(handle, sha):
            left_out = True  # a remote's commit not fetched: left out
            continue
        changes[sha] = entry
    if not changes:
        return mine
    if not left_out and all(sha in other and not _wins(entry, other[sha]) for sha, entry in ours.items()):
        return theirs  # it holds all this one holds: taken as it is, so that every clone ends on one commit
    import pygit2

    old_commit = handle[mine].peel(pygit2.Commit)
    removed = [sha for sha, entry in changes.items() if not entry.kept and sha in ours and ours[sha].kept]
    added = [sha for sha, entry in changes.items() if entry.kept and not (sha in ours and ours[sha].kept)]
    parents = [str(parent) for parent in old_commit.parent_ids]
    frontier = _frontier_after(
        repo,
        lambda: [sha for sha, entry in ours.items() if entry.kept],
        parents,
        added,
        removed,
        kept_known=True,
    )
    return _write_keep(repo, str(old_commit.tree_id), changes, frontier, "merged")


def keep_covers(repo: Repo, mine: str, theirs: str) -> bool:
    """Whether keep commit ``mine`` holds everything ``theirs`` holds, each kept or forgotten at least as
    late (so pushing it loses nothing)."""
    if mine == theirs:
        return True
    ours = _state(repo, mine)
    return all(sha in ours and not _wins(entry, ours[sha]) for sha, entry in _state(repo, theirs).items())


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


class _Entry:
    """One sha in a keep commit: its count (odd: kept, even: forgotten) and, when forgotten as
    rewritten, the commit that rewrote it."""

    __slots__ = ("count", "into")

    def __init__(self, count: int, into: str | None = None) -> None:
        self.count = count
        self.into = into

    @property
    def kept(self) -> bool:
        return self.count % 2 == 1

    def blob(self) -> bytes:
        """The file's content: empty for a first keep (so every kept sha shares one blob), else the count
        and, for a rewritten one, what rewrote it."""
        if self.count == 1:
            return b""
        return f"{self.count}{' ' + self.into if self.into else ''}\n".encode("ascii")

    @classmethod
    def parse(cls, data: bytes, kept: bool) -> _Entry:
        words = data.decode("ascii", errors="replace").split()
        try:
            count = int(words[0]) if words else (1 if kept else 2)
        except ValueError:
            count = 1 if kept else 2
        if count % 2 != (1 if kept else 0):  # a file in the wrong place: where it is decides
            count += 1
        into = words[1] if len(words) > 1 and re.fullmatch(r"[0-9a-f]{40,64}", words[1]) else None
        return cls(count, into)


def _wins(entry: _Entry, current: _Entry) -> bool:
    """Whether ``entry`` replaces ``current`` in a merge: the larger count; on a tie, a rewrite's
    ``into`` (then the larger sha), so every clone merges to the same lists."""
    if entry.count != current.count:
        return entry.count > current.count
    return (entry.into or "") > (current.into or "")


def _state(repo: Repo, keep: str) -> dict[str, _Entry]:
    """Every sha keep commit ``keep`` lists, kept or forgotten, with its entry."""
    import pygit2

    handle = repo.handle
    try:
        tree = handle[keep].peel(pygit2.Tree)
    except (KeyError, ValueError, pygit2.GitError) as e:
        raise GitCommandError(
            f"cannot read {KEEP_REF} ({keep[:12]}): {e}",
            hint="the repository may be damaged; run `git fsck`",
        ) from e
    blobs: dict[str, bytes] = {}
    found: dict[str, _Entry] = {}

    def read(folder: Any, kept: bool) -> None:
        for sub in folder:
            if sub.type_str != "tree" or len(sub.name) != 2:
                continue
            for item in handle[sub.id].peel(pygit2.Tree):
                key = str(item.id)
                if key not in blobs:
                    blobs[key] = handle[item.id].read_raw()
                found[sub.name + item.name] = _Entry.parse(blobs[key], kept)

    read(tree, True)
    if _FORGOTTEN_DIR in tree:
        read(handle[tree[_FORGOTTEN_DIR].id].peel(pygit2.Tree), False)
    return found


class _Objects:
    """Objects of the keep read with git (``git cat-file --batch``: one process for a whole batch), not
    libgit2: every run keeps what it committed, and a run must not pay pygit2's import (issue 19).
    Trees are parsed into ``name -> (mode, id)``; every answer is remembered."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._found: dict[str, tuple[str, str, bytes] | None] = {}

    def read(self, names: Iterable[str]) -> None:
        """Ask git for every one of ``names`` (object names: ``SHA``, ``SHA:path``) not asked before."""
        from gittree.gitio.objects import read_objects

        self._found.update(read_objects(self.repo, [name for name in names if name not in self._found]))

    def alias(self, name: str, known: str) -> None:
        """Remember the answer for ``known`` (read already) as the answer for ``name`` too."""
        self._found[name] = self._found[known]

    def get(self, name: str) -> tuple[str, str, bytes] | None:
        """``(id, type, content)`` of object ``name``, or None when git has no such object."""
        self.read([name])
        return self._found[name]

    def tree(self, name: str | None) -> dict[str, tuple[str, str]] | None:
        """The entries of tree ``name`` (``name -> (mode, id)``), or None when there is no such tree."""
        found = self.get(name) if name is not None else None
        if found is None or found[1] != "tree":
            return None
        data, size = found[2], len(found[0]) // 2
        entries: dict[str, tuple[str, str]] = {}
        at = 0
        while at < len(data):
            space = data.index(b" ", at)
            nul = data.index(b"\0", space)
            mode = data[at:space].decode("ascii")
            entries[data[space + 1 : nul].decode("utf-8", "surrogateescape")] = (
                mode,
                data[nul + 1 : nul + 1 + size].hex(),
            )
            at = nul + 1 + size
        return entries


def _read_keep(objects: _Objects, shas: Sequence[str]) -> str | None:
    """The keep commit the ref points at (None: no keep ref yet), read in one ``git cat-file --batch``
    with what a change about ``shas`` reads of it (its tree, the folders of ``shas``, kept and
    forgotten) and whether git has ``shas``: every run keeps its commit, and reading the ref, then the
    commit, then its folders cost three git processes (issue 19).

    The folders are asked for by the ref's name (``refs/gittree/keep:ab``) and remembered under the
    tree's own names only when the ref names the same commit at the end of the batch as at its start:
    a writer that moved it meanwhile is read again by :class:`_KeepView`, by the tree's id (and its
    keep makes this one's compare-and-swap fail anyway)."""
    prefixes = dict.fromkeys(sha[:2] for sha in shas)
    tree_name = KEEP_REF + "^{tree}"
    relative = [f"{KEEP_REF}:{_FORGOTTEN_DIR}"]
    relative += [f"{KEEP_REF}:{prefix}" for prefix in prefixes]
    relative += [f"{KEEP_REF}:{_FORGOTTEN_DIR}/{prefix}" for prefix in prefixes]
    closing = KEEP_REF + "^{commit}"
    objects.read([KEEP_REF, tree_name, *relative, *shas, closing])
    found = objects.get(KEEP_REF)
    if found is None:  # no keep ref yet; or one naming an object git lacks, which the view refuses
        return ref_object(objects.repo, KEEP_REF)
    commit = found[0]
    objects.alias(commit, KEEP_REF)
    again, tree = objects.get(closing), objects.get(tree_name)
    if found[1] == "commit" and again is not None and again[0] == commit and tree is not None:
        objects.alias(tree[0], tree_name)
        for name in relative:
            objects.alias(tree[0] + name[len(KEEP_REF) :], name)
    return commit


class _KeepView:
    """The keep commit a change is computed from (None: no keep ref yet)."""

    def __init__(self, repo: Repo, commit: str | None, objects: _Objects) -> None:
        self.repo = repo
        self.commit = commit
        self.objects = objects
        self.tree: str | None = None
        self.parents: list[str] = []
        if commit is not None:
            found = objects.get(commit)
            if found is None or found[1] != "commit":
                raise GitCommandError(
                    f"cannot read {KEEP_REF} ({commit[:12]}): not a commit",
                    hint="the repository may be damaged; run `git fsck`",
                )
            for line in found[2].split(b"\n"):
                if not line:
                    break
                if line.startswith(b"tree "):
                    self.tree = line[5:].decode("ascii").strip()
                elif line.startswith(b"parent "):
                    self.parents.append(line[7:].decode("ascii").strip())
        self._kept: list[str] | None = None

    def prepare(self, shas: Iterable[str]) -> None:
        """Read at once what questions about ``shas`` need: their folders, kept and forgotten, and
        whether git has them."""
        shas = list(shas)
        names = list(shas)
        if self.tree is not None:
            prefixes = dict.fromkeys(sha[:2] for sha in shas)
            names += [self.tree, f"{self.tree}:{_FORGOTTEN_DIR}"]  # what a write reads besides
            names += [f"{self.tree}:{prefix}" for prefix in prefixes]
            names += [f"{self.tree}:{_FORGOTTEN_DIR}/{prefix}" for prefix in prefixes]
        self.objects.read(names)

    def _item(self, sha: str, kept: bool) -> tuple[str, str] | None:
        if self.tree is None:
            return None
        folder = sha[:2] if kept else f"{_FORGOTTEN_DIR}/{sha[:2]}"
        listing = self.objects.tree(f"{self.tree}:{folder}")
        return listing.get(sha[2:]) if listing is not None else None

    def is_kept(self, sha: str) -> bool:
        return self._item(sha, kept=True) is not None

    def exists(self, sha: str) -> bool:
        return self.objects.get(sha) is not None

    @property
    def kept_read(self) -> bool:
        return self._kept is not None

    def kept(self) -> list[str]:
        if self._kept is None:
            self._kept = kept_shas(self.repo, self.commit) if self.commit is not None else []
        return self._kept

    def entry(self, sha: str, kept: bool) -> _Entry | None:
        item = self._item(sha, kept)
        if item is None:
            return None
        found = self.objects.get(item[1])
        return _Entry.parse(found[2] if found is not None else b"", kept)


class _Change:
    __slots__ = ("added", "into", "removed")

    def __init__(
        self,
        added: Sequence[str] = (),
        removed: Sequence[str] = (),
        into: dict[str, str] | None = None,
    ) -> None:
        self.added = list(added)
        self.removed = list(removed)
        self.into = into or {}


def _change_keep(
    repo: Repo,
    compute: Callable[[_KeepView], _Change],
    reason: str,
    env: dict[str, str] | None = None,
    shas: Sequence[str] = (),
) -> _Change:
    """Apply what ``compute`` decides from the current keep commit (shas to keep, shas to forget), by
    compare-and-swap on the ref, computing again from what another writer wrote when it won.
    ``shas``: those the change is about, whose folders are read with the keep commit itself."""
    for _ in range(_KEEP_ATTEMPTS):
        objects = _Objects(repo)
        old = _read_keep(objects, shas)
        view = _KeepView(repo, old, objects)
        change = compute(view)
        if not change.added and not change.removed:
            return change
        view.prepare([*change.added, *change.removed])
        entries: dict[str, _Entry] = {}
        for sha in change.added:  # kept again after a forget: one count more
            before = view.entry(sha, kept=False)
            entries[sha] = _Entry(before.count + 1 if before is not None else 1)
        for sha in change.removed:
            before = view.entry(sha, kept=True)
            entries[sha] = _Entry((before.count if before is not None else 1) + 1, change.into.get(sha))
        frontier = _frontier_grown_by_child(view, change)
        if frontier is None:
            frontier = _frontier_after(
                repo, view.kept, view.parents, change.added, change.removed, kept_known=view.kept_read
            )
        verb = "kept" if not change.removed else "rewrote" if change.into else "forgot"
        new = _write_keep(repo, view.tree, entries, frontier, verb, env, objects)
        if update_ref(repo, KEEP_REF, new, old, reason=reason):
            return change
    raise GitCommandError(
        f"could not update {KEEP_REF}: other gittree processes kept changing it",
        hint="run the command again once they are done",
    )


def _frontier_grown_by_child(view: _KeepView, change: _Change) -> list[str] | None:
    """The keep commit's parents after keeping one commit whose parents are all among them (a run's
    commit on the experiment kept before it), found without a walk; None for any other change.

    The frontier's commits descend from none of each other. Such a commit's ancestors are itself and
    its parents' ancestors: no other frontier commit is one of them (it would descend from a parent's
    ancestor, a frontier commit too), and none descends from it (it would descend from its parents).
    So its parents leave the frontier and it joins, the answer :func:`independent_commits` walks to
    (sorted the same way): one ``git rev-list`` less per run (issue 19)."""
    if change.removed or len(change.added) != 1:
        return None
    (sha,) = change.added
    found = view.objects.get(sha)  # read with the keep commit (whether git has it)
    if found is None or found[1] != "commit":
        return None
    parents = []
    for line in found[2].split(b"\n"):
        if not line:
            break
        if line.startswith(b"parent "):
            parents.append(line[7:].decode("ascii").strip())
    if not parents or not set(parents) <= set(view.parents):
        return None
    return sorted([parent for parent in view.parents if parent not in parents] + [sha])


def _frontier_after(
    repo: Repo,
    kept: Callable[[], Iterable[str]],
    frontier: Sequence[str],
    added: Sequence[str],
    removed: Sequence[str],
    *,
    kept_known: bool = False,
) -> list[str]:
    """The keep commit's parents once ``added`` are kept and ``removed`` forgotten.

    Only a removed commit that was a parent can leave kept commits unreachable. When the kept list is
    already in hand (``kept_known``: forget, merge), the frontier is taken from all of it in one walk;
    otherwise (an amend followed) those only a lost parent reached are found by one walk bounded by the
    rest of the frontier, so the list of every kept sha is read only when there are some.
    """
    gone = set(removed)
    staying = [sha for sha in frontier if sha not in gone]
    lost = [sha for sha in frontier if sha in gone]
    candidates = staying + [sha for sha in added if sha not in gone]
    if lost and kept_known:
        return independent_commits(repo, [sha for sha in kept() if sha not in gone] + candidates)
    if lost:
        orphans = commits_only_from(repo, lost, candidates)
        if orphans:
            candidates += sorted((orphans & set(kept())) - gone)
    return independent_commits(repo, candidates)


def _write_keep(
    repo: Repo,
    old_tree: str | None,
    entries: dict[str, _Entry],
    frontier: Sequence[str],
    verb: str,
    env: dict[str, str] | None = None,
    objects: _Objects | None = None,
) -> str:
    """Write the keep commit: tree ``old_tree`` with each of ``entries`` listed where its count says (kept
    at the root, forgotten under ``forgotten/``) and nowhere else, its parents ``frontier``.

    With git's plumbing (``hash-object``, ``mktree``, ``commit-tree``), not libgit2, so that a run
    never imports pygit2 (issue 19); only the folders of ``entries`` and the roots are rewritten."""
    objects = objects or _Objects(repo)
    blobs: dict[bytes, str] = {}
    # Written even when git has it: in a partial clone, asking for it (or leaving it to mktree) would
    # fetch it from the promisor remote; writing it is local.
    for data in sorted({entry.blob() for entry in entries.values()}):
        blobs[data] = run(
            ["hash-object", "-w", "--stdin"], cwd=repo.git_dir, input=data, check=True
        ).text.strip()

    # (kept?, prefix) -> {name: blob id, or None to remove}
    changes: dict[tuple[bool, str], dict[str, str | None]] = {}
    for sha, entry in entries.items():
        prefix, name = sha[:2], sha[2:]
        changes.setdefault((entry.kept, prefix), {})[name] = blobs[entry.blob()]
        changes.setdefault((not entry.kept, prefix), {}).setdefault(name, None)
    if old_tree is not None:
        names = [old_tree, f"{old_tree}:{_FORGOTTEN_DIR}"]
        names += [
            f"{old_tree}:{_FORGOTTEN_DIR + '/' if not kept else ''}{prefix}" for kept, prefix in changes
        ]
        objects.read(names)

    writer = _TreeWriter(repo)
    try:
        tree = _write_keep_tree(objects, writer, old_tree, changes)
        writer.close()
    finally:
        writer.abandon()  # an error above: git stopped
    count = sum(1 for entry in entries.values() if entry.kept == (verb == "kept")) or len(entries)
    message = f"gittree keep: {verb} {count} experiment{'s' if count != 1 else ''}\n"
    args = ["-c", "i18n.commitEncoding=UTF-8", "commit-tree", "--no-gpg-sign", tree]
    for parent in frontier:
        args += ["-p", parent]
    # commit-tree reads the message from stdin as it is (``-m`` would add a newline)
    done = run(args, cwd=repo.git_dir, input=message, env=_committer(repo, env), check=True)
    return done.text.strip()


def _write_keep_tree(
    objects: _Objects,
    writer: _TreeWriter,
    old_tree: str | None,
    changes: dict[tuple[bool, str], dict[str, str | None]],
) -> str:
    """The keep commit's new tree: ``old_tree`` with ``changes`` (``(kept?, prefix) -> {name: blob id, or
    None to remove}``) applied, only the changed folders and the roots rewritten."""

    def rewrite(
        base: str | None, folder_changes: dict[str, dict[str, str | None]]
    ) -> dict[str, tuple[str, str]]:
        root = dict(objects.tree(base) or {}) if base is not None else {}
        subs: dict[str, dict[str, tuple[str, str]]] = {}
        for prefix, items in sorted(folder_changes.items()):
            sub = dict(objects.tree(f"{base}:{prefix}") or {}) if base is not None and prefix in root else {}
            for name, blob in items.items():
                if blob is not None:
                    sub[name] = ("100644", blob)
                else:
                    sub.pop(name, None)
            if sub:
                subs[prefix] = sub
            else:
                root.pop(prefix, None)
        for prefix, oid in zip(subs, writer.trees(list(subs.values())), strict=True):
            root[prefix] = ("40000", oid)
        return root

    kept_changes = {prefix: items for (kept, prefix), items in changes.items() if kept}
    forgotten_changes = {prefix: items for (kept, prefix), items in changes.items() if not kept}
    root = rewrite(old_tree, kept_changes)
    if forgotten_changes:
        forgotten_base = (
            f"{old_tree}:{_FORGOTTEN_DIR}" if old_tree is not None and _FORGOTTEN_DIR in root else None
        )
        forgotten = rewrite(forgotten_base, forgotten_changes)
        if forgotten:
            root[_FORGOTTEN_DIR] = ("40000", writer.tree(forgotten))
        else:
            root.pop(_FORGOTTEN_DIR, None)
    return writer.tree(root)


class _TreeWriter:
    """Trees written by one ``git mktree -z --batch`` kept open: a keep writes the changed folders, then
    the root holding their ids (and ``forgotten/`` between), which was a process each (issue 19). git
    answers each tree's id as soon as the empty record ending it arrives (it flushes every answer)."""

    ARGS = ("mktree", "-z", "--batch")

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.process: Any = None

    def trees(self, trees: Sequence[dict[str, tuple[str, str]]]) -> list[str]:
        """Write every one of ``trees`` (``name -> (mode, id)``, empty too; git sorts them); their ids."""
        if not trees:
            return []
        import subprocess

        if self.process is None:
            self.process = popen(
                list(self.ARGS), cwd=self.repo.git_dir, stdin=subprocess.PIPE, stderr=subprocess.PIPE
            )
        data = b"".join(_tree_input(entries) + b"\0" for entries in trees)  # an empty record ends a tree
        ids: list[str] = []
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
            for _ in trees:
                line = self.process.stdout.readline().decode("ascii", "replace").strip()
                if not line:
                    break
                ids.append(line)
        except BrokenPipeError:
            pass  # git stopped: its status and message say why
        if len(ids) != len(trees):
            self._failed(f"git mktree wrote {len(ids)} trees of {len(trees)}")
        return ids

    def tree(self, entries: dict[str, tuple[str, str]]) -> str:
        return self.trees([entries])[0]

    def close(self) -> None:
        """Let git finish (its input ends); an error if it failed."""
        if self.process is None:
            return
        process, self.process = self.process, None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        err = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
        if process.wait() != 0:
            said = err.decode("utf-8", "replace").strip() or f"exit status {process.returncode}"
            raise GitCommandError(
                f"git mktree failed: {said}", hint="fix what git reports above and run the command again"
            )

    def _failed(self, fallback: str) -> None:
        process, self.process = self.process, None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        err = process.stderr.read().decode("utf-8", "replace").strip()
        process.stdout.close()
        process.stderr.close()
        process.wait()
        if err:
            raise GitCommandError(
                f"git mktree failed: {err}", hint="fix what git reports above and run the command again"
            )
        raise GitCommandError(fallback, hint="run `git fsck`, then try again")

    def abandon(self) -> None:
        """Stop git after an error elsewhere (nothing it wrote is referenced)."""
        if self.process is not None:
            process, self.process = self.process, None
            with contextlib.suppress(OSError):
                process.stdin.close()
            process.kill()
            process.wait()
            process.stdout.close()
            process.stderr.close()


def _tree_input(entries: dict[str, tuple[str, str]]) -> bytes:
    lines = "".join(
        f"{mode} {'tree' if mode == '40000' else 'blob'} {oid}\t{name}\0"
        for name, (mode, oid) in entries.items()
    )
    return lines.encode("utf-8", "surrogateescape")


def _committer(repo: Repo, env: dict[str, str] | None) -> dict[str, str]:
    """Who writes a keep commit, as environment variables for ``git commit-tree`` (author and committer):
    the user's committer identity as git resolves it (environment, then configuration, as ``git notes``
    does), else ``gittree <gittree@localhost>``."""
    import time

    done = run(["var", "GIT_COMMITTER_IDENT"], cwd=repo.cwd, env=env)
    ident = re.fullmatch(r"(.*) <(.*)> (\d+) ([+-]\d\d\d\d)\s*", done.text) if done.code == 0 else None
    if ident is None:
        name, email, date = *_KEEP_IDENTITY, f"@{int(time.time())} +0000"
    else:
        name, email, when, offset = ident.groups()
        date = f"@{when} {offset}"
    who = {**(env or {})}
    for role in ("AUTHOR", "COMMITTER"):
        who |= {f"GIT_{role}_NAME": name, f"GIT_{role}_EMAIL": email, f"GIT_{role}_DATE": date}
    return who
