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
    #: reached by no branch, tag or remote-tracking branch: only the keep ref holds it.
    discarded: bool
    #: discarded, and an earlier version of an experiment a branch reaches (amended, rebased: docs/tree.md).
    rewritten: bool = False


@dataclass(frozen=True)
class ForgetResult:
    #: the commits no longer kept (the one named and the kept commits grown from it).
    forgotten: tuple[str, ...]
    #: those of them a branch, tag or other ref still reaches: they stay in the tree, as history.
    still_reachable: tuple[str, ...]


def kept(repo: gitio.Repo) -> list[KeptCommit]:
    """Every commit the keep ref holds, oldest listing order (by sha), each saying whether it is discarded."""
    shas = gitio.kept_shas(repo)
    if not shas:
        return []
    refs = gitio.read_refs(repo)
    live = [refs.head] if refs.head else []
    live += refs.tips(("refs/heads/", "refs/remotes/", "refs/tags/"))
    keep = refs.target(gitio.KEEP_REF)
    frontier = gitio.keep_frontier(repo, keep) if keep else []
    discarded = gitio.commits_only_from(repo, frontier, live)
    drawn: set[str] = set()
    if discarded & set(shas):
        from gittree.read import Selection, load_tree

        drawn = {
            node.sha for node in load_tree(repo, Selection(all_refs=True), require_experiments=False).nodes
        }
    return [
        KeptCommit(
            sha, gitio.commit_subject(repo, sha), sha in discarded, sha in discarded and sha not in drawn
        )
        for sha in shas
    ]


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
