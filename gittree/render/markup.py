"""Commit data made harmless for each output context: Markdown, LaTeX, HTML and spreadsheet CSV.

Subjects, notes, params and names come from whoever wrote the commits. In every context, control,
bidi and invisible characters first become visible escapes (:func:`terminal_safe`), and line breaks
become spaces (a table cell is one line). Then each context's own specials are escaped.
"""

from __future__ import annotations

import re

from gittree.render.escape import terminal_safe


def one_line(text: str) -> str:
    """A single visible line: whitespace runs (newlines included) become one space, controls visible."""
    return terminal_safe(" ".join(text.split()))


# CommonMark lets any ASCII punctuation be backslash-escaped. These are the ones that can start
# emphasis, code, links, raw HTML, entities, GitHub math ($), strikethrough (~) or end a table cell (|).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$#!])")


def markdown_escape(text: str) -> str:
    """``text`` as literal Markdown (GitHub-flavoured), safe inside a table cell."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def markdown_code(text: str) -> str:
    """``text`` as an inline code span that no backtick inside it can close early."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # gittree's own symbols, so that the table compiles with pdflatex as well as LuaLaTeX/XeLaTeX.
    "±": r"\ensuremath{\pm}",
    "¹": r"\textsuperscript{1}",
    "Δ": r"\ensuremath{\Delta}",
    "—": "---",
    "−": "-",
    "…": r"\ldots{}",
    "★": r"\ensuremath{\star}",
    "⚠": "(!)",
}
_LATEX_SPECIAL = re.compile("|".join(re.escape(ch) for ch in _LATEX))


def latex_escape(text: str) -> str:
    """``text`` as literal LaTeX text (for a ``tabular`` cell or a paragraph)."""
    return _LATEX_SPECIAL.sub(lambda m: _LATEX[m.group(0)], one_line(text))


def html_escape(text: str) -> str:
    """``text`` as literal HTML text, safe in an element and in a quoted attribute."""
    import html

    return html.escape(one_line(text), quote=True)


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell (not a number) for CSV/TSV: one visible line, never read as a spreadsheet formula."""
    text = one_line(text)
    return "'" + text if text.startswith(_FORMULA_START) else text
