"""Markdown for hovers, built from untrusted text.

Everything a trace or a catalog says is data, not markup: a reason like
``[click](command:workbench.action.terminal.new)`` or ``<img src=x onerror=...>`` must
reach the user as the characters it is, never as a link, a command or HTML. So every
ASCII punctuation character is backslash-escaped (CommonMark allows escaping any of
them, and an escaped character can no longer open a link, an emphasis, an autolink or a
tag), ``<`` and ``>`` become entities as well, and control characters and newlines are
flattened. Code blocks use a fence longer than any backtick run in their content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["code_block", "escape", "join_lines"]

_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_MAX = 2000


def escape(text: object, limit: int = _MAX) -> str:
    """``text`` as literal markdown on one line: no link, command, HTML or emphasis."""
    s = text if isinstance(text, str) else str(text)
    if len(s) > limit:
        s = s[:limit] + "…"
    s = _CONTROL.sub(" ", s.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))
    s = _PUNCT.sub(r"\\\1", s)
    # An escaped "<" is already inert, but some renderers run an HTML pass first.
    return s.replace("\\<", "&lt;").replace("\\>", "&gt;")


def code_block(text: str, limit: int = _MAX) -> str:
    """A fenced block showing ``text`` verbatim (markdown and HTML are not rendered there)."""
    if len(text) > limit:
        text = text[:limit] + "…"
    text = _CONTROL.sub(" ", text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def join_lines(lines: Iterable[str]) -> str:
    """Paragraph lines joined with hard breaks, blank entries dropped."""
    return "  \n".join(line for line in lines if line)
