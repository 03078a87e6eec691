"""gittree commit and gittree init: writing experiments and settings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gittree.cli.common import JsonOption, State, app


@app.command()
def commit(
    message: Annotated[
        list[str] | None,
        typer.Option(
            "-m", "--message", help="What this experiment changed; repeated: paragraphs, as git commit -m."
        ),
    ] = None,
    message_file: Annotated[
        Path | None, typer.Option("-F", "--file", help="Read the message from a file ('-' for stdin).")
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="NAME=VALUE; repeat for more metrics or seeds.")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE; repeatable.")] = None,
    note: Annotated[list[str] | None, typer.Option("--note", help="A one-line note; repeatable.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="ok, abandoned, failed or running.")] = None,
    stage_all: Annotated[
        bool, typer.Option("-a", "--all", help="Stage modified tracked files first.")
    ] = False,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Commit even with no code change.")
    ] = False,
    metrics_file: Annotated[
        Path | None,
        typer.Option("--metrics-file", help="JSON or YAML file of metrics (nested keys joined by /)."),
    ] = None,
) -> None:
    """Record an experiment: commit through git (your hooks, identity and signing apply) with Gittree-* trailers."""
    from gittree import gitio
    from gittree.cli.running import paragraphs
    from gittree.read import repo_config
    from gittree.record.commit import commit_experiment, prepare_entry
    from gittree.record.paramsfile import merge_params, params_from_file
    from gittree.trailers import parse_params

    text = _read_message(paragraphs(message), message_file)
    overrides = parse_params(param or ())  # a name given twice is refused before anything is read
    repo = gitio.open_repo(State.repo_path)
    # The params file as this commit will hold it: staged, or as it is with -a (when tracked).
    staged = params_from_file(repo, repo_config(repo).run.params_file, index=True)
    found = params_from_file(repo, staged.path) if stage_all and staged else staged
    params = merge_params(found.params if found else (), overrides)
    entry = prepare_entry(
        text,
        metrics=metric or (),
        params=[f"{name}={value}" for name, value in params],
        notes=note or (),
        status=status,
        metrics_file=metrics_file,
    )
    sha = commit_experiment(repo, entry, stage_all=stage_all, allow_empty=allow_empty)
    from gittree.render.escape import terminal_safe

    print(f"[{sha[:7]}] {terminal_safe(entry.message.splitlines()[0])}")


def _read_message(message: str | None, message_file: Path | None) -> str | None:
    if message is not None and message_file is not None:
        raise typer.BadParameter("give the message with -m or -F, not both")
    if message_file is None:
        return message
    if str(message_file) == "-":
        return sys.stdin.read()
    try:
        return message_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        from gittree.errors import BadValueError

        raise BadValueError(f"cannot read the message file {message_file}: {e}") from e


@app.command()
def init(
    metric: Annotated[str | None, typer.Option("--metric", help="The primary metric.")] = None,
    goal: Annotated[
        str | None, typer.Option("--goal", help="max or min (default: inferred from the name).")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="|delta| at or below this is negligible.")
    ] = None,
) -> None:
    """Write .gittree.yaml and set git to carry gittree's notes through amend and rebase."""
    from gittree import gitio
    from gittree.project import init_project

    result = init_project(gitio.open_repo(State.repo_path), metric=metric, goal=goal, threshold=threshold)
    print(f"wrote {result.config_path}")
    from shlex import quote

    for key, value in result.git_settings:
        print(f"git config {key} {quote(value)}")


@app.command()
def kept(json_output: JsonOption = False) -> None:
    """List the experiments gittree keeps from garbage collection: what each is, and whether a branch reaches it."""
    from gittree import gitio
    from gittree.record.keep import kept_list
    from gittree.render.escape import terminal_safe

    listing = kept_list(gitio.open_repo(State.repo_path))
    entries = listing.kept
    if json_output:
        import json

        data = {
            "schema": 1,
            "kept": [
                {
                    "sha": entry.sha,
                    "subject": entry.subject,
                    "status": entry.status,
                    "verdict": entry.verdict,
                    "reachable": not entry.discarded,
                    "state": entry.state,
                    "rewritten_into": entry.rewritten_into,
                }
                for entry in entries
            ],
            "forgotten": [
                {"sha": sha, "rewritten_into": into} for sha, into in sorted(listing.forgotten.items())
            ],
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    for entry in entries:
        status = entry.status or "—"
        print(f"{entry.sha[:7]}  {entry.state:<11}  {status:<9}  {terminal_safe(entry.subject)}")
    gone = sum(entry.discarded and not entry.rewritten for entry in entries)
    rewritten = sum(entry.rewritten for entry in entries)
    forgotten = len(listing.forgotten)
    print(
        f"{len(entries)} kept, {gone} discarded (reached by no branch, tag or remote-tracking branch), "
        f"{rewritten} rewritten (an earlier version of an experiment shown; gittree forget --rewritten); "
        f"{forgotten} forgotten"
    )


@app.command()
def forget(
    revs: Annotated[
        list[str] | None,
        typer.Argument(help="The kept experiments to forget.", metavar="REV", show_default=False),
    ] = None,
    rewritten: Annotated[
        bool,
        typer.Option("--rewritten", help="Forget every kept earlier version of a rewritten experiment."),
    ] = False,
) -> None:
    """Stop keeping experiments (and the kept ones grown from them): git gc may then delete them."""
    from gittree import gitio
    from gittree.errors import BadValueError
    from gittree.record.keep import forget as forget_commits
    from gittree.record.keep import forget_rewritten

    repo = gitio.open_repo(State.repo_path)
    if not (revs or rewritten):
        raise BadValueError("name the experiments to forget", hint="gittree kept lists what gittree keeps")
    results = [forget_commits(repo, revs)] if revs else []
    if rewritten:
        done = forget_rewritten(repo)
        if not done.forgotten:
            print("nothing to forget: no kept experiment was rewritten")
        results.append(done)
    for result in results:
        for sha in result.forgotten:
            still = sha in result.still_reachable
            print(
                f"forgot {sha[:7]}"
                + (" (still reached by a ref: it stays in the tree as history)" if still else "")
            )
