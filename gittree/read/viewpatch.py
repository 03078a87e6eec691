"""``show --json`` after a new experiment: the last view patched, not rendered again (issue 19).

When a view of the scope (or of every ref) is not cached, the last one of the same kind (the same
options, configuration and gittree) usually differs from it by an experiment or two on top. That
view's index (:class:`gittree.tree.extend.ViewIndex`, stored beside it) says where each node's line
is and what is needed to place and judge new ones; the refs are compared with those the last view
was made from, only the new commits are read (one ``git cat-file --batch`` per generation of them),
and the new view is the last one with the new lines inserted and the few lines whose marks moved
rewritten: the rest is copied by the kernel, checksums and all (:func:`cache.store_patched_view`).

Notes that changed (another sample, late results) are taken the same way: the experiments they
changed, and those judged against them, are written again. Anything else (a branch that moved back
or away, a deleted one, another configuration, a merge, a revert, a forget...) returns None and the
view is rendered as usual; the tests compare every patched view with the one rendered from scratch,
byte for byte (docs/performance.md, "Patching the last view").
"""

from __future__ import annotations

import marshal
from array import array
from itertools import accumulate, pairwise

from gittree import gitio
from gittree.read import cache

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    from gittree.config import Config
    from gittree.model import CommitRecord, Node, ResearchTree
    from gittree.tree.extend import Extension, ViewIndex

#: The indexes kept (one per kind of view: options, configuration, gittree's version), newest first.
MAX_INDEXES = 6
#: The index format: bumped when what is stored changes (the code's own fingerprint is in the family key).
_FORMAT = 12
_ARRAYS = (
    "order",
    "lengths",
    "parent_start",
    "parent_ids",
    "first_child",
    "child_count",
    "size",
    "time",
    "step",
    "reference",
    "abs_sorted",
    "abs_ids",
)
_BYTES = ("shas", "on_path", "surprise", "dead", "discarded", "tainted")
_PLAIN = (
    "width",
    "multi",
    "metric_counts",
    "judged_counts",
    "best",
    "head",
    "header",
    "identities",
    "hid_rewrites",
    "head_commit",
    "best_key",
    "best_ties",
)


#: Views patched since the index's base was stored, replayed when it is loaded; past this many, the
#: index is stored whole again (about 10 MB at 100k experiments, against a few kilobytes per patch).
MAX_LOG = 8


def _paths(repo: gitio.Repo, family: str) -> tuple[Any, Any]:
    """The index's base (stored whole) and its tip (the views patched since: the log replayed)."""
    folder = cache.cache_dir(repo.shared_dir) / "extend"
    return folder / f"{family}.base", folder / family


def _at_path(repo: gitio.Repo, family: str) -> Any:
    """A hint beside the tip: the key of the view the index describes now (a warm view reads it alone)."""
    return cache.cache_dir(repo.shared_dir) / "extend" / f"{family}.at"


def _write_at(repo: gitio.Repo, family: str, key: str) -> None:
    cache._write_atomic(_at_path(repo, family), [key.encode("ascii")])


def save_index(
    repo: gitio.Repo,
    family: str,
    key: str,
    listing: bytes,
    tree: ResearchTree,
    header: dict[str, Any],
    lengths: array[int],
    refs: gitio.RefState,
) -> None:
    """Store the index of the view ``key`` just rendered from ``tree`` (``lengths``: its node lines)."""
    from gittree.tree.extend import build_index

    if not cache.enabled() or len(lengths) != len(tree.nodes) or not tree.nodes:
        return
    if len(tree.subtree_sizes) != len(tree.nodes):
        return  # not the builder's tree (a filtered one): its drawing order's facts are not known
    index = build_index(
        tree, dict(header), lengths, head_commit=refs.head, hid_rewrites=bool(tree.left_out.get("rewritten"))
    )
    keep = refs.target(gitio.KEEP_REF)
    _write_base(
        repo, family, key, listing, index, (keep, tuple(gitio.keep_frontier(repo, keep)) if keep else ())
    )


def family_key(*parts: Any) -> str:
    """What names the views one can be patched from: everything a view's key holds but the refs."""
    return cache.view_key("extend", *parts)


def _write_base(
    repo: gitio.Repo, family: str, key: str, listing: bytes, index: ViewIndex, keep: tuple[Any, ...]
) -> None:
    """The index whole: its facts (marshalled), then each array's bytes as they are (no copy of the
    10 MB is made at 100k, and loading is one read and one copy into each array)."""
    import os
    import struct

    plain = {name: getattr(index, name) for name in _PLAIN}
    columns = [(name, getattr(index, name)) for name in (*_ARRAYS, *_BYTES)]
    layout = [
        (name, getattr(values, "typecode", "B"), len(memoryview(values).cast("B")))
        for name, values in columns
    ]
    # The token pairs the base with its tip: a tip left by an older base is ignored.
    head = marshal.dumps((_FORMAT, os.urandom(8).hex(), key, listing, keep, plain, layout))
    pieces: list[bytes | memoryview] = [struct.pack("<Q", len(head)), head]
    pieces += [memoryview(values).cast("B") for _, values in columns]
    base, _ = _paths(repo, family)
    cache._write_atomic(base, pieces)
    _write_at(repo, family, key)
    cache._prune(base.parent, 3 * MAX_INDEXES)


class _Tip:
    """What the tip holds: the view the index is at (key, listing, keep ref), the log of patches since
    the base, the view (key, keep ref) each of them led to, and the base's (:func:`rewind` goes back
    to one of those)."""

    def __init__(
        self,
        token: str,
        key: str,
        listing: bytes,
        keep: tuple[Any, ...],
        log: list[Any],
        states: list[tuple[str, tuple[Any, ...]]],
        base_state: tuple[str, tuple[Any, ...]],
    ) -> None:
        self.token, self.key, self.listing, self.keep = token, key, listing, keep
        self.log, self.states, self.base_state = log, states, base_state


def _write_tip(repo: gitio.Repo, family: str, tip: _Tip) -> None:
    _, path = _paths(repo, family)
    fields = (tip.token, tip.key, tip.listing, tip.keep, tip.log, tip.states, tip.base_state)
    cache._write_atomic(path, [marshal.dumps((_FORMAT, *fields))])
    _write_at(repo, family, tip.key)


def _load_tip(path: Any) -> _Tip | None:
    """The tip as :func:`_write_tip` wrote it, when it is whole and of this format."""
    tip = cache._load_marshal(path)
    if not isinstance(tip, tuple) or len(tip) != 8 or tip[0] != _FORMAT:
        return None
    return _Tip(*tip[1:])


class _Stored(_Tip):
    """An index as loaded: its tip replayed onto its base."""

    def __init__(self, tip: _Tip, index: ViewIndex) -> None:
        super().__init__(tip.token, tip.key, tip.listing, tip.keep, tip.log, tip.states, tip.base_state)
        self.index = index


def _load(repo: gitio.Repo, family: str, config: Config, metric: str | None) -> _Stored | None:
    """The index of the last view of ``family``: its base, and the views patched since replayed."""
    from gittree.tree.extend import ViewIndex, apply_effects, extend

    base_path, tip_path = _paths(repo, family)
    payload = cache._read_checked(base_path)
    if payload is None:
        return None
    data = memoryview(payload)
    try:
        size = int.from_bytes(data[:8], "little")
        head = marshal.loads(data[8 : 8 + size])
        if not isinstance(head, tuple) or len(head) != 7 or head[0] != _FORMAT:
            return None
        _, token, key, listing, keep, plain, layout = head
        fields: dict[str, Any] = dict(plain)
        at = 8 + size
        for name, typecode, length in layout:
            if typecode == "B":
                fields[name] = bytearray(data[at : at + length])
            else:
                values = array(typecode)
                values.frombytes(data[at : at + length])
                fields[name] = values
            at += length
    except (EOFError, ValueError, TypeError):
        return None
    del data, payload
    index = ViewIndex(**fields)
    tip = _load_tip(tip_path)
    if tip is None or tip.token != token:  # none yet, or one left by an older base
        return _Stored(_Tip(token, key, listing, keep, [], [], (key, keep)), index)
    for entry in tip.log:
        if entry[0] == "notes":  # what the notes changed, as it is
            _, effects, lengths = entry
            apply_effects(index, effects)
            typical = effects["typical"]
        else:
            if entry[0] == "died":
                # the tries reset away since the view before (dead ends now), then the new commits
                _, effects, commits, head, evaluations, discarded, lengths = entry
                apply_effects(index, effects)
            else:
                _, commits, head, evaluations, discarded, lengths = entry
            replayed = extend(
                index,
                _records(commits),
                config=config,
                metric=metric,
                head=head,
                evaluations=evaluations,
                discarded=discarded,
            )
            if replayed is None:
                return None
            typical = replayed.typical
        _rewrite_header(index, typical)
        for number, length in lengths.items():  # the lines the patch wrote
            index.lengths[index.position(number)] = length
    return _Stored(tip, index)


def rewind(repo: gitio.Repo, family: str, key: str, listing: bytes) -> None:
    """The view ``key`` was served from the cache: when it is a view the index went through (a patch of
    its log, or its base) and not where the index is now, the index goes back to it, so that the next
    view after it (the next experiment) is patched from it and not rendered whole. A loop that looks,
    takes a try back (``git reset``) and tries again comes back to a view it saw (docs/performance.md,
    "Patching the last view"). Reads one small file when the index is already there."""
    if not cache.enabled():
        return
    at = cache._read_checked(_at_path(repo, family))
    if at is None or at == key.encode("ascii"):
        return  # no index of this kind (or its hint is damaged), or it is there already
    _, tip_path = _paths(repo, family)
    tip = _load_tip(tip_path)
    if tip is None:
        return
    visited = [tip.base_state, *tip.states]
    found = max((at for at, (seen, _) in enumerate(visited) if seen == key), default=None)
    if found is None:
        return
    keep = visited[found][1]
    _write_tip(
        repo, family, _Tip(tip.token, key, listing, keep, tip.log[:found], tip.states[:found], tip.base_state)
    )


def _records(commits: list[tuple[Any, ...]]) -> list[CommitRecord]:
    from gittree.model import CommitRecord

    return [
        CommitRecord(sha, parents, message, name, email, when, offset, False, note)
        for sha, parents, message, name, email, when, offset, note in commits
    ]


def _rewrite_header(index: ViewIndex, typical: float | None) -> None:
    """The view's top-level fields that an extension moves: the metrics (most experiments first), the
    best experiment, HEAD's and the typical delta."""
    from gittree.render.jsonview import json_number
    from gittree.tree import _metric_names

    index.header.update(
        metrics=list(_metric_names(index.metric_counts)),
        best=index.sha(index.best) if index.best >= 0 else None,
        head=index.sha(index.head) if index.head >= 0 else None,
        typical_delta=json_number(typical),
    )


class RenderedJson:
    """What rendering ``show --json`` leaves for the view's index: the tree, the top-level fields, and
    the size of each node's line."""

    def __init__(self) -> None:
        self.tree: ResearchTree | None = None
        self.header: dict[str, Any] = {}
        self.lengths: array[int] = array("I")


class _Fallback(Exception):
    """The view cannot be patched: it is rendered as usual."""


def patched_view(
    repo: gitio.Repo,
    family: str,
    key: str,
    listing: bytes,
    config: Config,
    metric: str | None,
    all_refs: bool,
) -> cache.PatchedView | None:
    """The view ``key`` made from the last view of ``family``, or None when it cannot be (docs above)."""
    if not cache.enabled():
        return None
    stored = _load(repo, family, config, metric)
    if stored is None:
        return None
    last = cache.open_view(repo.shared_dir, stored.key)
    if last is None:
        return None
    try:
        return _patch(repo, family, key, listing, config, metric, all_refs, last, stored)
    except _Fallback:
        last.close()
        return None


class _Last:
    """The last view as its index described it before this patch: each node's line, by id."""

    def __init__(self, view: cache.CachedView | cache.PatchedView, index: ViewIndex) -> None:
        from gittree.render.jsonview import head_text

        self.view = view
        self.order, self.lengths = array("i", index.order), array("I", index.lengths)
        self.offsets = list(
            accumulate(self.lengths, initial=len(head_text(index.header).encode("utf-8", "surrogateescape")))
        )

    def line(self, number: int) -> bytes:
        from gittree.tree.extend import position_in

        at = position_in(self.order, number)
        return self.view.read(self.offsets[at], self.lengths[at])

    def node(self, number: int) -> Node:
        from gittree.render.jsonview import node_of_line

        return node_of_line(self.line(number))


def _patch(
    repo: gitio.Repo,
    family: str,
    key: str,
    listing: bytes,
    config: Config,
    metric: str | None,
    all_refs: bool,
    base: cache.CachedView | cache.PatchedView,
    stored: _Stored,
) -> cache.PatchedView:
    from gittree.rawcommit import decode_message
    from gittree.tree.extend import extend

    index, old_listing = stored.index, stored.listing
    moved, head, keep_now, notes_now = _ref_changes(old_listing, listing, all_refs)
    if notes_now is not None and not moved and head is None and keep_now is None:
        return _patch_notes(repo, family, key, listing, config, metric, base, stored, notes_now)
    # A try gittree kept and reset away before this view (the agent loop's loser): a new keep parent.
    kept_parents = _read_keep(repo, stored.keep, keep_now) if keep_now is not None else ()
    old_kept = set(stored.keep[1]) if stored.keep else set()
    notes_tip = gitio.listed_target(listing, gitio.NOTES_REF)
    curves_tip = gitio.listed_target(listing, gitio.CURVES_REF)
    live_starts = [new for _, new in moved.values()] + ([head] if head else [])
    starts = live_starts + [sha for sha in kept_parents if sha not in old_kept]
    commits, chains, notes = _new_commits(
        repo, index, starts, [tip for tip in (notes_tip, curves_tip) if tip]
    )
    died = _check_moves(index, moved, chains, old_listing, listing, head)
    for start in live_starts:  # each reaches down to an experiment of the tree: the bottom of its chain
        bottom = index.find(chains[start][-1])
        if bottom >= 0 and index.discarded[bottom]:
            raise _Fallback  # a dead end only the keep ref reached is reached by a branch or HEAD again
    new_keep = (
        stored.keep if keep_now is None else _check_keep(stored.keep, keep_now, kept_parents, commits, chains)
    )
    own_notes = notes.get(notes_tip, {}) if notes_tip else {}
    records = [
        gitio.commit_record(
            sha, facts, note=decode_message(own_notes[sha], None) if sha in own_notes else None
        )
        for sha, facts in commits.items()
    ]
    if notes_now is not None:
        _check_notes_on_new(repo, gitio.listed_target(old_listing, gitio.NOTES_REF), notes_now, records)
    live = {sha for start in live_starts for sha in chains[start]}
    discarded = [sha for sha in commits if sha not in live]  # only the keep ref reaches them
    last = _Last(base, index)
    head_now = gitio.listed_target(listing, "HEAD")
    death = None
    if died:
        _check_only_kept(repo, index, died, new_keep, listing, chains, head_now)
        death = _kill(index, died, config, metric, last)
    extension = extend(
        index, records, config=config, metric=metric, head=head_now, old_node=last.node, discarded=discarded
    )
    if extension is None:
        raise _Fallback
    if death is not None:
        _join(index, death, extension)
    # The curves follow the drawing order: blocks that moved move theirs too.
    curves = _new_curves(old_listing, listing, {tip for tip, found in notes.items() if found}) or (
        extension.moved and curves_tip is not None
    )
    entry: tuple[Any, ...] = ("commits", _facts(records), head_now, extension.evaluations, discarded)
    if death is not None:
        entry = ("died", death.effects, *entry[1:])
    return _store(repo, family, key, listing, stored, last, extension, curves, new_keep, entry)


def _check_only_kept(
    repo: gitio.Repo,
    index: ViewIndex,
    died: list[int],
    keep: tuple[Any, ...],
    listing: bytes,
    chains: dict[str, list[str]],
    head: str | None,
) -> None:
    """Each try of ``died`` (a leaf experiment a moved branch no longer reaches) is reached by the keep
    ref alone now, as a whole build would find it (then it is a dead end there): the keep ref keeps it,
    and no other ref or HEAD reaches it. A ref at an experiment of the tree does not (a leaf has no
    experiment above it), nor one at a new commit whose chain goes down to an experiment without it;
    git is asked about the others (at ordinary commits, tag objects); _Fallback otherwise."""
    shas = [index.sha(number) for number in died]
    if not keep or not set(shas) <= set(keep[1]):
        raise _Fallback
    fresh = {sha for chain in chains.values() for sha in chain}
    if not fresh.isdisjoint(shas):
        raise _Fallback  # another moved ref (or HEAD) reaches it, through new commits on top of it
    width, ids = index.width, index.shas
    experiments = {bytes(ids[at : at + width]) for at in range(0, len(ids), width)}  # a set: 20k refs
    unknown = []
    for name, target in _refs_of(listing).items():
        if name in (gitio.KEEP_REF, gitio.NOTES_REF, gitio.CURVES_REF) or name.startswith("refs/notes/"):
            continue
        if target in shas:
            raise _Fallback
        if target not in fresh and bytes.fromhex(target) not in experiments:
            if name == "HEAD":
                raise _Fallback  # detached at an ordinary commit
            unknown.append(name.removesuffix("^{}"))  # a tag is asked about by its name (git peels it)
    if head is not None and head in shas:
        raise _Fallback
    for sha in shas if unknown else ():
        found = gitio.run(
            ["for-each-ref", f"--contains={sha}", "--format=%(refname)", *dict.fromkeys(unknown)],
            cwd=repo.git_dir,
        )
        if found.code != 0 or found.out.strip():
            raise _Fallback


def _kill(index: ViewIndex, died: list[int], config: Config, metric: str | None, last: _Last) -> Extension:
    """The tries of ``died`` made dead ends in the index, their lines to be written again
    (:func:`gittree.tree.extend.renote` with ``dying``)."""
    from gittree.tree.extend import renote

    dying: dict[int, Node] = {}
    for number in died:
        node = last.node(number)
        node.discarded = True
        dying[number] = node
    death = renote(index, dying, config=config, metric=metric, old_node=last.node, dying=died)
    if death is None:
        raise _Fallback
    return death


def _join(index: ViewIndex, death: Extension, extension: Extension) -> None:
    """The new commits' ``extension`` with the lines ``death`` wrote again: their marks as they are now,
    the other lines' marks from both (the later one's where both moved one)."""
    for number, marks in death.marks.items():
        extension.marks[number] = {**marks, **extension.marks.get(number, {})}
    for number, node in death.rewritten.items():
        node.best, node.head = number == index.best, number == index.head
        node.on_best_path, node.surprise = bool(index.on_path[number]), bool(index.surprise[number])
        extension.marks.pop(number, None)
    extension.rewritten.update(death.rewritten)


def _patch_notes(
    repo: gitio.Repo,
    family: str,
    key: str,
    listing: bytes,
    config: Config,
    metric: str | None,
    base: cache.CachedView | cache.PatchedView,
    stored: _Stored,
    notes_now: str,
) -> cache.PatchedView:
    """The last view with the experiments whose note changed (another sample, late results) written
    again, with those judged against them and the marks that moved (:func:`gittree.tree.extend.renote`)."""
    from gittree.model import author_identity
    from gittree.rawcommit import parse_commit_object
    from gittree.tree import _node, experiment_of
    from gittree.tree.extend import renote

    index, old_listing = stored.index, stored.listing
    was = gitio.listed_target(old_listing, gitio.NOTES_REF)
    changed = sorted(gitio.notes_changed(repo, was, notes_now))
    if not changed:
        raise _Fallback
    objects = gitio.read_objects(repo, changed)
    notes = gitio.notes_for(repo, changed, gitio.NOTES_REF)
    last = _Last(base, index)
    renoted: dict[int, Node] = {}
    for sha in changed:
        found = objects.get(sha)
        if found is None or found[1] != "commit":
            raise _Fallback
        facts = parse_commit_object(found[2])
        commit = gitio.commit_record(sha, facts, note=notes.get(sha))
        record = experiment_of(commit)
        number = index.find(sha)
        if number < 0:
            if record is not None:
                raise _Fallback  # an ordinary commit may become an experiment: built whole
            if author_identity(commit) in index.identities:
                raise _Fallback  # an earlier version a whole build hid: its note decides whether it still is
            continue
        if record is None:
            raise _Fallback  # an experiment no more
        old = last.node(number)
        node = _node(commit, record, old.parents, old.folded, old.folded_below, old.cut, {})
        node.discarded = old.discarded
        renoted[number] = node
    extension = renote(index, renoted, config=config, metric=metric, old_node=last.node)
    if extension is None:
        raise _Fallback
    curves = _new_curves(old_listing, listing, set())
    return _store(
        repo, family, key, listing, stored, last, extension, curves, stored.keep, ("notes", extension.effects)
    )


def _store(
    repo: gitio.Repo,
    family: str,
    key: str,
    listing: bytes,
    stored: _Stored,
    last: _Last,
    extension: Extension,
    curves: bool,
    keep: tuple[Any, ...],
    entry: tuple[Any, ...],
) -> cache.PatchedView:
    """Write the patched view (its header, the lines that changed, ranges of the last view for the
    rest, the curves written again when ``curves``), and log ``entry`` for the index's replay (a
    entry ends with the lengths of the lines written, which a replay sets as they are)."""
    from gittree.render.jsonview import NODE_SEPARATOR, head_text, node_json_writer, with_marks

    index = stored.index
    _rewrite_header(index, extension.typical)
    write = node_json_writer()
    lines: dict[int, bytes] = {}  # new and rewritten lines by id
    for number, marks in extension.marks.items():
        lines[number] = with_marks(last.line(number), marks)
    for number, node in extension.added:
        lines[number] = (NODE_SEPARATOR + write(node)).encode("utf-8", "surrogateescape")
    for number, node in extension.rewritten.items():
        written = last.line(number)  # its separator as it was (the first line has none)
        lines[number] = written[: written.index(b"{")] + write(node).encode("utf-8", "surrogateescape")
    lengths = {}
    for number, line in lines.items():
        index.lengths[index.position(number)] = lengths[number] = len(line)
    parts: list[cache.Part] = [head_text(index.header).encode("utf-8", "surrogateescape")]
    if extension.moved:
        _moved_parts(parts, index.order, last.order, last.offsets, lines)
    else:
        _inserted_parts(parts, index, last.order, last.offsets, lines, extension)
    if curves:  # the curves of every experiment, in the new drawing order, written again
        from gittree.read.views import tree_curves_of
        from gittree.render.jsonview import tail_chunks

        order = [index.sha(number) for number in index.order]
        parts.append(
            "".join(tail_chunks(order, tree_curves_of(repo, order))).encode("utf-8", "surrogateescape")
        )
    else:
        parts.append((last.offsets[-1], last.view.length))  # the lines' end, the curves
    view = cache.store_patched_view(repo.shared_dir, key, last.view, parts)
    if view is None:
        raise _Fallback
    log = [*stored.log, (*entry, lengths)]
    if len(log) > MAX_LOG:
        _write_base(repo, family, key, listing, index, keep)
    else:
        states = [*stored.states, (key, keep)]
        _write_tip(repo, family, _Tip(stored.token, key, listing, keep, log, states, stored.base_state))
    return view


def _inserted_parts(
    parts: list[cache.Part],
    index: ViewIndex,
    old_order: array[int],
    offsets: list[int],
    lines: dict[int, bytes],
    extension: Extension,
) -> None:
    """The lines of the view when the old ones kept their order: runs of old lines, the rewritten ones
    and the new ones between them (found by position, without a pass over every line)."""
    from gittree.tree.extend import position_in

    # (old lines before it, 0: a new line / 1: an old one rewritten, its bytes)
    events: list[tuple[int, int, bytes]] = []
    for number in (*extension.marks, *extension.rewritten):
        events.append((position_in(old_order, number), 1, lines[number]))
    placed = sorted(index.position(number) for number, _ in extension.added)
    for count, at in enumerate(placed):
        events.append((at - count, 0, lines[index.order[at]]))
    events.sort(key=lambda event: (event[0], event[1]))
    current = 0
    for before, kind, line in events:
        if before > current:
            parts.append((offsets[current], offsets[before]))
            current = before
        parts.append(line)
        if kind == 1:
            current = before + 1
    if current < len(offsets) - 1:
        parts.append((offsets[current], offsets[-1]))


def _moved_parts(
    parts: list[cache.Part],
    order: array[int],
    old_order: array[int],
    offsets: list[int],
    lines: dict[int, bytes],
) -> None:
    """The lines of the view when blocks of old lines moved: every line in the new order, consecutive
    old lines joined into one range (a pass over every line, done by comprehensions: only when siblings
    were reordered; about 1.5 ms per 10,000 lines here)."""
    where = [0] * len(order)  # each old line's position in the last view; -2: written again or new
    for at, number in enumerate(old_order):
        where[number] = at
    for number in lines:
        where[number] = -2
    sequence = [where[number] for number in order]
    # where a run of consecutive old lines breaks (a written line is a run of its own)
    starts = [at for at, (before, now) in enumerate(pairwise(sequence), 1) if now != before + 1 or now < 0]
    for start, end in zip([0, *starts], [*starts, len(sequence)], strict=True):
        first = sequence[start]
        if first < 0:
            parts.append(lines[order[start]])
        else:
            parts.append((offsets[first], offsets[first + end - start]))


def _facts(records: list[CommitRecord]) -> list[tuple[Any, ...]]:
    return [
        (r.sha, r.parents, r.message, r.author_name, r.author_email, r.author_time, r.author_offset, r.note)
        for r in records
    ]


def _refs_of(lines: bytes) -> dict[str, str]:
    """The refs (and HEAD) of some lines of a ref listing, by name."""
    state = gitio.parse_listing(lines)
    return {**dict(state.refs), **({"HEAD": state.head} if state.head else {})}


def _ref_changes(
    old: bytes, new: bytes, all_refs: bool
) -> tuple[dict[str, tuple[str | None, str]], str | None, str | None, str | None]:
    """The tip refs that moved or came (old, new commit), HEAD's new commit when it moved, and the keep
    ref's and the notes' new commits when they moved; _Fallback for any other change the view depends on."""
    old_lines, new_lines = set(old.split(b"\n")), set(new.split(b"\n"))
    gone, came = _refs_of(b"\n".join(old_lines - new_lines)), _refs_of(b"\n".join(new_lines - old_lines))
    prefixes = gitio.ALL_REF_PREFIXES if all_refs else gitio.SCOPE_REF_PREFIXES
    moved: dict[str, tuple[str | None, str]] = {}
    head: str | None = None
    keep: str | None = None
    notes: str | None = None
    for name in gone.keys() | came.keys():
        if name == "HEAD":
            if name not in came:
                raise _Fallback
            head = came[name]
        elif name == gitio.KEEP_REF:
            if name not in came:
                raise _Fallback
            keep = came[name]
        elif name == gitio.CURVES_REF:
            if name not in came:
                raise _Fallback
        elif name == gitio.NOTES_REF:
            if name not in came:
                raise _Fallback
            notes = came[name]
        elif name.startswith(("refs/notes/", gitio.GITTREE_REF_PREFIX, gitio.GITTREE_REMOTE_REF_PREFIX)):
            raise _Fallback  # the results, another keep ref: rendered whole
        elif name.startswith(prefixes):
            if name not in came or name.startswith("refs/tags/") or name.endswith("^{}"):
                raise _Fallback  # a deleted branch, or a tag (which may name a tag object)
            moved[name] = (gone.get(name), came[name])
    return moved, head, keep, notes


def _new_commits(
    repo: gitio.Repo, index: ViewIndex, starts: list[str], note_tips: list[str]
) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, dict[str, bytes]]]:
    """The commits from each of ``starts`` down to the first experiment of the tree, parents first; each
    start's chain (itself down to that experiment, included); and, for each notes commit of
    ``note_tips``, the notes it holds on those commits (looked up in the same ``git cat-file``: a
    commit fetched with its results, or a try noted before its branch was reset away). Only commits
    of one parent."""
    from gittree.rawcommit import parse_commit_object
    from gittree.tree.extend import MAX_NEW_COMMITS

    facts: dict[str, Any] = {}
    notes: dict[str, dict[str, bytes]] = {tip: {} for tip in note_tips}
    pending = list(dict.fromkeys(start for start in starts if index.find(start) < 0))
    while pending:
        if len(facts) + len(pending) > MAX_NEW_COMMITS:
            raise _Fallback
        lookups = [name for tip in note_tips for name in gitio.note_lookups(tip, pending)]
        found = gitio.read_objects(repo, pending + lookups)
        for tip in note_tips:
            for sha, note in gitio.notes_in_found(found, tip, pending).items():
                if note is not None:
                    notes[tip][sha] = note[1]
        following: list[str] = []
        for sha in pending:
            got = found.get(sha)
            if got is None or got[1] != "commit":
                raise _Fallback
            facts[sha] = parse_commit_object(got[2])
            parents = facts[sha][0]
            if len(parents) != 1:
                raise _Fallback
            parent = parents[0]
            if parent not in facts and parent not in following and index.find(parent) < 0:
                following.append(parent)
        pending = following
    chains: dict[str, list[str]] = {}
    ordered: dict[str, Any] = {}
    for start in starts:
        chain = [start]
        while chain[-1] in facts:
            chain.append(facts[chain[-1]][0][0])
        chains[start] = chain
        for sha in reversed(chain[:-1]):
            if sha not in ordered:
                ordered[sha] = facts[sha]
    return ordered, chains, notes


def _check_moves(
    index: ViewIndex,
    moved: dict[str, tuple[str | None, str]],
    chains: dict[str, list[str]],
    old_listing: bytes,
    listing: bytes,
    head: str | None,
) -> list[int]:
    """Every commit the last view held is still in this one: each moved ref's old commit is below its
    new one, and HEAD's old commit is still reached; or that old commit is an experiment of the tree,
    maybe a try reset away since that view saw it (the agent loop that looks before it resets).
    Returns those (their ids): :func:`_check_only_kept` checks that only the keep ref reaches them,
    and :func:`gittree.tree.extend.renote` which of them can die in place (a live leaf, not the best)."""
    died: list[int] = []
    for old, new in moved.values():
        if old is not None and old not in chains[new]:
            number = index.find(old)
            if number < 0 or number in died:
                raise _Fallback  # moved back or sideways (reset, amend, rebase): built whole
            if index.find(chains[new][-1]) not in index.parents(number):
                raise _Fallback  # moved back past more than this try (a reset, a squash): those die too
            died.append(number)
    if head is None:
        return died
    was = gitio.listed_target(old_listing, "HEAD")
    if was is None or was == head:
        return died
    if any(was in chain for chain in chains.values()):
        return died
    if listing.find(was.encode("ascii") + b" refs/") >= 0:
        return died  # a ref still names it (a tip of the scope or, with --all, of every ref)
    if index.find(was) in died:
        return died  # HEAD was at the try its branch moved away from
    raise _Fallback


def _check_notes_on_new(repo: gitio.Repo, was: str | None, now: str, records: list[CommitRecord]) -> None:
    """Notes that changed together with new commits must all be on new experiments (a try abandoned
    before it was reset away), read with them. A commit read on the way down that an older view already
    held as an ordinary commit (below a tip that moved, or kept anew) is an experiment by its own
    message only if it is new: one that a note makes an experiment changes the nodes above it, so the
    view is rendered whole."""
    from dataclasses import replace

    from gittree.tree import experiment_of

    by_sha = {record.sha: record for record in records}
    for sha in gitio.notes_changed(repo, was, now):
        record = by_sha.get(sha)
        if record is None or experiment_of(replace(record, note=None)) is None:
            raise _Fallback


def _read_keep(repo: gitio.Repo, keep: tuple[Any, ...], now: str) -> tuple[str, ...]:
    """The keep commit ``now``'s parents; _Fallback when it forgot anything since the last view (a forget,
    a rewrite the post-rewrite hook recorded), which the patch does not take."""
    from gittree.rawcommit import parse_commit_object

    was = keep[0] if keep else None
    names = [now, f"{now}:forgotten"] + ([f"{was}:forgotten"] if was else [])
    found = gitio.read_objects(repo, names)
    commit = found.get(now)
    if commit is None or commit[1] != "commit":
        raise _Fallback
    forgotten_now, forgotten_was = found.get(f"{now}:forgotten"), found.get(f"{was}:forgotten")
    if (forgotten_now and forgotten_now[0]) != (forgotten_was and forgotten_was[0]):
        raise _Fallback
    return tuple(parse_commit_object(commit[2])[0])


def _check_keep(
    keep: tuple[Any, ...],
    now: str,
    parents_now: tuple[str, ...],
    commits: dict[str, Any],
    chains: dict[str, list[str]],
) -> tuple[Any, ...]:
    """The keep ref may only have taken in new commits (what a run or ``gittree commit`` does: on a
    branch, or reset away since), each on top of the tree: no dead end of the tree more or less.
    Returns its commit and parents now."""
    parents = keep[1] if keep else ()
    bottoms = {chain[-1] for chain in chains.values()}
    if any(parent not in parents and parent not in commits for parent in parents_now):
        raise _Fallback  # an old commit kept anew
    if any(
        parent not in parents_now and parent not in bottoms and parent not in commits for parent in parents
    ):
        raise _Fallback
    return (now, parents_now)


def _new_curves(old_listing: bytes, listing: bytes, noted: set[str]) -> bool:
    """Whether the view's ``curves`` must be written again: the curves moved (a run stored some), or a
    commit new to the tree carries some already (``noted``: the notes commits that hold a note on one)."""
    now = gitio.listed_target(listing, gitio.CURVES_REF)
    if now is None:
        return False
    return now != gitio.listed_target(old_listing, gitio.CURVES_REF) or now in noted
