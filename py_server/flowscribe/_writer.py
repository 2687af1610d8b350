"""Buffered writing of encoded events: the only place where the runtime touches the disk.

Recording an event appends ``(event, line)`` to an in-memory buffer and returns. A daemon
thread hands the buffer to the sinks about every 100 ms; failures, exceptions and the end
of a session flush at once from the caller's thread, so they reach the file before the
marker call returns (a SIGKILL then loses at most the last window of ordinary events).

Files are written through :class:`AppendFile`: an ``O_APPEND`` descriptor and whole lines
per ``os.write``, which is what lets many threads and processes share one trace without
interleaving. A forked child gets a fresh lock, an empty buffer (what was pending belongs
to the parent, which writes it) and its own flusher thread.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
import weakref
from collections.abc import Sequence

from ._warn import warn_once

__all__ = ["AppendFile", "Sink", "Writer"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any

    #: One recorded event: the dict (for sinks that want fields) and its encoded line.
    Item = tuple[dict[str, Any], str]

#: Larger writes are split at line boundaries; each piece is still one os.write.
_CHUNK = 1 << 20
_FLAGS = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
          | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))


class Sink:
    """Receives batches of recorded events from a :class:`Writer` (always one at a time)."""

    name = "sink"

    def write(self, batch: Sequence[Item]) -> None:
        """Handle a batch, in recording order. May raise: the writer reports it once."""
        raise NotImplementedError

    def close(self) -> None:
        """Release files and connections; called once, after the last batch."""

    def after_fork_child(self) -> None:
        """Drop state that must not be shared with the parent (connections, locks)."""


class AppendFile:
    """A file that whole lines are appended to, shared safely with other writers.

    ``max_bytes`` > 0 rotates the file to ``<path>.1`` before a write would take it past
    that size. The path is opened with ``O_NOFOLLOW``: a trace planted as a symlink (to a
    file outside the project) is refused, never appended to through the link.

    Whole lines, always: a write cut short (full disk, file-size limit) is rolled back to
    where it started when no other process has written since, and otherwise the next write
    begins with a newline, so the torn part stays a line of its own that readers skip and
    is never glued to the next event. Dropped events are counted and reported once.
    """

    #: How often the path is checked for replacement (rotation or deletion by another
    #: process): a stat per write would cost a tenth of a failure's recording.
    CHECK_EVERY_S = 0.5

    def __init__(self, path: str, max_bytes: int = 0) -> None:
        self.path = path
        self.max_bytes = max_bytes
        #: bytes this process wrote, to tell whether other processes wrote too.
        self.bytes_written = 0
        #: events (lines) that could not be written, and why (the first reason).
        self.dropped = 0
        self.dropped_why = ""
        self._fd: int | None = None
        self._ino = 0
        self._checked = 0.0
        self._size = 0  # the file's size when last looked at, plus what we wrote since
        self._torn = False

    def _open(self) -> int:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        fd = os.open(self.path, _FLAGS, 0o644)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device planted as the trace
            os.close(fd)
            raise OSError(errno.EINVAL, "not a regular file", self.path)
        self._fd, self._ino, self._size = fd, st.st_ino, st.st_size
        self._checked = time.monotonic()
        return fd

    def _current_fd(self) -> int:
        fd = self._fd
        if fd is None:
            return self._open()
        now = time.monotonic()
        if now - self._checked < self.CHECK_EVERY_S:
            return fd
        self._checked = now
        try:
            st = os.stat(self.path, follow_symlinks=False)
            replaced = st.st_ino != self._ino
        except FileNotFoundError:
            replaced = True
        if replaced:  # rotated or deleted by someone else: follow the path, not the inode
            self._close_fd()
            return self._open()
        self._size = st.st_size
        return fd

    def _rotate(self, fd: int) -> int:
        try:
            still_ours = os.stat(self.path, follow_symlinks=False).st_ino == self._ino
        except FileNotFoundError:
            still_ours = False
        if still_ours:
            os.replace(self.path, self.path + ".1")
        self._close_fd()
        return self._open()

    def write(self, data: bytes) -> bool:
        """Append ``data`` (whole lines). Returns False if it was dropped."""
        if not data:
            return True
        fd = None
        start = -1
        try:
            fd = self._current_fd()
            if self.max_bytes > 0 and self._size + len(data) > self.max_bytes:
                self._size = os.fstat(fd).st_size  # others may have written: look again
                if self._size > 0 and self._size + len(data) > self.max_bytes:
                    fd = self._rotate(fd)
            if self._torn:
                data = b"\n" + data
            start = os.fstat(fd).st_size if self._torn or self.dropped else -1
            self._write_all(fd, data)
        except OSError as exc:
            self._drop(fd, start, data, exc)
            return False
        self._torn = False
        self.bytes_written += len(data)
        self._size += len(data)
        return True

    def _drop(self, fd: int | None, start: int, data: bytes, exc: OSError) -> None:
        """A write failed, perhaps half done: keep the file made of whole lines."""
        lines = data.count(b"\n")
        self.dropped += lines
        if not self.dropped_why:
            self.dropped_why = exc.strerror or str(exc)
        was_torn = self._torn  # a fragment before ``start`` still wants its newline
        if fd is None:
            pass
        elif start < 0:
            self._torn = True  # where this write began is unknown: assume it left a fragment
        else:
            try:
                size = os.fstat(fd).st_size
                if size != start and size - start < len(data):
                    os.ftruncate(fd, start)  # only our cut line is past ``start``: undo it
                    self._torn = was_torn
                elif size != start:
                    self._torn = True  # others wrote after our fragment: end it next time
            except OSError:
                self._torn = True
        warn_once(
            f"write:{self.path}",
            f"cannot write {self.path}: {exc.strerror or exc}; "
            "events are dropped (counted), the app runs on",
        )
        self._close_fd()

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        start, end = 0, len(data)
        while start < end:
            stop = end
            if end - start > _CHUNK:
                nl = data.rfind(b"\n", start, start + _CHUNK)
                stop = nl + 1 if nl >= start else start + _CHUNK
            done = start
            while done < stop:  # a short write happens only on a full disk or a signal
                done += os.write(fd, view[done:stop])
            start = stop

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:  # noqa: SIM105 - contextlib costs import time
                os.close(fd)
            except OSError:
                pass

    def after_fork_child(self) -> None:
        """Keep the inherited descriptor: O_APPEND makes sharing it safe."""

    def close(self) -> None:
        if self.dropped:
            warn_once(f"dropped:{self.path}",
                      f"{self.dropped} events not written to {self.path}: {self.dropped_why}")
        self._close_fd()


class Writer:
    """The buffer between recording and the sinks, with its background flusher."""

    def __init__(
        self, sinks: Sequence[Sink], interval: float = 0.1, max_pending: int = 4096
    ) -> None:
        self.sinks = list(sinks)
        self.interval = interval
        self.max_pending = max_pending
        #: The queue: recorders append (event, line) tuples; only flush() removes them.
        self.pending: list[Item] = []
        # Re-entrant: a sink that itself records an urgent event must not deadlock.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = False
        _live.add(self)
        self._start_thread()

    @property
    def lock(self) -> threading.RLock:
        """Held while a batch goes to the sinks; hold it to keep them still."""
        return self._lock

    def _start_thread(self) -> None:
        t = threading.Thread(target=self._run, name="flowscribe-flusher", daemon=True)
        self._thread = t
        t.start()

    def _run(self) -> None:
        stop = self._stop
        while not stop.wait(self.interval):
            self.flush()

    def append(self, item: Item) -> None:
        """Queue one event; the hot path (one list append, one length check)."""
        buf = self.pending
        buf.append(item)
        if len(buf) >= self.max_pending:
            self.flush()

    def flush(self) -> None:
        """Hand everything queued so far to the sinks, now, in this thread."""
        with self._lock:
            buf = self.pending
            n = len(buf)
            if not n:
                return
            # Slice and delete (not swap) so an append racing with us is kept for next time.
            batch = buf[:n]
            del buf[:n]
            for sink in self.sinks:
                try:
                    sink.write(batch)
                except Exception as exc:
                    warn_once(
                        f"sink:{sink.name}:{type(exc).__name__}",
                        f"the {sink.name} sink failed ({type(exc).__name__}: {exc}); "
                        "its events are dropped, the app runs on",
                    )

    def close(self) -> None:
        """Flush what is left, stop the flusher and close the sinks. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=5)
        self.flush()
        for sink in self.sinks:
            try:  # noqa: SIM105 - contextlib costs import time
                sink.close()
            except Exception:
                pass
        _live.discard(self)

    def _after_fork_child(self) -> None:
        self._lock = threading.RLock()
        self.pending = []
        self._stop = threading.Event()
        self._thread = None
        for sink in self.sinks:
            try:  # noqa: SIM105 - contextlib costs import time
                sink.after_fork_child()
            except Exception:
                pass
        if not self.closed:
            self._start_thread()


_live: weakref.WeakSet[Writer] = weakref.WeakSet()


def _after_fork_child() -> None:
    for writer in list(_live):
        writer._after_fork_child()


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_child)
