"""``gittree render``'s one core call: a research tree in, the bytes of a picture out (docs/render.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from gittree.config import Config
from gittree.curves import StoredRun
from gittree.errors import BadValueError, GittreeError
from gittree.model import ResearchTree
from gittree.render.dot import dot_lines, render_dot
from gittree.render.subgraph import DrawingOptions, select_drawing

FORMATS = ("dot", "svg", "png", "pdf", "html")


def draw(
    tree: ResearchTree,
    fmt: str,
    options: DrawingOptions,
    config: Config | None = None,
    curves: Mapping[str, Sequence[StoredRun]] | None = None,
) -> Iterator[str] | Iterator[bytes]:
    """``tree`` as ``fmt`` (dot, svg, png, pdf or html), drawn with ``options``, in pieces (``curves``:
    the runs' stored curves, which only the page's cards draw).

    DOT comes line by line as text (a 100k-experiment graph is never held whole); the other formats
    come as one piece of bytes. Refuses before the first piece when nothing is left to draw.
    """
    drawing = select_drawing(tree, options)
    if not drawing.nodes and not drawing.folds:
        raise GittreeError(
            "nothing to draw: no experiment is left after --depth, --since and --only-best-path",
            hint="widen the selection (an earlier --since, a larger --depth)",
        )
    if fmt == "dot":
        return dot_lines(tree, options, drawing)
    if fmt == "html":
        from gittree.render.html import render_html

        return iter([render_html(tree, config, options, drawing, curves).encode("utf-8")])
    if fmt in ("svg", "png", "pdf"):
        from gittree.render.graphviz import draws_html_labels, layout

        if not draws_html_labels(fmt):  # the WebAssembly Graphviz: the legend drawn without a table
            options = replace(options, html_legend=False)
        return iter([layout(render_dot(tree, options, drawing), fmt)])
    raise BadValueError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
