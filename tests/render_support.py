"""Histories the render tests share: a small tree, a long negligible chain, and hostile commit text."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import GitRepo

#: Commit text that tries to break out of every context a picture puts it in (DOT, SVG, HTML, JSON, a terminal).
HOSTILE_SUBJECTS = (
    '"];x[label="pwned"];y["',
    "trailing backslash \\",
    "<script>window.pwned=1;alert(1)</script>",
    "</svg><img src=x onerror=window.pwned=1>",
    "</script><!-- <script>window.pwned=1</script>",
    "\x1b[31mred\x1b[0m \x1b]8;;https://example.invalid\x07link\x1b]8;;\x07",
    "right-to-left \u202etxt.exe\u202c override",
    "&lt;b&gt;entity&amp; \\N \\G \\l",
    "line\u2028separator",
)
#: git removes < and > from names (and quotes, dots, backslashes... at their ends); inside they stay.
HOSTILE_AUTHOR = "Mallory \"]; x [label=pwned] \\N &amp; O'Brien"
HOSTILE_NOTES = (
    "<b>bold</b> & </script><script>window.pwned=1</script>",
    '"]; evil [shape=box',
)


def small_history(repo: GitRepo) -> dict[str, str]:
    """A baseline, an ordinary commit, a fork into three ideas (one abandoned) and a crossover merge."""
    shas = {"base": repo.experiment("baseline", metrics=[("acc", 0.5), ("loss", 1.0)])}
    repo.commit("refactor loader")
    shas["lr"] = repo.experiment(
        "lower lr", metrics=[("acc", 0.62), ("loss", 0.9)], params=[("lr", "1e-4")], notes=["stable"]
    )
    repo.branch("exp/wide", shas["lr"])
    shas["wide"] = repo.experiment("wider layers", metrics=[("acc", 0.61), ("loss", 0.7)])
    repo.branch("exp/drop", shas["lr"])
    shas["drop"] = repo.experiment("dropout 0.1", metrics=[("acc", 0.66), ("acc", 0.64), ("loss", 0.95)])
    shas["dead"] = repo.experiment(
        "dropout 0.5", metrics=[("acc", 0.41), ("loss", 1.5)], status="abandoned", notes=["underfits badly"]
    )
    repo.branch("main", shas["lr"])
    shas["merge"] = repo.merge("exp/wide", "wide + lower lr", metrics=[("acc", 0.70), ("loss", 0.8)])
    return shas


def negligible_chain(repo: GitRepo, length: int) -> list[str]:
    """A baseline, then ``length`` experiments each within the band of the one before, then a real gain."""
    shas = [repo.experiment("baseline", metrics=[("acc", 0.5)])]
    for i in range(length):
        shas.append(repo.experiment(f"tweak {i}", metrics=[("acc", 0.5 + (i + 1) * 1e-5)]))
    shas.append(repo.experiment("real gain", metrics=[("acc", 0.6)]))
    return shas


def hostile_history(repo: GitRepo) -> list[str]:
    """One experiment per hostile subject, each with hostile notes and params, on one line of work."""
    shas = []
    for i, subject in enumerate(HOSTILE_SUBJECTS):
        body = f"{subject}\n\nbody with {subject}\n\n"
        trailers = [
            f"Gittree-Metric: acc={0.5 + i / 100}",
            f"Gittree-Param: tag={HOSTILE_NOTES[1]}",
            *(f"Gittree-Note: {note}" for note in HOSTILE_NOTES),
        ]
        shas.append(repo.commit(body + "\n".join(trailers) + "\n", change=f"hostile {i}"))
    return shas


def bin_without_graphviz(folder: Path) -> Path:
    """A folder holding only a link to git: as PATH, a machine with git and no Graphviz."""
    bin_dir = folder / "bin-without-graphviz"
    bin_dir.mkdir(exist_ok=True)
    git = shutil.which("git")
    assert git is not None
    if not (bin_dir / "git").exists():
        (bin_dir / "git").symlink_to(git)
    return bin_dir
