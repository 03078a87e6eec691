"""Remotes: fetch and push for ``gittree sync`` (docs/teams.md), reading git's own words about them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gittree.errors import RemoteError
from gittree.gitio.repo import Repo
from gittree.gitio.runner import git_says, run

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from gittree.model import FetchResult, PushedRef, PushResult, RefUpdate


#: Only the refspecs asked for: no tags (sync does not share them; git would otherwise follow the tags
#: of every fetched commit), no submodules (their remotes are not this one), no FETCH_HEAD (parallel
#: syncs in one clone would fight over it).
_FETCH_OPTIONS = ("--prune", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--quiet")


#: A ref locked by another process at that moment: worth fetching again. Checked after _NAME_CLASH,
#: because git also says "cannot lock ref" when a name clash makes the ref impossible.
_LOCKED = ("cannot lock ref", ".lock': File exists", "Unable to create", "unable to lock")


#: git's words for a ref that cannot exist because another ref's name is a folder of its name, or the
#: other way round (refs/heads/exp and refs/heads/exp/a can never both exist, in any ref backend):
#: refs.c and refs/files-backend.c of git 2.39; GitHub's receive says "directory file conflict".
#: Unlike a lock, waiting never clears it, so it is reported at once and never retried.
_NAME_CLASH = re.compile(
    r"'[^']+' exists; cannot create '[^']+'"
    r"|cannot process '[^']+' and '[^']+' at the same time"
    r"|there is a non-empty directory '[^']+' blocking reference '[^']+'"
    r"|unable to create lock file .+; non-directory in the way"
    r"|directory file conflict"
)


_CLASHING = re.compile(r"'([^']+)' exists; cannot create '([^']+)'")


def fetch(repo: Repo, remote: str, refspecs: Sequence[str]) -> FetchResult:
    """``git fetch --prune REMOTE REFSPECS``; an exact ref the remote lacks is dropped, not an error.

    git refuses the whole fetch when a refspec without ``*`` names a ref the remote does not have
    ("couldn't find remote ref"); such refs are dropped one by one and reported in ``missing``.
    A ref locked by another process is reported in ``busy`` (fetch again). Raises :class:`RemoteError`
    when the remote cannot be reached or read, or when a fetched ref clashes by name with a local one
    (``refs/remotes/origin/exp`` left from a branch the remote renamed to ``exp/a``).
    """
    from gittree.model import FetchResult

    specs = list(refspecs)
    missing: list[str] = []
    while specs:
        fetched = run(["fetch", *_FETCH_OPTIONS, remote, *specs], cwd=repo.cwd)
        err = fetched.err_text
        if fetched.code == 0:
            return FetchResult(missing=tuple(missing))
        absent = _missing_remote_ref(err)
        if absent is not None and any(_refspec_source(spec) == absent for spec in specs):
            missing.append(absent)
            specs = [spec for spec in specs if _refspec_source(spec) != absent]
            continue
        clash = name_clash(err)
        if clash is not None:
            raise RemoteError(f"cannot fetch from '{remote}': {clash}", hint=_fetch_clash_hint(remote, clash))
        if any(marker in err for marker in _LOCKED):
            return FetchResult(missing=tuple(missing), busy=err.strip())
        raise RemoteError(
            f"cannot fetch from '{remote}': {git_says(err)}",
            hint="check the remote's address (git remote -v), the network and your access; "
            "nothing local was changed",
            unreachable=True,
        )
    return FetchResult(missing=tuple(missing))


def name_clash(text: str, ref: str | None = None) -> str | None:
    """git's line saying a ref cannot be written because of another ref's name, or None.

    With ``ref``, only a line that names that ref (quoted, as git does) counts.
    """
    for line in text.splitlines():
        if _NAME_CLASH.search(line) and (ref is None or f"'{ref}'" in line):
            return line.strip().removeprefix("error: ").removeprefix("fatal: ")
    return None


def _clashing_names(text: str) -> tuple[str, str] | None:
    """(the ref that exists, the ref that could not be created) from git's "'X' exists; cannot create 'Y'"."""
    found = _CLASHING.search(text)
    return (found.group(1), found.group(2)) if found else None


def _fetch_clash_hint(remote: str, clash: str) -> str:
    names = _clashing_names(clash)
    tracking = f"refs/remotes/{remote}/"
    if names is not None and names[0].startswith(tracking):
        # The fetched ref exists on the remote, so the one in its way cannot: no remote holds a branch
        # that is also a folder of branches. sync prunes only its own patterns (exp/*, which does not
        # cover exp itself), so this copy outlived its branch.
        stale = names[0][len("refs/remotes/") :]
        return (
            f"{stale} is a leftover copy of a branch '{remote}' no longer has: delete it with "
            f"git branch -d -r {stale} (git fetch --prune {remote} deletes every such leftover), "
            "then run gittree sync again"
        )
    return (
        "a ref cannot also be a folder of other refs (like exp and exp/a): rename or delete one of the "
        "two, then run gittree sync again"
    )


def _missing_remote_ref(err: str) -> str | None:
    marker = "couldn't find remote ref "
    for line in err.splitlines():
        if marker in line:
            return line.split(marker, 1)[1].strip()
    return None


def _refspec_source(spec: str) -> str:
    return spec.lstrip("+").split(":", 1)[0]


def push(repo: Repo, remote: str, updates: Sequence[RefUpdate]) -> PushResult:
    """``git push --porcelain`` of exact objects with a lease on each ref (a compare-and-swap on the remote).

    Each update is ``SHA:REF`` with ``--force-with-lease=REF:EXPECTED``: the remote takes it only if
    the ref is still where gittree last saw it, so a concurrent push is never overwritten. The user's
    pre-push hook runs. Rejected refs are reported, not raised; :class:`RemoteError` when the remote
    cannot be reached or the push failed as a whole.
    """
    from gittree.model import PushResult

    args = ["push", "--porcelain", "--no-follow-tags", "--recurse-submodules=no"]
    for update in updates:
        args.append(f"--force-with-lease={update.ref}:{update.expected or ''}")
    args.append(remote)
    args += [f"{update.new}:{update.ref}" for update in updates]
    pushed = run(args, cwd=repo.cwd)
    status, err = pushed.code, pushed.err_text
    refs = _parse_porcelain(pushed.text)
    messages = tuple(
        line[len("remote:") :].strip()
        for line in err.splitlines()
        if line.startswith("remote:") and line[7:].strip()
    )
    if status != 0 and not refs:
        raise RemoteError(
            f"cannot push to '{remote}': {git_says(err)}",
            hint="check the remote's address (git remote -v), the network, your access and any pre-push hook; "
            "your local work is intact",
            unreachable=True,
        )
    return PushResult(refs=refs, remote_messages=messages)


def remote_ref_names(repo: Repo, remote: str) -> list[str]:
    """The names of the refs the remote has now (``git ls-remote --refs``), to tell a name clash from a race."""
    listed = run(["ls-remote", "--refs", remote], cwd=repo.cwd)
    if listed.code != 0:
        raise RemoteError(
            f"cannot list the refs of '{remote}': {git_says(listed.err_text)}",
            hint="check the remote's address (git remote -v), the network and your access; "
            "your local work is intact",
            unreachable=True,
        )
    return [line.split("\t", 1)[1] for line in listed.text.splitlines() if "\t" in line]


def _parse_porcelain(out: str) -> tuple[PushedRef, ...]:
    """The per-ref lines of ``git push --porcelain``: ``FLAG<TAB>FROM:TO<TAB>SUMMARY``."""
    from gittree.model import PushedRef

    refs = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or len(parts[0]) != 1 or ":" not in parts[1]:
            continue
        flag, spec, summary = parts
        refs.append(PushedRef(ref=spec.rsplit(":", 1)[1], ok=flag != "!", summary=summary.strip()))
    return tuple(refs)
