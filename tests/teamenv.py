"""A team around one remote: a bare repository and clones, each with its own author, in temporary folders.

``Team(tmp_path, run)`` makes the bare remote (with a baseline experiment on ``main``); ``team.clone(name)``
makes a clone whose git and gittree commands run as that person (``GIT_AUTHOR_*``, ``GIT_COMMITTER_*``
and a clock of its own). ``run`` is the in-process CLI runner of the ``gittree`` fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_TIME, Result

Runner = Callable[..., Result]


class Clone:
    """One person's clone of the team's remote."""

    def __init__(self, path: Path, name: str, run: Runner, hour: int) -> None:
        self.path = path
        self.name = name
        self.email = f"{name.lower()}@example.org"
        self._run = run
        self.clock = hour * 1000  # distinct clocks: two clones never write identical commits

    def env(self) -> dict[str, str]:
        self.clock += 1
        when = f"@{BASE_TIME + self.clock * 60} +0000"
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
        }

    @contextmanager
    def identity(self) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in self.env().items():
                patch.setenv(key, value)
            yield

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, env={**os.environ, **self.env()}
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed in {self.name}: {done.stderr}")
        return done.stdout

    def gittree(self, *args: str) -> Result:
        """``gittree -C CLONE ARGS`` in-process, as this person."""
        with self.identity():
            return self._run("-C", str(self.path), *args)

    def command(self, *args: str) -> list[str]:
        """The argv of ``gittree ARGS`` in this clone, as a separate process."""
        return [sys.executable, "-m", "gittree", "-C", str(self.path), *args]

    def process_env(self) -> dict[str, str]:
        return {**os.environ, **self.env()}

    def experiment(self, branch: str, subject: str, start: str = "origin/main", **metrics: float) -> str:
        """Switch to ``branch`` (created from ``start`` if new) and record an experiment with ``gittree commit``."""
        if self.git("branch", "--list", branch).strip():
            self.git("switch", "-q", branch)
        else:
            self.git("switch", "-q", "-c", branch, start)
        (self.path / "work.txt").write_text(f"{subject}\n", encoding="utf-8")
        self.git("add", "work.txt")
        args = ["commit", "-m", subject]
        for name, value in metrics.items():
            args += ["--metric", f"{name}={value}"]
        result = self.gittree(*args)
        assert result.code == 0, result.err
        return self.rev("HEAD")

    def note(self, sha: str, *lines: str) -> None:
        """Append a late result to ``sha``'s gittree note, as ``gittree record`` will."""
        from gittree import gitio

        with self.identity():
            gitio.append_note(gitio.open_repo(self.path), sha, list(lines))

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", rev).strip()

    def refs(self) -> dict[str, str]:
        """Every ref and what it points at: the state a failed sync must leave untouched."""
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in out.splitlines())

    def tree_json(self) -> dict[str, Any]:
        """``gittree show --all --json`` without what differs between clones by design (where HEAD is)."""
        result = self.gittree("show", "--all", "--json")
        assert result.code == 0, result.err
        data: dict[str, Any] = json.loads(result.out)
        data.pop("head")
        for node in data["nodes"]:
            node.pop("head")
        return data

    def sync(self, *args: str) -> Result:
        result = self.gittree("sync", *args)
        assert result.code == 0, f"sync in {self.name} failed: {result.err}"
        return result


class Team:
    """A bare remote with a baseline experiment on ``main``, and the clones made of it."""

    def __init__(self, root: Path, run: Runner) -> None:
        self.root = root
        self.run = run
        self.remote = root / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.remote)], check=True)
        self.clones: list[Clone] = []
        founder = self.clone("Founder")
        (founder.path / "work.txt").write_text("baseline\n", encoding="utf-8")
        founder.git("add", "work.txt")
        result = founder.gittree("commit", "-m", "baseline", "--metric", "acc=0.5")
        assert result.code == 0, result.err
        founder.git("push", "-q", "origin", "main")
        founder.git("fetch", "-q", "origin")
        self.baseline = founder.rev("HEAD")
        self.clones.remove(founder)

    def clone(self, name: str, *, depth: int | None = None) -> Clone:
        path = self.root / name.lower()
        source = self.remote.as_uri() if depth else str(self.remote)  # git honours --depth only for URLs
        args = ["git", "clone", "-q", *(["--depth", str(depth)] if depth else []), source, str(path)]
        subprocess.run(args, check=True, capture_output=True)
        made = Clone(path, name, self.run, hour=len(self.clones) + 1)
        self.clones.append(made)
        return made

    def remote_git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(self.remote), *args], capture_output=True, text=True, check=True
        ).stdout

    def remote_refs(self) -> dict[str, str]:
        out = self.remote_git("for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in out.splitlines())


def samples(data: dict[str, Any], metric: str = "acc") -> dict[str, list[float]]:
    """Sha -> sorted samples of ``metric``, from ``show --json`` data."""
    return {
        node["sha"]: sorted(node["metrics"][metric]["samples"])
        for node in data["nodes"]
        if metric in node["metrics"]
    }


def sync_in_order(clones: Sequence[Clone]) -> None:
    for clone in clones:
        clone.sync()
