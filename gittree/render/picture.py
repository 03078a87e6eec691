"""``gittree render``'s one core call: a research tree in, the bytes of a picture out (docs/render.md)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from gittree.config import Config
from gittree.errors import BadValueError, GittreeError
from gittree.model import ResearchTree
from gittree.render.dot import ViewOptions, render_dot, select_view

FORMATS = ("dot", "svg", "png", "pdf", "html")

_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}
_RELATIVE = re.compile(r"(\d+)[ .]+(second|minute|hour|day|week|month|year)s?[ .]+ago", re.I)


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


def parse_since(text: str, *, now: int) -> int:
    """Seconds since the epoch for ``--since``: an ISO date or time, ``N units ago``, ``today``, ``yesterday``.

    Dates without a time zone are the local time, as in git. Anything else is refused (git's own date
    parser reads any text, even a typo, as "now", which would silently draw nothing).
    """
    cleaned = text.strip()
    lowered = cleaned.lower()
    local_now = datetime.fromtimestamp(now).astimezone()
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if lowered == "today":
        return int(midnight.timestamp())
    if lowered == "yesterday":
        return int((midnight - timedelta(days=1)).timestamp())
    relative = _RELATIVE.fullmatch(lowered)
    if relative:
        return now - int(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        when = datetime.fromisoformat(cleaned.replace("Z", "+00:00") if cleaned.endswith("Z") else cleaned)
    except ValueError:
        raise BadValueError(
            f"cannot read the date '{text}'",
            hint="write 2026-03-01, 2026-03-01T14:00, 2026-03-01T14:00+02:00, '3 days ago', 2.weeks.ago, "
            "today or yesterday",
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time is local time
    return int(when.timestamp())
