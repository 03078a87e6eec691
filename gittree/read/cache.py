"""gittree's cache, inside the git directory: ``$GIT_COMMON_DIR/gittree/cache/``.

It can never be wrong, because everything in it is keyed by something immutable:

* ``commits.v1``: what was read and parsed of each commit object, by commit id. A commit id names
  the same bytes forever, so an entry never goes stale; amend, rebase, deleted branches and
  ``git gc`` only leave entries nobody looks up any more (they are dropped when they outnumber the
  live ones).
* ``notes.v1``: the gittree notes, with the id of the notes commit they were read from; a new note
  moves ``refs/notes/gittree`` and the entry is no longer used.
* ``config-lookup.v1``: where the last view found a committed ``.gittree.yaml`` (none in the working
  tree) and its bytes, with the commits of HEAD and of the tips the look-up read; a view whose ref
  listing names the same commits reuses it instead of asking git (``gitio.read_committed_file``).
* ``views/<digest>``: a finished view (the bytes ``gittree show`` printed), keyed by a digest of
  every input of that view: the id of every ref and of HEAD, the shallow boundary, the
  ``.gittree.yaml`` bytes, the options and gittree's version. Either whole or a patch of a whole one (its own bytes and ranges of the whole one's: ``show
  --json`` after new experiments, :mod:`gittree.read.viewpatch`).
* ``extend/<family>.base`` and ``extend/<family>``: the index of the last ``show --json`` view of a
  kind, and the views patched since (:mod:`gittree.read.viewpatch`). Not keyed by content: the
  patcher compares the refs it names with the refs now and patches only when the change adds to it.
* ``seed-<scope>.base`` / ``.delta`` (:class:`SeedStore`): the last tree of a scope before evaluation,
  and the tips, HEAD, notes commit and dead ends it was built from (issue 19). Not keyed by content:
  the reader (``gittree.read._grow``) asks git what changed since those inputs and uses the seed only
  when the change adds to it (new commits on top, notes on experiments); docs/performance.md,
  "Growing the last tree".

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
import zlib
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any, BinaryIO, TypeAlias

FORMAT = 1
_MAGIC = b"gittree-cache\n"
# magic, format, payload length, crc32 of the payload
_HEADER = struct.Struct("<14sIQI")
MAX_VIEWS = 12

#: One cached commit: the facts gitio reads (parents, author name, email, time, offset, committer
#: time, message) and the record parsed from the message's trailers (a tuple, or None).
if TYPE_CHECKING:
    CommitEntry: TypeAlias = tuple[Any, ...]


_TAG: int | None = None


def format_tag() -> int:
    """FORMAT combined with a fingerprint of gittree's own code.

    Cached entries are the output of the parser and the renderers; when the code changes (an upgrade,
    or an edit in a development checkout) every entry written by the old code must be ignored, without
    anyone remembering to bump FORMAT. The fingerprint is the name, size and mtime of every file of the
    package (modules, and the assets the HTML page embeds), compiled bytecode aside.
    """
    global _TAG
    if _TAG is None:
        stats: list[tuple[str, int, int]] = []
        _code_stats(PACKAGE, "", stats)
        _TAG = zlib.crc32(marshal.dumps((FORMAT, stats)))
    return _TAG


#: The gittree package: every file of it counts in :func:`format_tag` (this module's own folder alone
#: left out the parser, the tree and the renderers, whose output the cache holds).
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _code_stats(folder: str, prefix: str, stats: list[tuple[str, int, int]]) -> None:
    """(path under the package, size, mtime) of every file below ``folder``, compiled bytecode aside, in
    name order (one ``scandir`` per folder: this runs in every warm view's start-up)."""
    with contextlib.suppress(OSError), os.scandir(folder) as listing:
        for entry in sorted(listing, key=lambda entry: entry.name):
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    _code_stats(entry.path, prefix + entry.name + "/", stats)
                continue
            with contextlib.suppress(OSError):
                info = entry.stat()
                stats.append((prefix + entry.name, info.st_size, info.st_mtime_ns))


def enabled() -> bool:
    return os.environ.get("GITTREE_NO_CACHE", "") in ("", "0")


def cache_dir(common_dir: Path) -> Path:
    return common_dir / "gittree" / "cache"


def _temporary_beside(path: Path) -> tuple[int, Path]:
    """A new file of this process's own next to ``path`` (the folder made if needed), open for writing.

    What ``tempfile.mkstemp`` does (a random name, created exclusively, readable by its owner only)
    without importing tempfile, which costs a patched view a few milliseconds (shutil, random...).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = path.parent / f"{path.name}.{os.urandom(6).hex()}.tmp"
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), temporary
        except FileExistsError:  # another writer drew the same name: draw again
            continue


def _write_atomic(
    path: Path, pieces: Iterable[bytes | memoryview], magic: bytes = _MAGIC, *, behind: bool = False
) -> None:
    """Write ``path`` whole or not at all: the pieces joined, without ever joining them in memory.

    ``behind``: the pieces are written by a second thread while the next ones are made (a big file made
    piece by piece: see :func:`_write_behind`). A failure (read-only repository, full disk) is not an
    error: the cache is only not kept.
    """
    try:
        fd, temporary = _temporary_beside(path)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"\0" * _HEADER.size)
            if behind:
                length, crc = _write_behind(handle, pieces)
            else:
                length, crc = 0, 0
                for piece in pieces:
                    handle.write(piece)
                    length += len(piece)
                    crc = zlib.crc32(piece, crc)
            handle.seek(0)
            handle.write(_HEADER.pack(magic, format_tag(), length, crc))
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _write_behind(handle: BinaryIO, pieces: Iterable[bytes | memoryview]) -> tuple[int, int]:
    """Write ``pieces`` to ``handle`` from a second thread; their total length and CRC-32.

    Writing a file releases the interpreter's lock: the 35 MB of a 100k-commit cache or seed go to the
    kernel on the other core while this thread marshals the next piece (about 0.1 s each, once all
    on this one). At most :data:`_PIECES_AHEAD` pieces wait, so no more of the file is held at once.
    The first error of a write is raised here, in the calling thread, and no piece is made after it
    (the writer goes on taking pieces, so the maker never waits on a writer that stopped).
    """
    import queue
    import threading

    waiting: queue.Queue[bytes | memoryview | None] = queue.Queue(_PIECES_AHEAD)
    failed: list[BaseException] = []

    def write() -> None:
        while (piece := waiting.get()) is not None:
            if not failed:
                try:
                    handle.write(piece)
                except BaseException as error:  # raised here, in the caller's thread; the rest is drained
                    failed.append(error)

    writer = threading.Thread(target=write, name="gittree-cache-writer", daemon=True)
    writer.start()
    length, crc = 0, 0
    try:
        for piece in pieces:
            if failed:
                break
            waiting.put(piece)
            length += len(piece)
            crc = zlib.crc32(piece, crc)
    finally:
        waiting.put(None)
        writer.join()
    if failed:
        raise failed[0]
    return length, crc


#: Pieces made and not yet written, at most (:data:`PIECE` commits or nodes each, and their lengths).
_PIECES_AHEAD = 2


def _read_checked(path: Path, magic: bytes = _MAGIC) -> bytes | None:
    """The payload of a cache file, or None when it is missing, truncated, corrupt or of another format."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if len(data) < _HEADER.size:
        return None
    found, version, length, crc = _HEADER.unpack_from(data)
    payload = memoryview(data)[_HEADER.size :]
    if found != magic or version != format_tag() or len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return data[_HEADER.size :]


def _load_marshal(path: Path, magic: bytes = _MAGIC) -> Any:
    payload = _read_checked(path, magic)
    if payload is None:
        return None
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None


#: Commits per piece of the commit cache file (and nodes per piece of a seed): each piece is marshalled on
#: its own, so writing the cache of a 100k-commit history never holds all of it as bytes at once (about
#: 40 MB, at the read's peak). Small enough (about 0.2 MB) that each piece's bytes reuse the memory the
#: last one freed: pieces of 8,192 were each given fresh pages by the kernel and handed back, 70 MB of
#: page faults at 100k commits (0.1 s of system time); the files grow by 1-3% (more pieces, each naming
#: its shared strings once).
PIECE = 512


class CommitStore:
    """Commit id -> :data:`CommitEntry`, loaded once, saved when new commits were read.

    The file holds a run of marshalled dictionaries of up to :data:`PIECE` entries each, each after
    its length (8 bytes, little-endian).
    """

    def __init__(self, common_dir: Path) -> None:
        self.path = cache_dir(common_dir) / f"commits.v{FORMAT}"
        self.on = enabled()
        self.entries: dict[str, CommitEntry] = (self._load() if self.on else None) or {}
        self.added = 0

    def _load(self) -> dict[str, CommitEntry] | None:
        payload = _read_checked(self.path)
        if payload is None:
            return None
        entries: dict[str, CommitEntry] = {}
        # Each piece: its length, then its marshalled bytes, read with marshal.loads from a view of
        # the payload (marshal.load from a file object reads in small steps, several times slower).
        view = memoryview(payload)
        position = 0
        try:
            while position < len(view):
                (length,) = _PIECE_LENGTH.unpack_from(view, position)
                position += _PIECE_LENGTH.size
                piece = marshal.loads(view[position : position + length])
                position += length
                if not isinstance(piece, dict):
                    return None
                entries.update(piece)
        except (EOFError, ValueError, TypeError, struct.error):
            return None
        return entries

    def get(self, sha: str) -> CommitEntry | None:
        return self.entries.get(sha)

    def put(self, sha: str, entry: CommitEntry) -> None:
        self.entries[sha] = entry
        self.added += 1

    def put_all(self, entries: dict[str, CommitEntry]) -> None:
        """:meth:`put` each of ``entries``; taken as they are when nothing is held yet (a first read)."""
        if self.entries:
            self.entries.update(entries)
        else:
            self.entries = entries
        self.added += len(entries)

    def save(self, live: Collection[str] | None = None) -> None:
        """Write the entries back if any were added; keep only ``live`` ones once the dead outnumber them."""
        if not self.on or not self.added:
            return
        entries = self.entries
        if live is not None and len(entries) > 2 * len(live):
            entries = {sha: entry for sha, entry in entries.items() if sha in live}
        _write_atomic(self.path, _pieces(entries), behind=True)
        self.added = 0


def _pieces(entries: dict[str, CommitEntry]) -> Iterator[bytes]:
    """The commit cache's payload in pieces of up to :data:`PIECE` entries, each after its length."""
    piece: dict[str, CommitEntry] = {}
    for sha, entry in entries.items():
        piece[sha] = entry
        if len(piece) == PIECE:
            yield from _framed(marshal.dumps(piece))
            piece = {}
    if piece or not entries:
        yield from _framed(marshal.dumps(piece))


def _framed(data: bytes) -> tuple[bytes, bytes]:
    return _PIECE_LENGTH.pack(len(data)), data


_PIECE_LENGTH = struct.Struct("<Q")


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
        _write_atomic(cache_dir(common_dir) / f"notes.v{FORMAT}", [marshal.dumps((tip, notes))])


def load_lookup(common_dir: Path) -> Any:
    """The last answer of the committed ``.gittree.yaml`` look-up, as :func:`save_lookup` stored it (plain
    values; ``gitio.CommittedFile.from_tuple`` checks them), or None."""
    return _load_marshal(cache_dir(common_dir) / f"config-lookup.v{FORMAT}") if enabled() else None


def save_lookup(common_dir: Path, answer: tuple[Any, ...]) -> None:
    if enabled():
        _write_atomic(cache_dir(common_dir) / f"config-lookup.v{FORMAT}", [marshal.dumps(answer)])


def view_key(*parts: Any) -> str:
    """A digest of everything a view depends on (marshal-able values: str, int, tuples, None...)."""
    try:  # the built-in BLAKE2: importing hashlib would also load OpenSSL (a few ms of every start-up)
        from _blake2 import blake2b
    except ImportError:  # an interpreter without it
        from hashlib import blake2b

    return blake2b(marshal.dumps((format_tag(), *parts)), digest_size=20).hexdigest()


_CHUNK = 1 << 20


class CachedView:
    """A checked view file: iterate for its bytes, or :meth:`send_to` a file descriptor in the kernel."""

    def __init__(self, handle: BinaryIO, length: int, key: str = "") -> None:
        self.handle = handle
        self.length = length
        self.key = key

    def close(self) -> None:
        self.handle.close()

    def fileno(self) -> int:
        return self.handle.fileno()

    def resolve(self, start: int, end: int) -> list[Part]:
        return [(start, end)]

    def __iter__(self) -> Iterator[bytes]:
        return _chunks(self, [(0, self.length)])

    def read(self, start: int, size: int) -> bytes:
        """``size`` bytes of the view from ``start``."""
        return os.pread(self.handle.fileno(), size, _HEADER.size + start)

    def send_to(self, fd: int) -> bool:
        """Copy the bytes to ``fd`` in the kernel (:func:`_send`); False (nothing written) without ``sendfile``."""
        return _send(fd, self, [(0, self.length)])


def store_view(common_dir: Path, key: str, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass ``chunks`` through, writing them to the cache as they go; stored only once complete."""
    if not enabled():
        yield from chunks
        return
    folder = cache_dir(common_dir) / "views"
    try:
        fd, temporary = _temporary_beside(folder / key)
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
                handle.write(_HEADER.pack(_MAGIC, format_tag(), length, crc))
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


#: A part of a patched view: bytes of its own, or (start, end) of its base view's bytes.
if TYPE_CHECKING:
    Part: TypeAlias = bytes | tuple[int, int]

_DELTA_MAGIC = b"gittree-delta\n"


def open_view(common_dir: Path, key: str) -> CachedView | PatchedView | None:
    """The cached view, or None when it is not cached (or its file, or its base's, is damaged).

    A view is a whole file (:class:`CachedView`) or a patch of another one (:class:`PatchedView`).
    The whole file is checked before the first byte is handed out, through the one open file, so
    a concurrent rewrite (a new inode moved into place) cannot mix two versions.
    """
    if not enabled():
        return None
    folder = cache_dir(common_dir) / "views"
    try:
        with open(folder / key, "rb") as handle:
            head = handle.read(len(_DELTA_MAGIC))
    except OSError:
        return None
    if head != _DELTA_MAGIC:
        return _open_whole(folder / key)
    loaded = _load_marshal(folder / key, _DELTA_MAGIC)
    if not isinstance(loaded, tuple) or len(loaded) != 2:
        return None
    base_key, parts = loaded
    base = _open_whole(folder / base_key)
    if base is None:
        return None
    view = PatchedView(base_key, base, parts)
    if any(isinstance(part, tuple) and not 0 <= part[0] <= part[1] <= base.length for part in parts):
        view.close()
        return None
    return view


def _open_whole(path: Path) -> CachedView | None:
    """The whole view at ``path``, checked (length and CRC-32) through the one open file; None if damaged."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - the view owns it
    except OSError:
        return None
    try:
        header = handle.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise ValueError("truncated")
        magic, version, length, crc = _HEADER.unpack(header)
        if magic != _MAGIC or version != format_tag():
            raise ValueError("not a view")
        # One reused buffer: a fresh 80 MB one would cost more in page faults than the check itself.
        buffer = bytearray(_CHUNK)
        window = memoryview(buffer)
        seen, running = 0, 0
        while count := handle.readinto(buffer):
            seen += count
            running = zlib.crc32(window[:count], running)
        if seen != length or running != crc:
            raise ValueError("damaged")
    except (OSError, ValueError, struct.error):
        handle.close()
        return None
    return CachedView(handle, length, path.name)


class PatchedView:
    """A view stored as a patch of a whole one (:func:`store_patched_view`): its own bytes and ranges of
    the base's. Read like a :class:`CachedView`."""

    def __init__(self, base_key: str, base: CachedView, parts: list[Part]) -> None:
        self.base_key = base_key
        self.base = base
        self.parts = parts
        self.length = sum(len(part) if isinstance(part, bytes) else part[1] - part[0] for part in parts)

    def close(self) -> None:
        self.base.close()

    def __iter__(self) -> Iterator[bytes]:
        return _chunks(self.base, self.parts)

    def read(self, start: int, size: int) -> bytes:
        """``size`` bytes of the view from ``start``."""
        return b"".join(
            part if isinstance(part, bytes) else self.base.read(part[0], part[1] - part[0])
            for part in self.resolve(start, start + size)
        )

    def resolve(self, start: int, end: int) -> list[Part]:
        """The bytes ``start``..``end`` of this view as parts of the base."""
        found: list[Part] = []
        at = 0
        for part in self.parts:
            size = len(part) if isinstance(part, bytes) else part[1] - part[0]
            low, high = max(start, at), min(end, at + size)
            if low < high:
                if isinstance(part, bytes):
                    found.append(part[low - at : high - at])
                else:
                    found.append((part[0] + low - at, part[0] + high - at))
            at += size
            if at >= end:
                break
        return found

    def send_to(self, fd: int) -> bool:
        """Copy the bytes to ``fd``, the base's ranges in the kernel (:func:`_send`)."""
        return _send(fd, self.base, self.parts)


def _chunks(base: CachedView, parts: list[Part]) -> Iterator[bytes]:
    """The bytes of ``parts`` (own bytes, ranges of the checked whole view ``base``); ``base`` closed after."""
    try:
        for part in parts:
            if isinstance(part, bytes):
                yield part
                continue
            start, end = part
            while start < end:
                chunk = base.read(start, min(_CHUNK, end - start))
                if not chunk:
                    raise OSError("the cached view file shrank while it was being read")
                start += len(chunk)
                yield chunk
    finally:
        base.close()


def _send(fd: int, base: CachedView, parts: list[Part]) -> bool:
    """Write ``parts`` to ``fd``, the ranges of ``base`` with ``sendfile`` (no trip through Python) where the
    kernel takes it (not, for one, to a file opened for appending: then by plain writes from where it
    stopped); ``base`` closed after. False (nothing written) where there is no ``sendfile``."""
    sendfile = getattr(os, "sendfile", None)  # not on Windows
    if sendfile is None:
        return False
    source = base.fileno()
    for part in parts:
        if isinstance(part, bytes):
            _write_all(fd, part)
            continue
        start, end = part
        while start < end:
            if sendfile is not None:
                try:
                    count = sendfile(fd, source, _HEADER.size + start, end - start)
                except OSError:
                    sendfile = None  # refused here: a real write error shows again below
                    continue
                if count == 0:
                    raise OSError("the cached view file shrank while it was being copied")
            else:
                chunk = base.read(start, min(_CHUNK, end - start))
                if not chunk:
                    raise OSError("the cached view file shrank while it was being copied")
                _write_all(fd, chunk)
                count = len(chunk)
            start += count
    base.close()
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def store_patched_view(
    common_dir: Path, key: str, old: CachedView | PatchedView, parts: Iterable[Part]
) -> PatchedView | None:
    """Store under ``key`` the view made of ``parts``: new bytes, and ranges of the view ``old``. It is
    stored as a patch of ``old``'s whole view (the copy of tens of megabytes a new experiment would
    otherwise cost); once the patches hold more than :data:`MAX_PATCHED` bytes of their own, or
    :data:`MAX_PARTS` parts, None: the caller renders the view whole again."""
    if not enabled():
        return None
    base = old.base if isinstance(old, PatchedView) else old
    base_key = old.base_key if isinstance(old, PatchedView) else old.key
    resolved: list[Part] = []
    for part in parts:
        for piece in old.resolve(*part) if isinstance(part, tuple) else (part,):
            last = resolved[-1] if resolved else None
            if isinstance(piece, bytes) and isinstance(last, bytes):
                resolved[-1] = last + piece
            elif isinstance(piece, tuple) and isinstance(last, tuple) and last[1] == piece[0]:
                resolved[-1] = (last[0], piece[1])
            elif not isinstance(piece, bytes) or piece:
                resolved.append(piece)
    own = sum(len(part) for part in resolved if isinstance(part, bytes))
    if own > MAX_PATCHED or len(resolved) > MAX_PARTS:
        return None
    folder = cache_dir(common_dir) / "views"
    with contextlib.suppress(OSError):
        os.utime(folder / base_key)  # the base stays among the views pruning keeps
    _write_atomic(folder / key, [marshal.dumps((base_key, resolved))], _DELTA_MAGIC)
    _prune(folder, MAX_VIEWS, smaller_than=MAX_PATCHED + (1 << 20))
    return PatchedView(base_key, base, resolved)  # the same open, checked base


#: A patched view holds at most this many bytes of its own (new lines, changed marks) ...
MAX_PATCHED = 8 << 20
#: ... and this many parts; past either, the view is rendered whole again.
MAX_PARTS = 20_000


def _prune(folder: Path, keep: int, *, smaller_than: int | None = None) -> None:
    """Keep the ``keep`` most recently written views (``smaller_than``: only smaller files are removed;
    a patched view leaves a big whole one to the next whole render, since unlinking 80 MB takes
    ext4 some 20 ms).

    Another gittree may be writing or pruning this folder at the same moment: its temporary files are
    left alone, and a file that vanishes between the listing and its ``stat`` is simply skipped.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    written: list[tuple[float, int, str]] = []
    for entry in entries:
        if entry.name.endswith(".tmp"):
            continue
        try:
            if entry.is_file():
                info = entry.stat()
                written.append((info.st_mtime, info.st_size, entry.path))
        except OSError:  # moved into place or pruned by another process since the listing
            continue
    written.sort(reverse=True)
    for _, size, path in written[keep:]:
        if smaller_than is None or size < smaller_than:
            with contextlib.suppress(OSError):
                os.unlink(path)


#: A seed's delta is folded into a new base once it holds more nodes than this, or than an eighth of
#: the base: loading stays one big read and one small one, and a new experiment writes a few kilobytes.
DELTA_NODES = 4096


class SeedStore:
    """The state a view's tree was built from, for the next view to grow it (``seed-<scope>.*``).

    Two files: a **base** (``(id, meta)`` then the node rows in pieces of :data:`PIECE`) written by a
    whole build, and a **delta** (``(base id, meta, rows)``) rewritten after each growth with every row
    added or changed since the base. The delta counts only with the base whose id it names, and its
    meta (tips, HEAD, notes...) then replaces the base's; a later row of a sha replaces the earlier one.
    Each file is whole or ignored (:func:`_write_atomic`), so two processes writing at once leave
    either's state, each consistent.
    """

    def __init__(self, common_dir: Path, scope: str) -> None:
        folder = cache_dir(common_dir)
        self.base_path = folder / f"seed-{scope}.base"
        self.delta_path = folder / f"seed-{scope}.delta"
        self.base_id: bytes | None = None
        self.base_size = 0
        #: rows since the base, by sha
        self.delta: dict[str, tuple[Any, ...]] = {}

    def exists(self) -> bool:
        """Whether a seed may be stored (without reading it)."""
        return enabled() and self.base_path.exists()

    def load(self) -> tuple[dict[str, Any], list[tuple[Any, ...]]] | None:
        """(meta, rows) of the stored seed, or None when there is none (or it is damaged, or off)."""
        if not enabled():
            return None
        payload = _read_checked(self.base_path)
        if payload is None:
            return None
        view = memoryview(payload)
        position = 0
        rows: list[tuple[Any, ...]] = []
        try:
            (length,) = _PIECE_LENGTH.unpack_from(view, position)
            position += _PIECE_LENGTH.size
            base_id, meta = marshal.loads(view[position : position + length])
            position += length
            while position < len(view):
                (length,) = _PIECE_LENGTH.unpack_from(view, position)
                position += _PIECE_LENGTH.size
                rows += marshal.loads(view[position : position + length])
                position += length
        except (EOFError, ValueError, TypeError, struct.error):
            return None
        self.base_id, self.base_size = base_id, len(rows)
        delta = _load_marshal(self.delta_path)
        if isinstance(delta, tuple) and len(delta) == 3 and delta[0] == base_id:
            meta = delta[1]
            self.delta = {row[0]: row for row in delta[2]}
            rows += delta[2]
        return meta, rows

    def save_base(self, meta: dict[str, Any], rows: Iterable[tuple[Any, ...]]) -> None:
        """Write a new base of ``rows`` (made as they are written: a piece at a time is held as bytes)."""
        if not enabled():
            return
        base_id = os.urandom(8)
        count = 0

        def pieces() -> Iterator[bytes]:
            nonlocal count
            yield from _framed(marshal.dumps((base_id, meta)))
            piece: list[tuple[Any, ...]] = []
            for row in rows:
                piece.append(row)
                if len(piece) == PIECE:
                    yield from _framed(marshal.dumps(piece))
                    count += len(piece)
                    piece = []
            if piece:
                yield from _framed(marshal.dumps(piece))
                count += len(piece)

        _write_atomic(self.base_path, pieces(), behind=True)
        self.base_id, self.base_size, self.delta = base_id, count, {}
        with contextlib.suppress(OSError):
            os.unlink(self.delta_path)

    def save_grown(self, meta: dict[str, Any], changed: list[tuple[Any, ...]], every: Any) -> None:
        """Record a growth: ``changed`` rows (new or changed nodes) and the new ``meta``.

        ``every``: a callable giving all rows, parents first, used when the delta has grown big
        enough to be folded into a new base.
        """
        if not enabled() or self.base_id is None:
            return
        for row in changed:
            self.delta[row[0]] = row
        if len(self.delta) > max(DELTA_NODES, self.base_size // 8):
            self.save_base(meta, every())
            return
        _write_atomic(self.delta_path, [marshal.dumps((self.base_id, meta, list(self.delta.values())))])
