"""The journal's own safety nets: never commit a run twice, never trust a lock or a host blindly."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gittree.trailers import parse_experiment
from tests.conftest import GitRepo
from tests.runtools import journal, only_run, py, run_dir


def edit_meta(repo: GitRepo, run_id: str, **changes: object) -> None:
    path = run_dir(repo.path, run_id) / "meta.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_a_commit_made_just_before_gittree_died_is_not_made_twice(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.5')")).code == 0
    entry = only_run(repo.path)
    # As if gittree was killed after moving the branch but before writing "committed" down.
    edit_meta(repo, entry["id"], status="committing", sha=None, pid=dead_pid())
    assert "pending" in gittree("runs").out
    result = gittree("recover")
    assert result.code == 0 and "already committed" in result.out
    assert repo.git("rev-list", "--count", "HEAD").strip() == "2"
    assert only_run(repo.path)["sha"] == repo.head()


def test_a_stale_lock_from_a_dead_process_is_broken(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("run", "--no-commit", "--", "true").code == 0
    entry = only_run(repo.path)
    from gittree.runs.journal import this_host

    (run_dir(repo.path, entry["id"]) / "lock").write_text(f"{dead_pid()} {this_host()}\n")
    assert gittree("recover", entry["id"]).code == 0
    assert not (run_dir(repo.path, entry["id"]) / "lock").exists()


def test_a_live_lock_is_respected(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("run", "--no-commit", "--", "true").code == 0
    entry = only_run(repo.path)
    import os

    from gittree.runs.journal import this_host

    (run_dir(repo.path, entry["id"]) / "lock").write_text(f"{os.getpid()} {this_host()}\n")
    result = gittree("recover", entry["id"])
    assert result.code == 11 and "being committed by another process" in result.err


def test_a_run_on_another_machine_needs_force(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    start = repo.commit("start")
    assert gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.1')")).code == 0
    entry = only_run(repo.path)
    edit_meta(repo, entry["id"], status="running", host="gpu-node-7", pid=1)
    assert "on gpu-node-7" in gittree("runs").out
    assert gittree("recover").out.startswith("nothing to recover")  # it may still be running there
    refused = gittree("recover", entry["id"])
    assert refused.code == 11 and "--force" in refused.err and repo.head() == start
    assert gittree("recover", "--force", entry["id"]).code == 0
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.status == "failed" and record.metric_dict() == {"acc": (0.1,)}


def test_a_hook_that_strips_the_trailers_does_not_lose_the_results(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\nsed -i '/^Gittree-/d' \"$1\"\n")
    hook.chmod(0o755)
    result = gittree("run", "--capture", "acc", "--", *py("print('acc: 0.8')"))
    assert result.code == 0 and "attached as a git note" in result.err
    assert "Gittree-" not in repo.git("log", "-1", "--format=%B")
    shown = json.loads(gittree("show", "--json").out)["nodes"]
    assert shown[-1]["metrics"]["acc"]["samples"] == [0.8]
    assert shown[-1]["run"]["id"] == only_run(repo.path)["id"]


def test_when_the_code_cannot_be_saved_at_the_start_the_commit_says_dirty(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    (repo.path / ".git" / "index").write_bytes(b"not an index")  # git cannot read it: no snapshot
    # The run itself repairs the index, so that the commit can save the code at the end.
    script = (
        "import os, subprocess; os.remove('.git/index'); subprocess.run(['git', 'reset', '-q'], check=True)"
    )
    assert gittree("run", "--", *py(script)).code == 0
    entry = only_run(repo.path)
    assert entry["snapshot_error"] and entry["status"] == "committed"
    record = parse_experiment(repo.git("log", "-1", "--format=%B"))
    assert record is not None and record.run_dict()["dirty"] == "true"


def test_an_unreadable_entry_is_listed_not_fatal(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("start")
    assert gittree("run", "--no-commit", "--", "true").code == 0
    entry = only_run(repo.path)
    (run_dir(repo.path, entry["id"]) / "meta.json").write_text("{ torn")
    listing = gittree("runs")
    assert listing.code == 0 and "unreadable" in listing.out
    assert gittree("recover", entry["id"]).code == 11


@pytest.mark.parametrize(
    "damage",
    [
        lambda meta: [],  # valid JSON, not an object
        lambda meta: {**meta, "start": None},
        lambda meta: {**meta, "duration": "abc"},
        lambda meta: {**meta, "command": None},
        lambda meta: {**meta, "warnings": None},
        lambda meta: {**meta, "params": [["lr"], 3]},
        lambda meta: {**meta, "schema": 99},  # a newer gittree's entry: not guessed at
    ],
)
def test_an_entry_of_valid_json_but_the_wrong_shape_is_unreadable_not_a_traceback(
    repo: GitRepo, gittree, damage
) -> None:  # type: ignore[no-untyped-def]
    # Regression: each of these made `runs`, `runs ID` or `recover` end in a traceback (exit 1), and
    # schema 99 was read as schema 1 and committed.
    repo.commit("start")
    assert gittree("run", "--no-commit", "--", "true").code == 0
    entry = only_run(repo.path)
    meta = run_dir(repo.path, entry["id"]) / "meta.json"
    meta.write_text(json.dumps(damage(json.loads(meta.read_text()))))
    for args in (("runs",), ("runs", "--json"), ("runs", entry["id"]), ("recover", entry["id"])):
        result = gittree(*args)
        assert "Traceback" not in result.err and result.code in (0, 11), (args, result.err)
    assert "unreadable" in gittree("runs").out
    assert gittree("recover", entry["id"]).code == 11 and repo.git("log", "--oneline").count("\n") == 1


def test_every_journal_field_has_a_type_check() -> None:
    from gittree.runs import journal

    kinds = {annotation.removesuffix(" | None") for annotation in journal._FIELD_TYPES.values()}
    assert kinds <= set(journal._CHECKS)


def test_a_run_still_in_its_post_run_step_is_left_to_its_own_gittree(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    import os

    start = repo.commit("start")
    assert gittree("run", "--no-commit", "--", "true").code == 0
    entry = only_run(repo.path)
    # As seen while a live `gittree run` (this process) is between finishing and committing.
    edit_meta(repo, entry["id"], status="pending", reason=None, done=False, pid=os.getpid())
    assert "is finishing it" in gittree("runs").out
    assert gittree("recover").out.startswith("nothing to recover") and repo.head() == start
    edit_meta(repo, entry["id"], done=True)
    assert gittree("recover").code == 0 and repo.head() != start


def test_a_run_syncs_what_must_survive_a_crash_and_only_that(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """docs/runs.md, "Durability": the entry before the command, the metrics and the pending state when it
    ends, and the committing state are each made durable with a sync of their folder; the states a crash
    may lose (started, committed, done) are synced as files only (never an empty file), folder not."""
    import os
    from pathlib import Path

    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if ".git" in path.parts:
            name = path.name  # a JSON file is synced as its temporary file: .meta.json.PID.RANDOM.tmp
            synced.append(name.split(".")[1] if name.startswith(".") else name)
        real_fsync(fd)

    repo.experiment("base", metrics=[("acc", 0.5)])
    monkeypatch.setattr(os, "fsync", recording_fsync)
    assert gittree("run", "--new", "--capture", "acc", "--", *py("print('acc: 0.6')")).code == 0
    monkeypatch.setattr(os, "fsync", real_fsync)
    run_id = only_run(repo.path)["id"]
    folder = run_id  # the run's folder, synced after a rename in it
    assert synced == [
        "runs",  # the journal's folder: the new entry
        "meta",  # running, before the command starts
        folder,
        "meta",  # started: the code saved, the command's process id (no folder sync)
        "output.log",  # when the command ended
        "metrics",
        "meta",  # pending: with metrics.json, made durable by one sync of the folder
        folder,
        "meta",  # committing
        folder,
        "index.lock",  # the index of the worktree, moved with the branch (treecommit)
        "meta",  # committed, and done (no folder sync: recover finds the commit that landed)
    ], synced
    meta = json.loads((run_dir(repo.path, run_id) / "meta.json").read_text())
    assert meta["status"] == "committed" and meta["done"] is True and meta["tree"] and meta["child_pid"]


def test_a_story_clock_names_and_times_runs_through_the_seam(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """``journal.RunClock`` is the run code's one clock seam (the demo's): ids and times come from it, the
    command still runs for real, and what the clock said is what the commit and the journal hold."""
    from gittree.runs import journal

    class Story(journal.RunClock):
        def __init__(self) -> None:
            self.runs = 0

        def new_run_id(self) -> str:
            self.runs += 1
            return f"20260101-000000-1-{self.runs:06x}"

        def ran(self, meta: journal.RunMeta) -> None:
            meta.start, meta.end, meta.duration = 1767225600.0, 1767225600.0 + 90, 90.0

    repo.experiment("base", metrics=[("acc", 0.5)])
    with journal.clock_of_runs(Story()):
        assert gittree("run", "--new", "--capture", "acc", "--", *py("print('acc: 0.6')")).code == 0
    after = gittree("run", "--new", "--capture", "acc", "--", *py("print('acc: 0.7')"))
    assert after.code == 0
    message = repo.git("log", "-1", "--format=%B", "HEAD~1")
    assert "Gittree-Run: id=20260101-000000-1-000001" in message and "Gittree-Run: duration=90" in message
    story = json.loads((run_dir(repo.path, "20260101-000000-1-000001") / "meta.json").read_text())
    assert story["duration"] == 90.0 and story["start"].startswith(("2026-01-01", "2025-12-31"))
    assert "20260101-000000-1-000001" not in repo.git(
        "log", "-1", "--format=%B", "HEAD"
    )  # the machine's again


# -- the journal's times, written and read without datetime (issue 19); datetime is the oracle -------

#: Time zones of every shape: UTC, whole hours with daylight saving, half hours, a quarter hour, west of
#: UTC, and an offset in seconds (Monrovia's before 1972).
ZONES = [
    "UTC0",
    "Europe/Paris",
    "America/St_Johns",
    "Asia/Kathmandu",
    "America/Los_Angeles",
    "Africa/Monrovia",
]


@pytest.fixture(params=ZONES)
def zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import time

    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


STAMPS = [
    0.0,
    0.0005,
    0.9995,
    0.9999995,
    1.5,
    63072000.0004999,
    1733570657.1235,
    1733570657.9999996,
    4e9 + 0.25,
]


def test_journal_times_are_written_and_read_as_datetime_does(zone: str) -> None:
    from datetime import datetime, timezone

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from gittree.runs.journal import iso_time, iso_timestamp

    def check(stamp: float) -> None:
        moment = datetime.fromtimestamp(stamp, timezone.utc).astimezone()
        for spec in ("seconds", "milliseconds"):
            written = iso_time(stamp, milliseconds=spec == "milliseconds")
            assert written == moment.isoformat(timespec=spec), (stamp, spec)
        text = moment.isoformat(timespec="milliseconds")
        assert iso_timestamp(text) == datetime.fromisoformat(text).timestamp(), text

    for stamp in STAMPS:
        check(stamp)
    settings(max_examples=300, deadline=None)(given(st.floats(min_value=-2e9, max_value=4.1e9))(check))()


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T10:00:00.000+01:00",  # no such day
        "2026-12-07T24:00:00.000+00:00",
        "2026-12-07T10:00:60.000+00:00",
        "2026-12-07T10:00:00.000+24:00",
        "2026-12-07T10:00:00.000+05:60",
        "2026-12-07T10:00:00+05:30",  # other shapes datetime reads
        "2026-12-07 10:00:00.123456-03:30",
        "2026-12-07T10:00:00.000Z",
        "2024-02-29T23:59:59.999-00:30",
        "not a time",
    ],
)
def test_journal_times_of_other_shapes_are_read_as_datetime_reads_them(text: str) -> None:
    from datetime import datetime

    from gittree.runs.journal import iso_timestamp

    try:
        expected: float | str = datetime.fromisoformat(text).timestamp()
    except ValueError as e:
        expected = f"ValueError: {e}"
    try:
        found: float | str = iso_timestamp(text)
    except ValueError as e:
        found = f"ValueError: {e}"
    assert found == expected


def _note(repo: GitRepo, rev: str = "HEAD") -> str:
    return repo.git("notes", "--ref", "gittree", "show", rev)


def test_a_run_recorded_with_record_run_is_recorded_once(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # The guide: a --no-commit run joins an experiment with `gittree record REV --run RUN_ID`. The journal
    # then says it is recorded there, and neither `recover` (its old hint) nor a second record counts it again.
    repo.commit("start")
    assert gittree("run", "--capture", "acc", "-m", "base", "--", *py("print('acc: 0.5')")).code == 0
    base = repo.head()
    assert gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.7')")).code == 0
    (entry,) = [entry for entry in journal(repo.path) if entry["status"] == "not-committed"]
    assert gittree("record", "HEAD", "--run", entry["id"]).code == 0
    assert _note(repo).count(f"run {entry['id']}") == 1
    recorded = next(e for e in journal(repo.path) if e["id"] == entry["id"])
    assert recorded["status"] == "committed" and recorded["recorded"] and recorded["sha"] == base
    listing = gittree("runs").out
    (row,) = [line for line in listing.splitlines() if line.startswith(entry["id"])]
    assert " recorded " in row and base[:7] in row and "recover" not in listing
    assert "recorded: on " + base[:7] in gittree("runs", entry["id"]).out
    result = gittree("recover", entry["id"])
    assert result.code == 0 and f"was already recorded on {base[:7]}" in result.out, result
    again = gittree("record", "HEAD", "--run", entry["id"])
    assert again.code == 11 and "already recorded" in again.err and "twice" in again.err
    assert repo.head() == base and repo.git("rev-list", "--count", "--branches").strip() == "2"
    assert _note(repo).count(f"run {entry['id']}") == 1
    assert "nothing to recover" in gittree("recover").out


def test_a_record_run_cut_short_is_finished_by_recover_once(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # docs/runs.md, "Durability": the entry says committing towards REV before the note is written, and
    # "recorded" is written after it without a sync. Either way, recover adds the run to REV exactly once.
    repo.commit("start")
    assert gittree("run", "--capture", "acc", "--", *py("print('acc: 0.5')")).code == 0
    base = repo.head()
    assert gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.6')")).code == 0
    assert gittree("run", "--no-commit", "--capture", "acc", "--", *py("print('acc: 0.7')")).code == 0
    before_note, after_note = [e["id"] for e in journal(repo.path) if e["status"] == "not-committed"]
    # Killed before the note was written: the entry is committing towards REV, the note lacks the run.
    edit_meta(
        repo, before_note, status="committing", attempts=1, sample_of=base, recorded=True, pid=dead_pid()
    )
    # Killed after the note, before "recorded" was written down (or the machine lost that write).
    assert gittree("record", "HEAD", "--run", after_note).code == 0
    edit_meta(repo, after_note, status="committing", sha=None, sample=False, pid=dead_pid())
    assert gittree("record", "HEAD", "--run", after_note).code == 11  # found in the note: not twice
    result = gittree("recover")
    assert result.code == 0 and f"{before_note} recorded on {base[:7]}" in result.out, result
    assert all(entry["status"] == "committed" and entry["sha"] == base for entry in journal(repo.path))
    note = _note(repo)
    assert note.count(f"run {before_note}") == 1 and note.count(f"run {after_note}") == 1
    assert repo.head() == base and repo.git("rev-list", "--count", "--branches").strip() == "2"


def test_one_seed_of_a_group_is_not_recorded_alone(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Its seeds are committed together as one experiment: recording one of them elsewhere would have the
    # group's recover take the others for recorded too, or count that seed twice.
    repo.commit("start")
    code = "import os; print('acc: 0.' + os.environ['GITTREE_SEED'])"
    assert gittree("run", "--no-commit", "--seeds", "5,6", "--capture", "acc", "--", *py(code)).code == 0
    seed = journal(repo.path)[1]["id"]
    result = gittree("record", "HEAD", "--run", seed)
    assert result.code == 11 and "one seed of a group" in result.err
    assert repo.git("notes", "--ref", "gittree", "list") == ""
    assert all(entry["status"] == "not-committed" for entry in journal(repo.path))
