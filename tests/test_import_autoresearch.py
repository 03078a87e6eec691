"""`gittree import results.tsv --format autoresearch` on logs built from real commits of an agent loop.

The loop commits each idea; a kept idea stays on the branch, a discarded or crashed one is reset away
and survives only in the reflog. The import must record every row on its commit, keep the dead ends
reachable, report each bad row, and never leave a half-applied import behind.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gittree import gitio
from gittree.errors import GitCommandError
from tests.conftest import GitRepo

HEADER = "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n"


def agent_loop(repo: GitRepo) -> dict[str, str]:
    """An autoresearch-style session: keep, keep, discard (reset away), crash (reset away), keep."""
    repo.commit("prepare.py and train.py")
    shas = {"base": repo.commit("baseline")}
    shas["lr"] = repo.commit("increase LR to 0.04")
    shas["gelu"] = repo.commit("switch to GeLU activation")
    repo.git("reset", "-q", "--hard", "HEAD~1")  # discarded: only the reflog remembers it
    shas["wide"] = repo.commit("double the model width")
    repo.git("reset", "-q", "--hard", "HEAD~1")  # crashed: only the reflog remembers it
    shas["warmup"] = repo.commit("add 5% warmup")
    return shas


def results_log(shas: dict[str, str]) -> str:
    return HEADER + "".join(
        f"{shas[key][:7]}\t{bpb}\t{memory}\t{status}\t{description}\n"
        for key, bpb, memory, status, description in [
            ("base", "0.997900", "44.0", "keep", "baseline"),
            ("lr", "0.993200", "44.2", "keep", "increase LR to 0.04"),
            ("gelu", "1.005000", "44.0", "discard", "switch to GeLU activation"),
            ("wide", "0.000000", "0.0", "crash", "double the model width (OOM)"),
            ("warmup", "0.990100", "44.1", "keep", "add 5% warmup"),
        ]
    )


def write_log(repo: GitRepo, text: str, name: str = "results.tsv") -> Path:
    path = repo.path.parent / name  # outside the working tree, as autoresearch leaves it untracked
    path.write_text(text, encoding="utf-8")
    return path


def nodes_by_sha(gittree, *args: str) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    return {n["sha"]: n for n in json.loads(gittree("show", "--json", *args).out)["nodes"]}


def kept(repo: GitRepo) -> list[str]:
    """What gittree's keep ref holds (every experiment gittree wrote, docs/tree.md)."""
    return gitio.kept_shas(gitio.open_repo(repo.path))


def notes_ref(repo: GitRepo) -> str | None:
    out = repo.git("rev-parse", "-q", "--verify", "refs/notes/gittree", check=False).strip()
    return out or None


def object_sharing_prefix(repo: GitRepo, sha: str, kind: str, parent: str | None = None) -> str:
    """Write a real object (commit or blob) whose name starts with the same 4 hex digits as ``sha``."""
    tree = repo.git("rev-parse", f"{sha}^{{tree}}").strip()
    for i in range(10_000_000):
        if kind == "commit":
            body = (
                f"tree {tree}\nparent {parent or sha}\nauthor A <a@b> 1767225600 +0000\n"
                f"committer A <a@b> 1767225600 +0000\n\ncollision {i}\n"
            )
        else:
            body = f"collision {i}\n"
        digest = hashlib.sha1(f"{kind} {len(body)}\0{body}".encode()).hexdigest()
        if digest[:4] == sha[:4] and digest != sha:
            written = repo.git("hash-object", "-t", kind, "-w", "--stdin", input=body).strip()
            assert written == digest
            return digest
    raise AssertionError("no collision found")  # pragma: no cover


# -- the happy path ---------------------------------------------------------------------------------


def test_import_records_every_row_and_keeps_the_dead_ends(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    log = write_log(repo, results_log(shas))
    result = gittree("import", str(log), "--format", "autoresearch")
    assert result.code == 0, result.err
    assert "5 rows: 5 recorded · written" in result.out
    gelu_line = next(line for line in result.out.splitlines() if shas["gelu"][:7] in line)
    assert gelu_line.endswith("kept reachable by refs/gittree/keep")
    assert "refs/gittree/keep" not in next(line for line in result.out.splitlines() if shas["lr"][:7] in line)

    # every imported commit is kept by the one keep ref (the dead ends only survive through it)
    assert kept(repo) == sorted(shas[k] for k in ("base", "lr", "gelu", "wide", "warmup"))

    nodes = nodes_by_sha(gittree, "--all")
    assert set(nodes) == set(shas.values())
    base, gelu, wide = nodes[shas["base"]], nodes[shas["gelu"]], nodes[shas["wide"]]
    assert base["metrics"]["val_bpb"]["samples"] == [0.9979]
    assert base["run"] == {"memory_gb": "44.0", "judged-by": "val_bpb", "imported": "autoresearch"}
    assert base["notes"] == []  # the description only repeats the subject
    assert nodes[shas["warmup"]]["verdict"] == "better" and nodes[shas["warmup"]]["best"]
    assert (gelu["status"], gelu["verdict"], gelu["notes"]) == (
        "abandoned",
        "abandoned",
        ["switch to GeLU activation"],
    )
    assert gelu["parents"] == [shas["lr"]] and gelu["metrics"]["val_bpb"]["mean"] == 1.005
    assert (wide["status"], wide["metrics"], wide["notes"]) == (
        "failed",
        {},
        ["double the model width (OOM)"],
    )
    assert json.loads(gittree("show", "--json").out)["goal"] == "min"  # val_bpb: lower is better

    # `show` draws the dead ends (the keep ref is in every view's scope); HEAD's history alone does not
    shown_all = gittree("show", "--all", "--color", "never").out
    assert f"✗   {shas['gelu'][:7]}" in shown_all or f"✗ {shas['gelu'][:7]}" in shown_all.replace("│ ", "")
    assert shas["wide"][:7] in shown_all
    assert shas["gelu"][:7] in gittree("show", "--color", "never").out
    assert shas["gelu"][:7] not in gittree("show", "HEAD", "--color", "never").out

    # the dead ends and their reasons are in the narrative
    markdown = gittree("export", "-f", "markdown").out
    assert "(abandoned): switch to GeLU activation" in markdown
    assert "(failed): double the model width (OOM)" in markdown


def test_kept_commits_survive_garbage_collection(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    assert gittree("import", str(write_log(repo, results_log(shas)))).code == 0
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    assert repo.git("cat-file", "-t", shas["gelu"]).strip() == "commit"
    assert shas["gelu"] in nodes_by_sha(gittree, "--all")


def test_a_discarded_commit_already_collected_is_reconstructed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    # Issue 17: a row whose commit is gone becomes a reconstructed experiment off the row before it.
    shas = agent_loop(repo)
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")
    result = gittree("import", str(write_log(repo, results_log(shas))))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    gone = [line for line in lines if "reconstructed" in line and line.startswith("line ")]
    assert len(gone) == 2 and "names no commit of this history" in gone[0]
    assert "3 recorded, 2 reconstructed · written" in result.out
    # the summary names the ref that keeps them (it named refs/gittree/kept/, which no import writes now)
    assert (
        "2 rows imported as reconstructed experiments (commits of gittree's own, kept reachable by "
        "refs/gittree/keep); gittree show draws them"
    ) in lines
    assert "refs/gittree/kept/" not in result.out
    nodes = nodes_by_sha(gittree, "--all")
    rebuilt = [node for sha, node in nodes.items() if sha not in shas.values()]
    assert sorted(node["subject"] for node in rebuilt) == [
        "double the model width (OOM)",
        "switch to GeLU activation",
    ]
    assert {node["status"] for node in rebuilt} == {"abandoned", "failed"}
    # the crash hangs off the discarded row before it, which hangs off lr; the keep ref holds both
    assert {sha for sha, node in nodes.items() if node in rebuilt} <= set(kept(repo))


def test_importing_twice_changes_nothing(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    log = write_log(repo, results_log(shas))
    assert gittree("import", str(log)).code == 0
    before = notes_ref(repo)
    again = gittree("import", str(log))
    assert again.code == 0 and "5 already imported" in again.out
    assert notes_ref(repo) == before
    assert nodes_by_sha(gittree, "--all")[shas["base"]]["metrics"]["val_bpb"]["n"] == 1


def test_dry_run_writes_nothing(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    result = gittree("import", "--dry-run", str(write_log(repo, results_log(shas))))
    assert result.code == 0 and "5 to record · nothing written" in result.out
    assert notes_ref(repo) is None and kept(repo) == []
    data = json.loads(gittree("import", "-n", "--json", str(write_log(repo, results_log(shas)))).out)
    assert data["written"] is False and [row["action"] for row in data["rows"]] == ["record"] * 5
    gelu = data["rows"][2]
    assert gelu["sha"] == shas["gelu"] and gelu["kept_ref"] == "refs/gittree/keep"
    assert gelu["trailers"] == [
        "Gittree-Metric: val_bpb=1.005000",
        "Gittree-Note: switch to GeLU activation",
        "Gittree-Status: abandoned",
        "Gittree-Run: memory_gb=44.0",
        "Gittree-Run: judged-by=val_bpb",
        "Gittree-Run: imported=autoresearch",
    ]


def test_a_log_without_header_with_crlf_and_full_hashes(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    text = results_log(shas).split("\n", 1)[1].replace(shas["lr"][:7], shas["lr"]).replace("\n", "\r\n")
    assert gittree("import", str(write_log(repo, text))).code == 0
    assert nodes_by_sha(gittree)[shas["lr"]]["metrics"]["val_bpb"]["samples"] == [0.9932]


def test_extra_columns_become_metrics_or_params(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.commit("baseline")
    crash = repo.commit("LSTM model")
    text = (
        "commit\tscore\tsharpe\tval_pass\tstatus\tdescription\n"
        f"{base[:7]}\t0.4200\t0.58\ttrue\tkeep\tbaseline\n"
        f"{crash[:7]}\t0.0000\t0.0000\tN/A\tcrash\tLSTM model (shape mismatch)\n"
    )
    assert gittree("import", str(write_log(repo, text))).code == 0
    nodes = nodes_by_sha(gittree)
    assert nodes[base]["metrics"].keys() == {"score", "sharpe"} and nodes[base]["params"] == {
        "val_pass": "true"
    }
    assert (
        nodes[crash]["metrics"] == {} and nodes[crash]["params"] == {} and nodes[crash]["status"] == "failed"
    )


# -- rows in error: reported one by one, nothing written ---------------------------------------------


def test_bad_rows_are_reported_per_row_and_nothing_is_written_with_strict(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    twin = object_sharing_prefix(repo, shas["lr"], "commit")
    text = results_log(shas) + "".join(
        [
            f"{shas['lr'][:4]}\t0.99\t44\tkeep\tambiguous short hash\n",
            f"{shas['base'][:7]}\t0.99\t44\tkeep\ttoo\tmany cells\n",
            f"{shas['base'][:7]}\t0.99\t44\t\tno status\n",
            f"{shas['warmup'][:9]}\t0,98\t44\tkeep\tdecimal comma\n",
            f"{repo.git('rev-parse', 'HEAD^{tree}').strip()[:10]}\t0.99\t44\tkeep\ta tree\n",
        ]
    )
    result = gittree("import", "--strict", str(write_log(repo, text)))
    assert result.code == 6
    assert "5 rows of" in result.err and "nothing was written" in result.err
    errors = {int(line.split()[1]): line for line in result.out.splitlines() if " error: " in line}
    assert sorted(errors) == list(range(7, 12))
    assert f"ambiguous: '{shas['lr'][:4]}' matches the commits" in errors[7]
    assert twin[:12] in errors[7] and shas["lr"][:12] in errors[7]
    assert "malformed row: 6 tab-separated cells, the header has 5" in errors[8]
    assert "no status" in errors[9]
    assert "0,98" in errors[10] and "use a dot as the decimal separator" in errors[10]
    assert "names a tree, not a commit" in errors[11]
    assert notes_ref(repo) is None and kept(repo) == []

    # without --strict the same rows are skipped, one line each, and the others imported
    result = gittree("import", str(write_log(repo, text)))
    assert result.code == 0, result.err
    assert "5 recorded, 5 skipped · written" in result.out
    assert len([line for line in result.out.splitlines() if " skipped: " in line]) == 5


def test_a_commit_prefix_shared_with_a_blob_names_the_commit(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.commit("baseline")
    object_sharing_prefix(repo, base, "blob")
    text = HEADER + f"{base[:4]}\t0.99\t44\tkeep\tbaseline\n"
    result = gittree("import", str(write_log(repo, text)))
    assert result.code == 0, result.out + result.err
    assert nodes_by_sha(gittree)[base]["metrics"]["val_bpb"]["samples"] == [0.99]


def test_description_with_a_control_character_is_a_row_error(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.commit("baseline")
    text = HEADER + f"{base[:7]}\t0.99\t44\tdiscard\tevil \x1b[2J description\n"
    result = gittree("import", "--strict", str(write_log(repo, text)))
    assert result.code == 6 and "control character" in result.out and "\x1b" not in result.out
    skipped = gittree("import", str(write_log(repo, text)))
    assert skipped.code == 0 and "1 skipped · nothing written" in skipped.out


def test_unusable_files(repo: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo.commit("baseline")
    missing = gittree("import", str(tmp_path / "nope.tsv"))
    assert missing.code == 6 and "no such file" in missing.err
    no_status = write_log(repo, "commit\tval_bpb\n1234567\t0.9\n")
    result = gittree("import", str(no_status))
    assert result.code == 6 and "no 'status' column" in result.err
    assert gittree("import", "--format", "wandb", str(no_status)).code == 2


# -- all or nothing: a failure while writing undoes the import ----------------------------------------


def test_a_failure_writing_the_notes_rolls_back_what_was_kept(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    other = repo.commit("an earlier experiment")
    gitio.append_note(gitio.open_repo(repo.path), other, ["Gittree-Metric: val_bpb=1.1"])
    before = notes_ref(repo)
    made_refs = []

    def failing_append_notes(*args, **kwargs):  # type: ignore[no-untyped-def]
        made_refs.extend(kept(repo))  # the commits are kept by now, by real git
        raise GitCommandError("git hash-object failed: No space left on device")

    monkeypatch.setattr(gitio, "append_notes", failing_append_notes)
    result = gittree("import", str(write_log(repo, results_log(shas))))
    assert result.code == 7 and "No space left on device" in result.err
    assert made_refs and kept(repo) == []
    assert notes_ref(repo) == before
    assert set(gitio.read_notes(gitio.open_repo(repo.path))) == {other}


def test_the_notes_of_an_import_are_one_notes_commit(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Every row's note lands in one commit of the notes ref, so no reader or crash sees half an import."""
    shas = agent_loop(repo)
    other = repo.commit("an earlier experiment")
    gitio.append_note(gitio.open_repo(repo.path), other, ["Gittree-Metric: val_bpb=1.1"])
    before = notes_ref(repo)
    assert gittree("import", str(write_log(repo, results_log(shas)))).code == 0
    assert repo.git("rev-list", "--count", f"{before}..{gitio.NOTES_REF}").strip() == "1"
    assert len(gitio.read_notes(gitio.open_repo(repo.path))) > 2


def test_a_real_git_failure_before_any_note_keeps_nothing(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    lock = repo.path / ".git" / "refs" / "notes" / "gittree.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("held by another process\n")
    result = gittree("import", str(write_log(repo, results_log(shas))))
    assert result.code == 7 and "cannot lock ref" in result.err and "gittree.lock" in result.err
    assert notes_ref(repo) is None and kept(repo) == []
    lock.unlink()
    assert gittree("import", str(write_log(repo, results_log(shas)))).code == 0


def test_a_keep_ref_that_cannot_be_updated_writes_nothing(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = agent_loop(repo)
    lock = repo.path / ".git" / "refs" / "gittree" / "keep.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    result = gittree("import", str(write_log(repo, results_log(shas))))
    assert result.code == 7 and "refs/gittree/keep is locked" in result.err and "keep.lock" in result.err
    assert notes_ref(repo) is None and kept(repo) == []


def test_a_lock_left_on_the_keep_ref_by_a_killed_process_is_named_with_how_to_remove_it(  # type: ignore[no-untyped-def]
    repo: GitRepo, gittree
) -> None:
    """Regression: kill -9 inside git's update of the keep ref leaves keep.lock behind, which git never
    removes; the hint said only "run the command again", which fails the same way for ever."""
    shas = agent_loop(repo)
    lock = repo.path / ".git" / "refs" / "gittree" / "keep.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")  # what a process killed while holding the lock leaves
    log = str(write_log(repo, results_log(shas)))
    again = gittree("import", log)
    assert again.code == 7 and "remove the lock file" in again.err and "keep.lock" in again.err
    lock.unlink()  # what the hint says
    assert gittree("import", log).code == 0 and kept(repo)


@pytest.mark.parametrize("status", ["discard", "crash"])
def test_a_row_on_a_commit_still_on_the_branch_gets_no_kept_ref(repo: GitRepo, gittree, status: str) -> None:  # type: ignore[no-untyped-def]
    base = repo.commit("baseline")
    text = HEADER + f"{base[:7]}\t0.99\t44\t{status}\tnot reset away\n"
    result = gittree("import", str(write_log(repo, text)))
    assert result.code == 0 and "kept reachable" not in result.out
    assert kept(repo) == [base]  # kept all the same, as everything an import records
