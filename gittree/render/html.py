"""The research tree as one self-contained, interactive HTML page (``gittree render --format html``).

The page holds the SVG Graphviz laid out, the tree's data as JSON, and the script and style sheet from
``gittree/render/assets/``, all inline: it opens from disk with no network. A Content-Security-Policy
meta tag allows exactly that script and that style sheet (by hash) and nothing else — no network, no
other script, no plug-ins, no forms.

Commit data is escaped for each place it lands (docs/render.md, "Escaping"):

* in the SVG, Graphviz escapes text for XML after :func:`gittree.render.dot.dot_string` made it inert
  for DOT;
* in the JSON data block, ``<``, ``>``, ``&`` and U+2028/U+2029 are written as ``\\uXXXX`` escapes, so
  no ``</script>`` or ``<!--`` can end or change the block;
* the script only ever sets ``textContent``, never markup;
* the few strings put into the HTML itself go through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from gittree.config import Config
from gittree.curves import StoredRun, step_numbers
from gittree.errors import RenderError
from gittree.model import MetricSpec, Node, ResearchTree
from gittree.render.dot import (
    BEST_PATH_COLOUR,
    EDGE_COLOUR,
    PALETTE,
    delta_text,
    format_time,
    render_dot,
    subject_lines,
    value_text,
    visible,
)
from gittree.render.numbers import format_delta, format_summary
from gittree.render.subgraph import Drawing, DrawingOptions, select_drawing
from gittree.render.words import (
    LEGEND_MARKS,
    LEGEND_SWATCHES,
    drawing_title,
    failure_reason,
    left_out_line,
    left_out_phrases,
    metric_text,
)
from gittree.tree.analysis import compare_with_parents, evaluate_metrics

#: 2: ``legend`` (the legend's words, from render/words.py) and ``curves`` (each drawn experiment's and its
#: parents' stored curves, for the card).
SCHEMA_VERSION = 2
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src {script}; style-src {style}; img-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


def render_html(
    tree: ResearchTree,
    config: Config | None = None,
    options: DrawingOptions | None = None,
    drawing: Drawing | None = None,
    curves: Mapping[str, Sequence[StoredRun]] | None = None,
) -> str:
    """The page: the laid-out graph, the data every card and the metric switcher need, script and style.

    ``drawing``, when given, is ``select_drawing(tree, options)`` already made by the caller: what is drawn does
    not depend on the legend and tooltips the page turns off, and at 100k experiments a second
    selection costs 0.4 s. ``curves``: the runs' curves stored in git, by experiment
    (:func:`gittree.runs.curves.stored_curves`); each card draws its experiment's over its parent's.
    """
    from gittree.render.graphviz import layout

    config = config or Config()
    options = replace(options or DrawingOptions(), legend=False, tooltips=False)
    if drawing is None:
        drawing = select_drawing(tree, options)
    svg = clean_svg(layout(render_dot(tree, options, drawing), "svg").decode("utf-8"))
    data = page_data(tree, drawing, config, curves or {})
    left_out = left_out_line(left_out_phrases(tree.left_out))
    return page(title=_title(drawing), svg=svg, data=data, left_out=left_out)


# -- the data the script reads ----------------------------------------------------------------------


def page_data(
    tree: ResearchTree,
    drawing: Drawing,
    config: Config,
    curves: Mapping[str, Sequence[StoredRun]] | None = None,
) -> dict[str, Any]:
    """Everything the script shows, already formatted the way the terminal formats it; the verdicts on
    each metric come from the analysis (:func:`gittree.tree.analysis.evaluate_metrics`)."""
    evaluations = evaluate_metrics(tree, config.spec)
    drawn = {node.sha for node in drawing.nodes} | {sha for fold in drawing.folds for sha in fold.members}
    nodes = [node for node in tree.nodes if node.sha in drawn]
    positions = {n.sha: position for position, n in enumerate(nodes)}
    metrics: dict[str, Any] = {}
    for name, evaluation in evaluations.items():
        refs = evaluation.references
        metrics[name] = {
            "label": metric_text(evaluation.spec),
            "best": evaluation.best,
            "best_path": sorted(evaluation.best_path & drawn),
            "best_edges": [
                edge.id for edge in drawing.edges if (edge.source, edge.target) in evaluation.best_path_links
            ],
            "verdicts": {n.sha: evaluation.verdicts[n.sha].value for n in nodes},
            "values": {n.sha: value_text(n, name) for n in nodes},
            "deltas": {
                n.sha: delta_text(
                    tree,
                    n,
                    name,
                    delta=evaluation.deltas[n.sha],
                    reference=refs[n.sha],
                    verdict=evaluation.verdicts[n.sha],
                    single_run=evaluation.single_run[n.sha],
                )
                for n in nodes
            },
            "references": {n.sha: refs[n.sha] for n in nodes},
            "parent_deltas": {n.sha: _parent_deltas(tree, n, evaluation.spec) for n in nodes if n.parents},
            "progress": progress_data(tree, evaluation.spec, positions),
        }
    return {
        "schema": SCHEMA_VERSION,
        "metric": tree.metric.name if tree.metric else None,
        "metrics": metrics,
        "order": [n.sha for n in nodes],
        "nodes": {n.sha: _node_data(tree, n) for n in nodes},
        "folds": {fold.id: list(fold.members) for fold in drawing.folds},
        "hidden": drawing.hidden,
        "palette": {
            verdict.value: {"fill": p.fill, "border": p.border, "dashed": p.dashed}
            for verdict, p in PALETTE.items()
        },
        "colours": {"edge": EDGE_COLOUR, "best_path": BEST_PATH_COLOUR},
        "legend": {
            "swatches": [[verdict.value, word] for verdict, word in LEGEND_SWATCHES],
            "marks": LEGEND_MARKS,
        },
        "curves": curves_data(nodes, curves or {}),
    }


def curves_data(nodes: Sequence[Node], curves: Mapping[str, Sequence[StoredRun]]) -> dict[str, Any]:
    """The card's curves: ``sha -> [{run, seed, metrics: {name: [steps, values, total]}}]`` for each drawn
    experiment and each of its parents (the card draws the parent's under the experiment's), names
    and run ids made visible like every string from git."""
    wanted = dict.fromkeys(sha for node in nodes for sha in (node.sha, *node.parents))
    return {
        sha: [
            {
                "run": visible(run.run),
                "seed": visible(run.seed) if run.seed is not None else None,
                "metrics": {
                    visible(name): [step_numbers(curve.steps), list(curve.values), curve.total]
                    for name, curve in sorted(run.curves.items())
                },
            }
            for run in curves[sha]
        ]
        for sha in wanted
        if curves.get(sha)
    }


def progress_data(tree: ResearchTree, spec: MetricSpec, order: dict[str, int]) -> dict[str, Any]:
    """The "progress" view's data: :func:`gittree.tree.progress.progress_of`, the one the chart draws.

    ``points``: ``[position, index, mean, std]`` for each drawn experiment, in the order made:
    ``position`` in the data's ``order`` (a number, not the sha again: at 100k experiments, 4 MB less per
    metric), ``index`` the place in the order made among every experiment, drawn or not, ``mean`` null
    without a finite value, ``std`` null for a single run. ``frontier``: the best-so-far steps,
    ``[index, value]``; ``new_best``: positions.
    """
    from gittree.tree.progress import progress_of

    progress = progress_of(tree, spec)
    return {
        "goal": spec.goal.value,
        "count": len(progress.points),
        "points": [
            [order[point.node.sha], point.place, point.mean, point.std]
            for point in progress.points
            if point.node.sha in order
        ],
        "new_best": [order[point.node.sha] for point in progress.new_bests if point.node.sha in order],
        "frontier": [list(step) for step in progress.frontier],
    }


def _parent_deltas(tree: ResearchTree, node: Node, spec: MetricSpec) -> list[list[str]]:
    """``[[parent sha, "+0.0127 better"], ...]``: the experiment against each of its parents (a crossover has several)."""
    result = []
    for sha, comparison in compare_with_parents(tree, node, spec):
        if comparison.verdict is None or comparison.a is None:
            result.append([sha, "—"])
            continue
        delta = format_delta(comparison.delta, comparison.a.mean)
        result.append([sha, f"{delta} {comparison.verdict.value}"])
    return result


def _node_data(tree: ResearchTree, node: Node) -> dict[str, Any]:
    """One experiment's card; every string from the commit is made visible (controls, bidi overrides)."""
    return {
        "sha": node.sha,
        "short": node.short,
        "subject": visible(node.label),
        "message": visible(node.message.rstrip("\n")),
        "author": visible(node.author_name),
        "email": visible(node.author_email),
        "date": format_time(node.author_time, node.author_offset),
        "metrics": {visible(name): format_summary(s) for name, s in sorted(node.metrics.items())},
        "params": [[visible(k), visible(v)] for k, v in node.params.items()],
        "notes": [visible(note) for note in node.notes],
        "status": visible(node.status) if node.status else None,
        "reason": visible(reason) if (reason := failure_reason(node)) else None,
        "run": [[visible(k), visible(v)] for k, v in node.run.items()],
        "problems": [visible(p) for p in node.problems],
        "parents": list(node.parents),
        "children": [c for c in node.children if c in tree.by_sha],
        "folded": node.folded,
        "head": node.head,
        "dead_end": node.dead_end,
        "subject_lines": len(subject_lines(node)),
    }


def _title(drawing: Drawing) -> str:
    """The heading; the metric is in the legend, which follows the metric switcher."""
    return drawing_title(drawing.experiment_count, drawing.hidden)


# -- escaping for the page's contexts ---------------------------------------------------------------


def script_json(data: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``</script>``, ``<!--`` or line separators can appear raw."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


_DANGEROUS_SVG = re.compile(
    r"<\s*(script|foreignObject|iframe|object|embed)\b|<[^>]*(\son[a-z]+\s*=|javascript:)", re.I
)


def clean_svg(svg: str) -> str:
    """Graphviz's SVG made ready to sit inside HTML: no XML prolog, comments or titles (the page has cards).

    Graphviz escapes text itself; the final check is a guard: if anything executable ever appeared in
    its output's markup (text, where ``<`` is escaped, may say anything), no page is written.
    """
    start = svg.find("<svg")
    if start < 0:
        raise RenderError(
            "Graphviz returned no SVG", hint="run `gittree render --format svg` to see its output"
        )
    svg = svg[start:]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<title>[^<]*</title>\n?", "", svg)
    svg = re.sub(
        r'<svg width="[^"]*" height="[^"]*"',
        '<svg id="graph" role="img" aria-label="research tree"',
        svg,
        count=1,
    )
    if _DANGEROUS_SVG.search(svg):
        raise RenderError(
            "the laid-out graph contains markup that could run in a browser; no page was written",
            hint="please report this with the output of `gittree render --format dot`",
        )
    return svg.strip()


def _asset(name: str) -> str:
    import importlib.resources

    return (
        importlib.resources.files("gittree.render")
        .joinpath("assets")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def _csp_hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def page(*, title: str, svg: str, data: dict[str, Any], left_out: str | None = None) -> str:
    """The whole document. The script and the style sheet are allowed by hash, nothing else is.
    ``left_out``: the ``left out: …`` line of the tree's reading, shown under the title."""
    script, style = _asset("page.js"), _asset("page.css")
    csp = CONTENT_SECURITY_POLICY.format(script=_csp_hash(script), style=_csp_hash(style))
    metric_options = "".join(_options(data))
    parts = [
        "<!DOCTYPE html>\n",
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        '<meta name="referrer" content="no-referrer">\n',
        f"<title>{html.escape(visible(title))}</title>\n",
        f"<style>{style}</style>\n",
        "</head>\n<body>\n",
        '<header id="toolbar">\n',
        f'<h1 id="title">{html.escape(visible(title))}</h1>\n',
        f'<span id="left-out">{html.escape(visible(left_out))}</span>\n' if left_out else "",
        '<label>metric <select id="metric" aria-label="colour by metric">',
        metric_options,
        "</select></label>\n",
        '<input id="search" type="search" placeholder="search (/)" aria-label="search experiments" autocomplete="off">\n',
        '<span id="matches" aria-live="polite"></span>\n',
        '<button id="show-progress" type="button" aria-pressed="false" title="the progress chart: each experiment in the order made">progress</button>\n',
        '<span class="zoom"><button id="zoom-in" type="button" title="zoom in (+)">+</button>'
        '<button id="zoom-out" type="button" title="zoom out (-)">−</button>'
        '<button id="zoom-fit" type="button" title="fit (0)">fit</button></span>\n',
        "</header>\n",
        '<div id="legend" aria-label="legend"></div>\n',
        f'<main id="viewport" tabindex="-1">{svg}</main>\n',
        '<section id="progress" aria-label="progress: each experiment in the order made" hidden></section>\n',
        '<div id="card" class="card" role="tooltip" hidden></div>\n',
        '<aside id="details" class="card" aria-label="pinned experiment" hidden></aside>\n',
        '<p id="help">hover: card · click: pin · ↑ parent · ↓ child · ← → siblings · / search · Esc close · '
        "drag: pan · wheel: zoom</p>\n",
        f'<script type="application/json" id="gittree-data">{script_json(data)}</script>\n',
        f"<script>{script}</script>\n",
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def _options(data: dict[str, Any]) -> Iterable[str]:
    for name in data["metrics"]:
        selected = " selected" if name == data["metric"] else ""
        value, text = html.escape(name, quote=True), html.escape(visible(name))
        yield f'<option value="{value}"{selected}>{text}</option>'
