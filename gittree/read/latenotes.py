"""Late results a remote holds that this clone has not got: the one line every view prints about them.

A plain ``git clone`` fetches branches and tags, never ``refs/notes/*``, so a teammate's clone shows
the author's experiments without their late seeds and abandons, and verdicts differ (issue 18). A view
cannot know for sure without asking the remote, and views never touch the network (an offline laptop,
a passphrase prompt, a second of latency on every ``gittree show``). So the rule compares only what
the clone already knows (docs/teams.md, "Late results this clone has not fetched"):

* **never fetched**: the remote has experiment branches here (remote-tracking branches matching
  ``sync.branches``: what ``gittree sync`` publishes), yet no notes were ever fetched from it (no
  ``refs/notes/gittree-remote/REMOTE``), ``gittree sync`` never ran against it, and no fetch refspec of
  it names gittree's notes (``gittree sync --configure``). The remote *may* hold late results;
  ``gittree sync`` fetches and merges them and makes the line go, whether or not there were any.
* **fetched, not merged**: ``refs/notes/gittree-remote/REMOTE`` (a plain ``git fetch`` after
  ``--configure``) holds notes that ``refs/notes/gittree``, the notes views read, does not contain.

The core never prints: the line is a :class:`LateResultsNotice`, a :class:`~gittree.errors.Notice`
warning, which the command line prints once on stderr (:func:`gittree.cli.main`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from gittree import gitio
from gittree.errors import Notice

REMOTES_PREFIX = "refs/remotes/"
#: Remotes ``gittree sync`` has fetched from, one name a line, in ``$GIT_COMMON_DIR/gittree/``.
SYNCED_FILE = "synced-remotes"


class LateResultsNotice(Notice):
    """A remote may hold late results this clone does not show (one line, printed by the command line)."""


def warn_if_missing(repo: gitio.Repo, refs: gitio.RefState, patterns: Callable[[], Sequence[str]]) -> None:
    """Emit a :class:`LateResultsNotice` when a remote's late results are missing here (module docstring).

    ``patterns``: the ``sync.branches`` patterns, asked only when a remote might need them (reading
    ``.gittree.yaml`` costs more than every other step here).
    """
    notice = missing_notes_notice(repo, refs, patterns)
    if notice is not None:
        warnings.warn(LateResultsNotice(notice), stacklevel=2)


def missing_notes_notice(
    repo: gitio.Repo, refs: gitio.RefState, patterns: Callable[[], Sequence[str]]
) -> str | None:
    """The notice's text, or None; no network, and no git call unless a remote is suspect."""
    tracking = _tracking_branches(refs)
    if not tracking:
        return None
    from gittree.sync import branch_matches, notes_tracking_ref  # only with a remote: sync costs its import

    local = refs.target(gitio.NOTES_REF)
    unmerged = [
        remote
        for remote in tracking
        if (theirs := refs.target(notes_tracking_ref(remote))) is not None
        and theirs != local
        and (local is None or not gitio.is_ancestor(repo, theirs, local))
    ]
    if unmerged:
        names = ", ".join(unmerged)
        return (
            f"late results fetched from {names} (refs/notes/gittree-remote/) are not merged into this "
            "clone's notes, so no view shows them: run `gittree sync`"
        )
    synced = _synced_remotes(repo)
    suspects = [
        remote
        for remote, branches in tracking.items()
        if refs.target(notes_tracking_ref(remote)) is None and remote not in synced
    ]
    if not suspects:
        return None
    wanted = patterns()
    suspects = [
        remote
        for remote in suspects
        if any(branch_matches(branch, pattern) for branch in tracking[remote] for pattern in wanted)
        and not _fetches_notes(repo, remote)
    ]
    if not suspects:
        return None
    names = ", ".join(suspects)
    return (
        f"{names} may hold late results (gittree notes) this clone never fetched: run `gittree sync` "
        f"(or `gittree sync --configure`, whose refspec +refs/notes/*gittree:refs/notes/*gittree-remote/"
        f"{suspects[0]} makes `git fetch` bring them)"
    )


def _tracking_branches(refs: gitio.RefState) -> dict[str, list[str]]:
    """Remote name -> its remote-tracking branches (``HEAD`` aside). A remote's name is taken as the
    first part of the ref's name: a remote whose name holds ``/`` is not told apart from its branches."""
    found: dict[str, list[str]] = {}
    for ref, _ in refs.refs:
        if ref.startswith(REMOTES_PREFIX) and not ref.endswith("^{}"):
            remote, _, branch = ref[len(REMOTES_PREFIX) :].partition("/")
            if branch and branch != "HEAD":
                found.setdefault(remote, []).append(branch)
    return found


def _fetches_notes(repo: gitio.Repo, remote: str) -> bool:
    """Whether a fetch refspec of ``remote`` brings gittree's notes (``--configure``'s, or one by hand)."""
    from fnmatch import fnmatchcase

    for spec in gitio.config_all(repo, f"remote.{remote}.fetch"):
        source = spec.lstrip("+").partition(":")[0]
        if fnmatchcase(gitio.NOTES_REF, source):
            return True
    return False


def _synced_file(repo: gitio.Repo) -> Path:
    return repo.shared_dir / "gittree" / SYNCED_FILE


def _synced_remotes(repo: gitio.Repo) -> set[str]:
    try:
        return set(_synced_file(repo).read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return set()


def remember_synced(repo: gitio.Repo, remote: str) -> None:
    """Note that ``gittree sync`` fetched from ``remote``: what it had is here, notes or none."""
    if remote in _synced_remotes(repo):
        return
    path = _synced_file(repo)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One short line appended: concurrent syncs cannot tear it (O_APPEND writes land whole).
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(descriptor, f"{remote}\n".encode())
        finally:
            os.close(descriptor)
    except OSError:  # only a notice depends on it: the next sync tries again
        return
