"""gittree's cache, inside the git directory: ``$GIT_COMMON_DIR/gittree/cache/``.

It can never be wrong, because everything in it is keyed by something immutable:

* ``commits.v1``: what was read and parsed of each commit object, by commit id. A commit id names
  the same bytes forever, so an entry never goes stale; amend, rebase, deleted branches and
  ``git gc`` only leave entries nobody looks up any more (they are dropped when they outnumber the
  live ones).
* ``notes.v1``: the gittree notes, with the id of the notes commit they were read from; a new note
  moves ``refs/notes/gittree`` and the entry is no longer used.
* ``views/<digest>``: a finished view (the bytes ``gittree show`` printed), keyed by a digest of
  every input of that view: the id of every ref and of HEAD, the shallow boundary, the
  ``.gittree.yaml`` bytes, the options and gittree's version.

Every file is written to a temporary file in the same folder and moved into place with
``os.replace``, so a reader sees a whole old file or a whole new one, and two gittree processes
writing at once cannot mix their bytes (the last one wins; both are correct). Each file carries a
checksum: a truncated or corrupt file is ignored and rewritten, silently. ``GITTREE_NO_CACHE=1``
turns the cache off. Deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FORMAT = 1
_MAGIC = b"gittree-cache\n"
# magic, format, payload length, crc32 of the payload
_HEADER = struct.Struct("<14sIQI")
MAX_VIEWS = 12

#: One cached commit: the facts gitio reads (parents, author name, email, time, offset, committer
#: time, message) and the record parsed from the message's trailers (a tuple, or None).
CommitEntry = tuple[Any, ...]


def enabled() -> bool:
    return os.environ.get("GITTREE_NO_CACHE", "") in ("", "0")


def cache_dir(common_dir: Path) -> Path:
    return common_dir / "gittree" / "cache"


def _write_atomic(path: Path, payload: bytes | memoryview) -> None:
    """Write ``path`` whole or not at all; a failure (read-only repository, full disk) is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_HEADER.pack(_MAGIC, FORMAT, len(payload), zlib.crc32(payload)))
            handle.write(payload)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _read_checked(path: Path) -> bytes | None:
    """The payload of a cache file, or None when it is missing, truncated, corrupt or of another format."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if len(data) < _HEADER.size:
        return None
    magic, version, length, crc = _HEADER.unpack_from(data)
    payload = memoryview(data)[_HEADER.size :]
    if magic != _MAGIC or version != FORMAT or len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return data[_HEADER.size :]


def _load_marshal(path: Path) -> Any:
    payload = _read_checked(path)
    if payload is None:
        return None
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None


class CommitStore:
    """Commit id -> :data:`CommitEntry`, loaded once, saved when new commits were read."""

    def __init__(self, common_dir: Path) -> None:
        self.path = cache_dir(common_dir) / f"commits.v{FORMAT}"
        self.on = enabled()
        loaded = _load_marshal(self.path) if self.on else None
        self.entries: dict[str, CommitEntry] = loaded if isinstance(loaded, dict) else {}
        self.added = 0

    def get(self, sha: str) -> CommitEntry | None:
        return self.entries.get(sha)

    def put(self, sha: str, entry: CommitEntry) -> None:
        self.entries[sha] = entry
        self.added += 1

    def save(self, live: set[str] | None = None) -> None:
        """Write the entries back if any were added; keep only ``live`` ones once the dead outnumber them."""
        if not self.on or not self.added:
            return
        entries = self.entries
        if live is not None and len(entries) > 2 * len(live):
            entries = {sha: entry for sha, entry in entries.items() if sha in live}
        _write_atomic(self.path, marshal.dumps(entries))
        self.added = 0


def load_notes(common_dir: Path, tip: str | None) -> dict[str, str] | None:
    """The notes read from notes commit ``tip`` last time, or None when they are not cached."""
    if not enabled():
        return None
    loaded = _load_marshal(cache_dir(common_dir) / f"notes.v{FORMAT}")
    if isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == tip and isinstance(loaded[1], dict):
        return loaded[1]
    return None


def save_notes(common_dir: Path, tip: str | None, notes: dict[str, str]) -> None:
    if enabled():
        _write_atomic(cache_dir(common_dir) / f"notes.v{FORMAT}", marshal.dumps((tip, notes)))


def view_key(*parts: Any) -> str:
    """A digest of everything a view depends on (marshal-able values: str, int, tuples, None...)."""
    import hashlib

    return hashlib.sha256(marshal.dumps((FORMAT, *parts))).hexdigest()[:40]


_CHUNK = 1 << 20


def open_view(common_dir: Path, key: str) -> Iterator[bytes] | None:
    """The cached view's bytes in chunks, or None when it is not cached (or the file is damaged).

    The whole file is checked before the first byte is handed out, through the one open file, so
    a concurrent rewrite (a new inode moved into place) cannot mix two versions.
    """
    if not enabled():
        return None
    try:
        handle = open(cache_dir(common_dir) / "views" / key, "rb")  # noqa: SIM115 - handed to the iterator
    except OSError:
        return None
    try:
        header = handle.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise ValueError("truncated")
        magic, version, length, crc = _HEADER.unpack(header)
        if magic != _MAGIC or version != FORMAT:
            raise ValueError("not a view")
        seen, running = 0, 0
        while chunk := handle.read(_CHUNK):
            seen += len(chunk)
            running = zlib.crc32(chunk, running)
        if seen != length or running != crc:
            raise ValueError("damaged")
        handle.seek(_HEADER.size)
    except (OSError, ValueError, struct.error):
        handle.close()
        return None
    return _chunks(handle)


def _chunks(handle: Any) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def store_view(common_dir: Path, key: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass ``chunks`` through, writing them to the cache as they go; stored only once complete."""
    if not enabled():
        yield from chunks
        return
    folder = cache_dir(common_dir) / "views"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=key + ".", suffix=".tmp", dir=folder)
    except OSError:
        yield from chunks
        return
    handle = os.fdopen(fd, "wb")
    writing, stored = True, False
    length, crc = 0, 0
    try:
        try:
            handle.write(b"\0" * _HEADER.size)
        except OSError:
            writing = False
        for chunk in chunks:
            if writing:
                try:
                    handle.write(chunk)
                except OSError:  # a full disk: the view still goes out, it is just not kept
                    writing = False
                length += len(chunk)
                crc = zlib.crc32(chunk, crc)
            yield chunk
        if writing:
            try:
                handle.seek(0)
                handle.write(_HEADER.pack(_MAGIC, FORMAT, length, crc))
                handle.close()
                os.replace(temporary, folder / key)
                stored = True
            except OSError:
                pass
        if stored:
            _prune(folder, MAX_VIEWS)
    finally:
        handle.close()
        if not stored:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _prune(folder: Path, keep: int) -> None:
    """Keep the ``keep`` most recently written views (and no leftover temporary files)."""
    try:
        files = [entry for entry in os.scandir(folder) if entry.is_file()]
    except OSError:
        return
    files.sort(key=lambda entry: entry.stat().st_mtime, reverse=True)
    views = [entry for entry in files if not entry.name.endswith(".tmp")]
    for entry in views[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
