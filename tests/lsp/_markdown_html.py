"""Markdown rendered as an editor renders it: markdown-it (the engine of VS Code's
Markdown) with GFM tables, strikethrough, raw HTML allowed and bare links turned into
links (linkify), so a test sees whatever a permissive client would make of a hover."""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

_MD = MarkdownIt("gfm-like", {"html": True, "linkify": True})


def render(markdown: str) -> str:
    """The HTML a permissive renderer makes of ``markdown``."""
    return _MD.render(markdown)


def shown_text(markdown: str) -> str:
    """What the reader sees: the rendered HTML's text, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", render(markdown)))
