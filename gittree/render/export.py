"""``gittree export``: the whole research map, as JSON for programs and agents, or as a Markdown narrative.

The JSON follows ``docs/export.schema.json`` (documented in ``docs/export.md``); its ``schema`` number
goes up with each change readers must be told of (2: the runs' ``curves``). The Markdown tells the story: the best path
first, then the branches off it, then the dead ends with the reasons they died.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from gittree import __version__
from gittree.curves import StoredRun, curve_entries
from gittree.model import Node, ResearchTree
from gittree.render.jsonview import NO_CURVES, json_number, node_data, node_json_writer, one_line_encoder
from gittree.render.markup import markdown_code, markdown_escape
from gittree.render.numbers import format_delta, format_summary, format_value
from gittree.render.table import iso_date
from gittree.render.words import (
    FLAG_TEXT,
    band_text,
    dead_end_reason,
    delta_places,
    delta_text,
    failure_reason,
    flags,
    footnotes,
    left_out_line,
    left_out_phrases,
    verdict_text,
)
from gittree.tree.analysis import EffectiveParams, branch_points, effective_params

#: 2: the top-level ``curves`` (the runs' downsampled curves); every field of 1 is unchanged (docs/export.md).
EXPORT_SCHEMA = 2
EXPORT_FORMAT = "gittree-export"

#: A short guide inside the file itself, for a reader (or an agent) that has only the file.
ABOUT = (
    "A research log read from git by gittree. Each node is an experiment: a commit whose message "
    "carries Gittree-* trailers (metrics, params, notes, status). Edges go from the experiment a "
    "line of work grew from (parent) to the experiment that grew from it (child); ordinary commits "
    "in between are counted in 'folded'. 'delta' is mean(node) - mean(reference parent) on 'metric'; "
    "'verdict' says whether that is better, negligible (within the threshold or the seeds' noise) or "
    "worse in the metric's goal direction. 'best_path' runs from the root to the best experiment. "
    "Dead ends are abandoned or failed experiments; their notes say why. Flags: 'single_run' (no "
    "noise estimate behind the verdict), 'surprise' (a delta far outside the tree's usual steps: "
    "verify it, it is more often a bug than a breakthrough), 'dirty' (recorded against uncommitted "
    "code)."
)


# -- JSON -------------------------------------------------------------------------------------------


def message_body(message: str) -> str:
    """The message without its subject and without its final paragraph of Gittree-* trailers."""
    paragraphs = message.replace("\r\n", "\n").strip("\n").split("\n\n")[1:]
    if paragraphs and ("\n" + paragraphs[-1].lower()).find("\ngittree-") >= 0:
        paragraphs = paragraphs[:-1]
    return "\n\n".join(p.strip("\n") for p in paragraphs).strip()


def export_node(node: Node, params: EffectiveParams) -> dict[str, Any]:
    """``show --json``'s node, plus what a reader without the repository needs: body, date, children,
    why a failed run failed, and its effective params (``params`` holds what it recorded itself)."""
    return {
        **node_data(node),
        "short": node.short,
        "body": message_body(node.message),
        "date": iso_date(node),
        "children": list(node.children),
        "dead_end": node.dead_end,
        "failure": failure_reason(node),
        "params_effective": params.of(node),
        "params_set_here": sorted(params.set_by(node)),
    }


def export_edges(tree: ResearchTree) -> Iterator[dict[str, Any]]:
    for node in tree.nodes:
        for parent in node.parents:
            yield {
                "parent": parent,
                "child": node.sha,
                "folded": node.folded.get(parent, 0),
                "reference": parent == node.reference,
            }


def export_data(
    tree: ResearchTree, *, project: str | None = None, curves: Mapping[str, Sequence[StoredRun]] = NO_CURVES
) -> dict[str, Any]:
    """The whole export as one dictionary (what :func:`render_export_json` writes)."""
    data = export_fields(tree, project=project, curves=curves)
    for key in ("nodes", "edges", "curves"):
        data[key] = list(data[key])
    return data


def export_fields(
    tree: ResearchTree, *, project: str | None = None, curves: Mapping[str, Sequence[StoredRun]] = NO_CURVES
) -> dict[str, Any]:
    """The export's fields in order; ``nodes``, ``edges`` and ``curves`` are iterators, made one item at a
    time."""
    spec = tree.metric
    best_path = [node.sha for node in tree.path_to(tree.best)] if tree.best else []
    return {
        "format": EXPORT_FORMAT,
        "schema": EXPORT_SCHEMA,
        "gittree": __version__,
        "project": project,
        "about": ABOUT,
        "metric": None
        if spec is None
        else {
            "name": spec.name,
            "goal": spec.goal.value,
            "threshold": spec.threshold,
            "relative_threshold": spec.relative_threshold,
            "noise_sigmas": spec.noise_sigmas,
            "surprise_factor": spec.surprise_factor,
            "surprise_min_deltas": spec.surprise_min_deltas,
            "surprise_bound": spec.surprise_bound,
            "typical_delta": json_number(tree.typical_delta),
        },
        "metrics": list(tree.metric_names),
        "counts": {
            "experiments": len(tree.nodes),
            "roots": len(tree.roots),
            "dead_ends": sum(1 for node in tree.nodes if node.dead_end),
            "best_path": len(best_path),
            "single_run": sum(1 for node in tree.nodes if node.single_run),
            "surprises": sum(1 for node in tree.nodes if node.surprise),
            "dirty": sum(1 for node in tree.nodes if node.dirty),
        },
        "left_out": dict(tree.left_out),
        "best": tree.best,
        "best_path": best_path,
        "head": tree.head,
        "nodes": _export_nodes(tree),
        "edges": export_edges(tree),
        "curves": curve_entries((node.sha for node in tree.nodes), curves),
    }


def _export_nodes(tree: ResearchTree) -> Iterator[dict[str, Any]]:
    """:func:`export_node` of each node; the effective params are computed when the first is asked for."""
    params = effective_params(tree)
    for node in tree.nodes:
        yield export_node(node, params)


def render_export_json(
    tree: ResearchTree, *, project: str | None = None, curves: Mapping[str, Sequence[StoredRun]] = NO_CURVES
) -> str:
    """The export, one top-level field per line and one node, edge or run's curves per line: greppable,
    diffable, fast."""
    return "".join(render_export_json_chunks(tree, project=project, curves=curves))


def render_export_json_chunks(
    tree: ResearchTree, *, project: str | None = None, curves: Mapping[str, Sequence[StoredRun]] = NO_CURVES
) -> Iterator[str]:
    """:func:`render_export_json` in pieces, one node or edge at a time: a 100k-experiment export is
    never held whole in memory, as dictionaries or as text."""
    # No indent: json's C encoder, made once for the whole export (see one_line_encoder). Nodes and
    # edges, nearly all of the text, are written by the writers below: the same bytes as encoding
    # export_node and export_edges (tests/test_export.py checks it), without making the dictionaries.
    dumps = one_line_encoder()
    fields = export_fields(tree, project=project, curves=curves)
    fields["nodes"] = map(export_node_json_writer(dumps, effective_params(tree)), tree.nodes)
    fields["edges"] = _edge_lines(tree)
    fields["curves"] = map(dumps, fields["curves"])
    yield "{\n"
    for index, (key, value) in enumerate(fields.items()):
        start = (",\n" if index else "") + f"  {dumps(key)}: "
        if isinstance(value, Iterator):
            yield start + "["
            count = 0
            for count, line in enumerate(value, 1):
                yield ("\n    " if count == 1 else ",\n    ") + line
            yield "\n  ]" if count else "]"
        else:
            yield start + dumps(value)
    yield "\n}\n"


def export_node_json_writer(dumps: Callable[[Any], str], params: EffectiveParams) -> Callable[[Node], str]:
    """``dumps(export_node(node, params))``, from ``show --json``'s node writer plus the export's own fields."""
    write = node_json_writer()
    # Effective params and set-here names are shared between experiments wherever nothing changes
    # (a sweep, a child that records no param): each is encoded once. The object is kept with its
    # text, so its id cannot be reused while cached.
    encoded: dict[int, tuple[object, str]] = {}

    def once(value: object, encode: Callable[[], str]) -> str:
        known = encoded.get(id(value))
        if known is None or known[0] is not value:
            if len(encoded) >= 4096:
                encoded.clear()
            known = encoded[id(value)] = (value, encode())
        return known[1]

    def export_line(node: Node) -> str:
        extra = {
            "short": node.short,
            "body": message_body(node.message),
            "date": iso_date(node),
            "children": node.children,
            "dead_end": node.dead_end,
            "failure": failure_reason(node),
        }
        effective, here = params.of(node), params.set_by(node)
        return (
            f"{write(node)[:-1]}, {dumps(extra)[1:-1]}, "
            f'"params_effective": {once(effective, lambda: dumps(effective))}, '
            f'"params_set_here": {once(here, lambda: dumps(sorted(here)))}}}'
        )

    return export_line


def _edge_lines(tree: ResearchTree) -> Iterator[str]:
    """``dumps(edge)`` for each of :func:`export_edges`."""
    from json.encoder import encode_basestring as quote

    for node in tree.nodes:
        child, folded, reference = quote(node.sha), node.folded, node.reference
        for parent in node.parents:
            yield (
                f'{{"parent": {quote(parent)}, "child": {child}, "folded": {int.__repr__(folded.get(parent, 0))}, '
                f'"reference": {"true" if parent == reference else "false"}}}'
            )


# -- Markdown ---------------------------------------------------------------------------------------


def render_export_markdown(tree: ResearchTree, *, project: str | None = None) -> str:
    return "\n".join(_markdown(tree, project)) + "\n"


def _markdown(tree: ResearchTree, project: str | None) -> Iterator[str]:
    title = f"Research log: {markdown_escape(project)}" if project else "Research log"
    yield f"# {title}"
    yield ""
    yield from _overview(tree)
    params = effective_params(tree)
    yield from _best_path(tree, params)
    yield from _branches(tree, params)
    yield from _dead_ends(tree)
    yield from _to_verify(tree)
    yield from _legend(tree)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _overview(tree: ResearchTree) -> Iterator[str]:
    spec = tree.metric
    dead = sum(1 for node in tree.nodes if node.dead_end)
    facts = [_count(len(tree.nodes), "experiment"), _count(dead, "dead end")]
    if len(tree.roots) > 1:
        facts.append(_count(len(tree.roots), "separate root"))
    if spec is None:
        yield f"{', '.join(facts)}; no experiment records a metric yet."
        yield ""
        return
    yield (
        f"{', '.join(facts)}. Judged by **{markdown_escape(spec.name)}** "
        f"({'higher' if spec.goal.value == 'max' else 'lower'} is better; negligible {band_text(spec)})."
    )
    yield ""
    left_out = left_out_line(left_out_phrases(tree.left_out))
    if left_out:
        yield markdown_escape(left_out[0].upper() + left_out[1:]) + "."
        yield ""


def _value(node: Node, tree: ResearchTree) -> str:
    spec = tree.metric
    return format_summary(node.metrics.get(spec.name)) if spec else "—"


def _ref(node: Node) -> str:
    return f"{markdown_code(node.short)} {markdown_escape(node.label)}"


def _marks(node: Node) -> str:
    words = [FLAG_TEXT[flag] for flag in flags(node) if flag != "best"]
    return (" · " + " · ".join(markdown_escape(word) for word in words)) if words else ""


def _best_path(tree: ResearchTree, params: EffectiveParams) -> Iterator[str]:
    yield "## The best path"
    yield ""
    if tree.best is None or tree.metric is None:
        yield "No live experiment has a number on the metric yet, so there is no best path."
        yield ""
        return
    spec = tree.metric
    chain = tree.path_to(tree.best)
    first = next((node for node in chain if spec.name in node.metrics), chain[0])
    best = tree.by_sha[tree.best]
    start, end = first.metrics.get(spec.name), best.metrics[spec.name]
    if start is not None:
        places = delta_places(tree, spec.name)
        gain = format_delta(end.mean - start.mean, start.mean, places)
        yield (
            f"From {_ref(first)} ({format_summary(start)}) to ★ {_ref(best)} ({format_summary(end)}): "
            f"{markdown_escape(gain)} on {markdown_escape(spec.name)} in {_count(len(chain) - 1, 'step')}."
        )
        yield ""
    below: str | None = None
    for number, node in enumerate(chain, start=1):
        line = f"{number}. {'★ ' if node.best else ''}{_ref(node)}: {_value(node, tree)}"
        if node.delta is not None:
            # against an experiment further down when the steps between have no value (docs/tree.md)
            reference = node.reference
            against = f" against {markdown_code(reference[:7])}" if reference and reference != below else ""
            line += f", {delta_text(tree, node)} ({verdict_text(node)}{against})"
        below = node.sha
        if node is not first and start is not None and spec.name in node.metrics:
            cumulative = node.metrics[spec.name].mean - start.mean
            line += f", cumulative {format_delta(cumulative, start.mean, delta_places(tree, spec.name))}"
        line += _marks(node)
        yield line
        # A nested list must start at the column of the item's text (CommonMark), past "10. ".
        indent = " " * len(f"{number}. ")
        yield from _merges(tree, node, indent)
        yield from _folded(tree, node, indent)
        yield from _params(params, node, indent, whole=number == 1)
        for note in node.notes:
            yield f"{indent}- {markdown_escape(note)}"
    yield ""


def _params(params: EffectiveParams, node: Node, indent: str, *, whole: bool) -> Iterator[str]:
    """The first step's whole configuration; on later steps and branches, what the experiment set
    itself (the rest it inherits, docs/tree.md "Params")."""
    effective = params.of(node)
    if whole:
        shown = effective
        label = "params"
    else:
        here = params.set_by(node)
        shown = {name: value for name, value in effective.items() if name in here}
        label = "params set here"
    if shown:
        text = ", ".join(f"{name}={value}" for name, value in shown.items())
        inherited = len(effective) - len(shown)
        more = f" ({inherited} more inherited)" if inherited else ""
        yield f"{indent}- {label}: {markdown_escape(text)}{more}"


def _merges(tree: ResearchTree, node: Node, indent: str) -> Iterator[str]:
    """A crossover's sub-items naming the other lines of work it brings in (every parent but the one
    its path follows, :meth:`ResearchTree.path_parent`)."""
    followed = tree.path_parent(node)
    for parent in node.parents:
        if parent != followed:
            yield f"{indent}- merges {_ref(tree.by_sha[parent])}"


def _folded(tree: ResearchTree, node: Node, indent: str) -> Iterator[str]:
    """The ordinary commits folded into a step, as sub-items: per parent link, never added up.

    An ordinary merge below a crossover is on the path from each of its parents and counted on each
    link (docs/tree.md, "Counts are per edge and never added up"), so a sum would count it twice; and
    ``folded_below`` (a side that reaches no experiment) may share the merge with a parent link too.
    """
    if len(node.parents) > 1:
        links = [f"{node.folded[p]} since {_ref(tree.by_sha[p])}" for p in node.parents if node.folded.get(p)]
        if links:
            yield f"{indent}- ordinary commits folded in: {'; '.join(links)}"
    elif node.parents and node.folded.get(node.parents[0]):
        yield f"{indent}- {_count(node.folded[node.parents[0]], 'ordinary commit')} folded in"
    if node.folded_below:
        # Below a root: the ordinary history it starts from. Below any other experiment: a side of a
        # merge that reaches no experiment (an unrelated history of ordinary work merged in).
        where = "folded in" if not node.parents else "on a side with no experiment"
        yield f"{indent}- {_count(node.folded_below, 'ordinary commit')} {where}"


def _branches(tree: ResearchTree, params: EffectiveParams) -> Iterator[str]:
    anchors = branch_points(tree)
    if not anchors:
        return
    yield "## Branches off the best path" if tree.best else "## Other lines of work"
    yield ""
    groups: dict[str | None, list[Node]] = {}
    for node in tree.nodes:
        if node.sha in anchors:
            groups.setdefault(anchors[node.sha], []).append(node)
    for anchor, nodes in groups.items():
        if anchor is None:
            yield "Separate lines of work (they never meet the best path):"
        else:
            yield f"From {_ref(tree.by_sha[anchor])}:"
        yield ""
        depth: dict[str, int] = {}
        for node in nodes:
            upstream = tree.path_parent(node)
            depth[node.sha] = depth.get(upstream or "", -1) + 1
            indent = "  " * depth[node.sha]
            line = f"{indent}- {'✗ ' if node.dead_end else ''}{_ref(node)}: {_value(node, tree)}"
            if node.delta is not None:
                line += f", {delta_text(tree, node)}"
            line += f" ({verdict_text(node)})" + _marks(node)
            joined = [tree.by_sha[child] for child in node.children if tree.by_sha[child].on_best_path]
            if joined:
                line += f" → merged into the best path at {_ref(joined[0])}"
            yield line
            yield from _merges(tree, node, indent + "  ")
            yield from _params(params, node, indent + "  ", whole=False)
            for note in node.notes:
                yield f"{indent}  - {markdown_escape(note)}"
        yield ""


def _dead_ends(tree: ResearchTree) -> Iterator[str]:
    dead = [node for node in tree.nodes if node.dead_end]
    if not dead:
        return
    yield "## Dead ends"
    yield ""
    for node in dead:
        yield f"- ✗ {_ref(node)} ({node.fate}): {markdown_escape(dead_end_reason(node))}"
    yield ""


def _to_verify(tree: ResearchTree) -> Iterator[str]:
    flagged = [node for node in tree.nodes if node.surprise or node.dirty or node.problems]
    if not flagged:
        return
    yield "## To verify"
    yield ""
    for node in flagged:
        reasons = []
        if node.surprise:
            reasons.append(f"surprising delta {delta_text(tree, node)}")
            if tree.typical_delta:
                reasons[-1] += f" (the usual step is {format_value(tree.typical_delta)})"
        if node.dirty:
            reasons.append("recorded against uncommitted code")
        if node.problems:
            reasons.append(_count(len(node.problems), "malformed trailer"))
        yield f"- {_ref(node)}: {markdown_escape('; '.join(reasons))}"
    yield ""


def _legend(tree: ResearchTree) -> Iterator[str]:
    lines = footnotes(tree.nodes)
    if lines:
        yield "---"
        yield ""
        for line in lines:
            yield markdown_escape(line) + "  "
