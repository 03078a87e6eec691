"""The research tree as data (``gittree show --json``); schema in docs/tree.md."""

from __future__ import annotations

import json
import math
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
    return {
        "samples": [json_number(x) for x in summary.samples],
        "mean": json_number(summary.mean),
        "std": json_number(summary.std),
        "n": summary.n,
    }


def node_data(node: Node) -> dict[str, Any]:
    return {
        "sha": node.sha,
        "subject": node.subject,
        "parents": list(node.parents),
        "author": node.author_name,
        "email": node.author_email,
        "time": node.author_time,
        "metrics": {name: summary_data(s) for name, s in node.metrics.items()},
        "params": dict(node.params),
        "notes": list(node.notes),
        "status": node.status,
        "run": dict(node.run),
        "delta": json_number(node.delta),
        "reference": node.reference,
        "verdict": node.verdict.value,
        "single_run": node.single_run,
        "best": node.best,
        "head": node.head,
        "on_best_path": node.on_best_path,
        "folded": dict(node.folded),
        "folded_below": node.folded_below,
        "cut": node.cut,
        "problems": list(node.problems),
        "dirty": node.dirty,
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
        "nodes": [node_data(node) for node in tree.nodes],
    }


def render_json(tree: ResearchTree) -> str:
    return json.dumps(tree_data(tree), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
