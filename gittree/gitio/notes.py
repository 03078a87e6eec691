"""gittree's notes (``refs/notes/gittree``): reading them, and appending to them by compare-and-swap."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from gittree.errors import GitCommandError
from gittree.gitio.objects import tree_of_commit
from gittree.gitio.plumbing import commit_tree, write_blobs
from gittree.gitio.refs import (
    CURVES_REF,
    NOTES_REF,
    NOTES_REWRITE_PATTERN,
    ZERO_SHA,
    ref_object,
    ref_target,
    update_ref,
)
from gittree.gitio.repo import Repo
from gittree.gitio.runner import git_says, run
from gittree.rawcommit import decode_message

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any

    from gittree.model import NoteEntry


def read_notes(repo: Repo, ref: str = NOTES_REF) -> dict[str, str]:
    """Annotated commit sha -> note text, for every note under ``ref`` (empty when the ref is absent).

    Read from the notes commit's tree, as git reads notes (libgit2's notes iterator parses the notes
    commit first, and refuses one git reads: an author without an email), and by git itself: one
    ``ls-tree`` and one ``cat-file --batch`` of the notes' blobs. Every view's first read asks for the
    notes, and importing libgit2 for it alone cost about 65 ms, a fifth of a cold 10k-commit view.
    The notes are taken in the order :func:`_notes_in` walks the tree, so of two entries naming the
    same commit (flat and under a fan-out folder) the same one wins.
    """
    return notes_at(repo, ref_target(repo, ref), ref)


def notes_at(repo: Repo, commit: str | None, ref: str = NOTES_REF) -> dict[str, str]:
    """:func:`read_notes` of the notes commit ``commit`` (None: no notes), which ``ref`` pointed at."""
    if commit is None:
        return {}
    listed = run(["ls-tree", "-r", "-t", "-z", "--full-tree", commit], cwd=repo.git_dir)
    if listed.code != 0:
        raise GitCommandError(
            f"cannot read the notes under {ref}: {git_says(listed.err_text)}", hint="run `git fsck`"
        )
    entries: dict[str, list[tuple[str, bytes, str]]] = {}  # folder -> its (name, type, id), in tree order
    for record in listed.out.split(b"\0"):
        if record:
            info, _, raw_path = record.partition(b"\t")
            _, kind, raw_oid = info.split(b" ")
            folder, _, name = raw_path.decode("utf-8", "replace").rpartition("/")
            entries.setdefault(folder, []).append((name, kind, raw_oid.decode("ascii")))
    blobs: dict[str, str] = {}  # note key -> blob id, walked as _notes_in walks (a folder after its blobs)
    stack = [""]
    while stack:
        folder = stack.pop()
        for name, kind, oid in entries.get(folder, ()):
            path = f"{folder}/{name}" if folder else name
            if kind == b"tree":
                stack.append(path)
            elif kind == b"blob":
                key = path.replace("/", "")
                if _NOTE_NAME(key):
                    blobs[key] = oid
    texts = _read_blobs(repo, set(blobs.values()), ref)
    return {key: decode_message(texts[oid], None) for key, oid in blobs.items()}


def _read_blobs(repo: Repo, oids: Iterable[str], ref: str) -> dict[str, bytes]:
    """Blob id -> its bytes, read by one ``git cat-file --batch``."""
    wanted = "".join(oid + "\n" for oid in oids)
    if not wanted:
        return {}
    done = run(["cat-file", "--batch"], cwd=repo.git_dir, input=wanted.encode("ascii"))
    data = done.out
    texts: dict[str, bytes] = {}
    position = 0
    while done.code == 0 and position < len(data):
        eol = data.index(b"\n", position)
        fields = data[position:eol].split(b" ")
        if len(fields) != 3:  # "OID missing"
            break
        end = eol + 1 + int(fields[2])
        texts[fields[0].decode("ascii")] = data[eol + 1 : end]
        position = end + 1
    if done.code != 0 or position < len(data):
        said = (
            git_says(done.err_text) if done.code != 0 else data[position:].decode("utf-8", "replace").strip()
        )
        raise GitCommandError(f"cannot read the notes under {ref}: {said}", hint="run `git fsck`")
    return texts


def notes_changed(repo: Repo, old: str | None, new: str | None) -> set[str]:
    """The commits whose note differs between notes commits ``old`` and ``new`` (None: no notes).

    git compares the two notes trees (``git diff-tree -r``), so unchanged notes are never read; a note
    stored under fan-out folders (``ab/cdef...``) is named by its commit's id all the same.
    """
    if old == new:
        return set()
    if old is None or new is None:
        return set(_noted_ids(repo, old if new is None else new))
    done = run(["diff-tree", "-r", "--no-commit-id", "--name-only", "-z", old, new], cwd=repo.git_dir)
    if done.code != 0:
        raise GitCommandError(
            f"cannot compare two notes commits: {done.err_text.strip()}", hint="run `git fsck`"
        )
    names = (path.decode("utf-8", "replace").replace("/", "") for path in done.out.split(b"\0") if path)
    return {name for name in names if len(name) in (40, 64)}


def _noted_ids(repo: Repo, commit: str | None) -> list[str]:
    """The annotated ids of every note in the tree of notes commit ``commit``."""
    return [sha for sha, _, _ in _notes_in(repo, commit)]


def note_of(repo: Repo, sha: str, ref: str = NOTES_REF) -> str | None:
    """The note on ``sha`` alone, looked up by path (:func:`read_notes` would read every note)."""
    return notes_for(repo, [sha], ref)[sha]


def notes_for(repo: Repo, shas: Iterable[str], ref: str = NOTES_REF) -> dict[str, str | None]:
    """The note on each of ``shas`` (None: none), looked up by path as :func:`_note_at` does (flat, or
    under git's fan-out folders; the shallowest blob wins) in one ``git cat-file --batch``, without
    listing the other notes. Asked of git, not libgit2: a run reads the note of the experiment it may
    add a sample to, and importing pygit2 was a third of a run's CPU time (issue 19)."""
    wanted = list(dict.fromkeys(shas))
    found = _notes_by_path(repo, ref_object(repo, ref), wanted)
    notes: dict[str, str | None] = {}
    for sha in wanted:
        note = found[sha]
        notes[sha] = None if note is None else decode_message(note[1], None)
    return notes


def _notes_by_path(repo: Repo, tip: str | None, shas: Sequence[str]) -> dict[str, tuple[str, bytes] | None]:
    """Where notes commit ``tip`` holds the note on each of ``shas``, with its bytes (None: no note), as
    :func:`_note_at` finds it (the shallowest blob wins), in one ``git cat-file --batch``."""
    from gittree.gitio.objects import read_objects

    if tip is None:
        return dict.fromkeys(shas)
    return notes_in_found(read_objects(repo, note_lookups(tip, shas)), tip, shas)


def note_lookups(tip: str, shas: Iterable[str]) -> list[str]:
    """What to ask :func:`~gittree.gitio.objects.read_objects` for the notes on ``shas`` in notes commit
    ``tip`` (every place a note may be): asked with other objects, they cost no git process of their own."""
    return [f"{tip}:{path}" for sha in shas for path in _note_paths(sha)]


def notes_in_found(
    found: Mapping[str, tuple[str, str, bytes] | None], tip: str, shas: Iterable[str]
) -> dict[str, tuple[str, bytes] | None]:
    """The note on each of ``shas`` (its path and bytes; None: no note) among what ``read_objects`` found
    for :func:`note_lookups`: the shallowest blob wins, as :func:`_note_at` finds it."""
    notes: dict[str, tuple[str, bytes] | None] = {}
    for sha in shas:
        notes[sha] = None
        for path in _note_paths(sha):
            item = found[f"{tip}:{path}"]
            if item is not None and item[1] == "blob":
                notes[sha] = (path, item[2])
                break
    return notes


def _note_paths(sha: str) -> list[str]:
    """Where a notes tree may hold the note on ``sha``: flat, then one more fan-out level at a time."""
    return [
        "/".join([sha[2 * i : 2 * i + 2] for i in range(depth)] + [sha[2 * depth :]])
        for depth in range(len(sha) // 2)
    ]


def notes_of_commit(repo: Repo, commit: str | None) -> dict[str, NoteEntry]:
    """Annotated object id -> note entry, for every note in the tree of a notes commit (fan-out included)."""
    from gittree.model import NoteEntry

    return {key: NoteEntry(path=path, blob=str(blob.id)) for key, path, blob in _notes_in(repo, commit)}


def _notes_in(repo: Repo, commit: str | None) -> Iterator[tuple[str, str, Any]]:
    """(annotated object id, path, blob) of every note in the tree of a notes commit (None: no notes)."""
    if commit is None:
        return
    stack: list[tuple[str, Any]] = [("", tree_of_commit(repo, commit))]
    while stack:
        prefix, tree = stack.pop()
        for entry in tree:
            path = prefix + str(entry.name)
            kind = entry.type_str
            if kind == "tree":
                stack.append((path + "/", entry))
            elif kind == "blob":
                key = path.replace("/", "")
                # git names a note by its object id, split into fan-out folders; anything else is not a note.
                if _NOTE_NAME(key):
                    yield key, path, entry


_NOTE_NAME = re.compile("[0-9a-f]{40}|[0-9a-f]{64}").fullmatch


def _note_at(tree: Any, sha: str) -> NoteEntry | None:
    """The note on ``sha`` in the tree of a notes commit (None: no notes yet), looked up by path: flat,
    or under git's fan-out folders (two hex digits per level), without listing the other notes."""
    from gittree.model import NoteEntry

    if tree is None:
        return None
    for path in _note_paths(sha):
        try:
            entry = tree[path]
        except KeyError:
            continue
        if entry.type_str == "blob":
            return NoteEntry(path=path, blob=str(entry.id))
    return None


def append_note(repo: Repo, sha: str, lines: Sequence[str], ref: str = NOTES_REF) -> None:
    """Append trailer lines to the gittree note of ``sha``: a new paragraph, as ``git notes append`` adds."""
    append_notes(repo, [(sha, lines)], ref)


def append_notes(repo: Repo, paragraphs: Sequence[tuple[str, Sequence[str]]], ref: str = NOTES_REF) -> None:
    """Append each (commit sha, trailer lines) as a new paragraph of that commit's note, in order, in one
    notes commit: all of them land, or none.

    ``git notes append`` moves the notes ref without checking where it was, so of two processes
    appending at once (the seeds of a sweep recording on one commit) only the last one's note is kept,
    and neither is told. Here the notes commit is built from the ref's current tip and the ref is moved
    by compare-and-swap; a writer that lost the race builds again on the winner's commit.
    """
    import random
    import time

    added: dict[str, list[bytes]] = {}
    for sha, lines in paragraphs:
        added.setdefault(sha, []).append(("\n".join(lines) + "\n").encode("utf-8"))
    if not added:
        return
    for attempt in range(_NOTE_ATTEMPTS):
        # git, not libgit2: a run adding a sample writes here, and must not pay pygit2's import (issue 19)
        tip = ref_object(repo, ref)
        notes = _notes_by_path(repo, tip, list(added))
        paths: list[str] = []
        texts: list[bytes] = []
        for sha, new in added.items():
            found = notes[sha]
            before = found[1].rstrip(b"\n") if found is not None else b""
            paths.append(found[0] if found is not None else sha)
            texts.append(b"\n\n".join([before, *new] if before else new))
        commit = write_notes_commit(
            repo,
            start=tip,
            parents=[tip] if tip is not None else [],
            updates=dict(zip(paths, write_blobs(repo, texts), strict=True)),
            message="Notes added by gittree",
        )
        if update_ref(repo, ref, commit, tip, reason="gittree: notes"):
            if ref == NOTES_REF:  # every writer of a late result: they survive amend and rebase (issue 18)
                keep_notes_through_rewrites(repo, notes_exist=True)  # just moved: it exists
            elif ref == CURVES_REF:
                keep_curves_through_rewrites(repo)
            return
        time.sleep(random.uniform(0.0, 0.01 * (attempt + 1)))  # spread the writers that lost
    raise GitCommandError(
        f"cannot add the notes: {ref} kept changing under {_NOTE_ATTEMPTS} attempts",
        hint="run the command again; nothing was written",
    )


#: Compare-and-swap attempts before giving up; each lost race means another note did land.
_NOTE_ATTEMPTS = 50


def write_notes_commit(
    repo: Repo, *, start: str | None, parents: Sequence[str], updates: dict[str, str | None], message: str
) -> str:
    """A notes commit: the tree of ``start`` (None: an empty tree) with ``updates`` (path -> blob id, or
    None to remove) applied.

    Built with git's plumbing in a temporary index (``read-tree``, ``update-index``, ``write-tree``,
    ``commit-tree``), so nothing in the user's index, working tree or merge state is touched and two
    processes can do it at once. Like ``git notes``, the commit is never signed.
    """
    import threading
    import time

    # In the git folder, as git keeps its own temporary indexes (``next-index-*``), named for this
    # process and thread: ``tempfile`` loads ``shutil`` and ``random``, milliseconds of a run adding a
    # sample (issue 19). git wants to create the index itself.
    index = str(
        repo.git_dir / f"gittree-notes-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}.index"
    )
    env = {"GIT_INDEX_FILE": index}
    try:
        start_tree = [f"{start}^{{tree}}"] if start is not None else ["--empty"]
        run(["read-tree", *start_tree], cwd=repo.cwd, env=env, check=True)
        lines = [
            f"100644 {blob}\t{path}" if blob is not None else f"0 {ZERO_SHA}\t{path}"
            for path, blob in sorted(updates.items())
        ]
        if lines:
            run(
                ["update-index", "--index-info"],
                cwd=repo.cwd,
                input="\n".join(lines) + "\n",
                env=env,
                check=True,
            )
        tree = run(["write-tree"], cwd=repo.cwd, env=env, check=True).text.strip()
        return commit_tree(repo, tree, parents, message=message)
    finally:
        if os.path.exists(index):
            os.unlink(index)


#: The settings that carry gittree's notes through ``git commit --amend`` and ``git rebase``
#: (``notes.rewriteRef``) and show them in ``git log`` (``notes.displayRef``): docs/config.md.
_REWRITE_REF_KEY = "notes.rewriteRef"
_DISPLAY_REF_KEY = "notes.displayRef"


def keep_notes_through_rewrites(
    repo: Repo, *, notes_exist: bool | None = None
) -> tuple[tuple[str, str], ...]:
    """Make git carry gittree's notes through amend and rebase, and show them in ``git log``.

    ``notes.rewriteRef`` gets :data:`NOTES_REWRITE_PATTERN` (a pattern that matches ``refs/notes/gittree``
    alone: git warns ``notes ref refs/notes/gittree is invalid`` on every rebase while a plain name
    names a ref that does not exist) unless a value of the repository's own configuration already
    covers the ref (git matches the values as globs: ``refs/notes/*`` does). ``notes.displayRef`` gets
    ``refs/notes/gittree`` only once the notes ref exists: named while it does not, every ``git log``
    warns the same way. Called by ``gittree init`` and by every writer of a note,
    so a late result survives a rewrite without ``gittree init``. Returns the (setting, value) pairs
    added (to the repository's own ``.git/config``). ``notes_exist``: whether the notes ref exists, when
    the caller knows (it just moved it); else git is asked.
    """
    from fnmatch import fnmatchcase

    wanted = [_REWRITE_REF_KEY]
    if notes_exist is None:
        notes_exist = ref_object(repo, NOTES_REF) is not None  # asked of git: every note's writer asks
    if notes_exist:
        wanted.append(_DISPLAY_REF_KEY)
    settings = _local_notes_settings(repo, wanted)
    added = []
    for key in wanted:
        # The repository's own configuration: a global setting does not travel with the repository.
        if not any(fnmatchcase(NOTES_REF, value) for value in settings[key]):
            value = NOTES_REWRITE_PATTERN if key == _REWRITE_REF_KEY else NOTES_REF
            _set_notes_ref_setting(repo, key, value)
            added.append((key, value))
    return tuple(added)


def _local_notes_settings(repo: Repo, keys: Sequence[str]) -> dict[str, list[str]]:
    """Every value of each of ``keys`` (``notes.rewriteRef``, ``notes.displayRef``) in the repository's own
    configuration, as :func:`gittree.gitio.config_all` reads them (a value's lines each a value), asked
    of one ``git config`` instead of one each (every writer of a note asks: issue 19); a ``git config``
    that fails is asked key by key, as before (its error and all)."""
    from gittree.gitio.repo import config_all

    if len(keys) < 2:
        return {key: config_all(repo, key, local=True) for key in keys}
    names = {key.lower(): key for key in keys}
    pattern = "^(" + "|".join(name.replace(".", "\\.") for name in names) + ")$"
    done = run(["config", "--local", "-z", "--get-regexp", pattern], cwd=repo.cwd)
    if done.code not in (0, 1):  # 1: none is set
        return {key: config_all(repo, key, local=True) for key in keys}
    found: dict[str, list[str]] = {key: [] for key in keys}
    for entry in done.text.split("\0"):
        if entry:
            name, _, value = entry.partition("\n")
            found[names[name]] += (value + "\n").splitlines()  # `--get-all` prints each on its lines
    return found


def keep_curves_through_rewrites(repo: Repo) -> bool:
    """Make git carry the curves' notes (``refs/notes/gittree-curves``) through amend and rebase, like the
    results' notes: ``notes.rewriteRef`` gets it unless a value already covers it. Never
    ``notes.displayRef``: ``git log`` shows results, not 400 numbers a metric. Returns whether it was added."""
    from fnmatch import fnmatchcase

    from gittree.gitio.repo import config_all

    if any(fnmatchcase(CURVES_REF, value) for value in config_all(repo, _REWRITE_REF_KEY, local=True)):
        return False
    _set_notes_ref_setting(repo, _REWRITE_REF_KEY, CURVES_REF)
    return True


def _set_notes_ref_setting(repo: Repo, key: str, ref: str = NOTES_REF) -> None:
    """``KEY = REF`` (``refs/notes/gittree``) in ``.git/config``, exactly once even when writers race.

    ``--replace-all`` with the value itself as the pattern leaves one such line however many processes
    (the seeds of a sweep) write it at once: twice listed, git would copy each note twice on a rewrite
    (its concatenating ``notes.rewriteMode``). A writer that finds the file locked tries again.
    """
    import time

    from gittree.gitio.runner import git_says

    args = ["config", "--local", "--fixed-value", "--replace-all", key, ref, ref]
    for attempt in range(_CONFIG_ATTEMPTS):
        found = run(args, cwd=repo.cwd)
        if found.code == 0:
            return
        if "lock" not in found.err_text or attempt == _CONFIG_ATTEMPTS - 1:
            raise GitCommandError(
                f"cannot set {key}: {git_says(found.err_text)}",
                hint=f"set it yourself: git config --local --add {key} {ref}",
            )
        time.sleep(0.01 * (attempt + 1))


_CONFIG_ATTEMPTS = 20
