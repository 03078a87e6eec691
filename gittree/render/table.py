"""``gittree table``: one row per experiment, ready to paste into a paper, a pull request or a spreadsheet.

Human formats (plain, github, markdown, latex, html) are laid out as ``tabulate`` lays them out, with
every cell of commit data escaped for its format first; csv and tsv are written by the ``csv`` module
with full precision numbers, one column per mean, spread and run count. ``--json`` gives the csv
columns typed. The columns are documented in ``docs/guide.md`` ("Tables").

Every format is written a batch of rows at a time (:func:`render_table_chunks`), and a human table is
kept as one list of escaped cells per column, not as rows: a table of 100k experiments has 1.2M
cells. ``tabulate`` infers a type for each cell it is given, which took most of the time of a big
table, so it only lays out the header, the rules and two sample rows here; the rows themselves are
padded and joined the way it joins them (:data:`ROW_LAYOUTS`), after checking on the samples that
this gives its very bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import islice
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any

from gittree.dates import author_clock
from gittree.model import Node, ResearchTree
from gittree.render.escape import display_width
from gittree.render.jsonview import json_number
from gittree.render.markup import csv_text, html_escape, latex_escape, markdown_escape, one_line
from gittree.render.numbers import format_summary
from gittree.render.words import delta_text, flags_text, left_out_line, left_out_phrases, verdict_text
from gittree.trailers import format_number
from gittree.tree.analysis import EffectiveParams, effective_params

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

_ESCAPES: dict[str, Callable[[str], str]] = {
    "plain": one_line,
    "github": markdown_escape,
    "markdown": markdown_escape,
    "latex": latex_escape,
    "html": html_escape,
}

#: Rows handed on at a time: small enough that a big table starts printing at once, big enough that
#: joining them costs nothing per row.
BATCH_ROWS = 1024


def date_text(node: Node) -> str:
    """The author date in the author's own time zone, to the minute: ``2026-03-02 09:00``."""
    return _when(node).strftime("%Y-%m-%d %H:%M")


def iso_date(node: Node) -> str:
    return _when(node).isoformat()


def _when(node: Node) -> datetime:
    return author_clock(node.author_time, node.author_offset)


# -- params columns ---------------------------------------------------------------------------------

#: The mark of a param value an experiment set itself (the others it inherits): docs/guide.md, "Tables".
SET_HERE_MARK = "*"


@dataclass(frozen=True)
class ParamCells:
    """The ``--param NAME`` columns: each experiment's effective value, and whether it set it itself."""

    names: tuple[str, ...]
    params: EffectiveParams

    @classmethod
    def of(cls, tree: ResearchTree, names: Sequence[str]) -> ParamCells | None:
        return cls(tuple(dict.fromkeys(names)), effective_params(tree)) if names else None

    def value(self, name: str, node: Node) -> str | None:
        return self.params.of(node).get(name)

    def set_here(self, node: Node) -> list[str]:
        """The requested params this experiment set itself, in the order asked for."""
        here = self.params.set_by(node)
        return [name for name in self.names if name in here]

    def text(self, name: str, node: Node) -> str:
        value = self.value(name, node)
        if value is None:
            return ""
        return value + (SET_HERE_MARK if name in self.params.set_by(node) else "")


# -- human formats ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a human table: its header, and the text of each experiment's cell."""

    header: str
    cell: Callable[[Node], str]
    #: the column's values repeat over a tree (verdicts, authors, metric values): each distinct one
    #: is escaped once, and its cells share one string.
    repeats: bool = False


def human_columns(
    tree: ResearchTree, metrics: Sequence[str], params: ParamCells | None = None
) -> list[Column]:
    primary = tree.metric.name if tree.metric else None
    param_columns = [Column(n, partial(params.text, n), repeats=True) for n in params.names] if params else []
    return [
        Column("sha", attrgetter("short")),
        # named as every other view for people names it: an imported row by its log's description
        Column("subject", attrgetter("label")),
        *(Column(name, partial(_summary_text, name), repeats=True) for name in metrics),
        *param_columns,
        Column(f"Δ {primary}" if primary else "Δ", partial(delta_text, tree), repeats=True),
        Column("verdict", verdict_text, repeats=True),
        Column("status", _status_text, repeats=True),
        Column("author", attrgetter("author_name"), repeats=True),
        Column("date", date_text),
        Column("flags", flags_text, repeats=True),
    ]


def _summary_text(metric: str, node: Node) -> str:
    return format_summary(node.metrics.get(metric))


def _status_text(node: Node) -> str:
    return node.status or ""


def escaped_cells(column: Column, nodes: Iterable[Node], escape: Callable[[str], str]) -> list[str]:
    """The cells of ``column``, one per node, escaped."""
    texts = map(column.cell, nodes)
    if not column.repeats:
        return [escape(text) for text in texts]
    seen: dict[str, str] = {}
    return [seen[text] if text in seen else seen.setdefault(text, escape(text)) for text in texts]


#: How tabulate writes a row of each format: text before the first cell, between cells and after
#: the last, and the spaces around each padded cell (its ``TableFormat.datarow`` and ``padding``).
ROW_LAYOUTS: dict[str, tuple[str, str, str, int]] = {
    "plain": ("", "  ", "", 0),
    "github": ("|", "|", "|", 1),
    "markdown": ("|", "|", "|", 1),
    "latex": ("", "&", "\\\\", 1),
    "html": ("<tr><td>", "</td><td>", "</td></tr>", 0),
}


def render_human_chunks(
    tree: ResearchTree,
    nodes: Sequence[Node],
    metrics: Sequence[str],
    fmt: str,
    params: ParamCells | None = None,
) -> Iterator[str]:
    """A table in one of :data:`HUMAN_FORMATS`, every cell escaped for it, in pieces."""
    escape = _ESCAPES[fmt]
    columns = human_columns(tree, metrics, params)
    headers = [escape(column.header) for column in columns]
    cells = [escaped_cells(column, nodes, escape) for column in columns]
    # Cells are measured in terminal cells, as tabulate is made to (gittree.render.tabulated).
    widest = [max(column, key=display_width, default="") for column in cells]
    narrowest = [min(column, key=display_width, default="") for column in cells]
    widths = [
        max(display_width(cell), display_width(header) + _MIN_PADDING)
        for cell, header in zip(widest, headers, strict=True)
    ]
    line = _row_writer(fmt, widths)
    frame = _frame(headers, [widest, narrowest], [line(widest), line(narrowest)], fmt) if nodes else None
    if frame is None:
        # No rows, whose layout differs (no column alignments), or a tabulate that lays rows out
        # otherwise than ROW_LAYOUTS says: tabulate writes the whole table, slowly but exactly.
        yield _tabulate([list(row) for row in zip(*cells, strict=True)], headers, fmt) + "\n"
        return
    head, foot = frame
    yield "".join(text + "\n" for text in head)
    rows = zip(*cells, strict=True)
    while batch := list(islice(rows, BATCH_ROWS)):
        yield "\n".join(map(line, batch)) + "\n"
    yield "".join(text + "\n" for text in foot)
    left_out = left_out_line(left_out_phrases(tree.left_out)) if fmt == "plain" else None
    if left_out:  # the plain table is read in a terminal; the other formats are pasted as they are
        yield left_out + "\n"


#: tabulate's space added to the width of each header (its ``MIN_PADDING``).
_MIN_PADDING = 2


def _row_writer(fmt: str, widths: Sequence[int]) -> Callable[[Sequence[str]], str]:
    """The text of one row of cells, each padded to its column's width (``widths``) as tabulate does."""
    begin, separator, end, padding = ROW_LAYOUTS[fmt]
    margin = " " * padding

    def literal(text: str) -> str:
        return text.replace("%", "%%")

    between = literal(margin + separator + margin)
    # A row of ASCII cells (nearly every row) is one %-format: the padding of every cell is done in C.
    template = literal(begin + margin) + between.join(f"%-{w}s" for w in widths) + literal(margin + end)
    # Other characters are padded to terminal cells, not code points (a CJK character takes two).
    wide = literal(begin + margin) + between.join("%s" for _ in widths) + literal(margin + end)

    def line(row: Sequence[str]) -> str:
        if all(map(str.isascii, row)):
            return (template % tuple(row)).rstrip()
        padded = tuple(cell + " " * (w - display_width(cell)) for cell, w in zip(row, widths, strict=True))
        return (wide % padded).rstrip()

    return line


def _frame(
    headers: list[str], samples: list[list[str]], expected: list[str], fmt: str
) -> tuple[list[str], list[str]] | None:
    """tabulate's lines above and below the rows of a table of ``samples``, if it wrote them as ``expected``.

    The samples hold the widest cell of every column, so the header and the rules are as wide as
    those of the whole table, and the narrowest, so that padding is checked too.
    """
    lines = _tabulate(samples, headers, fmt).split("\n")
    count = len(expected)
    # From the end: the header row comes first, and could read like a row.
    for start in range(len(lines) - count, 0, -1):
        if lines[start : start + count] == expected:
            return lines[:start], lines[start + count :]
    return None


def _tabulate(rows: list[list[str]], headers: list[str], fmt: str) -> str:
    from gittree.render.tabulated import tabulate_module

    # disable_numparse: a sha such as 0012345 or a value such as 1e-05 must stay as written.
    table = tabulate_module().tabulate(
        rows, headers=headers, tablefmt=HUMAN_FORMATS[fmt], disable_numparse=True
    )
    return str(table)


# -- delimited formats and JSON ---------------------------------------------------------------------


def record_columns(metrics: Sequence[str], params: ParamCells | None = None) -> list[str]:
    per_metric = [f"{name}_{part}" for name in metrics for part in ("mean", "std", "n")]
    per_param = [f"param:{name}" for name in params.names] + ["params_set_here"] if params else []
    return [
        "sha",
        "subject",
        *per_metric,
        *per_param,
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


def record_values(node: Node, metrics: Sequence[str], params: ParamCells | None = None) -> list[Any]:
    """One experiment as typed values (JSON), in the order of :func:`record_columns`.

    The csv cells are these, written as text.
    """
    values: list[Any] = [node.sha, node.subject]
    for name in metrics:
        summary = node.metrics.get(name)
        if summary is None:
            values += (None, None, 0)
        else:
            values += (summary.mean, summary.std, summary.n)
    if params is not None:
        values += [params.value(name, node) for name in params.names]
        values.append(params.set_here(node))
    values += (
        node.delta,
        node.reference,
        node.verdict.value,
        node.single_run,
        node.status,
        node.author_name,
        node.author_email,
        iso_date(node),
        node.best,
        node.surprise,
        node.dirty,
        list(node.parents),
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


#: :func:`_csv_cell` by the exact type of the value: one look-up per cell instead of up to six
#: checks (a 100k-experiment table has 3M values). Other types, subclasses too, go to _csv_cell.
_CSV_CELLS: dict[type, Callable[[Any], str]] = {
    str: csv_text,
    float: format_number,
    int: str,
    bool: _csv_cell,
    type(None): _csv_cell,
    list: _csv_cell,
}


def _csv_row(values: Iterable[Any]) -> list[str]:
    cells = _CSV_CELLS
    return [cells.get(type(value), _csv_cell)(value) for value in values]


def render_delimited_chunks(
    nodes: Sequence[Node], metrics: Sequence[str], fmt: str, params: ParamCells | None = None
) -> Iterator[str]:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITED_FORMATS[fmt], lineterminator="\n")
    writer.writerow(record_columns(metrics, params))
    for start in range(0, len(nodes), BATCH_ROWS):
        batch = nodes[start : start + BATCH_ROWS]
        writer.writerows([_csv_row(record_values(node, metrics, params)) for node in batch])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def table_head(
    tree: ResearchTree, metrics: Sequence[str], params: ParamCells | None = None
) -> dict[str, Any]:
    """The JSON table without its rows."""
    spec = tree.metric
    return {
        "schema": 1,
        "metric": spec.name if spec else None,
        "goal": spec.goal.value if spec else None,
        "columns": record_columns(metrics, params),
        "left_out": dict(tree.left_out),
    }


def table_data(
    tree: ResearchTree, nodes: Sequence[Node], metrics: Sequence[str], params: ParamCells | None = None
) -> dict[str, Any]:
    columns = record_columns(metrics, params)
    rows = [
        dict(zip(columns, map(_typed, record_values(node, metrics, params)), strict=True)) for node in nodes
    ]
    return {**table_head(tree, metrics, params), "rows": rows}


def _typed(value: Any) -> Any:
    return json_number(value) if isinstance(value, float) else value


def render_table_json_chunks(
    tree: ResearchTree, nodes: Sequence[Node], metrics: Sequence[str], params: ParamCells | None = None
) -> Iterator[str]:
    """``json.dumps(table_data(...), indent=2, ensure_ascii=False)`` and a newline, a batch of rows at a time.

    json's indenting encoder is pure Python and wants every row in memory at once; a row is a few
    plain values, so it is written here as that encoder writes it (:func:`_json_row_writer`).
    """
    import json

    head = json.dumps(
        {**table_head(tree, metrics, params), "rows": []}, indent=2, ensure_ascii=False, allow_nan=False
    )
    if not nodes:
        yield head + "\n"
        return
    yield head[: -len("[]\n}")] + "[\n"
    # A metric named twice is one key of a row (a dict), where its value first came.
    once = list(dict.fromkeys(metrics))
    row = _json_row_writer(record_columns(once, params))
    for start in range(0, len(nodes), BATCH_ROWS):
        rows = [row(record_values(node, once, params)) for node in nodes[start : start + BATCH_ROWS]]
        yield ("" if start == 0 else ",\n") + ",\n".join(rows)
    yield "\n  ]\n}\n"


#: Row fields sit at depth 3 of the JSON table: {"rows": [{...}]}, two spaces a level.
_FIELD_INDENT = " " * 6


def _json_row_writer(columns: Sequence[str]) -> Callable[[Sequence[Any]], str]:
    """One row of the JSON table (its values in the order of ``columns``), indented for its place."""
    keys = [encode_basestring(column).replace("%", "%%") for column in columns]
    template = "    {\n" + ",\n".join(f"{_FIELD_INDENT}{key}: %s" for key in keys) + "\n    }"
    values = _JSON_VALUES
    return lambda row: template % tuple([values.get(type(value), _json_value)(value) for value in row])


def _json_float(x: float) -> str:
    """``x`` as :func:`table_data` gives it: infinities and NaN as strings (:func:`json_number`)."""
    return float.__repr__(x) if math.isfinite(x) else encode_basestring(str(json_number(x)))


def _json_list(items: list[Any]) -> str:
    if not items:
        return "[]"
    if not all(type(item) is str for item in items):
        return _json_value(items)
    inner = "\n" + _FIELD_INDENT + "  "
    return "[" + inner + ("," + inner).join(map(encode_basestring, items)) + "\n" + _FIELD_INDENT + "]"


def _json_value(value: Any) -> str:
    """Any other value of a row field: json itself (which refuses what it cannot write), re-indented."""
    import json

    text = json.dumps(_typed(value), indent=2, ensure_ascii=False, allow_nan=False)
    # Strings in JSON never hold a raw line break, so every one is between two lines of the value.
    return text.replace("\n", "\n" + _FIELD_INDENT)


#: How json writes each type of value in a row, by exact type (its own checks, in Python, were
#: most of the time of a big table); other types go to :func:`_json_value`.
_JSON_VALUES: dict[type, Callable[[Any], str]] = {
    str: encode_basestring,
    float: _json_float,
    int: int.__repr__,
    bool: lambda flag: "true" if flag else "false",
    type(None): lambda _: "null",
    list: _json_list,
}


def render_table_chunks(
    tree: ResearchTree,
    nodes: Sequence[Node],
    metrics: Sequence[str],
    fmt: str,
    params: ParamCells | None = None,
) -> Iterator[str]:
    """The table of ``nodes`` (in that order) with the ``metrics`` columns (and the ``params`` ones),
    in format ``fmt``, in pieces."""
    if fmt in DELIMITED_FORMATS:
        return render_delimited_chunks(nodes, metrics, fmt, params)
    return render_human_chunks(tree, nodes, metrics, fmt, params)
