"""The layers hold: the codec, the model, the tree builder, the configuration, the analysis and every
renderer import nothing that runs git (docs/architecture.md).

Read from the source, not by importing it: every ``import`` statement of a module counts, those inside
functions too (heavy imports are made there, and they run all the same), and so does every gittree
module it reaches in turn. What runs git: the git boundary (``gittree.gitio``, a module or a package),
``subprocess``, ``pygit2`` and GitPython (``git``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gittree

PACKAGE = Path(gittree.__file__).parent
#: Top-level modules that run git, or are the way to.
RUNS_GIT = frozenset(["subprocess", "pygit2", "git"])
BOUNDARY = "gittree.gitio"
#: Checked on its own (below): the others' walks stop there, so that config's one known import of
#: the git boundary (``load_config``) fails config's test alone, not every module that reads a Config.
CONFIG = "gittree.config"

#: Modules that start another program (not git) with subprocess, and which program.
OTHER_PROGRAMS = {"gittree.render.graphviz": "Graphviz's layout engines (dot)"}


def package_modules(package: str) -> list[str]:
    """Every module of the gittree package ``package`` (``render``), the package itself included."""
    return sorted(
        f"gittree.{package}.{path.stem}" if path.stem != "__init__" else f"gittree.{package}"
        for path in (PACKAGE / package).glob("*.py")
    )


PURE = [
    "gittree.trailers",
    "gittree.model",
    "gittree.rawcommit",
    *package_modules("tree"),
    *package_modules("render"),
]


def module_file(name: str) -> Path | None:
    """The source of gittree module ``name`` (``gittree.render.dot``), or None when it is not one."""
    parts = name.split(".")
    if parts[0] != "gittree":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_names(name: str) -> set[str]:
    """Every module ``name``'s source imports, by full name (``from a import b`` is ``a.b`` when b is a module)."""
    path = module_file(name)
    assert path is not None, name
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, up level - 1
                anchor = package.split(".")
                base = ".".join(
                    anchor[: len(anchor) - node.level + 1] + ([node.module] if node.module else [])
                )
            else:
                base = node.module or ""
            found.add(base)
            found.update(
                f"{base}.{alias.name}" for alias in node.names if module_file(f"{base}.{alias.name}")
            )
    # Importing a.b.c runs a and a.b first.
    return {prefix for full in found for prefix in _prefixes(full)}


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def git_reaching_paths(start: str, *, stop_at: frozenset[str] = frozenset()) -> list[list[str]]:
    """Chains of imports from ``start`` to something that runs git (empty when there is none)."""
    found: list[list[str]] = []
    seen = {start}
    stack = [[start]]
    while stack:
        chain = stack.pop()
        for name in sorted(imported_names(chain[-1])):
            top = name.split(".")[0]
            if top == "subprocess" and chain[-1] in OTHER_PROGRAMS:
                continue  # checked to run no git by test_a_module_that_runs_another_program_runs_no_git
            if top in RUNS_GIT or name == BOUNDARY or name.startswith(BOUNDARY + "."):
                found.append([*chain, name])
            elif module_file(name) and name not in seen and name not in stop_at:
                seen.add(name)
                stack.append([*chain, name])
    return found


def test_the_walk_finds_what_it_looks_for() -> None:
    """The check itself works: the git boundary and a module using it are caught, with the chain."""
    assert git_reaching_paths("gittree.gitio")
    paths = git_reaching_paths("gittree.importers")
    assert ["gittree.importers", "gittree.gitio"] in paths
    assert "gittree.render.words" in imported_names("gittree.render.text")
    assert "gittree.render" in imported_names("gittree.render.text")


def test_the_pure_layers_cover_every_renderer_and_the_tree() -> None:
    assert {"gittree.render.words", "gittree.render.dot", "gittree.render.html", "gittree.render"} <= set(
        PURE
    )
    assert {"gittree.tree", "gittree.tree.analysis", "gittree.tree.progress"} <= set(PURE)


@pytest.mark.parametrize("module", PURE)
def test_a_pure_layer_reaches_no_git(module: str) -> None:
    paths = git_reaching_paths(module, stop_at=frozenset([CONFIG]))
    assert not paths, "\n".join(" -> ".join(chain) for chain in paths)


@pytest.mark.parametrize("module", sorted(OTHER_PROGRAMS))
def test_a_module_that_runs_another_program_runs_no_git(module: str) -> None:
    """Its source names no ``git`` program: every string it could run is another program's."""
    path = module_file(module)
    assert path is not None
    strings = {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not {text for text in strings if text.split(" ")[0] in ("git", "git.exe")}


# config.py turns .gittree.yaml's bytes into a Config; reading them from git is research.repo_config's job.
def test_the_configuration_reaches_no_git() -> None:
    paths = git_reaching_paths(CONFIG)
    assert not paths, "\n".join(" -> ".join(chain) for chain in paths)
