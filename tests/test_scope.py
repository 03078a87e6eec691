"""One scope rule for every view (issue 18, docs/tree.md "Which history is read"): by default every local
branch plus gittree's own refs, HEAD marked wherever it is; --all adds remote-tracking branches and tags;
revisions named on the command line narrow it."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import GitRepo


@pytest.fixture
def study(repo: GitRepo) -> dict[str, str]:
    """main and two idea branches, a remote-tracking branch and a tag that no local branch reaches.

    HEAD is on the weakest idea: a view of HEAD's history alone would name the wrong best.
    """
    shas = {"base": repo.experiment("baseline", metrics=[("acc", 0.90)])}
    shas["main"] = repo.experiment("tune lr", metrics=[("acc", 0.92)])
    repo.branch("exp/svm", shas["base"])
    shas["svm"] = repo.experiment("svm", metrics=[("acc", 0.99)])
    repo.branch("exp/remote", shas["base"])
    shas["remote"] = repo.experiment("teammate's forest", metrics=[("acc", 0.995)])
    repo.git("update-ref", "refs/remotes/origin/exp/forest", shas["remote"])
    repo.branch("exp/tagged", shas["base"])
    shas["tagged"] = repo.experiment("released model", metrics=[("acc", 0.93)])
    repo.git("tag", "v1", shas["tagged"])
    repo.branch("exp/weak", shas["base"])
    shas["weak"] = repo.experiment("logistic", metrics=[("acc", 0.96)])
    repo.git("branch", "-q", "-D", "exp/remote", "exp/tagged")
    return shas


def show(gittree, *args: str) -> tuple[set[str], str | None]:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("show", "--json", *args).out)
    return {n["sha"] for n in data["nodes"]}, next((n["sha"] for n in data["nodes"] if n["best"]), None)


def table(gittree, *args: str) -> tuple[set[str], str | None]:  # type: ignore[no-untyped-def]
    rows = json.loads(gittree("table", "--json", *args).out)["rows"]
    return {r["sha"] for r in rows}, next((r["sha"] for r in rows if r["best"]), None)


def export(gittree, *args: str) -> tuple[set[str], str | None]:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("export", "--json", *args).out)
    return {n["sha"] for n in data["nodes"]}, data["best"]


def best(gittree, *args: str) -> tuple[set[str], str | None]:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("best", "--json", "-k", "100", *args).out)
    return {e["sha"] for e in data["best"]}, data["best"][0]["sha"]


def path(gittree, *args: str) -> tuple[set[str], str | None]:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("path", "--json", *args).out)
    return set(), data["target"]  # the path to the best: its target is the tree's ★


def render(gittree, *args: str) -> tuple[set[str], str | None]:  # type: ignore[no-untyped-def]
    dot = gittree("render", "--format", "dot", "--fold", "0", *args).out
    nodes = set(re.findall(r'^"([0-9a-f]{40})" \[', dot, re.M))
    starred = [sha for sha in nodes if re.search(rf'^"{sha}" \[[^\n]*★ best', dot, re.M)]
    return nodes, starred[0] if starred else None


VIEWS = {"show": show, "table": table, "export": export, "best": best, "path": path, "render": render}


@pytest.mark.parametrize("all_refs", [False, True], ids=["default", "--all"])
def test_every_view_reads_the_same_experiments_and_stars_the_same_best(study, gittree, all_refs) -> None:  # type: ignore[no-untyped-def]
    args = ("--all",) if all_refs else ()
    local = {study[k] for k in ("base", "main", "svm", "weak")}
    expected = local | {study["remote"], study["tagged"]} if all_refs else local
    star = study["remote"] if all_refs else study["svm"]  # never HEAD's logistic regression
    for name, view in VIEWS.items():
        experiments, starred = view(gittree, *args)
        if name not in ("path", "best"):
            assert experiments == expected, name
        elif name == "best":
            assert experiments == expected, name  # every experiment is ranked (none is a dead end)
        assert starred == star, name
    # diff judges ★ against the tree, not the two commits: the better of the two is not the best
    answer = json.loads(gittree("diff", "--json", study["base"], study["weak"], *args).out)
    assert (answer["a"]["best"], answer["b"]["best"]) == (False, False)
    answer = json.loads(gittree("diff", "--json", study["weak"], star, *args).out)
    assert (answer["a"]["best"], answer["b"]["best"]) == (False, True)


def test_revisions_on_the_command_line_narrow_the_tree(study, gittree) -> None:  # type: ignore[no-untyped-def]
    narrowed = {study["base"], study["weak"]}
    for name in ("show", "table", "export", "render"):
        experiments, starred = VIEWS[name](gittree, "HEAD")
        assert experiments == narrowed and starred == study["weak"], name
    assert best(gittree, "exp/weak")[1] == study["weak"]


def test_head_is_marked_wherever_it_is(study, gittree) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(gittree("show", "--json").out)
    assert data["head"] == study["weak"] and [n["sha"] for n in data["nodes"] if n["head"]] == [study["weak"]]


def test_the_cached_view_follows_a_branch_that_is_not_checked_out(study, repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    first = gittree("show", "--color", "never").out
    assert gittree("show", "--color", "never").out == first  # warm
    repo.git("update-ref", "refs/heads/exp/svm", study["base"])  # the SVM branch moved back
    assert study["svm"][:7] not in gittree("show", "--color", "never").out


def test_the_fast_path_prints_what_the_typer_path_prints(study, gittree, capsys) -> None:  # type: ignore[no-untyped-def]
    """cli/fastpath.py answers these forms without typer; the typer commands must print the same bytes."""
    from gittree.cli import _load_app

    def through_typer(*args: str) -> str:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            _load_app()(args=list(args), prog_name="gittree")
        assert done.value.code in (0, None)
        return capsys.readouterr().out

    forms = [("show", "--color", "never"), ("show", "--all", "--json"), ("table",), ("table", "--all")]
    forms += [
        ("export",),
        ("export", "--all"),
        ("render", "--format", "dot"),
        ("render", "--all", "-f", "dot"),
    ]
    for args in forms:
        assert gittree(*args).out == through_typer(*args), args
