"""Hover markdown from untrusted text: no links, command links, HTML or markup survive."""

from __future__ import annotations

import re

from flowscribe_lsp.markdown import code_block, escape

HOSTILE = [
    "[click](command:workbench.action.terminal.new)",
    "<img src=x onerror=alert(1)>",
    "<a href='command:x'>x</a>",
    "https://evil.example/path",
    "![img](https://evil.example/x.png)",
    "**bold** _it_ `code` # heading\n> quote\n- item",
    "[ref]: command:x",
    "\x00\x1b[31mred\u2028line",
]


def test_escaped_text_has_no_markup_left() -> None:
    for text in HOSTILE:
        out = escape(text)
        assert "\n" not in out and "\x00" not in out and "\x1b" not in out
        assert "<" not in out and ">" not in out
        # every ASCII punctuation character is backslash-escaped
        assert not re.search(r"(?<!\\)[\[\]()*_`#!:]", out.replace("&lt;", "").replace(
            "&gt;", "").replace("&#", "")), out


def test_escape_keeps_the_words_and_caps_length() -> None:
    assert escape("orders/submit").replace("\\", "") == "orders/submit"
    assert escape("x" * 5000).endswith("…") and len(escape("x" * 5000)) < 2100


def test_code_blocks_fence_longer_than_their_content() -> None:
    block = code_block("```\n````evil")
    fence = block.splitlines()[0].removesuffix("text")
    assert len(fence) == 5 and block.endswith(fence)
