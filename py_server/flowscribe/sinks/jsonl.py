"""The JSONL sink: the trace file itself, one event per line (``docs/trace-format.md``).

Lines arrive encoded (ASCII JSON, each with its ``\n``); a batch becomes one ``os.write``
of whole lines, so concurrent writers never interleave.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._writer import AppendFile, Sink

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from .._writer import Item

__all__ = ["JsonlSink"]


class JsonlSink(Sink):
    """Appends each batch to ``path`` in whole lines; rotates at ``max_bytes`` (0: never),
    keeping ``backups`` rotated files (``<path>.1`` .. ``<path>.<backups>``)."""

    name = "jsonl"

    def __init__(self, path: str, max_bytes: int = 0, backups: int = 1) -> None:
        self.file = AppendFile(path, max_bytes=max_bytes, backups=backups)

    @property
    def path(self) -> str:
        return self.file.path

    def write(self, batch: Sequence[Item]) -> None:
        if batch:
            self.file.write("".join([line for _, line in batch]).encode())

    def not_written(self) -> tuple[int, str]:
        return self.file.dropped, self.file.dropped_why

    def after_fork_child(self) -> None:
        self.file.after_fork_child()

    def close(self) -> None:
        self.file.close()
