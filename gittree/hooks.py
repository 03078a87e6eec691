"""gittree's git hooks: install, uninstall, status, and the message check the commit-msg hook runs.

The scripts are data files in the top-level ``hooks/`` folder, shipped inside the wheel as
``gittree/_hooks``. Etiquette (docs/hooks.md), as pre-commit does it:

* hooks go where git looks for them (``git rev-parse --git-path hooks``: worktrees and submodules
  work); a ``core.hooksPath`` folder is shared with other repositories or tools, so only on request;
* gittree's hooks are recognised by a marker line; a checksum line tells an edited hook from a pristine
  one, so nothing a user wrote is overwritten or deleted without ``--force``;
* a foreign hook is moved to ``NAME.legacy`` and chained (its exit status still counts); uninstall moves
  it back; installing twice changes nothing;
* the Python that ran ``install`` is written into the hook, which says clearly if it later disappears.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from gittree import gitio
from gittree.errors import BadValueError, HookError
from gittree.trailers import (
    KEY_METRIC,
    git_trailers,
    is_gittree_key,
    parse_experiment,
    parse_metric_assignment,
)

HOOK_NAMES: tuple[str, ...] = ("post-run", "commit-msg")
MARKER = "# gittree-managed-hook:"
_CHECKSUM_RE = re.compile(r"(?m)^(# gittree-hook-checksum: )(.*)$")
_PYTHON_RE = re.compile(r"(?m)^GITTREE_PYTHON=(.*)$")
LEGACY_SUFFIX = ".legacy"

#: Variables through which git describes *its* repository, index and object store to a hook. gittree
#: drops them before calling git from a hook (the scripts ``unset`` the same list): inherited, they
#: would point gittree's git commands at the wrong index or repository. Identity, configuration and
#: transport variables (GIT_AUTHOR_*, GIT_CONFIG_*, GIT_SSH*) are the user's and are kept.
GIT_LOCATION_VARS: tuple[str, ...] = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
    "GIT_REFLOG_ACTION",
)


def clean_environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` without the variables that describe another git command's repository state."""
    return {key: value for key, value in env.items() if key not in GIT_LOCATION_VARS}


# -- the scripts ----------------------------------------------------------------------------------


def template_text(name: str) -> str:
    """The shipped script: from the installed wheel (``gittree/_hooks``), else the source checkout."""
    from importlib import resources

    if name not in HOOK_NAMES:
        raise HookError(f"unknown hook '{name}'", hint=f"gittree's hooks are: {', '.join(HOOK_NAMES)}")
    packaged = resources.files("gittree").joinpath("_hooks").joinpath(name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # An editable install runs from the source checkout, where the scripts are in the top-level hooks/.
    source = Path(__file__).resolve().parent.parent / "hooks" / name
    if source.is_file():
        return source.read_text(encoding="utf-8")
    raise HookError(
        f"the {name} hook script is missing from this gittree installation ({packaged}, {source})",
        hint="reinstall gittree",
    )


def checksum(text: str) -> str:
    """A fingerprint of a hook's text, its own checksum line left out."""
    normalised = _CHECKSUM_RE.sub(r"\1", text)
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]


def render(name: str, python: str) -> str:
    """The hook as installed: LF endings, the interpreter's path, and the checksum of the result."""
    text = template_text(name).replace("\r\n", "\n").replace("@GITTREE_PYTHON@", shlex.quote(python))
    return _CHECKSUM_RE.sub(lambda m: m.group(1) + checksum(text), text, count=1)


def is_ours(text: str) -> bool:
    return any(line.startswith(MARKER) for line in text.splitlines()[:5])


def is_edited(text: str) -> bool:
    """A gittree hook whose text no longer matches the checksum it was installed with."""
    found = _CHECKSUM_RE.search(text)
    return found is None or found.group(2).strip() != checksum(text)


def recorded_python(text: str) -> str | None:
    found = _PYTHON_RE.search(text)
    if found is None:
        return None
    try:
        words = shlex.split(found.group(1))
    except ValueError:
        return None
    return words[0] if len(words) == 1 else None


# -- where ----------------------------------------------------------------------------------------


def hooks_dir(repo: gitio.Repo, *, allow_hooks_path: bool = False) -> Path:
    """The folder git runs hooks from; refuses a ``core.hooksPath`` folder unless allowed."""
    configured = gitio.config_value(repo, "core.hooksPath")
    if configured and not allow_hooks_path:
        raise HookError(
            f"core.hooksPath is set to {configured}: hooks there may be shared with other repositories "
            "or managed by another tool (husky, pre-commit), so gittree does not touch them unasked",
            hint="pass --hooks-path to install into that folder anyway, or unset core.hooksPath",
        )
    return gitio.git_path(repo, "hooks")


def find_hook(repo: gitio.Repo, name: str) -> Path | None:
    """The executable hook git would run for ``name``, if any (a non-executable file is ignored, as git does)."""
    path = gitio.git_path(repo, "hooks") / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


# -- install, uninstall, status -------------------------------------------------------------------


@dataclass(frozen=True)
class HookChange:
    name: str
    path: Path
    #: installed, updated, unchanged, removed, absent, left-foreign.
    action: str
    #: the foreign hook now chained (install) or restored (uninstall).
    legacy: Path | None = None


@dataclass(frozen=True)
class HookStatus:
    name: str
    path: Path
    #: absent, gittree, edited, foreign.
    state: str
    python: str | None = None
    python_exists: bool = True
    #: a pristine gittree hook from another gittree version or interpreter: install refreshes it.
    outdated: bool = False
    legacy: Path | None = None


def _read_hook(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # unreadable or binary: not ours


def _write_hook(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise HookError(f"cannot write the hook {path}: {e.strerror or e}") from e


def _names(names: tuple[str, ...]) -> tuple[str, ...]:
    for name in names:
        if name not in HOOK_NAMES:
            raise HookError(f"unknown hook '{name}'", hint=f"gittree's hooks are: {', '.join(HOOK_NAMES)}")
    return tuple(dict.fromkeys(names)) or HOOK_NAMES


def install(
    repo: gitio.Repo,
    names: tuple[str, ...] = (),
    *,
    force: bool = False,
    allow_hooks_path: bool = False,
    python: str | None = None,
) -> list[HookChange]:
    """Install the hooks; every check is made before the first file changes."""
    if repo.is_bare:  # no commit is made and no run started in a bare repository: no hook would ever run
        raise HookError(
            "this is a bare repository: gittree's hooks would never run here",
            hint="run gittree hook install in a clone with a working tree",
        )
    folder = hooks_dir(repo, allow_hooks_path=allow_hooks_path)
    interpreter = python or sys.executable
    if not interpreter or not os.path.isabs(interpreter):
        raise HookError(f"cannot tell which Python runs gittree ({interpreter!r})")
    plans: list[tuple[str, Path, str, str]] = []  # name, path, new text, action
    for name in _names(names):
        path = folder / name
        legacy = path.with_name(name + LEGACY_SUFFIX)
        new = render(name, interpreter)
        current = _read_hook(path) if os.path.lexists(path) else None
        if current is not None and is_ours(current):
            if is_edited(current) and not force:
                raise HookError(
                    f"{path} is gittree's hook but has been edited; installing would overwrite your edits",
                    hint="copy your changes aside and pass --force to reinstall it",
                )
            plans.append((name, path, new, "unchanged" if current == new else "updated"))
        elif os.path.lexists(path):
            if os.path.lexists(legacy) and not force:
                raise HookError(
                    f"{path} is not gittree's, and {legacy} already exists to chain it as",
                    hint=f"move one of them away, or pass --force to replace {legacy.name}",
                )
            plans.append((name, path, new, "chain"))
        else:
            plans.append((name, path, new, "installed"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HookError(f"cannot create the hooks folder {folder}: {e.strerror or e}") from e
    changes = []
    for name, path, new, action in plans:
        legacy = path.with_name(name + LEGACY_SUFFIX)
        if action == "unchanged":
            changes.append(HookChange(name, path, action, legacy if os.path.lexists(legacy) else None))
            continue
        if action == "chain":
            try:
                os.replace(path, legacy)  # a symlink moves as a symlink
            except OSError as e:
                raise HookError(f"cannot move {path} to {legacy}: {e.strerror or e}") from e
            action = "installed"
        _write_hook(path, new)
        changes.append(HookChange(name, path, action, legacy if os.path.lexists(legacy) else None))
    return changes


def uninstall(
    repo: gitio.Repo, names: tuple[str, ...] = (), *, force: bool = False, allow_hooks_path: bool = False
) -> list[HookChange]:
    """Remove gittree's hooks and put back the hooks they had moved aside."""
    folder = hooks_dir(repo, allow_hooks_path=allow_hooks_path)
    plans: list[tuple[str, Path, str]] = []
    for name in _names(names):
        path = folder / name
        current = _read_hook(path) if os.path.lexists(path) else None
        if current is not None and is_ours(current):
            if is_edited(current) and not force:
                raise HookError(
                    f"{path} is gittree's hook but has been edited; uninstalling would delete your edits",
                    hint="copy your changes aside and pass --force to remove it",
                )
            plans.append((name, path, "removed"))
        elif os.path.lexists(path):
            plans.append((name, path, "left-foreign"))
        else:
            plans.append((name, path, "absent"))
    changes = []
    for name, path, action in plans:
        legacy = path.with_name(name + LEGACY_SUFFIX)
        restored = None
        try:
            if action == "removed":
                path.unlink()
            if action in ("removed", "absent") and os.path.lexists(legacy):
                os.replace(legacy, path)
                restored = path
        except OSError as e:
            raise HookError(f"cannot uninstall {path}: {e.strerror or e}") from e
        changes.append(HookChange(name, path, action, restored))
    return changes


def status(repo: gitio.Repo) -> tuple[Path, str | None, list[HookStatus]]:
    """(hooks folder, core.hooksPath if set, the state of each of gittree's hooks there)."""
    configured = gitio.config_value(repo, "core.hooksPath")
    folder = gitio.git_path(repo, "hooks")
    found = []
    for name in HOOK_NAMES:
        path = folder / name
        legacy = path.with_name(name + LEGACY_SUFFIX)
        chained = legacy if os.path.lexists(legacy) else None
        if not os.path.lexists(path):
            found.append(HookStatus(name, path, "absent", legacy=chained))
            continue
        text = _read_hook(path)
        if text is None or not is_ours(text):
            found.append(HookStatus(name, path, "foreign", legacy=chained))
            continue
        python = recorded_python(text)
        exists = python is not None and os.access(python, os.X_OK)
        edited = is_edited(text)
        outdated = not edited and python is not None and text != render(name, python)
        found.append(
            HookStatus(name, path, "edited" if edited else "gittree", python, exists, outdated, chained)
        )
    return folder, configured, found


# -- the commit-msg check -------------------------------------------------------------------------

ACCEPTED_FORMS = (
    ("Gittree-Metric: NAME=NUMBER", "Gittree-Metric: acc=0.73   (repeat a name for several seeds)"),
    ("Gittree-Param: NAME=VALUE", "Gittree-Param: lr=3e-4"),
    ("Gittree-Note: TEXT", "Gittree-Note: converged twice as fast"),
    ("Gittree-Status: STATUS", "Gittree-Status: ok | abandoned | failed | running"),
    ("Gittree-Run: NAME=VALUE", "Gittree-Run: exit=0"),
)


@dataclass(frozen=True)
class MessageProblem:
    line: str
    error: str
    hint: str | None = None


def check_message(text: str, comment: str = "#") -> list[MessageProblem]:
    """Every malformed ``Gittree-*`` trailer of a commit message, read exactly as git reads trailers:
    with the repository's comment character ``comment`` and with git's default ``#`` (gittree's)."""
    problems = []
    trailers = [pair for char in dict.fromkeys((comment, "#")) for pair in git_trailers(text, char)]
    for key, value in dict.fromkeys(trailers):
        if not is_gittree_key(key):
            continue
        record = parse_experiment(f"check\n\n{key}: {value}\n")
        if record is not None and record.problems:
            line = f"{key}: {value}"
            error = record.problems[0]
            problems.append(
                MessageProblem(
                    line, error[len(line) + 2 :] if error.startswith(line) else error, _hint(key, value)
                )
            )
    return problems


def _hint(key: str, value: str) -> str | None:
    """The codec's own advice for a bad number (a decimal comma, a percent sign...)."""
    if key.lower() != KEY_METRIC.lower():
        return None
    try:
        parse_metric_assignment(value)
    except BadValueError as e:
        return e.hint
    return None
