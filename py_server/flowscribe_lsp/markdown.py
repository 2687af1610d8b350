"""Markdown for hovers and prompts: the runtime's one rule (:mod:`flowscribe.markdown`),
re-exported as the server's import point.

:func:`code` for ids, classes and file:line (code spans need no escaping, so editors that
show Markdown source show no backslashes), :func:`escape` for prose such as catalog
descriptions (only what Markdown acts on is escaped; link-like tokens become code spans),
:func:`fence` for recorded blocks, under :data:`DATA_NOTE`.
"""

from __future__ import annotations

from flowscribe.markdown import DATA_NOTE, clip, code, escape, fence, one_line

__all__ = ["DATA_NOTE", "clip", "code", "escape", "fence", "one_line"]
