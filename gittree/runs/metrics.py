"""A finished run's metrics, from its three sources (docs/runs.md, "Metrics: three sources").

``gittree.log_metric`` lines (``logged.jsonl``), the ``--metrics-file`` the run wrote, and the values
captured from its output, merged into the journal's ``metrics.json``. A name's first source in that
order wins. Nothing here can lose the run: a bad source is a warning in the journal.
"""

from __future__ import annotations

import contextlib
import json
import stat
from collections.abc import Sequence
from pathlib import Path

from gittree.errors import BadValueError, GittreeError
from gittree.runs import journal
from gittree.runs.journal import RunMeta
from gittree.trailers import format_number, parse_number, validate_name

#: Metrics files up to this size are digested before the run (metrics files are small).
_DIGEST_LIMIT = 1 << 20


def collect_metrics(
    meta: RunMeta, run_dir: Path, captured: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Merge the three sources into ``metrics.json``; a name's first source in this order wins:
    ``log_metric`` (the script said so explicitly), the metrics file, the captured output.

    A value another source gave for a name already taken is never dropped silently: unless it
    repeats the kept values exactly (one result reported twice), the run gets a warning naming the
    metric, the values kept and the values dropped, and ``metrics.json`` lists it under ``dropped``
    (docs/runs.md, "Metrics: three sources").

    The files are written without syncing the folder: the caller saves ``meta.json`` durably right
    after, which makes them durable with it (docs/runs.md, "Durability").
    """
    logged = _read_logged(run_dir / journal.LOGGED_METRICS, meta.warnings)
    sources = [
        ("log_metric", [(n, v) for n, samples in logged.items() for v in samples]),
        ("metrics_file", _read_metrics_file(meta, run_dir)),
        ("capture", list(captured)),
    ]
    owner: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    dropped: list[dict[str, str]] = []
    for source, pairs in sources:
        taken = set(owner)  # names an earlier source gave: this source's values for them lose
        for name, value in pairs:
            row = {"name": name, "value": value, "source": source}
            if name in taken:
                dropped.append(row)
            else:
                owner[name] = source
                rows.append(row)
    meta.warnings.extend(_dropped_warnings(meta, rows, dropped))
    journal.save_json(
        run_dir / journal.COLLECTED_METRICS, {"metrics": rows, "dropped": dropped}, durable=False
    )
    return [(row["name"], row["value"]) for row in rows]


def _same_samples(a: list[str], b: list[str]) -> bool:
    """The same numbers, in any order (``0.50`` is ``0.5``; ``nan`` is ``nan``)."""

    def canonical(values: list[str]) -> list[str]:
        return sorted(format_number(parse_number(value)) for value in values)

    return canonical(a) == canonical(b)


def _source_words(meta: RunMeta, source: str) -> str:
    if source == "metrics_file":
        return f"the metrics file {meta.metrics_file}"
    return "--capture" if source == "capture" else source


def _dropped_warnings(meta: RunMeta, rows: list[dict[str, str]], dropped: list[dict[str, str]]) -> list[str]:
    """One warning per metric and losing source, unless that source said exactly what was kept."""
    kept: dict[str, list[str]] = {}
    for row in rows:
        kept.setdefault(row["name"], []).append(row["value"])
    losing: dict[tuple[str, str], list[str]] = {}
    for row in dropped:
        losing.setdefault((row["name"], row["source"]), []).append(row["value"])
    warnings = []
    for (name, source), values in losing.items():
        if _same_samples(values, kept[name]):
            continue  # the same result reported twice (the script logged it and wrote it to the file)
        winner = next(row["source"] for row in rows if row["name"] == name)
        warnings.append(
            f"metric {name}: kept {', '.join(kept[name])} from {_source_words(meta, winner)}; "
            f"dropped {', '.join(values)} from {_source_words(meta, source)} "
            "(one source per metric: log_metric, then the metrics file, then --capture)"
        )
    return warnings


def _read_logged(path: Path, warnings: list[str]) -> dict[str, list[str]]:
    """The JSON lines ``gittree.log_metric`` appended; the last call for each name wins (a list logged
    in one call, ``"values"``, is several samples)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    values: dict[str, list[str]] = {}
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            name = validate_name(str(record["name"]))
            raw = record["values"] if "values" in record else [record["value"]]
            if not isinstance(raw, list) or not raw:
                raise ValueError(f"{raw!r} is not a list of numbers")
            texts = [_logged_number(value) for value in raw]
        except (ValueError, KeyError, TypeError, GittreeError) as e:
            last = number == len(lines)  # no final newline: the writer was stopped mid-line
            warnings.append(f"{path.name} line {number} ignored ({'cut short' if last else e})")
            continue
        values.pop(name, None)  # keep the order of the last values
        values[name] = texts
    return values


def _logged_number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is not a number")
    return str(value) if isinstance(value, int) else format_number(parse_number(str(value)))


def metrics_file_path(meta: RunMeta) -> Path:
    assert meta.metrics_file is not None
    return Path(meta.cwd) / meta.metrics_file


def metrics_file_state(path: Path) -> dict[str, object]:
    """The file as it is now, to compare with after the run: a file in the same state was not written by it.

    Not a modification time against the start time alone: timestamps can be coarse (a second, on some
    filesystems). A rewrite changes the inode (a new file renamed over it), the size, or the change
    time; the digest catches a same-size rewrite in place within one tick of a coarse clock.
    """
    try:
        info = path.stat()
    except OSError:
        return {"exists": False}
    state: dict[str, object] = {
        "exists": True,
        "mtime_ns": info.st_mtime_ns,
        "ctime_ns": info.st_ctime_ns,
        "size": info.st_size,
        "ino": info.st_ino,
    }
    if stat.S_ISREG(info.st_mode) and info.st_size <= _DIGEST_LIMIT:  # never block on a FIFO
        import hashlib  # only with a metrics file: it loads OpenSSL, milliseconds of every run's start

        with contextlib.suppress(OSError):
            state["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def _read_metrics_file(meta: RunMeta, run_dir: Path) -> list[tuple[str, str]]:
    if not meta.metrics_file:
        return []
    from gittree.record.metricsfile import read_metrics_file

    path = metrics_file_path(meta)
    if not path.is_file():
        meta.warnings.append(f"the metrics file {meta.metrics_file} was not written by the run")
        return []
    # An entry journalled by an older gittree has no state to compare with: the file counts, as it did.
    if meta.metrics_file_before is not None and metrics_file_state(path) == meta.metrics_file_before:
        meta.warnings.append(
            f"the metrics file {meta.metrics_file} was not written by the run: "
            "it is unchanged since the run started (an earlier run's results?)"
        )
        return []
    with contextlib.suppress(OSError):  # keep the file as the run left it, whatever happens to it next
        journal.write_atomic(run_dir / f"metrics-file{path.suffix}", path.read_bytes(), durable=False)
    problems: list[BadValueError] = []
    try:
        pairs = read_metrics_file(path, problems=problems)
    except BadValueError as e:
        meta.warnings.append(f"the metrics file {meta.metrics_file} was ignored: {e.message}")
        return []
    # The command already ran: one bad value must not cost the good ones.
    meta.warnings += [f"the metrics file {meta.metrics_file}: {e.message} (ignored)" for e in problems]
    return pairs


def collected_metrics(run_dir: Path) -> list[tuple[str, str]]:
    try:
        data = json.loads((run_dir / journal.COLLECTED_METRICS).read_text(encoding="utf-8"))
        return [(str(row["name"]), str(row["value"])) for row in data["metrics"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
