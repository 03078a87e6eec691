"""Where the later runs of a group run, so that every run of a sweep (or of ``run --seeds``) runs the code
saved when the group started, as its commit says (docs/runs.md, "Sweeps").

The first run starts right after the code was saved. Each later one first checks that the working tree
still holds that code (saved again: a private copy of the index, ``git add -u``, ``write-tree``, which
reads only the files whose stats changed): while it does, the run runs in place, as ``gittree run``
does. Once it does not (you edited a file during the sweep), that run and every later one run in a
temporary worktree of the saved code, made once under ``$GIT_COMMON_DIR/gittree/checkouts/``. What
the saved code lacks but the working tree has (data sets, ignored folders, untracked files, a
submodule's files) is linked into it, so the command finds its inputs where it always does and writes
into existing folders of yours; files it creates at new paths are moved back into your working tree
when the group ends (unless something is there by then), and the worktree is removed.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from gittree import gitio
from gittree.errors import GittreeError

#: Never linked into the checkout: Python's byte code of the edited files (Python would recompile it,
#: checking the times, but a hash-based ``.pyc`` is not checked).
NOT_LINKED = frozenset({"__pycache__"})


class SavedCode:
    """The code a group saved (``tree``) and where a run started now runs it."""

    def __init__(self, repo: gitio.Repo, tree: str, *, add_untracked: bool) -> None:
        assert repo.worktree is not None
        self.repo, self.tree, self.add_untracked = repo, tree, add_untracked
        self.worktree = Path(repo.worktree)
        #: the temporary worktree, once a run needed it.
        self.checkout: Path | None = None
        self._paths: dict[str, str] = {}

    def folder_for(self, cwd: Path) -> Path | None:
        """Where a run started now in ``cwd`` runs: None for ``cwd`` itself (the working tree holds the
        saved code), else the same folder in the checkout. GittreeError when neither can be (the
        checkout cannot be made): the run then saves the code it runs, as ``gittree run`` does."""
        if self.checkout is None and self._working_tree_holds_it():
            return None
        checkout = self._checked_out()
        try:
            return checkout / cwd.resolve().relative_to(self.worktree.resolve())
        except ValueError:
            return checkout

    def close(self) -> None:
        """Move the files the runs created in the checkout back into the working tree, remove the checkout."""
        if self.checkout is None:
            return
        try:
            _bring_back(self.checkout, self.worktree, self._paths)
        finally:
            gitio.remove_temporary_worktree(self.repo, self.checkout)
            with contextlib.suppress(OSError):
                self.checkout.parent.rmdir()

    def _working_tree_holds_it(self) -> bool:
        import shutil
        import tempfile

        from gittree.runs import journal, treecommit

        scratch = Path(
            tempfile.mkdtemp(prefix=".snapshot-", dir=journal.runs_root(gitio.common_dir(self.repo)))
        )
        try:
            return treecommit.snapshot(self.repo, scratch, add_untracked=self.add_untracked) == self.tree
        except GittreeError:
            return False
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _checked_out(self) -> Path:
        if self.checkout is not None:
            return self.checkout
        import tempfile

        root = gitio.common_dir(self.repo) / "gittree" / "checkouts"
        try:
            root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="sweep-", dir=root))
        except OSError as e:
            raise GittreeError(f"cannot make a folder for the saved code: {e.strerror or e}") from e
        path = folder / "code"
        try:
            gitio.add_worktree_of_tree(self.repo, path, self.tree)
            self._paths = gitio.tree_paths(self.repo, self.tree)
            _link_the_rest(self.worktree, path, self._paths)
        except (GittreeError, OSError):
            gitio.remove_temporary_worktree(self.repo, path)
            with contextlib.suppress(OSError):
                folder.rmdir()
            raise
        self.checkout = path
        return path


def _link_the_rest(worktree: Path, checkout: Path, paths: dict[str, str], relative: str = "") -> None:
    """Link into ``checkout`` what ``worktree`` holds beyond the saved code (``paths``): the highest
    such entry of each folder, so a data set is one link."""
    for name in os.listdir(worktree / relative):
        path = relative + name
        if (not relative and name == ".git") or name in NOT_LINKED:
            continue
        kind = paths.get(path)
        source = worktree / path
        if kind == "tree" and source.is_dir() and not source.is_symlink():
            _link_the_rest(worktree, checkout, paths, path + "/")
        elif kind is None or kind == "commit":
            target = checkout / path
            if kind == "commit":  # a submodule: git leaves its folder empty
                with contextlib.suppress(OSError):
                    target.rmdir()
            if not os.path.lexists(target):
                os.symlink(source, target)


def _bring_back(checkout: Path, worktree: Path, paths: dict[str, str], relative: str = "") -> None:
    """Move what the runs created in ``checkout`` (beyond the saved code and the links) to ``worktree``,
    where nothing is at that path."""
    import shutil

    for name in os.listdir(checkout / relative):
        path = relative + name
        made = checkout / path
        if (not relative and name == ".git") or name in NOT_LINKED or made.is_symlink():
            continue
        kind = paths.get(path)
        if kind == "tree" and made.is_dir():
            _bring_back(checkout, worktree, paths, path + "/")
        elif kind is None and not os.path.lexists(worktree / path):
            with contextlib.suppress(OSError, shutil.Error):
                shutil.move(made, worktree / path)
