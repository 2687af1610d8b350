"""The base of the records a start makes: equality, repr, ``_asdict`` and ``_replace``.

A dataclass is made from generated source, one ``exec`` per method, and a
``typing.NamedTuple`` compiles each field's annotation: 0.2–1 ms a class on this
project's machine, where a plain class takes 10 µs. ``init()`` would make two dozen of
them (and import ``dataclasses``, with ``inspect``, for the first kind), so the records
on the start path (config, catalog, problems, YAML positions, the run's aggregate, the
trace reader's results) are classes with ``__slots__``, their own ``__init__`` and this
base. They are read-only by convention: ``_replace`` makes a changed copy.
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

    def _asdict(self) -> dict[str, Any]:
        """The fields by name, in order."""
        return {name: getattr(self, name) for name in self._fields}

    def _replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes`` (as ``NamedTuple._replace``, ``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return type(self)(**values)
