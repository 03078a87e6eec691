"""Start-up without typer: ``gittree --version``, the usual forms of the commands that only read, and ``run``.

The views (show, table, export, render), the questions (best, path, diff, runs) and ``run`` each have
a table of their options here. tests/test_scale.py walks the typer app's own parameters and checks every
table against them (names, flags, repeats, argument counts, and that any value accepted here typer
accepts and reads the same), so an option added to a command is either read here or listed as
typer's alone.

Importing typer (its own copy of click, and pydantic) costs 0.1-0.25 s here, ten to twenty empty
Python starts; an answer served from the view cache needs a few milliseconds. So :func:`try_fast` recognises the
common forms of these commands itself (one table of their flags and options, values checked as
typer checks them) and runs them; anything else (``--help``, an unknown or malformed option, other
commands) returns False and goes to the full typer command line, which also owns every error
message about the command line. The typer commands call the same ``show_tree``/``print_*``
functions, and tests/test_scale.py checks that both paths print the same for the forms recognised here.
"""

from __future__ import annotations

import time
from pathlib import Path

from gittree.cli.output import (
    ColourMode,
    DrawingFormat,
    ExportFormat,
    Progress,
    TableFormat,
    terminal_width,
    use_colour,
    write_chunks,
)

TYPE_CHECKING = False  # typing itself costs ~10 ms of start-up; mypy reads this as True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from gittree.gitio import Repo
    from gittree.read import Selection

#: One command's options as the fast path reads them: flags (option -> name), options taking a value
#: (option -> name), the names that repeat (a list), and a check of each value (False: typer decides).
_Form = tuple[dict[str, str], dict[str, str], frozenset[str], dict[str, "Callable[[str], bool]"]]


def _positive(text: str) -> bool:
    return text.isdecimal() and int(text) >= 1  # isdigit() holds for "²", which int() refuses


def _one_of(*choices: str) -> Callable[[str], bool]:
    return lambda text: text in choices


_METRIC = {"--metric": "metric", "-m": "metric"}
_FORMS: dict[str, _Form] = {
    "show": (
        {"--all": "all_refs", "--json": "as_json"},
        {**_METRIC, "--color": "color", "--colour": "color", "--limit": "limit", "--since": "since"},
        frozenset(),
        {"color": _one_of(*ColourMode.__members__), "limit": _positive},
    ),
    "table": (
        {"--all": "all_refs", "--json": "as_json"},
        {**_METRIC, "--sort": "sort", "--format": "fmt", "-f": "fmt", "--param": "param"},
        frozenset({"metric", "param"}),
        {"fmt": _one_of(*TableFormat.__members__)},
    ),
    "export": (
        {"--all": "all_refs", "--json": "as_json"},
        {**_METRIC, "--format": "fmt", "-f": "fmt", "--budget": "budget"},
        frozenset(),
        # an agent loop's view after each try: `export --format markdown --budget N` (docs/guide.md)
        {"fmt": _one_of(*ExportFormat.__members__), "budget": str.isdecimal},
    ),
    "render": (
        {"--all": "all_refs", "--only-best-path": "only_best_path"},
        {
            **_METRIC,
            "--format": "fmt",
            "-f": "fmt",
            "-o": "output",
            "--output": "output",
            "--depth": "depth",
            "--since": "since",
            "--fold": "fold",
        },
        frozenset(),
        {"fmt": _one_of(*DrawingFormat.__members__), "depth": _positive, "fold": str.isdecimal},
    ),
}


#: The question commands that only read: one table each, as for the views above. Their arguments
#: are counted too (least, most): a wrong count is typer's to word.
_ANSWER_FORMS: dict[str, _Form] = {
    "best": (
        {"--all": "all_refs", "--json": "as_json"},
        {**_METRIC, "--top": "top", "-k": "top"},
        frozenset(),
        {"top": str.isdecimal},
    ),
    "path": ({"--all": "all_refs", "--json": "as_json"}, dict(_METRIC), frozenset(), {}),
    "diff": (
        {"--all": "all_refs", "--patch": "patch", "-p": "patch", "--json": "as_json"},
        dict(_METRIC),
        frozenset(),
        {},
    ),
    "runs": ({"--json": "as_json"}, {}, frozenset(), {}),  # --prune, --older-than: typer
}

#: ``gittree run`` and ``sweep``: typer's parsing alone cost more than the journal, the child and the
#: commit of a short command together (issue 19). Its options end at the first argument, the command's first word
#: (click's ``allow_interspersed_args=False``): what follows is the command's own.
_RUN_FORMS: dict[str, _Form] = {
    "run": (
        {"--no-commit": "no_commit", "--add": "add", "--push": "push", "--new": "new"},
        {
            "--name": "name",
            "-m": "name",
            "--metrics-file": "metrics_file",
            "--capture": "capture",
            "--branch": "branch",
            "-b": "branch",
            "--param": "param",
            "--note": "note",
            "--remote": "remote",
            "--seeds": "seeds",
            "--jobs": "jobs",
            "-j": "jobs",
        },
        frozenset({"name", "capture", "param", "note"}),
        {"jobs": str.isdecimal},
    ),
    "sweep": (
        {"--add": "add"},
        {
            "--grid": "grid",
            "--seeds": "seeds",
            "--jobs": "jobs",
            "-j": "jobs",
            "--name": "name",
            "--message": "message",
            "-m": "message",
            "--metric": "metric",
            "--metrics-file": "metrics_file",
            "--capture": "capture",
            "--param": "param",
            "--note": "note",
        },
        frozenset({"grid", "message", "capture", "param", "note"}),
        {"jobs": str.isdecimal},
    ),
}
#: Commands whose first argument ends their options, as above.
OPTIONS_END_AT_ARGUMENT = frozenset(_RUN_FORMS)
#: How many arguments each command takes (least, most; None: no limit); others take any number.
ARGUMENT_COUNTS: dict[str, tuple[int, int | None]] = {
    "path": (0, 1),
    "diff": (2, 2),
    "runs": (0, 1),
    "run": (1, None),
    "sweep": (1, None),
}


def form_of(command: str) -> _Form | None:
    """The fast path's table of ``command``'s options (None: typer only)."""
    return _FORMS.get(command) or _ANSWER_FORMS.get(command) or _RUN_FORMS.get(command)


def _selection(revs: list[str], options: dict[str, Any], *, within_scope: bool = False) -> Selection:
    """What selects the tree, taken out of ``options`` as :func:`parse_form` read them."""
    from gittree.read import Selection

    metric = options.pop("metric", None)
    return Selection(
        revs,
        all_refs=options.pop("all_refs", False),
        within_scope=within_scope,
        metric=metric[0] if isinstance(metric, list) and metric else metric or None,
    )


def _answer(repo_path: Path | None, command: str, options: dict[str, Any]) -> None:
    """Run one of the question commands with options as :func:`parse_form` read them."""
    revs = options.pop("revs")
    if command == "best":
        from gittree.cli.answers import print_best

        top = int(options.pop("top", 1))
        chosen = _selection(revs, options)
        print_best(repo_path, chosen, top=top, **options)
    elif command == "path":
        from gittree.cli.answers import print_path

        chosen = _selection(revs[:1], options, within_scope=True)
        print_path(repo_path, chosen, **options)
    elif command == "diff":
        from gittree.cli.answers import print_diff

        print_diff(repo_path, revs[0], revs[1], **options)
    else:
        from gittree import gitio
        from gittree.cli.runlist import print_runs

        print_runs(gitio.open_repo(repo_path), revs[0] if revs else None, **options)


def _rewrite_kind(rest: list[str]) -> str | None:
    """The argument of ``hook follow-rewrites [--] [KIND]`` (empty when none); None for any other form."""
    if rest[:1] == ["--"]:
        rest = rest[1:]
    elif rest and rest[0].startswith("-"):
        return None
    return rest[0] if len(rest) == 1 else "" if not rest else None


def follow_rewrites(repo_path: Path | None, kind: str) -> None:
    """What the post-rewrite hook runs after every amend and rebase: served here, without typer, since
    it runs on every rewrite (docs/hooks.md). Reads git's ``OLD NEW`` lines from standard input."""
    import sys

    from gittree.hooks import parse_rewrites

    pairs = parse_rewrites(sys.stdin.read())
    if not pairs:
        return
    from gittree import gitio
    from gittree.record.keep import follow_rewrites as follow

    followed = follow(gitio.open_repo(repo_path), pairs)
    if followed:
        count, plural = len(followed), "s" if len(followed) != 1 else ""
        from gittree.render.escape import terminal_safe

        print(
            terminal_safe(
                f"gittree: {count} kept experiment{plural} rewritten ({kind or 'rewrite'}): "
                f"{gitio.KEEP_REF} keeps the new version{plural}"
            ),
            file=sys.stderr,
        )


def try_fast(argv: list[str]) -> bool:
    """Run ``argv`` here when it is one of the fast forms; False hands it to the typer app."""
    args = list(argv)
    repo_path: Path | None = None
    if len(args) >= 2 and args[0] in ("-C", "--repo") and not args[1].startswith("-"):
        repo_path, args = Path(args[1]), args[2:]
    elif args and args[0].startswith("--repo=") and len(args[0]) > len("--repo="):
        repo_path, args = Path(args[0].partition("=")[2]), args[1:]
    if args == ["--version"]:  # `gittree -C DIR --version` too: typer prints it before looking at DIR
        from gittree import __version__

        print(f"gittree {__version__}")
        return True
    if args[:2] == ["hook", "follow-rewrites"]:
        kind = _rewrite_kind(args[2:])
        if kind is None:
            return False
        follow_rewrites(repo_path, kind)
        return True
    if not args or form_of(args[0]) is None:
        return False
    options = parse_form(args[0], args[1:])
    if options is None:
        return False
    if args[0] in _ANSWER_FORMS:
        _answer(repo_path, args[0], options)
        return True
    if args[0] in _RUN_FORMS:
        from gittree.cli.running import run_experiment, run_grid

        command = options.pop("revs")
        if "jobs" in options:
            options["jobs"] = int(options["jobs"])
        code = (run_experiment if args[0] == "run" else run_grid)(repo_path, command, **options)
        if code:
            raise SystemExit(code)
        return True
    revs = options.pop("revs")
    if args[0] == "show":
        from gittree import gitio
        from gittree.read import Selection

        repo = gitio.open_repo(repo_path)  # before the options are read, as typer's command does
        chosen = Selection(
            revs,
            all_refs=options.get("all_refs", False),
            metric=options.get("metric"),
            limit=int(options["limit"]) if "limit" in options else None,
            since=read_since(options.get("since")),
        )
        show_tree(
            repo,
            chosen,
            color=ColourMode(options.get("color", "auto")),
            as_json=options.get("as_json", False),
        )
    elif args[0] == "table":
        metrics = options.get("metric") or []
        chosen = _selection(revs, options)
        print_table(repo_path, chosen, metrics=metrics, **options)
    elif args[0] == "export":
        if "budget" in options:
            options["budget"] = int(options["budget"])
        chosen = _selection(revs, options)
        print_export(repo_path, chosen, **options)
    else:
        for name in ("depth", "fold"):
            if name in options:
                options[name] = int(options[name])
        chosen = _selection(revs, options)
        print_drawing(repo_path, chosen, **options)
    return True


def parse_form(command: str, args: list[str]) -> dict[str, Any] | None:
    """The options of ``command`` in the forms click accepts, or None for anything unusual."""
    form = form_of(command)
    if form is None:
        return None
    flags, takes_value, repeated, valid = form
    options: dict[str, Any] = {"revs": []}
    position = 0
    while position < len(args):
        arg = args[position]
        position += 1
        if arg == "--":
            options["revs"].extend(args[position:])
            break
        if arg in flags:
            options[flags[arg]] = True
            continue
        option, equals, value = arg.partition("=")
        if option in takes_value and option.startswith("--") and equals:
            name = takes_value[option]
        elif arg in takes_value:
            if position >= len(args) or args[position].startswith("-"):
                return None
            name, value = takes_value[arg], args[position]
            position += 1
        elif arg.startswith("-"):
            return None  # --help, -h, an unknown option, a bundled short option: typer decides
        elif command in OPTIONS_END_AT_ARGUMENT:
            options["revs"].extend(args[position - 1 :])
            break
        else:
            options["revs"].append(arg)
            continue
        if name in valid and not valid[name](value):
            return None  # typer words the error
        if name in repeated:
            options.setdefault(name, []).append(value)
        else:
            options[name] = value
    least, most = ARGUMENT_COUNTS.get(command, (0, None))
    if len(options["revs"]) < least or (most is not None and len(options["revs"]) > most):
        return None
    return options


def read_since(since: str | None) -> int | None:
    """``--since DATE`` as a Unix time (None without the option); a date that cannot be read is an error."""
    if since is None:
        return None
    from gittree.dates import parse_since

    return parse_since(since, now=int(time.time()))


def show_tree(
    repo: Repo,
    selection: Selection,
    *,
    color: ColourMode = ColourMode.auto,
    as_json: bool = False,
) -> None:
    """``gittree show``: stream the tree ``selection`` selects (text or JSON), from the cache when nothing changed."""
    from gittree.read import views

    progress = Progress()
    chunks = views.show_view(
        repo,
        selection,
        as_json=as_json,
        width=terminal_width(),
        colour=use_colour(color),
        progress=progress,
    )
    try:
        write_chunks(chunks, before_first=progress.clear)
    finally:
        progress.clear()


def print_table(
    repo_path: Path | None,
    selection: Selection,
    *,
    metrics: list[str] | None = None,
    sort: str | None = None,
    fmt: str = "plain",
    as_json: bool = False,
    param: list[str] | None = None,
) -> None:
    """``gittree table``: the rows, from the cache when nothing changed.

    ``metrics``: the metric columns, the first of them the selection's metric (delta and verdict).
    """
    from gittree import gitio
    from gittree.read import views

    if as_json and fmt != "plain":
        _two_formats(fmt)
    repo = gitio.open_repo(repo_path)
    chunks = views.table_view(
        repo,
        selection,
        metrics=metrics or (),
        sort=sort,
        fmt=fmt,
        as_json=as_json,
        params=param or (),
    )
    write_chunks(chunks)


def _two_formats(fmt: str) -> None:
    """``--json`` with another ``--format``: JSON was printed, and the format asked for ignored in silence."""
    from gittree.errors import BadValueError

    raise BadValueError(f"--json and --format {fmt} ask for two outputs", hint="give one of them")


def print_export(
    repo_path: Path | None,
    selection: Selection,
    *,
    fmt: str = "json",
    as_json: bool = False,
    budget: int | None = None,
) -> None:
    """``gittree export``: the research map as JSON or Markdown, from the cache when nothing changed."""
    from gittree import gitio
    from gittree.read import views

    if as_json and fmt != "json":
        _two_formats(fmt)
    chosen = "json" if as_json else fmt
    if budget is not None:
        from gittree.errors import BadValueError
        from gittree.render.digest import MIN_BUDGET

        if chosen != "markdown":
            raise BadValueError("--budget fits the Markdown story only", hint="add --format markdown")
        if budget < MIN_BUDGET:
            raise BadValueError(
                f"--budget must be at least {MIN_BUDGET} characters, not {budget}",
                hint="the heading and the best experiment need that much",
            )
    write_chunks(views.export_view(gitio.open_repo(repo_path), selection, fmt=chosen, budget=budget))


def print_drawing(
    repo_path: Path | None,
    selection: Selection,
    *,
    fmt: str | None = None,
    output: str | None = None,
    depth: int | None = None,
    since: str | None = None,
    only_best_path: bool = False,
    fold: int | None = None,
) -> None:
    """``gittree render``: DOT, SVG, PNG, PDF or HTML to stdout or to ``output``."""
    import sys

    from gittree import gitio
    from gittree.cli.output import BINARY_DRAWING_FORMATS, drawing_format
    from gittree.read import views

    chosen = drawing_format(fmt, output)
    to_stdout = output is None or output == "-"
    if to_stdout and chosen in BINARY_DRAWING_FORMATS and sys.stdout.isatty():
        from gittree.errors import BadValueError

        raise BadValueError(
            f"{chosen.value.upper()} is binary and standard output is a terminal",
            hint=f"write it to a file: gittree render -o tree.{chosen.value}",
        )
    since_time = None
    if since:
        from gittree.dates import parse_since

        since_time = parse_since(since, now=int(time.time()))
    chunks = views.drawing_view(
        gitio.open_repo(repo_path),
        selection,
        fmt=chosen.value,
        depth=depth,
        since=since_time,
        only_best_path=only_best_path,
        fold=fold,
    )
    if to_stdout:
        write_chunks(chunks)
        return
    assert output is not None
    from gittree.cli.output import write_file

    write_file(output, b"".join(chunks))
