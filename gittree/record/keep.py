"""What gittree keeps: every experiment it wrote, until forgotten on purpose (docs/tree.md, "Nothing tried vanishes").

The keep ref itself is git's business (:func:`gitio.keep_commits`); this module answers ``gittree kept``
(what is kept, and which of it no branch reaches any more) and ``gittree forget REV``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gittree import gitio
from gittree.errors import BadValueError


@dataclass(frozen=True)
class KeptCommit:
    sha: str
    subject: str
    #: reached by no branch, tag, remote-tracking branch or HEAD: only the keep ref holds it.
    discarded: bool
    #: discarded, and an earlier version of an experiment a branch reaches (amended, rebased: docs/tree.md).
    rewritten: bool = False
    #: its recorded status (``ok``, ``failed``, ``abandoned``, ``running``); None when the tree does not
    #: show it (an earlier version of a rewritten experiment).
    status: str | None = None
    #: its verdict in the tree of every ref (``better``, ``worse``, ``discarded``...); None as for status.
    verdict: str | None = None
    #: for a rewritten one, the version the tree shows instead.
    rewritten_into: str | None = None

    @property
    def state(self) -> str:
        """``on a branch`` (a branch, tag, remote-tracking branch or HEAD reaches it), ``discarded`` or
        ``rewritten``."""
        return "rewritten" if self.rewritten else "discarded" if self.discarded else "on a branch"


@dataclass(frozen=True)
class KeptList:
    """What ``gittree kept`` answers: the kept commits, and what was forgotten (so that sync carries it)."""

    kept: tuple[KeptCommit, ...]
    #: forgotten sha -> the commit that rewrote it (the post-rewrite hook, ``forget --rewritten``), or None.
    forgotten: dict[str, str | None]


@dataclass(frozen=True)
class ForgetResult:
    #: the commits no longer kept (the one named and the kept commits grown from it).
    forgotten: tuple[str, ...]
    #: those of them a branch, tag or other ref still reaches: they stay in the tree, as history.
    still_reachable: tuple[str, ...]


def kept(repo: gitio.Repo) -> list[KeptCommit]:
    """Every commit the keep ref holds, by sha, each saying whether it is discarded, and what it is."""
    return list(kept_list(repo).kept)


def kept_list(repo: gitio.Repo) -> KeptList:
    """Every commit the keep ref holds (by sha) with its subject, status, verdict and reachability, and
    every commit it lists as forgotten."""
    refs = gitio.read_refs(repo)
    keep = refs.target(gitio.KEEP_REF)
    if keep is None:
        return KeptList((), {})
    shas = gitio.kept_shas(repo, keep)
    forgotten = gitio.forgotten_shas(repo, keep)
    if not shas:
        return KeptList((), forgotten)
    live = [refs.head] if refs.head else []
    live += refs.tips(("refs/heads/", "refs/remotes/", "refs/tags/"))
    discarded = gitio.commits_only_from(repo, gitio.keep_frontier(repo, keep), live)
    from gittree.read import Selection, load_tree

    rewrites: dict[str, str] = {}
    tree = load_tree(repo, Selection(all_refs=True), require_experiments=False, rewrites=rewrites)
    listed = []
    for sha in shas:
        node = tree.by_sha.get(sha)
        rewritten = sha in discarded and node is None
        listed.append(
            KeptCommit(
                sha,
                node.subject if node is not None else gitio.commit_subject(repo, sha),
                sha in discarded,
                rewritten,
                (node.status or "ok") if node is not None else None,
                node.verdict.value if node is not None else None,
                rewrites.get(sha) if rewritten else None,
            )
        )
    return KeptList(tuple(listed), forgotten)


def forget(repo: gitio.Repo, revs: Sequence[str], *, descendants: bool = True) -> ForgetResult:
    """Stop keeping ``revs`` (and, with ``descendants``, the kept commits grown from them): ``git gc`` may
    then take what no ref reaches. An earlier version of a rewritten experiment is forgotten alone: its
    kept children hang from the new version (docs/tree.md)."""
    shas = [gitio.resolve_commit(repo, rev) for rev in revs]
    held = set(gitio.kept_shas(repo))
    unknown = [rev for rev, sha in zip(revs, shas, strict=True) if sha not in held]
    if unknown:
        raise BadValueError(
            f"not kept by gittree: {', '.join(unknown)}",
            hint="`gittree kept` lists what gittree keeps",
        )
    forgotten = gitio.forget_commits(repo, shas, descendants=descendants)
    still = gitio.reachable_from_refs(repo, forgotten)
    return ForgetResult(tuple(forgotten), tuple(sha for sha in forgotten if sha in still))


def forget_rewritten(repo: gitio.Repo) -> ForgetResult:
    """Forget every kept earlier version of a rewritten experiment (``gittree forget --rewritten``), alone:
    its kept children hang from the new version. One whose new version is known is forgotten as rewritten
    into it, as the post-rewrite hook would have done, so other clones replace it too (docs/tree.md)."""
    old = [entry for entry in kept(repo) if entry.rewritten]
    pairs = [(entry.sha, entry.rewritten_into) for entry in old if entry.rewritten_into is not None]
    followed = [sha for sha, _ in gitio.follow_rewrites(repo, pairs)] if pairs else []
    rest = [entry.sha for entry in old if entry.rewritten_into is None]
    forgotten = followed + (gitio.forget_commits(repo, rest, descendants=False) if rest else [])
    still = gitio.reachable_from_refs(repo, forgotten) if forgotten else set()
    return ForgetResult(tuple(forgotten), tuple(sha for sha in forgotten if sha in still))


def follow_rewrites(repo: gitio.Repo, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """What the post-rewrite hook does after an amend or a rebase: each kept commit git rewrote is
    forgotten as rewritten into its new version, which is kept (docs/hooks.md). Returns those pairs."""
    return gitio.follow_rewrites(repo, pairs)
