"""Commits -> research tree. Pure: no git, no I/O.

The rules (docs/tree.md):

* an experiment is a commit with at least one ``Gittree-*`` trailer (or a gittree note);
* its experiment parents are its nearest experiment ancestors on each parent path, skipping ordinary
  commits, which are counted into the edge ("+N commits"); a parent that is an ancestor of another
  parent is dropped, since the other parent already descends from it;
* drawing order: roots oldest first, each subtree depth-first with children oldest first; a merge is
  drawn once all its parents are drawn;
* deltas and verdicts are against the experiment parent (for a merge, its best parent on the metric).
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from gittree.config import Config
from gittree.model import (
    RECONSTRUCTED_FACT,
    CommitRecord,
    Goal,
    History,
    MetricSpec,
    MetricSummary,
    Node,
    ResearchTree,
    Verdict,
)
from gittree.trailers import ExperimentRecord, merge_records, parse_experiment_quick

TYPE_CHECKING = False  # `typing` costs milliseconds of a patched view's start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

NOTE_TITLE = "gittree note\n\n"


def message_record(message: str) -> ExperimentRecord | None:
    """What a commit message's own Gittree-* trailers record (None for an ordinary commit)."""
    # "Gittree-" as gittree writes it is found without lowering the whole message first
    if "Gittree-" in message or "gittree-" in message.lower():
        return parse_experiment_quick(message)
    return None


def experiment_of(
    commit: CommitRecord, parsed: Mapping[str, ExperimentRecord | None] | None = None
) -> ExperimentRecord | None:
    """The experiment a commit records: its trailers plus what its gittree note adds.

    ``parsed`` may hold :func:`message_record` of commits already parsed (by sha, from the cache).
    """
    if parsed is not None and commit.sha in parsed:
        record = parsed[commit.sha]
    else:
        record = message_record(commit.message)
    return _with_note(record, commit.note) if commit.note else record


def _with_note(record: ExperimentRecord | None, note: str) -> ExperimentRecord | None:
    """``record`` with what a commit's gittree ``note`` adds."""
    for paragraph in note_paragraphs(note):
        record = merge_records(record, parse_experiment_quick(NOTE_TITLE + paragraph + "\n"))
    return record


def note_paragraphs(note: str | None) -> list[str]:
    """A gittree note's paragraphs: `git notes append` and git's note rewriting separate each addition
    by a blank line, and every paragraph is a trailer block."""
    if not note:
        return []
    return [
        paragraph.strip("\n") for paragraph in note.replace("\r\n", "\n").split("\n\n") if paragraph.strip()
    ]


#: No entry in a ``parsed`` mapping: the message is parsed where it is needed.
_UNPARSED: Any = object()


@dataclass
class _Frontier:
    """For an ordinary commit: its nearest experiment ancestors, with ordinary commits between (itself included)."""

    experiments: dict[str, int] = field(default_factory=dict)
    #: longest run of ordinary commits down to a root with no experiment on the way (0: none).
    bare: int = 0
    cut: bool = False


def build_tree(
    commits: Iterable[CommitRecord],
    *,
    config: Config | None = None,
    metric: str | None = None,
    head: str | None = None,
    parsed: Mapping[str, ExperimentRecord | None] | None = None,
) -> ResearchTree:
    """Build the research tree of ``commits`` (any order) and colour it by ``metric``.

    ``parsed``: the trailers of commit messages already parsed, by sha (see :func:`experiment_of`).
    """
    by_sha = {commit.sha: commit for commit in commits}
    return _assemble(by_sha, dict(parsed or {}), config or Config(), metric, head)[0]


def build_tree_of(
    history: History,
    *,
    config: Config,
    metric: str | None,
    head: str | None,
    discarded: frozenset[str] = frozenset(),
) -> ResearchTree:
    """:func:`build_tree` of a history read for this tree alone, which is emptied as the tree is built.

    Each commit's record and parsed trailers are let go once its node is made, so a 100k-commit
    history and its tree are never held whole at the same time (peak memory, docs/performance.md).
    """
    return build_seeded(history, config=config, metric=metric, head=head, discarded=discarded)[0]


def build_seeded(
    history: History,
    *,
    config: Config,
    metric: str | None,
    head: str | None,
    discarded: frozenset[str] = frozenset(),
    tips: Collection[str] | None = None,
) -> tuple[ResearchTree, Seed]:
    """:func:`build_tree_of`, and the :class:`Seed` a later :func:`grow_tree` resumes from when ``tips``
    (the tips ``history`` was read from) are given (else an empty one)."""
    by_sha = {commit.sha: commit for commit in history.commits}
    history.commits.clear()
    tree, seed = _assemble(by_sha, history.parsed, config, metric, head, discarded, tips)
    history.parsed.clear()  # what no commit of the history used
    tree.left_out.update(history.left_out)
    return tree, seed


def _assemble(
    by_sha: dict[str, CommitRecord],
    parsed: dict[str, ExperimentRecord | None],
    config: Config,
    metric: str | None,
    head: str | None,
    discarded: frozenset[str] = frozenset(),
    seed_of: Collection[str] | None = None,
) -> tuple[ResearchTree, Seed]:
    """The tree of the commits ``by_sha``, the trailers of those already parsed ``parsed`` (by sha); both
    dictionaries are emptied.

    ``discarded``: commits only gittree's keep ref reaches; their experiments are dead ends.
    ``seed_of``: the tips the history was read from; when given, the seed returned with the tree is
    what a later build resumes from (:func:`grow_tree`), else it is emptied.
    """
    order = _parents_first(by_sha)
    seed = Seed({}, {}, {})
    _place(order, by_sha, parsed, seed)
    if seed_of is not None:
        seed.frontiers = {
            sha: seed.frontiers[sha] for sha in (*seed_of, head) if sha is not None and sha in seed.frontiers
        }
    else:
        # 100k entries at 100k experiments: let go before the drawing order makes its own
        seed.generation.clear()
    tree = _finish(seed, order, config, metric, head, discarded)
    seed.unsettled = set()  # every node was evaluated with the tree's metric: seed.evaluated
    if seed_of is None:
        seed.nodes, seed.frontiers = {}, {}
    return tree, seed


@dataclass
class Seed:
    """What the builder knows after the last commit of a history: what a later build resumes from.

    ``nodes``: every experiment, parents first, before evaluation; ``generation``: each one's depth
    (:func:`_below`); ``frontiers``: the nearest experiments of ordinary commits (kept, in a stored
    seed, only for the tips and HEAD: where new commits can start from).
    """

    nodes: dict[str, Node]
    generation: dict[str, int]
    frontiers: dict[str, _Frontier]
    #: the params dictionaries made so far, by their pairs (equal sets are one object)
    params: dict[tuple[tuple[str, str], ...], dict[str, str]] = field(default_factory=dict)
    #: the metric (:func:`spec_key`) the nodes' evaluations hold for, but those of ``unsettled``
    evaluated: str | None = None
    unsettled: set[str] = field(default_factory=set)
    #: a node changed what it records (a note): the evaluations of its descendants may change
    renoted: bool = False
    #: nodes whose evaluation changed in the last :func:`_finish` (beyond ``unsettled`` ones)
    reevaluated: set[str] = field(default_factory=set)
    #: revert commits that made an experiment a dead end, and that experiment (a revert of one reapplies it).
    reverts: dict[str, str] = field(default_factory=dict)


def _place(
    order: list[str], by_sha: dict[str, CommitRecord], parsed: dict[str, ExperimentRecord | None], seed: Seed
) -> None:
    """Add the commits ``order`` (each after its parents) to ``seed``: a node per experiment, a frontier
    per ordinary commit. ``parsed``: the trailers of commits already parsed (the others' messages are
    parsed here). Each commit and record is let go once used (see build_tree_of)."""
    frontiers, nodes, generation, params = seed.frontiers, seed.nodes, seed.generation, seed.params
    # Parents come first, so "is this parent an experiment?" is "has it a node yet?".
    # Each node's generation: 1 + that of its highest experiment parent. An ancestor always has a lower
    # generation than its descendants, which bounds the walks that look for one below another.
    reverts = seed.reverts
    for sha in order:
        commit = by_sha.pop(sha)
        parents = commit.parents
        # :func:`experiment_of`, inline: what the commit records (a read parsed most messages already)
        record = parsed.pop(sha, _UNPARSED)
        if record is _UNPARSED:
            record = message_record(commit.message)
        if commit.note:
            record = _with_note(record, commit.note)
        if REVERT_WORDS in commit.message:
            _take_back(commit, nodes, frontiers, reverts)
        if len(parents) == 1 and parents[0] in nodes and not commit.shallow:
            # The usual step, decided without building a frontier: right on top of an experiment.
            if record is not None:
                if nodes[parents[0]].dead_end:
                    live, folded = _past_dead_ends({parents[0]: 0}, nodes, generation)
                    nodes[sha] = _node(commit, record, tuple(live), folded, 0, False, params)
                    generation[sha] = 1 + max((generation[p] for p in live), default=-1)
                else:
                    nodes[sha] = _node(commit, record, parents, _NO_FOLDS, 0, False, params)
                    generation[sha] = generation[parents[0]] + 1
            else:
                frontiers[sha] = _Frontier({parents[0]: 1})
            continue
        incoming = _incoming(commit, nodes, frontiers)
        experiments = incoming.experiments
        if len(parents) > 1 and len(experiments) > 1:
            # A merge: keep only the experiments no other one here descends from (their line of work
            # is already included). Done at every merge, experiment or not, each commit's nearest
            # experiments stay a few: a main line that merges branch after branch would otherwise
            # carry every experiment ever merged in each of its commits (3,000 merged branches: 9 s
            # and 1.2 GB). A commit with one parent inherits a list already cut.
            below = _below(experiments, nodes, generation)
            experiments = {exp: n for exp, n in experiments.items() if exp not in below}
        if record is not None:
            if any(nodes[exp].dead_end for exp in experiments):
                experiments, _ = _past_dead_ends(experiments, nodes, generation)
            folded = {exp: n for exp, n in experiments.items() if n} or _NO_FOLDS
            nodes[sha] = _node(
                commit, record, tuple(experiments), folded, incoming.bare, incoming.cut, params
            )
            generation[sha] = 1 + max((generation[exp] for exp in experiments), default=-1)
        else:
            frontiers[sha] = _Frontier(
                {exp: n + 1 for exp, n in experiments.items()},
                incoming.bare + 1 if incoming.bare or not experiments else 0,
                incoming.cut,
            )


def _finish(
    seed: Seed,
    parents_first: list[str],
    config: Config,
    metric: str | None,
    head: str | None,
    discarded: frozenset[str],
) -> ResearchTree:
    """The tree of the nodes ``seed`` holds: dead ends marked, children, drawing order, HEAD, evaluation.

    ``parents_first``: the nodes' shas (ordinary commits' may be among them), each after its parents.
    """
    nodes = seed.nodes
    for sha in discarded:
        node = nodes.get(sha)
        # A reconstructed experiment lives only under the keep ref by design: its log says if it was kept.
        if node is not None and RECONSTRUCTED_FACT not in node.run:
            node.discarded = True
    for node in nodes.values():
        for parent in node.parents:
            nodes[parent].children.append(node.sha)
    ordered, sizes = _drawing_order(nodes, parents_first)

    head_node, _ = _head_experiment(head, nodes, seed.frontiers, seed.generation)
    counts = _metric_counts(ordered)
    tree = ResearchTree(nodes=ordered, metric=None, head=head_node, metric_names=_metric_names(counts))
    tree.subtree_sizes, tree.metric_counts = sizes, counts
    if head_node is not None:  # every node was made with head False
        nodes[head_node].head = True
    chosen = choose_metric(tree, config, metric)
    _evaluate_seed(tree, seed, config.spec(chosen) if chosen else None)
    return tree


#: What ``git revert`` writes in the message of a revert (``This reverts commit <sha>.``).
REVERT_WORDS = "This reverts commit "
_REVERTED = re.compile(r"^This reverts commit ([0-9a-f]{40}|[0-9a-f]{64})\b", re.MULTILINE)


def _take_back(
    commit: CommitRecord, nodes: dict[str, Node], frontiers: dict[str, _Frontier], reverts: dict[str, str]
) -> None:
    """A ``git revert`` of the experiment right below it makes that experiment a dead end (issue 17).

    An agent loop that reverts a loser leaves it on the main line; what comes next grows from the kept
    line, as when the loser is reset away. Only an experiment with no other experiment between it and
    the revert (in the revert's nearest experiments) is taken back: reverting an older change keeps
    what was built on it. A revert of such a revert puts the experiment back on the line.
    """
    found = _REVERTED.search(commit.message)
    if found is None:
        return
    target = found.group(1)
    below = _incoming(commit, nodes, frontiers).experiments
    if target in reverts:  # "Reapply": a revert of the revert
        experiment = nodes[reverts[target]]
        if experiment.sha in below and experiment.reverted_by == target:
            experiment.discarded, experiment.reverted_by = False, None
        return
    node = nodes.get(target)
    if node is not None and target in below and node.reverted_by is None:
        node.discarded, node.reverted_by = True, commit.sha
        reverts[commit.sha] = target


def spec_key(spec: MetricSpec | None) -> str:
    """What a node's own evaluation (delta, reference, verdict) depends on besides its ancestors."""
    return repr(spec)


def _evaluate_seed(tree: ResearchTree, seed: Seed, spec: MetricSpec | None) -> None:
    """:func:`evaluate` the tree, computing again only the evaluations that can change.

    A node's delta, reference and verdict depend on the metric and on its ancestors alone: when the
    seed's evaluations are for this metric and no note changed a node, only the nodes not evaluated
    yet (the new ones) are; the typical delta, ⚠, ★ and the best path are computed over the whole
    tree every time (they depend on every node).
    """
    key = spec_key(spec)
    if seed.evaluated == key and not seed.renoted:
        evaluate(tree, spec, only=seed.unsettled)
        seed.unsettled = set()
        return
    if seed.evaluated != key:
        evaluate(tree, spec)
        if seed.renoted or seed.evaluated is None:
            # the stored evaluations may be stale for their metric: none is used again; this one's are
            seed.evaluated, seed.unsettled = key, set()
            seed.reevaluated = set(seed.nodes)
        return
    before = {
        node.sha: (node.delta, repr(node.delta), node.reference, node.verdict, node.single_run)
        for node in tree.nodes
        if node.sha not in seed.unsettled
    }
    evaluate(tree, spec)
    seed.reevaluated = {
        node.sha
        for node in tree.nodes
        if node.sha in before
        and before[node.sha] != (node.delta, repr(node.delta), node.reference, node.verdict, node.single_run)
    }
    seed.unsettled = set()


def grow_tree(
    seed: Seed,
    commits: Iterable[CommitRecord],
    *,
    config: Config,
    metric: str | None,
    head: str | None,
    discarded: frozenset[str] = frozenset(),
    tips: Collection[str] = (),
) -> tuple[ResearchTree, Seed]:
    """The tree of ``seed``'s history plus ``commits``: new commits whose parents are in that history or
    among ``commits`` (and whose ordinary parents have a frontier in ``seed``). ``seed`` is used up: the
    seed returned with the tree (for the next growth) keeps the frontiers of ``tips`` and ``head``.

    The nodes already in ``seed`` are not built again: a commit's experiment parents depend only on
    the commits below it, which a new commit never changes (issue 19, docs/performance.md).
    """
    by_sha = {commit.sha: commit for commit in commits}
    if any(REVERT_WORDS in commit.message for commit in by_sha.values()):
        raise ValueError("grow_tree: a new commit is a revert (it may take back an old experiment)")
    old_order = list(seed.nodes)
    order = _parents_first(by_sha)
    for node in seed.nodes.values():
        # A reverted experiment is a dead end while the commits above it are placed (as in a whole
        # build); those only the keep ref reaches are marked again by _finish, after them.
        node.discarded = node.reverted_by is not None
        node.children = []
    _place(order, by_sha, {}, seed)
    seed.unsettled.update(sha for sha in order if sha in seed.nodes)
    seed.frontiers = {
        sha: seed.frontiers[sha] for sha in (*tips, head) if sha is not None and sha in seed.frontiers
    }
    return _finish(seed, old_order + order, config, metric, head, discarded), seed


def _past_dead_ends(
    experiments: dict[str, int], nodes: dict[str, Node], generation: dict[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """Experiment parents with each dead end replaced by the live experiments it hangs off.

    A discarded or failed experiment is a dead end, not a step (issue 17): what is tried after it
    grows from the line of live work, and the dead end is drawn as a side leaf of that line. Its own
    parents are already live (it was placed the same way), so one step up is enough; a dead root
    has none and stays. The ordinary commits folded into the new edge are those on both edges.
    Returns (parents with folded counts, the folded counts that are not zero).
    """
    live: dict[str, int] = {}
    for exp, n in experiments.items():
        node = nodes[exp]
        if not node.dead_end or not node.parents:
            live[exp] = min(n, live.get(exp, n))
            continue
        for parent in node.parents:
            total = n + node.folded.get(parent, 0)
            live[parent] = min(total, live.get(parent, total))
    if len(live) > 1:
        below = _below(live, nodes, generation)
        live = {exp: n for exp, n in live.items() if exp not in below}
    return live, {exp: n for exp, n in live.items() if n} or _NO_FOLDS


def _parents_first(by_sha: dict[str, CommitRecord]) -> list[str]:
    """Every known commit, each after all of its (known) parents; iterative, so deep histories are fine."""
    order: list[str] = []
    seen: set[str] = set()  # on the stack or done: a set is all the walk asks of it
    for start in by_sha:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(by_sha[start].parents))]
        while stack:
            sha, parents = stack[-1]
            for parent in parents:
                if parent not in seen and parent in by_sha:
                    seen.add(parent)
                    stack.append((parent, iter(by_sha[parent].parents)))
                    break
            else:
                stack.pop()
                order.append(sha)
    return order


def _incoming(commit: CommitRecord, nodes: dict[str, Node], frontiers: dict[str, _Frontier]) -> _Frontier:
    """What a commit sees below itself: nearest experiments with the ordinary commits between them.

    Its parents were all handled before it: each has a node (an experiment) or a frontier (an
    ordinary commit); a parent with neither is not in this history.
    """
    seen = _Frontier(cut=commit.shallow)
    for parent in commit.parents:
        if parent in nodes:
            seen.experiments[parent] = 0
        elif parent not in frontiers:
            seen.cut = True  # history missing here (shallow clone, or objects not fetched)
        else:
            below = frontiers[parent]
            for exp, n in below.experiments.items():
                seen.experiments[exp] = min(n, seen.experiments.get(exp, n))
            seen.bare = max(seen.bare, below.bare)
            seen.cut = seen.cut or below.cut
    return seen


#: The empty dictionaries shared by every node with nothing folded, and by every node with no params
#: or no run facts (nodes' dictionaries are never changed in place; see :class:`Node`).
_NO_FOLDS: dict[str, int] = {}
_NO_TEXT: dict[str, str] = {}


def _node(
    commit: CommitRecord,
    record: ExperimentRecord,
    parents: tuple[str, ...],
    folded: dict[str, int],
    folded_below: int,
    cut: bool,
    params: dict[tuple[tuple[str, str], ...], dict[str, str]],
) -> Node:
    """``params``: the params dictionaries made so far, by their pairs. A sweep repeats a few
    combinations across thousands of experiments, and nodes never change them, so each is made once."""
    param_dict = params.get(record.params)
    if param_dict is None:
        param_dict = params[record.params] = dict(record.params) if record.params else _NO_TEXT
    # Positional, in Node's field order: a keyword call costs measurably more, 100k times.
    return Node(
        commit.sha,
        commit.message,
        commit.author_name,
        commit.author_email,
        commit.author_time,
        commit.author_offset,
        {name: MetricSummary(samples) for name, samples in record.metrics},
        param_dict,
        record.notes,
        record.status,
        dict(record.run) if record.run else _NO_TEXT,
        record.problems,
        parents,
        folded,
        folded_below,
        cut,
        [],
    )


def _below(shas: Iterable[str], nodes: dict[str, Node], generation: dict[str, int]) -> set[str]:
    """The experiments strictly below any of ``shas`` (through experiment parents), as far down as the
    lowest generation among ``shas``: whichever of ``shas`` is in it descends from another one.

    One walk below them all, so a merge of long branches costs the commits since they parted, not
    the whole history below each one (asking pair by pair took 55 s for an octopus of 40 parents on
    a 50k line).
    """
    starts = list(shas)
    lowest = min(generation[sha] for sha in starts)
    below: set[str] = set()
    stack = [parent for sha in starts for parent in nodes[sha].parents]
    while stack:
        sha = stack.pop()
        if sha in below or generation[sha] < lowest:
            continue
        below.add(sha)
        stack.extend(nodes[sha].parents)
    return below


def is_experiment_ancestor(ancestor: str, of: str, nodes: dict[str, Node]) -> bool:
    """Whether ``ancestor`` is reached from ``of`` through experiment parents."""
    if ancestor not in nodes or of not in nodes:
        return False
    stack, seen = [of], set()
    while stack:
        sha = stack.pop()
        for parent in nodes[sha].parents:
            if parent == ancestor:
                return True
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return False


def _drawing_order(nodes: dict[str, Node], parents_first: list[str]) -> tuple[list[Node], array[int]]:
    """Roots oldest first, depth-first, the biggest subtree of each node last (it continues the main line);
    with each node's subtree size, in that order."""
    size: dict[str, int] = {}
    for sha in reversed(parents_first):
        node = nodes.get(sha)
        if node is not None:
            children = node.children
            size[sha] = 1 + (size[children[0]] if len(children) == 1 else sum(size[c] for c in children))

    def key(sha: str) -> tuple[int, int, str]:
        return size[sha], nodes[sha].author_time, sha

    for node in nodes.values():
        if len(node.children) > 1:
            node.children.sort(key=key)
    roots = sorted(
        (sha for sha, node in nodes.items() if not node.parents),
        key=lambda sha: (nodes[sha].author_time, sha),
    )
    drawn: set[str] = set()
    order: list[Node] = []
    stack = list(reversed(roots))
    while stack:
        sha = stack.pop()
        if sha in drawn:
            continue
        node = nodes[sha]
        if len(node.parents) > 1 and any(parent not in drawn for parent in node.parents):
            continue  # a merge waits for its last parent, which pushes it again
        # (a node with one parent is only ever pushed by that parent, once it is drawn)
        drawn.add(sha)
        order.append(node)
        children = node.children
        if len(children) == 1:
            stack.append(children[0])
        elif children:
            stack.extend(reversed(children))
    return order, array("i", [size[node.sha] for node in order])


def _head_experiment(
    head: str | None, nodes: dict[str, Node], frontiers: dict[str, _Frontier], generation: dict[str, int]
) -> tuple[str | None, int]:
    """The experiment HEAD is at, or the nearest one below it, with the ordinary commits in between.

    HEAD at the ``git revert`` that took back the experiment below it is at the code of the line
    before that experiment, where the next one will hang (:func:`_past_dead_ends`): it is marked there,
    not on the dead end (docs/tree.md).
    """
    if head is None:
        return None, 0
    if head in nodes:
        return head, 0
    frontier = frontiers.get(head)
    if frontier is None or not frontier.experiments:
        return None, 0
    sha, ahead = min(frontier.experiments.items(), key=lambda item: item[1])
    if nodes[sha].reverted_by == head:
        live, _ = _past_dead_ends({sha: ahead}, nodes, generation)
        sha, ahead = min(live.items(), key=lambda item: item[1])
    return sha, ahead


def _metric_counts(nodes: list[Node]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in nodes:
        for name in node.metrics:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _metric_names(counts: dict[str, int]) -> tuple[str, ...]:
    return tuple(sorted(counts, key=lambda name: (-counts[name], held_out_rank(name), name)))


#: Words of a metric's name that say which data it was measured on (``val/acc``, ``eval_loss``,
#: ``train/loss``): ``_`` ``-`` ``/`` ``.`` and blanks separate them.
_HELD_OUT_WORDS = frozenset(("val", "valid", "validation", "eval", "evaluation", "test", "dev", "holdout"))
_TRAINING_WORDS = frozenset(("train", "training"))
_NAME_WORDS = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")


def held_out_rank(name: str) -> int:
    """Which of metrics recorded equally often is judged first: 0 for one measured on held-out data
    (``val/acc``, ``test_loss``), 2 for one measured on the training data (``train/loss``), 1 for the
    others. DVCLive and most scripts record both sides of each: the alphabetical order judged
    ``train/loss`` before ``val/acc``, and a model that overfit looked best."""
    words = {word.lower() for word in _NAME_WORDS.split(name) if word}
    if words & _HELD_OUT_WORDS:
        return 0
    return 2 if words & _TRAINING_WORDS else 1


#: The run fact an imported log writes to name the metric it judged its rows by (importers/plan.py).
JUDGED_BY_FACT = "judged-by"


def choose_metric(tree: ResearchTree, config: Config, metric: str | None) -> str | None:
    """The metric asked for, else the configured primary one, else the one imported logs were judged
    by (never an alphabetical tie-break among a log's columns: issue 17), else the one most
    experiments have."""
    return pick_metric(metric, config, judged_counts(tree.nodes), tree.metric_names)


def pick_metric(
    metric: str | None, config: Config, judged: Mapping[str, int], names: Sequence[str]
) -> str | None:
    """:func:`choose_metric` from the counts of ``judged-by`` facts and the metric names (most experiments
    first): also what a view patched with new experiments is judged by (:mod:`gittree.tree.extend`)."""
    if metric:
        return metric
    if config.primary:
        return config.primary
    if judged:
        return most_common(judged)
    return names[0] if names else None


def judged_fact(node: Node) -> str | None:
    """The metric the node's ``judged-by`` run fact names, when the node has a value for it."""
    name = node.run.get(JUDGED_BY_FACT) if node.run else None
    return name if name and name in node.metrics else None


def judged_counts(nodes: Iterable[Node]) -> dict[str, int]:
    """How many experiments' ``judged-by`` fact names each metric."""
    counts: dict[str, int] = {}
    for node in nodes:
        name = judged_fact(node)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return counts


def most_common(counts: Mapping[str, int]) -> str:
    """The name counted most (ties: held-out data first, then by name), as :func:`_metric_names` puts first."""
    return min(counts, key=lambda name: (-counts[name], held_out_rank(name), name))


# -- evaluation -----------------------------------------------------------------------------------


def evaluate(tree: ResearchTree, spec: MetricSpec | None, only: Collection[str] | None = None) -> None:
    """(Re)compute every node's reference parent, delta and verdict for ``spec``, and the best experiment.

    ``only``: the nodes whose reference, delta and verdict are computed (the others' are already
    those of ``spec``: a grown tree, :func:`_evaluate_seed`); the rest is computed for every node.
    """
    tree.metric = spec
    tree.delta_places.clear()
    by_sha = tree.by_sha
    valued: dict[str, Node | None] = {}
    if only is None and spec is not None:
        # Every node, and in the same pass what needs every node's answer: the typical delta's sizes
        # and the best (each pass over 100k nodes costs as much in memory reads as in steps).
        sizes: list[float] = []
        best_node: Node | None = None
        best_key = -math.inf
        for node in tree.nodes:
            _evaluate_node(node, by_sha, spec, valued)
            delta = node.delta
            if delta is not None and delta - delta == 0.0 and not node.dead_end:  # finite, live
                sizes.append(abs(delta))
            key = best_rank(node, spec)
            if key is not None and (best_node is None or key > best_key):
                best_node, best_key = node, key
        sizes.sort()
        typical = tree.typical_delta = median_size(sizes, spec)
        best = tree.best = best_node.sha if best_node else None
    else:
        if only is None:
            for node in tree.nodes:
                _evaluate_node(node, by_sha, spec, valued)
        else:
            for sha in only:
                _evaluate_node(by_sha[sha], by_sha, spec, valued)
        typical = tree.typical_delta = typical_delta(tree.nodes, spec)
        best = tree.best = best_experiment(tree.nodes, spec)
    on_path = {n.sha for n in tree.path_to(best)} if best else set()
    for node in tree.nodes:  # one pass for the marks that need the whole tree's answers
        node.surprise = is_surprise(node, typical, spec)
        node.best = node.sha == best
        node.on_best_path = node.sha in on_path


def _evaluate_node(
    node: Node, by_sha: dict[str, Node], spec: MetricSpec | None, valued: dict[str, Node | None]
) -> None:
    value = node.metrics.get(spec.name) if spec else None
    parents = node.parents
    reference: Node | None = None
    if spec is not None and value is not None and parents:
        name = spec.name
        if len(parents) == 1:
            only = by_sha[parents[0]]
            ref_value = only.metrics.get(name)
            if ref_value is not None and only.status not in _DEAD:  # the usual case, without a walk
                if value.std is None and ref_value.std is None:
                    # The usual step of all: one run on each side, so no noise estimate (¹) and the
                    # band is the metric's own (compare(), without looking for a spread).
                    new, old = value.mean, ref_value.mean
                    delta = new - old
                    if delta == delta:  # no NaN on either side, nor inf - inf
                        node.reference, node.delta, node.single_run = only.sha, delta, True
                        node.verdict = _judge(delta, new, old, spec.band(old), spec.goal)
                        if node.status is not None or node.discarded:
                            _dead_end_verdict(node)
                        return
                reference = only
            else:
                reference = _valued_ancestor(parents[0], name, by_sha, valued)
        else:
            found = (_valued_ancestor(p, name, by_sha, valued) for p in parents)
            candidates = [p for p in found if p is not None]
            if candidates:
                reference = max(candidates, key=lambda p: rank_key(p.metrics[name].mean, spec.goal))
    # Each field is set once (100k nodes): a reference is only found for a value on the metric.
    if reference is not None and spec is not None and value is not None:
        ref_value = reference.metrics[spec.name]
        node.reference = reference.sha
        node.delta = value.mean - ref_value.mean
        # ¹: no noise estimate, one run on each side (a spread that is not finite is no estimate either)
        error = noise_error(value, ref_value)
        node.single_run = (len(value.samples) < 2 and len(ref_value.samples) < 2) or error is None
        node.verdict = compare(value, ref_value, spec, error)
    else:
        node.delta, node.single_run = None, False
        node.reference = parents[0] if parents else None
        node.verdict = Verdict.BASELINE
    _dead_end_verdict(node)


def _dead_end_verdict(node: Node) -> None:
    """A dead end's verdict says how it died, whatever its delta."""
    status = node.status
    if status == "abandoned":
        node.verdict = Verdict.ABANDONED
    elif status == "failed":
        node.verdict = Verdict.FAILED
    elif node.discarded:
        node.verdict = Verdict.DISCARDED


_DEAD = ("abandoned", "failed")


def _valued_ancestor(
    sha: str, name: str, by_sha: dict[str, Node], valued: dict[str, Node | None]
) -> Node | None:
    """The nearest live experiment from ``sha`` down its first experiment parents that has a value
    for ``name`` (issue 16: the fix after a crash, which has no value, is judged against the last
    result before it). ``valued`` remembers the answers of one evaluation, so each line is walked once."""
    walked: list[str] = []
    current: str | None = sha
    found: Node | None = None
    while current is not None:
        if current in valued:
            found = valued[current]
            break
        walked.append(current)
        node = by_sha[current]
        if name in node.metrics and not node.dead_end:
            found = node
            break
        current = node.parents[0] if node.parents else None
    for step in walked:
        valued[step] = found
    return found


def rank_key(value: float, goal: Goal) -> float:
    """A key where larger is better for either goal; NaN ranks below everything."""
    if math.isnan(value):
        return -math.inf
    return value if goal is Goal.MAX else -value


#: :func:`compare`'s ``error`` when it is not given.
_NOT_YET: Any = object()


def compare(
    value: MetricSummary, reference: MetricSummary, spec: MetricSpec, error: float | None = _NOT_YET
) -> Verdict:
    """better / negligible / worse for ``value`` against ``reference`` (docs/tree.md, "Verdicts").

    ``error``: their :func:`noise_error`, when the caller has it already.
    """
    new, old = value.mean, reference.mean
    if math.isnan(new) and math.isnan(old):
        return Verdict.NEGLIGIBLE
    if math.isnan(new):
        return Verdict.WORSE
    if math.isnan(old):
        return Verdict.BETTER
    delta = new - old
    if math.isnan(delta):  # inf - inf: the same infinity
        return Verdict.NEGLIGIBLE
    if error is _NOT_YET:
        error = noise_error(value, reference)
    return _judge(delta, new, old, _band(error, reference, spec), spec.goal)


def _judge(delta: float, new: float, old: float, band: float, goal: Goal) -> Verdict:
    """:func:`compare` of numbers that are not NaN (nor is their ``delta``) given the negligible ``band``."""
    if abs(delta) <= band + _rounding(new, old, band):
        return Verdict.NEGLIGIBLE
    improvement = delta if goal is Goal.MAX else -delta
    return Verdict.BETTER if improvement > 0 else Verdict.WORSE


def _rounding(new: float, old: float, band: float) -> float:
    """How far binary floating point may put a delta past the band it equals in decimals.

    "At or below the band" is meant on the numbers as written: 0.703 - 0.700 is 0.0030000000000000027
    in binary, which must still be the threshold 0.003 itself. Four units in the last place of the
    largest number involved cover the rounding of the inputs and of the subtraction. None when a
    number is infinite: an infinite delta is never within a finite band (inf - 1 after inf is worse).
    """
    largest = max(abs(new), abs(old), band)
    return 4 * math.ulp(largest) if math.isfinite(largest) else 0.0


def noise_band(value: MetricSummary, reference: MetricSummary, spec: MetricSpec) -> float:
    """The largest |delta| still called negligible (docs/tree.md, "The negligible band").

    With seeds on either side, ``noise_sigmas`` standard errors of the difference; a configured
    ``threshold`` is a floor under that, and with no noise estimate it (or, by default, the relative
    band) is the band alone.
    """
    return _band(noise_error(value, reference), reference, spec)


def _band(error: float | None, reference: MetricSummary, spec: MetricSpec) -> float:
    """:func:`noise_band` of the standard ``error`` of the difference (None: no estimate)."""
    if error is None or spec.noise_sigmas == 0:  # no estimate, or the noise rule turned off
        return spec.band(reference.mean)
    noise = spec.noise_sigmas * error
    return max(spec.threshold, noise) if spec.threshold is not None else noise


def noise_error(value: MetricSummary, reference: MetricSummary) -> float | None:
    """The standard error of ``mean(value) - mean(reference)`` from the seeds' spread; None: no estimate.

    Both sides with repeated runs: each side's own spread, ``sqrt(s1²/n1 + s2²/n2)``. One side only:
    its spread stands for the other's too (the same training procedure, seeded differently), so
    ``s * sqrt(1/n1 + 1/n2)``. Neither: None, and the verdict carries the ``¹`` mark.
    """
    s_new, s_old = _spread(value), _spread(reference)
    if s_new is not None and s_old is not None:
        return math.sqrt(s_new**2 / value.n + s_old**2 / reference.n)
    spread = s_new if s_new is not None else s_old
    if spread is None:
        return None
    return spread * math.sqrt(1 / value.n + 1 / reference.n)


def _spread(summary: MetricSummary) -> float | None:
    """The standard deviation of a metric's repeated runs, when there are some and it is finite."""
    std = summary.std
    return std if std is not None and summary.n >= 2 and math.isfinite(std) else None


def best_experiment(nodes: Iterable[Node], spec: MetricSpec | None) -> str | None:
    """The best live experiment on the metric; dead ends and NaN never win; ties go to the earliest drawn."""
    if spec is None:
        return None
    best: Node | None = None
    best_key = -math.inf
    for node in nodes:
        key = best_rank(node, spec)
        if key is not None and (best is None or key > best_key):
            best, best_key = node, key
    return best.sha if best else None


def best_rank(node: Node, spec: MetricSpec) -> float | None:
    """The node's :func:`rank_key` on the metric when it can be the best: live, with a value that is not
    NaN, and not dirty unless the configuration lets a dirty result win; else None."""
    value = node.metrics.get(spec.name)
    if value is None or node.dead_end or math.isnan(value.mean):
        return None
    if not spec.dirty_can_be_best and node.dirty:
        return None
    return rank_key(value.mean, spec.goal)


# -- surprise: a delta far outside what the tree has seen is more often a bug than a breakthrough ----


def _live_delta(node: Node) -> float | None:
    """The node's delta when it counts for the surprise rule: a live experiment with a number."""
    if node.delta is None or node.dead_end or math.isnan(node.delta):
        return None
    return node.delta


def typical_delta(nodes: Iterable[Node], spec: MetricSpec | None) -> float | None:
    """The median |delta| of the live experiments: robust, so one wild result cannot hide itself.

    None when there are fewer than ``spec.surprise_min_deltas`` finite deltas (too few to know what
    a usual step is).
    """
    if spec is None:
        return None
    return median_size(
        sorted(abs(d) for d in map(_live_delta, nodes) if d is not None and math.isfinite(d)), spec
    )


def median_size(sizes: Sequence[float], spec: MetricSpec | None) -> float | None:
    """:func:`typical_delta` of the sorted |delta|s ``sizes``."""
    if spec is None or not sizes or len(sizes) < spec.surprise_min_deltas:
        return None
    middle = len(sizes) // 2
    return sizes[middle] if len(sizes) % 2 else (sizes[middle - 1] + sizes[middle]) / 2


def is_surprise(node: Node, typical: float | None, spec: MetricSpec | None) -> bool:
    """Whether the node's delta asks to be verified (docs/tree.md, "Surprise").

    Surprising: an infinite delta; |delta| above the metric's ``surprise_bound``; |delta| above
    ``surprise_factor`` x the typical (median) |delta| when the tree has enough deltas and the
    typical step is not zero. Dead ends and NaN deltas are never surprises: they already say so.
    """
    delta = _live_delta(node)
    if spec is None or delta is None:
        return False
    return math.isinf(delta) or surprising_size(abs(delta), typical, spec)


def surprising_size(size: float, typical: float | None, spec: MetricSpec) -> bool:
    """:func:`is_surprise` of a live experiment whose |delta| is the finite ``size``."""
    if spec.surprise_bound is not None and size > spec.surprise_bound:
        return True
    if typical is None or typical == 0 or spec.surprise_factor == 0:
        return False
    return size > spec.surprise_factor * typical


# -- every metric at once (the HTML page's metric switcher) -----------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """One metric's verdicts over a tree, computed without touching the tree's own nodes."""

    spec: MetricSpec
    verdicts: dict[str, Verdict]
    deltas: dict[str, float | None]
    references: dict[str, str | None]
    single_run: dict[str, bool]
    best: str | None
    best_path: frozenset[str]
    #: the (parent, child) links the best path takes (:meth:`ResearchTree.path_parent`)
    best_path_links: frozenset[tuple[str, str]]


def evaluate_each(tree: ResearchTree, specs: Iterable[MetricSpec]) -> dict[str, Evaluation]:
    """Verdicts for each metric in ``specs``, keyed by metric name; ``tree`` keeps its own metric.

    Each metric is evaluated by :func:`evaluate` itself on shallow copies of the nodes (it only
    reassigns evaluation fields), so these verdicts follow exactly the rules ``show`` applies.
    """
    import dataclasses

    result: dict[str, Evaluation] = {}
    for spec in specs:
        copy = ResearchTree(
            nodes=[dataclasses.replace(node) for node in tree.nodes],
            metric=None,
            head=tree.head,
            metric_names=tree.metric_names,
        )
        evaluate(copy, spec)
        chain = [node.sha for node in copy.path_to(copy.best)] if copy.best else []
        result[spec.name] = Evaluation(
            spec=spec,
            verdicts={node.sha: node.verdict for node in copy.nodes},
            deltas={node.sha: node.delta for node in copy.nodes},
            references={node.sha: node.reference for node in copy.nodes},
            single_run={node.sha: node.single_run for node in copy.nodes},
            best=copy.best,
            best_path=frozenset(node.sha for node in copy.nodes if node.on_best_path),
            best_path_links=frozenset(pairwise(chain)),
        )
    return result


# -- the seed as plain data (what the cache stores: gittree.cache.SeedStore) ----------------------


def seed_rows(seed: Seed, shas: Iterable[str] | None = None) -> Iterator[tuple[object, ...]]:
    """The nodes of ``seed`` (``shas`` of them, default all, parents first) as marshal-able rows."""
    nodes, generation, unsettled = seed.nodes, seed.generation, seed.unsettled
    return (
        _node_row(nodes[sha], generation[sha], sha not in unsettled)
        for sha in (nodes if shas is None else shas)
    )


def _node_row(node: Node, generation: int, settled: bool) -> tuple[object, ...]:
    return (
        node.sha,
        node.message,
        node.author_name,
        node.author_email,
        node.author_time,
        node.author_offset,
        [(name, summary.samples) for name, summary in node.metrics.items()],  # a list: made faster
        node.params,
        node.notes,
        node.status,
        node.run,
        node.problems,
        node.parents,
        node.folded,
        node.folded_below,
        node.cut,
        generation,
        (node.delta, node.reference, node.verdict.value, node.single_run) if settled else None,
        node.reverted_by,
    )


def frontier_rows(seed: Seed) -> dict[str, tuple[dict[str, int], int, bool]]:
    return {sha: (f.experiments, f.bare, f.cut) for sha, f in seed.frontiers.items()}


def seed_of_rows(
    rows: Iterable[tuple[Any, ...]],
    frontiers: Mapping[str, tuple[dict[str, int], int, bool]],
    evaluated: str | None = None,
) -> Seed:
    """The :class:`Seed` of :func:`seed_rows` and :func:`frontier_rows` (a row of a sha seen before replaces
    it); ``evaluated``: the metric the rows' evaluations are for (None: none is usable)."""
    seed = Seed(
        {}, {}, {sha: _Frontier(dict(exps), bare, cut) for sha, (exps, bare, cut) in frontiers.items()}
    )
    seed.evaluated = evaluated
    nodes, generation, params, unsettled = seed.nodes, seed.generation, seed.params, seed.unsettled
    for row in rows:
        sha = row[0]
        pairs = tuple(row[7].items())
        shared = params.get(pairs)
        if shared is None:
            shared = params[pairs] = dict(pairs) if pairs else _NO_TEXT
        nodes[sha] = Node(
            sha,
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            {name: MetricSummary(samples) for name, samples in row[6]},
            shared,
            row[8],
            row[9],
            row[10] or _NO_TEXT,
            row[11],
            row[12],
            row[13] or _NO_FOLDS,
            row[14],
            row[15],
            [],
        )
        generation[sha] = row[16]
        if row[18] is not None:  # taken back by a revert above it: a dead end (see _take_back)
            nodes[sha].reverted_by, nodes[sha].discarded = row[18], True
        evaluation = row[17]
        if evaluation is None or evaluated is None:
            unsettled.add(sha)
        else:
            node = nodes[sha]
            node.delta, node.reference, node.single_run = evaluation[0], evaluation[1], evaluation[3]
            node.verdict = Verdict(evaluation[2])
            unsettled.discard(sha)
    return seed


def renote(seed: Seed, sha: str, note: str | None) -> bool:
    """Give the experiment ``sha`` of ``seed`` its new gittree note, in place; False when the tree's
    shape may change with it (it stops being an experiment, comes back to life, or dies with children:
    its children hang elsewhere then), and a whole build is needed."""
    node = seed.nodes[sha]
    commit = CommitRecord(
        sha,
        node.parents,
        node.message,
        node.author_name,
        node.author_email,
        node.author_time,
        node.author_offset,
        False,
        note,
    )
    record = experiment_of(commit)
    if record is None:
        return False
    was_dead, dead = node.status in _DEAD, record.status in _DEAD
    if was_dead and not dead:
        return False
    if dead and not was_dead and any(sha in other.parents for other in seed.nodes.values()):
        return False
    renewed = seed.nodes[sha] = _node(
        commit, record, node.parents, node.folded, node.folded_below, node.cut, seed.params
    )
    renewed.reverted_by, renewed.discarded = node.reverted_by, node.discarded
    seed.unsettled.add(sha)
    seed.renoted = True
    return True
