"""The one exception hierarchy of gittree.

Every error a user can meet is a :class:`GittreeError` subclass carrying its own exit code and a
message that says what to do next. Core code raises them; ``gittree.cli`` catches them once, prints
the message to stderr and exits with the code. The codes are documented in ``docs/guide.md``.
"""

from __future__ import annotations


class GittreeError(Exception):
    """Base of every error gittree reports to a user (exit code 1 unless a subclass says otherwise)."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nhint: {self.hint}"


class NotARepositoryError(GittreeError):
    """The working directory (or --repo) is not inside a git repository."""

    exit_code = 3


class NoCommitsError(GittreeError):
    """The repository has no commits yet (unborn HEAD)."""

    exit_code = 4


class NoExperimentsError(GittreeError):
    """The history holds no commit with a Gittree-* trailer."""

    exit_code = 5


class BadValueError(GittreeError):
    """A metric, param, name, note or status given by the user is not in the accepted form."""

    exit_code = 6


class GitCommandError(GittreeError):
    """git itself refused an operation (a hook rejected the commit, a lock is held, ...)."""

    exit_code = 7


class RefLockedError(GitCommandError):
    """A ref could not be moved because another process held its lock longer than git waited.

    Nothing was written: trying again (after the other process is done) is the remedy.
    """


class TrailersLostError(GittreeError):
    """A commit was made but its Gittree-* trailers did not survive (a commit-msg hook rewrote them)."""

    exit_code = 8


class ConfigError(GittreeError):
    """``.gittree.yaml`` is not valid YAML or holds a value of the wrong type."""

    exit_code = 9


class RevisionNotFoundError(GittreeError):
    """A revision named on the command line does not resolve to a commit."""

    exit_code = 10


class RunError(GittreeError):
    """A ``gittree run`` could not start its command, or its journal entry is unusable."""

    exit_code = 11


class HookError(GittreeError):
    """A hook could not be installed, uninstalled or found."""

    exit_code = 12


class RenderError(GittreeError):
    """A view could not be produced (for example Graphviz is missing for PNG/PDF)."""

    exit_code = 13


class RemoteError(GittreeError):
    """A remote could not be reached, or refused what gittree sent.

    ``unreachable``: git could not talk to the remote at all (address, network, access), which
    trying again later may fix; a refusal (a diverged branch, a name clash) needs something done.
    """

    exit_code = 14

    def __init__(self, message: str, *, hint: str | None = None, unreachable: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.unreachable = unreachable


class MissingExtraError(GittreeError):
    """An optional library a feature needs is not installed (``gittree plot`` needs ``gittree[plot]``)."""

    exit_code = 15


#: Exit codes by class, for the documentation and its test.
EXIT_CODES: dict[str, int] = {
    cls.__name__: cls.exit_code
    for cls in (
        GittreeError,
        NotARepositoryError,
        NoCommitsError,
        NoExperimentsError,
        BadValueError,
        GitCommandError,
        TrailersLostError,
        ConfigError,
        RevisionNotFoundError,
        RunError,
        HookError,
        RenderError,
        RemoteError,
        MissingExtraError,
    )
}


class Notice(UserWarning):
    """Not an error: something a user should know, raised as a warning by core code (``warnings.warn``)
    and printed once by the command line as ``gittree: MESSAGE`` on stderr, the command going on."""
