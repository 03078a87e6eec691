"""The git boundary holds: only ``gittree.gitio`` starts git or imports pygit2 (docs/architecture.md).

Read from the source's syntax trees, so a new module that runs git itself fails here, not in review:
an import of ``pygit2`` or ``git`` (GitPython, which gittree no longer uses), an import of
``subprocess`` outside the few modules that start other programs, an argument list whose first word
is ``git`` anywhere outside the boundary, and a reach into a repository's libgit2 handle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gittree"
BOUNDARY = "gittree.gitio"

#: Modules that start programs other than git, each with why; git itself they still start through gitio.
OTHER_PROGRAMS = {
    "gittree.runs.execute": "gittree run starts the user's command, and the post-run hook",
    "gittree.runs.treecommit": "a run's commit runs the user's commit hooks itself, as git commit does",
    "gittree.render.graphviz": "gittree render runs Graphviz's dot when it is installed",
}
#: Libraries only the boundary may import (GitPython is ``git``; it is not a dependency any more).
GIT_LIBRARIES = ("pygit2", "git")
#: Ways to start a process besides subprocess.
OS_STARTERS = ("system", "popen", "posix_spawn", "posix_spawnp", "fork", "forkpty")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def in_boundary(module: str) -> bool:
    return module == BOUNDARY or module.startswith(BOUNDARY + ".")


def violations(source: str, module: str) -> list[str]:
    """What in ``source`` (the module ``module``) breaks the boundary, one line each."""
    if in_boundary(module):
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        imported: list[str] = []
        if isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported = [node.module]
        elif (
            isinstance(node, ast.Call)
            and _called(node) in ("__import__", "importlib.import_module", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            imported = [node.args[0].value]
        for name in imported:
            top = name.split(".")[0]
            if top in GIT_LIBRARIES:
                found.append(f"{module}:{line} imports {name}: only {BOUNDARY} may")
            elif top == "subprocess" and module not in OTHER_PROGRAMS:
                found.append(f"{module}:{line} imports subprocess: run git through {BOUNDARY}.run")
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and _is_git(node.elts[0]):
            found.append(f"{module}:{line} builds a git command line: run git through {BOUNDARY}.run")
        if isinstance(node, ast.Call) and _called(node) in {f"os.{name}" for name in OS_STARTERS}:
            found.append(f"{module}:{line} starts a process with {_called(node)}")
        if isinstance(node, ast.Call) and _called(node).startswith(("os.exec", "os.spawn")):
            found.append(f"{module}:{line} starts a process with {_called(node)}")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "handle"
            and not (isinstance(node.value, ast.Name) and node.value.id == "self")
        ):
            found.append(f"{module}:{line} reaches into the libgit2 handle: ask {BOUNDARY} instead")
    return found


def _called(call: ast.Call) -> str:
    """The dotted name a call calls (``os.system``), or "" for anything else."""
    parts: list[str] = []
    target = call.func
    while isinstance(target, ast.Attribute):
        parts.append(target.attr)
        target = target.value
    if not isinstance(target, ast.Name):
        return ""
    return ".".join([target.id, *reversed(parts)])


def _is_git(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ("git", "git.exe")


def test_only_the_boundary_runs_git_or_imports_its_libraries() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += violations(path.read_text(encoding="utf-8"), module_name(path))
    assert found == []


def test_the_modules_allowed_other_programs_exist() -> None:
    """An allowance outliving its module would silently allow a new one of the same name."""
    names = {module_name(path) for path in PACKAGE.rglob("*.py")}
    assert set(OTHER_PROGRAMS) <= names
    assert BOUNDARY in names


def test_the_check_catches_each_way_of_running_git() -> None:
    cases = {
        "import subprocess\nsubprocess.run(['git', 'log'])": 2,
        "from subprocess import run": 1,
        "import pygit2": 1,
        "from pygit2 import Repository": 1,
        "import git": 1,
        "from git import Repo": 1,
        "import importlib\nimportlib.import_module('pygit2')": 1,
        "import os\nos.system('git log')": 1,
        "import os\nos.execvp('git', ['git', 'log'])": 2,
        "def f(repo):\n    return repo.handle.head_is_unborn": 1,
        "command = ('git', 'commit')": 1,
    }
    for source, count in cases.items():
        assert len(violations(source, "gittree.somewhere")) == count, source
    # an allowed module may start its own program, never git
    assert violations("import subprocess\nsubprocess.run(['dot', '-V'])", "gittree.render.graphviz") == []
    assert len(violations("import subprocess\nsubprocess.run(['git', 'log'])", "gittree.runs.execute")) == 1
    # the boundary itself may do everything
    assert violations("import subprocess, pygit2\nsubprocess.run(['git'])", "gittree.gitio.runner") == []
    assert violations("import pygit2", "gittree.gitio") == []
    # a file's own handle is not libgit2's
    assert (
        violations("class F:\n    def close(self):\n        self.handle.close()", "gittree.read.cache") == []
    )


def test_every_name_of_the_boundary_is_reachable_as_gitio_name() -> None:
    """``gitio.NAME`` loads NAME's module on first use (gittree/gitio/__init__.py): its table, the
    imports mypy reads, and the modules' own public names must agree, or a name would be missing."""
    import importlib

    from gittree import gitio

    init = ast.parse((PACKAGE / "gitio" / "__init__.py").read_text(encoding="utf-8"))
    typed = {
        alias.name: node.module
        for node in ast.walk(init)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gittree.")
        for alias in node.names
    }
    homes: dict[str, str] = gitio._HOMES  # type: ignore[attr-defined]
    assert typed == homes
    for path in sorted((PACKAGE / "gitio").glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = importlib.import_module(module_name(path))
        public = {
            name
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            for name in _defined(node)
            if not name.startswith("_") and name != "TYPE_CHECKING"
        }
        assert {name for name, home in homes.items() if home == module.__name__} == public, module.__name__
    for name, home in homes.items():
        assert getattr(gitio, name) is getattr(importlib.import_module(home), name)


def _defined(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []
