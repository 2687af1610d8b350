"""What the ra.yaml and flows.yaml validators share: problems at a key path, typed getters.

Both files are read through :mod:`._yamlpos`, so every value has a position; a
:class:`Checker` walks that tree, reports each mistake as a :class:`Problem` at the exact
span of the offending key or value, and never reports a node twice (the YAML layer may
already have rejected it, e.g. a ``!!python`` tag). The getters return ``None`` (or the
given default) for a missing, null or bad value, so callers only decide what a bad value
falls back to.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from ._record import Record
from ._yamlpos import Path_, YamlDoc, format_path

__all__ = ["MISSING", "Checker", "Problem", "did_you_mean", "display_path", "got",
           "is_positive_number"]

#: What :meth:`Checker.get` returns for an absent, null or already rejected value.
MISSING: Any = object()

_T = TypeVar("_T")


class Problem(Record):
    """One mistake in a config or catalog file, at a 1-based line and column (0: unknown)."""

    _fields = ("file", "line", "column", "key", "message", "severity", "end_line", "end_column")
    __slots__ = _fields

    def __init__(
        self,
        file: str,
        line: int,
        column: int,
        key: str,
        message: str,
        severity: str = "error",
        end_line: int = 0,
        end_column: int = 0,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        self.severity = severity
        #: End of the offending text (exclusive), when known; 0 otherwise.
        self.end_line = end_line
        self.end_column = end_column

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """The closest of ``choices`` to a misspelt ``word``, if one is close enough."""
    import difflib  # only needed when something is wrong

    hits = difflib.get_close_matches(word, list(choices), n=1)
    return hits[0] if hits else None


def got(value: Any) -> str:
    """A value as quoted in a message, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to the project root when inside it (how problems name files)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def is_positive_number(x: Any) -> bool:
    """An int or float above zero (not a bool, not NaN)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 and x == x


class Checker:
    """Walks one positioned YAML document, collecting :class:`Problem` s in ``problems``.

    The YAML layer's own issues come first; paths it rejected as errors are not reported
    again by the getters.
    """

    #: Appended to "must be a mapping" (ra.yaml says what it falls back to).
    section_note = ""

    def __init__(self, doc: YamlDoc, file: str) -> None:
        self.doc = doc
        self.file = file
        self.rejected_paths = {i.path for i in doc.issues if i.severity == "error"}
        self.problems: list[Problem] = [
            Problem(file, i.line, i.column, format_path(i.path), i.message, i.severity)
            for i in doc.issues
        ]

    # -- reporting -----------------------------------------------------------------------
    def bad(self, path: Path_, message: str, severity: str = "error", at_key: bool = False
            ) -> None:
        """Report ``message`` at the value under ``path`` (at its key when ``at_key``)."""
        span = self.doc.locate(path, at_key)
        self.problems.append(Problem(self.file, span.line, span.column, format_path(path),
                                     message, severity, span.end_line, span.end_column))

    def rejected(self, path: Path_) -> bool:
        """True when the YAML layer already reported this node (e.g. a !!python tag)."""
        return path in self.rejected_paths

    # -- typed getters -------------------------------------------------------------------
    def section(self, data: Any, path: Path_, known: Sequence[str]) -> dict[str, Any]:
        """A mapping (``{}`` when absent or not one); unknown keys are warned about."""
        if data is None:
            return {}
        if not isinstance(data, dict):
            if not self.rejected(path):
                self.bad(path, f"must be a mapping (got {got(data)}){self.section_note}")
            return {}
        for key in data:
            if key not in known:
                hint = did_you_mean(str(key), known)
                tip = f"; did you mean '{hint}'?" if hint else \
                    f" (known: {', '.join(known)})"
                self.bad((*path, str(key)), f"unknown key '{key}'{tip}", "warning",
                         at_key=True)
        return data

    def get(self, sec: dict[str, Any], path: Path_, key: str) -> Any:
        """``sec[key]``, or :data:`MISSING` when absent, null or already rejected."""
        value = sec.get(key, MISSING)
        if value is None or (value is not MISSING and self.rejected((*path, key))):
            return MISSING
        return value

    def string(self, sec: dict[str, Any], path: Path_, key: str) -> str | None:
        v = self.get(sec, path, key)
        if v is MISSING:
            return None
        if isinstance(v, str):
            return v
        self.bad((*path, key), f"must be a string (got {got(v)})")
        return None

    def boolean(self, sec: dict[str, Any], path: Path_, key: str, default: _T) -> bool | _T:
        v = self.get(sec, path, key)
        if v is MISSING:
            return default
        if isinstance(v, bool):
            return v
        self.bad((*path, key), f"must be true or false (got {got(v)})")
        return default

    def integer(self, sec: dict[str, Any], path: Path_, key: str, default: int,
                minimum: int = 0) -> int:
        """A whole number (``2.0`` counts) of at least ``minimum``."""
        v = self.get(sec, path, key)
        if v is MISSING:
            return default
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            self.bad((*path, key), f"must be a whole number (got {got(v)})")
            return default
        if v < minimum:
            self.bad((*path, key), f"must be at least {minimum} (got {v})")
            return default
        return v

    def positive_ms(self, sec: dict[str, Any], path: Path_, key: str, note: str = ""
                    ) -> float | None:
        """A duration in ms above zero; ``note`` ends the message for a bad one."""
        v = self.get(sec, path, key)
        if v is MISSING:
            return None
        if is_positive_number(v):
            return float(v)
        self.bad((*path, key), f"must be a positive number of ms (got {got(v)}){note}")
        return None

    def strings(self, sec: dict[str, Any], path: Path_, key: str) -> list[str] | None:
        """A list of strings (a lone string counts as one); ``None`` when absent or bad.

        Numbers become strings; other items are reported and dropped.
        """
        v = self.get(sec, path, key)
        if v is MISSING:
            return None
        if isinstance(v, str):
            return [v]
        if not isinstance(v, list):
            self.bad((*path, key), f"must be a list of strings (got {got(v)})")
            return None
        out = []
        for i, item in enumerate(v):
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                out.append(str(item))
            elif not self.rejected((*path, key, i)):
                self.bad((*path, key, i), f"must be a string (got {got(item)}); ignored")
        return out
