"""Refs: HEAD, listing and resolving them, and the one compare-and-swap that moves one (:func:`update_ref`)."""

from __future__ import annotations

from collections.abc import Sequence

from gittree.errors import GitCommandError, NoCommitsError, RefLockedError, RevisionNotFoundError
from gittree.gitio.repo import Repo, list_remotes
from gittree.gitio.runner import git_says, run

NOTES_REF = "refs/notes/gittree"
#: The ``notes.rewriteRef`` value that carries NOTES_REF through amend and rebase: a pattern matching it
#: alone. Named plainly, git warns ``notes ref refs/notes/gittree is invalid`` on every rebase until
#: the first note exists; a pattern that matches no ref yet is passed over in silence (docs/config.md).
NOTES_REWRITE_PATTERN = "refs/notes/gittre[e]"

#: The downsampled metric curves of runs, a note per experiment (docs/format.md, "Curves"): apart from
#: NOTES_REF, so views that read results never read curves, and ``git log`` does not show them.
CURVES_REF = "refs/notes/gittree-curves"


GITTREE_REF_PREFIX = "refs/gittree/"


#: Where ``gittree sync`` keeps its copies of a remote's ``refs/gittree/*`` (docs/teams.md).
GITTREE_REMOTE_REF_PREFIX = "refs/gittree-remote/"


#: Ref namespaces ``--all`` reads: branches, remote-tracking branches, tags and gittree's own keep-alive refs
#: (local, and as last fetched from each remote).
ALL_REF_PREFIXES = (
    "refs/heads/",
    "refs/remotes/",
    "refs/tags/",
    GITTREE_REF_PREFIX,
    GITTREE_REMOTE_REF_PREFIX,
)
#: The research tree by default, in every view (docs/tree.md, "Which history is read"): every local
#: branch and gittree's own refs, plus HEAD wherever it is. ``--all`` reads :data:`ALL_REF_PREFIXES`.
SCOPE_REF_PREFIXES = ("refs/heads/", GITTREE_REF_PREFIX)


#: git's "no object" id: as an expected old value it means "the ref must not exist".
ZERO_SHA = "0" * 40


def head_sha(repo: Repo) -> str | None:
    """The commit HEAD points at, or None on an unborn branch."""
    found = run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=repo.git_dir)
    return found.text.strip() if found.code == 0 else None


def head_and_branch(repo: Repo) -> tuple[str | None, str | None]:
    """:func:`head_sha` and :func:`symbolic_head` asked of one git process (a run asks both before its
    command starts: one process less, issue 19). When that one cannot answer both (an unborn branch;
    a tag named HEAD, which makes the name ambiguous), each is asked as before."""
    found = run(["rev-parse", "HEAD^{commit}", "--symbolic-full-name", "HEAD"], cwd=repo.git_dir)
    lines = found.text.split("\n")
    # Two lines, the sha and the name: a name git finds ambiguous prints none (git's error on stderr).
    if found.code == 0 and len(lines) == 3 and lines[2] == "":
        sha, name = lines[0], lines[1]
        if name == "HEAD" or name.startswith("refs/"):  # "HEAD": a detached HEAD
            return sha, None if name == "HEAD" else name
    return head_sha(repo), symbolic_head(repo)


def head_is_unborn(repo: Repo) -> bool:
    """Whether HEAD is on a branch with no commits yet (a new repository, an orphan branch)."""
    return bool(repo.handle.head_is_unborn)


def symbolic_head(repo: Repo) -> str | None:
    """The branch HEAD points at (``refs/heads/...``, born or not), or None when HEAD is detached.

    Asked of git, not libgit2: every run asks, and a run must not pay pygit2's import (issue 19)."""
    found = run(["symbolic-ref", "-q", "HEAD"], cwd=repo.git_dir)
    return found.text.strip() or None if found.code == 0 else None


def current_branch(repo: Repo) -> str | None:
    """The short name of the branch HEAD is on; None when HEAD is detached or unborn."""
    if repo.handle.head_is_detached or repo.handle.head_is_unborn:
        return None
    return str(repo.handle.head.shorthand)


def resolve_commit(repo: Repo, rev: str) -> str:
    """Full sha of the commit ``rev`` names (any revision syntax git accepts)."""
    return resolve_commits(repo, [rev])[0]


#: (repository, commit id) for each commit id git has given this process for a revision. A commit id
#: names its commit forever, and git reads 40 hex digits as an object id before any ref name, so such
#: a revision is not resolved again (``diff`` and ``path`` pass the ids they resolved to the tree's tips).
_KNOWN_COMMITS: set[tuple[str, str]] = set()


def resolve_commits(repo: Repo, revs: Sequence[str]) -> list[str]:
    """Full shas of the commits ``revs`` name, in one git call (``diff A B``: one process, not two).

    Each answer is what :func:`resolve_commit` gives; when any revision does not resolve to exactly one
    commit (an error, a range), each is resolved on its own, so the error is the same too."""
    where = str(repo.shared_dir)
    unknown = [rev for rev in dict.fromkeys(revs) if (where, rev) not in _KNOWN_COMMITS]
    found: dict[str, str] = {}
    # Without --verify, rev-parse prints --end-of-options back (git 2.39): a revision that looks like an
    # option is left to the one-at-a-time path, which protects it.
    if len(unknown) > 1 and all(rev and not rev.startswith("-") for rev in unknown):
        batch = run(["rev-parse", *(f"{rev}^{{commit}}" for rev in unknown)], cwd=repo.cwd)
        lines = batch.text.splitlines()
        if batch.code == 0 and len(lines) == len(unknown) and all(_is_commit_id(line) for line in lines):
            found = dict(zip(unknown, lines, strict=True))
    for rev in unknown:
        if rev not in found:
            found[rev] = _resolve_one(repo, rev)
    _KNOWN_COMMITS.update((where, sha) for sha in found.values())
    return [found.get(rev, rev) for rev in revs]


def _is_commit_id(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def _resolve_one(repo: Repo, rev: str) -> str:
    found = run(["rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}"], cwd=repo.cwd)
    if found.code != 0 or not rev:
        if rev.startswith(("HEAD", "@")) and head_is_unborn(repo):
            raise NoCommitsError(
                f"'{rev}' names no commit: HEAD is on a branch with no commits yet",
                hint="make a first commit (gittree commit -m 'baseline' --metric acc=0.5)",
            )
        raise RevisionNotFoundError(
            f"'{rev}' does not name a commit in this repository",
            hint="use a sha, a branch or tag name, or HEAD~N",
        )
    return found.text.strip()


def ref_sha(repo: Repo, ref: str) -> str | None:
    """The commit ``ref`` (a full ref name or ``HEAD``) points at, or None when it does not exist."""
    found = run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], cwd=repo.cwd)
    return found.text.strip() if found.code == 0 else None


def ref_target(repo: Repo, ref: str) -> str | None:
    """The object a ref points at (symbolic refs followed), or None when there is no such ref."""
    reference = repo.handle.references.get(ref)
    if reference is None:
        return None
    try:
        return str(reference.resolve().target)
    except (KeyError, ValueError):  # a dangling symbolic ref
        return None


def ref_object(repo: Repo, ref: str) -> str | None:
    """:func:`ref_target` asked of git (one process, no pygit2): for the one ref a run reads and moves."""
    found = run(["rev-parse", "-q", "--verify", "--end-of-options", ref], cwd=repo.git_dir)
    return found.text.strip() or None if found.code == 0 else None


def refs_under(repo: Repo, prefix: str) -> dict[str, str]:
    """Full ref name -> object id, for every ref whose name starts with ``prefix``."""
    found: dict[str, str] = {}
    for name in repo.handle.references:
        if name.startswith(prefix):
            target = ref_target(repo, name)
            if target is not None:
                found[name] = target
    return found


class RefState:
    """Every ref of the repository as ``git show-ref --head --dereference`` lists it.

    ``refs`` holds (name, object id) pairs; an annotated tag also appears as ``NAME^{}`` with the object
    it peels to. Since objects never change, this listing plus the notes ref decides everything a view
    of the history shows: it is what the cache is keyed by.
    """

    __slots__ = ("head", "refs")

    def __init__(self, head: str | None, refs: tuple[tuple[str, str], ...]) -> None:
        self.head = head
        self.refs = refs

    def __repr__(self) -> str:
        return f"RefState(head={self.head!r}, refs=<{len(self.refs)} refs>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RefState) and (self.head, self.refs) == (other.head, other.refs)

    def __hash__(self) -> int:
        return hash((self.head, self.refs))

    def target(self, name: str) -> str | None:
        for ref, sha in self.refs:
            if ref == name:
                return sha
        return None

    def tips(self, prefixes: tuple[str, ...] = ALL_REF_PREFIXES) -> list[str]:
        """The (peeled) objects the refs under ``prefixes`` point at; non-commits are skipped by the walk."""
        peeled = {ref[:-3]: sha for ref, sha in self.refs if ref.endswith("^{}")}
        return [
            peeled.get(ref, sha)
            for ref, sha in self.refs
            if ref.startswith(prefixes) and not ref.endswith("^{}")
        ]


def list_refs(repo: Repo) -> bytes:
    """HEAD and every ref with its object, as one ``git show-ref --head --dereference`` prints them.

    Exactly git's view (packed, loose, any ref backend). The bytes themselves key a cached view of
    every ref: nothing about the refs can change without changing them.
    """
    found = run(["show-ref", "--head", "--dereference"], cwd=repo.git_dir)
    if found.code not in (0, 1):  # 1: no ref at all (a new repository)
        raise GitCommandError(f"cannot list the refs: {found.err_text.strip()}", hint="run `git fsck`")
    return found.out


def read_refs(repo: Repo, listing: bytes | None = None) -> RefState:
    """HEAD and every ref (from ``listing``, the output of :func:`list_refs`, when already read)."""
    return parse_listing(list_refs(repo) if listing is None else listing)


def parse_listing(listing: bytes) -> RefState:
    """HEAD and every ref of a listing :func:`list_refs` printed (or any of its lines)."""
    head = None
    refs = []
    for line in listing.decode("utf-8", "surrogateescape").splitlines():
        sha, _, name = line.partition(" ")
        if name == "HEAD":
            head = sha
        else:
            refs.append((name, sha))
    return RefState(head=head, refs=tuple(refs))


def listed_target(listing: bytes, name: str) -> str | None:
    """The object ``name`` (a ref, or ``HEAD``) has in a listing :func:`list_refs` printed, found by
    searching its bytes (it can hold tens of thousands of refs): a ref name has no space
    (``git check-ref-format``), so " NAME" at the end of a line is that ref's own line."""
    wanted = b" " + name.encode("utf-8", "surrogateescape")
    at = listing.find(wanted + b"\n")
    if at < 0:
        if not listing.endswith(wanted):
            return None
        at = len(listing) - len(wanted)
    return listing[listing.rfind(b"\n", 0, at) + 1 : at].decode("ascii")


def tip_shas(
    repo: Repo,
    revs: Sequence[str] = (),
    all_refs: bool = False,
    refs: RefState | None = None,
    *,
    within_scope: bool = False,
) -> list[str]:
    """The commits a walk starts from (docs/tree.md): the named revisions, which narrow the tree; else
    every local branch and gittree's refs, plus HEAD (:data:`SCOPE_REF_PREFIXES`); ``all_refs`` adds
    remote-tracking branches and tags. ``within_scope``: the revisions are added to the scope instead
    (a question about named commits, such as diff's, is judged against the whole tree).
    """
    tips = resolve_commits(repo, revs)
    if all_refs or not revs or within_scope:
        refs = refs or read_refs(repo)
        tips.extend(refs.tips(ALL_REF_PREFIXES if all_refs else SCOPE_REF_PREFIXES))
        if refs.head:
            tips.append(refs.head)
    if not tips:
        raise NoCommitsError(
            "this repository has no commits yet",
            hint="record a first experiment: gittree commit -m 'baseline' --metric acc=0.5",
        )
    return list(dict.fromkeys(tips))


def branch_tips(repo: Repo, patterns: Sequence[str], refs: RefState | None = None) -> list[str]:
    """Commits of the branches, local and remote-tracking, whose names match any of the globs.

    A local branch matches by its name (``exp/a``); a remote-tracking one by its full short name
    (``origin/exp/a``) or by its name on the remote (``exp/a``), so ``exp/*`` finds both copies.
    """
    import fnmatch

    refs = refs or read_refs(repo)
    remotes = list_remotes(repo)
    peeled = {ref[:-3]: sha for ref, sha in refs.refs if ref.endswith("^{}")}
    tips: list[str] = []
    for name, sha in refs.refs:
        if name.startswith("refs/heads/"):
            names = [name[len("refs/heads/") :]]
        elif name.startswith("refs/remotes/"):
            short = name[len("refs/remotes/") :]
            names = [short] + [short[len(r) + 1 :] for r in remotes if short.startswith(r + "/")]
            if any(alias == "HEAD" for alias in names[1:]):
                continue  # origin/HEAD only points at another remote-tracking branch
        else:
            continue
        if any(fnmatch.fnmatchcase(alias, pattern) for alias in names for pattern in patterns):
            tips.append(peeled.get(name, sha))
    if not tips:
        raise RevisionNotFoundError(
            f"no branch matches {', '.join(repr(p) for p in patterns)}",
            hint="list the branches with `git branch -a`; * matches any text, / included",
        )
    return list(dict.fromkeys(tips))


def is_valid_branch_name(repo: Repo, name: str) -> bool:
    """Whether git accepts ``name`` as a new branch name (``git check-ref-format --branch``)."""
    if not name or name.startswith("-"):
        return False
    return run(["check-ref-format", "--branch", name], cwd=repo.cwd).code == 0


def update_ref(
    repo: Repo,
    ref: str,
    new: str,
    old: str | None,
    *,
    reason: str = "gittree sync",
    no_deref: bool = False,
    lock_wait_ms: int = 1000,
) -> bool:
    """Move ``ref`` to ``new`` only if it still points at ``old`` (None: only if it does not exist).

    The one compare-and-swap of a ref (notes, sync's private refs, a run's branch): returns False when
    another process changed the ref first; git's own lock makes this a compare-and-swap, so concurrent
    writers never overwrite each other. Writers that hold the lock keep it for milliseconds, so git is
    asked to wait for it up to ``lock_wait_ms`` (git's default, 0.1 s, is short for a sweep's sixteen
    writers); a lock still held then is :class:`RefLockedError`, anything else :class:`GitCommandError`,
    both with git's words. ``no_deref`` moves a detached ``HEAD`` itself, never the branch it may name.
    """
    args = ["-c", f"core.filesRefLockTimeout={lock_wait_ms}", "update-ref", "-m", reason]
    args += [*(["--no-deref"] if no_deref else []), ref, new, old or ZERO_SHA]
    done = run(args, cwd=repo.cwd)
    if done.code == 0:
        return True
    if ref_object(repo, ref) != old:
        return False
    said = git_says(done.err_text or done.text)
    if ".lock': File exists" in done.err_text:
        # git never removes a lock another process took: one left by a process killed while it held it
        # stays until removed, and running the command again cannot help (tests/test_faults_kill.py).
        raise RefLockedError(
            f"{ref} is locked by another process: {said}",
            hint="run the command again once the other git command has finished; if none is running, a "
            "killed process left the lock: remove the lock file git names, then run the command again",
        )
    raise GitCommandError(
        f"git update-ref failed: {said}", hint="fix what git reports above and run the command again"
    )


def update_refs(repo: Repo, commands: Sequence[str]) -> None:
    """Apply ``git update-ref --stdin`` commands as one transaction: all of them happen, or none."""
    if commands:
        run(
            ["update-ref", "--stdin"],
            cwd=repo.cwd,
            input="".join(line + "\n" for line in commands),
            check=True,
        )


def delete_ref(repo: Repo, ref: str) -> None:
    """Remove a ref (used for gittree's private copies of remote refs); absent refs are fine."""
    if ref_target(repo, ref) is not None:
        run(["update-ref", "-d", ref], cwd=repo.cwd, check=True)
