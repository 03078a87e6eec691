"""``gittree render``'s one core call: a research tree in, the bytes of a picture out (docs/render.md)."""

from __future__ import annotations

from gittree.config import Config
from gittree.errors import BadValueError, GittreeError
from gittree.model import ResearchTree
from gittree.render.dot import ViewOptions, render_dot, select_view

FORMATS = ("dot", "svg", "png", "pdf", "html")


def draw(tree: ResearchTree, fmt: str, options: ViewOptions, config: Config | None = None) -> bytes:
    """``tree`` as ``fmt`` (dot, svg, png, pdf or html), drawn with ``options``."""
    view = select_view(tree, options)
    if not view.nodes and not view.folds:
        raise GittreeError(
            "nothing to draw: no experiment is left after --depth, --since and --only-best-path",
            hint="widen the selection (an earlier --since, a larger --depth)",
        )
    if fmt == "dot":
        return render_dot(tree, options).encode("utf-8")
    if fmt == "html":
        from gittree.render.html import render_html

        return render_html(tree, config, options).encode("utf-8")
    if fmt in ("svg", "png", "pdf"):
        from gittree.render.graphviz import layout

        return layout(render_dot(tree, options), fmt)
    raise BadValueError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
