"""`gittree export --format markdown`: how folded commits and crossovers are told.

Counts of ordinary commits are per link and never added up (docs/tree.md): an ordinary merge below a
crossover is on the path from each of its parents, so a sum counts it twice.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import GitRepo


def markdown(gittree) -> str:  # type: ignore[no-untyped-def]
    result = gittree("export", "--format", "markdown")
    assert result.code == 0, result.err
    return str(result.out)


def exported_node(gittree, sha: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("export", "--format", "json").out)
    node: dict[str, Any] = next(n for n in data["nodes"] if n["sha"] == sha)
    return node


def ordinary_merge(repo: GitRepo, branch: str, *flags: str) -> str:
    repo.git("merge", "-q", "--no-ff", "-X", "theirs", *flags, branch, "-m", f"merge {branch}")
    return repo.head()


def crossover_over_an_ordinary_merge(repo: GitRepo) -> dict[str, str]:
    """base; s1 on a side branch; m1 on main; an ordinary merge of the side; an experiment on top.

    The merge commit is the one ordinary commit below `top`, on its path from m1 and from s1.
    """
    shas = {"base": repo.experiment("base", metrics=[("acc", 0.5)])}
    repo.branch("side", shas["base"])
    shas["s1"] = repo.experiment("s1", metrics=[("acc", 0.55)])
    repo.branch("main", shas["base"])
    shas["m1"] = repo.experiment("m1", metrics=[("acc", 0.6)])
    shas["merge"] = ordinary_merge(repo, "side")
    shas["top"] = repo.experiment("top", metrics=[("acc", 0.7)])
    return shas


def short(sha: str) -> str:
    return f"`{sha[:7]}`"


def test_a_crossover_counts_folded_commits_per_parent_link_never_summed(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = crossover_over_an_ordinary_merge(repo)
    out = markdown(gittree)
    assert (
        f"   - ordinary commits folded in: 1 since {short(shas['m1'])} m1; 1 since {short(shas['s1'])} s1\n"
        in out
    )
    assert "2 ordinary commits" not in out  # there is one: the merge


def test_the_json_export_keeps_its_per_edge_counts(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    shas = crossover_over_an_ordinary_merge(repo)
    top = exported_node(gittree, shas["top"])
    assert top["folded"] == {shas["m1"]: 1, shas["s1"]: 1} and top["folded_below"] == 0
    edges = json.loads(gittree("export").out)["edges"]
    assert sorted(e["folded"] for e in edges if e["child"] == shas["top"]) == [1, 1]


def test_a_crossover_names_only_the_links_that_carry_commits(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = repo.experiment("base", metrics=[("acc", 0.5)])
    repo.branch("side", base)
    side = repo.experiment("side idea", metrics=[("acc", 0.55)])
    repo.branch("main", base)
    m1 = repo.experiment("m1", metrics=[("acc", 0.6)])
    repo.commit("tidy up")
    repo.commit("rename")
    repo.merge("side", "both", metrics=[("acc", 0.7)])
    out = markdown(gittree)
    assert f"   - merges {short(side)} side idea\n" in out
    assert f"   - ordinary commits folded in: 2 since {short(m1)} m1\n" in out


def test_a_step_with_one_parent_keeps_its_plain_count(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.commit("tidy up")
    repo.commit("rename")
    repo.experiment("next", metrics=[("acc", 0.6)])
    out = markdown(gittree)
    assert "   - 2 ordinary commits folded in\n" in out
    assert "since" not in out


def test_ordinary_history_below_a_root_is_folded_into_it(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.commit("scaffold")
    repo.commit("data loader")
    repo.experiment("base", metrics=[("acc", 0.5)])
    repo.experiment("next", metrics=[("acc", 0.6)])
    assert "1. `" in (out := markdown(gittree))
    assert out.count("ordinary commit") == 1 and "   - 2 ordinary commits folded in\n" in out


def test_work_merged_from_a_side_with_no_experiment_is_its_own_item(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """An unrelated history of ordinary work merged in: `folded_below`, not added to the link's count."""
    base = repo.experiment("base", metrics=[("acc", 0.5)])
    repo.git("checkout", "-q", "--orphan", "vendored")
    repo.commit("vendor a library")
    repo.commit("patch it")
    repo.git("checkout", "-q", "main")
    ordinary_merge(repo, "vendored", "--allow-unrelated-histories")
    after = repo.experiment("with the library", metrics=[("acc", 0.6)])
    node = exported_node(gittree, after)
    assert node["parents"] == [base] and node["folded"] == {base: 1}
    below = node["folded_below"]
    assert below == 3  # the two vendored commits and the merge that brought them (as `show` counts)
    out = markdown(gittree)
    assert "   - 1 ordinary commit folded in\n" in out
    assert f"   - {below} ordinary commits on a side with no experiment\n" in out
    assert f"{below + 1} ordinary commits" not in out


def test_a_crossover_off_the_best_path_says_what_it_merges(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """As the best path does: `- merges <sha> <subject>` under the crossover."""
    base = repo.experiment("base", metrics=[("acc", 0.5)])
    repo.branch("side", base)
    side = repo.experiment("side idea", metrics=[("acc", 0.55)])
    repo.branch("main", base)
    a = repo.experiment("A", metrics=[("acc", 0.6)])
    repo.branch("mix", a)
    mix = repo.merge("side", "A with the side idea", metrics=[("acc", 0.62)], notes=["a little better"])
    repo.branch("main", a)
    repo.experiment("B", metrics=[("acc", 0.7)])
    out = markdown(gittree)
    branches = out[out.index("## Branches off the best path") :]
    assert (
        f"From {short(a)} A:\n\n"
        f"- {short(mix)} A with the side idea: 0.6200, +0.0200 (better¹)\n"
        f"  - merges {short(side)} side idea\n"
        "  - a little better\n"
    ) in branches
