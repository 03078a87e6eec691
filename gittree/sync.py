"""``gittree sync``: share the research tree through any git remote, losing nothing (docs/teams.md).

What travels: the experiment branches (``sync.branches`` in ``.gittree.yaml``, by default ``exp/*``
and ``sweep/*``), the notes refs ``refs/notes/gittree`` (late results) and ``refs/notes/gittree-curves``
(the runs' curves, docs/format.md) and gittree's own refs ``refs/gittree/*``.

One attempt is: fetch everything into private places (remote-tracking refs, never the local notes
or refs/gittree) -> merge the remote's notes into the local ones (a three-way merge of paragraphs,
:mod:`gittree.notemerge`) -> adopt the remote's new refs/gittree/* -> push what is ahead, each ref
with a lease on the value just fetched. A push that loses a race to another clone is retried with
backoff; a ref that moved on both sides is never forced, only reported; a ref whose name clashes
with another's (``exp`` and ``exp/a``) is reported at once, since no retry can clear it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gittree import gitio
from gittree.config import Config
from gittree.errors import BadValueError, GitCommandError, RemoteError, RevisionNotFoundError
from gittree.model import NoteEntry, PushedRef, RefUpdate
from gittree.notemerge import join_paragraphs, merge_note, union_of_paragraphs
from gittree.read import repo_config
from gittree.read.latenotes import remember_synced

#: Attempts before giving up when other clones keep pushing between our fetch and our push.
MAX_ATTEMPTS = 10
#: First retry delay in seconds; doubled each attempt up to the cap, with jitter so racing clones spread out.
BACKOFF_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 10.0

HEADS = "refs/heads/"
NOTES_PREFIX = "refs/notes/"
NOTES_MERGE_MESSAGE = "Notes merged by 'gittree sync' from {remote}\n"

#: The remote's own failures to write a ref: a lock another push holds (a retry clears it) or a name
#: clash (no retry does); told apart against the remote's refs (_name_clashes).
_REMOTE_FAILURES = (
    "cannot lock",
    "failed to lock",
    "unable to lock",
    "failed to update ref",
    "directory file conflict",
)
#: Push outcomes that mean "someone else got there first": fetch again, merge, retry.
_RETRYABLE = ("fetch first", "non-fast-forward", "stale info", "incorrect old value", *_REMOTE_FAILURES)


#: The notes refs sync shares and merges, paragraph by paragraph: the results, then the curves.
SHARED_NOTES = (gitio.NOTES_REF, gitio.CURVES_REF)


def notes_tracking_ref(remote: str, ref: str = gitio.NOTES_REF) -> str:
    """Where the remote's notes (``ref``) are fetched to: a private ref, never the notes ref itself."""
    return f"{ref}-remote/{remote}"


def gittree_tracking_prefix(remote: str) -> str:
    """Where the remote's ``refs/gittree/*`` are fetched to."""
    return f"{gitio.GITTREE_REMOTE_REF_PREFIX}{remote}/"


def branch_tracking_ref(remote: str, branch: str) -> str:
    return f"refs/remotes/{remote}/{branch}"


def fetch_refspecs(
    remote: str, patterns: Sequence[str], *, gittree_refs: bool = True, plain_git: bool = False
) -> list[str]:
    """The refspecs one sync fetches: all forced, all into places only fetch writes.

    ``plain_git``: the form ``--configure`` writes for plain ``git fetch``, every one a pattern
    (see :func:`push_refspecs`).
    """
    specs = []
    for pattern in patterns:
        source, destination = HEADS + pattern, branch_tracking_ref(remote, pattern)
        if plain_git and "*" not in pattern:
            # Into the remote-tracking branch of the same name, as git's default refspec would.
            source, destination = _glob(source, len(HEADS)), _glob(destination, -len(pattern))
        specs.append(f"+{source}:{destination}")
    for notes in SHARED_NOTES:
        source, destination = notes, notes_tracking_ref(remote, notes)
        if plain_git:
            source, destination = _glob(source, len(NOTES_PREFIX)), _glob(destination, len(NOTES_PREFIX))
        specs.append(f"+{source}:{destination}")
    if gittree_refs:
        specs.append(f"+{gitio.GITTREE_REF_PREFIX}*:{gittree_tracking_prefix(remote)}*")
    return specs


def push_refspecs(patterns: Sequence[str], *, plain_git: bool = False) -> list[str]:
    """What plain ``git push`` carries after ``--configure``: never forced, so it cannot overwrite.

    ``plain_git``: the form ``--configure`` writes, every refspec but ``HEAD`` a pattern. git aborts a
    whole fetch or push when a refspec without ``*`` names a ref the source side lacks ("couldn't find
    remote ref", "src refspec ... does not match any"), and the notes ref is missing until someone
    records a note; a pattern that matches nothing is fine. git allows one ``*`` anywhere in a
    pattern, so each exact name gets one where only odd names could match (docs/teams.md):

    * pushing the notes, ``refs/notes/gittree*`` (gittree's own prefix), minus the private copies of
      other remotes' notes (the negative refspec ``^refs/notes/gittree-remote/*``);
    * fetching them, ``refs/notes/*gittree`` into ``refs/notes/*gittree-remote/REMOTE``: a ``*`` after
      the remote's name would let ``git fetch --prune origin`` delete ``origin2``'s copy;
    * pushing a branch ``NAME``, ``refs/*heads/NAME`` (refs ending in ``heads/NAME``: never
      ``NAME-old`` or ``old/NAME``); fetching it, ``refs/heads/*NAME`` into the remote-tracking
      branch of the same name, as git's own default refspec would.
    """
    # HEAD first: with remote.<name>.push set, plain `git push` pushes only what is listed, so without
    # it the current branch would silently stop being pushed.
    specs = ["HEAD"]
    for pattern in patterns:
        ref = HEADS + pattern
        if plain_git and "*" not in pattern:
            ref = _glob(ref, len("refs/"))
        specs.append(f"{ref}:{ref}")
    if plain_git:
        # refs/notes/gittree* is both notes refs (gittree-curves too), minus each one's private copies.
        notes = _glob(gitio.NOTES_REF, len(gitio.NOTES_REF))
        specs += [f"{notes}:{notes}", *(f"^{notes_tracking_ref('*', ref)}" for ref in SHARED_NOTES)]
    else:
        specs += [f"{ref}:{ref}" for ref in SHARED_NOTES]
    specs.append(f"{gitio.GITTREE_REF_PREFIX}*:{gitio.GITTREE_REF_PREFIX}*")
    if plain_git:
        # Keep commits never fast-forward (each lists what is kept, not what was): plain git would refuse
        # the keep ref whenever both sides kept something, and abort the whole push. Sync merges it.
        specs.append(f"^{gitio.KEEP_REF}")
    return specs


def _glob(ref: str, at: int) -> str:
    """``ref`` as a refspec pattern that matches it: a ``*`` (which may match nothing) inserted at ``at``."""
    return f"{ref[:at]}*{ref[at:]}"


def branch_matches(branch: str, pattern: str) -> bool:
    """git's refspec glob: ``*`` matches any run of characters, ``/`` included."""
    if "*" not in pattern:
        return branch == pattern
    prefix, suffix = pattern.split("*", 1)
    return (
        len(branch) > len(prefix) + len(suffix) - 1 and branch.startswith(prefix) and branch.endswith(suffix)
    )


# -- which remote ----------------------------------------------------------------------------------


def resolve_remote(repo: gitio.Repo, remote: str | None) -> str:
    """The remote named, else the current branch's upstream remote, else ``origin``, else the only one."""
    remotes = gitio.list_remotes(repo)
    if remote is not None:
        if remote not in remotes:
            known = ", ".join(remotes) or "none"
            raise RemoteError(
                f"there is no remote named '{remote}' (remotes: {known})",
                hint=f"add it with: git remote add {remote} URL",
            )
        return remote
    branch = gitio.current_branch(repo)
    upstream = gitio.config_values(repo, f"branch.{branch}.remote") if branch else []
    if upstream and upstream[-1] in remotes:
        return upstream[-1]
    if "origin" in remotes:
        return "origin"
    if len(remotes) == 1:
        return remotes[0]
    if not remotes:
        raise RemoteError(
            "this repository has no remote to sync with",
            hint="add one with: git remote add origin URL (a bare repository, GitHub, GitLab...)",
        )
    raise RemoteError(
        f"several remotes and none is 'origin' or the branch's upstream: {', '.join(remotes)}",
        hint="name the one to sync with: gittree sync NAME",
    )


# -- the report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStep:
    """Progress, for the command line to show: a fetch, a push, or a retry after losing a race."""

    kind: str  # "fetch", "push" or "retry"
    attempt: int
    detail: str = ""
    delay: float = 0.0


@dataclass
class SyncReport:
    remote: str
    attempts: int = 0
    #: refs set on the remote (full names).
    pushed: list[str] = field(default_factory=list)
    #: notes (annotated objects) that the remote added to or changed in the local notes.
    notes_received: int = 0
    #: local refs/gittree/* created or moved forward from the remote.
    adopted: list[str] = field(default_factory=list)
    #: local branches the remote is ahead of: left as they are (the remote's version is shown anyway).
    behind: list[str] = field(default_factory=list)
    #: refs that moved on both sides: neither side was changed.
    diverged: list[str] = field(default_factory=list)

    def problem(self) -> RemoteError | None:
        """The error to report when some refs could not be shared because they diverged."""
        if not self.diverged:
            return None
        names = [short_ref(ref) for ref in self.diverged]
        verb, it = ("moved", "they were") if len(names) > 1 else ("has moved", "it was")
        example = names[0] if names[0] != "notes" else "BRANCH"
        return RemoteError(
            f"{', '.join(names)} {verb} both here and on '{self.remote}', so {it} not shared "
            "(neither side was changed; everything else was synced)",
            hint=f"merge or rebase onto the remote's version (git switch {example} && "
            f"git merge {self.remote}/{example}), then run gittree sync again",
        )


def short_ref(ref: str) -> str:
    """How a ref is named to people: ``exp/a`` for a branch, ``notes`` for the notes ref."""
    if ref == gitio.NOTES_REF:
        return "notes"
    if ref == gitio.CURVES_REF:
        return "curves"
    return ref[len(HEADS) :] if ref.startswith(HEADS) else ref


# -- sync ------------------------------------------------------------------------------------------


def sync(
    repo: gitio.Repo,
    remote: str | None = None,
    *,
    config: Config | None = None,
    branches: Sequence[str] | None = None,
    gittree_refs: bool = True,
    attempts: int = MAX_ATTEMPTS,
    on_step: Callable[[SyncStep], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Fetch, merge and push the research tree with ``remote``; see the module docstring."""
    remote = resolve_remote(repo, remote)
    if branches is None:
        branches = (config or repo_config(repo)).sync_branches
    specs = fetch_refspecs(remote, branches, gittree_refs=gittree_refs)
    report = SyncReport(remote=remote)
    notify = on_step or (lambda step: None)
    clashes: list[_NameClash] = []  # refs no retry can push: reported once everything else is synced
    for attempt in range(1, attempts + 1):
        report.attempts = attempt
        notify(SyncStep("fetch", attempt))
        fetched = gitio.fetch(repo, remote, specs)
        if fetched.busy is None:
            _forget_missing(repo, specs, fetched.missing)
            remember_synced(repo, remote)  # what it had is here now, notes or none (gittree.read.latenotes)
            remote_notes = gitio.ref_target(repo, notes_tracking_ref(remote))
            report.notes_received += _merge_remote_notes(repo, remote, remote_notes)
            if remote_notes is not None:  # notes arrived: they too must survive amend and rebase
                gitio.keep_notes_through_rewrites(repo)
            remote_curves = gitio.ref_target(repo, notes_tracking_ref(remote, gitio.CURVES_REF))
            _merge_remote_notes(repo, remote, remote_curves, gitio.CURVES_REF)
            if remote_curves is not None:
                gitio.keep_curves_through_rewrites(repo)
            if gittree_refs:
                _adopt_gittree_refs(repo, remote, report)
            plan = _plan(repo, remote, branches, (remote_notes, remote_curves), gittree_refs=gittree_refs)
            report.behind, report.diverged = plan.behind, plan.diverged
            updates = [u for u in plan.updates if u.ref not in {clash.ref for clash in clashes}]
            if not updates:
                return _finished(report, clashes)
            notify(SyncStep("push", attempt, ", ".join(short_ref(u.ref) for u in updates)))
            result = gitio.push(repo, remote, updates)
            answered = {pushed.ref: pushed for pushed in result.refs}
            done = [u.ref for u in updates if u.ref in answered and answered[u.ref].ok]
            report.pushed = list(dict.fromkeys(report.pushed + done))
            refused = [pushed for pushed in result.refs if not pushed.ok]
            clashes += _name_clashes(repo, remote, refused, result.remote_messages)
            refused = [pushed for pushed in refused if pushed.ref not in {clash.ref for clash in clashes}]
            if not refused and all(u.ref in answered for u in updates):
                return _finished(report, clashes)
            final = [pushed for pushed in refused if not _retryable(pushed.summary)]
            if final:
                raise _refused(remote, final, result.remote_messages)
            reason = refused[0].summary if refused else "no answer for some refs"
        else:
            reason = fetched.busy.splitlines()[0] if fetched.busy else "a ref was locked"
        if attempt == attempts:
            break
        delay = backoff(attempt)
        notify(SyncStep("retry", attempt, reason, delay))
        sleep(delay)
    raise RemoteError(
        f"gave up after {attempts} attempts: '{remote}' kept changing while gittree was pushing",
        hint="nothing was lost (your branches and notes are intact); run gittree sync again",
    )


@dataclass(frozen=True)
class _NameClash:
    """A ref the remote cannot take because of another ref's name: ``exp/lr`` while it has ``exp/lr/a``.

    git keeps refs as files and folders, so no ref can be both a name and a folder of names, on any
    ref backend: waiting never helps, unlike a ref another push holds locked.
    """

    #: the ref that was not pushed (full name).
    ref: str
    #: the remote's ref in its way (full name).
    other: str
    #: git's words for it.
    reason: str


def clashing_ref(ref: str, names: Iterable[str]) -> str | None:
    """A ref among ``names`` that ``ref`` cannot exist beside: a folder of it (``exp`` for ``exp/a``), or one in it."""
    for name in names:
        if ref.startswith(name + "/") or name.startswith(ref + "/"):
            return name
    return None


def _name_clashes(
    repo: gitio.Repo, remote: str, refused: Sequence[PushedRef], messages: Sequence[str]
) -> list[_NameClash]:
    """The refused refs that another ref's name keeps off the remote.

    The remote says "[remote rejected] (failed to update ref)" both when another push holds the ref
    locked, which a retry clears, and when a ref's name clashes, which no retry does (GitHub says
    "directory file conflict"); the remote's refs, listed now, tell the two apart.
    """
    doubtful = [pushed for pushed in refused if any(m in pushed.summary.lower() for m in _REMOTE_FAILURES)]
    if not doubtful:
        return []
    names = gitio.remote_ref_names(repo, remote)
    said = "\n".join(messages)
    clashes = []
    for pushed in doubtful:
        other = clashing_ref(pushed.ref, names)
        if other is not None:
            reason = gitio.name_clash(said, pushed.ref) or f"'{other}' exists; cannot create '{pushed.ref}'"
            clashes.append(_NameClash(ref=pushed.ref, other=other, reason=reason))
    return clashes


def _finished(report: SyncReport, clashes: Sequence[_NameClash]) -> SyncReport:
    """The report of a sync that has pushed all it can; or, when a name clash kept refs back, the error
    naming each clash and what to do (after the rest was synced: a clash never blocks other refs)."""
    if not clashes:
        return report
    mine = [short_ref(clash.ref) for clash in clashes]
    theirs = [short_ref(clash.other) for clash in clashes]
    were = "was" if len(mine) == 1 else "were"
    pushed = ", ".join(short_ref(ref) for ref in report.pushed)
    done = f"pushed {pushed}" if pushed else "nothing else needed pushing"
    message = (
        f"{', '.join(mine)} {were} not pushed: '{report.remote}' has {', '.join(theirs)}, and a ref cannot "
        f"also be a folder of other refs ({'; '.join(clash.reason for clash in clashes)}); "
        f"everything else was synced ({done})"
    )
    hint = _clash_hint(report.remote, clashes[0])
    diverged = report.problem()
    if diverged is not None:
        message += f". Also: {diverged.message}"
        hint += f". Then: {diverged.hint}"
    raise RemoteError(message, hint=hint)


def _clash_hint(remote: str, clash: _NameClash) -> str:
    mine, theirs = short_ref(clash.ref), short_ref(clash.other)
    delete = f"git push {remote} --delete {theirs}"
    if not clash.ref.startswith(HEADS):
        return (
            f"rename or delete one of the two ({delete} deletes {theirs} there), then run gittree sync again"
        )
    if clash.ref.startswith(clash.other + "/"):
        # Renaming inside the folder cannot help: nothing named THEIRS/... can exist beside THEIRS.
        return (
            f"if {theirs} is no longer needed (say it was renamed to {mine}), delete it on '{remote}' "
            f"({delete}); else rename yours out of {theirs}/ (git branch -m {mine} NEW-NAME); "
            "then run gittree sync again"
        )
    return (
        f"rename yours (git branch -m {mine} {mine}-2), or delete {theirs} on '{remote}' if it is no "
        f"longer needed ({delete}); then run gittree sync again"
    )


def push_branch_and_notes(
    repo: gitio.Repo,
    remote: str | None,
    branch: str,
    *,
    attempts: int = MAX_ATTEMPTS,
    on_step: Callable[[SyncStep], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Share one branch and the notes (what ``gittree run --push`` does after its commit); same retry rules.

    Raises :class:`RemoteError` when the branch has diverged from the remote's version of it.
    """
    if gitio.ref_target(repo, HEADS + branch) is None:
        raise RevisionNotFoundError(
            f"there is no branch '{branch}' to push", hint="check the name: git branch"
        )
    report = sync(
        repo, remote, branches=(branch,), gittree_refs=False, attempts=attempts, on_step=on_step, sleep=sleep
    )
    problem = report.problem()
    if problem is not None:
        raise problem
    return report


def check_pushable(branch: str | None, patterns: Sequence[str]) -> None:
    """Refuse ``gittree run --push`` up front when its branch is outside ``sync.branches``.

    Checked before the run starts, so a sweep does not learn after hours of training that its result
    was never going to travel.
    """
    if branch is None:
        raise BadValueError(
            "--push needs --branch: a run is pushed on its own branch",
            hint="for example: gittree run --branch sweep/lr-3e-4 --push -- python train.py",
        )
    if not any(branch_matches(branch, pattern) for pattern in patterns):
        raise BadValueError(
            f"--push: the branch '{branch}' is outside sync.branches ({', '.join(patterns) or 'none'})",
            hint="name it under one of those (e.g. sweep/NAME) or add a pattern to sync.branches in .gittree.yaml",
        )


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped, jittered."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1))
    return float(ceiling * random.uniform(0.5, 1.0))


def _retryable(summary: str) -> bool:
    lowered = summary.lower()
    return any(marker in lowered for marker in _RETRYABLE)


def _refused(remote: str, refused: Sequence[PushedRef], messages: Sequence[str]) -> RemoteError:
    names = ", ".join(short_ref(pushed.ref) for pushed in refused)
    reasons = "; ".join(sorted({pushed.summary for pushed in refused}))
    said = "".join(f"\nremote: {line}" for line in messages)
    return RemoteError(
        f"'{remote}' refused {names}: {reasons}{said}",
        hint="the remote's hooks or permissions refused it; your local branches and notes are intact "
        "(ask the remote's owner, or sync with another remote)",
    )


def _forget_missing(repo: gitio.Repo, specs: Iterable[str], missing: Sequence[str]) -> None:
    """The remote lacks these exact refs: drop our copies, as ``git fetch --prune`` does for patterns."""
    for spec in specs:
        source, _, destination = spec.lstrip("+").partition(":")
        if source in missing:
            gitio.delete_ref(repo, destination)


# -- notes -----------------------------------------------------------------------------------------


def _merge_remote_notes(
    repo: gitio.Repo, remote: str, remote_notes: str | None, ref: str = gitio.NOTES_REF
) -> int:
    """Bring the remote's notes into ``ref`` (``refs/notes/gittree``); returns how many notes changed locally.

    The curves' notes merge by the same rule: each run is one paragraph, so both sides' runs are kept.

    The local ref moves only by compare-and-swap (another local process may be writing notes too),
    and only to a commit that contains both sides, so nothing written locally can be lost.
    """
    if remote_notes is None:
        return 0
    for _ in range(MAX_ATTEMPTS):
        local = gitio.ref_target(repo, ref)
        if local is not None and gitio.is_ancestor(repo, remote_notes, local):
            return 0  # we already have everything the remote has
        if local is None or gitio.is_ancestor(repo, local, remote_notes):
            new = remote_notes  # fast-forward: the remote only added to what we had
            changed = _changed_notes(repo, local, remote_notes)
        else:
            new, changed = _merge_notes_commits(repo, remote, local, remote_notes)
        if gitio.update_ref(repo, ref, new, local):
            return changed
    raise GitCommandError(
        f"another process kept changing {ref} while gittree was merging notes into it",
        hint="nothing was lost; run gittree sync again",
    )


def _changed_notes(repo: gitio.Repo, old: str | None, new: str) -> int:
    before, after = gitio.notes_of_commit(repo, old), gitio.notes_of_commit(repo, new)
    return sum(
        1
        for obj in before.keys() | after.keys()
        if (before[obj].blob if obj in before else None) != (after[obj].blob if obj in after else None)
    )


def _merge_notes_commits(repo: gitio.Repo, remote: str, local: str, theirs: str) -> tuple[str, int]:
    """A merge commit of two notes histories, each note merged by paragraphs; returns (sha, notes changed)."""
    bases = [gitio.notes_of_commit(repo, commit) for commit in gitio.merge_bases(repo, local, theirs)]
    mine = gitio.notes_of_commit(repo, local)
    other = gitio.notes_of_commit(repo, theirs)

    def blob(notes: dict[str, NoteEntry], obj: str) -> str | None:
        return notes[obj].blob if obj in notes else None

    updates: dict[str, str | None] = {}
    merged_texts: list[tuple[str, bytes]] = []
    for obj in sorted(mine.keys() | other.keys()):
        m, o = blob(mine, obj), blob(other, obj)
        base_blobs = {blob(base, obj) for base in bases} or {None}
        b = next(iter(base_blobs)) if len(base_blobs) == 1 else _MIXED
        if o == b:
            continue  # only we changed it (or nobody did)
        path = mine[obj].path if obj in mine else other[obj].path
        if m == b:
            result = o  # only the remote changed it (None: the remote removed it)
        else:
            # Changed on both sides, even identically: two clones that each recorded the same line
            # recorded two results (a common source would be in the merge base); identical import
            # paragraphs are one row of one log, and merge_note keeps those once.
            text = merge_note(
                _base_text(repo, bases, obj), *(gitio.read_blob(repo, x) if x else None for x in (m, o))
            )
            if text is not None:
                merged_texts.append((path, text))
                continue
            result = None
        if result is not None or obj in mine:
            updates[path] = result
    for (path, _), sha in zip(
        merged_texts, gitio.write_blobs(repo, [text for _, text in merged_texts]), strict=True
    ):
        updates[path] = sha
    commit = gitio.write_notes_commit(
        repo,
        start=local,
        parents=[local, theirs],
        updates=updates,
        message=NOTES_MERGE_MESSAGE.format(remote=remote),
    )
    return commit, len(updates)


#: Stands for "the merge bases disagree about this note": never equal to a blob id.
_MIXED = "mixed"


def _base_text(repo: gitio.Repo, bases: Sequence[dict[str, NoteEntry]], obj: str) -> bytes | None:
    """The note as both sides last agreed on it; with several merge bases (criss-cross merges), every
    paragraph any of them holds, so nothing they share is counted twice."""
    versions = [gitio.read_blob(repo, base[obj].blob) for base in bases if obj in base]
    if len(versions) <= 1:
        return versions[0] if versions else None
    return join_paragraphs(list(union_of_paragraphs(versions)))


# -- refs/gittree/* --------------------------------------------------------------------------------


def _adopt_gittree_refs(repo: gitio.Repo, remote: str, report: SyncReport) -> None:
    """Create or fast-forward local refs/gittree/* from the remote's; a ref that moved on both sides stays."""
    prefix = gittree_tracking_prefix(remote)
    for tracking, theirs in sorted(gitio.refs_under(repo, prefix).items()):
        name = gitio.GITTREE_REF_PREFIX + tracking[len(prefix) :]
        mine = gitio.ref_target(repo, name)
        if name == gitio.KEEP_REF:
            # Both sides' keep commits list what each kept: the union is kept, whichever moved.
            merged = gitio.merge_keep(repo, mine, theirs)
            if merged != mine and gitio.update_ref(repo, name, merged, mine, reason="gittree sync: keep"):
                report.adopted.append(name)
            continue
        if mine == theirs or (mine is not None and gitio.is_ancestor(repo, theirs, mine)):
            continue
        if (mine is None or gitio.is_ancestor(repo, mine, theirs)) and gitio.update_ref(
            repo, name, theirs, mine
        ):
            report.adopted.append(name)


# -- what to push ----------------------------------------------------------------------------------


@dataclass
class _Plan:
    updates: list[RefUpdate] = field(default_factory=list)
    behind: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)

    def consider(self, repo: gitio.Repo, ref: str, mine: str, theirs: str | None) -> None:
        """Push ``ref`` only when the remote lacks it or is an ancestor: a lease can then never rewind it."""
        if mine == theirs:
            return
        if theirs is None or gitio.is_ancestor(repo, theirs, mine):
            self.updates.append(RefUpdate(ref=ref, new=mine, expected=theirs))
        elif gitio.is_ancestor(repo, mine, theirs):
            self.behind.append(ref)
        else:
            self.diverged.append(ref)


def _plan(
    repo: gitio.Repo,
    remote: str,
    patterns: Sequence[str],
    remote_notes: tuple[str | None, ...],
    *,
    gittree_refs: bool,
) -> _Plan:
    plan = _Plan()
    for ref, mine in sorted(gitio.refs_under(repo, HEADS).items()):
        branch = ref[len(HEADS) :]
        if any(branch_matches(branch, pattern) for pattern in patterns):
            plan.consider(repo, ref, mine, gitio.ref_target(repo, branch_tracking_ref(remote, branch)))
    for notes, theirs in zip(SHARED_NOTES, remote_notes, strict=True):
        local_notes = gitio.ref_target(repo, notes)
        if local_notes is not None:
            # Compared with the very commit the merge used, so the lease and the merge agree.
            plan.consider(repo, notes, local_notes, theirs)
    if gittree_refs:
        prefix = gittree_tracking_prefix(remote)
        for ref, mine in sorted(gitio.refs_under(repo, gitio.GITTREE_REF_PREFIX).items()):
            theirs = gitio.ref_target(repo, prefix + ref[len(gitio.GITTREE_REF_PREFIX) :])
            if ref == gitio.KEEP_REF:
                # Keep commits do not descend from each other: the lease is what keeps the push safe,
                # and it is pushed only when it lists everything the remote's lists.
                if mine != theirs and (theirs is None or gitio.keep_covers(repo, mine, theirs)):
                    plan.updates.append(RefUpdate(ref=ref, new=mine, expected=theirs))
                continue
            plan.consider(repo, ref, mine, theirs)
    # A behind ref under refs/gittree was already moved forward by _adopt_gittree_refs (or will be next time).
    plan.behind = [ref for ref in plan.behind if ref.startswith(HEADS)]
    return plan


# -- plain git fetch / push carrying the research tree (gittree sync --configure) ------------------


@dataclass(frozen=True)
class ConfigureResult:
    remote: str
    #: (git setting, value) pairs added now.
    added: tuple[tuple[str, str], ...]
    #: (git setting, value) pairs that were already there.
    present: tuple[tuple[str, str], ...]
    #: (git setting, value) pairs removed now: the exact refspecs older versions wrote, replaced by patterns.
    removed: tuple[tuple[str, str], ...] = ()


def configure_remote(
    repo: gitio.Repo, remote: str | None = None, *, config: Config | None = None
) -> ConfigureResult:
    """Add fetch and push refspecs to ``remote.<name>`` so plain git fetch/push carry the research tree.

    Idempotent: a refspec already there is left alone. Every refspec but ``HEAD`` is a pattern, so
    plain git fetch, pull and push work whether or not the notes ref or a branch exists yet on either
    side (:func:`push_refspecs`); the exact refspecs earlier versions wrote, which broke them, are
    replaced. The fetch side writes only into private places (remote-tracking refs,
    ``refs/notes/gittree-remote/<remote>``), so a plain ``git fetch`` can never overwrite local notes;
    merging them in is ``gittree sync``'s job.
    """
    remote = resolve_remote(repo, remote)
    patterns = (config or repo_config(repo)).sync_branches
    fetch_key, push_key = f"remote.{remote}.fetch", f"remote.{remote}.push"
    wanted = [(fetch_key, spec) for spec in fetch_refspecs(remote, patterns, plain_git=True)]
    wanted += [(push_key, spec) for spec in push_refspecs(patterns, plain_git=True)]
    exact = [(fetch_key, spec) for spec in fetch_refspecs(remote, patterns)]
    exact += [(push_key, spec) for spec in push_refspecs(patterns)]
    fetch_lines = gitio.config_values(repo, fetch_key)
    # git clone's own line (the first) stays, even when an exact one of ours equals it (a single-branch
    # clone of a branch in sync.branches): it is not ours to remove, and that branch is on the remote.
    ours = {(fetch_key, line) for line in fetch_lines if line != fetch_lines[0]}
    ours |= {(push_key, line) for line in gitio.config_values(repo, push_key)}
    removed = [setting for setting in exact if setting not in wanted and setting in ours]
    for key, spec in removed:
        gitio.remove_config_value(repo, key, spec)
    added: list[tuple[str, str]] = []
    present: list[tuple[str, str]] = []
    for key, value in wanted:
        (added if gitio.add_config_value(repo, key, value) else present).append((key, value))
    return ConfigureResult(remote=remote, added=tuple(added), present=tuple(present), removed=tuple(removed))
