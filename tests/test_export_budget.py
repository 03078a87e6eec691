"""gittree export --format markdown --budget N: the story cut by priority to fit an agent's context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gittree import gitio
from gittree.model import ResearchTree
from gittree.read import Selection, load_tree
from gittree.render.digest import MIN_BUDGET, informative_dead_ends, render_digest, untried_siblings
from tests.conftest import GitRepo
from tests.render_support import HOSTILE_SUBJECTS


@pytest.fixture(scope="module")
def demo_tree(tmp_path_factory: pytest.TempPathFactory) -> ResearchTree:
    from gittree.demo import build_demo
    from tests.gitenv import git_env_context

    home = tmp_path_factory.mktemp("home")
    folder = tmp_path_factory.mktemp("demo") / "repo"
    with git_env_context(home):
        build_demo(folder)
        return load_tree(gitio.open_repo(folder), Selection(all_refs=True))


def test_every_budget_is_kept_and_the_best_is_always_named(demo_tree: ResearchTree) -> None:
    best = demo_tree.by_sha[demo_tree.best or ""]
    for budget in range(MIN_BUDGET, 6000, 37):
        story = render_digest(demo_tree, budget, project="demo")
        assert len(story) <= budget, budget
        assert story.startswith("# Research log: demo\n")
        assert f"best ★ `{best.short}`" in story
    everything = render_digest(demo_tree, 10**6)
    for node in demo_tree.path_to(best.sha):
        assert f"`{node.short}`" in everything
    assert "left out" not in everything


def test_sections_come_in_priority_order_and_say_what_they_left_out(demo_tree: ResearchTree) -> None:
    story = render_digest(demo_tree, 900)
    path, dead, untried = (story.find(h) for h in ("## Best path", "## Dead ends", "## Untried on the best"))
    assert 0 < path < dead < untried
    # the long best path keeps its root and its latest steps, and counts the ones between
    best_path = story[path:dead]
    chain = demo_tree.path_to(demo_tree.best or "")
    assert f"`{chain[0].short}`" in best_path and f"`{chain[-1].short}`" in best_path
    assert "earlier steps left out" in best_path
    assert (
        best_path.index(chain[0].short) < best_path.index("earlier steps") < best_path.index(chain[-1].short)
    )


def test_dead_ends_with_a_reason_come_first_and_untried_siblings_are_off_the_best_path(
    demo_tree: ResearchTree,
) -> None:
    dead = informative_dead_ends(demo_tree)
    assert len(dead) == 4  # the reset-away run among them
    assert [bool(node.notes) for node in dead] == sorted((bool(node.notes) for node in dead), reverse=True)
    story = render_digest(demo_tree, 10**6)
    for node in dead:
        assert f"✗ `{node.short}` {node.subject} ({node.fate}" in story
    assert "(None" not in story  # a reset-away run has no status: its fate says discarded
    for node in untried_siblings(demo_tree):
        parent = demo_tree.by_sha[node.reference or node.parents[0]]
        assert parent.on_best_path and parent.sha != demo_tree.best and not node.dead_end
        assert not any(demo_tree.by_sha[c].on_best_path for c in node.children)
        assert f"`{node.short}`" in story
    subjects = {node.subject for node in untried_siblings(demo_tree)}
    assert "distill from a ResNet-152 teacher" in subjects
    assert "mixup 0.8" not in subjects  # merged into the best path: it was carried on


def test_the_cli_fits_the_budget_and_refuses_what_it_cannot(repo: GitRepo, gittree: Any) -> None:
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    for i, subject in enumerate(HOSTILE_SUBJECTS):
        repo.branch(f"exp/{i}", base)
        repo.experiment(
            subject, metrics=[("acc", 0.51 + i / 100)], notes=["tried and dropped"], status="abandoned"
        )
    repo.branch("main", base)
    repo.experiment("better", metrics=[("acc", 0.6)])
    result = gittree("export", "--format", "markdown", "--budget", "700")
    assert result.code == 0, result.err
    assert len(result.out) <= 700
    assert "<script>" not in result.out and "\x1b" not in result.out
    assert "## Dead ends (do not repeat)" in result.out
    assert gittree("export", "--budget", "700").code == 6  # JSON has no budget
    refused = gittree("export", "--format", "markdown", "--budget", "20")
    assert refused.code == 6 and f"at least {MIN_BUDGET}" in refused.err


def test_counts_in_the_heading_agree_with_their_nouns_and_two_formats_are_refused(
    repo: GitRepo, gittree: Any
) -> None:
    """ "1 dead ends"; and ``--format markdown --json`` printed JSON, the format asked for ignored."""
    base = repo.experiment("baseline", metrics=[("acc", 0.5)])
    repo.branch("exp/worse", base)
    repo.experiment("worse", metrics=[("acc", 0.4)], status="abandoned")
    repo.branch("main", base)
    story = gittree("export", "--format", "markdown", "--budget", "600").out
    assert "2 experiments, 1 dead end;" in story
    for argv in (["export", "-f", "markdown", "--json"], ["table", "--format", "csv", "--json"]):
        refused = gittree(*argv)
        assert refused.code == 6 and "ask for two outputs" in refused.err, argv
    assert gittree("export", "--format", "json", "--json").code == 0  # the same output twice is no conflict


def test_agents_doc_shows_a_real_budgeted_story() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "agents.md").read_text(encoding="utf-8")
    assert "gittree export --format markdown --budget" in doc
    assert "## Dead ends (do not repeat)" in doc


def test_the_example_in_the_agents_doc_is_what_the_demo_gives(
    tmp_path: Path, gittree: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gittree.demo import build_demo

    doc = (Path(__file__).parents[1] / "docs" / "agents.md").read_text(encoding="utf-8")
    block = doc.split("<!-- budget-example:", 1)[1].split("```markdown\n", 1)[1].split("```\n", 1)[0]
    build_demo(tmp_path / "demo")
    monkeypatch.chdir(tmp_path / "demo")
    result = gittree("export", "--format", "markdown", "--budget", "1200")
    assert result.out == block
