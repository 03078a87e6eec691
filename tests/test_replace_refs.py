"""Replace refs (docs/reliability.md): gittree shows the history as recorded, not `git replace` grafts.

libgit2 does not read refs/replace, and gittree runs its own git queries with GIT_NO_REPLACE_OBJECTS=1,
so every view agrees with the commit objects themselves (and with a teammate, who does not fetch
refs/replace by default); a cached view can never show a replacement that has since been deleted.
"""

from __future__ import annotations

import json

from tests.conftest import GitRepo


def history_with_a_graft(repo: GitRepo) -> tuple[str, str, str]:
    a = repo.experiment("a", metrics=[("acc", 0.5)])
    b = repo.experiment("b", metrics=[("acc", 0.6)])
    c = repo.experiment("c", metrics=[("acc", 0.7)])
    repo.git("replace", "--graft", c, a)  # git log now says c's parent is a
    assert repo.git("log", "--format=%s").split() == ["c", "a"]
    return a, b, c


def test_show_reads_the_recorded_parents_not_the_graft(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    a, b, c = history_with_a_graft(repo)
    result = gittree("show", "--json")
    assert result.code == 0, result.err
    nodes = {n["sha"]: n for n in json.loads(result.out)["nodes"]}
    assert set(nodes) == {a, b, c}
    assert nodes[c]["parents"] == [b] and nodes[c]["reference"] == b
    rows = [line.split()[1] for line in gittree("show", "--color", "never").out.splitlines()[1:4]]
    assert rows == [a[:7], b[:7], c[:7]]  # b is drawn, between a and c


def test_a_replaced_commit_keeps_its_own_message(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    a = repo.experiment("recorded", metrics=[("acc", 0.5)])
    other = repo.experiment("replacement", metrics=[("acc", 0.9)])
    repo.git("reset", "-q", "--hard", a)
    repo.git("replace", a, other)
    assert repo.git("log", "-1", "--format=%s").strip() == "replacement"
    node = json.loads(gittree("show", "--json").out)["nodes"][0]
    assert node["sha"] == a and node["subject"] == "recorded"
    assert node["metrics"]["acc"]["samples"] == [0.5]


def test_path_and_table_agree_with_show(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    a, b, c = history_with_a_graft(repo)
    shown = {n["sha"]: n for n in json.loads(gittree("show", "--json").out)["nodes"]}
    steps = json.loads(gittree("path", c, "--json").out)["steps"]
    assert [step["sha"] for step in steps] == [a, b, c]
    table = json.loads(gittree("table", "--json").out)["rows"]
    assert [row["sha"] for row in table] == list(shown) == [a, b, c]
    for row in table:
        node = shown[row["sha"]]
        assert (row["parents"], row["reference"], row["delta"], row["verdict"]) == (
            node["parents"],
            node["reference"],
            node["delta"],
            node["verdict"],
        )


def test_the_old_grafts_file_is_ignored_cold_and_warm(repo: GitRepo, gittree, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`.git/info/grafts` (deprecated, still honoured by git): the cold read walked it (git rev-list
    follows it) while the cached walk followed the recorded parents, so the first and every later
    view differed (4 experiments, then 15, in the demo). Both now read the history as recorded."""
    a = repo.experiment("a", metrics=[("acc", 0.5)])
    b = repo.experiment("b", metrics=[("acc", 0.6)])
    c = repo.experiment("c", metrics=[("acc", 0.7)])
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "grafts").write_text(f"{c}\n")  # git log: c has no parent
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "advice.graftFileDeprecated")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "false")
    assert repo.git("log", "--format=%s").split() == ["c"]
    cold = gittree("show", "--json").out
    warm = gittree("show", "--json").out
    monkeypatch.setenv("GITTREE_NO_CACHE", "1")
    uncached = gittree("show", "--json").out
    assert cold == warm == uncached
    nodes = {n["sha"]: n for n in json.loads(cold)["nodes"]}
    assert set(nodes) == {a, b, c} and nodes[c]["parents"] == [b]


def test_diff_shows_the_recorded_code_not_the_replacement(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Regression: `diff` ran `git diff` through a second runner (GitPython) that followed replace refs,
    so after `git replace B X` it printed B's metrics beside X's patch. Every git process now starts
    with GIT_NO_REPLACE_OBJECTS=1 (gittree/gitio, docs/reliability.md)."""
    a = repo.experiment("a", metrics=[("acc", 0.5)])
    b = repo.experiment("recorded change", metrics=[("acc", 0.6)])
    repo.git("reset", "-q", "--hard", a)
    x = repo.experiment("replacement change", metrics=[("acc", 0.9)])
    repo.git("reset", "-q", "--hard", b)
    repo.git("replace", b, x)
    assert "+replacement change" in repo.git("diff", a, b)  # git itself follows the replacement
    result = gittree("diff", "--patch", a, b, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    patch = data["code"]["text"]
    assert "+recorded change" in patch and "replacement" not in patch
    assert "0.6" in result.out and "0.9" not in result.out
    text = gittree("diff", "--patch", a, b).out
    assert "+recorded change" in text and "replacement" not in text
