"""``gittree runs`` (the listing) without typer: the typer command and the start-up fast path share it."""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    from gittree import gitio
    from gittree.journal import RunMeta
    from gittree.runcommit import RunView


def print_runs(repo: gitio.Repo, run_id: str | None, *, as_json: bool = False) -> None:
    """The journal: one run in full (``run_id``, a unique prefix), else every run, as text or JSON."""
    from gittree.runcommit import list_runs, show_run

    views = [show_run(repo, run_id)] if run_id else list_runs(repo)
    if as_json:
        sys.stdout.write(json.dumps([_view_data(v) for v in views], indent=2, ensure_ascii=False) + "\n")
    elif run_id:
        _print_details(views[0])
    elif not views:
        print("no runs in the journal yet: start one with gittree run -- CMD")
    else:
        _print_table(views)


def outcome_text(meta: RunMeta) -> str:
    if meta.interrupted and meta.interrupted != "lost":
        return f"interrupted by {meta.interrupted}"
    if meta.signal:
        return f"killed by {meta.signal}"
    if meta.exit_code is None:
        return "ended without an exit status"
    return f"exit {meta.exit_code}"


def metrics_text(pairs: list[tuple[str, str]]) -> str:
    return " ".join(f"{name}={value}" for name, value in pairs[:6]) + (" …" if len(pairs) > 6 else "")


def _view_data(v: RunView) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(v.meta.to_json())
    data["state"] = v.state
    data["detail"] = v.detail
    data["journal"] = str(v.run_dir)
    data["metrics"] = [{"name": name, "value": value} for name, value in v.metrics]
    return data


def _print_table(views: list[RunView]) -> None:
    """One row per run; a run that is not committed gets a second line saying why."""
    import shlex

    from gittree.cli.output import terminal_width
    from gittree.render.escape import pad, terminal_safe, truncate

    width = terminal_width()
    header = ["RUN", "STATUS", "OUTCOME", "TIME", "COMMIT", "COMMAND"]
    rows = []
    for v in views:
        meta = v.meta
        rows.append(
            [
                meta.id,
                v.state,
                outcome_text(meta) if meta.outcome else "",
                f"{meta.duration:.1f}s" if meta.duration is not None else "",
                f"{meta.sha[:7]} {meta.branch or 'HEAD'}" if v.state == "committed" and meta.sha else "",
                terminal_safe(shlex.join(meta.command)),
            ]
        )
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(5)]
    reasons = [""] + [v.detail if v.state != "committed" else "" for v in views]
    for row, reason in zip([header, *rows], reasons, strict=True):
        fixed = "  ".join(pad(terminal_safe(cell), widths[i]) for i, cell in enumerate(row[:5]))
        print(f"{fixed}  {truncate(row[5], max(10, width - len(fixed) - 2))}".rstrip())
        if reason:
            print(truncate(f"    ↳ {terminal_safe(' '.join(reason.split()))}", width))


def _print_details(v: RunView) -> None:
    import shlex

    from gittree.render.escape import terminal_safe
    from gittree.runcommit import iter_log_tail

    meta = v.meta
    lines = [
        f"run       {meta.id}",
        f"status    {v.state}" + (f": {v.detail}" if v.detail else ""),
        f"command   {shlex.join(meta.command)}",
        f"cwd       {meta.cwd}",
        f"branch    {meta.branch or meta.target}",
        f"outcome   {outcome_text(meta) if meta.outcome else 'still running'}"
        + (f", {meta.duration:.1f} s" if meta.duration is not None else ""),
        f"journal   {v.run_dir}",
    ]
    if v.metrics:
        lines.append(f"metrics   {metrics_text(v.metrics)}")
    lines += [f"warning   {warning}" for warning in meta.warnings]
    tail = list(iter_log_tail(v.run_dir))
    if tail:
        lines.append("output (last lines):")
        lines += [f"  {line}" for line in tail]
    for line in lines:
        print(terminal_safe(line))
