"""gittree's git hooks: install, uninstall, status, and the message check the commit-msg hook runs.

The scripts are data files in the top-level ``hooks/`` folder, shipped inside the wheel as
``gittree/_hooks``. Etiquette (docs/hooks.md), as pre-commit does it:

* hooks go where git looks for them (``git rev-parse --git-path hooks``: worktrees and submodules
  work); a ``core.hooksPath`` folder is shared with other repositories or tools, so only on request;
* gittree's hooks are recognised by a marker line; a checksum line tells an edited hook from a pristine
  one, so nothing a user wrote is overwritten or deleted without ``--force``;
* a foreign hook is moved to ``NAME.legacy`` and chained (its exit status still counts); uninstall moves
  it back; installing twice changes nothing;
* another tool may do the same to gittree (pre-commit does): gittree's hook at ``NAME.legacy`` is then
  refreshed or removed where it is, and the scripts never chain themselves or another gittree hook,
  with a guard against any chain coming back round (docs/hooks.md);
* the Python that ran ``install`` is written into the hook, which says clearly if it later disappears.
"""

from __future__ import annotations

import contextlib
import os
import re
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

HOOK_NAMES: tuple[str, ...] = ("post-run", "commit-msg", "post-rewrite")
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
    import hashlib  # here: it loads OpenSSL, and every run imports this module to find its post-run hook

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


def chained_step(hook: Path) -> Path | None:
    """The foreign ``NAME.legacy`` that ``hook`` runs, when ``hook`` is gittree's script as installed.

    After a committed run, such a hook fails only through that step: how ``gittree run`` names what failed.
    """
    text = _ours(hook)
    if text is None or is_edited(text):
        return None
    legacy = _chained(hook.with_name(hook.name + LEGACY_SUFFIX))
    return legacy if legacy is not None and os.access(legacy, os.X_OK) else None


# -- install, uninstall, status -------------------------------------------------------------------


@dataclass(frozen=True)
class HookChange:
    name: str
    #: the file changed: ``NAME``, or ``NAME.legacy`` when another tool's hook runs gittree's from there.
    path: Path
    #: installed, updated, unchanged, removed, absent, left-foreign.
    action: str
    #: the foreign hook now chained (install) or restored (uninstall).
    legacy: Path | None = None
    #: the other tool's hook at ``NAME`` that runs gittree's from ``NAME.legacy`` (pre-commit does so).
    run_by: Path | None = None


@dataclass(frozen=True)
class HookStatus:
    name: str
    #: where gittree's hook is: ``NAME``, or ``NAME.legacy`` when ``run_by`` runs it from there.
    path: Path
    #: absent, gittree, edited, foreign.
    state: str
    python: str | None = None
    python_exists: bool = True
    #: a pristine gittree hook from another gittree version or interpreter: install refreshes it.
    outdated: bool = False
    #: the foreign hook gittree's hook chains (never another copy of gittree's).
    legacy: Path | None = None
    #: the other tool's hook at ``NAME`` that runs gittree's hook from ``NAME.legacy``.
    run_by: Path | None = None


@dataclass(frozen=True)
class _Plan:
    name: str
    path: Path
    #: unchanged, updated, installed, chain (move NAME to NAME.legacy first), removed, absent, left-foreign.
    action: str
    text: str = ""
    run_by: Path | None = None
    #: a copy of gittree's hook at NAME.legacy that goes too (gittree's hooks never chain each other).
    drop: Path | None = None


def _read_hook(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # unreadable or binary: not ours


def _ours(path: Path) -> str | None:
    """The text of ``path`` when it is one of gittree's hooks; None when absent, foreign or unreadable."""
    text = _read_hook(path) if os.path.lexists(path) else None
    return text if text is not None and is_ours(text) else None


def _chained(legacy: Path) -> Path | None:
    """``NAME.legacy`` when gittree's hook at ``NAME`` runs it: it exists and is not a gittree hook.

    The scripts never run a gittree hook as their legacy (the marker line says which are), so that a
    chain cannot come back round to gittree (see "When another tool chains gittree's hook" in
    docs/hooks.md).
    """
    return legacy if os.path.lexists(legacy) and _ours(legacy) is None else None


def _refuse_edited(path: Path, text: str, force: bool, doing: str, fix: str) -> None:
    if is_edited(text) and not force:
        raise HookError(
            f"{path} is gittree's hook but has been edited; {doing} your edits",
            hint=f"copy your changes aside and pass --force to {fix} it",
        )


def _write_hook(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
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
    plans = [_install_plan(folder / name, render(name, interpreter), force) for name in _names(names)]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HookError(f"cannot create the hooks folder {folder}: {e.strerror or e}") from e
    changes = []
    for plan in plans:
        legacy = folder / (plan.name + LEGACY_SUFFIX)
        action = plan.action
        if action == "chain":
            try:
                os.replace(plan.path, legacy)  # a symlink moves as a symlink
            except OSError as e:
                raise HookError(f"cannot move {plan.path} to {legacy}: {e.strerror or e}") from e
            action = "installed"
        if action != "unchanged":
            _write_hook(plan.path, plan.text)
        if plan.drop is not None:
            try:
                plan.drop.unlink()
            except OSError as e:
                raise HookError(f"cannot remove {plan.drop}: {e.strerror or e}") from e
        chained = None if plan.run_by is not None else _chained(legacy)
        changes.append(HookChange(plan.name, plan.path, action, chained, plan.run_by))
    return changes


def _install_plan(path: Path, new: str, force: bool) -> _Plan:
    name = path.name
    legacy = path.with_name(name + LEGACY_SUFFIX)
    current = _ours(path)
    if current is not None:
        _refuse_edited(path, current, force, "installing would overwrite", "reinstall")
        return _Plan(name, path, "unchanged" if current == new else "updated", new)
    at_legacy = _ours(legacy)
    if at_legacy is not None:
        # Another hook manager did to gittree what gittree does to others (pre-commit's "migration
        # mode"): gittree's hook is at NAME.legacy, run by that tool's hook at NAME. It is refreshed
        # where it is and the other hook is left alone; with nothing left at NAME, it moves back there.
        _refuse_edited(legacy, at_legacy, force, "installing would overwrite", "reinstall")
        if os.path.lexists(path):
            return _Plan(name, legacy, "unchanged" if at_legacy == new else "updated", new, run_by=path)
        return _Plan(name, path, "installed", new, drop=legacy)
    if os.path.lexists(path):
        if os.path.lexists(legacy) and not force:
            raise HookError(
                f"{path} is not gittree's, and {legacy} already exists to chain it as",
                hint=f"move one of them away, or pass --force to replace {legacy.name}",
            )
        return _Plan(name, path, "chain", new)
    return _Plan(name, path, "installed", new)


def uninstall(
    repo: gitio.Repo, names: tuple[str, ...] = (), *, force: bool = False, allow_hooks_path: bool = False
) -> list[HookChange]:
    """Remove gittree's hooks and put back the hooks they had moved aside."""
    folder = hooks_dir(repo, allow_hooks_path=allow_hooks_path)
    plans = [_uninstall_plan(folder / name, force) for name in _names(names)]
    changes = []
    for plan in plans:
        legacy = folder / (plan.name + LEGACY_SUFFIX)
        restored = None
        try:
            if plan.action == "removed":
                plan.path.unlink()
            if plan.drop is not None:
                plan.drop.unlink()
            if plan.action in ("removed", "absent") and plan.path != legacy and os.path.lexists(legacy):
                os.replace(legacy, plan.path)
                restored = plan.path
        except OSError as e:
            raise HookError(f"cannot uninstall {plan.path}: {e.strerror or e}") from e
        changes.append(HookChange(plan.name, plan.path, plan.action, restored, plan.run_by))
    return changes


def _uninstall_plan(path: Path, force: bool) -> _Plan:
    name = path.name
    legacy = path.with_name(name + LEGACY_SUFFIX)
    current = _ours(path)
    at_legacy = _ours(legacy)
    if at_legacy is not None:  # never put back as NAME: that would install gittree's hook again
        _refuse_edited(legacy, at_legacy, force, "uninstalling would delete", "remove")
    if current is not None:
        _refuse_edited(path, current, force, "uninstalling would delete", "remove")
        return _Plan(name, path, "removed", drop=legacy if at_legacy is not None else None)
    if at_legacy is not None:  # run from there by another tool's hook at NAME, which is left alone
        return _Plan(name, legacy, "removed", run_by=path if os.path.lexists(path) else None)
    return _Plan(name, path, "left-foreign" if os.path.lexists(path) else "absent")


def status(repo: gitio.Repo) -> tuple[Path, str | None, list[HookStatus]]:
    """(hooks folder, core.hooksPath if set, the state of each of gittree's hooks there)."""
    configured = gitio.config_value(repo, "core.hooksPath")
    folder = gitio.git_path(repo, "hooks")
    found = []
    for name in HOOK_NAMES:
        path = folder / name
        legacy = path.with_name(name + LEGACY_SUFFIX)
        if not os.path.lexists(path):  # git runs nothing, not even a gittree hook left at NAME.legacy
            found.append(HookStatus(name, path, "absent", legacy=_chained(legacy)))
            continue
        text = _ours(path)
        if text is not None:
            found.append(_our_status(name, path, text, legacy=_chained(legacy)))
            continue
        at_legacy = _ours(legacy)
        if at_legacy is not None:
            found.append(_our_status(name, legacy, at_legacy, run_by=path))
        else:
            found.append(HookStatus(name, path, "foreign", legacy=_chained(legacy)))
    return folder, configured, found


def _our_status(
    name: str, path: Path, text: str, *, legacy: Path | None = None, run_by: Path | None = None
) -> HookStatus:
    python = recorded_python(text)
    exists = python is not None and os.access(python, os.X_OK)
    edited = is_edited(text)
    outdated = not edited and python is not None and text != render(name, python)
    state = "edited" if edited else "gittree"
    return HookStatus(name, path, state, python, exists, outdated, legacy, run_by)


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


# -- the post-rewrite list --------------------------------------------------------------------------

_REWRITE_LINE = re.compile(r"([0-9a-f]{40}(?:[0-9a-f]{24})?) ([0-9a-f]{40}(?:[0-9a-f]{24})?)(?: .*)?")


def parse_rewrites(text: str) -> list[tuple[str, str]]:
    """The ``(old, new)`` pairs git gives a post-rewrite hook on standard input: one ``OLD NEW`` line per
    rewritten commit (githooks(5); an extra field may follow, space-separated). Lines of any other
    shape are skipped: a hook must never stop on what it cannot read."""
    pairs = []
    for line in text.splitlines():
        found = _REWRITE_LINE.fullmatch(line.strip().lower())
        if found is not None:
            pairs.append((found.group(1), found.group(2)))
    return pairs
