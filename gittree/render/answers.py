"""The answers of ``best``, ``path``, ``diff`` and ``import`` as terminal text and as JSON.

Text is plain (no colour) and every string from commit data goes through ``terminal_safe``. The JSON
shapes are documented in ``docs/export.md`` ("JSON of the question commands").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from gittree.model import ImportReport, MetricSummary, Node, ResearchTree
from gittree.render.escape import code_lines
from gittree.render.jsonview import json_number, summary_data
from gittree.render.markup import one_line
from gittree.render.numbers import decimals_for, format_delta, format_summary, format_value
from gittree.render.words import (
    FOOTNOTE,
    UNRANKED_WORDS,
    delta_places,
    delta_text,
    failure_reason,
    flags_text,
    footnotes,
    left_out_line,
    left_out_phrases,
    off_path_phrase,
    rests_on_one_run,
    verdict_text,
    verdict_word,
)
from gittree.tree.analysis import ExperimentDiff, PathReport, PathStep, Ranking, Side

SCHEMA_VERSION = 1


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# -- best -------------------------------------------------------------------------------------------


def render_best(tree: ResearchTree, ranking: Ranking) -> str:
    from gittree.render.tabulated import tabulate_module

    tabulate = tabulate_module().tabulate

    spec = ranking.metric
    out = [f"best by {one_line(spec.name)} ({spec.goal.value}) · {_ranked_phrase(tree, ranking)}"]
    if not ranking.entries:
        out.append("no experiment can be ranked: " + (_left_out_phrase(ranking) or "none has a value"))
        return "\n".join(out) + "\n"
    rows = [
        [
            str(entry.rank),
            entry.node.short,
            one_line(entry.node.label),
            format_summary(entry.value),
            delta_text(tree, entry.node),
            verdict_text(entry.node),
            flags_text(entry.node),
        ]
        for entry in ranking.entries
    ]
    headers = ["rank", "sha", "subject", one_line(spec.name), "Δ", "verdict", "flags"]
    out.append(str(tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)))
    if ranking.ties_cut:
        noun = "experiment" if ranking.ties_cut == 1 else "experiments"
        out.append(f"tied with the last one shown: {ranking.ties_cut} more {noun} (see --top)")
    notes = footnotes([entry.node for entry in ranking.entries])
    left_out = left_out_line(left_out_phrases(tree.left_out))
    return "\n".join(out + notes + ([left_out] if left_out else [])) + "\n"


def _ranked_phrase(tree: ResearchTree, ranking: Ranking) -> str:
    phrase = f"{ranking.ranked} of {len(tree.nodes)} experiments ranked"
    left_out = _left_out_phrase(ranking)
    return phrase + (f" (left out: {left_out})" if left_out else "")


def _left_out_phrase(ranking: Ranking) -> str:
    parts = []
    for reason, count in ranking.left_out.items():
        if count:
            one, many = UNRANKED_WORDS[reason]
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts)


def best_data(tree: ResearchTree, ranking: Ranking) -> dict[str, Any]:
    spec = ranking.metric
    return {
        "schema": SCHEMA_VERSION,
        "metric": spec.name,
        "goal": spec.goal.value,
        "ranked": ranking.ranked,
        "experiments": len(tree.nodes),
        "left_out": {**ranking.left_out, **tree.left_out},
        "ties_cut": ranking.ties_cut,
        "best": [
            {
                "rank": entry.rank,
                "sha": entry.node.sha,
                "subject": entry.node.subject,
                "value": summary_data(entry.value),
                "delta": json_number(entry.node.delta),
                "reference": entry.node.reference,
                "verdict": entry.node.verdict.value,
                "single_run": entry.node.single_run,
                "surprise": entry.node.surprise,
                "dirty": entry.node.dirty,
                "status": entry.node.status,
            }
            for entry in ranking.entries
        ],
    }


def render_best_json(tree: ResearchTree, ranking: Ranking) -> str:
    return _dump(best_data(tree, ranking))


# -- path -------------------------------------------------------------------------------------------


def render_path(tree: ResearchTree, report: PathReport) -> Iterator[str]:
    """The chain of ideas from the root to the target, one block per step, folded commits between."""
    spec = report.metric
    target = report.target
    mark = "★ " if target.best else ""
    yield f"path to {mark}{target.short} {one_line(target.label)}"
    start = report.start
    if spec and start and start.value is not None and report.steps[-1].value is not None:
        decimals = _decimals(start.value)
        gain = format_delta(report.gain, start.value.mean, delta_places(tree, spec.name))
        steps = len(report.steps) - 1
        noun = "step" if steps == 1 else "steps"
        yield (
            f"{one_line(spec.name)} ({spec.goal.value}): {format_value(start.value.mean, decimals)} → "
            f"{format_value(report.steps[-1].value.mean, decimals)}, {gain} over {steps} {noun}"
        )
    elif spec:
        yield f"{one_line(spec.name)} ({spec.goal.value}): no value to measure the gain"
    width = len(str(len(report.steps)))
    indent = " " * (width + 2 + 7 + 2)
    below: str | None = None
    for number, step in enumerate(report.steps, start=1):
        yield ""
        yield from _folded_lines(step, width)
        yield f"{number:>{width}}. {step.node.short}  {one_line(step.node.label)}"
        yield indent + _step_summary(tree, report, step, below)
        followed = tree.path_parent(step.node)
        for parent in step.node.parents:
            if parent != followed:  # a crossover: the other lines of work it brings in
                other = tree.by_sha[parent]
                yield indent + f"merges: {other.short} {one_line(other.subject)}"
        below = step.node.sha
        if step.node.params:
            params = " ".join(f"{name}={value}" for name, value in step.node.params.items())
            yield indent + "params: " + one_line(params)
        for note in step.node.notes:
            yield indent + "note: " + one_line(note)
    notes = footnotes([step.node for step in report.steps])
    left_out = report.left_out
    line = left_out_line(
        [
            off_path_phrase(left_out.get("dead_ends", 0), left_out.get("off_path", 0)) or "",
            *left_out_phrases(left_out),
        ]
    )
    if notes or line:
        yield ""
        yield from notes
        if line:
            yield line


def _decimals(value: MetricSummary) -> int | None:
    mean = value.mean
    return decimals_for(mean) if mean != 0 and 1e-3 <= abs(mean) < 1e6 else None


def _folded_lines(step: PathStep, width: int) -> Iterator[str]:
    folded = step.folded
    if not folded.count:
        return
    lead = " " * (width + 2) + "┆ "
    noun = "ordinary commit" if folded.count == 1 else "ordinary commits"
    yield f"{lead}{folded.count} {noun} folded in:"
    for commit in folded.commits:
        yield f"{lead}  {commit.sha[:7]} {one_line(commit.subject)}"
    rest = folded.count - len(folded.commits)
    if rest > 0:
        yield f"{lead}  … and {rest} more"


def _step_summary(tree: ResearchTree, report: PathReport, step: PathStep, below: str | None) -> str:
    """``below``: the step before. A delta taken against another experiment (steps without a value
    between them: docs/tree.md, "Deltas and verdicts") names it."""
    spec = report.metric
    node = step.node
    parts = []
    if spec:
        parts.append(f"{one_line(spec.name)} {format_summary(step.value)}")
    if node.delta is not None:
        against = f" against {node.reference[:7]}" if node.reference and node.reference != below else ""
        parts.append(f"{delta_text(tree, node)} {verdict_text(node)}{against}")
    else:
        parts.append(node.verdict.value)
    if step.cumulative is not None and step is not report.start:
        start = report.start
        parts.append(
            "cumulative "
            + format_delta(
                step.cumulative,
                start.value.mean if start and start.value else None,
                delta_places(tree, spec.name) if spec else None,
            )
        )
    if node.dead_end or (node.status and node.status != "ok"):
        status = _status_words(node)
        if status != verdict_text(node):  # a dead end's verdict is its fate already: said once
            parts.append(status)
    words = flags_text(node)
    if words:
        parts.append(words)
    return " · ".join(parts)


def _status_words(node: Node) -> str:
    """``failed (exit 1: ValueError: …)``, ``abandoned``, ``status running``."""
    if not node.dead_end:
        return f"status {node.status}"
    failure = failure_reason(node)
    return f"{node.fate} ({one_line(failure)})" if failure else str(node.fate)


def path_data(report: PathReport) -> dict[str, Any]:
    spec = report.metric
    start = report.start
    return {
        "schema": SCHEMA_VERSION,
        "metric": spec.name if spec else None,
        "goal": spec.goal.value if spec else None,
        "target": report.target.sha,
        "start": start.node.sha if start else None,
        "gain": json_number(report.gain),
        "steps": [
            {
                "sha": step.node.sha,
                "subject": step.node.subject,
                "value": summary_data(step.value) if step.value else None,
                "delta": json_number(step.delta),
                "reference": step.node.reference,
                "cumulative": json_number(step.cumulative),
                "verdict": step.node.verdict.value,
                "single_run": step.node.single_run,
                "surprise": step.node.surprise,
                "dirty": step.node.dirty,
                "best": step.node.best,
                "status": step.node.status,
                "failure": failure_reason(step.node),
                "params": dict(step.node.params),
                "notes": list(step.node.notes),
                "folded": {
                    "count": step.folded.count,
                    "commits": [{"sha": c.sha, "subject": c.subject} for c in step.folded.commits],
                },
            }
            for step in report.steps
        ],
        "left_out": dict(report.left_out),
    }


def render_path_json(report: PathReport) -> str:
    return _dump(path_data(report))


# -- diff -------------------------------------------------------------------------------------------

_RELATION_TEXT = {
    "a-before-b": "{b} grew from {a}",
    "b-before-a": "{a} grew from {b}: the deltas run backwards in time",
    "diverged": "{a} and {b} are on different lines of work",
    "same": "the same commit",
}


def render_diff(answer_diff: ExperimentDiff, code: str, *, patch: bool) -> Iterator[str]:
    """``gittree diff`` as text lines: the comparison, the code change (git's ``--stat``), the footnote."""
    before, after = render_diff_around_code(answer_diff, patch=patch)
    yield from before
    yield from code_lines(code)
    yield from after


def render_diff_around_code(answer_diff: ExperimentDiff, *, patch: bool) -> tuple[list[str], list[str]]:
    """The lines of :func:`render_diff` before the code change and after it.

    ``diff``'s view cache holds these two (they depend on the tree); the code change is git's answer,
    asked each time (it also depends on git's configuration and the environment: docs/performance.md).
    """
    from gittree.render.tabulated import tabulate_module

    tabulate = tabulate_module().tabulate

    a, b = answer_diff.a, answer_diff.b
    short_a, short_b = a.sha[:7], b.sha[:7]
    before = [
        f"diff {short_a} {one_line(a.subject)}",
        f"  →  {short_b} {one_line(b.subject)}",
        "     " + _RELATION_TEXT[answer_diff.relation].format(a=short_a, b=short_b),
    ]
    for side in (a, b):
        if side.node is None:
            before.append(f"     {side.sha[:7]} is not an experiment (no Gittree-* trailer or note)")
    if answer_diff.metrics:
        rows = [
            [
                one_line(m.spec.name),
                format_summary(m.a),
                format_summary(m.b),
                format_delta(m.delta, m.a.mean if m.a else None),
                verdict_word(m.verdict, m.single_run),
            ]
            for m in answer_diff.metrics
        ]
        before.append("")
        headers = ["metric", short_a, short_b, "delta", "verdict"]
        before.append(str(tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)))
    if answer_diff.params:
        rows = [
            [
                one_line(p.name),
                _param_cell(p.a, p.name in a.params_set_here),
                _param_cell(p.b, p.name in b.params_set_here),
            ]
            for p in answer_diff.params
        ]
        before.append("")
        before.append(
            str(tabulate(rows, headers=["param", short_a, short_b], tablefmt="plain", disable_numparse=True))
        )
    if answer_diff.same_params:
        noun = "param" if answer_diff.same_params == 1 else "params"
        before.append(f"({answer_diff.same_params} {noun} the same)")
    if any(p.name in a.params_set_here or p.name in b.params_set_here for p in answer_diff.params):
        before.append(SET_HERE_NOTE)
    before.extend(_side_facts(a, b))
    before.append("")
    before.append(f"code: git diff --stat{' --patch' if patch else ''} {short_a} {short_b}")
    after: list[str] = []
    if any(rests_on_one_run(m.verdict, m.single_run) for m in answer_diff.metrics):
        after += ["", FOOTNOTE]
    return before, after


#: The mark of a param value an experiment set itself, and its legend (docs/tree.md, "Params").
SET_HERE_MARK = "*"
SET_HERE_NOTE = "* set by that experiment itself; the other values are inherited from its parent experiments"


def _param_cell(value: str | None, set_here: bool) -> str:
    if value is None:
        return "—"
    return one_line(value) + (SET_HERE_MARK if set_here else "")


def _side_facts(a: Side, b: Side) -> Iterator[str]:
    lines: list[str] = []
    for side in (a, b):
        node = side.node
        if node is None:
            continue
        facts = []
        if node.status and node.status != "ok":
            facts.append(_status_words(node) if node.dead_end else node.status)
        words = flags_text(node)
        if words:
            facts.append(words)
        if facts:
            lines.append(f"  {side.sha[:7]}  " + " · ".join(facts))
        for note in node.notes:
            lines.append(f"  {side.sha[:7]}  note: {one_line(note)}")
    if lines:
        yield ""
        yield "notes and flags"
        yield from lines


def diff_data(answer_diff: ExperimentDiff, code: str, *, patch: bool) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        node = s.node
        return {
            "sha": s.sha,
            "subject": s.subject,
            "experiment": node is not None,
            "status": node.status if node else None,
            "failure": failure_reason(node) if node else None,
            "notes": list(node.notes) if node else [],
            "params": dict(s.params),
            "params_set_here": sorted(s.params_set_here),
            "best": node.best if node else False,
            "surprise": node.surprise if node else False,
            "dirty": node.dirty if node else False,
        }

    return {
        "schema": SCHEMA_VERSION,
        "a": side(answer_diff.a),
        "b": side(answer_diff.b),
        "relation": answer_diff.relation,
        "metrics": [
            {
                "name": m.spec.name,
                "goal": m.spec.goal.value,
                "a": summary_data(m.a) if m.a else None,
                "b": summary_data(m.b) if m.b else None,
                "delta": json_number(m.delta),
                "verdict": m.verdict.value if m.verdict else None,
                "single_run": m.single_run,
            }
            for m in answer_diff.metrics
        ],
        "params": [{"name": p.name, "a": p.a, "b": p.b} for p in answer_diff.params],
        "same_params": answer_diff.same_params,
        "code": {"patch": patch, "text": code},
    }


def render_diff_json(answer_diff: ExperimentDiff, code: str, *, patch: bool) -> str:
    return _dump(diff_data(answer_diff, code, patch=patch))


def render_diff_json_around_code(answer_diff: ExperimentDiff, *, patch: bool) -> tuple[str, str]:
    """:func:`render_diff_json` before and after the code change as a JSON string.

    The code's text is the last value of the document (``code`` is the last key, ``text`` the last of
    it), so the last ``""`` of the document made with an empty code is exactly where it goes.
    """
    whole = render_diff_json(answer_diff, "", patch=patch)
    cut = whole.rindex('""')
    return whole[:cut], whole[cut + 2 :]


# -- import -----------------------------------------------------------------------------------------


def _action_word(action: str, written: bool) -> str:
    """How a row's outcome reads: ``record`` is "recorded" once written, "to record" before."""
    if action == "record":
        return "recorded" if written else "to record"
    if action == "reconstruct":
        return "reconstructed" if written else "to reconstruct"
    if action == "sample":
        return "added as a sample" if written else "to add as a sample"
    return action


_GOAL_WORDS = {"min": "lower is better", "max": "higher is better"}


def render_import(report: ImportReport) -> Iterator[str]:
    """One line per row, then what the import decided, then a summary; in a dry run (or with
    --strict and rows in error) nothing was written."""
    for row in report.rows:
        action = _action_word(row.action, report.written)
        commit = one_line(row.commit or "?")
        line = f"line {row.line:<4} {commit:<9} {one_line(row.status or '?'):<8} {action}: {one_line(row.message)}"
        if row.kept_ref and row.sha and row.action not in ("error", "skipped"):
            line += f" · kept reachable by {row.kept_ref}"
        yield line
    for word, (status, count, how) in report.status_rules.items():
        rows = f"{count} row{'s' if count != 1 else ''}"
        yield (
            f"status '{one_line(word)}' imported as {status} ({rows}, by the {how}; "
            f"change it with --status-map {one_line(word)}=keep|discard|crash)"
        )
    if report.metric:
        goal = _GOAL_WORDS.get(report.goal or "", report.goal or "")
        yield (
            f"judged by {one_line(report.metric)}, {goal} ({report.metric_source}); to change it, set primary "
            f"(and metrics.{one_line(report.metric)}.goal) in .gittree.yaml, or pass --metric to a view"
        )
    rebuilt = [
        row for row in report.rows if row.action == "reconstruct" or (row.raw and row.action != "error")
    ]
    if rebuilt:
        # (a row whose commit is not in this history, or a second experiment logged on one commit); it
        # named refs/gittree/kept/, where no import has written since the one keep ref
        refs = sorted({row.kept_ref for row in rebuilt if row.kept_ref})
        kept = f", kept reachable by {', '.join(one_line(ref) for ref in refs)}" if refs else ""
        count = len(rebuilt)
        rows, experiments, commits = (
            ("row", "experiment", "a commit") if count == 1 else ("rows", "experiments", "commits")
        )
        verb = "imported" if report.written else "to import"
        yield (
            f"{count} {rows} {verb} as reconstructed {experiments} ({commits} of gittree's own{kept}); "
            "gittree show draws them"
        )
    actions = ("record", "reconstruct", "sample", "already imported", "skipped", "error")
    counts = ", ".join(
        f"{report.count(action)} {_action_word(action, report.written)}"
        for action in actions
        if report.count(action)
    )
    total = len(report.rows)
    yield f"{total} row{'s' if total != 1 else ''}: {counts or 'none'} · {'written' if report.written else 'nothing written'}"


def import_data(report: ImportReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "source": report.source,
        "written": report.written,
        "strict": report.strict,
        "metric": report.metric,
        "goal": report.goal,
        "statuses": {
            word: {"imported_as": status, "rows": count, "by": how}
            for word, (status, count, how) in report.status_rules.items()
        },
        "rows": [
            {
                "line": row.line,
                "commit": row.commit,
                "status": row.status,
                "imported_status": row.imported_status or None,
                "action": row.action,
                "message": row.message,
                "sha": row.sha,
                "parent": row.parent,
                "reconstructed": bool(row.raw),
                "trailers": list(row.lines),
                "kept_ref": row.kept_ref,
            }
            for row in report.rows
        ],
    }


def render_import_json(report: ImportReport) -> str:
    return _dump(import_data(report))
