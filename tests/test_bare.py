"""Bare repositories (docs/reliability.md): every read-only command works, every writing one explains."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import GitRepo

READ_ONLY = [
    ("show", "--color", "never"),
    ("show", "--json"),
    ("table",),
    ("best",),
    ("path", "HEAD"),
    ("diff", "HEAD~1", "HEAD"),
    ("export",),
    ("export", "--format", "markdown"),
    ("render", "--format", "dot"),
    ("render", "--format", "html"),
    ("runs",),
]
#: (arguments, exit code, words the message must hold)
WRITING = [
    (("commit", "--allow-empty", "-m", "x", "--metric", "acc=1"), 7, "bare"),
    (("run", "--", "true"), 11, "bare"),
    (("record", "HEAD", "--metric", "acc=1"), 7, "bare"),
    (("abandon", "HEAD", "--reason", "dead"), 7, "bare"),
    (("init",), 7, "bare"),
    (("hook", "install"), 12, "bare"),
]


@pytest.fixture
def bare(repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo.experiment("first", metrics=[("acc", 0.5)])
    repo.experiment("second", metrics=[("acc", 0.6)])
    target = tmp_path / "b.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(target)], check=True)
    monkeypatch.chdir(target)
    return target


def refs_and_hooks(path: Path) -> tuple[str, list[str]]:
    refs = subprocess.run(["git", "for-each-ref"], cwd=path, capture_output=True, text=True, check=True)
    return refs.stdout, sorted(p.name for p in (path / "hooks").iterdir())


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda args: "-".join(a.strip("-") for a in args))
def test_read_only_commands_work_in_a_bare_repository(bare: Path, gittree, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = gittree(*args)
    assert result.code == 0, result.err
    assert result.out


@pytest.mark.parametrize(
    ("args", "code", "words"), WRITING, ids=lambda v: v[0] if isinstance(v, tuple) else ""
)
def test_writing_commands_explain_in_a_bare_repository(
    bare: Path, gittree, args, code: int, words: str
) -> None:  # type: ignore[no-untyped-def]
    before = refs_and_hooks(bare)
    result = gittree(*args)
    assert result.code == code, (result.code, result.err)
    assert words in result.err and "Traceback" not in result.err
    assert refs_and_hooks(bare) == before
