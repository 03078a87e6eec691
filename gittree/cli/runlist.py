"""``gittree runs`` (the listing) without typer: the typer command and the start-up fast path share it."""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    from gittree import gitio
    from gittree.runs.journal import RunMeta
    from gittree.runs.listing import RunEntry


def print_runs(repo: gitio.Repo, run_id: str | None, *, as_json: bool = False) -> None:
    """The journal: one run in full (``run_id``, a unique prefix), else every run, as text or JSON."""
    from gittree.runs.listing import list_runs, show_run

    entries = [show_run(repo, run_id)] if run_id else list_runs(repo)
    if as_json:
        sys.stdout.write(json.dumps([_entry_data(v) for v in entries], indent=2, ensure_ascii=False) + "\n")
    elif run_id:
        _print_details(entries[0])
    elif not entries:
        print("no runs in the journal yet: start one with gittree run -- CMD")
    else:
        _print_table(entries)


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


def _entry_data(v: RunEntry) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(v.meta.to_json())
    data["state"] = v.state
    data["detail"] = v.detail
    data["journal"] = str(v.run_dir)
    data["metrics"] = [{"name": name, "value": value} for name, value in v.metrics]
    return data


def _print_table(entries: list[RunEntry]) -> None:
    """One row per run; a run that is not committed gets a second line saying why.

    The run's name (``--name``) is not cut; the command, last, is cut to the terminal's width. When
    the columns do not leave it room (80 columns), the commit loses its branch name, then the run id is
    shortened to its shortest unique prefix of at least ``YYYYmmdd-HHMMSS`` (``recover`` takes a prefix),
    then the time goes, then the outcome (``gittree runs ID`` shows both). Runs started in the same
    second by one process share their ids up to the random part: should even that leave no room, each
    line is cut at the terminal's width, the name too.
    """
    import shlex

    from gittree.cli.output import terminal_width
    from gittree.render.escape import display_width, pad, terminal_safe, truncate

    width = terminal_width()
    named = any(v.meta.name for v in entries)
    commands = [terminal_safe(shlex.join(v.meta.command)) for v in entries]
    # (short ids, commit without branch, with the time, with the outcome): each narrower than the last
    narrower = (
        (False, False, True, True),
        (False, True, True, True),
        (True, True, True, True),
        (True, True, False, True),
        (True, True, False, False),
    )
    for short_ids, sha_only, timed, with_outcome in narrower:
        ids = _short_ids([v.meta.id for v in entries]) if short_ids else [v.meta.id for v in entries]
        header = [
            "RUN",
            "STATUS",
            *(["OUTCOME"] if with_outcome else []),
            *(["TIME"] if timed else []),
            "COMMIT",
            *(["NAME"] if named else []),
        ]
        rows = [header] + [
            [
                run_id,
                v.state,
                *([outcome_text(v.meta) if v.meta.outcome else ""] if with_outcome else []),
                *([f"{v.meta.duration:.1f}s" if v.meta.duration is not None else ""] if timed else []),
                _commit_cell(v, sha_only),
                *([terminal_safe(v.meta.name or "")] if named else []),
            ]
            for run_id, v in zip(ids, entries, strict=True)
        ]
        widths = [max(display_width(terminal_safe(row[i])) for row in rows) for i in range(len(header))]
        fixed_width = sum(widths) + 2 * len(widths)
        if fixed_width + MIN_COMMAND_WIDTH <= width:
            break
    reasons = [""] + [v.detail if v.state not in ("committed", "recorded") else "" for v in entries]
    for row, command, reason in zip(rows, ["COMMAND", *commands], reasons, strict=True):
        fixed = "  ".join(pad(terminal_safe(cell), widths[i]) for i, cell in enumerate(row))
        line = f"{fixed}  {truncate(command, max(1, width - fixed_width))}".rstrip()
        print(truncate(line, width) if fixed_width >= width else line)
        if reason:
            print(truncate(f"    ↳ {terminal_safe(' '.join(reason.split()))}", width))


#: Columns the command keeps before the other columns are narrowed (it is cut to fit in any case).
MIN_COMMAND_WIDTH = 10


def _commit_cell(v: RunEntry, sha_only: bool) -> str:
    meta = v.meta
    if v.state not in ("committed", "recorded") or not meta.sha:
        return ""
    if sha_only or meta.recorded:  # a recorded run's commit is the one recorded on, whatever its branch
        return meta.sha[:7]
    return f"{meta.sha[:7]} {meta.branch or 'HEAD'}"


def _short_ids(ids: list[str]) -> list[str]:
    """Each id cut to its shortest prefix no other listed id shares, never below its start time."""
    shortest = len("YYYYmmdd-HHMMSS")
    short = []
    for run_id in ids:
        size = shortest
        while size < len(run_id) and any(
            other != run_id and other.startswith(run_id[:size]) for other in ids
        ):
            size += 1
        short.append(run_id[:size])
    return short


def _print_details(v: RunEntry) -> None:
    import shlex

    from gittree.render.escape import terminal_safe
    from gittree.runs.listing import iter_log_tail

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
