"""What selects a research tree: the options every view of it shares (docs/tree.md, docs/architecture.md).

``show``, the questions, the notebook and :func:`gittree.research.load_tree` / :func:`gittree.research.view`
take one :class:`Selection` rather than the same eight options one by one. It is on the path of a view
served from the cache, so it is a plain class: importing ``dataclasses`` would cost that start-up
about 14 ms (see :class:`gittree.gitio.Repo`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Iterable


class Selection:
    """Which experiments a tree holds, and the metric that judges them; frozen, compared by value.

    ``revs``: start from these commits instead of the scope (every local branch and gittree's refs
    plus HEAD; ``all_refs``: every ref); ``within_scope``: ``revs`` are added to the scope rather than
    narrowing it (``path``, ``diff``). ``metric``: the metric that judges (default: the configured one).
    ``limit``: only the ``limit`` newest experiments; ``since``: only commits committed at or after
    this Unix time (neither reads older history). ``branches``: globs of branches (local and
    remote-tracking) to start from, instead of HEAD; ``author``: only that author's experiments (any
    case, within name or email) and their ancestors.
    """

    __slots__ = ("all_refs", "author", "branches", "limit", "metric", "revs", "since", "within_scope")

    revs: tuple[str, ...]
    all_refs: bool
    within_scope: bool
    metric: str | None
    limit: int | None
    since: int | None
    branches: tuple[str, ...]
    author: str | None

    def __init__(
        self,
        revs: Iterable[str] = (),
        *,
        all_refs: bool = False,
        within_scope: bool = False,
        metric: str | None = None,
        limit: int | None = None,
        since: int | None = None,
        branches: Iterable[str] = (),
        author: str | None = None,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "revs", tuple(revs))
        setattr_(self, "all_refs", all_refs)
        setattr_(self, "within_scope", within_scope)
        setattr_(self, "metric", metric)
        setattr_(self, "limit", limit)
        setattr_(self, "since", since)
        setattr_(self, "branches", tuple(branches))
        setattr_(self, "author", author)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Selection is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Selection is frozen: cannot delete {name!r}")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Selection):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Selection({shown})"
