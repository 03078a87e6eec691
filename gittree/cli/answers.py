"""What ``best``, ``path`` and ``diff`` print, without typer: the typer commands and the start-up fast path call these."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    from pathlib import Path

    from gittree.read import Selection


def print_best(
    repo_path: Path | None,
    selection: Selection,
    *,
    top: int = 1,
    as_json: bool = False,
) -> None:
    """``gittree best``: the best experiment(s), best first, from the view cache when nothing changed."""
    from gittree import gitio
    from gittree.cli.output import write_chunks
    from gittree.read import views

    repo = gitio.open_repo(repo_path)
    write_chunks(views.best_view(repo, selection, top=top, as_json=as_json))


def print_path(repo_path: Path | None, selection: Selection, *, as_json: bool = False) -> None:
    """``gittree path``: the chain of experiments from the root to the selection's revision (default:
    the best), cached; the revision joins the scope (``Selection.within_scope``)."""
    from gittree import gitio
    from gittree.cli.output import write_chunks
    from gittree.read import views

    repo = gitio.open_repo(repo_path)
    write_chunks(views.path_view(repo, selection, as_json=as_json))


def print_diff(
    repo_path: Path | None,
    a: str,
    b: str,
    *,
    all_refs: bool = False,
    metric: str | None = None,
    patch: bool = False,
    as_json: bool = False,
) -> None:
    """``gittree diff``: ``b`` against ``a``, metrics, params and notes (cached like a view), and the code
    change, which git is asked for each time."""
    from gittree import gitio
    from gittree.read import views

    repo = gitio.open_repo(repo_path)
    sha_a, sha_b, before, after = views.diff_view(
        repo, a, b, all_refs=all_refs, metric=metric, patch=patch, as_json=as_json
    )
    code = gitio.diff_text(repo, sha_a, sha_b, patch=patch)
    if as_json:
        import json

        shown = json.dumps(code, ensure_ascii=False)
    else:
        from gittree.render.escape import code_lines

        shown = "".join(line + "\n" for line in code_lines(code))
    sys.stdout.write(before + shown + after)
    sys.stdout.flush()
