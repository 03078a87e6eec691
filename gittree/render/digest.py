"""``gittree export --format markdown --budget N``: the research story in about N characters, for an agent's context.

An agent loop reads the tree before each experiment and must not repeat what failed; its context is
short. So the story is cut by priority, never at random: the best path first (the latest steps kept
when it is long), then the most informative dead ends with their reasons, then the ideas tried off an
earlier step of the best path that were never tried on top of the best (its "untried siblings").
Each section says how many of its items it left out. The text never exceeds the budget. Rules:
docs/agents.md ("What the budgeted story holds").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gittree.model import Node, ResearchTree
from gittree.render.markup import markdown_code, markdown_escape
from gittree.render.numbers import format_summary
from gittree.render.words import dead_end_reason, delta_text, verdict_text
from gittree.tree.analysis import branch_points

#: The smallest budget that holds the heading and the best experiment.
MIN_BUDGET = 200
#: A reason or note longer than this is cut with an ellipsis (a long note would eat the budget).
REASON_CHARACTERS = 160
#: Of what is left, the share the best path may take while later sections still need room; then the dead ends'.
BEST_PATH_SHARE = 0.5
DEAD_ENDS_SHARE = 0.6
SUBJECT_CHARACTERS = 72


@dataclass(frozen=True)
class Section:
    heading: str
    #: the items, most important first.
    items: Sequence[str]
    #: what the items are, one and many: ("step", "steps").
    noun: tuple[str, str]
    #: keep the first item whatever the order of importance (the root of the best path).
    keep_first: bool = False


def render_digest(tree: ResearchTree, budget: int, *, project: str | None = None) -> str:
    """The story of ``tree`` in at most ``budget`` characters (at least :data:`MIN_BUDGET`)."""
    head = _heading(tree, project)
    if len(head) >= budget:
        return head[: max(0, budget - 2)] + "…\n"
    sections = [_best_path(tree), _dead_ends(tree), _untried(tree)]
    needs = [_size(section.heading, section.items) for section in sections]
    parts = [head]
    left = budget - len(head)
    for index, section in enumerate(sections):
        later = sum(needs[index + 1 :])
        share = (BEST_PATH_SHARE, DEAD_ENDS_SHARE, 1.0)[index]
        room = left - min(later, int(left * (1 - share)))
        text = _fit(section, room)
        parts.append(text)
        left -= len(text)
    return "".join(parts)


def _size(heading: str, items: Sequence[str]) -> int:
    return len(heading) + sum(len(item) for item in items) + 1 if items else 0


def _fit(section: Section, room: int) -> str:
    """The section's heading and as many items as fit in ``room``, in importance order, then the count left out."""
    if not section.items or room <= len(section.heading) + 40:
        if section.items and room > 40:
            return _dropped(section, room)
        return ""
    chosen: list[int] = []
    used = len(section.heading) + 1
    order = list(range(len(section.items)))
    if section.keep_first:
        order = [0, *reversed(order[1:])]  # the root, then the latest steps
    for position, item_index in enumerate(order):
        remaining = len(order) - position - 1
        note = len(_omitted(remaining, section)) if remaining else 0
        size = len(section.items[item_index])
        if used + size + note > room:
            break
        chosen.append(item_index)
        used += size
    if not chosen:
        return _dropped(section, room)
    omitted = len(section.items) - len(chosen)
    lines = [section.items[i] for i in sorted(chosen)]
    if omitted:
        marker = _omitted(omitted, section)
        if section.keep_first and len(lines) > 1:
            lines.insert(1, marker)  # the left-out steps are between the root and the latest ones
        else:
            lines.append(marker)
    return section.heading + "".join(lines) + "\n"


def _count(count: int, section: Section) -> str:
    return f"{count} {section.noun[0] if count == 1 else section.noun[1]}"


def _omitted(count: int, section: Section) -> str:
    """The line standing for the items left out (between the root and the latest steps, on the best path)."""
    noun = section.noun[0] if count == 1 else section.noun[1]
    return f"- … {count} {'earlier ' if section.keep_first else ''}{noun} left out\n"


def _dropped(section: Section, room: int) -> str:
    """A whole section that does not fit, said in one line when that fits."""
    line = f"{section.heading.splitlines()[0]}: {_count(len(section.items), section)} left out.\n\n"
    return line if len(line) <= room else ""


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ref(node: Node) -> str:
    return f"{markdown_code(node.short)} {markdown_escape(_short(node.subject, SUBJECT_CHARACTERS))}"


def _heading(tree: ResearchTree, project: str | None) -> str:
    title = f"# Research log: {markdown_escape(project)}" if project else "# Research log"
    spec = tree.metric
    dead = sum(1 for node in tree.nodes if node.dead_end)
    count = len(tree.nodes)
    facts = f"{count} experiment{'' if count == 1 else 's'}, {dead} dead end{'' if dead == 1 else 's'}"
    if spec is None:
        return f"{title}\n\n{facts}; no experiment records a metric yet.\n\n"
    direction = "higher" if spec.goal.value == "max" else "lower"
    line = f"{facts}; judged by **{markdown_escape(spec.name)}** ({direction} is better)"
    if tree.best is not None:
        best = tree.by_sha[tree.best]
        line += f"; best ★ {_ref(best)}: {format_summary(best.metrics.get(spec.name))}"
    return f"{title}\n\n{line}.\n\n"


def _value(tree: ResearchTree, node: Node) -> str:
    text = format_summary(node.metrics.get(tree.metric.name)) if tree.metric else "—"
    if node.delta is not None:
        text += f", {delta_text(tree, node)} {verdict_text(node)}"
    return text


def _best_path(tree: ResearchTree) -> Section:
    chain = tree.path_to(tree.best) if tree.best else []
    items = []
    for number, node in enumerate(chain, start=1):
        line = f"{number}. {'★ ' if node.best else ''}{_ref(node)}: {_value(tree, node)}"
        if node.notes:
            line += f" — {markdown_escape(_short('; '.join(node.notes), REASON_CHARACTERS))}"
        items.append(line + "\n")
    return Section("## Best path (root → best)\n\n", items, ("step", "steps"), keep_first=True)


def informative_dead_ends(tree: ResearchTree, anchors: dict[str, str | None] | None = None) -> list[Node]:
    """Dead ends, the most informative first: a reason written, then off the best path's latest steps, then newest.

    ``anchors``: :func:`branch_points` of the tree, when the caller has them (a pass over every node).
    """
    anchors = branch_points(tree) if anchors is None else anchors
    step_of = {node.sha: index for index, node in enumerate(tree.path_to(tree.best))} if tree.best else {}

    def key(node: Node) -> tuple[int, int, int]:
        anchor = anchors.get(node.sha)
        return (1 if node.notes else 0, step_of.get(anchor, -1) if anchor else -1, node.author_time)

    return sorted((node for node in tree.nodes if node.dead_end), key=key, reverse=True)


def _dead_ends(tree: ResearchTree) -> Section:
    anchors = branch_points(tree)
    items = []
    for node in informative_dead_ends(tree, anchors):
        anchor = anchors.get(node.sha)
        where = f", off {markdown_code(tree.by_sha[anchor].short)}" if anchor else ""
        reason = markdown_escape(_short(dead_end_reason(node), REASON_CHARACTERS))
        items.append(f"- ✗ {_ref(node)} ({node.fate}{where}): {reason}\n")
    return Section("## Dead ends (do not repeat)\n\n", items, ("dead end", "dead ends"))


def untried_siblings(tree: ResearchTree) -> list[Node]:
    """Live ideas branched off an earlier step of the best path and never carried onto it; best delta first.

    Each grew from a step before the best (the parent its path follows is on the best path), is no dead end,
    and no child of it joined the best path: it was tried on an older base, not on top of the best.
    """
    if tree.best is None:
        return []
    found = []
    for node in tree.nodes:
        parent = tree.path_parent(node)
        if node.on_best_path or node.dead_end or parent is None or parent == tree.best:
            continue
        if not tree.by_sha[parent].on_best_path:
            continue
        if any(tree.by_sha[child].on_best_path for child in node.children if child in tree.by_sha):
            continue
        found.append(node)
    goal_sign = 1 if tree.metric is None or tree.metric.goal.value == "max" else -1
    return sorted(
        found, key=lambda n: goal_sign * n.delta if n.delta is not None else float("-inf"), reverse=True
    )


def _untried(tree: ResearchTree) -> Section:
    items = []
    for node in untried_siblings(tree):
        parent = tree.path_parent(node) or node.parents[0]
        items.append(
            f"- {_ref(node)}: {_value(tree, node)}, tried on {markdown_code(tree.by_sha[parent].short)}\n"
        )
    return Section("## Untried on the best (siblings off earlier steps)\n\n", items, ("idea", "ideas"))
