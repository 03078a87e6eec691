"""`gittree import` beyond one clone and one clean file: several clones importing one log and syncing,
logs that start with a byte order mark or a wrong header, and the summary of an import with nothing new.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gittree.notemerge import merge_note
from tests.conftest import GitRepo
from tests.teamenv import Clone, Team, samples, sync_in_order

HEADER = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"
IMPORTED = b"Gittree-Metric: val_bpb=0.9979\nGittree-Run: memory_gb=44\nGittree-Run: imported=autoresearch"
RECORDED = b"Gittree-Metric: acc=0.51"


@pytest.fixture
def team(tmp_path: Path, gittree) -> Team:  # type: ignore[no-untyped-def]
    return Team(tmp_path, gittree)


def note(*parts: bytes) -> bytes:
    return b"\n\n".join(parts) + b"\n"


def note_text(clone: Clone, sha: str) -> str:
    return clone.git("notes", "--ref", "gittree", "show", sha)


def baseline_log(root: Path, sha: str) -> Path:
    path = root / "results.tsv"
    path.write_text(HEADER + f"{sha[:7]}\t0.9979\t44\tkeep\tbaseline\n", encoding="utf-8")
    return path


# -- one log imported in several clones ----------------------------------------------------------------


def test_the_same_log_imported_in_two_clones_is_one_run_after_sync(team: Team) -> None:
    ada, bob = team.clone("Ada"), team.clone("Bob")
    log = baseline_log(team.root, team.baseline)
    for clone in (ada, bob):
        assert clone.gittree("import", str(log)).code == 0
    sync_in_order([ada, bob, ada])

    for clone in (ada, bob):
        assert note_text(clone, team.baseline).count("Gittree-Run: imported=autoresearch") == 1
        assert samples(clone.tree_json(), "val_bpb")[team.baseline] == [0.9979]
        assert "(2)" not in clone.gittree("show", "--color", "never", "--metric", "val_bpb").out
    assert note_text(ada, team.baseline) == note_text(bob, team.baseline)
    again = bob.gittree("import", str(log))
    assert again.code == 0 and "1 already imported · nothing written" in again.out


def test_identical_records_in_two_clones_stay_two_samples(team: Team) -> None:
    # `gittree record` writes no run id or time: two identical paragraphs are two seeds with one value.
    ada, bob = team.clone("Ada"), team.clone("Bob")
    for clone in (ada, bob):
        assert clone.gittree("record", team.baseline, "--metric", "acc=0.51").code == 0
    sync_in_order([ada, bob, ada])
    for clone in (ada, bob):
        assert samples(clone.tree_json())[team.baseline] == [0.5, 0.51, 0.51]


def test_the_merge_keeps_identical_import_paragraphs_once_and_every_record() -> None:
    assert merge_note(None, note(IMPORTED), note(IMPORTED)) == note(IMPORTED)
    assert merge_note(None, note(IMPORTED, RECORDED), note(IMPORTED, RECORDED)) == (
        note(IMPORTED, RECORDED, RECORDED)
    )
    # the importer's fact is recognised as git reads trailer keys: in any case
    lower = IMPORTED.replace(b"Gittree-Run: imported", b"gittree-run: imported")
    assert merge_note(note(RECORDED), note(RECORDED, lower), note(RECORDED, lower)) == note(RECORDED, lower)
    # two different imports of one commit (the log was edited in between) are both kept
    other = IMPORTED.replace(b"0.9979", b"0.9981")
    assert merge_note(None, note(IMPORTED), note(other)) == note(IMPORTED, other)


# -- what the file looks like ----------------------------------------------------------------------------


def test_a_log_with_a_byte_order_mark_and_crlf_line_ends_is_imported(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.commit("baseline")
    log = repo.path.parent / "bom.tsv"
    log.write_bytes(b"\xef\xbb\xbf" + f"{HEADER.strip()}\r\n{sha[:7]}\t0.98\t44\tkeep\tbaseline\r\n".encode())
    dry = gittree("import", str(log), "--dry-run")
    assert dry.code == 0, dry.out + dry.err
    assert "1 row: 1 to record · nothing written" in dry.out
    assert gittree("import", str(log)).code == 0
    node = json.loads(gittree("show", "--json").out)["nodes"][0]
    assert node["metrics"]["val_bpb"]["samples"] == [0.98]


def test_a_header_that_does_not_start_with_commit_names_the_expected_columns(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.commit("baseline")
    log = repo.path.parent / "results.tsv"
    log.write_text(f"sha\tval_bpb\tstatus\tdescription\n{sha[:7]}\t0.98\tkeep\tbaseline\n", encoding="utf-8")
    result = gittree("import", str(log), "--dry-run")
    assert result.code == 6
    assert "line 1 looks like a header row, but its first column is not 'commit'" in result.err
    assert "'sha', 'val_bpb', 'status', 'description'" in result.err
    assert "commit val_bpb memory_gb status description" in result.err
    assert "malformed row" not in result.out + result.err


def test_a_space_separated_header_is_said_to_hold_no_tab(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("baseline")
    log = repo.path.parent / "results.tsv"
    log.write_text("commit val_bpb memory_gb status description\n", encoding="utf-8")
    result = gittree("import", str(log), "--dry-run")
    assert result.code == 6 and "holds no tab" in result.err


def test_a_first_row_with_a_bad_hash_is_a_row_not_a_header(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Issue 17: an id that is not a hash is a row naming no commit (a reconstructed experiment).
    sha = repo.commit("baseline")
    log = repo.path.parent / "results.tsv"
    log.write_text(f"zz{sha[2:7]}\t0.98\t44\tkeep\tbaseline\n", encoding="utf-8")  # no header
    result = gittree("import", str(log), "--dry-run")
    assert result.code == 0 and "header" not in result.err
    assert f"zz{sha[2:7]}" in result.out and "to reconstruct: names no commit" in result.out


# -- the summary -------------------------------------------------------------------------------------


def test_an_import_with_nothing_new_says_nothing_was_written(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    sha = repo.commit("baseline")
    log = baseline_log(repo.path.parent, sha)
    assert "1 recorded · written" in gittree("import", str(log)).out
    notes = repo.git("rev-parse", "refs/notes/gittree")
    again = gittree("import", str(log))
    assert again.code == 0 and "1 row: 1 already imported · nothing written" in again.out
    assert json.loads(gittree("import", "--json", str(log)).out)["written"] is False
    assert repo.git("rev-parse", "refs/notes/gittree") == notes


def test_a_second_import_that_restores_a_deleted_keep_ref_says_written(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("baseline")
    dead = repo.commit("switch to GeLU")
    repo.git("reset", "-q", "--hard", "HEAD~1")
    log = repo.path.parent / "results.tsv"
    log.write_text(HEADER + f"{dead[:7]}\t1.005\t44\tdiscard\tswitch to GeLU\n", encoding="utf-8")
    assert gittree("import", str(log)).code == 0
    repo.git("update-ref", "-d", "refs/gittree/keep")
    again = gittree("import", str(log))
    assert again.code == 0 and "1 already imported · written" in again.out
    assert repo.git("ls-tree", "-r", "--name-only", "refs/gittree/keep").split() == [f"{dead[:2]}/{dead[2:]}"]
