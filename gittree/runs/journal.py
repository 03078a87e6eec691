"""The run journal: one folder per run inside the repository's git directory, so no result is ever lost.

Layout (docs/runs.md)::

    $(git rev-parse --git-common-dir)/gittree/runs/<run-id>/
        meta.json       what ran and what became of it (:class:`RunMeta`)
        output.log      everything the command printed, stdout and stderr interleaved as they came
        logged.jsonl    the $GITTREE_METRICS_FILE that ``gittree.log_metric`` appends to
        metrics.json    the metrics collected when the run ended
        metrics-file.*  a copy of the run's --metrics-file, as the run left it

Every JSON file is written atomically: a temporary file in the same folder, fsync, ``os.replace``. A
reader sees the old version or the new one, and a crash (or a full disk) never leaves half a file.
The folder is synced too (the rename itself made durable) for the states that must survive a crash of
the machine: the entry itself before the command starts, how the command ended with its metrics,
and a commit about to be made. Other states are written with ``durable=False``: after a crash of the
machine the entry is found in an earlier state, one ``gittree recover`` handles (docs/runs.md,
"Durability"). The journal lives in the *common* git directory so every worktree shares it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from gittree.errors import RunError

TYPE_CHECKING = False  # typing itself costs milliseconds of every run's start; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1
META = "meta.json"
OUTPUT_LOG = "output.log"
LOGGED_METRICS = "logged.jsonl"
COLLECTED_METRICS = "metrics.json"
LOCK = "lock"

# Journal statuses (docs/runs.md, "Statuses").
RUNNING = "running"  # the command is running (or gittree was killed while it ran)
PENDING = "pending"  # finished, waiting for the post-run step to commit it
COMMITTING = "committing"  # a commit attempt is under way
COMMITTED = "committed"
COMMIT_FAILED = "commit-failed"
NOT_COMMITTED = "not-committed"  # kept in the journal on purpose: --no-commit, Ctrl-C, failed-run policy
STATUSES = (RUNNING, PENDING, COMMITTING, COMMITTED, COMMIT_FAILED, NOT_COMMITTED)


@dataclass
class RunMeta:
    """``meta.json``: the command, where and when it ran, how it ended, and what became of it."""

    id: str
    command: list[str]
    cwd: str
    worktree: str
    start: float
    #: the ref the run commits to: ``refs/heads/NAME``, or ``HEAD`` when HEAD was detached.
    target: str
    host: str = ""
    pid: int = 0
    #: HEAD's commit when the run started (a new --branch is created from it); None on an unborn branch.
    head: str | None = None
    #: the target's commit when the run started; None when the target did not exist yet.
    base: str | None = None
    name: str | None = None
    params: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    capture: list[str] = field(default_factory=list)
    #: the metrics file this run reads, its ``{seed}`` filled (relative to ``cwd``).
    metrics_file: str | None = None
    #: ``--metrics-file`` as given, when it differs (``m{seed}.json``): what ``gittree rerun`` fills.
    metrics_file_template: str | None = None
    #: the metrics file before the command started (``exists``, ``mtime_ns``, ``size``, ``ino``...): a
    #: file still in that state afterwards was not written by the run. None in entries of older gittrees.
    metrics_file_before: dict[str, object] | None = None
    add_untracked: bool = False
    #: the run is to be committed (False: --no-commit).
    commit: bool = True
    #: a run that exits non-zero is committed too (with Gittree-Status: failed).
    commit_failed: bool = True
    #: this run's seed (``--seeds``, or seen in the command: ``--seed 3``); None when it has none.
    seed: str | None = None
    #: the id of the first run of a group committed as one experiment (``--seeds``, a sweep point).
    group: str | None = None
    #: every seed of the group, in order.
    group_seeds: list[str] = field(default_factory=list)
    #: the command as written, with its ``{seed}`` placeholder: the experiment's ``cmd`` fact.
    template: list[str] | None = None
    #: ``--new``: never add the results to the experiment at HEAD as samples.
    new: bool = False
    #: add the results to this commit as samples (``gittree rerun``, ``gittree record REV --run``) instead
    #: of committing a new one.
    sample_of: str | None = None
    #: the results were added to ``sha`` as samples (its note) rather than committed as a new experiment.
    sample: bool = False
    #: ``gittree record REV --run`` adds (or added) the results to ``sample_of``: the run is recorded there.
    recorded: bool = False
    #: the ref the run was meant to land on, when it landed elsewhere as a sibling (that ref had moved).
    moved_from: str | None = None
    #: the code the run was started with: a tree object written before the command started.
    tree: str | None = None
    #: a later run of a group (``--seeds``, a sweep) started when the working tree no longer held the
    #: code the group saved (``tree``): it ran the code on disk, and its experiment is committed dirty.
    code_changed: bool = False
    snapshot_error: str | None = None
    child_pid: int | None = None
    end: float | None = None
    duration: float | None = None
    exit_code: int | None = None
    signal: str | None = None
    #: the signal that interrupted gittree itself during the run (Ctrl-C: SIGINT).
    interrupted: str | None = None
    #: ok or failed, once the command has ended.
    outcome: str | None = None
    status: str = RUNNING
    reason: str | None = None
    sha: str | None = None
    attempts: int = 0
    warnings: list[str] = field(default_factory=list)
    #: the ``gittree run`` that made this entry has finished with it (its post-run step is over).
    done: bool = False
    #: the last line the command wrote to stderr (a failed run's reason: ``Gittree-Run: stderr=``).
    stderr_last: str | None = None
    #: the params file read when the run started (its params are in ``params``, ``--param`` applied).
    params_file: str | None = None

    @property
    def branch(self) -> str | None:
        """The target as a branch name (``main``, ``exp/1``), None for a detached HEAD."""
        prefix = "refs/heads/"
        return self.target[len(prefix) :] if self.target.startswith(prefix) else None

    def to_json(self) -> str:
        data: dict[str, Any] = {"schema": SCHEMA_VERSION, **asdict(self), "branch": self.branch}
        for key in ("start", "end"):
            data[key] = _iso(data[key])
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunMeta:
        """The entry in ``text``; ValueError when it is not one this gittree wrote (another schema,
        not an object, a field of the wrong type: a hand-edited or damaged file)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"not a JSON object but {type(data).__name__}")
        schema = data.get("schema", SCHEMA_VERSION)
        if schema != SCHEMA_VERSION:
            raise ValueError(f"schema {schema!r}, not {SCHEMA_VERSION} (written by another gittree version?)")
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("start", "end"):
            if isinstance(values.get(key), str):
                values[key] = iso_timestamp(values[key])
        for key, value in values.items():
            if not _fits(value, _FIELD_TYPES[key]):
                raise ValueError(f"{key} is {value!r}, not {_FIELD_TYPES[key]}")
        return cls(**values)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


#: What a JSON value must be for each kind of field of :class:`RunMeta` (``tests/test_runs_journal.py``
#: checks every field's kind is here).
_CHECKS: dict[str, Any] = {
    "str": lambda value: isinstance(value, str),
    "bool": lambda value: isinstance(value, bool),
    "int": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "float": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "list[str]": _is_str_list,
    "list[list[str]]": lambda value: isinstance(value, list) and all(map(_is_str_list, value)),
    "dict[str, object]": lambda value: isinstance(value, dict),
}


def _fits(value: object, annotation: str) -> bool:
    """Whether a JSON value fits a field annotation of :class:`RunMeta` (as written in its source)."""
    if value is None:
        return annotation.endswith("| None")
    return bool(_CHECKS[annotation.removesuffix(" | None")](value))


#: Each field's annotation, as written (``from __future__ import annotations`` keeps them as text).
_FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(RunMeta)}


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return iso_time(stamp, milliseconds=True)


# -- times, without ``datetime`` ---------------------------------------------------------------------
# Importing ``datetime`` cost every run a millisecond (issue 19), for two conversions of the journal's
# own format; tests/test_runs_journal.py checks both against datetime itself, every time zone shape.


def iso_time(stamp: float, *, milliseconds: bool = False) -> str:
    """``datetime.fromtimestamp(stamp, timezone.utc).astimezone().isoformat(timespec=...)`` (``"seconds"``, or
    ``"milliseconds"``): the local time of ``stamp`` with its offset, as datetime writes it."""
    whole, micros = _seconds_and_micros(stamp)
    offset = time.localtime(whole).tm_gmtoff  # datetime's local zone at that moment
    local = time.gmtime(whole + offset)
    text = (
        f"{local.tm_year:04d}-{local.tm_mon:02d}-{local.tm_mday:02d}"
        f"T{local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d}"
    )
    if milliseconds:
        text += f".{micros // 1000:03d}"  # truncated, as isoformat does
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(abs(offset), 3600)
    minutes, seconds = divmod(rest, 60)
    return text + f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def _seconds_and_micros(stamp: float) -> tuple[int, int]:
    """Whole seconds and microseconds of ``stamp``, rounded half to even as ``datetime.fromtimestamp``
    rounds (CPython's _PyTime_DoubleToDenominator)."""
    import math

    fraction, whole = math.modf(stamp)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros -= 1_000_000
        whole += 1.0
    elif micros < 0:
        micros += 1_000_000
        whole -= 1.0
    return int(whole), micros


def iso_timestamp(text: str) -> float:
    """``datetime.fromisoformat(text).timestamp()``: the journal's own shape
    (``2026-12-07T11:44:17.123+01:00``) read here, anything else by datetime (its errors too)."""
    found = _JOURNAL_TIME.fullmatch(text) if text.isascii() else None
    if found is not None:
        year, month, day, hour, minute, second, millis, sign, off_hours, off_minutes = found.groups()
        fields_ = (int(year), int(month), int(day), int(hour), int(minute), int(second))
        offset = (int(off_hours) * 3600 + int(off_minutes) * 60) * (-1 if sign == "-" else 1)
        seconds = _days_from_civil(*fields_[:3]) * 86400 + fields_[3] * 3600 + fields_[4] * 60 + fields_[5]
        try:
            valid = tuple(time.gmtime(seconds)[:6]) == fields_  # no 30 February, no hour 24
        except (OverflowError, OSError, ValueError):
            valid = False
        if valid and int(off_hours) < 24 and int(off_minutes) < 60:
            return ((seconds - offset) * 10**6 + int(millis) * 1000) / 10**6  # as timedelta counts
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


_JOURNAL_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})([+-])(\d{2}):(\d{2})")


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


# -- files ----------------------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (POSIX needs the folder itself synced)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old file or the new one.

    The file is always synced before it replaces the old one (else a crash of the machine could
    leave an empty file under the name). ``durable``: the folder is synced too, so the new version
    survives such a crash; without it a later durable write in the same folder makes it durable.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{_random_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def runs_root(common_dir: Path) -> Path:
    return common_dir / "gittree" / "runs"


def new_run_id() -> str:
    """``YYYYmmdd-HHMMSS-PID-RANDOM`` (UTC): sorts by start time, unique across concurrent processes."""
    return f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{os.getpid()}-{_random_hex(3)}"


class RunClock:
    """Where runs take their ids and times from: by default the machine's clock.

    The one seam for a story told with real runs (``gittree demo``, tests): a subclass, in force with
    :func:`clock_of_runs`, names each run and says when it ran, so the commits (whose messages hold the
    run's id and duration) are the same on every machine. The command itself still runs for real.
    """

    def new_run_id(self) -> str:
        return new_run_id()

    def ran(self, meta: RunMeta) -> None:
        """The command has ended (``meta`` has its start, end and duration, not yet saved): a story's clock
        restates them here."""


_CLOCK = RunClock()


def run_clock() -> RunClock:
    """The clock in force (:class:`RunClock`)."""
    return _CLOCK


@contextlib.contextmanager
def clock_of_runs(clock: RunClock) -> Iterator[RunClock]:
    """Runs started in this process meanwhile take their ids and times from ``clock``."""
    global _CLOCK
    previous, _CLOCK = _CLOCK, clock
    try:
        yield clock
    finally:
        _CLOCK = previous


def create_run_dir(root: Path) -> tuple[str, Path]:
    """A new, empty run folder; ``mkdir`` is the atomic claim on the id, so two runs never share one."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create the run journal {root}: {e.strerror or e}") from e
    for _ in range(100):
        run_id = _CLOCK.new_run_id()
        path = root / run_id
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as e:
            raise RunError(f"cannot create the run journal entry {path}: {e.strerror or e}") from e
        fsync_dir(root)
        return run_id, path
    raise RunError(f"cannot find a free run id in {root}")  # pragma: no cover - 100 random collisions


def save_meta(run_dir: Path, meta: RunMeta, *, durable: bool = True) -> None:
    """Write ``meta.json``; ``durable=False`` for a state whose loss in a crash of the machine leaves one
    that ``gittree recover`` handles (:func:`write_atomic`)."""
    try:
        write_atomic(run_dir / META, meta.to_json().encode("utf-8"), durable=durable)
    except OSError as e:
        raise RunError(
            f"cannot write the run journal {run_dir / META}: {e.strerror or e}",
            hint="free some disk space or fix the permissions of the .git folder",
        ) from e


def load_meta(run_dir: Path) -> RunMeta:
    try:
        return RunMeta.from_json((run_dir / META).read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise RunError(f"the journal entry {run_dir} has no {META}") from e
    except (OSError, ValueError, TypeError) as e:
        raise RunError(f"the journal entry {run_dir / META} is unreadable: {e}") from e


def save_json(path: Path, data: Any, *, durable: bool = True) -> None:
    try:
        write_atomic(
            path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"), durable=durable
        )
    except OSError as e:
        raise RunError(
            f"cannot write the run journal {path}: {e.strerror or e}",
            hint="free some disk space or fix the permissions of the .git folder",
        ) from e


def list_run_dirs(root: Path) -> list[Path]:
    """Every run folder, oldest first (ids start with the UTC start time)."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))


def remove_run_dir(run_dir: Path) -> int:
    """Delete a run folder; returns the bytes it held. It is first renamed to a hidden name in one step,
    so a reader sees the whole entry or none of it, and a deletion cut short leaves no half entry
    (hidden folders are not runs; the next removal finishes them)."""
    import shutil

    size = sum(path.stat().st_size for path in run_dir.rglob("*") if path.is_file())
    hidden = run_dir.with_name(f".removed-{run_dir.name}-{_random_hex(3)}")
    try:
        os.replace(run_dir, hidden)
    except OSError as e:
        raise RunError(f"cannot remove the journal entry {run_dir}: {e.strerror or e}") from e
    shutil.rmtree(hidden, ignore_errors=True)
    return size


def clear_removed(root: Path) -> None:
    """Finish removals a killed process left (hidden ``.removed-*`` folders)."""
    import shutil

    if root.is_dir():
        for path in root.glob(".removed-*"):
            shutil.rmtree(path, ignore_errors=True)


def find_run_dir(root: Path, run_id: str) -> Path:
    """The folder of ``run_id``, or of the one run whose id starts with it."""
    if run_id and "/" not in run_id and run_id not in (".", "..") and (root / run_id).is_dir():
        return root / run_id
    matches = [path for path in list_run_dirs(root) if path.name.startswith(run_id)] if run_id else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunError(f"no run '{run_id}' in the journal", hint="list the runs with `gittree runs`")
    names = ", ".join(path.name for path in matches[:5])
    raise RunError(f"'{run_id}' matches several runs: {names}", hint="give more of the run id")


# -- processes and locks --------------------------------------------------------------------------


def this_host() -> str:
    """The machine's name (``socket.gethostname()``; where uname has it, without importing socket)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # pragma: no cover - Windows

    return socket.gethostname()  # pragma: no cover


def _random_hex(count: int) -> str:
    """``count`` random bytes as hex (``secrets.token_hex``, without importing secrets: it loads
    hashlib and OpenSSL, a noticeable part of every run's start)."""
    return os.urandom(count).hex()


def process_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live process on this machine (a zombie counts as gone)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a zombie still answers kill(0) until its parent reaps it
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def owner_alive(meta: RunMeta) -> bool | None:
    """Is the gittree process that owns ``meta`` still running? None when it runs on another machine."""
    if meta.host and meta.host != this_host():
        return None
    return process_alive(meta.pid)


@contextlib.contextmanager
def locked(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock while committing it, so two ``recover`` never commit one run twice."""
    path = run_dir / LOCK
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if _stale_lock(path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            raise RunError(
                f"run {run_dir.name} is being committed by another process ({_read(path)})",
                hint="wait for it to finish; `gittree runs` shows the outcome",
            ) from None
        except OSError as e:
            raise RunError(f"cannot lock the journal entry {run_dir}: {e.strerror or e}") from e
        try:
            os.write(fd, f"{os.getpid()} {this_host()}\n".encode())
        finally:
            os.close(fd)
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return
    raise RunError(f"cannot lock the journal entry {run_dir}")  # pragma: no cover - lost a race twice


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "unknown owner"


def _stale_lock(path: Path) -> bool:
    """A lock left by a process that died (on this machine) no longer protects anything."""
    parts = _read(path).split()
    if len(parts) != 2 or parts[1] != this_host() or not parts[0].isdigit():
        return False
    return not process_alive(int(parts[0]))
