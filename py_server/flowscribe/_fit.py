"""Cutting rendered evidence down to a byte budget, marking what was cut.

The budget is the size of the value's compact, ASCII-only JSON (the trace's encoding).
"""

from __future__ import annotations

import json
from typing import Any

from .vocabulary import MORE_KEY, TRUNCATED

__all__ = ["encode", "fit_mapping"]

_ENC = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
#: The trace's encoding of a value.
encode = _ENC.encode


def fit_mapping(out: dict[str, Any], limit: int) -> dict[str, Any]:
    """``out`` itself when its JSON fits in ``limit`` bytes, else a cut-down copy."""
    if len(encode(out)) <= limit:
        return out
    fitted = _fit(out, limit)
    return fitted if isinstance(fitted, dict) else {MORE_KEY: TRUNCATED}


def _size(v: Any) -> int:
    return len(encode(v))


_MARK_ITEM = _size(TRUNCATED) + 1  # `,"…"` in a list
_MARK_ENTRY = _size(MORE_KEY) + 1 + _size(TRUNCATED) + 1  # `,"…":"… (truncated)"`


def _fit(v: Any, budget: int) -> Any:
    """``v`` cut down so its compact ASCII JSON takes at most ``budget`` bytes, or None."""
    size = _size(v)
    if size <= budget:
        return v
    if isinstance(v, str):
        return _fit_str(v, budget)
    if isinstance(v, dict):
        return _fit_dict(v, budget)
    if isinstance(v, list):
        return _fit_list(v, budget)
    return None


def _fit_str(s: str, budget: int) -> str | None:
    if _size(TRUNCATED) > budget:
        return None
    lo, hi = 0, min(len(s), budget)
    while lo < hi:  # longest prefix whose JSON (with the marker) fits
        mid = (lo + hi + 1) // 2
        if _size(s[:mid] + TRUNCATED) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return s[:lo] + TRUNCATED


def _fit_dict(d: dict[str, Any], budget: int) -> dict[str, Any] | None:
    if budget < 2 + _MARK_ENTRY:
        return None
    out: dict[str, Any] = {}
    used = 2
    items = list(d.items())
    for i, (k, v) in enumerate(items):
        kcost = _size(k) + 1 + (1 if out else 0)
        vcost = _size(v)
        reserve = 0 if i == len(items) - 1 else _MARK_ENTRY
        if used + kcost + vcost + reserve <= budget:
            out[k] = v
            used += kcost + vcost
            continue
        room = budget - used - kcost - _MARK_ENTRY
        part = _fit(v, room) if room > 0 else None
        if part is not None:
            out[k] = part
        out[MORE_KEY] = TRUNCATED
        return out
    return out


def _fit_list(items: list[Any], budget: int) -> list[Any] | None:
    if budget < 2 + _MARK_ITEM:
        return None
    out: list[Any] = []
    used = 2
    for i, v in enumerate(items):
        sep = 1 if out else 0
        vcost = _size(v)
        reserve = 0 if i == len(items) - 1 else _MARK_ITEM
        if used + sep + vcost + reserve <= budget:
            out.append(v)
            used += sep + vcost
            continue
        room = budget - used - sep - _MARK_ITEM
        part = _fit(v, room) if room > 0 else None
        if part is not None:
            out.append(part)
        out.append(TRUNCATED)
        return out
    return out
