"""The research tree as data (``gittree show --json``); schema in docs/tree.md."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from gittree.model import MetricSummary, Node, ResearchTree

SCHEMA_VERSION = 1


def json_number(x: float | None) -> float | str | None:
    """JSON has no NaN or infinities: those travel as the strings ``"nan"``, ``"inf"``, ``"-inf"``."""
    if x is None or math.isfinite(x):
        return x
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def summary_data(summary: MetricSummary) -> dict[str, Any]:
    samples = summary.samples
    finite = all(map(math.isfinite, samples))
    return {
        "samples": samples if finite else [json_number(x) for x in samples],
        "mean": summary.mean if finite else json_number(summary.mean),
        "std": json_number(summary.std),
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


def tree_data(tree: ResearchTree) -> dict[str, Any]:
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
        "nodes": [node_data(node) for node in tree.nodes],
    }


def render_json(tree: ResearchTree) -> str:
    return json.dumps(tree_data(tree), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_json_chunks(tree: ResearchTree) -> Iterator[str]:
    """The same data as :func:`render_json`, streamed: one node per line, written by json's C encoder.

    ``gittree show --json`` uses this: a 100k-experiment tree starts printing at once and costs a
    fraction of the indented form (the indenting encoder is pure Python).
    """
    head = tree_data(
        ResearchTree(
            nodes=[], metric=tree.metric, head=tree.head, best=tree.best, metric_names=tree.metric_names
        )
    )
    head.pop("nodes")
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    text = json.dumps(head, indent=2, ensure_ascii=False, allow_nan=False)
    yield text[:-2] + ',\n  "nodes": ['
    for index, node in enumerate(tree.nodes):
        yield ("\n    " if index == 0 else ",\n    ") + encode(node_data(node))
    yield ("\n  ]" if tree.nodes else "]") + "\n}\n"
