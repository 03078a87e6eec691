"""Commit data made harmless for each output (gittree/render/markup.py): Markdown, LaTeX, HTML, CSV.

Examples first, each showing what a hostile subject becomes; then properties over any text, checked
against each format's own reader where the standard library has one.
"""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gittree.render.markup import (
    csv_text,
    html_escape,
    latex_escape,
    markdown_code,
    markdown_escape,
    one_line,
)


def test_one_line_folds_whitespace_and_shows_controls() -> None:
    assert one_line("  fix\n\tthe   loss\r\n") == "fix the loss"
    assert one_line("red \x1b[31malert\x07") == "red \\x1b[31malert\\x07"
    assert one_line("gnp.exe\u202e") == "gnp.exe\\u202e"


def test_markdown_escape_keeps_emphasis_links_html_and_table_cells_literal() -> None:
    assert markdown_escape("*bold* _it_ `code`") == r"\*bold\* \_it\_ \`code\`"
    assert markdown_escape("[x](javascript:alert(1))") == r"\[x\](javascript:alert(1))"
    assert markdown_escape("<img src=x onerror=alert(1)>") == r"\<img src=x onerror=alert(1)\>"
    assert markdown_escape("a | b") == r"a \| b"
    assert markdown_escape("# not a heading\n- nor a list") == r"\# not a heading - nor a list"
    assert markdown_escape("&amp; $x$ ~~no~~ !") == r"\&amp; \$x\$ \~\~no\~\~ \!"
    assert markdown_escape("back\\slash") == "back\\\\slash"


def test_markdown_code_spans_cannot_be_closed_by_the_backticks_inside() -> None:
    assert markdown_code("1a2b3c4") == "`1a2b3c4`"
    assert markdown_code("a `b` c") == "``a `b` c``"
    assert markdown_code("`edge`") == "`` `edge` ``"
    assert markdown_code("x ``` y") == "````x ``` y````"


def test_latex_escape_makes_specials_and_gittree_symbols_text() -> None:
    assert latex_escape("50% of $x_1 & y#2") == r"50\% of \$x\_1 \& y\#2"
    assert latex_escape(r"\input{/etc/passwd}") == r"\textbackslash{}input\{/etc/passwd\}"
    assert latex_escape("~^<>|") == r"\textasciitilde{}\textasciicircum{}\textless{}\textgreater{}\textbar{}"
    assert latex_escape("0.70 ± 0.01 better¹ ★ ⚠ …") == (
        r"0.70 \ensuremath{\pm} 0.01 better\textsuperscript{1} \ensuremath{\star} (!) \ldots{}"
    )


def test_html_escape_is_safe_in_elements_and_quoted_attributes() -> None:
    assert html_escape("<script>alert('x')</script>") == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    assert html_escape('" onmouseover="x') == "&quot; onmouseover=&quot;x"
    assert html_escape("a & b\nc") == "a &amp; b c"


def test_csv_text_is_never_a_spreadsheet_formula() -> None:
    for formula in ('=HYPERLINK("http://x")', "+1+2", "-2", "@SUM(A1)", "\t=1"):
        assert csv_text(formula).startswith("'"), formula
    assert csv_text("plain subject") == "plain subject"
    assert csv_text("two\nlines") == "two lines"


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_every_escape_gives_one_visible_line(text: str) -> None:
    for escape in (markdown_escape, markdown_code, latex_escape, html_escape, csv_text):
        out = escape(text)
        assert "\n" not in out and "\r" not in out
        assert "\x1b" not in out and "\u202e" not in out


@settings(max_examples=300, deadline=None)
@given(texts)
def test_html_escape_reads_back_as_the_visible_line(text: str) -> None:
    assert html.unescape(html_escape(text)) == one_line(text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_markdown_escape_leaves_no_special_character_unescaped(text: str) -> None:
    out = markdown_escape(text)
    # Every special is preceded by an odd run of backslashes: escaped, not escaping.
    for match in re.finditer(r"(\\*)([`*_\[\]<>|~&$#!])", out):
        assert len(match.group(1)) % 2 == 1, (text, out)
    assert re.sub(r"\\(.)", r"\1", out) == one_line(text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_latex_escape_leaves_no_bare_special(text: str) -> None:
    out = latex_escape(text)
    stripped = re.sub(
        r"\\(textbackslash|textasciitilde|textasciicircum|textless|textgreater|textbar|ldots)\{\}", "", out
    )
    stripped = re.sub(r"\\(ensuremath\{\\(pm|star|Delta)\}|textsuperscript\{1\})", "", stripped)
    stripped = re.sub(r"\\[&%$#_{}]", "", stripped)
    assert not re.search(r"[\\&%$#_{}~^<>|]", stripped), (text, out)
