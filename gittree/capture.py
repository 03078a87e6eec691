"""Metrics a run prints: ``NAME: VALUE`` or ``NAME=VALUE`` lines, for the names given with ``--capture``.

Training scripts print their results (autoresearch-style ``val_bpb: 0.9979``, or ``epoch 3 loss=0.25``).
The rules (docs/runs.md, "Captured output"):

* a name matches only as a whole word: ``loss`` does not match ``val_loss: 1``;
* ``:`` or ``=`` follows the name, with blanks allowed around it;
* the value is a plain number as ``Gittree-Metric`` accepts it (``0.9979``, ``-1.5``, ``3e-4``, ``nan``,
  ``inf``), ending at a blank, the end of the line or one of ``, ; | ) ] }``; ``91%`` or ``0.5s`` are
  not captured (the unit would be lost), nor is a decimal comma (``0,73``);
* ``-nan`` and ``+nan`` (C's ``printf`` of a negative NaN) are ``nan``; a number the format refuses
  (``1e999``, which would overflow to infinity) is not captured but remembered in :meth:`warnings`:
  output never makes the parser raise, whatever it holds;
* colour codes are ignored, and a carriage return ends a line, so progress bars are read as they show;
* the last value printed for a name wins (a script printing every epoch is recorded with its last).

Pure: no I/O. :class:`LineSplitter` turns the byte chunks of a pipe into lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from gittree.errors import GittreeError
from gittree.trailers import parse_metric_assignment, validate_name

# CSI sequences (colours, cursor moves) and OSC sequences (titles, links) that terminals interpret.
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?i:nan|inf)"
_NAME_CHARS = r"A-Za-z0-9_./-"


def strip_ansi(text: str) -> str:
    return _ANSI_RE.sub("", text)


class CaptureParser:
    """Finds the values of the named metrics in lines of output; ``values`` holds the last of each."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(dict.fromkeys(validate_name(name, kind="capture") for name in names))
        self.values: dict[str, str] = {}
        #: name -> (why its first refused value was refused, how many values were refused)
        self._refused: dict[str, tuple[str, int]] = {}
        self._pattern: re.Pattern[str] | None = None
        if self.names:
            alternatives = "|".join(re.escape(name) for name in sorted(self.names, key=len, reverse=True))
            self._pattern = re.compile(
                rf"(?<![{_NAME_CHARS}])(?P<name>{alternatives})[ \t]*[:=][ \t]*(?P<value>{_NUMBER})"
                rf"(?![A-Za-z0-9_%]|[.,][0-9])"
            )

    def feed_line(self, line: str) -> None:
        if self._pattern is None:
            return
        if "\x1b" in line:
            line = strip_ansi(line)
        for match in self._pattern.finditer(line):
            name, value = match.group("name"), match.group("value")
            if value.lower() in ("-nan", "+nan"):  # glibc's printf("%f", -NAN): a NaN has no sign to keep
                value = "nan"
            try:
                # The canonical text keeps the number as printed (0.997900 stays 0.997900).
                self.values[name] = parse_metric_assignment(f"{name}={value}")[1]
            except GittreeError as e:  # 1e999: refused by the format; the last accepted value stands
                first, count = self._refused.get(name, (e.message, 0))
                self._refused[name] = (first, count + 1)

    def feed_text(self, text: str) -> None:
        for line in split_lines(text):
            self.feed_line(line)

    def warnings(self) -> list[str]:
        """One line per name whose printed values were refused: the first one and how many there were."""
        lines = []
        for name in self.names:
            if name in self._refused:
                why, count = self._refused[name]
                more = f" ({count} such values)" if count > 1 else ""
                lines.append(f"--capture {name}: not captured{more}: {why}")
        return lines

    def pairs(self) -> list[tuple[str, str]]:
        """``(name, value)`` for every captured name, in the order the names were given."""
        return [(name, self.values[name]) for name in self.names if name in self.values]


def split_lines(text: str) -> list[str]:
    """Lines as a terminal shows them: ``\\n``, ``\\r\\n`` and a lone ``\\r`` (progress bars) all end one."""
    return re.split(r"\r\n|\r|\n", text)


#: A line of output longer than this is handed to the parser in pieces of this size: a command that
#: prints 100 MB without a newline would otherwise be held whole, and searched again for every chunk.
MAX_LINE = 1 << 20


class LineSplitter:
    """Bytes from a pipe, in chunks of any size, to whole decoded lines (the last partial one kept).

    Each chunk is searched once: the unfinished line is kept as a list of pieces, not one buffer
    searched again with every chunk (quadratic: 100 MB without a newline took 57 s, and the command
    waited on its pipe meanwhile).
    """

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        # A final '\r' may be the first half of '\r\n': keep it until the next chunk tells.
        end = len(chunk) - 1 if chunk.endswith(b"\r") else len(chunk)
        cut = max(chunk.rfind(b"\n", 0, end), chunk.rfind(b"\r", 0, end))
        if cut < 0 and self._parts and self._parts[-1].endswith(b"\r"):
            self._flush(whole=True)  # the '\r' held back ends a line: this chunk starts no '\n'
        if cut < 0:
            self._parts.append(chunk)
            self._size += len(chunk)
            if self._size > MAX_LINE:
                self._flush(whole=True)
            return
        self._parts.append(chunk[: cut + 1])
        self._flush(whole=False)
        rest = chunk[cut + 1 :]
        self._parts, self._size = ([rest] if rest else []), len(rest)

    def _flush(self, *, whole: bool) -> None:
        """Hand the pending text's lines to ``on_line``: all of it (``whole``), or up to its last line end."""
        lines = split_lines(b"".join(self._parts).decode("utf-8", errors="replace"))
        self._parts, self._size = [], 0
        for line in lines if whole else lines[:-1]:
            if line or not whole:
                self.on_line(line)

    def close(self) -> None:
        if self._parts:
            self._flush(whole=True)
