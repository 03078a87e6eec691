"""Shared fixtures: every test runs git cut off from the user's configuration, with fixed identity and dates.

``repo`` builds real repositories commit by commit; ``gittree`` runs the real command line in-process
and returns its exit code, stdout and stderr. Expected output lives in ``tests/expected/``; run with
``GITTREE_UPDATE_EXPECTED=1`` to rewrite those files after an intended change (and review the diff).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gitenv import _apply

EXPECTED = Path(__file__).parent / "expected"
SAMPLES = Path(__file__).parent / "samples"
BASE_TIME = 1767225600  # 2026-01-01 00:00 UTC


@pytest.fixture(autouse=True)
def sandbox(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolate git and pin the terminal for every test."""
    home = tmp_path_factory.mktemp("home")
    _apply(monkeypatch, home)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "40")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("GITTREE_METRICS_FILE", raising=False)
    return home


@dataclass
class Result:
    code: int
    out: str
    err: str


class GitRepo:
    """A real repository in a temporary folder, written with the git command line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def env(self) -> dict[str, str]:
        self.clock += 1
        when = f"@{BASE_TIME + self.clock * 3600} +0000"
        return {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}

    def git(self, *args: str, input: str | None = None, check: bool = True) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.path, input=input, capture_output=True, text=True, env=self.env()
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def write(self, name: str, text: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def commit(self, message: str, *, change: str | None = None) -> str:
        """An ordinary commit (or, with trailers in ``message``, a hand-written experiment)."""
        self.write("work.txt", (change or message) + f"\n{self.clock}\n")
        self.git("add", "-A")
        self.git("commit", "-q", "--cleanup=verbatim", "-F", "-", input=message)
        return self.head()

    def experiment(
        self,
        subject: str,
        *,
        metrics: Sequence[tuple[str, float | str]] = (),
        params: Sequence[tuple[str, str]] = (),
        notes: Sequence[str] = (),
        status: str | None = None,
    ) -> str:
        lines = [f"Gittree-Metric: {name}={value}" for name, value in metrics]
        lines += [f"Gittree-Param: {name}={value}" for name, value in params]
        lines += [f"Gittree-Note: {note}" for note in notes]
        if status:
            lines.append(f"Gittree-Status: {status}")
        if not lines:
            lines.append("Gittree-Status: ok")
        return self.commit(subject + "\n\n" + "\n".join(lines) + "\n", change=subject)

    def branch(self, name: str, start: str) -> None:
        self.git("checkout", "-q", "-B", name, start)

    def crossover_through_params_only(self) -> tuple[str, str, str, str]:
        """baseline → worse on main, baseline → params only (no metric) on idea, then their crossover on
        main, judged against the baseline through the params-only parent: (base, worse, params, merged)."""
        base = self.experiment("baseline", metrics=[("acc", 0.5)])
        worse = self.experiment("worse", metrics=[("acc", 0.4)])
        self.branch("idea", base)
        params = self.experiment("params only", params=[("batch", "256")])
        self.branch("main", worse)
        return base, worse, params, self.merge("idea", "crossover", metrics=[("acc", 0.6)])

    def merge(self, other: str, subject: str, **kwargs: object) -> str:
        self.git("merge", "-q", "--no-ff", "--no-commit", "-X", "theirs", other, check=False)
        self.git("checkout", "--theirs", "--", ".", check=False)
        return self.experiment(subject, **kwargs)  # type: ignore[arg-type]

    def squash(self, count: int, command: str = "squash") -> str:
        """``git rebase -i HEAD~count`` with each commit after the first turned into ``command``
        (``squash``, ``fixup``) in git's todo list, and the message git proposes kept as it is."""
        todo = f"import re, sys; p = sys.argv[1]; t = open(p).read(); open(p, 'w').write(re.sub('(?m)^pick', '{command}', t).replace('{command}', 'pick', 1))"
        done = subprocess.run(
            ["git", "rebase", "-q", "-i", f"HEAD~{count}"],
            cwd=self.path,
            capture_output=True,
            text=True,
            env={
                **self.env(),
                "GIT_SEQUENCE_EDITOR": f'"{sys.executable}" -c "{todo}"',
                "GIT_EDITOR": "true",
            },
        )
        if done.returncode != 0:
            raise AssertionError(f"git rebase -i failed: {done.stderr}")
        return self.head()

    def raw_commit(self, message: bytes, parent: str | None = None, header: str = "") -> str:
        """A commit object written byte for byte, HEAD moved to it (git commit would clean the message up)."""
        tree = self.git("write-tree").strip()
        lines = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
        lines += "author A <a@b> 1767225600 +0000\ncommitter A <a@b> 1767225600 +0000\n" + header
        done = subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
            input=lines.encode() + b"\n" + message,
            cwd=self.path,
            capture_output=True,
            check=True,
        )
        sha = done.stdout.decode().strip()
        self.git("update-ref", "HEAD", sha)
        return sha

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """An empty repository, and the current directory set to it."""
    made = GitRepo(tmp_path / "repo")
    monkeypatch.chdir(made.path)
    return made


@pytest.fixture
def gittree(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``gittree ARGS`` in-process; returns a :class:`Result`."""
    from gittree.cli import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def check_expected(name: str, actual: str) -> None:
    """Compare ``actual`` with ``tests/expected/NAME``; rewrite it when GITTREE_UPDATE_EXPECTED=1."""
    path = EXPECTED / name
    if os.environ.get("GITTREE_UPDATE_EXPECTED") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing {path}: run with GITTREE_UPDATE_EXPECTED=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"output differs from {path}"
