"""Reading the research tree of a repository: the one path every view (show, render, best, ...) takes.

The read is built for 100k experiments (issue 6, docs/performance.md):

1. ``gitio.list_refs`` lists HEAD and every ref with one ``git show-ref``;
2. with nothing cached, every commit is read at once by two git processes (``gitio.stream_commits``);
   otherwise the walk from the tips looks each commit up in the cache (:mod:`gittree.read.cache`, by
   commit id) and reads only the others, as raw objects, in-process; trailers are parsed once and cached;
3. ``tree.build_tree`` builds the tree from the records;
4. :func:`view` serves a finished view from the cache when none of its inputs changed (the tips,
   HEAD, the notes, the shallow boundary, ``.gittree.yaml``, the options), else renders and stores it;
   a view of every ref is keyed by the very bytes of the ref listing, so a warm start parses nothing.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence

from gittree import gitio
from gittree.errors import BadValueError, ConfigError, GitCommandError, NoExperimentsError
from gittree.read import cache
from gittree.repoconfig import repo_config as repo_config

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:  # the model, the tree builder and its parsers are imported only when a view is not cached
    from typing import Any

    from gittree.config import Config
    from gittree.model import CommitRecord, History, Node, ResearchTree
    from gittree.read.viewpatch import RenderedJson
    from gittree.trailers import ExperimentRecord
    from gittree.tree import Seed


# A plain class, here rather than in a module of its own: the cached-view start-up pays neither for
# ``dataclasses`` (about 14 ms, see gitio.Repo) nor for finding one more module (about half a millisecond).
class Selection:
    """Which experiments a tree holds, and the metric that judges them; frozen, compared by value.

    ``revs``: start from these commits instead of the scope (every local branch and gittree's refs
    plus HEAD; ``all_refs``: every ref); ``within_scope``: ``revs`` are added to the scope rather than
    narrowing it (``path``, ``diff``). ``metric``: the metric that judges (default: the configured one).
    ``limit``: only the ``limit`` newest experiments; ``since``: only commits committed at or after
    this Unix time (neither reads older history). ``branches``: globs of branches (local and
    remote-tracking) to start from, instead of HEAD; ``author``: only that author's experiments (any
    case, within name or email) and their ancestors.
    """

    __slots__ = ("all_refs", "author", "branches", "limit", "metric", "revs", "since", "within_scope")

    revs: tuple[str, ...]
    all_refs: bool
    within_scope: bool
    metric: str | None
    limit: int | None
    since: int | None
    branches: tuple[str, ...]
    author: str | None

    def __init__(
        self,
        revs: Iterable[str] = (),
        *,
        all_refs: bool = False,
        within_scope: bool = False,
        metric: str | None = None,
        limit: int | None = None,
        since: int | None = None,
        branches: Iterable[str] = (),
        author: str | None = None,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "revs", tuple(revs))
        setattr_(self, "all_refs", all_refs)
        setattr_(self, "within_scope", within_scope)
        setattr_(self, "metric", metric)
        setattr_(self, "limit", limit)
        setattr_(self, "since", since)
        setattr_(self, "branches", tuple(branches))
        setattr_(self, "author", author)

    def with_revs(self, revs: Iterable[str]) -> Selection:
        """The same selection starting from ``revs`` instead."""
        return Selection(
            revs,
            all_refs=self.all_refs,
            within_scope=self.within_scope,
            metric=self.metric,
            limit=self.limit,
            since=self.since,
            branches=self.branches,
            author=self.author,
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Selection is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Selection is frozen: cannot delete {name!r}")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Selection):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Selection({shown})"


#: Called now and then during a long read with the number of commits read so far.
Progress = Callable[[int], None]
PROGRESS_EVERY = 4096

#: The selection of no option: the scope (every local branch and gittree's refs plus HEAD).
_EVERY = Selection()


def load_tree(
    repo: gitio.Repo,
    selection: Selection | None = None,
    *,
    config: Config | None = None,
    require_experiments: bool = True,
    progress: Progress | None = None,
    rewrites: dict[str, str] | None = None,
) -> ResearchTree:
    """The research tree ``selection`` selects (:class:`gittree.read.Selection`; default: every local
    branch and gittree's refs plus HEAD, docs/tree.md).

    ``rewrites``, when given, is filled with each earlier version of a rewritten experiment the tree left
    out and the version it shows instead (``gittree kept``, ``forget --rewritten``).

    ``selection.limit``: only the ``limit`` newest experiments (by committer date), read newest first;
    the walk stops there. ``selection.since``: only commits committed at or after this Unix time; the
    walk does not go below older ones. An experiment whose parent falls outside is drawn as a root.
    """
    chosen = selection or _EVERY
    refs = gitio.read_refs(repo)
    _warn_late_results(repo, refs, lambda: (config or repo_config(repo)).sync_branches)
    tips = _tips(repo, chosen, refs)
    tree = _build(repo, tips, refs, config, chosen, progress, rewrites)
    _check(tree, chosen.metric, require_experiments)
    return by_author(tree, chosen.author) if chosen.author is not None and tree.nodes else tree


def _warn_late_results(repo: gitio.Repo, refs: gitio.RefState, patterns: Callable[[], Sequence[str]]) -> None:
    """Every view's one notice about late results a remote holds and this clone does not (docs/teams.md)."""
    from gittree.read.latenotes import warn_if_missing

    warn_if_missing(repo, refs, patterns)


def _tips(repo: gitio.Repo, selection: Selection, refs: gitio.RefState) -> list[str]:
    revs, all_refs, branches = selection.revs, selection.all_refs, selection.branches
    if not branches:
        return gitio.tip_shas(repo, revs, all_refs=all_refs, refs=refs, within_scope=selection.within_scope)
    tips = gitio.branch_tips(repo, branches, refs=refs)
    if revs or all_refs:
        tips += gitio.tip_shas(repo, revs, all_refs=all_refs, refs=refs)
    return list(dict.fromkeys(tips))


def _build(
    repo: gitio.Repo,
    tips: Sequence[str],
    refs: gitio.RefState,
    config: Config | None,
    selection: Selection,
    progress: Progress | None,
    rewrites: dict[str, str] | None = None,
    later: list[Callable[[], None]] | None = None,
) -> ResearchTree:
    """The tree of ``tips``: grown from the stored seed of its scope when it can be, else built whole
    (and the seed stored). ``later``: where to leave the storing of the seed, for a view to do once it
    has printed (it does not delay the first line); by default it is done here."""
    from gittree.model import author_identity
    from gittree.tree import build_seeded, build_tree_of

    config = config or repo_config(repo)
    tips, kept_only, rewritten = _kept(repo, tips, refs)
    limit, since = selection.limit, selection.since
    whole = selection.all_refs and not selection.revs
    scope = _seeded_scope(repo, selection)
    with bulk_building():
        discarded: frozenset[str] | None = None
        if scope is not None and rewrites is None and cache.SeedStore(repo.shared_dir, scope).exists():
            discarded = kept_only()  # the seed remembers the dead ends: growing needs them first
            grown = _grow(repo, scope, tips, refs, discarded, rewritten, config, selection.metric, later)
            if grown is not None:
                return grown
        try:
            history = read_history(repo, tips, refs, limit=limit, since=since, progress=progress, whole=whole)
        except BaseException:
            if discarded is None:
                kept_only()  # git's walk is waited for, not left behind
            raise
        if discarded is None:
            discarded = kept_only()
        disguised: list[tuple[str, str, int, int]] = []
        kept = _kept_key(discarded, disguised, rewritten)
        if discarded:
            disguised = [author_identity(commit) for commit in history.commits if commit.sha in discarded]
            kept = _kept_key(discarded, disguised, rewritten)
            discarded = _replace_rewritten(history, discarded, rewritten, rewrites)
        if scope is None:
            tree = build_tree_of(
                history, config=config, metric=selection.metric, head=refs.head, discarded=discarded
            )
            tree.kept_identities = frozenset(disguised)
            return tree
        tree, seed = build_seeded(
            history, config=config, metric=selection.metric, head=refs.head, discarded=discarded, tips=tips
        )
        tree.kept_identities = frozenset(disguised)
        left_out = dict(tree.left_out)
        _later(later, lambda: _save_seed(repo, scope, seed, tips, refs, kept, left_out))
        return tree


def _later(later: list[Callable[[], None]] | None, step: Callable[[], None]) -> None:
    if later is None:
        step()
    else:
        later.append(step)


# -- growing the last view's tree (issue 19) ---------------------------------------------------------


def _seeded_scope(repo: gitio.Repo, selection: Selection) -> str | None:
    """The name of the stored seed a selection's tree grows from: the scope (``scope``) or every ref
    (``all``), and for a linked worktree the worktree (each has its own HEAD: two taking turns would
    otherwise never find the seed the other left); None for a view of named revisions or branches,
    or a window (``--limit``/``--since``), which are built whole every time (docs/performance.md,
    "Growing the last tree")."""
    if selection.revs or selection.branches or selection.limit is not None or selection.since is not None:
        return None
    scope = "all" if selection.all_refs else "scope"
    if repo.git_dir != repo.shared_dir:
        import zlib

        scope += f"-{zlib.crc32(str(repo.git_dir).encode()):08x}"
    return scope


def _kept_key(
    discarded: frozenset[str], disguised: Sequence[tuple[str, str, int, int]], rewritten: dict[str, str]
) -> tuple[Any, ...]:
    """What the stored seed remembers of the keep ref's dead ends and rewrites (:func:`_same_kept`)."""
    return (tuple(sorted(discarded)), tuple(sorted(set(disguised))), tuple(sorted(rewritten.items())))


def _save_seed(
    repo: gitio.Repo,
    scope: str,
    seed: Seed,
    tips: Sequence[str],
    refs: gitio.RefState,
    kept: tuple[Any, ...],
    left_out: dict[str, int],
    store: cache.SeedStore | None = None,
    changed: Sequence[str] | None = None,
) -> None:
    """Store what the next view of ``scope`` grows from: the seed, and the inputs it was built from."""
    from gittree.tree import frontier_rows, seed_rows

    if not cache.enabled() or gitio.shallow_boundary(repo):
        return
    meta = {
        "tips": tuple(tips),
        "head": refs.head,
        "notes": refs.target(gitio.NOTES_REF),
        "kept": kept,
        "frontiers": frontier_rows(seed),
        "evaluated": seed.evaluated,
        "left_out": left_out,
    }
    if store is None or changed is None:
        cache.SeedStore(repo.shared_dir, scope).save_base(meta, seed_rows(seed))
    else:
        store.save_grown(meta, list(seed_rows(seed, changed)), lambda: seed_rows(seed))


def _grow(
    repo: gitio.Repo,
    scope: str,
    tips: Sequence[str],
    refs: gitio.RefState,
    discarded: frozenset[str],
    rewritten: dict[str, str],
    config: Config,
    metric: str | None,
    later: list[Callable[[], None]] | None = None,
) -> ResearchTree | None:
    """The tree of ``tips`` grown from the stored seed of the last view of ``scope``: only the commits
    and notes new since are read. None when it cannot be grown (nothing stored, or a change other than
    new commits on top and new notes on experiments: then the tree is built whole).

    The last tree's commits must all still be in this one: every old tip is a tip now or a parent of
    a new commit (``git rev-list NEW --not OLD`` lists the new ones). A new commit's experiment parents
    depend only on the commits below it, so the old nodes stand as they are; a changed note changes
    its own experiment's facts, unless it changes the tree's shape (:func:`gittree.tree.renote`).
    """
    from gittree.model import CommitRecord, author_identity
    from gittree.tree import REVERT_WORDS, experiment_of, grow_tree, renote, seed_of_rows

    store = cache.SeedStore(repo.shared_dir, scope)
    loaded = store.load()
    if loaded is None or gitio.shallow_boundary(repo):
        return None
    meta, rows = loaded
    del loaded  # the rows are let go once the seed's nodes are made from them (peak memory at 100k)
    old_tips: tuple[str, ...] = meta["tips"]
    old = set(old_tips)
    fresh = [tip for tip in tips if tip not in old]
    new: list[tuple[str, gitio.CommitFacts]] = []
    if fresh:
        try:
            new = gitio.new_commits(repo, [*fresh, *(f"^{tip}" for tip in old_tips)])
        except GitCommandError:
            return None
    added = {sha for sha, _ in new}
    below = {parent for _, facts in new for parent in facts[0] if parent not in added}
    if not old <= below.union(tip for tip in tips if tip not in added):
        return None  # a tip moved back or away (reset, amend, rebase, a deleted branch): build whole
    notes = _notes(repo, refs)
    try:
        renoted = gitio.notes_changed(repo, meta["notes"], refs.target(gitio.NOTES_REF))
    except GitCommandError:
        return None
    commits = [gitio.commit_record(sha, facts, note=notes.get(sha)) for sha, facts in new]
    grown_kept = _kept_grown(meta["kept"], discarded, rewritten, commits)
    if grown_kept is None:
        return None
    kept, fresh_identities, died = grown_kept
    if any(REVERT_WORDS in commit.message for commit in commits):
        return None  # a revert may take back an experiment below it (docs/tree.md): build whole
    seed = seed_of_rows(rows, meta["frontiers"], meta.get("evaluated"))
    del rows
    if died:
        with_died = _died_leaves(seed, died, kept, fresh_identities)
        if with_died is None:
            return None
        kept = with_died
        if any(
            author_identity(commit) in fresh_identities for commit in commits if commit.sha not in discarded
        ):
            return None  # a new commit may be its next version (an amend): a whole build hides it
    if fresh_identities and _may_be_rewrites(seed.nodes.values(), discarded, fresh_identities):
        return None
    changed: list[str] = sorted(died)  # their verdicts are made again (a dead end's)
    disguised = set(meta["kept"][1])
    for sha in renoted:
        note = notes.get(sha)
        if sha in added:
            continue
        if sha in seed.nodes:
            if author_identity(seed.nodes[sha]) in disguised:
                return None  # its results decide whether a dead end is its earlier version: build whole
            if not renote(seed, sha, note):
                return None
            changed.append(sha)
        elif sha in discarded:
            return None  # an earlier version a whole build hid: its note decides whether it still is
        elif note is not None and experiment_of(CommitRecord(sha, (), "", note=note)) is not None:
            return None  # an ordinary commit may become an experiment: the tree changes shape
    # Where the new commits start from: each ordinary commit they build on needs its frontier.
    known = seed.nodes.keys() | seed.frontiers.keys()
    if not below <= known or (refs.head is not None and refs.head not in known and refs.head not in added):
        return None
    before = len(seed.nodes)
    tree, grown = grow_tree(
        seed, commits, config=config, metric=metric, head=refs.head, discarded=discarded, tips=tips
    )
    # The new nodes come last, parents first, as the next load must list them (renoted ones kept their place).
    changed += list(grown.nodes)[before:]
    # and the old nodes whose stored evaluation changed (a note changed one of their ancestors)
    changed += sorted(grown.reevaluated.difference(changed))
    left_out = meta.get("left_out", {})
    tree.left_out.update(left_out)  # what the whole build's read left out (rewritten experiments)
    tree.kept_identities = frozenset(kept[1])
    _later(later, lambda: _save_seed(repo, scope, grown, tips, refs, kept, left_out, store, changed))
    return tree


def _kept_grown(
    kept: tuple[Any, ...],
    discarded: frozenset[str],
    rewritten: dict[str, str],
    commits: Sequence[CommitRecord],
) -> tuple[tuple[Any, ...], set[tuple[str, str, int, int]], set[str]] | None:
    """What the seed remembers of the keep ref's dead ends now (:func:`_kept_key`), the identities of the
    new ones that are new commits, and the old commits that are dead ends now, when the tree can grow
    with them: the stored dead ends are all still dead ends, the rewrites recorded are the same, and no
    live new commit may be a rewrite of a dead end (which :func:`_replace_rewritten` would hide). New
    dead ends are a try committed by gittree and reset away before this view, or one this view saw
    on its branch and that was reset away since (the agent loop of docs/guide.md); the old ones are
    checked once the seed is loaded (:func:`_died_leaves`, :func:`_may_be_rewrites`). None: built
    whole (a dead end back to life, a rewrite)."""
    from gittree.model import author_identity

    stored_discarded, disguised, stored_rewritten = kept
    if stored_rewritten != tuple(sorted(rewritten.items())):
        return None
    stored = frozenset(stored_discarded)
    if not stored <= discarded:
        return None
    by_sha = {commit.sha: commit for commit in commits}
    fresh = discarded - stored
    if not fresh.isdisjoint(rewritten):
        return None  # git said what it became
    fresh_identities = {author_identity(by_sha[sha]) for sha in fresh if sha in by_sha}
    identities = fresh_identities.union(disguised)
    if any(author_identity(commit) in identities for commit in commits if commit.sha not in discarded):
        return None
    died = {sha for sha in fresh if sha not in by_sha}
    return _kept_key(discarded, list(identities), rewritten), fresh_identities, died


def _died_leaves(
    seed: Seed, died: set[str], kept: tuple[Any, ...], identities: set[tuple[str, str, int, int]]
) -> tuple[Any, ...] | None:
    """The seed's experiments in ``died`` (reached by a branch at the last view, by the keep ref alone
    now: a try reset away after that view) become dead ends in place when each is a leaf: nothing
    above it is judged against it. Adds their identities to ``identities`` and to ``kept``'s; None
    (built whole) when one has an experiment above it or is not an experiment."""
    from gittree.model import author_identity

    nodes = seed.nodes
    if not died <= nodes.keys():
        return None
    if any(not died.isdisjoint(node.parents) for node in nodes.values()):
        return None
    discarded, disguised, rewritten = kept
    for sha in died:
        node = nodes[sha]
        identity = author_identity(node)
        if identity in disguised:
            return None  # it may have hidden a dead end as its earlier version, which shows again now
        identities.add(identity)
        seed.unsettled.add(sha)  # its evaluation is made again: a dead end's verdict
    return (discarded, tuple(sorted(identities.union(disguised))), rewritten)


def _may_be_rewrites(nodes: Iterable[Node], discarded: frozenset[str], identities: set[Any]) -> bool:
    """Whether a live experiment of the seed has the author and author date of a dead end: the dead end
    may be its version before a rewrite, which a whole build hides (:func:`_replace_rewritten`)."""
    from gittree.model import author_identity

    return any(node.sha not in discarded and author_identity(node) in identities for node in nodes)


#: The refs whose commits are live work: a kept commit none of them (nor HEAD) reaches is discarded.
_LIVE_REF_PREFIXES = ("refs/heads/", "refs/remotes/", "refs/tags/")


def _kept(
    repo: gitio.Repo, tips: Sequence[str], refs: gitio.RefState
) -> tuple[list[str], Callable[[], frozenset[str]], dict[str, str]]:
    """The tips to walk, the commits only gittree's own refs reach (the discarded ones; docs/tree.md), and
    what the keep ref says was rewritten into what (amend, rebase: the post-rewrite hook).

    A keep commit (``refs/gittree/keep``) is never walked itself: its parents are tips instead. A
    remote's keep commit (fetched, not yet merged by ``gittree sync``) is read the same way, less what
    this clone forgot: a forget is not undone by a fetch (docs/teams.md). Nothing is asked of git unless
    a tip is one of gittree's refs that no branch, tag or HEAD points at, or a commit named on the
    command line that no ref points at. The discarded commits are
    given by a function: git finds them while the history is read (a walk from every branch, on a
    second core), and the function waits for its answer.
    """
    own: set[str] = set()
    keeps: set[str] = set()
    live: set[str] = {refs.head} if refs.head else set()
    for name, sha in refs.refs:
        if name.startswith((gitio.GITTREE_REF_PREFIX, gitio.GITTREE_REMOTE_REF_PREFIX)):
            own.add(sha)
            if gitio.is_keep_ref(name):
                keeps.add(sha)
        elif not name.endswith("^{}"):
            live.add(sha)
    kept = [tip for tip in tips if tip in own and tip not in live]
    # Commits named on the command line that no ref points at (a sha, HEAD~3): what only they reach, no
    # branch, tag or HEAD, is discarded too ("in every view, whatever its scope"). Named, a deleted
    # branch's experiment was drawn live and could be the ★ best of `show REV`, `best REV`, `path REV`.
    named = [tip for tip in tips if tip not in own and tip not in live]
    if not kept and not named:
        return list(tips), frozenset, {}
    local = refs.target(gitio.KEEP_REF)
    forgotten: dict[str, str | None] = {}
    if local is not None and local in kept:
        try:
            forgotten = gitio.forgotten_shas(repo, local)
        except GitCommandError:
            forgotten = {}
    walked = [tip for tip in tips if tip not in keeps]
    frontier = [
        parent
        for keep in kept
        if keep in keeps
        for parent in gitio.keep_frontier(repo, keep)
        if keep == local or parent not in forgotten
    ]
    walked = list(dict.fromkeys(walked + frontier))
    starts = [tip for tip in kept if tip not in keeps] + frontier + named
    # Discarded is what nothing else reaches, in the scope or not (as `gittree kept` says): a teammate's
    # experiment that the merged keep ref brings is live on their remote-tracking branch, not a dead end.
    heads = [refs.head] if refs.head else []  # a detached HEAD reaches live work too
    living = list(dict.fromkeys(heads + [tip for tip in tips if tip in live] + refs.tips(_LIVE_REF_PREFIXES)))
    rewritten = {old: new for old, new in forgotten.items() if new is not None}
    try:
        walking = gitio.start_commits_only_from(repo, starts, living)
    except GitCommandError:
        return walked, frozenset, rewritten

    def discarded() -> frozenset[str]:
        try:
            return frozenset(walking())
        except GitCommandError:
            # A kept commit this clone lacks (a shallow or partial clone): the view is still drawn, with
            # nothing marked discarded, rather than refused.
            return frozenset()

    return walked, discarded, rewritten


def _replace_rewritten(
    history: History,
    discarded: frozenset[str],
    rewritten: dict[str, str] | None = None,
    replacements: dict[str, str] | None = None,
) -> frozenset[str]:
    """Drop from ``history`` each discarded commit that a reachable one rewrote (amend, rebase, reword).

    ``rewritten`` is what git said (the post-rewrite hook recorded each kept commit's rewrite in the keep
    ref): a discarded commit listed there is replaced by its last version when the history holds it.
    Without it (no hook, or a commit git rewrote before it was installed), git keeps a commit's author
    and author date through every rewrite, its message unless edited, and notes.rewriteRef carries its
    gittree note: a discarded experiment with the same author and author date as a reachable one, whose
    results or message that one carried over (:func:`gittree.read.rewrites.carried_over`), is that
    experiment before it was rewritten, so it is not shown twice; and a discarded experiment on such an
    earlier version, whose message and note the rewritten one holds, was squashed into it
    (:func:`gittree.read.rewrites.folded_into`). Either way its kept children hang from the rewritten
    version. Returns the discarded commits left.
    """
    from gittree.model import author_identity
    from gittree.read.rewrites import carried_over

    parsed = history.parsed
    said = rewritten or {}
    present = {commit.sha for commit in history.commits}
    replaced: dict[str, str] = {}
    for earlier in said:
        if earlier not in discarded or earlier not in present:
            continue
        versions, at = [], earlier
        while at in said and said[at] not in versions and said[at] != earlier:  # amended, then rebased...
            at = said[at]
            versions.append(at)
        shown = [sha for sha in versions if sha in present]
        if shown:
            replaced[earlier] = shown[-1]

    candidates: dict[tuple[str, str, int, int], list[CommitRecord]] = {}
    for commit in history.commits:
        if commit.sha in discarded and commit.sha not in replaced:
            candidates.setdefault(author_identity(commit), []).append(commit)
    by_sha: dict[str, CommitRecord] = {}
    for commit in history.commits:
        if commit.sha in discarded or author_identity(commit) not in candidates:
            continue
        for old in candidates[author_identity(commit)]:  # every earlier version: amended, then rebased...
            if old.sha not in replaced and carried_over(old, commit, parsed):
                replaced[old.sha] = commit.sha
                by_sha[commit.sha] = commit
    if replaced:
        _replace_squashed(history, discarded, replaced, by_sha)
    if not replaced:
        return discarded
    from dataclasses import replace

    for version, newer in replaced.items():  # a version replaced in turn: to the last one shown
        seen = {version}
        while newer in replaced and newer not in seen:
            seen.add(newer)
            newer = replaced[newer]
        replaced[version] = newer
    if replacements is not None:
        replacements.update(replaced)

    commits = []
    for commit in history.commits:
        if commit.sha in replaced:
            continue
        if any(parent in replaced for parent in commit.parents):
            parents = tuple(dict.fromkeys(replaced.get(parent, parent) for parent in commit.parents))
            commit = replace(commit, parents=parents)
        commits.append(commit)
    history.commits[:] = commits
    history.left_out["rewritten"] = len(replaced)
    return discarded - replaced.keys()


def _replace_squashed(
    history: History, discarded: frozenset[str], replaced: dict[str, str], shown: dict[str, CommitRecord]
) -> None:
    """Add to ``replaced`` each discarded commit squashed into the version an earlier one was replaced
    by (``pick A``, ``squash B``: B, on A, has its own author date): B's one parent is replaced, and
    B's message and note are found in that version's (:func:`gittree.read.rewrites.folded_into`).
    ``shown``: the versions shown, by sha, of those replaced so far (not by what git said)."""
    from gittree.read.rewrites import folded_into

    parsed = history.parsed
    waiting = [
        commit
        for commit in history.commits
        if commit.sha in discarded and commit.sha not in replaced and len(commit.parents) == 1
    ]
    found = True
    while found and waiting:  # a squash of three: C on B on A, each found once its parent is
        found, left = False, []
        for commit in waiting:
            newer = shown.get(replaced.get(commit.parents[0], ""))
            if newer is not None and folded_into(commit, newer, parsed):
                replaced[commit.sha] = newer.sha
                found = True
            else:
                left.append(commit)
        waiting = left


@contextlib.contextmanager
def bulk_building() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a big tree is read, built or rendered.

    Each of those creates hundreds of thousands of objects that stay alive; every few hundred
    allocations the collector runs, and its older generations walk every live object again. That
    was a third of building a 100k-commit tree (docs/performance.md). Nothing made here forms a
    reference cycle (nodes name each other by sha), so nothing needs the collector to be freed.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            if gc.get_count()[0] > FREEZE_AFTER:
                # What was made here is moved out of the collector's sight, or its first pass
                # afterwards would walk it all once more. It is still freed, by reference counting,
                # when dropped; only a reference cycle made meanwhile would outlive its use.
                gc.freeze()
            gc.enable()


#: Objects made inside :func:`bulk_building` above which they are frozen rather than handed back to
#: the collector: a grown 10k tree makes ~150k, whose first pass of the collector took ~15 ms.
FREEZE_AFTER = 10_000


def _check(tree: ResearchTree, metric: str | None, require_experiments: bool = True) -> None:
    if require_experiments and not tree.nodes:
        raise NoExperimentsError(
            "no experiments yet: no commit in this history has a Gittree-* trailer",
            hint="record one with: gittree commit -m 'baseline' --metric acc=0.5 (or try `gittree demo`)",
        )
    if metric and tree.nodes and metric not in tree.metric_names:
        known = ", ".join(tree.metric_names) or "none"
        raise BadValueError(f"no experiment records the metric '{metric}'", hint=f"recorded metrics: {known}")
    if not metric and tree.metric and tree.nodes and tree.metric.name not in tree.metric_names:
        # the configured primary metric: every row would be a baseline with nothing to compare
        known = ", ".join(tree.metric_names) or "none"
        raise ConfigError(
            f".gittree.yaml: the primary metric '{tree.metric.name}' is recorded by no experiment here",
            hint=f"recorded metrics: {known}; fix 'primary', or pass --metric NAME",
        )


# -- the walk ---------------------------------------------------------------------------------------


def _to_tuple(record: ExperimentRecord | None) -> tuple[object, ...] | None:
    if record is None:
        return None
    return (record.metrics, record.params, record.notes, record.status, record.run, record.problems)


def _from_tuple(data: tuple[object, ...] | None) -> ExperimentRecord | None:
    from gittree.trailers import ExperimentRecord

    return None if data is None else ExperimentRecord(*data)  # type: ignore[arg-type]


class _Commits:
    """Commit entries by id: from the cache, else read from git (:class:`gitio.CommitReader`)."""

    def __init__(self, repo: gitio.Repo) -> None:
        self.repo = repo
        self.store = cache.CommitStore(repo.shared_dir)
        self.reader: gitio.CommitReader | None = None
        self.missing: set[str] = set()
        #: the records parsed in this process, by sha (the cache holds them as plain tuples)
        self.parsed: dict[str, ExperimentRecord | None] = {}
        from gittree.tree import message_record

        self.message_record = message_record

    def _entry(self, sha: str, facts: gitio.CommitFacts) -> cache.CommitEntry:
        """What the cache keeps of a commit: its facts and its parsed trailers."""
        record = self.parsed[sha] = self.message_record(facts[6])
        return (*facts, _to_tuple(record))

    def read_all(self, tips: Sequence[str], progress: Progress | None) -> dict[str, cache.CommitEntry] | None:
        """Read every commit reachable from ``tips`` at once (see :func:`gitio.stream_commits`).

        Returns them, by sha; or None when git could not walk the whole history (a commit missing
        from this clone): what it read is kept, and the rest is left to :meth:`get`.
        """
        read: dict[str, cache.CommitEntry] = {}
        parsed, message_record = self.parsed, self.message_record
        try:
            for sha, facts in gitio.stream_commits(self.repo, tips):
                # As _entry, inline: the hot loop of a cold read.
                record = parsed[sha] = message_record(facts[6])
                read[sha] = (
                    *facts,
                    None
                    if record is None
                    else (
                        record.metrics,
                        record.params,
                        record.notes,
                        record.status,
                        record.run,
                        record.problems,
                    ),
                )
                if progress is not None and len(read) % PROGRESS_EVERY == 0:
                    progress(len(read))
        except GitCommandError:
            self.store.put_all(read)
            return None  # the walk reads the rest one commit at a time, skipping what is missing
        self.store.put_all(read)
        return read

    def get(self, sha: str) -> cache.CommitEntry | None:
        entry = self.store.get(sha)
        if entry is not None or sha in self.missing:
            return entry
        if self.reader is None:
            self.reader = gitio.CommitReader(self.repo)
        facts = self.reader.read(sha)
        if facts is None:  # not in this clone (shallow, partial) or not a commit (a tag of a tree)
            self.missing.add(sha)
            return None
        entry = self._entry(sha, facts)
        self.store.put(sha, entry)
        return entry

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


def read_history(
    repo: gitio.Repo,
    tips: Sequence[str],
    refs: gitio.RefState,
    *,
    limit: int | None = None,
    since: int | None = None,
    progress: Progress | None = None,
    whole: bool = False,
) -> History:
    """Every commit reachable from ``tips`` (within ``limit``/``since``), through the commit cache.

    ``whole``: this walk covers every ref, so cache entries it does not reach may be dropped.
    """
    commits = _Commits(repo)
    try:
        return _history(commits, tips, refs, limit, since, progress, whole)
    finally:
        commits.close()


def _history(
    commits: _Commits,
    tips: Sequence[str],
    refs: gitio.RefState,
    limit: int | None,
    since: int | None,
    progress: Progress | None,
    whole: bool,
) -> History:
    repo = commits.repo
    notes = _notes(repo, refs)
    visited: dict[str, cache.CommitEntry] | None = None
    if limit is None and since is None and not commits.store.entries:
        # Nothing cached yet (a first read, or a new version of gittree): every commit will be read,
        # so read them all at once rather than one by one along the walk. git walked them from the
        # tips: when it could walk the whole history, that is the walk.
        visited = commits.read_all(tips, progress)
    # A shallow clone's boundary commits: the walk stops there, as git's does, even where the commit
    # cache or the object store still holds their parents (a clone shortened by `fetch --depth`).
    shallow = gitio.shallow_boundary(repo)
    if visited is None and limit is not None:
        visited = _walk_newest_first(commits, tips, notes, limit, since, progress, shallow)
    elif visited is None:
        visited = _walk(commits, tips, since, progress, shallow)
    windowed = since is not None or limit is not None
    # Only a walk of the whole history knows which cached commits no ref reaches any more.
    commits.store.save(live=visited if whole and not windowed else None)
    from gittree.model import CommitRecord, History
    from gittree.trailers import ExperimentRecord

    parsed = commits.parsed
    records: list[CommitRecord]
    if not shallow and not windowed:
        # The usual read, every parent kept: one comprehension (100k commits on a big history).
        # Positional, in CommitRecord's field order: sha, parents, message, author name, email, time,
        # offset, shallow, note.
        note = notes.get
        records = [
            CommitRecord(sha, entry[0], entry[6], entry[1], entry[2], entry[3], entry[4], False, note(sha))
            for sha, entry in visited.items()
        ]
        # Those read from the cache: their records are plain tuples there.
        for sha in visited.keys() - parsed.keys():
            entry = visited[sha]
            parsed[sha] = None if entry[7] is None else ExperimentRecord(*entry[7])
        return History(records, parsed)
    records = []
    outside = 0
    for sha, entry in visited.items():
        parents = entry[0] if sha not in shallow else ()
        if windowed and any(p not in visited for p in parents):
            # a parent outside the window is left out, not shown as a cut: it is there, just not asked for
            kept = tuple(p for p in parents if p in visited or commits.get(p) is None)
            outside += len(parents) - len(kept)
            parents = kept
        # Positional, in CommitRecord's field order: sha, parents, message, author name, email,
        # time, offset, shallow, note (100k of these on a big history).
        records.append(
            CommitRecord(
                sha, parents, entry[6], entry[1], entry[2], entry[3], entry[4], sha in shallow, notes.get(sha)
            )
        )
        if sha not in parsed:  # read from the cache: its record is a plain tuple there
            parsed[sha] = None if entry[7] is None else ExperimentRecord(*entry[7])
    return History(records, parsed, {"window": outside} if outside else {})


def _walk(
    commits: _Commits,
    tips: Iterable[str],
    since: int | None,
    progress: Progress | None,
    shallow: frozenset[str] = frozenset(),
) -> dict[str, cache.CommitEntry]:
    visited: dict[str, cache.CommitEntry] = {}
    skipped: set[str] = set()
    stack = list(tips)
    while stack:
        sha = stack.pop()
        if sha in visited or sha in skipped:
            continue
        entry = commits.get(sha)
        if entry is None or (since is not None and entry[5] < since):
            skipped.add(sha)
            continue
        visited[sha] = entry
        if sha not in shallow:
            stack.extend(entry[0])
        if progress is not None and len(visited) % PROGRESS_EVERY == 0:
            progress(len(visited))
    return visited


def _walk_newest_first(
    commits: _Commits,
    tips: Iterable[str],
    notes: dict[str, str],
    limit: int,
    since: int | None,
    progress: Progress | None,
    shallow: frozenset[str] = frozenset(),
) -> dict[str, cache.CommitEntry]:
    """Newest commit first (committer date, as ``git log``), until ``limit`` experiments are found."""
    from gittree.model import CommitRecord
    from gittree.tree import experiment_of

    visited: dict[str, cache.CommitEntry] = {}
    queued: set[str] = set()
    heap: list[tuple[int, str]] = []

    def push(sha: str) -> None:
        if sha in queued:
            return
        queued.add(sha)
        entry = commits.get(sha)
        if entry is not None and (since is None or entry[5] >= since):
            heapq.heappush(heap, (-entry[5], sha))

    for tip in tips:
        push(tip)
    found = 0
    while heap and found < limit:
        _, sha = heapq.heappop(heap)
        entry = commits.get(sha)
        assert entry is not None
        visited[sha] = entry
        probe = CommitRecord(sha=sha, parents=(), message=entry[6], note=notes.get(sha))
        if experiment_of(probe, {sha: _from_tuple(entry[7])}) is not None:
            found += 1
        for parent in entry[0] if sha not in shallow else ():
            push(parent)
        if progress is not None and len(visited) % PROGRESS_EVERY == 0:
            progress(len(visited))
    return visited


def _notes(repo: gitio.Repo, refs: gitio.RefState) -> dict[str, str]:
    tip = refs.target(gitio.NOTES_REF)
    if tip is None:
        return {}
    notes = cache.load_notes(repo.shared_dir, tip)
    if notes is None:
        notes = gitio.notes_at(repo, tip)  # the commit the ref listing names: no second look-up
        cache.save_notes(repo.shared_dir, tip, notes)
    return notes


# -- finished views ---------------------------------------------------------------------------------


def view(
    repo: gitio.Repo,
    name: str,
    render: Callable[[ResearchTree, Config], Iterable[str] | Iterable[bytes]],
    selection: Selection | None = None,
    *,
    progress: Progress | None = None,
    require_experiments: bool = True,
    rendered: RenderedJson | None = None,
) -> Iterable[bytes]:
    """The bytes of a view of the tree: ``render(tree, config)`` (text is encoded as UTF-8), or the same
    bytes from the cache. ``config`` is made from the very bytes the view is keyed by: a renderer that
    read ``.gittree.yaml`` again could store, under this key, what another configuration draws.

    ``name`` must say everything about the view that ``render`` depends on besides the tree (the
    format, the width, colour...). The tree's own inputs are added here: the tips, HEAD, the notes
    commits (results and curves), the shallow boundary, the ``.gittree.yaml`` bytes and every option of
    ``selection`` (default: the scope, :class:`gittree.read.Selection`). ``require_experiments=False``: a
    tree without experiments is rendered too (``diff`` compares any two commits).
    """
    from gittree import CONFIG_FILE, __version__

    chosen = selection or _EVERY

    listing = gitio.list_refs(repo)
    # A view of the scope (every local branch and gittree's refs; --all: every ref) is keyed by the
    # listing of every ref itself: on a warm start nothing is parsed, however many branches there are.
    # (A remote-tracking ref that moved renders the default view again: correct, if more often.)
    by_listing = not chosen.revs and not chosen.branches
    refs, tips = None, None
    starts_at: object = listing
    if not by_listing:
        refs = gitio.read_refs(repo, listing)
        tips = _tips(repo, chosen, refs)
        # and every ref: which of the named commits' history is discarded depends on every branch, tag
        # and remote-tracking branch (a branch deleted since the last view makes its experiment a dead end)
        starts_at = (tuple(tips), listing)
    # Read once (the working tree's file, else HEAD's, else a remote default branch's: docs/config.md):
    # the tree and the renderer are given the configuration made from the very bytes the view is keyed
    # by, and where they were read (`show --json` says it).
    config_source, config_data = _config_file(repo, listing)
    if b" refs/remotes/" in listing:
        from gittree.config import config_from_bytes

        _warn_late_results(
            repo,
            refs or gitio.read_refs(repo, listing),
            lambda: config_from_bytes(config_data, config_source or CONFIG_FILE).sync_branches,
        )
    shallow = gitio.shallow_boundary(repo)
    key = cache.view_key(
        __version__,
        name,
        starts_at,
        (by_listing, chosen.all_refs),
        tuple(sorted(shallow)),
        config_data,
        config_source,
        chosen.metric,
        chosen.limit,
        chosen.since,
        chosen.author,
    )
    cached = cache.open_view(repo.shared_dir, key)
    patchable = (
        rendered is not None
        and by_listing
        and chosen.author is None
        and chosen.limit is None
        and chosen.since is None
        and not shallow
    )
    family, made = None, None  # made: the configuration, when the patch already made it
    if patchable:
        from gittree.read import viewpatch

        family = viewpatch.family_key(
            __version__, name, chosen.all_refs, config_data, config_source, chosen.metric
        )
        if cached is not None:  # a view seen before (a try taken back): the next one patches from it
            viewpatch.rewind(repo, family, key, listing)
    if cached is not None:
        return cached
    if family is not None:
        from gittree.config import config_from_bytes
        from gittree.read import viewpatch

        made = config_from_bytes(config_data, config_source or CONFIG_FILE)
        patched = viewpatch.patched_view(repo, family, key, listing, made, chosen.metric, chosen.all_refs)
        if patched is not None:
            return patched

    def fresh() -> Iterator[bytes]:
        from gittree.config import config_from_bytes

        read = refs or gitio.read_refs(repo, listing)
        starts = tips if tips is not None else _tips(repo, chosen, read)
        config = made or config_from_bytes(config_data, config_source or CONFIG_FILE)
        later: list[Callable[[], None]] = []
        tree = _build(repo, starts, read, config, chosen, progress, later=later)
        _check(tree, chosen.metric, require_experiments)
        if chosen.author is not None:
            tree = by_author(tree, chosen.author)
        with bulk_building():
            yield from _batched(render(tree, config))
            for step in later:  # the seed of the next view, once this one is out
                step()
            later.clear()  # the seed goes before the index is made (peak memory at 100k)
            if family is not None and rendered is not None and rendered.tree is not None:
                from gittree.read import viewpatch

                viewpatch.save_index(
                    repo, family, key, listing, rendered.tree, rendered.header, rendered.lengths, read
                )

    return cache.store_view(repo.shared_dir, key, fresh())


def _config_file(repo: gitio.Repo, listing: bytes) -> tuple[str | None, bytes | None]:
    """``.gittree.yaml`` as :func:`gitio.read_shared_file` finds it, for a view that has read ``listing``:
    the working tree's file (no git process), else the committed one, which the last view's answer gives
    without asking git when HEAD and the tips it looked at are the same commits (docs/performance.md)."""
    from gittree import CONFIG_FILE

    found = gitio.read_worktree_file(repo, CONFIG_FILE)
    if found is not None:
        return found
    known = gitio.CommittedFile.from_tuple(cache.load_lookup(repo.shared_dir))
    answer = gitio.read_committed_file(repo, CONFIG_FILE, listing, known=known)
    if answer is not known and answer.facts is not None:
        cache.save_lookup(repo.shared_dir, answer.as_tuple())
    return answer.where, answer.data


#: Text a view renders is handed on in pieces of about this many characters: small enough that a big
#: view starts printing at once, big enough that writing, checksumming and caching it costs nothing
#: per line (a 100k-experiment view has 100k lines).
BATCH_CHARS = 1 << 16


def _batched(chunks: Iterable[str] | Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` as UTF-8 bytes (text is encoded, bytes pass as they are), small pieces joined."""
    pending: list[str] = []
    size = 0
    for chunk in chunks:
        if isinstance(chunk, bytes):
            if pending:
                yield "".join(pending).encode("utf-8", "surrogateescape")
                pending, size = [], 0
            yield chunk
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= BATCH_CHARS:
            yield "".join(pending).encode("utf-8", "surrogateescape")
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode("utf-8", "surrogateescape")


def by_author(tree: ResearchTree, author: str) -> ResearchTree:
    """The experiments whose author's name or email contains ``author`` (any case), with their ancestors.

    Ancestors by other people stay as context, so every kept experiment still hangs from its real
    parents; deltas, verdicts and the best experiment are those of the whole tree (docs/tree.md).
    """
    from dataclasses import replace

    from gittree.model import ResearchTree

    needle = author.casefold()
    matching = [
        node.sha
        for node in tree.nodes
        if needle in node.author_name.casefold() or needle in node.author_email.casefold()
    ]
    if not matching:
        raise NoExperimentsError(
            f"no experiment in this history is by an author matching '{author}'",
            hint="the text is matched, ignoring case, within author names and emails",
        )
    keep: set[str] = set()
    stack = matching
    while stack:
        sha = stack.pop()
        if sha not in keep:
            keep.add(sha)
            stack.extend(tree.by_sha[sha].parents)
    nodes = [
        replace(node, children=[child for child in node.children if child in keep])
        for node in tree.nodes
        if node.sha in keep
    ]
    chosen = ResearchTree(
        nodes=nodes,
        metric=tree.metric,
        head=tree.head if tree.head in keep else None,
        best=tree.best if tree.best in keep else None,
        metric_names=tree.metric_names,
    )
    chosen.left_out.update(tree.left_out)
    if len(nodes) < len(tree.nodes):
        chosen.left_out["author"] = len(tree.nodes) - len(nodes)
    return chosen
