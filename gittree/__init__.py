"""gittree: a git-native research log.

Importing ``gittree`` is cheap on purpose: a training script calls ``gittree.log_metric`` without paying
for git libraries.
"""

from __future__ import annotations

__version__ = "0.1.0"

from gittree.api import log_metric, log_metrics

__all__ = ["__version__", "log_metric", "log_metrics"]
