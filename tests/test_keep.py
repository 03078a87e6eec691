"""Nothing tried ever vanishes (issue 16, docs/tree.md): gittree keeps every experiment it writes in one
ref, refs/gittree/keep, through reset, branch deletion, force-push and gc, until forgotten on purpose."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gittree import gitio
from tests.conftest import GitRepo
from tests.teamenv import Team


def kept(repo: GitRepo) -> list[str]:
    return gitio.kept_shas(gitio.open_repo(repo.path))


def nodes(gittree, *args: str) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    return {n["sha"]: n for n in json.loads(gittree("show", "--json", "--all", *args).out)["nodes"]}


def commit(gittree, repo: GitRepo, subject: str, acc: float) -> str:  # type: ignore[no-untyped-def]
    result = gittree("commit", "--allow-empty", "-m", subject, "--metric", f"acc={acc}")
    assert result.code == 0, result.err
    return repo.head()


def collect_garbage(repo: GitRepo) -> None:
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")


def test_a_reset_loser_survives_gc_as_a_discarded_dead_end(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = commit(gittree, repo, "baseline", 0.5)
    loser = commit(gittree, repo, "bigger lr", 0.4)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    after = commit(gittree, repo, "warmup", 0.6)
    collect_garbage(repo)
    assert repo.git("cat-file", "-t", loser).strip() == "commit"
    shown = nodes(gittree)
    assert set(shown) == {base, loser, after}  # the keep commit itself is never a node
    assert shown[loser]["verdict"] == "discarded" and shown[loser]["parents"] == [base]
    assert shown[loser]["metrics"]["acc"]["mean"] == 0.4 and not shown[loser]["best"]
    assert shown[after]["verdict"] == "better" and shown[after]["best"]
    text = gittree("show", "--all", "--color", "never").out
    row = next(line for line in text.splitlines() if loser[:7] in line)
    assert "✗" in row and "bigger lr" in row and row.endswith("discarded")
    assert "worse/abandoned/failed/discarded" in text  # the key names the red word the tree uses
    # a new experiment on top of a kept one replaces it in the keep commit's parents: two tips, not three
    keep = repo.git("rev-parse", "refs/gittree/keep").strip()
    parents = repo.git("rev-list", "--parents", "-n", "1", keep).split()[1:]
    assert sorted(parents) == sorted([loser, after])
    assert kept(repo) == sorted([base, loser, after])


def test_a_discarded_experiment_named_on_the_command_line_stays_discarded(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """Named (``show SHA``, ``best SHA``, ``path SHA``, ``diff A SHA``), a deleted branch's experiment was
    drawn live, and was ★ best: no ref named it, so nothing asked whether only the keep ref reaches it."""
    base = commit(gittree, repo, "baseline", 0.7)
    repo.git("checkout", "-q", "-b", "exp/leaky")
    leaky = commit(gittree, repo, "leaky split", 0.99)
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-q", "-D", "exp/leaky")
    for args in ([], [leaky[:7]], [leaky[:7], "--all"]):
        shown = {n["sha"]: n for n in json.loads(gittree("show", "--json", *args).out)["nodes"]}
        assert shown[leaky]["verdict"] == "discarded" and shown[base]["best"], args
    best = json.loads(gittree("best", "--json", leaky[:7]).out)
    assert best["best"][0]["sha"] == base and best["left_out"]["dead_end"] == 1
    path = json.loads(gittree("path", "--json", leaky[:7]).out)
    assert path["steps"][-1]["verdict"] == "discarded" and not path["steps"][-1]["best"]
    line = gittree("path", leaky[:7]).out.splitlines()[-1]
    assert line.count("discarded") == 1, line  # its verdict is its fate: said once, not twice
    diff = json.loads(gittree("diff", "--json", base[:7], leaky[:7]).out)
    assert diff["a"]["best"] and not diff["b"]["best"]
    # The cached view of a named commit follows the refs: a branch made at it brings it back to life,
    # deleting that branch makes it a dead end again (its cached view was kept for both).
    repo.git("branch", "rescued", leaky)
    assert json.loads(gittree("show", "--json", leaky[:7]).out)["nodes"][-1]["verdict"] == "better"
    repo.git("branch", "-q", "-D", "rescued")
    assert json.loads(gittree("show", "--json", leaky[:7]).out)["nodes"][-1]["verdict"] == "discarded"
    # Named by a sha that a branch still reaches, an experiment is live: HEAD~0 of main is the baseline.
    assert json.loads(gittree("show", "--json", "main").out)["nodes"][0]["verdict"] == "baseline"


def test_a_deleted_branch_and_a_force_push_lose_nothing(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ana = team.clone("ana")
    with ana.identity():
        ana.git("switch", "-q", "-c", "idea")
        assert ana.gittree("commit", "--allow-empty", "-m", "idea", "--metric", "acc=0.7").code == 0
        idea = ana.rev("HEAD")
        ana.git("push", "-q", "origin", "idea")
        ana.git("switch", "-q", "main")
        ana.git("branch", "-q", "-D", "idea")
        ana.git("push", "-q", "--force", "origin", "main:idea")  # the remote loses it too
        ana.git("fetch", "-q", "--prune", "origin")
        assert ana.sync().code == 0
    ben = team.clone("ben")
    with ben.identity():
        assert ben.sync().code == 0
        ben.git("reflog", "expire", "--expire=now", "--all")
        ben.git("gc", "-q", "--prune=now")
        shown = json.loads(ben.gittree("show", "--json", "--all").out)["nodes"]
    assert [n["verdict"] for n in shown if n["sha"] == idea] == ["discarded"]


def test_sync_keeps_the_union_of_both_clones(tmp_path: Path, gittree) -> None:  # type: ignore[no-untyped-def]
    team = Team(tmp_path, gittree)
    ana, ben = team.clone("ana"), team.clone("ben")
    made = {}
    for clone in (ana, ben):
        with clone.identity():
            assert clone.gittree("commit", "--allow-empty", "-m", clone.name, "--metric", "acc=0.1").code == 0
            made[clone.name] = clone.rev("HEAD")
            clone.git("reset", "-q", "--hard", "HEAD~1")
    for clone in (ana, ben, ana):
        with clone.identity():
            assert clone.sync().code == 0, clone.sync().err
    for clone in (ana, ben):
        held = clone.git("ls-tree", "-r", "--name-only", "refs/gittree/keep").split()
        assert {sha[:2] + "/" + sha[2:] for sha in made.values()} <= set(held), clone.name
    assert team.remote_git("rev-parse", "refs/gittree/keep").strip() == ana.rev("refs/gittree/keep")


def test_a_rewritten_experiment_is_shown_once(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    repo.git("config", "notes.rewriteRef", "refs/notes/gittree")
    base = commit(gittree, repo, "baseline", 0.5)
    first = commit(gittree, repo, "dropout", 0.55)
    assert gittree("record", "HEAD", "--metric", "acc=0.56").code == 0  # record, then amend
    repo.git("commit", "-q", "--amend", "--allow-empty", "-m", "dropout 0.1\n\nGittree-Metric: acc=0.55\n")
    amended = repo.head()
    shown = nodes(gittree)
    assert set(shown) == {base, amended}, (first, shown.keys())
    assert shown[amended]["metrics"]["acc"]["n"] == 2  # git's notes rewrite carried the late seed
    # a rebase rewrites the base too: still one node per experiment, and kept children follow
    commit(gittree, repo, "loser", 0.1)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("rebase", "-q", "--force-rebase", "--root")
    shown = nodes(gittree)
    assert sorted(n["subject"] for n in shown.values()) == ["baseline", "dropout 0.1", "loser"]
    loser = next(n for n in shown.values() if n["subject"] == "loser")
    assert loser["verdict"] == "discarded" and shown[loser["parents"][0]]["subject"] == "dropout 0.1"
    # the keep ref follows the rewrites when asked: the old versions are listed, then forgotten
    listed = gittree("kept").out
    assert f"{first[:7]}  rewritten" in listed and f"{base[:7]}  rewritten" in listed  # git wrote the others
    assert f"{loser['sha'][:7]}  discarded" in listed
    assert gittree("forget", "--rewritten").code == 0
    by_subject = {n["subject"]: n["sha"] for n in shown.values()}
    # forgotten alone: the child they had stays; the versions shown are kept instead, as the hook does
    assert kept(repo) == sorted([loser["sha"], by_subject["baseline"], by_subject["dropout 0.1"]])
    # forgotten as rewritten into the version shown, as the post-rewrite hook would have: sync carries it
    assert gitio.forgotten_shas(gitio.open_repo(repo.path)) == {
        base: by_subject["baseline"],
        first: by_subject["dropout 0.1"],
    }
    assert nodes(gittree) == shown


def test_forget_drops_an_experiment_and_what_grew_from_it(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    base = commit(gittree, repo, "baseline", 0.5)
    loser = commit(gittree, repo, "bigger lr", 0.4)
    child = commit(gittree, repo, "bigger lr, longer", 0.45)
    repo.git("reset", "-q", "--hard", base)
    listed = gittree("kept")
    assert listed.code == 0 and f"{loser[:7]}  discarded    ok         bigger lr" in listed.out
    assert "3 kept, 2 discarded" in listed.out
    result = gittree("forget", loser[:7])
    assert result.code == 0 and f"forgot {loser[:7]}" in result.out and f"forgot {child[:7]}" in result.out
    assert set(nodes(gittree)) == {base}
    collect_garbage(repo)
    assert repo.git("cat-file", "-t", loser, check=False) == ""
    refused = gittree("forget", "HEAD~0")
    assert refused.code == 0 and "still reached by a ref" in refused.out  # base: on main, kept no more
    assert kept(repo) == []  # the keep ref stays, listing what was forgotten, so that sync carries it
    assert set(gitio.forgotten_shas(gitio.open_repo(repo.path))) == {base, loser, child}
    assert gittree("forget", base).code == 6  # not kept


def test_runs_started_together_all_stay_kept(repo: GitRepo) -> None:
    """Eight gittree processes started together each keep one experiment: none overwrites another."""
    repo.commit("base")
    shas = [repo.commit(f"idea {i}") for i in range(8)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gittree", "record", sha, "--metric", f"acc=0.{i}"],
            cwd=repo.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, sha in enumerate(shas)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert kept(repo) == sorted(shas)
    keep = repo.git("rev-parse", "refs/gittree/keep").strip()
    assert repo.git("rev-list", "--parents", "-n", "1", keep).split()[1:] == [shas[-1]]


def test_a_keep_commit_naming_a_commit_this_clone_lacks_still_draws_the_tree(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """A shallow or partial clone can hold a keep commit whose parents it never fetched."""
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    tree = repo.git("write-tree").strip()
    body = f"tree {tree}\nparent {base}\nparent {'1' * 40}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nkeep\n"
    keep = repo.git("hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=body).strip()
    repo.git("update-ref", "refs/gittree/keep", keep)
    shown = nodes(gittree)
    assert list(shown) == [base] and shown[base]["verdict"] == "baseline"


def test_the_walk_for_discarded_commits_is_answered_after_the_read(repo: GitRepo, gittree) -> None:  # type: ignore[no-untyped-def]
    """A cold view starts git's walk for the discarded commits, reads the history meanwhile, then asks for
    the answer (docs/performance.md): the same answer as asking at once; a walk git cannot do fails when asked."""
    import pytest

    from gittree.errors import GitCommandError

    commit(gittree, repo, "baseline", 0.5)
    loser = commit(gittree, repo, "bigger lr", 0.4)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    after = commit(gittree, repo, "warmup", 0.6)
    handle = gitio.open_repo(repo.path)
    answer = gitio.start_commits_only_from(handle, [loser], [after])
    assert answer() == gitio.commits_only_from(handle, [loser], [after]) == {loser}
    assert nodes(gittree)[loser]["verdict"] == "discarded"
    missing = gitio.start_commits_only_from(handle, ["1" * 40], [after])
    with pytest.raises(GitCommandError):
        missing()


def test_the_keep_commit_is_written_as_before_by_git_s_plumbing(repo: GitRepo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The keep commit written with git's plumbing (issue 19) has the format libgit2 wrote: a file per
    sha fanned out (empty for a first keep, the count after), forgotten ones under ``forgotten/``, the
    committer's identity and date for author and committer, the message as it is, never signed."""
    base = repo.commit("base")
    tip = repo.commit("tip")
    repo.git("config", "commit.gpgSign", "true")  # commit-tree would try gpg and fail
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Kim Keeper")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "kim@example.com")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1700000000 -0230")
    opened = gitio.open_repo(repo.path)

    assert gitio.keep_commits(opened, [base, tip]) == [base, tip]
    assert gitio.forget_commits(opened, [tip]) == [tip]
    after_forget = repo.git("rev-parse", gitio.KEEP_REF).strip()
    assert gitio.keep_commits(opened, [tip]) == [tip]

    def blob(path: str) -> str:
        return repo.git("cat-file", "-p", f"{gitio.KEEP_REF}:{path}")

    listed = repo.git("ls-tree", "-r", "--name-only", gitio.KEEP_REF).split()
    assert sorted(listed) == sorted([f"{base[:2]}/{base[2:]}", f"{tip[:2]}/{tip[2:]}"])
    assert blob(f"{base[:2]}/{base[2:]}") == ""
    assert blob(f"{tip[:2]}/{tip[2:]}") == "3\n"
    raw = repo.git("cat-file", "commit", gitio.KEEP_REF)
    header, message = raw.split("\n\n", 1)
    assert message == "gittree keep: kept 1 experiment\n"
    lines = header.splitlines()
    assert lines[1:] == [
        f"parent {tip}",
        "author Kim Keeper <kim@example.com> 1700000000 -0230",
        "committer Kim Keeper <kim@example.com> 1700000000 -0230",
    ]
    forgot = repo.git("rev-parse", f"{gitio.KEEP_REF}^")  # the parent is the kept tip, not a keep commit
    assert forgot.strip() == tip
    assert repo.git("ls-tree", "-r", "--name-only", after_forget).split() == [
        f"{base[:2]}/{base[2:]}",
        f"forgotten/{tip[:2]}/{tip[2:]}",
    ]
    assert repo.git("cat-file", "-p", f"{after_forget}:forgotten/{tip[:2]}/{tip[2:]}") == "2\n"
    assert (
        repo.git("log", "-1", "--format=%P%n%s", after_forget)
        == f"{base}\ngittree keep: forgot 1 experiment\n"
    )


def test_keeping_one_commit_at_a_time_reads_the_keep_in_one_batch_and_writes_a_sound_tree(
    repo: GitRepo, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """What every run does (issue 19): the ref, its tree, the new sha's folders and whether git has the
    sha read by one ``git cat-file --batch``. Keeping 40 commits one by one (so folders are shared and reused) leaves every one kept once,
    in a tree git checks sound."""
    from gittree.gitio import keep as keep_module

    shas = [repo.commit(f"c{i}") for i in range(40)]
    opened = gitio.open_repo(repo.path)
    batches: list[list[str]] = []
    real = keep_module._Objects.read

    def counted(self, names) -> None:  # type: ignore[no-untyped-def]
        wanted = [name for name in names if name not in self._found]
        if wanted:
            batches.append(wanted)
        real(self, names)

    monkeypatch.setattr(keep_module._Objects, "read", counted)
    for sha in shas:
        batches.clear()
        assert gitio.keep_commits(opened, [sha]) == [sha]
        assert len(batches) == 1  # the ref and every folder a keep reads, at once
    assert gitio.keep_commits(opened, shas[:3]) == []  # kept already: nothing written
    assert gitio.kept_shas(opened) == sorted(shas)
    repo.git("fsck", "--strict", "--no-dangling")
    listed = repo.git("ls-tree", "-r", gitio.KEEP_REF).splitlines()
    assert {line.split()[2] for line in listed} == {"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"}
    assert repo.git("rev-parse", f"{gitio.KEEP_REF}^@").split() == [shas[-1]]


def test_a_child_of_kept_commits_replaces_them_in_the_frontier_without_a_walk(repo: GitRepo) -> None:
    """Keeping a commit whose parents are all keep parents (a run on the last kept experiment, a merge
    of two kept dead ends) needs no ``rev-list`` (issue 19); the frontier is the one the walk gives."""
    base = repo.commit("base")
    repo.git("checkout", "-q", "-b", "side")
    side = repo.commit("side dead end")
    repo.git("checkout", "-q", "main")
    main = repo.commit("main")
    opened = gitio.open_repo(repo.path)
    gitio.keep_commits(opened, [base])
    gitio.keep_commits(opened, [side, main])

    def frontier() -> list[str]:
        return repo.git("log", "-1", "--format=%P", gitio.KEEP_REF).split()

    assert frontier() == sorted([side, main])
    child = repo.commit("run on main")
    gitio.keep_commits(opened, [child])
    assert frontier() == sorted([side, child]) == gitio.independent_commits(opened, [side, child, base])
    merge = repo.merge("side", "crossover")
    gitio.keep_commits(opened, [merge])
    assert frontier() == [merge]
    unkept_parent = repo.commit("by hand")
    later = repo.commit("kept later")
    gitio.keep_commits(opened, [later])  # its parent was never kept: the walk decides
    assert frontier() == [later]
    assert unkept_parent not in gitio.kept_shas(opened)


def test_one_mktree_writes_the_folders_then_the_root_as_separate_mktrees_would(repo: GitRepo) -> None:
    """The keep's trees go through one ``git mktree --batch`` kept open (issue 19): each answer is the
    id a lone ``git mktree`` gives, an empty tree too; a bad entry is git's error, and git is stopped."""
    import pytest

    from gittree.errors import GitCommandError
    from gittree.gitio.keep import _TreeWriter

    repo.commit("start")
    blob = repo.git("hash-object", "-w", "--stdin", input="kept\n").strip()
    opened = gitio.open_repo(repo.path)
    folders = [{"aa": ("100644", blob)}, {"bb": ("100644", blob), "ab": ("100644", blob)}]

    def lone(entries: dict[str, tuple[str, str]]) -> str:
        text = "".join(
            f"{mode} {'tree' if mode == '40000' else 'blob'} {oid}\t{name}\n"
            for name, (mode, oid) in entries.items()
        )
        return repo.git("mktree", input=text).strip()

    writer = _TreeWriter(opened)
    ids = writer.trees(folders)
    assert ids == [lone(entries) for entries in folders]
    root = {"f1": ("40000", ids[0]), "f2": ("40000", ids[1])}
    assert writer.tree(root) == lone(root)
    assert writer.tree({}) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    writer.close()
    broken = _TreeWriter(opened)
    with pytest.raises(GitCommandError, match="git mktree failed"):
        broken.tree({"x": ("100644", "0" * 40)})  # git has no such blob
    broken.abandon()
