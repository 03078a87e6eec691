"""Plain data shared by the core: what git gives us, and the research tree built from it.

Nothing here talks to git, prints or decides; ``gitio`` fills :class:`CommitRecord`, ``tree`` builds
:class:`ResearchTree`, the renderers read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from gittree.trailers import ExperimentRecord


#: The run fact of an experiment reconstructed from a log (the row's commit id as logged): such a commit
#: lives only under gittree's keep ref by design, so the log's status, not reachability, says whether it
#: was kept (docs/import.md).
RECONSTRUCTED_FACT = "logged-commit"


@dataclass(frozen=True, slots=True)  # slots: one per commit read, 100k in a big history
class CommitRecord:
    """One commit as read from git: graph facts plus the (decoded) message."""

    sha: str
    parents: tuple[str, ...]
    message: str
    author_name: str = ""
    author_email: str = ""
    author_time: int = 0
    author_offset: int = 0  # minutes east of UTC
    #: git's shallow boundary: the commit's parents exist upstream but not in this clone.
    shallow: bool = False
    #: extra message text attached through ``refs/notes/gittree`` (late results).
    note: str | None = None

    @property
    def subject(self) -> str:
        return subject_of(self.message)


def subject_of(message: str) -> str:
    """A commit message's first line, without surrounding blanks."""
    end = message.find("\n")
    return (message if end < 0 else message[:end]).strip()


class Goal(str, Enum):
    MAX = "max"
    MIN = "min"


class Verdict(str, Enum):
    """How an experiment compares with its parent experiment on the chosen metric."""

    BETTER = "better"
    NEGLIGIBLE = "negligible"
    WORSE = "worse"
    ABANDONED = "abandoned"
    FAILED = "failed"
    #: kept by gittree, reached by no branch (nor tag or remote with --all): reset or deleted away.
    DISCARDED = "discarded"
    BASELINE = "baseline"


#: The colour each verdict is drawn in (terminal, DOT, HTML).
VERDICT_COLOURS: dict[Verdict, str | None] = {
    Verdict.BETTER: "green",
    Verdict.NEGLIGIBLE: "yellow",
    Verdict.WORSE: "red",
    Verdict.ABANDONED: "red",
    Verdict.FAILED: "red",
    Verdict.DISCARDED: "red",
    Verdict.BASELINE: None,
}


#: Values of the run fact ``dirty`` that mean the code was not what the commit holds.
DIRTY_VALUES = frozenset(["true", "yes", "1"])


class MetricSummary:
    """Repeated samples of one metric (seeds, reruns) summarised as mean ± sample std (n).

    Immutable in use. A plain slotted class rather than a dataclass: a 100k-experiment tree holds
    about 250k of these, and the mean, asked for about ten times per experiment, is computed once here.
    """

    __slots__ = ("mean", "samples", "std")

    def __init__(self, samples: tuple[float, ...]) -> None:
        self.samples = samples
        if len(samples) == 1:  # most experiments: one run (+ 0.0 gives what fsum gives: -0.0 -> 0.0)
            self.mean: float = samples[0] + 0.0
            #: sample standard deviation (n - 1); None for a single run, where spread is unknown.
            self.std: float | None = None
        else:
            self.mean = _mean(samples)
            self.std = _sample_std(samples, self.mean)

    def __repr__(self) -> str:
        return f"MetricSummary(samples={self.samples!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MetricSummary) and self.samples == other.samples

    def __hash__(self) -> int:
        return hash(self.samples)

    @property
    def n(self) -> int:
        return len(self.samples)


#: What git keeps of a commit through amend and rebase: its author's name and email, author time and
#: offset. A dead end with a live experiment's identity may be that one's earlier version (docs/tree.md).
Identity = tuple[str, str, int, int]


def author_identity(commit: CommitRecord | Node) -> Identity:
    """The :data:`Identity` of a commit, or of the experiment a node is."""
    return (commit.author_name, commit.author_email, commit.author_time, commit.author_offset)


def _mean(samples: tuple[float, ...]) -> float:
    if any(math.isnan(x) for x in samples):
        return math.nan
    try:
        return math.fsum(samples) / len(samples)
    except ValueError:  # both +inf and -inf among the samples: the mean is undefined
        return math.nan
    except OverflowError:  # a sum past the largest float (two samples of 1e308): divide first
        return math.fsum(x / len(samples) for x in samples)


def _sample_std(samples: tuple[float, ...], mean: float) -> float:
    if not math.isfinite(mean):
        return math.nan
    try:
        return math.sqrt(math.fsum((x - mean) ** 2 for x in samples) / (len(samples) - 1))
    except OverflowError:  # squares past the largest float (samples near 1e155 apart): scale them down
        deviations = [abs(x - mean) for x in samples]
        largest = max(deviations)
        if math.isinf(largest):
            return math.inf
        return largest * math.sqrt(math.fsum((d / largest) ** 2 for d in deviations) / (len(samples) - 1))


@dataclass(frozen=True)
class MetricSpec:
    """The metric a tree is coloured by: its name, whether bigger is better, and its negligible band."""

    name: str
    goal: Goal
    #: absolute band within which a delta is negligible; None means relative_threshold applies.
    threshold: float | None = None
    relative_threshold: float = 0.001
    #: a delta within noise_sigmas combined standard errors of repeated runs is negligible.
    noise_sigmas: float = 2.0
    #: surprise rule: |delta| above surprise_factor x the tree's median |delta| asks to be verified (0: off).
    surprise_factor: float = 10.0
    #: the relative surprise rule needs this many deltas before it knows what a usual step is.
    surprise_min_deltas: int = 5
    #: surprise rule: |delta| above this absolute bound always asks to be verified (None: no bound).
    surprise_bound: float | None = None
    #: dirty rule: may a result recorded against uncommitted changes be the best experiment?
    dirty_can_be_best: bool = True

    def band(self, reference: float) -> float:
        if self.threshold is not None:
            return self.threshold
        return abs(reference) * self.relative_threshold if math.isfinite(reference) else 0.0


@dataclass(slots=True)  # slots: a 100k-experiment tree holds 100k of these
class Node:
    """One experiment in the research tree.

    Its dictionaries are read, never changed in place (the builder assigns new ones): empty ones may
    be one shared object, so a 100k-experiment tree does not hold 100k empty ``run`` dictionaries.
    """

    sha: str
    message: str
    author_name: str
    author_email: str
    author_time: int
    author_offset: int
    metrics: dict[str, MetricSummary]
    params: dict[str, str]
    notes: tuple[str, ...]
    status: str | None
    run: dict[str, str]
    problems: tuple[str, ...]
    #: experiment parents: the nearest experiment ancestor on each parent path.
    parents: tuple[str, ...]
    #: ordinary commits folded into each incoming edge, by experiment parent.
    folded: dict[str, int] = field(default_factory=dict)
    #: ordinary commits below a root experiment (no experiment parent on that side).
    folded_below: int = 0
    #: parents cut by a shallow clone somewhere between this experiment and its ancestors.
    cut: bool = False
    children: list[str] = field(default_factory=list)
    # -- evaluation against the tree's metric --
    delta: float | None = None
    reference: str | None = None
    verdict: Verdict = Verdict.BASELINE
    #: the verdict rests on single runs on both sides (no noise estimate: docs/tree.md).
    single_run: bool = False
    best: bool = False
    head: bool = False
    on_best_path: bool = False
    #: the delta is far outside what the tree has seen (docs/tree.md, "Surprise"): "⚠ verify".
    surprise: bool = False
    #: kept by gittree's keep ref but reached by no branch in the view's scope (docs/tree.md): a dead end.
    discarded: bool = False
    #: the commit that reverts this experiment right after it (``git revert``: a dead end, docs/tree.md).
    reverted_by: str | None = None

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def subject(self) -> str:
        # Made when asked (a view asks once or twice per row) rather than kept: 8 MB at 100k.
        return subject_of(self.message)

    @property
    def label(self) -> str:
        """What the experiment is called in a view: the log's description for an imported row that
        names another commit's subject (run fact ``label``, issue 17), else the commit's subject."""
        return self.run.get("label") or self.subject

    @property
    def dirty(self) -> bool:
        """Recorded while the working tree differed from the commit (run fact ``dirty=true``)."""
        return self.run.get("dirty", "").strip().lower() in DIRTY_VALUES

    @property
    def dead_end(self) -> bool:
        return self.discarded or self.status in ("abandoned", "failed")

    @property
    def fate(self) -> str:
        """How a dead end died: ``abandoned``, ``failed`` or ``discarded`` (no branch reaches it)."""
        return self.status if self.status in ("abandoned", "failed") else "discarded"

    def value(self, metric: str) -> MetricSummary | None:
        return self.metrics.get(metric)


@dataclass
class ResearchTree:
    """Experiments in drawing order: every parent before its children, each subtree depth-first."""

    nodes: list[Node]
    metric: MetricSpec | None
    head: str | None = None
    best: str | None = None
    metric_names: tuple[str, ...] = ()
    #: median |delta| of the live experiments (the surprise rule's yardstick); None when too few deltas.
    typical_delta: float | None = None

    def __post_init__(self) -> None:
        self.by_sha: dict[str, Node] = {node.sha: node for node in self.nodes}
        #: what the history read for this tree left out, by reason (History.left_out; docs/tree.md).
        self.left_out: dict[str, int] = {}
        #: the decimals each metric's deltas are written with, worked out once per evaluation by
        #: render/words.py (docs/tree.md, "How numbers are written"); emptied when the tree is evaluated.
        self.delta_places: dict[str, int | None] = {}
        #: each node's subtree size as the drawing order counted it, in drawing order, and the count of
        #: experiments per metric: what the builder knew, kept for a view's index (gittree.tree.extend);
        #: empty when the tree was not made by the builder (a filtered tree)
        self.subtree_sizes: Sequence[int] = ()
        self.metric_counts: dict[str, int] = {}
        #: the author identities of every commit only the keep ref reached when this tree was read,
        #: those hidden as earlier versions of a rewritten experiment included (gittree.read): a new
        #: commit with one may be such a version's next, which a whole build would hide. None: not known
        self.kept_identities: frozenset[Identity] | None = None

    @property
    def roots(self) -> list[Node]:
        return [node for node in self.nodes if not node.parents]

    def path_to(self, sha: str) -> list[Node]:
        """The chain from a root to ``sha``, one experiment parent at a time (:meth:`path_parent`)."""
        chain: list[Node] = []
        current: str | None = sha
        seen: set[str] = set()
        while current is not None and current not in seen:
            seen.add(current)
            node = self.by_sha[current]
            chain.append(node)
            current = self.path_parent(node)
        chain.reverse()
        return chain

    def path_parent(self, node: Node) -> str | None:
        """The experiment parent the path to ``node`` goes through: the one its reference was found from.

        The reference may lie further down (docs/tree.md, "Deltas and verdicts": a parent without a
        value on the metric, or a dead end, is passed over), but the path takes the edges: it steps to
        that parent (a step of the path, though not the one judged against) and on down its first
        parents. A crossover's path takes the parent whose line gave its reference."""
        parents = node.parents
        reference = node.reference
        if len(parents) < 2 or reference is None or reference in parents:
            return reference if reference in parents else (parents[0] if parents else None)
        if self.metric is None:
            return parents[0]
        name = self.metric.name
        for parent in parents:
            current: str | None = parent
            while current is not None and current != reference:
                below = self.by_sha.get(current)
                if below is None or (name in below.metrics and not below.dead_end):
                    break  # this line's own reference (gittree.tree._valued_ancestor): not the one taken
                current = below.parents[0] if below.parents else None
            if current == reference:
                return parent
        return parents[0]


@dataclass(frozen=True)
class History:
    """The commits a view is built from (``read.read_history``), with their already-parsed trailers."""

    commits: list[CommitRecord]
    parsed: dict[str, ExperimentRecord | None]
    #: what the read left out, by reason (:data:`READ_OMISSIONS`): the views say it (issue 17).
    left_out: dict[str, int] = field(default_factory=dict)


#: Why a view has fewer experiments than the history holds, in the order a view names them:
#: ``window``: commits whose parents fall outside --limit/--since (older history not read);
#: ``rewritten``: earlier versions of rewritten experiments (docs/tree.md); ``author``: experiments
#: --author did not match (nor any of theirs builds on).
READ_OMISSIONS = ("window", "rewritten", "author")


# -- what gittree.gitio answers about git's refs, notes and remotes -----------------------------------


@dataclass(frozen=True)
class PrefixMatch:
    """What an abbreviated hash names: the commits it matches, and the types of other objects it matches."""

    commits: tuple[str, ...]
    other_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoteEntry:
    """One note in a notes commit: where it sits in the notes tree, and its blob."""

    path: str
    blob: str


@dataclass(frozen=True)
class FetchResult:
    #: exact source refs the remote does not have (their refspecs were dropped).
    missing: tuple[str, ...] = ()
    #: git's message when a local ref was locked by another process (try again), else None.
    busy: str | None = None


@dataclass(frozen=True)
class RefUpdate:
    """One ref to set on a remote: to ``new``, only if it is still at ``expected`` (None: absent)."""

    ref: str
    new: str
    expected: str | None


@dataclass(frozen=True)
class PushedRef:
    ref: str
    ok: bool
    #: git's summary for the ref: "[new reference]", "[rejected] (fetch first)", ...
    summary: str


@dataclass(frozen=True)
class PushResult:
    refs: tuple[PushedRef, ...]
    #: what the remote said ("remote: ..." lines: a hook's message), one string per line.
    remote_messages: tuple[str, ...]


# -- imports of other tools' logs (gittree/importers fills them, render/answers.py shows them) ----------


@dataclass
class RowOutcome:
    """What the import does (or would do, or cannot do) with one row."""

    line: int
    commit: str
    status: str
    #: "record" (a note on the commit), "reconstruct" (a commit of gittree's own), "sample" (a
    #: repeated run added to another row's experiment), "already imported", "skipped" (a row problem,
    #: the rest imported) or "error" (a row problem with --strict: nothing written).
    action: str
    message: str
    sha: str | None = None
    lines: tuple[str, ...] = ()
    #: the ref created to keep a commit reachable that only the reflog (or nothing) held.
    kept_ref: str | None = None
    #: keep / discard / crash: the logged status as imported (the nearest-status rule, or --status-map).
    imported_status: str = ""
    #: a reconstructed experiment: the commit it hangs off (None: a root).
    parent: str | None = None
    #: a reconstructed experiment: its raw commit object, to write.
    raw: bytes = b""


@dataclass
class ImportReport:
    source: str
    rows: list[RowOutcome] = field(default_factory=list)
    #: something was written (a note, a commit or a keep-alive ref); false in a dry run and when all was imported.
    written: bool = False
    strict: bool = False
    #: the metric the tree is judged by after this import, its goal, and where the choice came from.
    metric: str | None = None
    goal: str | None = None
    metric_source: str = ""
    #: logged statuses that are not keep/discard/crash: word -> (imported status, rows, how decided).
    status_rules: dict[str, tuple[str, int, str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.action == "error"]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)
