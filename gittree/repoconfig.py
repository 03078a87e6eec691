"""The repository's ``.gittree.yaml`` as every command reads it (docs/config.md).

Apart from ``gittree.read`` (which re-exports it) so that a run, which reads the settings and no
history, does not import the read path and its cache (issue 19)."""

from __future__ import annotations

from gittree import gitio

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from gittree.config import Config


def repo_config(repo: gitio.Repo) -> Config:
    """The repository's ``.gittree.yaml`` as every view reads it: the working tree's, else HEAD's, else a
    remote default branch's, else the newest tip's (:func:`gitio.read_shared_file`, docs/config.md);
    the defaults without one."""
    from gittree import CONFIG_FILE
    from gittree.config import config_from_bytes

    source, data = gitio.read_shared_file(repo, CONFIG_FILE)
    return config_from_bytes(data, source or CONFIG_FILE)
