"""Making commit data harmless before it reaches a terminal, and measuring it in terminal cells.

Commit messages are written by people, scripts and agents; a subject may carry escape sequences (ANSI
colours, OSC 8 links, OSC 52 clipboard writes), C1 controls or bidi overrides. Every string from commit
data goes through :func:`terminal_safe` before it is printed: controls become visible ``\\xNN`` /
``\\uNNNN`` text, so nothing is interpreted by the terminal and nothing is silently hidden.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: Bidirectional controls that can reorder what a reader sees (CVE-2021-42574, "Trojan Source").
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Other invisible format characters worth showing: zero-width space/joiners, BOM, line/para separators.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2028\u2029\ufeff")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def is_unsafe_char(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or ch in BIDI_CONTROLS or ch in INVISIBLE


#: Every character :func:`is_unsafe_char` accepts, as one character class: a view of 100k experiments
#: checks millions of characters, in C this way.
_UNSAFE = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f" + "".join(re.escape(ch) for ch in sorted(BIDI_CONTROLS | INVISIBLE)) + "]"
)


def terminal_safe(text: str) -> str:
    """``text`` with every control, bidi and invisible format character shown as an escape."""
    if text.isascii() and text.isprintable():
        return text
    return _UNSAFE.sub(lambda found: _escape_char(found.group()), text)


def code_lines(code: str) -> list[str]:
    """git's diff text (``--stat``, ``--patch``) as terminal lines: tabs are code indentation and stay,
    every other control character is shown, not obeyed; no text at all reads as no change."""
    body = code.rstrip("\n")
    if not body:
        return ["(no change in the code)"]
    return ["\t".join(terminal_safe(part) for part in line.split("\t")) for line in body.split("\n")]


@functools.cache  # a 100k-experiment view asks about the same few characters millions of times
def char_width(ch: str) -> int:
    """Terminal cells a character takes: 0 for combining marks, 2 for wide East Asian characters."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    # Only the characters outside ASCII can take other than one cell ("0.73 ± 0.01" has one).
    wider = _NON_ASCII.findall(text)
    return len(text) - len(wider) + sum(map(char_width, wider))


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def truncate(text: str, width: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``width`` cells, marking the cut with an ellipsis."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    budget = width - display_width(ellipsis)
    if text.isascii():  # one cell per character
        return text[: max(budget, 0)] + ellipsis
    out: list[str] = []
    used = 0
    for ch in text:
        w = char_width(ch)
        if used + w > budget:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


#: The colour codes gittree itself writes (``\x1b[32m`` … ``\x1b[0m``); data never holds a raw ESC.
_SGR = re.compile(r"(\x1b\[[0-9;]*m)")
_RESET = "\x1b[0m"


def strip_colour(text: str) -> str:
    return _SGR.sub("", text) if "\x1b" in text else text


def truncate_painted(text: str, width: int, ellipsis: str = "…") -> str:
    """:func:`truncate` for a line with colour codes: they take no cells and are kept, and a colour
    the cut leaves open is closed after the ellipsis."""
    if "\x1b" not in text:
        return truncate(text, width, ellipsis)
    if display_width(strip_colour(text)) <= width:
        return text
    if width <= 0:
        return ""
    budget = width - display_width(ellipsis)
    out: list[str] = []
    used = 0
    open_colour = False
    for piece in _SGR.split(text):
        if piece.startswith("\x1b["):
            out.append(piece)
            open_colour = piece != _RESET
            continue
        for ch in piece:
            w = char_width(ch)
            if used + w > budget:
                return "".join(out) + ellipsis + (_RESET if open_colour else "")
            out.append(ch)
            used += w
    return "".join(out)  # not reached: the text is wider than ``width``


def wrap(text: str, width: int, indent: str = "  ", between: str = " ") -> list[str]:
    """``text`` broken where ``between`` stands into lines of at most ``width`` cells, every line
    after the first starting with ``indent``; a word wider than a line is cut
    (:func:`truncate_painted`). Colour codes take no cells."""
    if display_width(strip_colour(text)) <= width:
        return [text]
    lines: list[str] = []
    line, used = "", 0
    gap = display_width(between)
    for word in text.split(between):
        cells = display_width(strip_colour(word))
        if line and used + gap + cells <= width:
            line, used = line + between + word, used + gap + cells
            continue
        if line:
            lines.append(line)
            line, used = indent + word, display_width(indent) + cells
        else:
            line, used = word, cells
        if used > width:
            line = truncate_painted(line, width)
            used = width
    lines.append(line)
    return lines


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))
