"""Walking the history: the bulk stream of a whole history, walks from tips, ancestry questions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from gittree.errors import GitCommandError
from gittree.gitio.notes import note_of, read_notes
from gittree.gitio.objects import CommitReader, commit_record, read_one_record, read_record
from gittree.gitio.refs import read_refs, resolve_commit
from gittree.gitio.repo import Repo, shallow_boundary
from gittree.gitio.runner import git_says, popen, run
from gittree.rawcommit import CommitFacts, batch_commits

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    import subprocess
    from typing import Any

    from gittree.model import CommitRecord


def stream_commits(repo: Repo, tips: Sequence[str]) -> Iterator[tuple[str, CommitFacts]]:
    """Every commit reachable from ``tips``, with its facts: a whole history read at once.

    ``git rev-list --stdin`` walks and ``git cat-file --batch`` hands over each commit object's exact
    bytes, in two processes working while this one parses; on a 100k-commit history that is about
    twice as fast as reading objects one by one through libgit2. Non-commit tips are skipped, as
    the walk skips them. Raises :class:`GitCommandError` (after the commits it could read) when git
    cannot walk: a tip or a parent that is missing from this clone, for one; the caller then walks
    the history itself, which skips what is missing.
    """
    import tempfile

    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a flood of errors cannot block git
        walker = _start_walk(repo, errors)
        # --buffer: cat-file writes through stdio's buffer instead of flushing each object (three
        # writes, each waking this process): at 100k commits, 0.05-0.1 s less of git's CPU and of this
        # process's, and a quarter of the context switches. Nothing here answers cat-file's output.
        reader = popen(
            ["cat-file", "--batch", "--buffer"], cwd=repo.git_dir, stdin=walker.stdout, stderr=errors
        )
        assert walker.stdout is not None and reader.stdout is not None
        walker.stdout.close()  # the reader owns it now
        try:
            _feed_tips(walker, tips)
            yield from batch_commits(reader.stdout)
        finally:
            reader.stdout.close()
            walked, read = walker.wait(), reader.wait()
        if walked != 0 or read != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip()
            raise GitCommandError(f"git could not walk the history: {message or 'no reason given'}")


#: Up to this many commits, :func:`new_commits` reads them in turn rather than through the pipeline.
FEW_COMMITS = 1024


def new_commits(repo: Repo, tips: Sequence[str]) -> list[tuple[str, CommitFacts]]:
    """:func:`stream_commits`, for the few commits a view grows by (those since the last view): git
    walks, then hands over the objects, one process after the other. The pipeline's start (the
    subprocess module, a temporary file, two processes wired together) costs more than such a read
    (issue 19); past :data:`FEW_COMMITS` commits, the pipeline reads them."""
    walked = run(["rev-list", "--stdin"], cwd=repo.git_dir, input="".join(tip + "\n" for tip in tips))
    if walked.code != 0:
        raise GitCommandError(
            f"git could not walk the history: {git_says(walked.err_text) or 'no reason given'}"
        )
    shas = walked.out.split()
    if len(shas) > FEW_COMMITS:
        return list(stream_commits(repo, tips))
    if not shas:
        return []
    read = run(["cat-file", "--batch"], cwd=repo.git_dir, input=b"\n".join(shas) + b"\n")
    if read.code != 0:
        raise GitCommandError(
            f"git could not read the commits: {git_says(read.err_text) or 'no reason given'}"
        )
    from io import BytesIO

    return list(batch_commits(BytesIO(read.out)))


def _start_walk(repo: Repo, errors: Any) -> subprocess.Popen[bytes]:
    """``git rev-list --stdin``, waiting for its tips (:func:`_feed_tips`); its errors go to ``errors``."""
    import subprocess

    return popen(["rev-list", "--stdin"], cwd=repo.git_dir, stdin=subprocess.PIPE, stderr=errors)


def _feed_tips(walker: subprocess.Popen[bytes], tips: Iterable[str]) -> None:
    """Hand the walk its tips; git reads them all before it walks."""
    assert walker.stdin is not None
    try:
        walker.stdin.write("".join(tip + "\n" for tip in tips).encode("ascii", "replace"))
        walker.stdin.close()
    except BrokenPipeError:  # git stopped at once (a bad tip): its status and message say why
        pass


def read_commits(repo: Repo, tips: Iterable[str], *, with_notes: bool = True) -> Iterator[CommitRecord]:
    """Every commit reachable from ``tips``, each once, with its message and (optionally) its gittree note."""
    shallow = shallow_boundary(repo)
    notes = read_notes(repo) if with_notes else {}
    stack = list(tips)
    seen: set[str] = set()
    with CommitReader(repo) as reader:
        while stack:
            sha = stack.pop()
            if sha in seen:
                continue
            seen.add(sha)
            facts = reader.read(sha)
            if facts is None:
                continue
            stack.extend(facts[0])
            yield commit_record(sha, facts, shallow=sha in shallow, note=notes.get(sha))


def read_commit(repo: Repo, rev: str) -> CommitRecord:
    """One commit (with its note) by revision."""
    sha = resolve_commit(repo, rev)
    # git, not libgit2: a run reads this one commit, and must not pay pygit2's import (issue 19)
    return read_one_record(repo, sha, shallow=sha in shallow_boundary(repo), note=note_of(repo, sha))


def commits_between(
    repo: Repo, tip: str, stop_at: Sequence[str], *, limit: int, skip: Iterable[str] = ()
) -> tuple[list[CommitRecord], int]:
    """Commits below ``tip`` down to (not including) ``stop_at``: the first ``limit``, newest first, and the count.

    These are the ordinary commits folded into the experiment ``tip`` (docs/tree.md); ``stop_at`` is
    its experiment parents, empty for a root (then everything below it is counted). git walks
    (``rev-list --date-order``: no parent before its children, else newest first), since it reads
    every commit git reads; the commits listed are read like every other (:func:`read_record`).
    Parents and ``stop_at`` commits missing from this clone are left out, as a shallow clone cuts them.
    ``skip``: commits not to list or count (dead-end experiments drawn beside the line, docs/tree.md).
    """
    with CommitReader(repo) as reader:
        return _commits_between(repo, reader, tip, stop_at, limit, skip)


def _commits_between(
    repo: Repo, reader: CommitReader, tip: str, stop_at: Sequence[str], limit: int, skip: Iterable[str]
) -> tuple[list[CommitRecord], int]:
    facts = reader.read(tip)
    if facts is None or not facts[0]:
        return [], 0
    starts = [*facts[0], *(f"^{sha}" for sha in stop_at)]
    found = run(
        ["rev-list", "--date-order", "--ignore-missing", "--stdin"],
        cwd=repo.git_dir,
        input="".join(line + "\n" for line in starts).encode("ascii", "replace"),
    )
    if found.code != 0:
        raise GitCommandError(
            f"cannot read the history below {tip[:7]}: {git_says(found.err_text)}", hint="run `git fsck`"
        )
    skipped = set(skip)
    below = [sha for sha in found.text.split() if sha not in skipped]
    return [read_record(reader, sha) for sha in below[:limit]], len(below)


def reachable_from_refs(repo: Repo, shas: Iterable[str]) -> set[str]:
    """Those of ``shas`` that some branch, tag, remote-tracking branch or gittree ref reaches.

    git walks (``rev-list``), from what the refs under :data:`ALL_REF_PREFIXES` point at (what
    garbage collection keeps; tags peeled, non-commits skipped), and stops once every one is found.
    libgit2's walker gives up at the first commit it cannot parse (an author without an email),
    which git reads. Raises :class:`GitCommandError` when git cannot walk (a damaged
    repository) before every one is found.
    """
    import tempfile

    wanted = set(shas)
    tips = list(dict.fromkeys(read_refs(repo).tips()))
    if not wanted or not tips:
        return set()
    found: set[str] = set()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a flood of errors cannot block git
        walker = _start_walk(repo, errors)
        assert walker.stdout is not None
        try:
            _feed_tips(walker, tips)
            for line in walker.stdout:
                sha = line.rstrip().decode("ascii", "replace")
                if sha in wanted:
                    found.add(sha)
                    if found == wanted:
                        walker.kill()  # the rest of the history is not needed
                        break
        finally:
            walker.stdout.close()
            status = walker.wait()
        errors.seek(0)
        said = errors.read().decode("utf-8", "replace")
    if status != 0 and found != wanted:
        raise GitCommandError(
            f"git could not walk the history: {git_says(said)}",
            hint="the repository may be damaged; run `git fsck`",
        )
    return found


def is_ancestor(repo: Repo, ancestor: str, descendant: str) -> bool:
    """Whether ``descendant`` contains ``ancestor`` (a commit is its own ancestor); False for non-commits.

    ``git merge-base --is-ancestor``: libgit2's graph walk refuses commits git reads (an author
    without an email), and would answer False for them. A history cut by a shallow clone gives no
    proof of ancestry, so False; so do a missing object and one that is not a commit (git exits 128).
    """
    found = run(["merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant], cwd=repo.git_dir)
    return found.code == 0


def merge_bases(repo: Repo, a: str, b: str) -> list[str]:
    """Every best common ancestor of two commits (``git merge-base --all``); empty when unrelated."""
    found = run(["merge-base", "--all", a, b], cwd=repo.cwd)
    return found.text.split() if found.code == 0 else []


def experiment_landed(repo: Repo, start: str | None, tip: str) -> bool:
    """Whether a commit with a Gittree-* trailer is among those ``tip`` has and ``start`` has not
    (all of ``tip``'s when ``start`` is None): another run landed on the branch meanwhile."""
    span = f"{start}..{tip}" if start else tip
    found = run(["rev-list", "-n", "1", "-i", "-E", "--grep=^gittree-[a-z]+:", span], cwd=repo.cwd)
    if found.code != 0:
        raise GitCommandError(f"git rev-list failed: {git_says(found.err_text)}", hint="run `git fsck`")
    return bool(found.text.strip())
