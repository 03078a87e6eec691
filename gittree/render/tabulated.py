"""``tabulate``, measuring each cell in terminal cells as every other view of gittree measures text.

tabulate measures a cell with ``wcwidth`` when it can import it (installed wherever IPython or
prompt_toolkit is), else in code points. So the same table came out aligned on one machine and not
on another (a subject in CJK characters), and importing ``wcwidth`` cost about 14 ms of every
``best``, ``diff`` and ``table``. Here tabulate never imports ``wcwidth``: it is handed gittree's own
measure (:func:`gittree.render.escape.display_width`, which the terminal view pads with) in its place.
"""

from __future__ import annotations

import sys
from types import ModuleType

from gittree.render.escape import display_width

TYPE_CHECKING = False  # `typing` costs milliseconds of every start-up; mypy reads this as True
if TYPE_CHECKING:
    from typing import Any


class _CellWidth:
    """What tabulate asks of ``wcwidth``: ``wcswidth(text)``, the cells a line of text takes."""

    @staticmethod
    def wcswidth(text: str) -> int:
        return display_width(text)


def tabulate_module() -> ModuleType:
    """The ``tabulate`` module, measuring cells with :func:`display_width`."""
    loaded = sys.modules.get("tabulate")
    if loaded is None:
        hidden = "wcwidth" not in sys.modules
        if hidden:
            # tabulate's `import wcwidth` fails (a None entry is an ImportError) and it goes without it
            sys.modules["wcwidth"] = None  # type: ignore[assignment]
        try:
            import tabulate

            loaded = tabulate
        finally:
            if hidden and "wcwidth" in sys.modules and sys.modules["wcwidth"] is None:
                del sys.modules["wcwidth"]  # anything else may still import it
    settings: Any = loaded  # the module's globals tabulate reads on each call
    settings.wcwidth = _CellWidth
    settings.WIDE_CHARS_MODE = True
    return loaded
