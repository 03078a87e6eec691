"""A journalled run becomes an experiment commit: the default post-run step, and what ``recover`` runs.

:func:`commit_run` is what the shipped ``post-run`` hook (through ``gittree recover RUN_ID``) and
``gittree run`` without a hook do: build the message (metrics, params, notes, run facts), commit the
code saved when the run started (:mod:`gittree.runs.treecommit`), and write the outcome to the journal. It
is idempotent and safe to call from several processes: a lock per run, and a look for a commit that
already carries the run's id before making another (docs/runs.md, "Statuses").
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gittree import gitio
from gittree.errors import BadValueError, GittreeError, RunError, TrailersLostError
from gittree.runs import journal
from gittree.runs.capture import CaptureParser
from gittree.runs.journal import RunMeta
from gittree.runs.metrics import collect_metrics, collected_metrics
from gittree.trailers import format_trailer_lines

TYPE_CHECKING = False  # typing itself costs milliseconds of every run's start; mypy reads this as True
if TYPE_CHECKING:
    from gittree.model import CommitRecord
    from gittree.record.commit import ExperimentEntry
    from gittree.trailers import ExperimentRecord

#: Environment variable: seconds to wait for a lock held by another git process before giving up.
LOCK_TIMEOUT_ENV = "GITTREE_LOCK_TIMEOUT"
SUBJECT_WIDTH = 72


@dataclass(frozen=True)
class CommitResult:
    meta: RunMeta
    sha: str
    #: it had been committed before (recover is idempotent).
    already: bool = False
    warnings: tuple[str, ...] = ()


def check_branch_name(repo: gitio.Repo, branch: str) -> None:
    if not gitio.is_valid_branch_name(repo, branch):
        raise BadValueError(f"'{branch}' is not a valid branch name", hint="use a name such as exp/lr-3e-4")


def run_dir_for(repo: gitio.Repo, run_id: str) -> Path:
    return journal.find_run_dir(journal.runs_root(gitio.common_dir(repo)), run_id)


def commit_run(
    repo: gitio.Repo,
    run_id: str,
    *,
    branch: str | None = None,
    force: bool = False,
    finishing: bool = False,
    hooks: Path | None = None,
    settings: gitio.CommitSettings | None = None,
) -> CommitResult:
    """Commit a journalled run as an experiment (the default post-run step, and ``gittree recover``).

    A run of a group (the seeds of ``--seeds``, of a sweep point) is committed with the whole group:
    one experiment holding every seed's sample (docs/runs.md, "Seeds and samples"). ``finishing``: the
    ``gittree run`` that made the runs commits them as its last step, so the entries say it is done
    with them in the same write as the commit (``RunMeta.done``). ``hooks``: ``repo``'s hooks folder, and
    ``settings``: :func:`gitio.commit_settings`, when the caller has just asked git for them.
    """
    run_dir = run_dir_for(repo, run_id)
    first = journal.load_meta(run_dir)
    dirs = group_dirs(repo, first) if first.group else [run_dir]
    with contextlib.ExitStack() as stack:
        for path in sorted(dirs):  # one order for every process: two recovers never deadlock
            stack.enter_context(journal.locked(path))
        metas = [journal.load_meta(path) for path in dirs]
        done = next((meta for meta in metas if meta.status == journal.COMMITTED and meta.sha), None)
        if done is not None and done.sha is not None:
            if branch is not None:
                raise RunError(
                    f"run {done.id} is already {where_committed(done)}, not on {branch}",
                    hint=f"to have it on {branch} too, cherry-pick {done.sha[:7]} onto it (git cherry-pick)",
                )
            for meta, path in zip(metas, dirs, strict=True):
                if meta.status != journal.COMMITTED:  # a group whose writing-down was cut short
                    meta.target, meta.sample = done.target, done.sample
                    _mark_committed(meta, path, done.sha)
            mine = metas[dirs.index(run_dir)]
            return CommitResult(mine, done.sha, already=True)
        for meta in metas:
            refuse_if_alive(meta, force)
        for meta, path in zip(metas, dirs, strict=True):
            if meta.status == journal.RUNNING:
                _finish_abandoned_run(meta, path)
        if branch is not None:
            check_branch_name(repo, branch)
            for meta in metas:
                meta.target = f"refs/heads/{branch}"
                meta.base = gitio.ref_sha(repo, meta.target)
        lead = metas[0]
        if any(meta.attempts for meta in metas):
            landed = _already_landed(repo, lead)
            if landed:
                _store_curves(repo, landed, metas, dirs)  # cut short before they were written
                for meta, path in zip(metas, dirs, strict=True):
                    meta.target = lead.target
                    _mark_committed(meta, path, landed)
                gitio.keep_commits(repo, [landed], reason=f"gittree run {lead.id}")
                return CommitResult(metas[dirs.index(run_dir)], landed, already=True)
        if finishing:
            for meta in metas:
                meta.done = True  # written with the commit's outcome
        result = _commit(repo, metas, dirs, hooks, settings)
        return CommitResult(metas[dirs.index(run_dir)], result.sha, warnings=result.warnings)


def where_committed(meta: RunMeta) -> str:
    """``committed as SHA on BRANCH``, or ``recorded on SHA`` (``gittree record --run``)."""
    sha = (meta.sha or "")[:7]
    if meta.recorded:
        return f"recorded on {sha}"
    return f"committed as {sha} on {meta.branch or 'a detached HEAD'}"


def record_run(repo: gitio.Repo, run_id: str, sha: str, lines: Sequence[str]) -> RunMeta:
    """``gittree record REV --run ID``: add the run's results (``lines``) to ``sha``'s note, and journal
    the run as recorded there, so that it counts once: ``recover`` does not commit it again, and a second
    record of it is refused (docs/runs.md, "record --run ID").

    As crash-safe as a commit (docs/runs.md, "Durability"): the entry says ``committing`` towards ``sha``
    (``sample_of``), durably, before the note is written; a ``recover`` after a crash adds the results
    to ``sha`` only if its note does not hold them yet (:func:`_add_samples`).
    """
    run_dir = run_dir_for(repo, run_id)
    with journal.locked(run_dir):
        meta = journal.load_meta(run_dir)
        _refuse_to_record(repo, meta, run_dir)
        meta.status, meta.sample_of, meta.recorded = journal.COMMITTING, sha, True
        meta.attempts += 1
        journal.save_meta(run_dir, meta)
        try:
            gitio.append_note(repo, sha, lines)
        except GittreeError as e:
            # The note may have landed or not: recover finds out, and adds the results to sha at most once.
            _mark_failed(meta, run_dir, f"recording it on {sha[:7]} failed: {e.message}")
            raise
        meta.sample = True
        return _mark_committed(meta, run_dir, sha)


def _refuse_to_record(repo: gitio.Repo, meta: RunMeta, run_dir: Path) -> None:
    """A run whose results are in the tree already (committed, recorded, or landed by an attempt cut
    short), one still under way, or one seed of a group, is not recorded: it would count twice."""
    if meta.group:
        raise RunError(
            f"run {meta.id} is one seed of a group (--seeds), committed with its other seeds as one experiment",
            hint=f"gittree recover {meta.id} commits the whole group",
        )
    if meta.status != journal.COMMITTED and meta.attempts:
        landed = _already_landed(repo, meta) or _recorded_before(repo, meta)
        if landed is not None:
            meta.sample = meta.sample_of == landed
            _mark_committed(meta, run_dir, landed)
    if meta.status == journal.COMMITTED and meta.sha:
        raise RunError(
            f"run {meta.id} is already {where_committed(meta)}: recording it again would count it twice",
            hint="gittree runs shows where each run's results are",
        )
    refuse_if_alive(meta, force=False)


def _recorded_before(repo: gitio.Repo, meta: RunMeta) -> str | None:
    """``sample_of``, when its note holds the run's results already (an attempt cut short after writing)."""
    if meta.sample_of is None:
        return None
    note = gitio.read_commit(repo, meta.sample_of).note or ""
    return meta.sample_of if f"run {meta.id}" in note else None


def group_dirs(repo: gitio.Repo, meta: RunMeta) -> list[Path]:
    """The journal folders of ``meta``'s group, lead first, then in seed order."""
    root = journal.runs_root(gitio.common_dir(repo))
    lead_dir = journal.find_run_dir(root, meta.group or meta.id)
    members: list[tuple[int, Path]] = []
    for path in journal.list_run_dirs(root):
        if path.name[:15] < lead_dir.name[:15]:  # members start after their lead (ids begin with the time)
            continue
        try:
            other = journal.load_meta(path)
        except RunError:
            continue
        if other.group == meta.group:
            order = other.group_seeds.index(other.seed) if other.seed in other.group_seeds else len(members)
            members.append((order, path))
    return [path for _, path in sorted(members)] or [lead_dir]


def refuse_if_alive(meta: RunMeta, force: bool) -> None:
    if meta.status not in (journal.RUNNING, journal.COMMITTING):
        return
    alive = journal.owner_alive(meta)
    if alive is None and not force:
        raise RunError(
            f"run {meta.id} is {meta.status} on {meta.host}; gittree cannot tell from here whether it ended",
            hint="if that process is gone, pass --force",
        )
    if alive:
        raise RunError(f"run {meta.id} is still {meta.status} (gittree process {meta.pid})")
    if meta.host in ("", journal.this_host()) and journal.process_alive(meta.child_pid):
        raise RunError(
            f"the command of run {meta.id} is still running (process {meta.child_pid}), "
            "although the gittree that started it is gone",
            hint="let it finish or stop it, then run gittree recover again",
        )


def _finish_abandoned_run(meta: RunMeta, run_dir: Path) -> None:
    """The gittree that ran this was killed: journal what the run left behind, as a failed run."""
    log = run_dir / journal.OUTPUT_LOG
    try:
        meta.end = log.stat().st_mtime
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        meta.end, text = meta.start, ""
    meta.duration = round(max(0.0, meta.end - meta.start), 3)
    meta.outcome = "failed"
    meta.interrupted = meta.interrupted or "lost"
    parser = CaptureParser(meta.capture)
    parser.feed_text(text)
    meta.warnings.extend(parser.warnings())  # values the log printed that the format refuses
    collect_metrics(meta, run_dir, parser.pairs())
    meta.status = journal.PENDING
    meta.reason = "gittree stopped during the run (killed?): committed as failed, with what it left"
    journal.save_meta(run_dir, meta)


def _already_landed(repo: gitio.Repo, meta: RunMeta) -> str | None:
    """A previous attempt may have moved the branch and died before writing it down: look for it, on the
    branch and on the branch a sibling lands on (:func:`sibling_ref`)."""
    needle = f"Gittree-Run: id={meta.id}"
    for ref in (meta.target, sibling_ref(meta)):
        tip = gitio.ref_sha(repo, ref)
        if tip is None:
            continue
        for count, record in enumerate(gitio.read_commits(repo, [tip], with_notes=False)):
            if needle in record.message.splitlines():
                return record.sha
            if count >= 1000:
                break
    return None


#: Where a run lands when its branch moved while it ran (another run landed first): ``run/<run id>``.
SIBLING_PREFIX = "run/"


def sibling_ref(meta: RunMeta) -> str:
    return f"refs/heads/{SIBLING_PREFIX}{meta.group or meta.id}"


def _mark_committed(meta: RunMeta, run_dir: Path, sha: str) -> RunMeta:
    """Not durable: after a crash of the machine the entry says ``committing``, and recover finds the
    commit that landed (:func:`_already_landed`) instead of committing again."""
    meta.status = journal.COMMITTED
    meta.sha = sha
    meta.reason = None
    journal.save_meta(run_dir, meta, durable=False)
    return meta


def run_facts(meta: RunMeta, *, dirty: bool) -> list[tuple[str, str]]:
    """The ``Gittree-Run`` facts of a run (docs/runs.md): command, outcome, duration, id."""
    facts = [("cmd", _one_line(shlex.join(meta.template or meta.command)))]
    cwd = _relative_cwd(meta)
    if cwd:
        facts.append(("cwd", _one_line(cwd)))
    if meta.exit_code is not None:
        facts.append(("exit", str(meta.exit_code)))
    if meta.signal:
        facts.append(("signal", meta.signal))
    if meta.interrupted:
        facts.append(("interrupted", meta.interrupted))
    if meta.duration is not None:
        facts.append(("duration", f"{meta.duration:.3f}"))
    facts.append(("id", meta.id))
    if meta.outcome == "failed" and meta.stderr_last:
        # A failed run's reason (docs/runs.md): its last error line, as views show it.
        facts.append(("stderr", _one_line(meta.stderr_last)))
    if meta.seed is not None:
        facts.append(sample_fact(meta))
    if dirty:
        facts.append(("dirty", "true"))
    return facts


def group_facts(metas: Sequence[RunMeta], *, dirty: bool) -> list[tuple[str, str]]:
    """The facts of a group committed as one experiment: the command as written (``{seed}`` in it), the
    wall-clock time from the first start to the last end, the lead's id, and one ``seed.S`` per sample."""
    if len(metas) == 1:
        return run_facts(metas[0], dirty=dirty)
    lead = metas[0]
    facts = [("cmd", _one_line(shlex.join(lead.template or lead.command)))]
    cwd = _relative_cwd(lead)
    if cwd:
        facts.append(("cwd", _one_line(cwd)))
    ends = [meta.end for meta in metas if meta.end is not None]
    if ends:
        facts.append(("duration", f"{max(ends) - min(meta.start for meta in metas):.3f}"))
    facts.append(("id", lead.id))
    facts += [sample_fact(meta) for meta in metas]
    if dirty:
        facts.append(("dirty", "true"))
    return facts


def sample_fact(meta: RunMeta) -> tuple[str, str]:
    """``seed.S=exit 0, 12.301 s, run ID``: how one sample ended (docs/runs.md, "Seeds and samples")."""
    from gittree.runs.samples import outcome_text, sample_fact_name

    text = outcome_text(
        exit_code=meta.exit_code,
        signal=meta.signal,
        interrupted=meta.interrupted,
        duration=meta.duration,
        run_id=meta.id,
    )
    return sample_fact_name(meta.seed, meta.id), text


def _relative_cwd(meta: RunMeta) -> str:
    """Where the command ran, relative to the top of the working tree ('' at the top or outside it)."""
    try:
        relative = Path(meta.cwd).relative_to(Path(meta.worktree))
    except ValueError:
        return ""
    return "" if str(relative) == "." else relative.as_posix()


def _one_line(text: str) -> str:
    """Control characters shown as escapes: a trailer value is one line of plain text."""
    from gittree.render.escape import is_unsafe_char

    return "".join(repr(ch)[1:-1] if is_unsafe_char(ch) and ord(ch) < 0x100 else ch for ch in text)


def default_subject(meta: RunMeta) -> str:
    subject = "run: " + _one_line(shlex.join(meta.template or meta.command))
    return subject if len(subject) <= SUBJECT_WIDTH else subject[: SUBJECT_WIDTH - 1] + "…"


def _commit(
    repo: gitio.Repo,
    metas: list[RunMeta],
    dirs: list[Path],
    hooks: Path | None = None,
    settings: gitio.CommitSettings | None = None,
) -> CommitResult:
    """Commit a run (or a group, as one experiment), or add it to the experiment it repeats as samples."""
    from gittree.record.commit import prepare_entry, verify_recorded
    from gittree.runs import treecommit

    lead, lead_dir = metas[0], dirs[0]
    try:
        tree, dirty = lead.tree, False
        if tree is None:  # the snapshot failed when the run started: save the code as it is now
            tree = treecommit.snapshot(_worktree_repo(repo, lead), lead_dir, add_untracked=lead.add_untracked)
            dirty = True
        elif lead.sample_of is not None:  # gittree rerun: the code is the commit's own, unless a filter
            dirty = gitio.tree_of(repo, lead.sample_of) != tree  # rewrote a file on checkout
        # a later run of the group ran code edited after the group saved it (docs/runs.md)
        dirty = dirty or any(meta.code_changed for meta in metas)
        metrics = [f"{name}={value}" for path in dirs for name, value in collected_metrics(path)]
        entry = prepare_entry(
            lead.name or default_subject(lead),
            metrics=metrics,
            params=[f"{name}={value}" for name, value in lead.params],
            notes=lead.notes,
            status="failed" if all(meta.outcome != "ok" for meta in metas) else None,
            run=group_facts(metas, dirty=dirty),
        )
        read: dict[str, CommitRecord] = {}  # the commits the repeat check read, for _add_samples
        repeated, repeats = (
            (None, None) if dirty else _repeated_experiment(repo, lead, tree, entry.params, read)
        )
    except GittreeError as e:
        for meta, path in zip(metas, dirs, strict=True):
            _mark_failed(meta, path, e.message)
        raise
    if repeated is not None:
        return _add_samples(repo, repeated, metas, dirs, entry.metrics, dirty=dirty, read=read.get(repeated))
    settings = settings or gitio.commit_settings(repo)
    plan = treecommit.TreeCommit(
        tree=tree,
        target=lead.target,
        head=lead.head,
        base=lead.base,
        message=entry.full_message(settings.comment),
        worktree=Path(lead.worktree),
        scratch=lead_dir,
        author_date=_git_date(max((meta.end or meta.start) for meta in metas)),
        reflog=f"gittree run {lead.id}",
        lock_timeout=_lock_timeout(),
        sibling=sibling_ref(lead),
        hooks=hooks,
        sign=settings.sign,
        encoding=settings.encoding or "",
        repeats=repeats,
    )
    for meta, path in zip(metas, dirs, strict=True):
        meta.status = journal.COMMITTING
        meta.attempts += 1
        journal.save_meta(path, meta)
    try:
        made = treecommit.commit_tree_as_written(repo, plan)
    except treecommit.RepeatLanded as first:
        # Another run of the same code and command landed while this one ran (or was being committed):
        # this run is one more sample of it, as if it had ended second (docs/runs.md).
        return _add_samples(
            repo, first.sha, metas, dirs, entry.metrics, dirty=dirty, read=read.get(first.sha)
        )
    except GittreeError as e:
        for meta, path in zip(metas, dirs, strict=True):
            _mark_failed(meta, path, e.message + (f" (hint: {e.hint})" if e.hint else ""))
        raise
    except BaseException:
        for meta, path in zip(metas, dirs, strict=True):
            _mark_failed(meta, path, "interrupted while committing")
        raise
    sha, landed = made.sha, made.ref
    warnings: list[str] = []
    if made.not_in_encoding is not None:
        warnings.append(
            f"the commit message holds characters that {made.not_in_encoding} (i18n.commitEncoding) cannot "
            "store: it was stored as UTF-8"
        )
    try:
        # The message as written is the commit's own when no hook ran and there is no encoding to
        # store it in; else it is read back, decoded by its header as every reader decodes it.
        verify_recorded(repo, sha, entry, message=made.message if settings.encoding is None else None)
    except TrailersLostError:
        # A commit-msg hook rewrote the message: the results go into the commit's note instead.
        gitio.append_note(repo, sha, _trailer_lines(entry))
        warnings.append("a commit-msg hook removed the trailers; the results were attached as a git note")
    warnings += _store_curves(repo, sha, metas, dirs)
    for meta, path in zip(metas, dirs, strict=True):
        if landed != meta.target:
            meta.moved_from, meta.target = meta.target, landed
        meta.warnings.extend(warnings)
        _mark_committed(meta, path, sha)
    gitio.keep_commits(repo, [sha], reason=f"gittree run {lead.id}")  # nothing tried vanishes (docs/tree.md)
    return CommitResult(lead, sha, warnings=tuple(warnings))


def _repeated_experiment(
    repo: gitio.Repo,
    lead: RunMeta,
    tree: str,
    params: Sequence[tuple[str, str]],
    read: dict[str, CommitRecord] | None = None,
) -> tuple[str | None, _Repeats | None]:
    """The experiment this run repeats, whose results it adds to as samples (docs/runs.md, "Running the
    same code again"): ``gittree rerun``'s commit; else, unless ``--new``, the experiment at the branch's
    tip or where the run started, when its tree, its command (seed aside) and its params equal this run's.
    Also the check itself, for the tip the commit is finally built on (:attr:`treecommit.TreeCommit.repeats`),
    or None when nothing but ``rerun``'s commit can be repeated."""
    if lead.sample_of is not None:
        return lead.sample_of, None
    if lead.new:
        return None, None
    repeats = _Repeats(repo, lead, tree, params, read if read is not None else {})
    candidates = [gitio.ref_sha(repo, lead.target), lead.base]
    for sha in dict.fromkeys(c for c in candidates if c is not None):
        if repeats(sha):
            return sha, repeats
    return None, repeats


@dataclass
class _Repeats:
    """Whether a commit is an experiment ``lead`` repeats: the same tree, command (seed aside) and params.
    Each commit is read once (``read`` keeps it, with its note, for :func:`_add_samples`)."""

    repo: gitio.Repo
    lead: RunMeta
    tree: str
    params: Sequence[tuple[str, str]]
    read: dict[str, CommitRecord]
    answers: dict[str, bool] = field(default_factory=dict)

    def __call__(self, sha: str) -> bool:
        if sha not in self.answers:
            self.answers[sha] = self._repeats(sha)
        return self.answers[sha]

    def _repeats(self, sha: str) -> bool:
        from gittree.runs.samples import without_seed

        commit = gitio.read_commit(self.repo, sha)
        self.read[sha] = commit
        record = experiment_at(commit)
        if record is None:
            return False
        recorded = record.run_dict().get("cmd")
        if recorded is None or sorted(record.params) != sorted(self.params):
            return False
        # Compared as the fact is written (control characters escaped): a command holding a newline
        # (``python -c "<script>"``) was split back from its escaped fact into other arguments, and
        # never counted as the same command.
        command = _one_line(shlex.join(without_seed(self.lead.template or self.lead.command)))
        try:
            same_command = _one_line(shlex.join(without_seed(shlex.split(recorded)))) == command
        except ValueError:  # not a shell-quoted line gittree wrote
            return False
        return same_command and gitio.tree_of(self.repo, sha) == self.tree


def experiment_at(commit: CommitRecord) -> ExperimentRecord | None:
    """What a commit records, its note included (as every view reads it)."""
    from gittree.tree import experiment_of

    return experiment_of(commit)


def _add_samples(
    repo: gitio.Repo,
    sha: str,
    metas: list[RunMeta],
    dirs: list[Path],
    metrics: Sequence[tuple[str, str]],
    *,
    dirty: bool,
    read: CommitRecord | None = None,
) -> CommitResult:
    """Append the runs' results to ``sha``'s note: one paragraph, as ``gittree record`` adds a seed.
    ``read``: the commit with its note, read moments ago (finding that the run repeats it), not read
    again (issue 19)."""
    commit = read if read is not None else gitio.read_commit(repo, sha)
    record = experiment_at(commit)
    note = commit.note or ""
    if f"run {metas[0].id}" not in note:  # not added already by an attempt cut short
        revived = record is not None and record.status == "failed" and any(m.outcome == "ok" for m in metas)
        lines = format_trailer_lines(
            metrics=metrics,
            # The experiment failed until now, and a sample succeeded: it is failed no longer.
            status="ok" if revived else None,
            run=[sample_fact(meta) for meta in metas] + ([("dirty", "true")] if dirty else []),
        )
        try:
            gitio.append_note(repo, sha, lines)
        except GittreeError as e:
            for meta, path in zip(metas, dirs, strict=True):
                _mark_failed(meta, path, e.message)
            raise
    warnings = _store_curves(repo, sha, metas, dirs)
    for meta, path in zip(metas, dirs, strict=True):
        meta.sample = True
        meta.warnings.extend(warnings)
        _mark_committed(meta, path, sha)
    gitio.keep_commits(repo, [sha], reason=f"gittree run {metas[0].id}")  # a recorded result is kept too
    return CommitResult(metas[0], sha, warnings=tuple(warnings))


#: Where DVCLive writes its metric histories, under the folder the command ran in: ``gittree.curves``'s
#: ``DVCLIVE_METRICS``, spelled here so that a run that logged no curve does not import that module.
_DVCLIVE_METRICS = "dvclive/plots/metrics"


def _may_have_curves(metas: list[RunMeta], dirs: list[Path]) -> bool:
    """Whether any of the runs may have logged a curve (it logged metrics with ``gittree.log_metric``, or
    DVCLive wrote histories where it ran): the curves' modules cost a run milliseconds to import, and
    most runs log none (issue 19)."""
    for meta, path in zip(metas, dirs, strict=True):
        with contextlib.suppress(OSError):
            if (path / journal.LOGGED_METRICS).stat().st_size > 0:
                return True
        if (Path(meta.cwd) / _DVCLIVE_METRICS).is_dir():
            return True
    return False


def _store_curves(repo: gitio.Repo, sha: str, metas: list[RunMeta], dirs: list[Path]) -> list[str]:
    """Keep the runs' logged curves with the experiment in git (docs/format.md, "Curves"). The commit has
    landed: a curve that cannot be written is a warning (the whole curve stays in the journal)."""
    if not _may_have_curves(metas, dirs):
        return []
    from gittree.runs.curves import store_curves

    try:
        store_curves(repo, sha, list(zip(metas, dirs, strict=True)))
    except GittreeError as e:
        return [f"the curves were not stored in git ({e.message}); they stay in the run's journal"]
    return []


def _trailer_lines(entry: ExperimentEntry) -> list[str]:
    return format_trailer_lines(
        metrics=entry.metrics, params=entry.params, notes=entry.notes, status=entry.status, run=entry.run
    )


def _mark_failed(meta: RunMeta, run_dir: Path, reason: str) -> None:
    meta.status = journal.COMMIT_FAILED
    meta.reason = reason
    with contextlib.suppress(GittreeError):
        journal.save_meta(run_dir, meta)


def _worktree_repo(repo: gitio.Repo, meta: RunMeta) -> gitio.Repo:
    path = Path(meta.worktree)
    if repo.worktree is not None and path.resolve() == repo.worktree:
        return repo
    return gitio.open_repo(path) if path.is_dir() else repo


def _git_date(stamp: float) -> str:
    return journal.iso_time(stamp)


def _lock_timeout() -> float:
    text = os.environ.get(LOCK_TIMEOUT_ENV, "")
    try:
        return max(0.0, float(text)) if text else 10.0
    except ValueError:
        return 10.0
