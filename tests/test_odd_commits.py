"""Odd commits and odd places (docs/reliability.md): history git reads, and repositories without a checkout.

Commits written by other tools can hold an author line git reads but libgit2 refuses: no email, no
author line at all, a date that is not a number (``git fsck`` only warns). Every view reads them as
``show`` does. A bare repository, and gittree run inside ``.git``, colour the tree by the same
``.gittree.yaml`` as every clone (docs/config.md).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from gittree import gitio
from gittree.config import Config, load_config
from gittree.read import repo_config
from tests.conftest import BASE_TIME, GitRepo

#: Author lines git reads and libgit2 refuses (None: no author line at all).
ODD_AUTHORS = {
    "no-email": f"author Broken {BASE_TIME + 60} +0000",
    "no-author-line": None,
    "date-not-a-number": "author Rita <rita@example.com> soon +0000",
}

#: Every read-only view, each of which must read such commits.
VIEWS = [
    ("show", "--color", "never"),
    ("show", "--json"),
    ("path",),
    ("path", "HEAD"),
    ("diff", "HEAD~1", "HEAD"),
    ("diff", "HEAD~2", "HEAD"),
    ("table",),
    ("best",),
    ("export",),
    ("render", "--format", "dot"),
]


def raw_commit(repo: GitRepo, message: str, parent: str | None, author: str | None) -> str:
    """A commit object written byte for byte (``--literally``: git's own checks would refuse some)."""
    tree = repo.git("write-tree").strip()
    header = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
    header += f"{author}\n" if author is not None else ""
    repo.clock += 1
    header += f"committer Carl <carl@example.com> {BASE_TIME + repo.clock * 3600} +0000\n"
    sha = repo.git(
        "hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=header + "\n" + message
    )
    return sha.strip()


def good_author(repo: GitRepo) -> str:
    return f"author Ada <ada@example.com> {BASE_TIME + repo.clock * 3600} +0000"


def history(repo: GitRepo, odd: str | None, *, odd_is_experiment: bool) -> list[str]:
    """base -> (odd commit) -> next -> last; the odd one an experiment or an ordinary commit folded in."""
    base = raw_commit(repo, "base\n\nGittree-Metric: acc=0.5\n", None, good_author(repo))
    message = "odd one\n\nGittree-Metric: acc=0.55\n" if odd_is_experiment else "imported commit\n"
    middle = raw_commit(repo, message, base, odd)
    nxt = raw_commit(repo, "next\n\nGittree-Metric: acc=0.6\n", middle, good_author(repo))
    last = raw_commit(repo, "last\n\nGittree-Metric: acc=0.7\n", nxt, good_author(repo))
    repo.git("update-ref", "HEAD", last)
    return [base, middle, nxt, last]


def run_every_view(gittree) -> dict[tuple[str, ...], str]:  # type: ignore[no-untyped-def]
    outputs = {}
    for args in VIEWS:
        result = gittree(*args)
        assert result.code == 0, (args, result.err)
        assert "Traceback" not in result.err
        outputs[args] = result.out
    return outputs


# -- odd commits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("odd", ODD_AUTHORS.values(), ids=ODD_AUTHORS.keys())
def test_every_view_reads_a_folded_commit_with_an_odd_author(repo: GitRepo, gittree, odd: str | None) -> None:  # type: ignore[no-untyped-def]
    _, middle, nxt, _ = history(repo, odd, odd_is_experiment=False)
    repo.git("update-ref", "HEAD", nxt)  # the odd commit is HEAD~1, folded into HEAD
    outputs = run_every_view(gittree)
    assert f"{middle[:7]} imported commit" in outputs[("path",)]
    assert "is not an experiment" in outputs[("diff", "HEAD~1", "HEAD")]


@pytest.mark.parametrize("odd", ODD_AUTHORS.values(), ids=ODD_AUTHORS.keys())
def test_every_view_reads_an_experiment_with_an_odd_author(repo: GitRepo, gittree, odd: str | None) -> None:  # type: ignore[no-untyped-def]
    _, middle, _, _ = history(repo, odd, odd_is_experiment=True)  # the odd one is HEAD~2
    outputs = run_every_view(gittree)
    assert "odd one" in outputs[("path", "HEAD")] and "odd one" in outputs[("diff", "HEAD~2", "HEAD")]
    result = gittree("path", middle)
    assert result.code == 0 and "odd one" in result.out, result.err
    repo.git("update-ref", "HEAD", middle)  # the odd experiment at HEAD
    for args in [("show",), ("path",), ("diff", "HEAD~1", "HEAD"), ("best",), ("export",)]:
        result = gittree(*args)
        assert result.code == 0 and "Traceback" not in result.err, (args, result.err)


@pytest.mark.parametrize("odd", ODD_AUTHORS.values(), ids=ODD_AUTHORS.keys())
def test_path_and_diff_read_an_odd_commit_as_show_does(repo: GitRepo, gittree, odd: str | None) -> None:  # type: ignore[no-untyped-def]
    base, middle, _, last = history(repo, odd, odd_is_experiment=True)
    shown = {node["sha"]: node for node in json.loads(gittree("show", "--json").out)["nodes"]}
    opened = gitio.open_repo(repo.path)
    for sha in (base, middle, last):
        record = gitio.read_commit(opened, sha)  # what diff reads
        assert (record.author_name, record.author_email, record.author_time) == (
            shown[sha]["author"],
            shown[sha]["email"],
            shown[sha]["time"],
        )
    # what path lists as folded commits, against what the bulk read and the walk read
    folded_sha = raw_commit(repo, "folded\n", last, odd)
    top = raw_commit(repo, "top\n\nGittree-Metric: acc=0.8\n", folded_sha, good_author(repo))
    (folded,), count = gitio.commits_between(opened, top, [last], limit=5)
    assert count == 1 and (folded.sha, folded.subject) == (folded_sha, "folded")
    streamed = dict(gitio.stream_commits(opened, [top]))
    walked = {record.sha: record for record in gitio.read_commits(opened, [top], with_notes=False)}
    assert gitio.commit_record(folded_sha, streamed[folded_sha]) == walked[folded_sha] == folded


def test_git_questions_about_odd_commits_are_answered_as_git_answers_them(repo: GitRepo) -> None:
    base, middle, _, last = history(repo, ODD_AUTHORS["no-email"], odd_is_experiment=True)
    opened = gitio.open_repo(repo.path)
    assert gitio.is_ancestor(opened, base, middle) and gitio.is_ancestor(opened, middle, last)
    assert not gitio.is_ancestor(opened, last, middle)
    assert gitio.reachable_from_refs(opened, {base, middle, last, "0" * 40}) == {base, middle, last}
    assert gitio.match_commit_prefix(opened, middle[:8]).commits == (middle,)
    assert gitio.commit_subject(opened, middle) == "odd one"


def test_commit_and_record_on_top_of_an_odd_head(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    _, middle, _, _ = history(repo, ODD_AUTHORS["no-email"], odd_is_experiment=True)
    repo.git("update-ref", "HEAD", middle)
    assert gittree("commit", "-m", "nothing staged", "--metric", "acc=0.9").code == 7
    repo.write("model.py", "wider = True\n")
    repo.git("add", "model.py")
    result = gittree("commit", "-m", "wider", "--metric", "acc=0.9")
    assert result.code == 0, result.err
    result = gittree("record", middle, "--metric", "acc=0.57")
    assert result.code == 0, result.err
    shown = {node["sha"]: node for node in json.loads(gittree("show", "--json").out)["nodes"]}
    assert shown[middle]["metrics"]["acc"]["n"] == 2


def test_a_notes_commit_with_an_odd_author_is_read_as_git_reads_it(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base, _, _, last = history(repo, ODD_AUTHORS["no-email"], odd_is_experiment=True)
    repo.git("notes", "--ref=gittree", "add", "-m", "Gittree-Metric: acc=0.75", last)
    notes_tree = repo.git("rev-parse", "refs/notes/gittree^{tree}").strip()
    header = f"tree {notes_tree}\nauthor NoEmail {BASE_TIME} +0000\ncommitter C <c@x> {BASE_TIME} +0000\n"
    notes = repo.git(
        "hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=header + "\nnotes\n"
    )
    repo.git("update-ref", "refs/notes/gittree", notes.strip())
    shown = {node["sha"]: node for node in json.loads(gittree("show", "--json").out)["nodes"]}
    assert shown[last]["metrics"]["acc"]["n"] == 2
    assert gittree("record", base, "--metric", "acc=0.51").code == 0  # a new notes commit on top of it
    assert "Gittree-Metric: acc=0.51" in repo.git("log", "-1", "--notes=gittree", "--format=%N", base)
    assert "Gittree-Metric: acc=0.75" in repo.git("log", "-1", "--notes=gittree", "--format=%N", last)


# -- the configuration of a repository without a checkout ------------------------------------------


@pytest.fixture
def clone(repo: GitRepo) -> GitRepo:
    """A clone whose committed .gittree.yaml makes a +0.01 step better (the default band would too)."""
    repo.write(".gittree.yaml", "metrics:\n  acc:\n    threshold: 0.003\n")
    repo.git("add", ".gittree.yaml")
    repo.git("commit", "-q", "-m", "configure")
    repo.experiment("v1", metrics=[("acc", 0.700)])
    repo.experiment("v2", metrics=[("acc", 0.710)])
    return repo


def bare_clone(clone: GitRepo, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--bare", str(clone.path), str(target)], check=True)
    return target


def views_from(gittree, folder: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """What the views print, but where `.gittree.yaml` was read (`show --json` names it: docs/config.md)."""
    outputs = []
    for args in (("show", "--color", "never"), ("best",), ("path",), ("show", "--json")):
        result = gittree("-C", str(folder), *args)
        assert result.code == 0, (folder, args, result.err)
        outputs.append(re.sub(r'\n  "config": [^\n]*\n', "\n", result.out))
    return outputs


def test_a_bare_clone_reads_the_committed_config(clone: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bare = bare_clone(clone, tmp_path / "shared.git")
    assert views_from(gittree, bare) == views_from(gittree, clone.path)
    assert "negligible: within 0.003" in gittree("-C", str(bare), "show").out
    assert repo_config(gitio.open_repo(bare)) == load_config(clone.path)


def test_inside_dot_git_reads_the_working_trees_config(clone: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    clone.write(".gittree.yaml", "metrics:\n  acc:\n    threshold: 0.05\n")  # edited, not committed
    top = views_from(gittree, clone.path)
    assert "negligible: within 0.05" in top[0]
    assert views_from(gittree, clone.path / ".git") == top
    assert views_from(gittree, clone.path / ".git" / "refs") == top
    assert gitio.open_repo(clone.path / ".git").worktree == clone.path


def test_a_linked_worktrees_git_dir_reads_that_worktrees_config(
    clone: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    linked = tmp_path / "linked"
    clone.git("worktree", "add", "-q", "-b", "side", str(linked))
    (linked / ".gittree.yaml").write_text("metrics:\n  acc:\n    threshold: 0.05\n", encoding="utf-8")
    own_git_dir = clone.path / ".git" / "worktrees" / "linked"
    assert gitio.open_repo(own_git_dir).worktree == linked
    assert views_from(gittree, own_git_dir) == views_from(gittree, linked)
    assert "negligible: within 0.05" in gittree("-C", str(own_git_dir), "show").out


def test_an_unborn_bare_repository_uses_the_defaults(clone: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", str(empty)], check=True)
    assert gitio.read_top_file(gitio.open_repo(empty), ".gittree.yaml") == ("HEAD:.gittree.yaml", None)
    assert repo_config(gitio.open_repo(empty)) == Config()
    result = gittree("-C", str(empty), "show")
    assert result.code == 4 and "Traceback" not in result.err
    # HEAD on a branch with no commits, other branches holding the history: every ref is shown, coloured
    # by the newest tip's file (docs/config.md, "Which file is read", step 4)
    bare = bare_clone(clone, tmp_path / "shared.git")
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/nothing-yet"], cwd=bare, check=True)
    result = gittree("-C", str(bare), "show", "--all")
    assert result.code == 0, result.err
    assert "negligible: within 0.003" in result.out


def test_a_bare_repository_whose_head_has_no_config_uses_the_defaults(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    repo.experiment("v1", metrics=[("acc", 0.700)])
    repo.experiment("v2", metrics=[("acc", 0.7005)])  # within the default band, 0.1% of 0.7
    bare = bare_clone(repo, tmp_path / "shared.git")
    assert views_from(gittree, bare) == views_from(gittree, repo.path)
    assert verdicts(gittree, bare) == {"v1": "baseline", "v2": "negligible"}


def test_a_config_pushed_into_a_bare_repository_is_seen_at_once(
    clone: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    bare = bare_clone(clone, tmp_path / "shared.git")
    views = [("show",), ("show", "--all"), ("show", "--json"), ("best",), ("table",), ("export",)]
    before = {}
    for args in views:
        before[args] = gittree("-C", str(bare), *args).out
        assert gittree("-C", str(bare), *args).out == before[args]  # served from the view cache
    assert verdicts(gittree, bare) == {"v1": "baseline", "v2": "better"}
    clone.write(".gittree.yaml", "metrics:\n  acc:\n    threshold: 0.05\n")
    clone.git("commit", "-q", "-am", "a wider band")
    clone.git("push", "-q", str(bare), "main")
    assert verdicts(gittree, bare) == {"v1": "baseline", "v2": "negligible"}
    for args in views:
        result = gittree("-C", str(bare), *args)
        assert result.code == 0, result.err
        assert result.out != before[args]
        if args != ("export",):  # the export names the project: the folder
            same = re.sub(r'\n  "config": [^\n]*\n', "\n", result.out)
            assert same == re.sub(r'\n  "config": [^\n]*\n', "\n", gittree("-C", str(clone.path), *args).out)


def verdicts(gittree, folder: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    nodes = json.loads(gittree("-C", str(folder), "show", "--json").out)["nodes"]
    return {node["subject"]: node["verdict"] for node in nodes}


def test_an_invalid_committed_config_is_an_error_naming_it(clone: GitRepo, gittree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clone.write(".gittree.yaml", "primry: acc\n")
    clone.git("commit", "-q", "-am", "a typo")
    bare = bare_clone(clone, tmp_path / "shared.git")
    result = gittree("-C", str(bare), "show")
    assert result.code == 9
    assert "HEAD:.gittree.yaml" in result.err and "primry" in result.err and "Traceback" not in result.err


def test_a_committed_link_to_the_config_is_followed_in_a_bare_repository(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    repo.write("settings/gittree.yaml", "metrics:\n  acc:\n    threshold: 0.003\n")
    (repo.path / ".gittree.yaml").symlink_to("settings/gittree.yaml")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "configure")
    repo.experiment("v1", metrics=[("acc", 0.700)])
    bare = bare_clone(repo, tmp_path / "shared.git")
    assert "negligible: within 0.003" in gittree("-C", str(bare), "show").out


def test_every_question_in_a_bare_repository_uses_the_committed_config(
    repo: GitRepo, gittree, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A band of 0.02 makes the +0.01 step negligible; git's defaults would call it better. `diff`,
    `table` and the page's verdicts in a bare clone must say what they say in the clone."""
    repo.write(".gittree.yaml", "metrics:\n  acc:\n    threshold: 0.02\n")
    repo.git("add", ".gittree.yaml")
    repo.git("commit", "-q", "-m", "configure")
    repo.experiment("v1", metrics=[("acc", 0.700)])
    repo.experiment("v2", metrics=[("acc", 0.710)])
    bare = bare_clone(repo, tmp_path / "shared.git")
    for folder in (repo.path, bare):
        diff = json.loads(gittree("-C", str(folder), "diff", "HEAD~1", "HEAD", "--json").out)
        assert [metric["verdict"] for metric in diff["metrics"]] == ["negligible"], folder
        table = gittree("-C", str(folder), "table", "--json")
        assert table.code == 0, table.err
        assert "negligible" in table.out and "better" not in table.out, folder
    pages = [tmp_path / "clone.html", tmp_path / "bare.html"]
    for folder, page in zip((repo.path, bare), pages, strict=True):
        assert gittree("-C", str(folder), "render", "--format", "html", "-o", str(page)).code == 0
    clone_page, bare_page = (page.read_text(encoding="utf-8") for page in pages)
    assert '"negligible"' in bare_page and bare_page.count('"better"') == clone_page.count('"better"')


def test_the_newest_tip_step_looks_among_a_few_tips_only(repo: GitRepo, tmp_path: Path) -> None:
    """Step 4 of "Which file is read" sorts tips by date, a read of every tip: with more than
    NEWEST_TIP_SCAN of them (a sweep of thousands) it is skipped, so a warm view stays cheap (a warm
    `show` at 23,000 refs took 1 s). Regression test for that cost, by what is read."""
    from gittree import gitio
    from gittree.gitio.repo import NEWEST_TIP_SCAN

    repo.experiment("v1", metrics=[("acc", 0.7)])
    repo.git("checkout", "-q", "-b", "configured")
    repo.write(".gittree.yaml", "primary: acc\nthreshold: 0.003\n")
    repo.commit("config on a side branch")
    bare = bare_clone(repo, tmp_path / "shared.git")
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/nothing-yet"], cwd=bare, check=True)
    where, _ = gitio.read_shared_file(gitio.open_repo(bare), ".gittree.yaml")
    assert where == "refs/heads/configured:.gittree.yaml"  # a few tips: the newest that has it
    sha = subprocess.run(["git", "rev-parse", "main"], cwd=bare, check=True, capture_output=True, text=True)
    for index in range(NEWEST_TIP_SCAN):
        subprocess.run(
            ["git", "update-ref", f"refs/heads/sweep/{index}", sha.stdout.strip()], cwd=bare, check=True
        )
    assert gitio.read_shared_file(gitio.open_repo(bare), ".gittree.yaml") == (None, None)  # the defaults
