"""The base of flowscribe's mutable records: equality, repr and ``_replace`` by field.

A dataclass is made from generated source, one ``exec`` per method, which costs about a
millisecond a class; ``init()`` would make a dozen of them, and import ``dataclasses``
(with ``inspect``) for it. Records on the start path are therefore ``typing.NamedTuple``
when they never change, and a class with ``__slots__``, its own ``__init__`` and this
base when they do (or hold state derived at construction); both offer ``_fields`` and
``_replace``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    _R = TypeVar("_R", bound="Record")

__all__ = ["Record"]


class Record:
    """Equal to a record of the same class with equal fields; unhashable (mutable).

    ``_fields`` names the fields in order; ``__init__`` takes each as a keyword."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    __hash__ = None  # type: ignore[assignment]  # mutable: as a dataclass with eq

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def _replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes`` (as ``NamedTuple._replace``, ``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return type(self)(**values)
