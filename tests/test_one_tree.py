"""One research tree for everyone (issue 18): every clone reads the same `.gittree.yaml` and says so."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import GitRepo

CONFIG = "metrics:\n  acc:\n    threshold: 0.05\n"


def _author(root: Path) -> GitRepo:
    """main: baseline (before any .gittree.yaml; `early` stays there), the config, two experiments."""
    author = GitRepo(root / "author")
    author.experiment("baseline", metrics=[("acc", 0.90)])
    author.git("branch", "early")
    author.write(".gittree.yaml", CONFIG)
    author.git("add", ".gittree.yaml")
    author.git("commit", "-q", "-m", "configure the threshold")
    author.experiment("wider", metrics=[("acc", 0.92)])  # within the configured threshold: not better
    author.git("switch", "-q", "early")
    author.experiment("early idea", metrics=[("acc", 0.80)])
    author.git("switch", "-q", "main")
    return author


def _clone(*args: str) -> None:
    subprocess.run(["git", "clone", "-q", *args], check=True, capture_output=True)


def _verdicts(gittree: Any, where: Path) -> tuple[dict[str, Any], dict[str, tuple[str, bool]]]:
    result = gittree("-C", str(where), "show", "--all", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    return data, {node["sha"]: (node["verdict"], node["best"]) for node in data["nodes"]}


def test_every_clone_reads_the_same_configuration_and_gives_the_same_verdicts(
    tmp_path: Path, gittree
) -> None:  # type: ignore[no-untyped-def]
    author = _author(tmp_path)
    origin = str(author.path)
    _clone("--no-checkout", origin, str(tmp_path / "no-checkout"))
    _clone("--mirror", origin, str(tmp_path / "mirror.git"))
    _clone("-b", "early", origin, str(tmp_path / "on-early"))  # its checkout has no .gittree.yaml

    author_data, expected = _verdicts(gittree, author.path)
    assert author_data["threshold"] == 0.05
    assert author_data["config"] == str(author.path / ".gittree.yaml")
    sources = {
        "no-checkout": "HEAD:.gittree.yaml",
        "mirror.git": "HEAD:.gittree.yaml",
        "on-early": "refs/remotes/origin/HEAD:.gittree.yaml",
    }
    for name, source in sources.items():
        data, verdicts = _verdicts(gittree, tmp_path / name)
        assert verdicts == expected, name
        assert (data["threshold"], data["best"], data["config"]) == (0.05, author_data["best"], source)


def test_without_head_or_a_remote_default_the_newest_tip_that_has_the_file_is_read(
    tmp_path: Path, gittree
) -> None:  # type: ignore[no-untyped-def]
    author = _author(tmp_path)
    mirror = tmp_path / "mirror.git"
    _clone("--mirror", str(author.path), str(mirror))
    subprocess.run(["git", "-C", str(mirror), "symbolic-ref", "HEAD", "refs/heads/early"], check=True)
    data, _ = _verdicts(gittree, mirror)
    assert (data["config"], data["threshold"]) == ("refs/heads/main:.gittree.yaml", 0.05)


def test_a_repository_without_the_file_anywhere_reports_the_defaults(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    data = json.loads(gittree("show", "--json").out)
    assert data["config"] is None and data["threshold"] is None


# -- notes follow amend and rebase without `gittree init` ------------------------------------------


def _samples(gittree: Any) -> dict[str, list[float]]:  # type: ignore[misc]
    nodes = json.loads(gittree("show", "--json").out)["nodes"]
    return {node["subject"]: node["metrics"]["acc"]["samples"] for node in nodes}


def test_seeds_recorded_without_init_survive_an_amend_and_a_rebase(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    assert repo.git("config", "--get-all", "notes.rewriteRef", check=False) == ""
    assert gittree("record", "HEAD", "--metric", "acc=0.51").code == 0
    assert gittree("record", "HEAD", "--metric", "acc=0.52").code == 0
    repo.git("commit", "--amend", "-q", "-m", "baseline, reworded\n\nGittree-Metric: acc=0.5")
    assert _samples(gittree) == {"baseline, reworded": [0.5, 0.51, 0.52]}
    repo.git("checkout", "-q", "-b", "idea")
    repo.experiment("idea", metrics=[("acc", 0.6)])
    assert gittree("abandon", "HEAD", "--reason", "no gain").code == 0
    repo.git("checkout", "-q", "main")
    repo.write("other.txt", "unrelated\n")
    repo.git("add", "other.txt")
    repo.git("commit", "-q", "-m", "unrelated work")
    repo.git("rebase", "-q", "main", "idea")
    idea = next(n for n in json.loads(gittree("show", "--json").out)["nodes"] if n["subject"] == "idea")
    assert idea["status"] == "abandoned" and idea["notes"] == ["no gain"]
    # written once, though every record asked
    assert repo.git("config", "--get-all", "notes.rewriteRef").split() == ["refs/notes/gittre[e]"]
    assert repo.git("config", "--get-all", "notes.displayRef").split() == ["refs/notes/gittree"]


def test_init_before_the_first_note_leaves_git_log_quiet(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    assert gittree("init").code == 0
    assert repo.git("config", "--get-all", "notes.displayRef", check=False) == ""
    log = subprocess.run(["git", "log", "-1"], cwd=repo.path, capture_output=True, text=True, check=True)
    assert log.stderr == ""  # was: warning: notes ref refs/notes/gittree is invalid
    assert gittree("record", "HEAD", "--metric", "acc=0.51").code == 0
    log = subprocess.run(["git", "log", "-1"], cwd=repo.path, capture_output=True, text=True, check=True)
    assert log.stderr == "" and "Gittree-Metric: acc=0.51" in log.stdout


def test_init_before_the_first_note_leaves_rebase_quiet_and_carries_notes(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """A rebase after ``gittree init`` warned ``notes ref refs/notes/gittree is invalid`` until the first
    note existed; the pattern gittree writes matches that ref alone, so the notes still travel."""
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    init = gittree("init")
    assert init.code == 0 and "git config notes.rewriteRef 'refs/notes/gittre[e]'" in init.out
    repo.experiment("idea", metrics=[("acc", 0.6)])

    def rebase_stderr() -> str:
        done = subprocess.run(
            ["git", "rebase", "-q", "--force-rebase", "HEAD~1"],
            cwd=repo.path,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stderr

    assert "invalid" not in rebase_stderr()
    assert gittree("record", "HEAD", "--metric", "acc=0.62").code == 0
    assert "invalid" not in rebase_stderr()
    assert _samples(gittree)["idea"] == [0.6, 0.62]  # the note followed the rebased commit
    assert repo.git("config", "--get-all", "notes.rewriteRef").split() == ["refs/notes/gittre[e]"]


def test_a_setting_that_already_covers_the_notes_is_left_alone(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.git("config", "--local", "notes.rewriteRef", "refs/notes/*")
    assert gittree("record", "HEAD", "--metric", "acc=0.51").code == 0
    assert repo.git("config", "--local", "--get-all", "notes.rewriteRef").split() == ["refs/notes/*"]


def test_notes_received_by_sync_survive_an_amend_without_init(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    from tests.teamenv import Team

    team = Team(tmp_path, gittree)
    ada, bob = team.clone("Ada"), team.clone("Bob")
    ada.note(team.baseline, "Gittree-Metric: acc=0.52")
    ada.sync()
    bob.sync()
    assert bob.git("config", "--get-all", "notes.rewriteRef").split() == ["refs/notes/gittre[e]"]
    bob.git("commit", "--amend", "-q", "-m", "baseline again\n\nGittree-Metric: acc=0.5")
    node = next(n for n in bob.tree_json()["nodes"] if n["subject"] == "baseline again")
    assert sorted(node["metrics"]["acc"]["samples"]) == [0.5, 0.52]


# -- late results a remote holds that a plain clone never fetched ---------------------------------

MAY_HOLD = "origin may hold late results (gittree notes) this clone never fetched"


def _shared_study(tmp_path: Path, gittree: Any) -> tuple[Any, Any, str]:  # type: ignore[misc]
    """Ada syncs an experiment branch and a late seed on the baseline; Carol makes a plain `git clone`."""
    from tests.teamenv import Team

    team = Team(tmp_path, gittree)
    ada = team.clone("Ada")
    wide = ada.experiment("exp/wide", "wider layers", acc=0.61)
    ada.note(team.baseline, "Gittree-Metric: acc=0.52")
    ada.sync()
    return team, team.clone("Carol"), wide


def _views(base: str, wide: str) -> list[tuple[str, ...]]:
    return [
        ("show",),
        ("show", "--all", "--json"),
        ("best", "--all"),
        ("path", "origin/exp/wide"),
        ("table", "--all"),
        ("export",),
        ("diff", base, wide),
        ("render", "--all", "--format", "dot"),
    ]


def test_every_view_of_a_plain_clone_says_once_that_late_results_were_never_fetched(
    tmp_path: Path, gittree
) -> None:  # type: ignore[no-untyped-def]
    team, carol, wide = _shared_study(tmp_path, gittree)
    for args in _views(team.baseline, wide):
        result = carol.gittree(*args)
        assert result.code == 0, (args, result.err)
        lines = result.err.splitlines()
        assert len(lines) == 1 and MAY_HOLD in lines[0] and "`gittree sync`" in lines[0], (args, result.err)
        assert "+refs/notes/*gittree:refs/notes/*gittree-remote/origin" in lines[0]
    second = carol.gittree("show")  # a cached view says it too
    assert MAY_HOLD in second.err
    carol.sync()
    for args in _views(team.baseline, wide):
        assert carol.gittree(*args).err == "", args
    baseline = next(n for n in carol.tree_json()["nodes"] if n["sha"] == team.baseline)
    assert sorted(baseline["metrics"]["acc"]["samples"]) == [0.5, 0.52]


def test_notes_fetched_by_plain_git_fetch_but_not_merged_are_named(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    _, carol, _ = _shared_study(tmp_path, gittree)
    assert carol.gittree("sync", "--configure").code == 0
    assert MAY_HOLD not in carol.gittree("show").err  # the refspec will bring them
    carol.git("fetch", "-q", "origin")
    err = carol.gittree("show").err
    assert err.count("\n") == 1 and "late results fetched from origin" in err and "`gittree sync`" in err
    carol.sync()
    assert carol.gittree("show").err == ""


def test_a_remote_without_experiment_branches_or_already_synced_is_not_suspected(
    tmp_path: Path, gittree
) -> None:  # type: ignore[no-untyped-def]
    from tests.teamenv import Team

    team = Team(tmp_path, gittree)  # only main on the remote: a solo user's backup, no notes anywhere
    solo = team.clone("Solo")
    assert solo.gittree("show").err == ""
    solo.experiment("exp/idea", "an idea", acc=0.55)
    solo.sync()  # publishes exp/idea; the remote has no notes, and sync knows it
    dana = team.clone("Dana")
    assert MAY_HOLD in dana.gittree("show", "--all").err
    dana.sync()
    assert dana.gittree("show", "--all").err == ""
    assert solo.gittree("show", "--all").err == ""
