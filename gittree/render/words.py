"""The words and marks every view uses for verdicts, flags and dead ends, written once.

The terminal tree, the tables, the answers of ``best``/``path``/``diff``, the Markdown export, the
DOT/SVG marks and the HTML page all say the same thing the same way: a verdict that rests on a
single run carries ``¹`` and the footnote that explains it, a dead end gives its reason, a delta is
shown at the precision of the value it changes (docs/tree.md, "Keeping the researcher honest").
Plain text only: each renderer escapes these for its own output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gittree.model import MetricSpec, Node, ResearchTree, Verdict
from gittree.render.numbers import column_places, format_delta, format_plain

#: Verdicts that come from comparing numbers (they carry the single-run mark ``¹``).
COMPARED = (Verdict.BETTER, Verdict.NEGLIGIBLE, Verdict.WORSE)
SINGLE_RUN_MARK = "¹"
#: The widest verdict as shown, for columns that reserve its room.
WIDEST_VERDICT = "negligible" + SINGLE_RUN_MARK

FOOTNOTE = "¹ one run on each side: no noise estimate behind this verdict"
#: The footnote as a drawing's legend says it, in little room.
SHORT_FOOTNOTE = "¹ single run (no noise estimate)"
#: The honesty marks every view shows (docs/tree.md, "Keeping the researcher honest").
SURPRISE_MARK = "⚠ verify"
DIRTY_MARK = "dirty"
BEST_MARK = "★ best"
CUT_MARK = "⋯ history cut (shallow clone)"
SURPRISE_NOTE = "⚠ verify: a delta far outside the usual steps of this tree; a surprise is most often a bug"
DIRTY_NOTE = "dirty: recorded while the working tree differed from the commit"
FAR_NOTE = "⊕ also: a crossover that also builds on that experiment, drawn far above (no lane)"

#: Flag words, in the order they are shown; the honesty and position marks of docs/tree.md.
FLAG_TEXT = {"best": BEST_MARK, "surprise": SURPRISE_MARK, "dirty": DIRTY_MARK, "cut": "⋯ history cut"}

NO_REASON = "no reason recorded"
#: Why a discarded experiment is a dead end, when no note says more (docs/tree.md, "Dead ends").
UNREACHED_REASON = "no branch reaches it; gittree keeps it"
REVERTED_REASON = "reverted by {}"

#: A drawing's legend (the SVG's and the HTML page's): each verdict colour's word, in order, and the
#: marks it explains. The page gets them in its data, so both say the same words.
LEGEND_SWATCHES = (
    (Verdict.BETTER, "better"),
    (Verdict.NEGLIGIBLE, "negligible"),
    (Verdict.WORSE, "worse"),
    (Verdict.ABANDONED, "dead end ✗"),
    (Verdict.BASELINE, "baseline"),
)
LEGEND_MARKS = f"{BEST_MARK} · blue: path to the best · +N: ordinary commits · {SHORT_FOOTNOTE}"


def rests_on_one_run(verdict: Verdict | None, single_run: bool) -> bool:
    """Whether a verdict compared numbers with one run on each side (no noise estimate behind it)."""
    return single_run and verdict in COMPARED


def verdict_word(verdict: Verdict | None, single_run: bool) -> str:
    """``better``, ``better¹`` (one run on each side), or nothing for no verdict."""
    if verdict is None:
        return ""
    return verdict.value + (SINGLE_RUN_MARK if rests_on_one_run(verdict, single_run) else "")


def verdict_text(node: Node) -> str:
    """An experiment's verdict as every view shows it: ``better``, ``better¹``, ``abandoned``."""
    return verdict_word(node.verdict, node.single_run)


def delta_on(tree: ResearchTree, metric: str | None, delta: float | None, reference: str | None) -> str:
    """``+0.0127``: ``delta`` on ``metric`` with the decimals of the tree's deltas (:func:`delta_places`)."""
    ref_node = tree.by_sha.get(reference or "")
    ref_value = ref_node.metrics.get(metric) if ref_node and metric else None
    return format_delta(delta, ref_value.mean if ref_value else None, delta_places(tree, metric))


def delta_places(tree: ResearchTree, metric: str | None) -> int | None:
    """The decimals of every delta on the tree's metric in a view, chosen once from the spread of the
    tree's deltas (``column_places``; docs/tree.md, "How numbers are written"). None for another
    metric: the tree holds deltas of its own metric only, and each other one is written on its own."""
    spec = tree.metric
    if spec is None or metric != spec.name:
        return None
    cache = tree.delta_places
    if metric in cache:
        return cache[metric]
    pairs = []
    by_sha = tree.by_sha
    for node in tree.nodes:
        if node.delta is not None and node.reference is not None:
            value = by_sha[node.reference].metrics.get(metric)
            if value is not None:
                pairs.append((node.delta, value.mean))
    cache[metric] = places = column_places(pairs)
    return places


def delta_text(tree: ResearchTree, node: Node) -> str:
    """An experiment's delta on the tree's metric, at the precision of the value it changes."""
    return delta_on(tree, tree.metric.name if tree.metric else None, node.delta, node.reference)


def flags(node: Node) -> list[str]:
    """The honesty and position flags of an experiment, as keys of :data:`FLAG_TEXT`."""
    found = [
        ("best", node.best),
        ("surprise", node.surprise),
        ("dirty", node.dirty),
        ("cut", node.cut),
    ]
    return [name for name, present in found if present]


def flags_text(node: Node | None) -> str:
    """``★ best · ⚠ verify``: an experiment's flags in words (nothing for no experiment)."""
    return " · ".join(FLAG_TEXT[flag] for flag in flags(node)) if node else ""


def problems_mark(count: int) -> str:
    """``⚠ 2 malformed trailer(s)``."""
    return f"⚠ {count} malformed trailer(s)"


def run_outcome(run: Mapping[str, str]) -> str | None:
    """How a recorded run ended, from its ``Gittree-Run`` facts: ``exit 1``, ``killed by SIGKILL``,
    ``interrupted by SIGTERM``; None for a run that succeeded or facts that do not say.

    A command stopped by a signal gittree forwarded has both ``signal`` and ``interrupted``: the
    interruption is the cause, said once.
    """
    interrupted = run.get("interrupted", "")
    if interrupted == "lost":
        return "gittree was killed during the run"
    if interrupted:
        return f"interrupted by {interrupted}"
    if run.get("signal"):
        return f"killed by {run['signal']}"
    code = run.get("exit", "")
    if code and code != "0":
        return f"exit {code}"
    return None


def failure_reason(node: Node) -> str | None:
    """Why a failed run failed, from what gittree saw: ``exit 1: ValueError: lr must be positive``
    (the outcome, then the last line the command wrote to stderr); None when nothing was seen."""
    if node.status != "failed":
        return None
    outcome, error = run_outcome(node.run), node.run.get("stderr")
    if outcome and error:
        return f"{outcome}: {error}"
    return outcome or error


def short_failure(node: Node) -> str | None:
    """:func:`failure_reason` without the stderr line, for a row with little room: ``exit 1``."""
    return run_outcome(node.run) if node.status == "failed" else None


def dead_end_reason(node: Node) -> str:
    """Why a dead end was left: what gittree saw of a failed run (docs/runs.md, "Why a run failed"),
    then all its notes, in order (a later note often says more); else that none says."""
    failure = failure_reason(node)
    reasons = [failure, *node.notes] if failure else list(node.notes)
    if reasons:
        return "; ".join(reasons)
    if node.fate == "discarded":
        return REVERTED_REASON.format(node.reverted_by[:7]) if node.reverted_by else UNREACHED_REASON
    return NO_REASON


def dead_end_line(node: Node) -> str:
    """``✗ abandoned: <its reason>``: the line a drawn dead end carries."""
    return f"✗ {node.fate}: {dead_end_reason(node)}"


def footnotes(nodes: Iterable[Node]) -> list[str]:
    """The legend lines the shown experiments need: single runs, surprises, dirty code."""
    one_run = surprise = dirty = False
    for node in nodes:
        one_run = one_run or rests_on_one_run(node.verdict, node.single_run)
        surprise = surprise or node.surprise
        dirty = dirty or node.dirty
    return [
        line
        for line, needed in ((FOOTNOTE, one_run), (SURPRISE_NOTE, surprise), (DIRTY_NOTE, dirty))
        if needed
    ]


def band_text(spec: MetricSpec) -> str:
    """``within 0.1% of parent, or 2 standard errors where seeds exist``: how small a delta is negligible
    (docs/tree.md, "The negligible band"). Where seeds exist their noise decides; a configured
    threshold is a floor under it; ``noise_sigmas: 0`` turns the noise rule off."""
    if spec.threshold is not None:
        fixed = format_plain(spec.threshold)
    else:
        fixed = f"{format_plain(spec.relative_threshold * 100)}% of parent"
    if spec.noise_sigmas == 0:
        return f"within {fixed}"
    sigmas = f"{format_plain(spec.noise_sigmas)} standard error{'' if spec.noise_sigmas == 1 else 's'}"
    floor = " if larger" if spec.threshold is not None else ""
    return f"within {fixed}, or {sigmas} where seeds exist{floor}"


def band_line(spec: MetricSpec) -> str:
    """``negligible: within 0.1% of parent, or 2 standard errors where seeds exist``: the terminal
    legend's line (the header has no room for it)."""
    return f"negligible: {band_text(spec)}"


def metric_text(spec: MetricSpec | None) -> str:
    """``acc (max, negligible within 0.003, or 2 standard errors where seeds exist if larger)`` — what
    the verdicts and colours are judged by, as a drawing's legend says it."""
    if spec is None:
        return "no metric recorded"
    return f"{spec.name} ({spec.goal.value}, negligible {band_text(spec)})"


def drawing_title(count: int, hidden: int) -> str:
    """``research tree · 12 experiments (3 more not drawn)``: a drawing's title (DOT legend, HTML page)."""
    title = f"research tree · {count} experiment{'s' if count != 1 else ''}"
    return title + (f" ({hidden} more not drawn)" if hidden else "")


# -- what a view leaves out (issue 17: every view that leaves something out says so) ----------------

#: Each reason a tree has fewer experiments than the history (model.READ_OMISSIONS), and how to see them.
LEFT_OUT_WORDS = {
    "window": "older history, outside --limit/--since (run without them to see it)",
    "rewritten": "{n} earlier version{s} of rewritten experiments (gittree kept lists them)",
    "author": "{n} experiment{s} by other authors (run without --author)",
}


#: Why ``best`` did not rank an experiment (analysis.Ranking.left_out), singular and plural.
UNRANKED_WORDS = {
    "dead_end": ("dead end", "dead ends"),
    "no_value": ("without a value", "without a value"),
    "nan": ("NaN", "NaN"),
    "dirty": ("dirty", "dirty"),
}


def _counted(template: str, count: int) -> str:
    return template.format(n=count, s="" if count == 1 else "s")


def left_out_phrases(left_out: Mapping[str, int]) -> list[str]:
    """What a tree's reading left out, one phrase per reason, in a fixed order."""
    return [
        _counted(words, left_out[reason]) for reason, words in LEFT_OUT_WORDS.items() if left_out.get(reason)
    ]


def off_path_phrase(dead_ends: int, others: int) -> str | None:
    """``path``'s own omission: the experiments of the tree that are not steps of the path."""
    parts = []
    if dead_ends:
        parts.append(_counted("{n} dead end{s}", dead_ends))
    if others:
        parts.append(_counted("{n} other experiment{s}", others))
    return " and ".join(parts) + " off this path (gittree show draws them)" if parts else None


def left_out_line(phrases: Iterable[str]) -> str | None:
    """``left out: …``: the one line a view writes when it does not show everything; None when it does."""
    chosen = [phrase for phrase in phrases if phrase]
    return "left out: " + "; ".join(chosen) if chosen else None
