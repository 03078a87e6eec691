"""gittree hook install | uninstall | status (and check-message, which the commit-msg hook runs)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gittree.cli.common import State, app

hook_app = typer.Typer(
    name="hook",
    help="Install, remove or inspect gittree's git hooks: post-run, commit-msg and post-rewrite (docs/hooks.md).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(hook_app, name="hook")

NamesArgument = Annotated[
    list[str] | None,
    typer.Argument(help="post-run, commit-msg, post-rewrite (default: all three).", show_default=False),
]
HooksPathOption = Annotated[
    bool, typer.Option("--hooks-path", help="Allow the folder core.hooksPath names (shared by other repos).")
]


@hook_app.command("install")
def install(
    names: NamesArgument = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an edited gittree hook or an older .legacy hook.")
    ] = False,
    hooks_path: HooksPathOption = False,
) -> None:
    """Install the hooks where git looks for them; a hook already there is kept as NAME.legacy and chained."""
    from gittree import gitio
    from gittree.hooks import install as install_hooks

    changes = install_hooks(
        gitio.open_repo(State.repo_path), tuple(names or ()), force=force, allow_hooks_path=hooks_path
    )
    for change in changes:
        chained = f" (chains {change.legacy.name})" if change.legacy else ""
        print(f"{change.action:9} {change.path}{chained}")


@hook_app.command("uninstall")
def uninstall(
    names: NamesArgument = None,
    force: Annotated[bool, typer.Option("--force", help="Remove a gittree hook even if edited.")] = False,
    hooks_path: HooksPathOption = False,
) -> None:
    """Remove gittree's hooks and put back the hooks they had moved aside."""
    from gittree import gitio
    from gittree.hooks import uninstall as uninstall_hooks

    changes = uninstall_hooks(
        gitio.open_repo(State.repo_path), tuple(names or ()), force=force, allow_hooks_path=hooks_path
    )
    words = {"removed": "removed", "absent": "absent", "left-foreign": "not gittree's, left alone:"}
    for change in changes:
        restored = " (restored the hook it had replaced)" if change.legacy else ""
        print(f"{words[change.action]} {change.path}{restored}")


@hook_app.command("status")
def status() -> None:
    """Say which of gittree's hooks are installed, where, and whether they still work."""
    from gittree import gitio
    from gittree.hooks import status as hook_status

    folder, configured, states = hook_status(gitio.open_repo(State.repo_path))
    print(f"hooks folder: {folder}" + (f" (core.hooksPath = {configured})" if configured else ""))
    for s in states:
        text = {
            "absent": "not installed",
            "foreign": "another tool's hook (gittree hook install chains it)",
            "gittree": "installed",
            "edited": "installed, edited by hand",
        }[s.state]
        if s.state in ("gittree", "edited") and not s.python_exists:
            text += f"; BROKEN: {s.python} no longer exists (run gittree hook install again)"
        elif s.outdated:
            text += " (an older version: gittree hook install updates it)"
        if s.legacy is not None:
            text += f"; chains {s.legacy.name}"
        if s.misplaced is not None:
            text += (
                f"; BROKEN: {s.misplaced.name} is pre-commit's script, which runs itself from there and fails"
                f" (run gittree hook install again: it moves it to {s.name}.gittree-chained)"
            )
        if s.run_by is not None:  # another hook manager moved ours aside and runs it
            text += f", as {s.path.name}, run by {s.run_by.name} (another tool's hook)"
        if s.input_lost:
            text += (
                f"; WARNING: pre-commit's {s.run_by.name if s.run_by else s.name} runs it without git's list of"
                " rewritten commits, so a rebase is not followed (an amend is, from HEAD's reflog);"
                f" run gittree hook install {s.name} again: gittree's hook then runs first and chains"
                " pre-commit's"
            )
        print(f"{s.name:12} {text}")


def _comment_char() -> str:
    """The repository's comment character (the hook runs inside it); git's default outside one."""
    from gittree import gitio
    from gittree.errors import GittreeError

    try:
        return gitio.comment_char(gitio.open_repo(State.repo_path))
    except GittreeError:
        return "#"


def _message_text(data: bytes) -> str:
    """The message file git hands commit-msg, read in ``i18n.commitEncoding`` (git writes it in that
    encoding); asked of git only when the file is not ASCII, which every such encoding reads alike."""
    from gittree.rawcommit import decode_message

    if data.isascii():
        return data.decode("ascii")
    from gittree import gitio
    from gittree.errors import GittreeError

    try:
        encoding = gitio.config_value(gitio.open_repo(State.repo_path), "i18n.commitEncoding")
    except GittreeError:
        encoding = None
    return decode_message(data, encoding)


@hook_app.command("check-message", hidden=True)
def check_message(
    message_file: Annotated[Path, typer.Argument(help="The commit message file git passes to commit-msg.")],
) -> None:
    """Refuse a commit message whose Gittree-* trailers are malformed (what the commit-msg hook runs)."""
    from gittree.errors import HookError
    from gittree.hooks import ACCEPTED_FORMS
    from gittree.hooks import check_message as check
    from gittree.render.escape import terminal_safe

    try:
        data = message_file.read_bytes()
    except OSError as e:
        raise HookError(f"cannot read the commit message {message_file}: {e.strerror or e}") from e
    problems = check(_message_text(data), _comment_char())
    if not problems:
        return
    err = sys.stderr
    print("gittree: commit refused: malformed Gittree-* trailer(s) in the message:", file=err)
    for problem in problems:
        print(f"  {terminal_safe(problem.line)}", file=err)
        print(f"      {terminal_safe(problem.error)}", file=err)
        if problem.hint:
            print(f"      hint: {terminal_safe(problem.hint)}", file=err)
    print("accepted forms:", file=err)
    for form, example in ACCEPTED_FORMS:
        print(f"  {form:28}  e.g. {example}", file=err)
    print("(your message is kept in .git/COMMIT_EDITMSG; fix it and commit again)", file=err)
    raise typer.Exit(1)


@hook_app.command("follow-rewrites", hidden=True)
def follow_rewrites(
    kind: Annotated[str, typer.Argument(help="What rewrote the commits (amend, rebase), as git says.")] = "",
) -> None:
    """Make the keep ref follow the rewrites git lists on standard input (what the post-rewrite hook runs)."""
    from gittree.cli.fastpath import follow_rewrites as follow

    follow(State.repo_path, kind)
