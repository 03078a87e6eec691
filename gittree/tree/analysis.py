"""Questions asked of a research tree: which experiments are best, how the work got to one, how two compare.

Pure: a :class:`ResearchTree` (and, where commits matter, :class:`CommitRecord` values gathered by the
caller) in, plain data out. No git, no printing. The rules are documented in ``docs/guide.md``
("Ask the tree questions") and ``docs/tree.md``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gittree.errors import BadValueError, GittreeError
from gittree.model import CommitRecord, MetricSpec, MetricSummary, Node, ResearchTree, Verdict
from gittree.tree import Evaluation, compare, evaluate_each, noise_error, rank_key

# -- best -----------------------------------------------------------------------------------------

#: Why an experiment is not ranked, in the order the reasons are checked.
LEFT_OUT_REASONS = ("dead_end", "no_value", "nan", "dirty")


@dataclass(frozen=True)
class Ranked:
    """One ranked experiment. Tied means share a rank (1, 2, 2, 4); ties keep drawing order."""

    rank: int
    node: Node
    value: MetricSummary


@dataclass(frozen=True)
class Ranking:
    metric: MetricSpec
    #: best first, at most ``top`` entries.
    entries: tuple[Ranked, ...]
    #: how many experiments could be ranked at all.
    ranked: int
    #: reason -> how many experiments were left out for it (see :data:`LEFT_OUT_REASONS`).
    left_out: dict[str, int]
    #: experiments beyond ``top`` tied with the last entry shown (the cut fell inside a tie).
    ties_cut: int = 0


def require_metric(tree: ResearchTree) -> MetricSpec:
    """The tree's metric, or an error saying that no experiment records a number yet."""
    if tree.metric is None:
        raise BadValueError(
            "no experiment in this history records a metric",
            hint="record one with: gittree commit -m 'baseline' --metric acc=0.5",
        )
    return tree.metric


def _left_out_reason(node: Node, spec: MetricSpec) -> str | None:
    value = node.metrics.get(spec.name)
    if node.dead_end:
        return "dead_end"
    if value is None:
        return "no_value"
    if math.isnan(value.mean):
        return "nan"
    if node.dirty and not spec.dirty_can_be_best:
        return "dirty"
    return None


def rank_experiments(tree: ResearchTree, top: int | None = None) -> Ranking:
    """The experiments ranked by the mean of their runs on the tree's metric, best first.

    The same rules as the tree's ★ (docs/tree.md): dead ends (abandoned, failed) and NaN means are
    left out, as are dirty results when ``dirty_can_be_best`` is false; equal means tie and keep
    drawing order, so the first entry is always the tree's ★ best.
    """
    spec = require_metric(tree)
    if top is not None and top < 1:
        raise BadValueError(f"--top must be at least 1, not {top}")
    left_out = dict.fromkeys(LEFT_OUT_REASONS, 0)
    candidates: list[Node] = []
    for node in tree.nodes:
        reason = _left_out_reason(node, spec)
        if reason is None:
            candidates.append(node)
        else:
            left_out[reason] += 1

    def key(node: Node) -> float:
        return rank_key(node.metrics[spec.name].mean, spec.goal)

    # Both keep drawing order among equal means (sorted() is stable; heapq.nlargest is documented to
    # give sorted()'s first ``top``), so the first entry is the tree's ★. With --top, only that many
    # are picked out of a 100k-experiment tree rather than all of them sorted.
    shown = heapq.nlargest(top, candidates, key=key) if top else sorted(candidates, key=key, reverse=True)
    entries: list[Ranked] = []
    previous: float | None = None
    rank = 0
    for position, node in enumerate(shown, start=1):
        mean = node.metrics[spec.name].mean
        if previous is None or mean != previous:
            rank = position
        previous = mean
        entries.append(Ranked(rank=rank, node=node, value=node.metrics[spec.name]))
    ties_cut = 0
    if entries and top:
        last = entries[-1].value.mean
        ties_cut = sum(1 for node in candidates if node.metrics[spec.name].mean == last) - sum(
            1 for entry in entries if entry.value.mean == last
        )
    return Ranking(
        metric=spec, entries=tuple(entries), ranked=len(candidates), left_out=left_out, ties_cut=ties_cut
    )


# -- path -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FoldedCommits:
    """Ordinary commits between an experiment and the experiment(s) it grew from."""

    count: int
    #: the first few of them, newest first (the caller decides how many to read).
    commits: tuple[CommitRecord, ...] = ()


NO_FOLDED = FoldedCommits(0)


@dataclass(frozen=True)
class PathStep:
    node: Node
    value: MetricSummary | None
    #: change against the previous step (the experiment's reference parent).
    delta: float | None
    #: change since the first step that records the metric.
    cumulative: float | None
    folded: FoldedCommits


@dataclass(frozen=True)
class PathReport:
    metric: MetricSpec | None
    target: Node
    steps: tuple[PathStep, ...]
    #: what the path does not show: the tree's own omissions (ResearchTree.left_out), and the dead ends
    #: (``dead_ends``) and other experiments (``off_path``) of the tree that are not its steps.
    left_out: Mapping[str, int] = field(default_factory=dict)

    @property
    def start(self) -> PathStep | None:
        """The first step with a value on the metric: where the gain is counted from."""
        return next((step for step in self.steps if step.value is not None), None)

    @property
    def gain(self) -> float | None:
        """Total change from the start to the target (``None`` when the target has no value)."""
        return self.steps[-1].cumulative if self.steps else None


def find_experiment(tree: ResearchTree, sha: str, rev: str) -> Node:
    """The experiment ``sha`` (resolved from ``rev``), or an error saying it is an ordinary commit."""
    node = tree.by_sha.get(sha)
    if node is None:
        raise GittreeError(
            f"'{rev}' ({sha[:7]}) is not an experiment: it has no Gittree-* trailer or gittree note",
            hint="name an experiment (see `gittree show`), or record results on it",
        )
    return node


def build_path(
    tree: ResearchTree, sha: str | None = None, folded: Mapping[str, FoldedCommits] | None = None
) -> PathReport:
    """The chain from a root to ``sha`` (default: the best experiment), with cumulative gains.

    Each step follows the parent its delta was measured against (for a crossover, its best parent), or,
    when that experiment lies further down, the parent it was found from (:meth:`ResearchTree.path_parent`).
    ``folded`` maps an experiment to the ordinary commits folded into it, when the caller read them.
    """
    spec = tree.metric
    target_sha = sha or tree.best
    if target_sha is None:
        raise GittreeError(
            "there is no best experiment to show the path to: no live experiment has a number"
            + (f" for {spec.name}" if spec else ""),
            hint="name an experiment: gittree path REV",
        )
    chain = tree.path_to(target_sha)
    start: float | None = None
    steps: list[PathStep] = []
    for node in chain:
        value = node.metrics.get(spec.name) if spec else None
        cumulative = None
        if value is not None:
            if start is None:
                start = value.mean
            cumulative = value.mean - start
        steps.append(
            PathStep(
                node=node,
                value=value,
                delta=node.delta,
                cumulative=cumulative,
                folded=(folded or {}).get(node.sha, NO_FOLDED),
            )
        )
    dead = sum(1 for node in tree.nodes if node.dead_end)
    others = len(tree.nodes) - len(chain) - dead + sum(1 for node in chain if node.dead_end)
    counts = {"dead_ends": dead - sum(1 for node in chain if node.dead_end), "off_path": others}
    left_out = {**tree.left_out, **{reason: n for reason, n in counts.items() if n}}
    return PathReport(metric=spec, target=chain[-1], steps=tuple(steps), left_out=left_out)


# -- diff -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a diff: a commit, and its experiment when it is one, with its effective params."""

    sha: str
    subject: str
    node: Node | None
    params: Mapping[str, str] = field(default_factory=dict)
    #: the params this experiment set itself (the others it inherits).
    params_set_here: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MetricComparison:
    spec: MetricSpec
    a: MetricSummary | None
    b: MetricSummary | None
    #: mean(b) - mean(a), when both have the metric.
    delta: float | None
    #: how b compares with a on this metric (the tree's rules, noise included).
    verdict: Verdict | None
    single_run: bool


@dataclass(frozen=True)
class ParamChange:
    name: str
    a: str | None
    b: str | None


@dataclass(frozen=True)
class ExperimentDiff:
    a: Side
    b: Side
    metrics: tuple[MetricComparison, ...]
    #: params whose value differs (or that only one side has), by name.
    params: tuple[ParamChange, ...]
    same_params: int
    #: "a-before-b", "b-before-a", "same" or "diverged": how the two sit in the experiment graph.
    relation: str


def diff_experiments(
    tree: ResearchTree,
    a: CommitRecord,
    b: CommitRecord,
    spec_for: Callable[[str], MetricSpec],
    relation: str,
) -> ExperimentDiff:
    """``b`` against ``a``: every metric either records, the params that changed, and ``relation``
    (:func:`relation_of`: how the two commits sit in the history, experiments or not)."""
    node_a, node_b = tree.by_sha.get(a.sha), tree.by_sha.get(b.sha)
    metrics_a = node_a.metrics if node_a else {}
    metrics_b = node_b.metrics if node_b else {}
    names = list(dict.fromkeys([*metrics_a, *metrics_b]))
    primary = tree.metric.name if tree.metric else None
    if primary in names:  # the metric the tree is coloured by comes first
        names.remove(primary)
        names.insert(0, primary)
    comparisons = tuple(
        _compare_metric(spec_for(name), metrics_a.get(name), metrics_b.get(name)) for name in names
    )
    params = effective_params(tree) if node_a or node_b else None
    params_a = params.of(node_a) if params and node_a else {}
    params_b = params.of(node_b) if params and node_b else {}
    changed = tuple(
        ParamChange(name, params_a.get(name), params_b.get(name))
        for name in sorted(set(params_a) | set(params_b))
        if params_a.get(name) != params_b.get(name)
    )
    same = sum(1 for name in set(params_a) & set(params_b) if params_a[name] == params_b[name])
    return ExperimentDiff(
        a=_side(a, node_a, params),
        b=_side(b, node_b, params),
        metrics=comparisons,
        params=changed,
        same_params=same,
        relation=relation,
    )


def _side(commit: CommitRecord, node: Node | None, params: EffectiveParams | None) -> Side:
    if node is None or params is None:
        return Side(commit.sha, commit.subject, node)
    return Side(commit.sha, commit.subject, node, params.of(node), params.set_by(node))


def _compare_metric(spec: MetricSpec, a: MetricSummary | None, b: MetricSummary | None) -> MetricComparison:
    if a is None or b is None:
        return MetricComparison(spec, a, b, None, None, False)
    # ¹ as the tree marks it: no noise estimate, which one side with repeated runs gives (its spread
    # stands for the other's); it was marked whenever either side had one run
    error = noise_error(b, a)
    return MetricComparison(
        spec=spec,
        a=a,
        b=b,
        delta=b.mean - a.mean,
        verdict=compare(b, a, spec, error),
        single_run=error is None,
    )


def compare_with_parents(
    tree: ResearchTree, node: Node, spec: MetricSpec
) -> tuple[tuple[str, MetricComparison], ...]:
    """``node`` against each of its experiment parents on ``spec`` (a crossover has several), in order.

    The tree's own delta and verdict are against one parent, its reference; this is every parent's.
    """
    value = node.metrics.get(spec.name)
    return tuple(
        (sha, _compare_metric(spec, tree.by_sha[sha].metrics.get(spec.name), value)) for sha in node.parents
    )


def evaluate_metrics(tree: ResearchTree, spec_for: Callable[[str], MetricSpec]) -> dict[str, Evaluation]:
    """The verdicts on every metric the tree records (each judged by ``spec_for(name)``, the
    configuration's rules) and on the tree's own metric: what a view that switches metrics shows."""
    specs = [spec_for(name) for name in tree.metric_names]
    if tree.metric is not None and tree.metric.name not in tree.metric_names:
        specs.append(tree.metric)
    return evaluate_each(tree, specs)


def relation_of(a: str, b: str, is_ancestor: Callable[[str, str], bool]) -> str:
    """ "same", "a-before-b", "b-before-a" or "diverged", by ``is_ancestor(older, newer)`` in the commit
    graph: an ordinary commit on top of an experiment grew from it as much as an experiment does."""
    if a == b:
        return "same"
    if is_ancestor(a, b):
        return "a-before-b"
    if is_ancestor(b, a):
        return "b-before-a"
    return "diverged"


# -- branches (for the narrative export) ----------------------------------------------------------


def branch_points(tree: ResearchTree) -> dict[str, str | None]:
    """For every experiment off the best path, the best-path experiment its line of work left from.

    ``None`` when its line never touches the best path (another root of a forest). One pass in
    drawing order, which puts every parent before its children.
    """
    anchor: dict[str, str | None] = {}
    for node in tree.nodes:
        if node.on_best_path:
            anchor[node.sha] = node.sha
            continue
        upstream = tree.path_parent(node)
        anchor[node.sha] = anchor.get(upstream) if upstream else None
    return {sha: value for sha, value in anchor.items() if not tree.by_sha[sha].on_best_path}


# -- params as a whole configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveParams:
    """Every experiment's effective params, and which of them it set itself (docs/tree.md, "Params").

    An experiment's effective params are its parent experiment's, merged with its own: a child
    recorded with ``--param lr=1e-3`` alone still ran with its parent's ``depth=6``. A crossover
    inherits from each parent, the first parent winning where they disagree. A param is *set here*
    when this experiment recorded it with a value other than the one it inherits (or it inherits none).
    """

    by_sha: dict[str, dict[str, str]]
    set_here: dict[str, frozenset[str]]

    def of(self, node: Node) -> dict[str, str]:
        return self.by_sha.get(node.sha, node.params)

    def set_by(self, node: Node) -> frozenset[str]:
        return self.set_here.get(node.sha, frozenset(node.params))


_NOTHING_SET: frozenset[str] = frozenset()


def effective_params(tree: ResearchTree) -> EffectiveParams:
    """:class:`EffectiveParams` of every experiment, in one pass in drawing order (parents first).

    Dictionaries are shared wherever nothing changes: a child that records no param, or only the
    values it inherits (a params file that did not change), has its parent's dictionary.
    """
    effective: dict[str, dict[str, str]] = {}
    set_here: dict[str, frozenset[str]] = {}
    empty: dict[str, str] = {}
    for node in tree.nodes:
        parents = node.parents
        if len(parents) == 1:
            inherited = effective.get(parents[0], empty)
        elif parents:
            inherited = _inherited(parents, effective)
        else:
            inherited = empty
        own = node.params
        sha = node.sha
        if not own or own is inherited:
            effective[sha], set_here[sha] = inherited, _NOTHING_SET
            continue
        get = inherited.get
        changed = [name for name, value in own.items() if get(name) != value]
        if changed:
            # A whole configuration recorded again (a params file) holds every inherited name: its
            # own dictionary is the effective one, shared rather than copied.
            whole = len(own) >= len(inherited) and all(name in own for name in inherited)
            effective[sha] = own if whole else {**inherited, **own}
            set_here[sha] = frozenset(changed)
        else:
            effective[sha], set_here[sha] = inherited, _NOTHING_SET
    return EffectiveParams(effective, set_here)


def _inherited(parents: tuple[str, ...], effective: Mapping[str, dict[str, str]]) -> dict[str, str]:
    """A crossover's inherited params: each parent's, the first parent winning where they disagree."""
    found = [effective[parent] for parent in parents if parent in effective]
    if not found:
        return {}
    if all(other is found[0] for other in found[1:]):
        return found[0]
    merged: dict[str, str] = {}
    for params in reversed(found):  # the first parent last: it wins where parents disagree
        merged.update(params)
    return merged


# -- table order ------------------------------------------------------------------------------------

#: Orders of ``table --sort`` besides metric names: drawing order, oldest first, biggest gain first.
SORT_KEYS = ("tree", "date", "delta")


def sort_experiments(tree: ResearchTree, key: str | None, spec: MetricSpec | None = None) -> list[Node]:
    """The experiments in the order ``table --sort KEY`` lists them (every sort is stable).

    ``tree`` (default): drawing order. ``date``: oldest first. ``delta``: the biggest improvement on
    the tree's metric first. A metric name (``spec``): best first by its goal. Missing values and
    NaN go last.
    """
    nodes = list(tree.nodes)
    if key in (None, "tree"):
        return nodes
    if key == "date":
        return sorted(nodes, key=lambda node: node.author_time)
    goal_spec = tree.metric if key == "delta" else spec
    if goal_spec is None:
        return nodes
    goal = goal_spec.goal

    def score(node: Node) -> tuple[int, float]:
        if key == "delta":
            value = node.delta
        else:
            summary = node.metrics.get(goal_spec.name)
            value = summary.mean if summary else None
        if value is None or math.isnan(value):
            return (1, 0.0)
        return (0, -rank_key(value, goal))

    return sorted(nodes, key=score)
