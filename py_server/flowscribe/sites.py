"""Where an event was recorded, in words: ``file:line``, and what the place was when it
is not a file an editor can open.

A marker records its caller's ``co_filename``. Code typed at a prompt, run from a string
or in a notebook cell has a name but no file: ``<stdin>`` (``python -i``, a pipe),
``<python-input-3>`` (Python 3.13's REPL), ``<console>`` (``code.interact``),
``<ipython-input-4-…>`` (IPython), ``<string>`` (``python -c``, ``exec``), or the
``ipykernel_<pid>/<n>.py`` names Jupyter gives its cells. summary.md, ask.md and the failure
prompt say what such a place was, so neither a reader nor an assistant goes looking for
``<stdin>`` on disk. This module is the one place that knows those names.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["UNKNOWN", "location", "not_a_file", "told"]

#: What a location reads when the event names no file.
UNKNOWN = "(unknown location)"

_PROMPT = "typed at the prompt"
_NAMED = (
    (re.compile(r"<(?:stdin|console|python-input-\d+|ipython-input-[\w-]*)>"), _PROMPT),
    (re.compile(r"<string>"), "run from a string (python -c or exec)"),
    (re.compile(r"<doctest [^>]*>"), "in a doctest example"),
)
# ipykernel names a cell tempfile.gettempdir()/ipykernel_<pid>/<hash>.py: the file is not
# kept on disk, and is not the notebook the user edits.
_NOTEBOOK_CELL = re.compile(r"(?:^|[\\/])ipykernel_\d+[\\/]\d+\.py\Z")


def location(file: object, line: object = None) -> str:
    """``file:line``, ``file`` without a line, or :data:`UNKNOWN`."""
    if not isinstance(file, str) or not file:
        return UNKNOWN
    if isinstance(line, int) and not isinstance(line, bool) and line > 0:
        return f"{file}:{line}"
    return file


def not_a_file(file: object) -> str | None:
    """What the place named ``file`` was when it is not a source file (``typed at the
    prompt``, ``in a notebook cell``, …); None for a file."""
    if not isinstance(file, str) or not file:
        return None
    if file.startswith("<") and file.endswith(">"):
        for pattern, said in _NAMED:
            if pattern.fullmatch(file):
                if said is _PROMPT:
                    cell = _cell(file)
                    return f"{said}, {cell}" if cell else said
                return said
        return "not a file"
    if _NOTEBOOK_CELL.search(file):
        cell = _cell(file)
        return f"in notebook cell {cell}" if cell else "in a notebook cell"
    return None


def _cell(file: str) -> str | None:
    """The cell that ran ``file`` as IPython's own tracebacks name it (``In[3]``, the
    number beside the cell, where a temp file's name tells the user nothing), when this
    process is the IPython shell or Jupyter kernel that ran it; else None."""
    ipython = sys.modules.get("IPython")  # never imported here: only a shell that runs
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        named = shell.compile.format_code_name(file) if shell is not None else None
    except Exception:  # an IPython older or newer than format_code_name (IPython 8+)
        return None
    if isinstance(named, tuple) and len(named) == 2 and isinstance(named[1], str):
        return named[1]
    return None


def told(ev: Mapping[str, Any]) -> tuple[str, str | None]:
    """An event's location and, when it is not a file, what it was instead."""
    file = ev.get("file")
    return location(file, ev.get("line")), not_a_file(file)
