"""Plain data shared by the core: what git gives us, and the research tree built from it.

Nothing here talks to git, prints or decides; ``gitio`` fills :class:`CommitRecord`, ``tree`` builds
:class:`ResearchTree`, the renderers read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
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
        return self.message.split("\n", 1)[0].strip()


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
    BASELINE = "baseline"


#: The colour each verdict is drawn in (terminal, DOT, HTML).
VERDICT_COLOURS: dict[Verdict, str | None] = {
    Verdict.BETTER: "green",
    Verdict.NEGLIGIBLE: "yellow",
    Verdict.WORSE: "red",
    Verdict.ABANDONED: "red",
    Verdict.FAILED: "red",
    Verdict.BASELINE: None,
}


@dataclass(frozen=True)
class MetricSummary:
    """Repeated samples of one metric (seeds, reruns) summarised as mean ± sample std (n)."""

    samples: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def mean(self) -> float:
        if any(math.isnan(x) for x in self.samples):
            return math.nan
        return math.fsum(self.samples) / len(self.samples)

    @property
    def std(self) -> float | None:
        """Sample standard deviation (n - 1); None for a single run, where spread is unknown."""
        if self.n < 2:
            return None
        mean = self.mean
        if not math.isfinite(mean):
            return math.nan
        return math.sqrt(math.fsum((x - mean) ** 2 for x in self.samples) / (self.n - 1))


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

    def band(self, reference: float) -> float:
        if self.threshold is not None:
            return self.threshold
        return abs(reference) * self.relative_threshold if math.isfinite(reference) else 0.0


@dataclass
class Node:
    """One experiment in the research tree."""

    sha: str
    subject: str
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
    #: the verdict rests on a single run on at least one side (no noise estimate).
    single_run: bool = False
    best: bool = False
    head: bool = False
    on_best_path: bool = False

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def dead_end(self) -> bool:
        return self.status in ("abandoned", "failed")

    @property
    def dirty(self) -> bool:
        """A result was recorded against a working tree that differed from this commit (run fact dirty=true)."""
        return self.run.get("dirty") == "true"

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

    def __post_init__(self) -> None:
        self.by_sha: dict[str, Node] = {node.sha: node for node in self.nodes}

    @property
    def roots(self) -> list[Node]:
        return [node for node in self.nodes if not node.parents]

    def path_to(self, sha: str) -> list[Node]:
        """The chain from a root to ``sha``, following at each step the parent the delta was taken against."""
        chain: list[Node] = []
        current: str | None = sha
        seen: set[str] = set()
        while current is not None and current not in seen:
            seen.add(current)
            node = self.by_sha[current]
            chain.append(node)
            current = node.reference or (node.parents[0] if node.parents else None)
        chain.reverse()
        return chain
