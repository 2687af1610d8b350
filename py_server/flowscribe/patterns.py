"""Flow-id globs, as used by ``include_flows`` / ``exclude_flows`` and ``RA_INCLUDE``.

Flow ids are ``/``-separated paths (``data/fetch/minute_candles``). In a pattern:

- ``**`` as a whole segment matches any number of segments, including none:
  ``data/**`` matches ``data``, ``data/fetch`` and ``data/fetch/minute_candles``;
  ``**/debug/**`` matches any id with a ``debug`` segment.
- ``*`` as a whole segment matches exactly one segment: ``data/*`` matches ``data/fetch``
  but neither ``data`` nor ``data/fetch/minute_candles``.
- Inside a segment, ``*`` matches any run of characters but ``/`` and ``?`` one character
  (``orders/submit_*``). Everything else is literal; matching is case-sensitive.

Patterns compile once to a regular expression; compiled matchers are cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Callable

__all__ = ["compile_patterns", "glob_to_regex", "is_glob", "matches", "matches_any"]

Matcher = Callable[[str], bool]

_ONE_SEGMENT = "[^/]+"
_MORE_SEGMENTS_AFTER = "(?:/[^/]+)*"  # zero or more "/seg" after something
_MORE_SEGMENTS_BEFORE = "(?:[^/]+/)*"  # zero or more "seg/" before something


def is_glob(pattern: str) -> bool:
    """True if ``pattern`` has wildcards (else it only matches itself)."""
    return "*" in pattern or "?" in pattern


def _segment(seg: str) -> str:
    if seg == "*":
        return _ONE_SEGMENT
    out = []
    for ch in seg:
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def glob_to_regex(pattern: str) -> str:
    """The regular expression (for ``re.fullmatch``) equivalent to a flow-id glob."""
    segs: list[str] = []
    for seg in pattern.split("/"):
        if seg == "**" and segs and segs[-1] == "**":
            continue  # `**/**` is just `**`
        segs.append(seg)
    if all(s == "**" for s in segs):
        return ".*"
    out: list[str] = []
    need_sep = False
    for seg in segs:
        if seg == "**":
            if need_sep:
                out.append(_MORE_SEGMENTS_AFTER)
            else:
                out.append(_MORE_SEGMENTS_BEFORE)
        else:
            if need_sep:
                out.append("/")
            out.append(_segment(seg))
            need_sep = True
    return "".join(out)


@lru_cache(maxsize=1024)
def _compiled(patterns: tuple[str, ...]) -> Matcher:
    if not patterns:
        return _never
    exact = frozenset(p for p in patterns if not is_glob(p))
    globs = [p for p in patterns if is_glob(p)]
    if not globs:
        return exact.__contains__
    if any(glob_to_regex(p) == ".*" for p in globs):
        return _always
    regex = re.compile("|".join(f"(?:{glob_to_regex(p)})" for p in globs))
    fullmatch = regex.fullmatch
    if not exact:
        return lambda flow_id: fullmatch(flow_id) is not None
    return lambda flow_id: flow_id in exact or fullmatch(flow_id) is not None


def _never(flow_id: str) -> bool:
    return False


def _always(flow_id: str) -> bool:
    return True


def compile_patterns(patterns: Iterable[str]) -> Matcher:
    """One fast predicate that is true when a flow id matches any of ``patterns``.

    No patterns -> a predicate that is always false. Cached by the tuple of patterns.
    """
    return _compiled(tuple(patterns))


def matches(pattern: str, flow_id: str) -> bool:
    """True if ``flow_id`` matches the glob ``pattern``."""
    return _compiled((pattern,))(flow_id)


def matches_any(patterns: Iterable[str], flow_id: str) -> bool:
    """True if ``flow_id`` matches at least one of ``patterns``."""
    return _compiled(tuple(patterns))(flow_id)
