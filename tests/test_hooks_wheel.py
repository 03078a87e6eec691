"""The hook scripts ship inside the wheel and are installed from it, not from a source checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import GitRepo

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_hook_install_from_a_non_editable_install(repo: GitRepo, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("gittree-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name: archive.read(name) for name in archive.namelist() if name.startswith("gittree/_hooks/")
        }
    assert set(shipped) == {
        "gittree/_hooks/post-run",
        "gittree/_hooks/commit-msg",
        "gittree/_hooks/post-rewrite",
    }

    # A fresh environment with the wheel installed; its dependencies come from the test environment.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(python), "-c", "import gittree; print(gittree.__file__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not this checkout

    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [str(venv / "bin" / "gittree"), "hook", "install"],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    installed = (repo.path / ".git" / "hooks" / "commit-msg").read_text()
    assert f"GITTREE_PYTHON={python}" in installed
    template = shipped["gittree/_hooks/commit-msg"].decode()
    body = installed.split(f"GITTREE_PYTHON={python}\n", 1)[1]
    assert body == template.split("GITTREE_PYTHON=@GITTREE_PYTHON@\n", 1)[1]  # the wheel's script

    refused = subprocess.run(
        ["git", "commit", "--allow-empty", "-q", "-m", "x\n\nGittree-Metric: acc=0,73"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "Gittree-Metric: acc=0,73" in refused.stderr
    # The environment is deleted: the hook says so instead of failing mysteriously.
    subprocess.run(["rm", "-rf", str(venv)], check=True)
    broken = subprocess.run(
        ["git", "commit", "--allow-empty", "-q", "-m", "x"], cwd=repo.path, capture_output=True, text=True
    )
    assert broken.returncode != 0 and "no longer exists" in broken.stderr
