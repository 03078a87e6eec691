"""``gittree table``: one row per experiment, ready to paste into a paper, a pull request or a spreadsheet.

Human formats (plain, github, markdown, latex, html) are laid out by ``tabulate``, with every cell of
commit data escaped for its format first; csv and tsv are written by the ``csv`` module with full
precision numbers, one column per mean, spread and run count. ``--json`` gives the csv columns typed.
The columns are documented in ``docs/guide.md`` ("Tables").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from gittree.model import Node, ResearchTree, Verdict
from gittree.render.escape import terminal_safe
from gittree.render.jsonview import json_number
from gittree.render.markup import csv_text, html_escape, latex_escape, markdown_escape
from gittree.render.numbers import format_delta, format_summary
from gittree.trailers import format_number

HUMAN_FORMATS = {
    "plain": "plain",
    "github": "github",
    "markdown": "pipe",
    # Cells are escaped here, so tabulate must not escape them again: its raw variants.
    "latex": "latex_raw",
    "html": "unsafehtml",
}
DELIMITED_FORMATS = {"csv": ",", "tsv": "\t"}
FORMATS = (*HUMAN_FORMATS, *DELIMITED_FORMATS)

COMPARED = (Verdict.BETTER, Verdict.NEGLIGIBLE, Verdict.WORSE)

#: Flag words, in the order they are shown; the honesty marks of docs/tree.md.
FLAG_TEXT = {"best": "★ best", "surprise": "⚠ verify", "dirty": "dirty", "cut": "⋯ history cut"}

_ESCAPES: dict[str, Callable[[str], str]] = {
    "plain": lambda text: terminal_safe(" ".join(text.split())),
    "github": markdown_escape,
    "markdown": markdown_escape,
    "latex": latex_escape,
    "html": html_escape,
}


def flags(node: Node) -> list[str]:
    """The honesty and position flags of an experiment, as keys of :data:`FLAG_TEXT`."""
    found = [
        ("best", node.best),
        ("surprise", node.surprise),
        ("dirty", node.dirty),
        ("cut", node.cut),
    ]
    return [name for name, present in found if present]


def verdict_text(node: Node) -> str:
    """``better``, or ``better¹`` when the verdict rests on a single run on at least one side."""
    return node.verdict.value + ("¹" if node.single_run and node.verdict in COMPARED else "")


def delta_text(tree: ResearchTree, node: Node) -> str:
    """The delta at the precision of the value it changes."""
    reference = tree.by_sha.get(node.reference or "")
    spec = tree.metric
    ref_value = reference.metrics.get(spec.name) if reference and spec else None
    return format_delta(node.delta, ref_value.mean if ref_value else None)


def date_text(node: Node) -> str:
    """The author date in the author's own time zone, to the minute: ``2026-03-02 09:00``."""
    return _when(node).strftime("%Y-%m-%d %H:%M")


def iso_date(node: Node) -> str:
    return _when(node).isoformat()


def _when(node: Node) -> datetime:
    zone = timezone(timedelta(minutes=node.author_offset))
    return datetime.fromtimestamp(node.author_time, zone)


# -- human formats ----------------------------------------------------------------------------------


def human_headers(tree: ResearchTree, metrics: Sequence[str]) -> list[str]:
    primary = tree.metric.name if tree.metric else None
    delta = f"Δ {primary}" if primary else "Δ"
    return ["sha", "subject", *metrics, delta, "verdict", "status", "author", "date", "flags"]


def human_row(tree: ResearchTree, node: Node, metrics: Sequence[str]) -> list[str]:
    return [
        node.short,
        node.subject,
        *(format_summary(node.metrics.get(name)) for name in metrics),
        delta_text(tree, node),
        verdict_text(node),
        node.status or "",
        node.author_name,
        date_text(node),
        " · ".join(FLAG_TEXT[flag] for flag in flags(node)),
    ]


def render_human(tree: ResearchTree, nodes: Sequence[Node], metrics: Sequence[str], fmt: str) -> str:
    """A table in one of :data:`HUMAN_FORMATS`, every cell escaped for it."""
    from tabulate import tabulate

    escape = _ESCAPES[fmt]
    headers = [escape(cell) for cell in human_headers(tree, metrics)]
    rows = [[escape(cell) for cell in human_row(tree, node, metrics)] for node in nodes]
    # disable_numparse: a sha such as 0012345 or a value such as 1e-05 must stay as written.
    text = tabulate(rows, headers=headers, tablefmt=HUMAN_FORMATS[fmt], disable_numparse=True)
    return str(text) + "\n"


# -- delimited formats and JSON ---------------------------------------------------------------------


def record_columns(metrics: Sequence[str]) -> list[str]:
    per_metric = [f"{name}_{part}" for name in metrics for part in ("mean", "std", "n")]
    return [
        "sha",
        "subject",
        *per_metric,
        "delta",
        "reference",
        "verdict",
        "single_run",
        "status",
        "author",
        "email",
        "date",
        "best",
        "surprise",
        "dirty",
        "parents",
    ]


def record(node: Node, metrics: Sequence[str]) -> dict[str, Any]:
    """One experiment as typed values (JSON); the csv columns are these, written as text."""
    values: dict[str, Any] = {"sha": node.sha, "subject": node.subject}
    for name in metrics:
        summary = node.metrics.get(name)
        values[f"{name}_mean"] = summary.mean if summary else None
        values[f"{name}_std"] = summary.std if summary else None
        values[f"{name}_n"] = summary.n if summary else 0
    values.update(
        delta=node.delta,
        reference=node.reference,
        verdict=node.verdict.value,
        single_run=node.single_run,
        status=node.status,
        author=node.author_name,
        email=node.author_email,
        date=iso_date(node),
        best=node.best,
        surprise=node.surprise,
        dirty=node.dirty,
        parents=list(node.parents),
    )
    return values


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return " ".join(value)
    return csv_text(str(value))


def render_delimited(nodes: Sequence[Node], metrics: Sequence[str], fmt: str) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITED_FORMATS[fmt], lineterminator="\n")
    columns = record_columns(metrics)
    writer.writerow(columns)
    for node in nodes:
        values = record(node, metrics)
        writer.writerow([_csv_cell(values[column]) for column in columns])
    return out.getvalue()


def table_data(tree: ResearchTree, nodes: Sequence[Node], metrics: Sequence[str]) -> dict[str, Any]:
    spec = tree.metric

    def typed(value: Any) -> Any:
        return json_number(value) if isinstance(value, float) else value

    return {
        "schema": 1,
        "metric": spec.name if spec else None,
        "goal": spec.goal.value if spec else None,
        "columns": record_columns(metrics),
        "rows": [{k: typed(v) for k, v in record(node, metrics).items()} for node in nodes],
    }


def render_table(tree: ResearchTree, nodes: Sequence[Node], metrics: Sequence[str], fmt: str) -> str:
    """The table of ``nodes`` (in that order) with the ``metrics`` columns, in format ``fmt``."""
    if fmt in DELIMITED_FORMATS:
        return render_delimited(nodes, metrics, fmt)
    return render_human(tree, nodes, metrics, fmt)


def render_table_json(tree: ResearchTree, nodes: Sequence[Node], metrics: Sequence[str]) -> str:
    import json

    data = table_data(tree, nodes, metrics)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
