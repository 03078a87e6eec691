"""Metrics a run prints: ``NAME: VALUE`` or ``NAME=VALUE`` lines, for the names given with ``--capture``.

Training scripts print their results (autoresearch-style ``val_bpb: 0.9979``, or ``epoch 3 loss=0.25``).
The rules (docs/runs.md, "Captured output"):

* a name matches only as a whole word: ``loss`` does not match ``val_loss: 1``;
* ``:`` or ``=`` follows the name, with blanks allowed around it;
* the value is a plain number as ``Gittree-Metric`` accepts it (``0.9979``, ``-1.5``, ``3e-4``, ``nan``,
  ``inf``, ``Infinity``), ending at a blank, the end of the line or one of ``, ; | ) ] }``; ``91%`` or
  ``0.5s`` are not captured (the unit would be lost), nor is a decimal comma (``0,73``) or ``45/50``;
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
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?i:nan|inf(?:inity)?)"
_NAME_CHARS = r"A-Za-z0-9_./-"


def strip_ansi(text: str) -> str:
    return _ANSI_RE.sub("", text)


#: A printed number as the capture takes it: it must end at a blank, the end of the line or one of
#: ``, ; | ) ] }``, a full stop ending the sentence allowed before them (``91%``, ``0.5s``, ``0,73``,
#: ``45/50``, ``0.5-0.7``, ``1.#QNAN`` do not: the first digits of those were taken as the value where
#: a list of characters that may not follow let them by).
_VALUE_RE = re.compile(rf"(?:{_NUMBER})(?=\.?(?:[\s;|)\]}}]|,(?![0-9])|$))")  # (``0,73``: a decimal comma)
#: A value that starts like a number (a digit, a point and a digit, nan, inf, signed or not): one that
#: is not a number is said in a warning quoting its line, not taken for a name that matched nothing.
_NUMBER_LIKE_RE = re.compile(r"[+-]?(?:\.?[0-9]|(?i:nan|inf))")
#: The text after ``NAME:`` up to a blank or a separator: a value, taken or not.
_TOKEN = r"[^\s,;|)\]}:=]*"
#: Any ``NAME: <something that starts like a number>``: the names a script prints, to suggest one
#: when a ``--capture`` name matched nothing (``acc`` for ``--capture accuracy``).
_PRINTED_NAME_RE = re.compile(
    rf"(?<![{_NAME_CHARS}])(?P<name>[A-Za-z_][{_NAME_CHARS}]{{0,63}})[ \t]*[:=][ \t]*"
    rf"(?=[+-]?\.?[0-9]|[+-]?(?i:nan|inf))"
)
#: Distinct printed names remembered for those suggestions (a log can print millions of lines).
PRINTED_NAMES_KEPT = 256
#: Characters of a refused line quoted in a warning.
QUOTED_LINE = 120


class CaptureParser:
    """Finds the values of the named metrics in lines of output; ``values`` holds the last of each."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(dict.fromkeys(validate_name(name, kind="capture") for name in names))
        self.values: dict[str, str] = {}
        #: name -> (why its first refused value was refused, how many values were refused)
        self._refused: dict[str, tuple[str, int]] = {}
        #: name -> (the first line where its value was not a number, how many such lines)
        self._not_numbers: dict[str, tuple[str, int]] = {}
        #: names printed before something number-like, in the order first seen
        self._printed: dict[str, None] = {}
        self._pattern: re.Pattern[str] | None = None
        if self.names:
            alternatives = "|".join(re.escape(name) for name in sorted(self.names, key=len, reverse=True))
            self._pattern = re.compile(
                rf"(?<![{_NAME_CHARS}])(?P<name>{alternatives})[ \t]*[:=][ \t]*(?P<value>{_TOKEN})"
            )

    def feed_line(self, line: str) -> None:
        if self._pattern is None:
            return
        if "\x1b" in line:
            line = strip_ansi(line)
        for match in self._pattern.finditer(line):
            name = match.group("name")
            number = _VALUE_RE.match(line, match.start("value"))
            if number is None:
                if _NUMBER_LIKE_RE.match(match.group("value")):
                    first, count = self._not_numbers.get(name, (line.strip(), 0))
                    self._not_numbers[name] = (first, count + 1)
                continue
            value = number.group()
            if value.lower() in ("-nan", "+nan"):  # glibc's printf("%f", -NAN): a NaN has no sign to keep
                value = "nan"
            elif value[-5:].lower() == "inity":  # JavaScript's and Java's Infinity: inf, as a JSON file's is
                value = value[:-5]
            try:
                # The canonical text keeps the number as printed (0.997900 stays 0.997900).
                self.values[name] = parse_metric_assignment(f"{name}={value}")[1]
            except GittreeError as e:  # 1e999: refused by the format; the last accepted value stands
                first, count = self._refused.get(name, (e.message, 0))
                self._refused[name] = (first, count + 1)
        if len(self._printed) < PRINTED_NAMES_KEPT and (":" in line or "=" in line):
            for match in _PRINTED_NAME_RE.finditer(line):
                self._printed.setdefault(match.group("name"))

    def feed_text(self, text: str) -> None:
        for line in split_lines(text):
            self.feed_line(line)

    def warnings(self) -> list[str]:
        """What the capture could not take, one line per name (docs/runs.md, "Captured output"):
        values the format refused, values that are not numbers (with the line), and names that
        matched nothing (with the closest names the output printed)."""
        lines = []
        for name in self.names:
            if name in self._refused:
                why, count = self._refused[name]
                more = f" ({count} such values)" if count > 1 else ""
                lines.append(f"--capture {name}: not captured{more}: {why}")
            if name in self._not_numbers:
                line, count = self._not_numbers[name]
                quoted = line if len(line) <= QUOTED_LINE else line[: QUOTED_LINE - 1] + "…"
                more = f" ({count} such lines)" if count > 1 else ""
                lines.append(f"--capture {name}: not a number, not captured{more}: {quoted!r}")
            elif name not in self.values and name not in self._refused:
                lines.append(f"--capture {name}: matched nothing; {self._suggestion(name)}")
        return lines

    def _suggestion(self, name: str) -> str:
        close = closest_names(name, [printed for printed in self._printed if printed not in self.names])
        if close:
            return "the output printed " + ", ".join(f"'{printed}:'" for printed in close)
        if self._printed:
            shown = list(self._printed)[:5]
            return (
                "names printed with a number: " + ", ".join(shown) + (" …" if len(self._printed) > 5 else "")
            )
        return f"no line of the form '{name}: NUMBER' or '{name}=NUMBER' was printed"

    def pairs(self) -> list[tuple[str, str]]:
        """``(name, value)`` for every captured name, in the order the names were given."""
        return [(name, self.values[name]) for name in self.names if name in self.values]


def closest_names(name: str, printed: Iterable[str], limit: int = 3) -> list[str]:
    """The printed names most like ``name``: one inside the other (``acc``, ``accuracy``), the same
    letters in another case, or spelled alike (difflib's ratio of at least 0.6)."""
    from difflib import SequenceMatcher

    wanted = name.lower()
    scored = []
    for candidate in printed:
        other = candidate.lower()
        ratio = SequenceMatcher(None, wanted, other).ratio()
        inside = wanted in other or other in wanted
        if inside or ratio >= 0.6:
            scored.append((not inside, -ratio, candidate))
    return [candidate for _, _, candidate in sorted(scored)[:limit]]


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
            # The '\r' held back ends a line (this chunk starts no '\n'): hand on every line up to it,
            # an empty one too, as when the '\r' and what follows come in one chunk.
            self._flush(whole=False)
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
