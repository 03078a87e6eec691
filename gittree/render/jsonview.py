"""The research tree as data (``gittree show --json``); schema in docs/tree.md."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence

from gittree.model import MetricSummary, Node, ResearchTree

TYPE_CHECKING = False  # `typing` costs milliseconds of a patched view's start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    from gittree.curves import StoredRun

#: 2: the top-level ``curves`` (the runs' downsampled curves); every field of 1 is unchanged (docs/tree.md).
SCHEMA_VERSION = 2

#: No curves: what a tree read without them carries.
NO_CURVES: Mapping[str, Sequence[StoredRun]] = {}


def json_number(x: float | None) -> float | str | None:
    """JSON has no NaN or infinities: those travel as the strings ``"nan"``, ``"inf"``, ``"-inf"``."""
    if x is None or math.isfinite(x):
        return x
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def summary_data(summary: MetricSummary) -> dict[str, Any]:
    samples = summary.samples
    mean, std = summary.mean, summary.std
    # A finite mean means every sample is finite (fsum of an infinity is not finite): the usual case
    # is decided by one test.
    finite = math.isfinite(mean)
    return {
        "samples": samples if finite else [json_number(x) for x in samples],
        "mean": mean if finite else json_number(mean),
        "std": std if std is None or math.isfinite(std) else json_number(std),
        "n": len(samples),
    }


def node_data(node: Node) -> dict[str, Any]:
    # The node's own tuples and dicts go to the encoder as they are (tuples are written as lists):
    # nothing here is copied, and nothing is changed.
    return {
        "sha": node.sha,
        "subject": node.subject,
        "parents": node.parents,
        "author": node.author_name,
        "email": node.author_email,
        "time": node.author_time,
        "metrics": {name: summary_data(s) for name, s in node.metrics.items()},
        "params": node.params,
        "notes": node.notes,
        "status": node.status,
        "run": node.run,
        "delta": json_number(node.delta),
        "reference": node.reference,
        "verdict": node.verdict.value,
        "single_run": node.single_run,
        "best": node.best,
        "head": node.head,
        "on_best_path": node.on_best_path,
        "surprise": node.surprise,
        "dirty": node.dirty,
        "folded": node.folded,
        "folded_below": node.folded_below,
        "cut": node.cut,
        "problems": node.problems,
    }


_JSON_BOOLEAN = {True: "true", False: "false"}


def node_json_writer() -> Callable[[Node], str]:
    """``one_line_encoder()(node_data(node))`` for many nodes, written from the node without making the
    dictionary: 0.8 s instead of 1.25 s for 100k experiments, byte for byte the same
    (``tests/test_tree_properties.py`` checks it on generated nodes). A node with a sample that is not
    finite (rare: written as a string) goes through the dictionary."""
    from json.encoder import encode_basestring as quote  # json's C quoting, as the encoder uses

    encode = one_line_encoder()
    boolean = _JSON_BOOLEAN
    number = float.__repr__  # what json writes for a finite float
    isfinite = math.isfinite

    def summary_rest(summary: MetricSummary) -> str | None:
        """A summary's JSON after its opening ``{"samples": [``; None when a number is not finite."""
        samples, mean, std = summary.samples, summary.mean, summary.std
        if not isfinite(mean) or any(type(x) is not float for x in samples):
            return None
        if std is None:
            spread = "null"
        elif isfinite(std):
            spread = number(std)
        else:
            return None
        return f'{", ".join(map(number, samples))}], "mean": {number(mean)}, "std": {spread}, "n": {len(samples)}}}'

    # Equal param sets are one shared dictionary (the parser and the builder make them so): each is
    # encoded once. The dictionary is kept with its text, so its id cannot be reused while cached.
    encoded_params: dict[int, tuple[dict[str, str], str]] = {}

    def params_json(params: dict[str, str]) -> str:
        if not params:
            return "{}"
        known = encoded_params.get(id(params))
        if known is None:
            if len(encoded_params) >= 4096:
                encoded_params.clear()
            known = encoded_params[id(params)] = (params, encode(params))
        return known[1]

    # '"acc": {"samples": [' for each metric name: a tree has a few names, on 100k nodes.
    openings: dict[str, str] = {}

    def write(node: Node) -> str:
        metrics = []
        for name, summary in node.metrics.items():
            opening = openings.get(name)
            if opening is None:
                opening = openings[name] = f'{quote(name)}: {{"samples": ['
            samples = summary.samples
            if len(samples) == 1 and type(x := samples[0]) is float and isfinite(x):  # one run: most
                mean = summary.mean
                # mean is x + 0.0: the same text, except for -0.0 (whose mean is 0.0)
                metrics.append(f'{opening}{x!r}], "mean": {mean!r}, "std": null, "n": 1}}')
                continue
            rest = summary_rest(summary)
            if rest is None:
                return encode(node_data(node))
            metrics.append(opening + rest)
        delta = node.delta
        if delta is not None and not isfinite(delta):
            return encode(node_data(node))
        parents = "[" + ", ".join(map(quote, node.parents)) + "]"
        status = node.status
        reference = node.reference
        return (
            f'{{"sha": {quote(node.sha)}, "subject": {quote(node.subject)}, "parents": {parents}, '
            f'"author": {quote(node.author_name)}, "email": {quote(node.author_email)}, '
            f'"time": {node.author_time:d}, "metrics": {{{", ".join(metrics)}}}, '
            f'"params": {params_json(node.params)}, '
            f'"notes": {encode(node.notes) if node.notes else "[]"}, '
            f'"status": {quote(status) if status is not None else "null"}, '
            f'"run": {encode(node.run) if node.run else "{}"}, '
            f'"delta": {"null" if delta is None else repr(delta)}, '
            f'"reference": {quote(reference) if reference is not None else "null"}, '
            f'"verdict": {quote(node.verdict.value)}, "single_run": {boolean[node.single_run]}, '
            f'"best": {boolean[node.best]}, "head": {boolean[node.head]}, '
            f'"on_best_path": {boolean[node.on_best_path]}, "surprise": {boolean[node.surprise]}, '
            f'"dirty": {boolean[node.dirty]}, "folded": {encode(node.folded) if node.folded else "{}"}, '
            f'"folded_below": {node.folded_below:d}, "cut": {boolean[node.cut]}, '
            f'"problems": {encode(node.problems) if node.problems else "[]"}}}'
        )

    return write


def tree_head(tree: ResearchTree) -> dict[str, Any]:
    """Everything of ``show --json`` but its nodes."""
    spec = tree.metric
    return {
        "schema": SCHEMA_VERSION,
        "metric": spec.name if spec else None,
        "goal": spec.goal.value if spec else None,
        "threshold": spec.threshold if spec else None,
        "metrics": list(tree.metric_names),
        "best": tree.best,
        "head": tree.head,
        "typical_delta": json_number(tree.typical_delta),
        "left_out": dict(tree.left_out),
    }


def tree_data(tree: ResearchTree) -> dict[str, Any]:
    return {**tree_head(tree), "nodes": [node_data(node) for node in tree.nodes]}


def render_json(
    tree: ResearchTree, *, config: str | None = None, curves: Mapping[str, Sequence[StoredRun]] = NO_CURVES
) -> str:
    data = {
        **tree_head(tree),
        "config": config,
        "nodes": [node_data(node) for node in tree.nodes],
        "curves": list(_curve_entries((node.sha for node in tree.nodes), curves)),
    }
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def head_text(head: Mapping[str, Any]) -> str:
    """The view's text up to its first node: the top-level fields (:func:`tree_head` and ``config``)."""
    text = json.dumps(head, indent=2, ensure_ascii=False, allow_nan=False)
    return text[:-2] + ',\n  "nodes": ['


#: What comes before each node's line but the first.
NODE_SEPARATOR = ",\n    "


def render_json_chunks(
    tree: ResearchTree,
    *,
    config: str | None = None,
    curves: Mapping[str, Sequence[StoredRun]] = NO_CURVES,
    lengths: MutableSequence[int] | None = None,
) -> Iterator[str]:
    """The same data as :func:`render_json`, streamed: one node per line, written by json's C encoder.

    ``config``: where the view's ``.gittree.yaml`` was read, written as ``"config"`` (null: none, the
    defaults; docs/config.md). ``curves``: the runs' stored curves by experiment, written after the
    nodes, one run per line (:func:`gittree.curves.curve_entries`). ``lengths``, when given, gets the
    size in UTF-8 bytes of each node's line with the separator before it (the view's index,
    :mod:`gittree.tree.extend`).

    ``gittree show --json`` uses this: a 100k-experiment tree starts printing at once and costs a
    fraction of the indented form (the indenting encoder is pure Python).
    """
    write = node_json_writer()
    yield head_text({**tree_head(tree), "config": config})
    for index, node in enumerate(tree.nodes):
        line = ("\n    " if index == 0 else NODE_SEPARATOR) + write(node)
        if lengths is not None:
            lengths.append(len(line) if line.isascii() else len(line.encode("utf-8", "surrogateescape")))
        yield line
    yield from tail_chunks([node.sha for node in tree.nodes], curves)


def tail_chunks(order: Sequence[str], curves: Mapping[str, Sequence[StoredRun]]) -> Iterator[str]:
    """What follows the nodes' lines: the end of ``nodes`` and the ``curves`` of the experiments
    ``order`` (the drawing order)."""
    yield "\n  ]" if order else "]"
    yield ',\n  "curves": ['
    encode = one_line_encoder()
    count = 0
    for count, entry in enumerate(_curve_entries(order, curves), 1):
        yield ("\n    " if count == 1 else ",\n    ") + encode(entry)
    yield ("\n  ]" if count else "]") + "\n}\n"


def with_marks(line: bytes, marks: Mapping[str, bool]) -> bytes:
    """A node's line as :func:`node_json_writer` writes it, with the marks ``best``, ``head``,
    ``on_best_path`` or ``surprise`` set to new values.

    Each is found from the end of the line: after ``verdict`` come only these marks, ``dirty``,
    ``folded`` (keyed by commit ids), ``folded_below``, ``cut`` and ``problems`` (strings), and inside a
    JSON string every quote is escaped, so ``, "best": `` there can only be the node's own field.
    """
    for name, value in marks.items():
        field = b', "' + name.encode("ascii") + b'": '
        at = line.rindex(field) + len(field)
        old = b"true" if line.startswith(b"true", at) else b"false"
        line = line[:at] + (b"true" if value else b"false") + line[at + len(old) :]
    return line


def node_of_line(line: bytes) -> Node:
    """The node a view's line was written from: its sha, author and time, metrics, params, notes, status,
    run facts, parents, folds, whether it was discarded, its evaluation and marks; the message is only
    its subject and the author's time zone is not kept (neither is in the line). Written again by
    :func:`node_json_writer`, it gives the same line."""
    from gittree.model import Verdict

    data = json.loads(line.lstrip(b",\n "))
    metrics = {
        name: MetricSummary(tuple(float(x) for x in summary["samples"]))
        for name, summary in data["metrics"].items()
    }
    node = Node(
        data["sha"],
        data["subject"],
        data["author"],
        data["email"],
        data["time"],
        0,
        metrics,
        data["params"],
        tuple(data["notes"]),
        data["status"],
        data["run"],
        tuple(data["problems"]),
        tuple(data["parents"]),
        data["folded"],
        data["folded_below"],
        data["cut"],
    )
    node.discarded = data["verdict"] == Verdict.DISCARDED.value
    delta = data["delta"]
    node.delta = float(delta) if isinstance(delta, str) else delta  # "nan", "inf" as written
    node.reference, node.verdict, node.single_run = (
        data["reference"],
        Verdict(data["verdict"]),
        data["single_run"],
    )
    node.best, node.head, node.on_best_path = data["best"], data["head"], data["on_best_path"]
    node.surprise = data["surprise"]
    return node


def _curve_entries(
    order: Iterable[str], curves: Mapping[str, Sequence[StoredRun]]
) -> Iterator[dict[str, Any]]:
    """:func:`gittree.curves.curve_entries`, its module imported only when a view has curves."""
    if not curves:
        return iter(())
    from gittree.curves import curve_entries

    return curve_entries(order, curves)


def one_line_encoder() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False, allow_nan=False)`` for many values, several times faster.

    ``json.dumps`` makes a new C encoder for every call, which costs more than encoding one node;
    a 100k-experiment view encodes 100k of them, so the encoder is made once here. Values must be
    plain JSON data without reference cycles (the trees' data never has any).
    """
    from json import encoder as json_encoder

    make = getattr(json_encoder, "c_make_encoder", None)  # private to json, absent without its C part
    if make is None:  # an interpreter without json's C accelerator
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    # The arguments json.JSONEncoder.iterencode passes for these options (no circular-reference
    # markers, no indent, the default separators, unsorted keys, NaN refused).
    encode_one = make(None, refuse, json_encoder.encode_basestring, None, ": ", ", ", False, False, False)
    join = "".join
    return lambda value: join(encode_one(value, 0))
