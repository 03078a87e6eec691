"""A finished tree extended by new experiments on top, without building it again (issue 19).

An agent loop asks for the tree after every experiment it records. Building it again costs the
whole history; what changed is one line of work grown by a commit or two. :class:`ViewIndex` holds
what the last tree's view needs to place and judge new experiments: each experiment's parents,
children, subtree size and author time (its place in the drawing order), the step its best path
takes, its marks (on the best path, ⚠), the live deltas sorted (the typical delta), the metric
counts (the metric the tree is judged by). :func:`extend` adds new commits to it and says which
lines of the view change: the new experiments' and the few old ones whose ★, HEAD, best-path or ⚠
mark moves. Everything else of the view is the same bytes (docs/performance.md, "Patching the last
view").

The extension is refused (None: the caller builds the tree whole) whenever it could differ from a
whole build: a merge or a revert among the new commits, a new experiment on a dead end, siblings to
reorder where a merge is inside their blocks, another metric chosen, too many marks moving. The
rules that judge (the best, the typical delta, ⚠, the metric chosen) are the builder's own functions
(:mod:`gittree.tree`). Pure: no git.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterator, Sequence
from itertools import accumulate

from gittree import tree as _tree
from gittree.config import Config
from gittree.model import (
    RECONSTRUCTED_FACT,
    CommitRecord,
    Identity,
    MetricSpec,
    Node,
    ResearchTree,
    Verdict,
    author_identity,
)
from gittree.tree import (
    REVERT_WORDS,
    _live_delta,
    _metric_names,
    _node,
    best_rank,
    experiment_of,
    is_surprise,
    judged_counts,
    judged_fact,
    median_size,
    pick_metric,
    rank_key,
    surprising_size,
)

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

#: More old lines than this changing (⚠ marks moving with the typical delta) and the view is rendered whole.
MAX_CHANGED_LINES = 4096
#: More new commits than this and the tree is built (or grown) as usual.
MAX_NEW_COMMITS = 256


class ViewIndex:
    """What a finished view's tree needs to be extended. Nodes are numbered in the order they were
    added (the view's drawing order for the first ones); arrays indexed "by id" follow that numbering,
    ``order`` and ``lengths`` the drawing order.

    A plain class, not a dataclass: the view patched after a new experiment imports this module, and
    generating a dataclass's methods costs milliseconds of that start-up.
    """

    #: bytes of a commit id: 20 (SHA-1) or 32 (SHA-256)
    width: int
    #: each node's commit id, by id, ``width`` bytes each (binary: half the index of hex)
    shas: bytearray
    order: array[int]
    #: bytes of each node's line in the view (with the separator before it), in drawing order
    lengths: array[int]
    parent_start: array[int]
    parent_ids: array[int]
    first_child: array[int]
    child_count: array[int]
    #: the children of nodes with two or more, in drawing order
    multi: dict[int, list[int]]
    size: array[int]
    time: array[int]
    #: the next step of the path to a node (:meth:`ResearchTree.path_parent`): the experiment parent its
    #: reference was found from
    step: array[int]
    #: the experiment each node is judged against (its ``reference``: the step, or further down), -1 for none
    reference: array[int]
    on_path: bytearray
    surprise: bytearray
    dead: bytearray
    #: 1 for each experiment only gittree's keep ref reaches (a dead end ``dead`` marks too)
    discarded: bytearray
    #: |delta| of every live experiment with a finite delta, sorted, and whose each is
    abs_sorted: array[float]
    abs_ids: array[int]
    metric_counts: dict[str, int]
    judged_counts: dict[str, int]
    best: int
    head: int
    #: the view's top-level fields before ``nodes`` (:func:`gittree.render.jsonview.tree_head` and ``config``)
    header: dict[str, Any]
    #: identities (author, email, time, offset) of the discarded experiments, and of every commit only
    #: the keep ref reached (those the whole build hid as earlier versions of rewritten experiments
    #: too): a new commit with one may be their rewrite, which a whole build would hide
    #: (``gittree.read._replace_rewritten``)
    identities: set[tuple[str, str, int, int]]
    #: the whole build hid rewritten experiments and their identities are not known: any new experiment
    #: may be one's next version
    hid_rewrites: bool
    #: the commit HEAD was at (an experiment or an ordinary commit above ``head``)
    head_commit: str | None
    #: the best experiment's :func:`gittree.tree.rank_key`
    best_key: float | None
    #: how many experiments can be the best with the best's rank key (the best among them): ties go to
    #: the one drawn first, which moving blocks of lines can change; -1 once a note may have made one
    best_ties: int
    #: 1 for each merge (an experiment with more than one parent) and every experiment above one: a
    #: merge is drawn after its last parent, so the subtree of such a node may not be one block of lines
    tainted: bytearray

    def __init__(self, **fields: Any) -> None:
        missing = self.__annotations__.keys() - fields.keys()
        unknown = fields.keys() - self.__annotations__.keys()
        if missing or unknown:
            raise TypeError(f"ViewIndex: missing {sorted(missing)}, unknown {sorted(unknown)}")
        for name, value in fields.items():
            setattr(self, name, value)

    def __len__(self) -> int:
        return len(self.size)

    def sha(self, node: int) -> str:
        return self.shas[node * self.width : (node + 1) * self.width].hex()

    def find(self, sha: str) -> int:
        """The id of the experiment ``sha``; -1 when it is not one of the tree's. A search of the ids'
        bytes (a few per view: the new commits' parents, HEAD), so no sorted copy is made or stored."""
        if len(sha) != 2 * self.width:
            return -1
        try:
            wanted = bytes.fromhex(sha)
        except ValueError:
            return -1
        return next(_aligned(self.shas, wanted, self.width), -1)

    def parents(self, node: int) -> array[int]:
        return self.parent_ids[self.parent_start[node] : self.parent_start[node + 1]]

    def children(self, node: int) -> list[int]:
        count = self.child_count[node]
        if count == 0:
            return []
        return [self.first_child[node]] if count == 1 else self.multi[node]

    def key(self, node: int) -> tuple[int, int, str]:
        """The drawing order's key among siblings (gittree.tree._drawing_order): biggest subtree last."""
        return self.size[node], self.time[node], self.sha(node)

    def position(self, node: int) -> int:
        return position_in(self.order, node)

    def add(self, sha: str, parent: int, node: Node) -> int:
        """A new node (a leaf under ``parent``) with its facts; returns its id (placed by the caller)."""
        new = len(self.size)
        self.shas += bytes.fromhex(sha)
        self.parent_ids.append(parent)
        self.parent_start.append(len(self.parent_ids))
        self.first_child.append(-1)
        self.child_count.append(0)
        self.size.append(1)
        self.time.append(node.author_time)
        self.step.append(parent)  # a leaf with one parent: its path goes through it
        self.reference.append(parent)  # until it is judged
        self.on_path.append(0)
        self.surprise.append(0)
        self.dead.append(1 if node.dead_end else 0)
        self.discarded.append(1 if node.discarded else 0)
        self.tainted.append(0)  # a leaf: no merge below it
        return new


def position_in(values: array[int], value: int) -> int:
    """``values.index(value)``, searched as bytes: ``array.index`` makes a Python int of every item
    before it (6 ms at 100k experiments, against under one here)."""
    for at in _aligned(values.tobytes(), array(values.typecode, [value]).tobytes(), values.itemsize):
        return at
    raise ValueError(f"{value} is not in the array")


def _aligned(data: bytes | bytearray, wanted: bytes, width: int) -> Iterator[int]:
    """The indexes of the items of ``width`` bytes in ``data`` that are ``wanted``, found by searching the
    bytes (a match across two items is skipped)."""
    at = data.find(wanted)
    while at >= 0:
        if at % width == 0:
            yield at // width
        at = data.find(wanted, at + 1)


def build_index(
    tree: ResearchTree,
    header: dict[str, Any],
    lengths: Sequence[int],
    *,
    head_commit: str | None,
    hid_rewrites: bool,
) -> ViewIndex:
    """The index of a tree the builder made (its subtree sizes and metric counts are the drawing
    order's) just rendered as ``show --json``: ``lengths`` is each node's line in bytes.

    Made column by column (one comprehension each, no tuple per node): at 100k experiments it is made
    after every whole render, so its time and memory count.
    """
    nodes = tree.nodes
    ids = {node.sha: number for number, node in enumerate(nodes)}
    count = len(nodes)
    path_parent = tree.path_parent
    child_count = array("i", [len(node.children) for node in nodes])
    first_child = array("i", [ids[node.children[0]] if node.children else -1 for node in nodes])
    multi = {
        number: [ids[child] for child in nodes[number].children]
        for number, children in enumerate(child_count)
        if children > 1
    }
    deltas = array("d")  # live finite |delta|s, and whose: two arrays, not a tuple per node (peak memory)
    owners = array("i")
    for number, node in enumerate(nodes):
        delta = _live_delta(node)
        if delta is not None and math.isfinite(delta):
            deltas.append(abs(delta))
            owners.append(number)
    ranked = sorted(range(len(deltas)), key=deltas.__getitem__)
    return ViewIndex(
        width=len(nodes[0].sha) // 2 if nodes else 20,
        shas=bytearray(bytes.fromhex("".join([node.sha for node in nodes]))),
        order=array("i", range(count)),
        lengths=array("I", lengths),
        parent_start=array("i", accumulate((len(node.parents) for node in nodes), initial=0)),
        parent_ids=array("i", [ids[parent] for node in nodes for parent in node.parents]),
        first_child=first_child,
        child_count=child_count,
        multi=multi,
        size=array("i", tree.subtree_sizes),
        time=array("q", [node.author_time for node in nodes]),
        step=array("i", [ids[parent] if (parent := path_parent(node)) else -1 for node in nodes]),
        reference=array("i", [ids[node.reference] if node.reference else -1 for node in nodes]),
        on_path=bytearray([node.on_best_path for node in nodes]),
        surprise=bytearray([node.surprise for node in nodes]),
        dead=bytearray([node.dead_end for node in nodes]),
        discarded=bytearray([node.discarded for node in nodes]),
        abs_sorted=array("d", [deltas[at] for at in ranked]),
        abs_ids=array("i", [owners[at] for at in ranked]),
        metric_counts=dict(tree.metric_counts),
        judged_counts=judged_counts(nodes),
        best=ids[tree.best] if tree.best is not None else -1,
        head=ids[tree.head] if tree.head is not None else -1,
        header=header,
        identities={author_identity(node) for node in nodes if node.discarded}.union(
            tree.kept_identities or ()
        ),
        # the identities of the experiments the whole build hid as rewritten are among those above when
        # the read said them; if it did not, any new experiment may be one's next version
        hid_rewrites=hid_rewrites and tree.kept_identities is None,
        head_commit=head_commit,
        best_key=_best_key(tree),
        best_ties=_best_ties(tree),
        tainted=_tainted(nodes, ids),
    )


def _tainted(nodes: list[Node], ids: dict[str, int]) -> bytearray:
    """:attr:`ViewIndex.tainted`: the merges and everything above them (each node marked once)."""
    tainted = bytearray(len(nodes))
    stack = [number for number, node in enumerate(nodes) if len(node.parents) > 1]
    while stack:
        number = stack.pop()
        if not tainted[number]:
            tainted[number] = 1
            stack.extend(ids[parent] for parent in nodes[number].parents)
    return tainted


def _best_ties(tree: ResearchTree) -> int:
    """:attr:`ViewIndex.best_ties` of a tree the builder made."""
    key = _best_key(tree)
    if key is None or tree.metric is None:
        return 0
    spec = tree.metric
    return sum(1 for node in tree.nodes if best_rank(node, spec) == key)


def _best_key(tree: ResearchTree) -> float | None:
    spec, best = tree.metric, tree.best
    if spec is None or best is None:
        return None
    return rank_key(tree.by_sha[best].metrics[spec.name].mean, spec.goal)


#: A new experiment's evaluation: delta, reference, verdict, single run.
Evaluated = tuple[float | None, str | None, str, bool]


class Extension:
    """What :func:`extend` changed: the new experiments (evaluated), the old ones whose marks moved."""

    def __init__(
        self,
        added: list[tuple[int, Node]],
        marks: dict[int, dict[str, bool]],
        typical: float | None,
        evaluations: list[Evaluated],
        moved: bool = False,
        rewritten: dict[int, Node] | None = None,
        effects: dict[str, Any] | None = None,
    ) -> None:
        #: the new experiments by id
        self.added = added
        #: old ids -> the marks that changed (``best``, ``head``, ``on_best_path``, ``surprise``) and their values
        self.marks = marks
        #: the tree's typical delta now
        self.typical = typical
        #: each new experiment's delta, reference, verdict and single-run flag (what a replay is given)
        self.evaluations = evaluations
        #: blocks of old lines moved (siblings reordered): the old lines are no longer in their old order
        self.moved = moved
        #: old experiments whose whole line is written again (a note changed them, or what they are judged against)
        self.rewritten = rewritten or {}
        #: what a note's extension changed in the index, as :func:`apply_effects` replays it
        self.effects = effects or {}


class _Refused(Exception):
    """The extension could differ from a whole build: build it whole."""


def extend(
    index: ViewIndex,
    commits: Sequence[CommitRecord],
    *,
    config: Config,
    metric: str | None,
    head: str | None,
    old_node: Callable[[int], Node] | None = None,
    evaluations: Sequence[Evaluated] | None = None,
    discarded: Collection[str] = (),
) -> Extension | None:
    """Add ``commits`` (each with one parent: an experiment of the tree or an earlier one of them,
    parents first) to ``index``, which is changed in place; None when that cannot be done exactly
    (then ``index`` is spoiled). ``discarded``: those of them only gittree's keep ref reaches (a try
    reset away): dead ends, as a whole build marks them. ``head``: HEAD's commit now; ``metric``: the one asked for;
    ``old_node(id)``: an old node as the view wrote it (for the few the new experiments are judged
    against). ``evaluations``: instead, each new experiment's evaluation as an earlier extension by
    the same commits gave it (:attr:`Extension.evaluations`): the index's own record of the views
    patched since it was stored is replayed so, without reading any view."""
    try:
        return _extend(index, commits, config, metric, head, old_node, evaluations, discarded)
    except _Refused:
        return None


def _extend(
    index: ViewIndex,
    commits: Sequence[CommitRecord],
    config: Config,
    metric: str | None,
    head: str | None,
    old_node: Callable[[int], Node] | None,
    evaluations: Sequence[Evaluated] | None,
    discarded: Collection[str],
) -> Extension:
    if len(commits) > MAX_NEW_COMMITS:
        raise _Refused
    _check_no_rewrite(index, commits, discarded)
    first_new = len(index)
    nodes: dict[str, Node] = {}  # the new ones by sha
    ids: dict[str, int] = {}
    # an ordinary new commit -> (its nearest experiment, commits folded)
    below: dict[str, tuple[int, int]] = {}
    params: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    moved = False
    for commit in commits:
        if len(commit.parents) != 1 or REVERT_WORDS in commit.message or commit.shallow:
            raise _Refused
        parent = commit.parents[0]
        if parent in below:
            experiment, folded = below[parent]
        else:
            experiment = ids[parent] if parent in ids else index.find(parent)
            folded = 0
            if experiment < 0:
                raise _Refused
        record = experiment_of(commit)
        if record is None:
            below[commit.sha] = (experiment, folded + 1)
            continue
        if index.dead[experiment] or index.hid_rewrites:
            raise _Refused  # past a dead end, or a rewrite a whole build would hide: built whole
        identity = author_identity(commit)
        kept_only = commit.sha in discarded
        if identity in index.identities and not kept_only:
            raise _Refused  # it may be a dead end's next version, which a whole build hides
        parent_sha = index.sha(experiment)
        node = _node(commit, record, (parent_sha,), {parent_sha: folded} if folded else {}, 0, False, params)
        if kept_only and RECONSTRUCTED_FACT not in node.run:  # as gittree.tree._finish marks them
            node.discarded = True
            index.identities.add(identity)
        number = index.add(commit.sha, experiment, node)
        nodes[commit.sha], ids[commit.sha] = node, number
        moved = _attach(index, number, experiment) or moved
        _count_metrics(index, node)
    spec = _spec(index, config, metric)
    marks: dict[int, dict[str, bool]] = {}
    added = [(ids[sha], node) for sha, node in nodes.items()]
    if evaluations is None:
        if old_node is None:
            raise ValueError("extend: give old_node or evaluations")
        by_sha = _Lazy(index, nodes, old_node)
        valued: dict[str, Node | None] = {}
        for _, node in added:
            _tree._evaluate_node(node, by_sha, spec, valued)  # through the module: the tests count the calls
    elif len(evaluations) != len(added):
        raise _Refused
    else:
        for (_, node), (delta, reference, verdict, single_run) in zip(added, evaluations, strict=True):
            node.delta, node.reference, node.verdict, node.single_run = (
                delta,
                reference,
                Verdict(verdict),
                single_run,
            )
    for number, node in added:
        if node.reference is not None:
            index.reference[number] = (
                ids[node.reference] if node.reference in ids else index.find(node.reference)
            )
    typical = _retypical(index, added, spec, marks, first_new)
    for number, node in added:
        node.surprise = is_surprise(node, typical, spec)
        index.surprise[number] = node.surprise
    _rebest(index, added, spec, marks, first_new)
    _rehead(index, head, ids, below, nodes, marks, first_new)
    for number, node in added:
        node.on_best_path = bool(index.on_path[number])
    if len(marks) > MAX_CHANGED_LINES:
        raise _Refused
    if moved and index.best >= 0 and index.best_ties != 1:
        raise _Refused  # blocks moved: which of the experiments tied with the best is drawn first may too
    evaluated = [(node.delta, node.reference, node.verdict.value, node.single_run) for _, node in added]
    return Extension(added, marks, typical, evaluated, moved)


def _check_no_rewrite(index: ViewIndex, commits: Sequence[CommitRecord], discarded: Collection[str]) -> None:
    """Refused when a new dead end may be an earlier version of an experiment a branch reaches (the same
    author and author date: amend and rebase keep them), which a whole build hides (``gittree.read``'s
    ``_replace_rewritten``): a new commit that is not a dead end, or an old experiment that is not one
    of the keep ref's dead ends, with its author time (a loop's tries an hour apart, or a second apart
    after an earlier dead end, are patched)."""
    if not discarded:
        return
    dead = {author_identity(commit) for commit in commits if commit.sha in discarded}
    if any(author_identity(commit) in dead for commit in commits if commit.sha not in discarded):
        raise _Refused
    times = index.time.tobytes()
    for _, _, when, _ in dead:
        if any(
            not index.discarded[n] for n in _aligned(times, array("q", [when]).tobytes(), index.time.itemsize)
        ):
            raise _Refused


def _attach(index: ViewIndex, number: int, parent: int) -> bool:
    """Place the new leaf ``number`` under ``parent``: its drawing position, every ancestor's subtree
    bigger, and siblings whose order that changes drawn in the new order (True: blocks moved)."""
    siblings = index.children(parent)
    key = index.key(number)
    keys = [index.key(sibling) for sibling in siblings]
    rank = bisect_left(keys, key)
    for sibling in siblings[:rank]:
        # smaller than a new leaf: leaves, drawn one after the other right after the parent, unless a
        # merge (drawn after its last parent)
        if index.parent_start[sibling + 1] - index.parent_start[sibling] != 1:
            raise _Refused
    children = [*siblings[:rank], number, *siblings[rank:]]
    index.child_count[parent] = len(children)
    index.first_child[parent] = children[0]
    if len(children) > 1:
        index.multi[parent] = children
    index.order.insert(index.position(parent) + 1 + rank, number)
    index.lengths.insert(index.position(number), 0)  # written once the line is
    # Every ancestor's subtree grows: by one for each path down to the new leaf (a whole build counts an
    # experiment below a merge once under each of its parents), ancestors taken children first.
    ancestors = {parent}
    stack = [parent]
    while stack:
        for above in index.parents(stack.pop()):
            if above not in ancestors:
                ancestors.add(above)
                stack.append(above)
    waiting = {node: sum(child in ancestors for child in index.children(node)) for node in ancestors}
    growth = dict.fromkeys(ancestors, 0)
    growth[parent] = 1
    ready = [parent]
    resorted: set[int] = set()
    while ready:
        node = ready.pop()
        index.size[node] += growth[node]
        for above in index.parents(node):
            growth[above] += growth[node]
            waiting[above] -= 1
            if waiting[above] == 0:
                ready.append(above)
            if index.child_count[above] > 1:
                resorted.add(above)
    moved = False
    for node in resorted:
        children = index.multi[node]
        keys = [index.key(child) for child in children]
        if all(keys[i] < keys[i + 1] for i in range(len(keys) - 1)):
            continue
        if any(index.tainted[child] for child in children):
            raise _Refused  # a merge is drawn after its last parent: a subtree may not be one block
        _move_blocks(index, node, sorted(children, key=index.key))
        moved = True
    return moved


def _move_blocks(index: ViewIndex, node: int, children: list[int]) -> None:
    """Draw ``node``'s children in the order ``children``: each child's subtree is one block of lines
    (none holds a merge or a parent of one, so each is drawn depth first), right after ``node`` and its
    earlier siblings' blocks."""
    start = index.position(node) + 1
    blocks: dict[int, tuple[int, int]] = {}
    at = start
    for child in index.multi[node]:
        blocks[child] = (at, at + index.size[child])
        at += index.size[child]
    order, lengths = index.order, index.lengths
    new_order, new_lengths = array(order.typecode), array(lengths.typecode)
    for child in children:
        low, high = blocks[child]
        new_order += order[low:high]
        new_lengths += lengths[low:high]
    order[start:at] = new_order
    lengths[start:at] = new_lengths
    index.multi[node] = children


def _count_metrics(index: ViewIndex, node: Node, by: int = 1) -> None:
    """Count ``node``'s metrics (and its ``judged-by`` fact) in, or out with ``by=-1``."""
    judged = judged_fact(node)
    for counts, names in (
        (index.metric_counts, node.metrics),
        (index.judged_counts, (judged,) if judged else ()),
    ):
        for name in names:
            counts[name] = counts.get(name, 0) + by
            if counts[name] == 0:
                del counts[name]


def _spec(index: ViewIndex, config: Config, metric: str | None) -> MetricSpec | None:
    """The metric :func:`gittree.tree.choose_metric` picks with the new counts; refused if it moves."""
    chosen = pick_metric(metric, config, index.judged_counts, _metric_names(index.metric_counts))
    if chosen != index.header.get("metric"):
        raise _Refused
    return config.spec(chosen) if chosen else None


class _Lazy(dict[str, Node]):
    """Nodes by sha for the evaluation of the new ones: those, and old ones made from the view's lines."""

    def __init__(self, index: ViewIndex, new: dict[str, Node], old_node: Callable[[int], Node]) -> None:
        super().__init__(new)
        self.index, self.old_node = index, old_node

    def __missing__(self, sha: str) -> Node:
        number = self.index.find(sha)
        if number < 0:
            raise KeyError(sha)
        node = self[sha] = self.old_node(number)
        return node


def _retypical(
    index: ViewIndex,
    added: list[tuple[int, Node]],
    spec: MetricSpec | None,
    marks: dict[int, dict[str, bool]],
    first_new: int,
) -> float | None:
    """The typical delta with the new experiments' deltas (:func:`gittree.tree.typical_delta`), and the
    old ⚠ marks it moves: those whose |delta| lies between the old and the new yardstick."""
    sizes = index.abs_sorted
    before = median_size(sizes, spec)
    live = ((number, _live_delta(node)) for number, node in added)
    _apply_deltas(
        index,
        [],
        [(abs(delta), number) for number, delta in live if delta is not None and math.isfinite(delta)],
    )
    after = median_size(sizes, spec)
    _flip_surprises(index, before, after, spec, marks, lambda number: number >= first_new)
    return after


def _flip_surprises(
    index: ViewIndex,
    before: float | None,
    after: float | None,
    spec: MetricSpec | None,
    marks: dict[int, dict[str, bool]],
    judged_apart: Callable[[int], bool],
) -> None:
    """The ⚠ marks a new typical delta moves: those of the live experiments whose |delta| lies between
    the old and the new yardstick (but ``judged_apart`` ones, whose lines are written whole)."""
    if spec is None or before == after or spec.surprise_factor == 0:
        return
    sizes = index.abs_sorted
    limits = sorted(spec.surprise_factor * t for t in (before, after) if t)
    if not limits:
        return
    start = bisect_right(sizes, limits[0])
    end = bisect_right(sizes, limits[1]) if len(limits) == 2 else len(sizes)
    if end - start > MAX_CHANGED_LINES:
        raise _Refused
    for at in range(start, end):
        number = index.abs_ids[at]
        if judged_apart(number):
            continue
        now = surprising_size(sizes[at], after, spec)
        if now != bool(index.surprise[number]):
            index.surprise[number] = now
            marks.setdefault(number, {})["surprise"] = now


def _rebest(
    index: ViewIndex,
    added: list[tuple[int, Node]],
    spec: MetricSpec | None,
    marks: dict[int, dict[str, bool]],
    first_new: int,
) -> None:
    """The best experiment with the new ones (ties: the earliest drawn), and the best path's marks."""
    if spec is None:
        return
    old_best = index.best
    for number, node in sorted(added, key=lambda item: index.position(item[0])):
        _take_best_if_better(index, number, best_rank(node, spec))
    best = index.best
    if best == old_best:
        return
    for number, flag in ((old_best, False), (best, True)):
        if 0 <= number < first_new:
            marks.setdefault(number, {})["best"] = flag
    for number, node in added:
        node.best = number == best
    _repath(index, old_best, best, marks, first_new)


def _take_best_if_better(index: ViewIndex, number: int, key: float | None) -> None:
    """``number`` becomes the best when it can be (``key``: its :func:`gittree.tree.best_rank`) and
    beats the best, or ties it and is drawn earlier (:func:`gittree.tree.best_experiment`'s rule)."""
    if key is None:
        return
    best, best_key = index.best, index.best_key
    if best < 0 or best_key is None or key > best_key:  # the best alone: no other had a key above the old
        index.best, index.best_key, index.best_ties = number, key, 1
    elif key == best_key:
        if index.best_ties > 0:
            index.best_ties += 1
        if index.position(number) < index.position(best):
            index.best = number


def _repath(
    index: ViewIndex, old_best: int, best: int, marks: dict[int, dict[str, bool]], first_new: int
) -> None:
    """The best path's marks when the best moves from ``old_best`` to ``best``: the new path runs from
    the new best down to where it meets the old one; the old one's part above that point leaves it."""
    meeting = -1
    current = best
    while current >= 0:
        if index.on_path[current]:
            meeting = current
            break
        index.on_path[current] = 1
        if current < first_new:
            marks.setdefault(current, {})["on_best_path"] = True
        current = index.step[current]
    current = old_best
    while current >= 0 and current != meeting:
        index.on_path[current] = 0
        if current < first_new:
            marks.setdefault(current, {})["on_best_path"] = False
        current = index.step[current]


def _rehead(
    index: ViewIndex,
    head: str | None,
    ids: dict[str, int],
    below: dict[str, tuple[int, int]],
    nodes: dict[str, Node],
    marks: dict[int, dict[str, bool]],
    first_new: int,
) -> None:
    """The experiment HEAD is at (or the nearest below it) now, and its mark."""
    if head is None:
        now = -1
    elif head in ids:
        now = ids[head]
    elif head in below:
        now = below[head][0]
    elif head == index.head_commit:
        return
    else:
        now = index.find(head)
        if now < 0:
            raise _Refused  # HEAD moved to an old ordinary commit: its nearest experiment is not known here
    index.head_commit = head
    if now == index.head:
        return
    for number, flag in ((index.head, False), (now, True)):
        if 0 <= number < first_new:
            marks.setdefault(number, {})["head"] = flag
    index.head = now
    for sha, node in nodes.items():
        node.head = ids[sha] == now


# -- a note on an experiment (another sample, late results) ---------------------------------------

#: More lines than this written again (an experiment and those judged against it) and the view is rendered whole.
MAX_REWRITTEN = 256


def renote(
    index: ViewIndex,
    renoted: dict[int, Node],
    *,
    config: Config,
    metric: str | None,
    old_node: Callable[[int], Node],
    dying: Collection[int] = (),
) -> Extension | None:
    """The experiments ``renoted`` (by id) as a changed note made them (what they record; their place
    in the tree is the old one's), judged again with those judged against them; ``index`` is changed
    in place. None when that cannot be done exactly: a note that kills or revives an experiment, gives
    or takes away its value on the tree's metric, makes the best one worse, changes the metric the
    tree is judged by, or touches an experiment above a merge (a merge may then pick another parent
    to be judged against).

    ``dying``: those of ``renoted`` that are dead ends now (a try a view saw on its branch, reset away
    since: only the keep ref reaches it): each must be a leaf that is not the best (nothing is judged
    against it, no best path goes through it), and is judged again as a dead end."""
    try:
        return _renote(index, renoted, config, metric, old_node, frozenset(dying))
    except _Refused:
        return None


def _renote(
    index: ViewIndex,
    renoted: dict[int, Node],
    config: Config,
    metric: str | None,
    old_node: Callable[[int], Node],
    dying: frozenset[int] = frozenset(),
) -> Extension:
    olds = {number: old_node(number) for number in renoted}
    for number, new in renoted.items():
        old = olds[number]
        if index.tainted[number]:
            raise _Refused
        if number in dying:
            if old.dead_end or not new.dead_end or index.child_count[number] or number == index.best:
                raise _Refused
        elif old.dead_end != new.dead_end:
            raise _Refused
        if index.hid_rewrites or author_identity(new) in index.identities:
            raise _Refused  # its results decide whether a dead end is its earlier version (a whole build hides it)
        _count_metrics(index, old, -1)
        _count_metrics(index, new)
    spec = _spec(index, config, metric)
    if spec is not None and any(
        (spec.name in olds[n].metrics) != (spec.name in renoted[n].metrics) for n in renoted
    ):
        raise _Refused  # what is judged against what changes: rendered whole
    rewritten: dict[int, Node] = dict(renoted)
    for number in renoted:
        for referrer in _referrers(index, number):
            if referrer not in rewritten:
                rewritten[referrer] = old_node(referrer)
            if len(rewritten) > MAX_REWRITTEN:
                raise _Refused
    was = {number: olds.get(number, node).delta for number, node in rewritten.items()}
    was_dead = {number: olds.get(number, node).dead_end for number, node in rewritten.items()}
    by_sha = _Lazy(index, {node.sha: node for node in renoted.values()}, old_node)
    valued: dict[str, Node | None] = {}
    for number in sorted(
        rewritten, key=lambda n: (n not in renoted, index.position(n) if n in renoted else 0)
    ):
        _tree._evaluate_node(rewritten[number], by_sha, spec, valued)
    sizes = index.abs_sorted
    before = median_size(sizes, spec)
    removed: list[tuple[float, int]] = []
    inserted: list[tuple[float, int]] = []
    for number, node in rewritten.items():
        old_delta = was[number]
        if old_delta is not None and not was_dead[number] and math.isfinite(old_delta):
            removed.append((abs(old_delta), number))
        live = _live_delta(node)
        if live is not None and math.isfinite(live):
            inserted.append((abs(live), number))
    _apply_deltas(index, removed, inserted)
    after = median_size(sizes, spec)
    marks: dict[int, dict[str, bool]] = {}
    _flip_surprises(index, before, after, spec, marks, rewritten.__contains__)
    surprises = {}
    for number, node in rewritten.items():
        node.surprise = is_surprise(node, after, spec)
        index.surprise[number] = node.surprise
        surprises[number] = node.surprise
    died = [(number, author_identity(renoted[number])) for number in sorted(dying)]
    _mark_dead(index, died)
    old_best = index.best
    if spec is not None:
        _rebest_renoted(index, renoted, spec)
        _repath(index, old_best, index.best, marks, len(index))
    index.best_ties = -1  # a note may have made or undone a tie with the best: not known from here
    for number, node in rewritten.items():
        node.best, node.head = number == index.best, number == index.head
        node.on_best_path = bool(index.on_path[number])
        marks.pop(number, None)
    if old_best != index.best:
        for number, flag in ((old_best, False), (index.best, True)):
            if number >= 0 and number not in rewritten:
                marks.setdefault(number, {})["best"] = flag
    if len(marks) > MAX_CHANGED_LINES:
        raise _Refused
    effects = {
        "counts": dict(index.metric_counts),
        "judged": dict(index.judged_counts),
        "removed": removed,
        "inserted": inserted,
        "surprise": {**{n: m["surprise"] for n, m in marks.items() if "surprise" in m}, **surprises},
        "on_path": {n: m["on_best_path"] for n, m in marks.items() if "on_best_path" in m}
        | {n: bool(index.on_path[n]) for n in rewritten},
        "best": (index.best, index.best_key),
        "typical": after,
        "died": died,
    }
    return Extension([], marks, after, [], rewritten=rewritten, effects=effects)


def _mark_dead(index: ViewIndex, died: Sequence[tuple[int, Identity]]) -> None:
    """Experiments only the keep ref reaches now: dead ends, discarded, their identities those of one."""
    for number, identity in died:
        index.dead[number] = index.discarded[number] = 1
        index.identities.add(identity)


def _referrers(index: ViewIndex, number: int) -> list[int]:
    """The experiments judged against ``number`` (its id is their reference), searched as bytes."""
    reference = index.reference
    return list(
        _aligned(reference.tobytes(), array(reference.typecode, [number]).tobytes(), reference.itemsize)
    )


def _apply_deltas(
    index: ViewIndex, removed: list[tuple[float, int]], inserted: list[tuple[float, int]]
) -> None:
    sizes, owners = index.abs_sorted, index.abs_ids
    for size, number in removed:
        at = bisect_left(sizes, size)
        while at < len(sizes) and sizes[at] == size and owners[at] != number:
            at += 1
        if at == len(sizes) or owners[at] != number:
            raise _Refused
        del sizes[at]
        del owners[at]
    for size, number in inserted:
        at = bisect_right(sizes, size)
        sizes.insert(at, size)
        owners.insert(at, number)


def _rebest_renoted(index: ViewIndex, renoted: dict[int, Node], spec: MetricSpec) -> None:
    """The best experiment after notes changed ``renoted``: the old one unless a renoted one now beats
    it (ties: the earliest drawn); refused when the best one itself got worse (any other may win)."""
    for number in sorted(renoted, key=index.position):
        key = best_rank(renoted[number], spec)
        if number != index.best:
            _take_best_if_better(index, number, key)
        elif key is None or index.best_key is None or key < index.best_key:
            raise _Refused
        else:
            index.best_key = key


def apply_effects(index: ViewIndex, effects: dict[str, Any]) -> None:
    """Replay what :func:`renote` changed (its :attr:`Extension.effects`), without reading any line."""
    index.metric_counts, index.judged_counts = dict(effects["counts"]), dict(effects["judged"])
    _apply_deltas(index, effects["removed"], effects["inserted"])
    for number, flag in effects["surprise"].items():
        index.surprise[number] = flag
    for number, flag in effects["on_path"].items():
        index.on_path[number] = flag
    index.best, index.best_key = effects["best"]
    index.best_ties = -1  # as renote leaves it
    _mark_dead(index, [(number, tuple(identity)) for number, identity in effects.get("died", ())])
