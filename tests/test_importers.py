"""Reading another tool's log into the tree (gittree/importers/__init__.py), called directly.

The command line's behaviour is in test_import_autoresearch.py and test_import_more.py; here the
module's own steps are used as a program would: parse a log, check its rows against a real
repository, write the report, and read back what was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gittree import gitio, importers
from gittree.errors import BadValueError
from gittree.importers import autoresearch, plan
from gittree.model import ImportReport, RowOutcome
from tests.conftest import GitRepo

HEADER = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"


def test_the_report_classes_are_the_models_the_importer_fills() -> None:
    assert plan.ImportReport is ImportReport and plan.RowOutcome is RowOutcome
    report = ImportReport("log.tsv", [RowOutcome(2, "a1b2c3d", "keep", "record", "ok")])
    assert report.count("record") == 1 and report.errors == []


def test_parse_log_reads_the_header_and_keeps_malformed_rows_as_errors() -> None:
    # A short row is padded (editors drop trailing tabs); a row with more cells than the header cannot be read.
    text = (
        HEADER
        + "a1b2c3d\t0.99\t44.0\tkeep\tbaseline\r\n\nb2c3d4e\t1.01\t\tdiscard\nc3d4e5f\t1\t2\tkeep\tx\ty\n"
    )
    columns, rows, malformed = autoresearch.parse_log(text)
    assert columns.names == ("commit", "val_bpb", "memory_gb", "status", "description")
    assert [(row.line, row.commit, row.logged_status, row.cells["val_bpb"]) for row in rows] == [
        (2, "a1b2c3d", "keep", "0.99"),
        (4, "b2c3d4e", "discard", "1.01"),
    ]
    assert rows[1].cells["description"] == ""
    assert [(bad.line, bad.action) for bad in malformed] == [(5, "error")]
    assert "6 tab-separated cells, the header has 5" in malformed[0].message


def test_parse_log_without_a_header_uses_the_default_columns() -> None:
    columns, rows, _ = autoresearch.parse_log("a1b2c3d\t0.99\t44.0\tKEEP\tbaseline\n")
    assert (
        columns.names == autoresearch.DEFAULT_COLUMNS and rows[0].logged_status == "KEEP"
    )  # as written; statuses are read case-blind later


def test_a_header_that_does_not_start_with_commit_is_refused() -> None:
    with pytest.raises(BadValueError, match="looks like a header row"):
        autoresearch.parse_log("sha\tval_bpb\tstatus\n")
    with pytest.raises(BadValueError, match="no 'status' column"):
        autoresearch.parse_log("commit\tval_bpb\n")


def history(repo: GitRepo) -> dict[str, str]:
    """A kept baseline on main, and an idea that was discarded and reset away (only the reflog has it)."""
    shas = {"base": repo.commit("baseline")}
    shas["gelu"] = repo.commit("switch to GeLU")
    repo.git("reset", "-q", "--hard", shas["base"])
    return shas


def write_log(repo: GitRepo, rows: str) -> Path:
    path = repo.path.parent / "results.tsv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_check_rows_plans_notes_and_keep_alive_refs_and_writes_nothing(repo: GitRepo) -> None:
    shas = history(repo)
    text = (
        HEADER
        + f"{shas['base'][:7]}\t0.9979\t44.0\tkeep\tbaseline\n{shas['gelu'][:7]}\t1.005\t44.2\tdiscard\tGeLU hurt\n"
    )
    git = gitio.open_repo(repo.path)
    report = plan.check_rows(git, text, "results.tsv")
    base, gelu = report.rows
    assert (base.action, base.sha, base.kept_ref) == ("record", shas["base"], None)
    assert (gelu.action, gelu.sha) == ("record", shas["gelu"])
    assert gelu.kept_ref == gitio.KEEP_REF  # unreachable: the keep ref keeps it alive
    assert "Gittree-Status: abandoned" in gelu.lines and "Gittree-Note: GeLU hurt" in gelu.lines
    assert "Gittree-Metric: val_bpb=1.005" in gelu.lines and "Gittree-Run: memory_gb=44.2" in gelu.lines
    assert not report.written and gitio.read_notes(git) == {}


def test_import_log_writes_the_notes_and_a_second_import_is_a_no_op(repo: GitRepo) -> None:
    shas = history(repo)
    log = write_log(repo, f"{shas['gelu']}\t1.005\t44.2\tdiscard\tGeLU hurt\n")
    git = gitio.open_repo(repo.path)
    first = importers.import_log(git, log)
    assert first.written and first.count("record") == 1
    notes = gitio.read_notes(git)
    assert "Gittree-Status: abandoned" in notes[shas["gelu"]]
    assert shas["gelu"] in gitio.kept_shas(gitio.open_repo(repo.path))
    again = importers.import_log(git, log)
    assert not again.written and [row.action for row in again.rows] == ["already imported"]
    assert gitio.read_notes(git) == notes


def test_with_strict_a_row_in_error_means_nothing_is_written(repo: GitRepo) -> None:
    shas = history(repo)
    log = write_log(
        repo, f"{shas['base']}\t0.99\t44.0\tkeep\tbaseline\n{shas['base']}\tfast\t44.0\tkeep\tx\ty\n"
    )
    git = gitio.open_repo(repo.path)
    report = importers.import_log(git, log, strict=True)
    assert [row.action for row in report.rows] == ["record", "error"]
    assert not report.written and gitio.read_notes(git) == {}
    assert importers.import_log(git, log, dry_run=True).written is False
    # Without --strict the row that cannot be read is skipped and the rest imported.
    lenient = importers.import_log(git, log)
    assert [row.action for row in lenient.rows] == ["record", "skipped"] and lenient.written
    with pytest.raises(BadValueError, match="unknown import format"):
        importers.import_log(git, log, fmt="wandb")


def test_objects_are_written_in_one_pack_with_the_ids_git_gives_them(repo: GitRepo) -> None:
    """gitio.write_objects sends one pack to one git process: git computes the same ids (git is the
    oracle), a batch of 100 or more is one pack file, a few objects are loose (transfer.unpackLimit)."""
    handle = gitio.open_repo(repo.path)
    blobs = [f"note {i}\n".encode() for i in range(150)] + [b"note 0\n"]  # one twice: stored once
    ids = gitio.write_blobs(handle, blobs)
    assert len(ids) == 151 and ids[0] == ids[-1]
    for blob, sha in zip(blobs[:5], ids[:5], strict=True):
        assert repo.git("hash-object", "--stdin", input=blob.decode()).strip() == sha
        assert repo.git("cat-file", "blob", sha) == blob.decode()
    packs = list((repo.path / ".git" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1 and "count: 0\n" in repo.git("count-objects", "-v")  # one pack, nothing loose
    empty = gitio.EMPTY_TREE
    commit = f"tree {empty}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nx\n"
    (sha,) = gitio.write_commit_objects(handle, [commit.encode()])
    assert repo.git("hash-object", "-t", "commit", "--stdin", input=commit).strip() == sha
    assert repo.git("rev-parse", f"{sha}^{{tree}}").strip() == empty
    assert "count: 2\n" in repo.git(
        "count-objects", "-v"
    )  # a few objects: loose (the commit, the empty tree)
    assert len(list((repo.path / ".git" / "objects" / "pack").glob("*.pack"))) == 1
