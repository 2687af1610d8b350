"""Safe text forms of values that are not JSON data: what evidence shows for them.

Each helper returns plain data or text and never raises (a hostile ``__repr__``,
``__str__`` or property gives a ``<unprintable ...>`` placeholder instead). The walk over
containers, and redaction, are ``redact.Redactor``'s.
"""

from __future__ import annotations

import enum
import json
import math
from typing import Any

from ._event import _text
from .vocabulary import TRUNCATED

__all__ = ["REPR_CAP", "attributes", "dtype_text", "enum_name", "is_dataclass",
           "key_text", "long_int", "namedtuple_fields", "nonfinite", "safe_repr", "safe_str",
           "shape", "simple_form", "type_name"]

#: ``repr()`` of an unknown object is cut at this many characters.
REPR_CAP = 200
#: More bits than ``str(int)`` prints (``sys.get_int_max_str_digits``: 4300 digits).
_PRINTABLE_INT_BITS = 14_000


def long_int(v: int) -> str | None:
    """What an int too long to print as JSON is written as (``<int of ~N digits>``);
    None for one that prints."""
    bits = v.bit_length()
    return f"<int of ~{int(bits * 0.30103)} digits>" if bits > _PRINTABLE_INT_BITS else None


def is_dataclass(v: Any) -> bool:
    # Checked by attribute so that this module does not import `dataclasses` (~10 ms).
    return not isinstance(v, type) and hasattr(type(v), "__dataclass_fields__")


def nonfinite(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def safe_str(v: Any) -> str:
    """``str(v)``, or a placeholder; the one rule for any text an app hands over."""
    return _text(v)


def safe_repr(v: Any) -> str:
    try:
        s = repr(v)
    except Exception:
        return f"<unprintable {type(v).__name__}>"
    if type(s) is not str:
        return f"<unprintable {type(v).__name__}>"
    return s if len(s) <= REPR_CAP else s[:REPR_CAP] + TRUNCATED


def key_text(k: Any) -> str:
    if k is None or isinstance(k, (bool, int, float)):
        return json.dumps(k) if not isinstance(k, float) or math.isfinite(k) else str(k)
    if isinstance(k, str):
        return str.__str__(k)
    return safe_repr(k)


def enum_name(v: Any) -> str | None:
    if isinstance(v, enum.Enum):
        return f"{type(v).__name__}.{v.name}"
    return None


def simple_form(v: Any) -> str | None:
    """Text for well-known value types (dates, decimals, UUIDs, paths, enums)."""
    if isinstance(v, enum.Enum):
        return f"{type(v).__name__}.{v.name}"
    mod = type(v).__module__
    if mod in ("datetime",):
        try:
            return str(v.isoformat())
        except Exception:
            return None
    if mod in ("decimal", "uuid", "fractions", "ipaddress") or mod.startswith("pathlib"):
        return safe_str(v)
    if isinstance(v, complex):
        return str(v)
    return None


def shape(v: Any) -> tuple[Any, ...] | None:
    """The ``shape`` of an array-like (numpy, pandas...): shapes beat raw payloads."""
    if getattr(type(v), "shape", None) is None or isinstance(v, type):
        return None
    try:
        return tuple(int(x) for x in v.shape)
    except Exception:
        return None


def dtype_text(v: Any) -> str:
    try:
        dtype = getattr(v, "dtype", None)
    except Exception:
        return ""
    return f" dtype={safe_str(dtype)[:40]}" if dtype is not None else ""


def type_name(v: Any) -> str:
    return type(v).__name__


def attributes(v: Any) -> dict[str, Any] | None:
    """An instance's attributes (``__dict__``, else ``__slots__``), or None."""
    if isinstance(v, type) or callable(v):
        return None
    try:
        d = object.__getattribute__(v, "__dict__")
        if isinstance(d, dict) and d:
            return dict(d)
    except Exception:
        pass
    slots: dict[str, Any] = {}
    for cls in type(v).__mro__:
        names = cls.__dict__.get("__slots__", ())
        for name in (names,) if isinstance(names, str) else names:
            if name in ("__dict__", "__weakref__") or name in slots:
                continue
            try:
                slots[name] = object.__getattribute__(v, name)
            except Exception:
                continue
    return slots or None


def namedtuple_fields(v: Any) -> tuple[str, ...] | None:
    """The field names of a namedtuple (``collections`` or ``typing``), else None."""
    fields = getattr(type(v), "_fields", None)
    if (isinstance(v, tuple) and type(fields) is tuple and len(fields) == len(v)
            and all(type(f) is str for f in fields)):
        return fields
    return None
