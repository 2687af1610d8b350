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

    #: One recorded event: the dict (for sinks that want fields) and its encoded line
    #: (ASCII JSON, ``\n`` included).
    Item = tuple[dict[str, Any], str]

#: Larger writes are split at line boundaries; each piece is still one os.write.
_CHUNK = 1 << 20
#: Ranges between this process's writes that others wrote, remembered up to this many
#: (then the end of a run reads the whole trace instead).
_MAX_GAPS = 100_000
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# O_NONBLOCK: opening a FIFO planted as the trace fails at once (ENXIO) instead of waiting
# for a reader forever; on a regular file it changes nothing.
_FLAGS = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
          | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))

#: What the summary says for the errors a full or capped disk gives.
_WHY = {errno.ENOSPC: "disk full", errno.EFBIG: "file size limit reached",
        getattr(errno, "EDQUOT", -1): "disk quota exceeded"}


class Sink:
    """Receives batches of recorded events from a :class:`Writer` (always one at a time)."""

    name = "sink"
    #: True for a sink that only keeps this process's tally of the run (the aggregate):
    #: an urgent event reaches it with the next regular batch, in order, instead of in
    #: a batch of its own (:meth:`Writer.flush_urgent`). Stores and the console get it
    #: before the marker returns.
    tally = False

    def write(self, batch: Sequence[Item]) -> None:
        """Handle a batch, in recording order. May raise: the writer reports it once."""
        raise NotImplementedError

    def close(self) -> None:
        """Release files and connections; called once, after the last batch."""

    def after_fork_child(self) -> None:
        """Drop state that must not be shared with the parent (connections, locks)."""

    def not_written(self) -> tuple[int, str]:
        """Events this sink could not store so far, and why (the first reason)."""
        return 0, ""


class _Refused(OSError):
    """The path is not something flowscribe appends to (a link, a FIFO, a device)."""


class AppendFile:
    """A file that whole lines are appended to, shared safely with other writers.

    ``max_bytes`` > 0 rotates the file before a write would take it past that size:
    ``<path>.1`` becomes ``.2`` and so on up to ``.<backups>`` (the oldest is dropped), and
    the file becomes ``.1``. Rotation is done under an ``flock`` of the file, so processes
    sharing it rotate it once.

    Only a regular file is written, and never through a link: the path is opened with
    ``O_NOFOLLOW`` (a trace planted as a symlink to a file outside the project is refused),
    and a FIFO or a device is refused instead of hanging or filling up. One warning each.

    Whole lines, always: a write cut short (full disk, file-size limit) is cut back to the
    last whole line when no other process wrote since; otherwise (or when truncating
    fails) the next write begins with a newline, so the torn part stays a line of its own
    that readers skip and is never glued to the next event (an event cut just before its
    newline is whole once that newline lands: it is not dropped). Dropped events are counted
    (:attr:`dropped`, :meth:`Sink.not_written`: the summary shows the count) and the
    first failure is reported once.

    Writing costs no ``stat`` of the path: it is looked at only every
    :attr:`CHECK_EVERY_S` (has another process rotated or removed it?), before a rotation
    and after a fork. With rotation on, each write asks the descriptor its size (an
    ``fstat``): the history's bound holds with several processes writing. The same fstat
    tells a file another process rotated away: the rotating process clears its write bits
    first, and a writer that finds them cleared follows the path, so no event lands in the
    history after newer ones went to the live file.

    Where each write landed is known (the descriptor's offset after it, one ``lseek``),
    so :meth:`others_wrote` tells which byte ranges of the file other processes wrote:
    the end of a run folds in only those (``_joined.py``). A forked child opens the path
    anew, so no two processes share a descriptor's offset.
    """

    #: How often the path is checked for replacement (rotation or deletion by another
    #: process): a stat per write cost a tenth of a failure's recording.
    CHECK_EVERY_S = 0.5

    def __init__(self, path: str, max_bytes: int = 0, backups: int = 1) -> None:
        self.path = path
        self.max_bytes = max_bytes
        #: rotated files kept: ``<path>.1`` (newest) .. ``<path>.<backups>``.
        self.backups = max(1, backups)
        #: bytes this process wrote, to tell whether other processes wrote too.
        self.bytes_written = 0
        #: events (lines) that could not be written, and why (the first reason).
        self.dropped = 0
        self.dropped_why = ""
        self._fd: int | None = None
        self._ino = 0
        self._checked = 0.0
        #: the file's size when last looked at, plus what this process wrote since: where
        #: this process's next write lands if no other process writes in between.
        self._size = 0
        #: a cut line ends the file: the next write starts with a newline.
        self._torn = False
        #: that cut line is a whole event but for its newline: the next write's newline
        #: makes it a line readers parse, so it is no longer dropped once that lands.
        self._torn_whole = False
        self._done = 0  # bytes of the current write on disk (for _drop)
        #: where this process's writes landed: the first one's start, the last one's end,
        #: and the ranges between them that others wrote; None once that is not known
        #: for certain (a reopened or rotated file, a failed or cut write, too many gaps).
        self._first = -1
        self._end = -1
        self._gaps: list[tuple[int, int]] | None = []
        self._opened = False

    def _open(self) -> int:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if not _NOFOLLOW and os.path.islink(self.path):  # no O_NOFOLLOW (Windows)
            raise _Refused(errno.ELOOP, "is a link", self.path)
        try:
            fd = os.open(self.path, _FLAGS, 0o644)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):  # EMLINK: FreeBSD's O_NOFOLLOW
                raise _Refused(exc.errno, "is a link", self.path) from None
            if exc.errno == errno.ENXIO:  # a FIFO nobody reads
                raise _Refused(exc.errno, "is not a regular file", self.path) from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device planted as the trace
            os.close(fd)
            raise _Refused(errno.EINVAL, "is not a regular file", self.path)
        self._fd, self._ino, self._size = fd, st.st_ino, st.st_size
        self._checked = time.monotonic()
        if self._opened:  # another file, or the same one after a failure: ranges unknown
            self._gaps = None
        self._opened = True
        return fd

    def _current_fd(self) -> int:
        fd = self._fd
        now = time.monotonic()
        if fd is None:
            if now - self._checked < self.CHECK_EVERY_S:  # refused or failed just now
                raise OSError(errno.EAGAIN, "not retried yet", self.path)
            self._checked = now
            return self._open()
        if now - self._checked < self.CHECK_EVERY_S:
            return fd
        return self._follow_path(fd, now)

    def _follow_path(self, fd: int, now: float) -> int:
        """The descriptor of the file at the path now: ours, or the one another process
        put there when it rotated or deleted ours (follow the path, not the inode)."""
        self._checked = now
        try:
            st = os.stat(self.path, follow_symlinks=False)
            replaced = st.st_ino != self._ino
        except FileNotFoundError:
            replaced = True
        if replaced:
            self._close_fd()
            return self._open()
        self._size = st.st_size
        return fd

    def _rotate(self, fd: int) -> int:
        """Shift ``.1``..``.N-1`` up one, the file to ``.1``; reopen the path."""
        locked = _lock(fd)
        try:
            try:
                still_ours = os.stat(self.path, follow_symlinks=False).st_ino == self._ino
            except FileNotFoundError:
                still_ours = False
            if still_ours:  # else another process rotated it while we waited for the lock
                # os.replace moves a planted link itself, never what it points at.
                for n in range(self.backups - 1, 0, -1):
                    older = f"{self.path}.{n}"
                    if os.path.lexists(older):
                        os.replace(older, f"{self.path}.{n + 1}")
                # Marked read-only first: a process still holding it sees the mark in the
                # fstat it makes before each write and follows the path to the new file,
                # instead of appending its newer events to the history (_retired).
                mode = _retire(fd)
                try:
                    os.replace(self.path, self.path + ".1")
                except OSError:
                    _unretire(fd, mode)
                    raise
        finally:
            if locked:
                _unlock(fd)
        self._close_fd()
        return self._open()

    def _rotate_or_grow(self, fd: int) -> int:
        """Rotate; when renaming fails (a planted ``.1`` folder, a read-only folder), keep
        appending to the file rather than losing events: warned once, not retried."""
        try:
            return self._rotate(fd)
        except OSError as exc:
            if self._fd is None:  # the path could not be opened again: a write failure
                raise
            warn_once(f"rotate:{self.path}", f"cannot rotate {self.path} "
                      f"({exc.strerror or exc}); it grows past its size limit instead")
            self.max_bytes = 0
            return fd

    def write(self, data: bytes) -> bool:
        """Append ``data`` (whole lines). Returns False if it was dropped."""
        if not data:
            return True
        fd = None
        self._done = 0
        prefixed = self._torn
        if prefixed:
            data = b"\n" + data
        try:
            fd = self._current_fd()
            if self.max_bytes > 0:
                # The file's real size, every write (one fstat per batch): other processes
                # write to it too, and one still appending to a file another just rotated
                # finds it full here and follows the path, so no file grows past the limit
                # by more than what its writers sent at the same instant.
                st = os.fstat(fd)
                self._size = st.st_size
                if _retired(st):  # another process rotated (or deleted) it since we looked
                    fd = self._follow_path(fd, time.monotonic())
                if self._size > 0 and self._size + len(data) > self.max_bytes:
                    fd = self._rotate_or_grow(fd)
                    if prefixed:  # the torn line stays behind in the rotated file
                        data, prefixed = data[1:], False
                        self._torn_whole = False
            self._write_all(fd, data)
        except OSError as exc:
            self._drop(fd, data, prefixed, exc)
            return False
        if prefixed:
            self._mended(prefixed)
        self.bytes_written += len(data)
        self._size += len(data)
        return True

    def _drop(self, fd: int | None, data: bytes, prefixed: bool, exc: OSError) -> None:
        """A write failed, perhaps half done: keep the file made of whole lines."""
        done = self._done
        whole = data.rfind(b"\n", 0, done) + 1  # what landed, up to its last whole line
        lost = data.count(b"\n", whole)
        if prefixed and whole == 0:
            lost -= 1  # the newline that would end the earlier torn line is not an event
        self.dropped += lost
        self._gaps = None  # a write failed or was cut: where lines landed is not known
        kept = done
        if whole:
            self._mended(prefixed)  # the earlier torn line (if any) got its newline
        if fd is not None and done > whole:  # a cut line now ends the file
            kept = whole if self._cut_back(fd, done - whole, done) else done
            self._torn = kept != whole
            # Cut just before its newline, the event itself is all there: the newline
            # that starts the next write completes it (:meth:`_mended`).
            self._torn_whole = self._torn and data[done:done + 1] == b"\n"
        self.bytes_written += kept
        self._size += kept
        if isinstance(exc, _Refused):
            why = f"{exc.strerror}: flowscribe writes only regular files, never through a link"
        else:
            why = _WHY.get(exc.errno or 0) or exc.strerror or str(exc)
        if exc.errno == errno.EAGAIN:
            return  # not retried yet: already reported
        if not self.dropped_why:
            self.dropped_why = why
        warn_once(f"write:{self.path}",
                  f"cannot write {self.path} ({why}); events are dropped (summary.md "
                  "counts them), the app runs on")
        if fd is None or exc.errno not in _WHY:  # keep the descriptor for a full disk
            self._close_fd()

    def _mended(self, prefixed: bool) -> None:
        """The newline before this write landed: a torn line left by an earlier write is
        a line of its own now. If it was a whole event but for that newline, readers parse
        it: it was written after all (counting it dropped said one too many)."""
        if prefixed and self._torn_whole:
            self.dropped -= 1
        self._torn = self._torn_whole = False

    def _cut_back(self, fd: int, cut: int, done: int) -> bool:
        """Truncate the ``cut`` bytes of a torn line off the end of the file; False when
        that is not certainly safe (another process wrote since) or fails."""
        try:
            # The file ends where this process's count says only if no other process wrote
            # since: then the torn line is the file's last bytes, and only ours.
            size = os.fstat(fd).st_size
            if size != self._size + done:
                return False
            os.ftruncate(fd, size - cut)
        except OSError:
            return False
        return True

    def _write_all(self, fd: int, data: bytes) -> None:
        end = len(data)
        start = 0
        if end <= _CHUNK:  # a batch, or one urgent event: almost always one whole write
            n = os.write(fd, data)
            if n > 0:
                self._done = start = n
                if self._gaps is not None:
                    self._landed(os.lseek(fd, 0, os.SEEK_CUR), n)
                if n == end:
                    return
        # What is left: in chunks of whole lines, each retried until it is all written.
        view = memoryview(data)
        while start < end:
            stop = end
            if end - start > _CHUNK:
                nl = data.rfind(b"\n", start, start + _CHUNK)
                stop = nl + 1 if nl >= start else start + _CHUNK
            done = start
            while done < stop:  # a short write happens only on a full disk or a signal
                n = os.write(fd, view[done:stop])
                if n <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.path)
                done += n
                self._done = done
                if self._gaps is not None:
                    self._landed(os.lseek(fd, 0, os.SEEK_CUR), n)
            start = stop

    def _landed(self, end: int, n: int) -> None:
        """Note that ``n`` bytes of ours now end at offset ``end`` of the file."""
        gaps = self._gaps
        if gaps is None:
            return
        begin = end - n
        if self._first < 0:
            self._first = begin
        elif begin > self._end:
            if len(gaps) >= _MAX_GAPS:
                self._gaps = None
                return
            gaps.append((self._end, begin))
        elif begin < self._end:  # not an append after our last write: do not guess
            self._gaps = None
            return
        self._end = end

    def others_wrote(self, start: int, size: int) -> list[tuple[int, int]] | None:
        """The byte ranges of the file from ``start`` to ``size`` (its size now) that other
        processes wrote, or None when that is not known (then read it all)."""
        gaps = self._gaps
        if gaps is None:
            return None
        if self._first < 0:
            return [(start, size)] if size > start else []
        ranges = [(start, self._first)] if self._first > start else []
        ranges += [(b, e) for b, e in gaps if e > start]
        if size > self._end:
            ranges.append((self._end, size))
        return ranges

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:  # noqa: SIM105 - contextlib costs import time
                os.close(fd)
            except OSError:
                pass

    def after_fork_child(self) -> None:
        """Open the path anew at the next write: a descriptor of its own, so the parent's
        offsets (where its writes landed, :meth:`others_wrote`) stay the parent's; what
        this process writes is another process's to the parent."""
        self._close_fd()
        self._checked = 0.0
        self._gaps = None  # the child owns no run: it never asks

    def close(self) -> None:
        self._close_fd()


def _retire(fd: int) -> int | None:
    """Mark the file of ``fd`` as rotated away (its write bits cleared); returns its mode
    for :func:`_unretire`, None where files cannot be marked."""
    fchmod = getattr(os, "fchmod", None)
    if fchmod is None:
        return None
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        fchmod(fd, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    except OSError:
        return None
    return mode


def _unretire(fd: int, mode: int | None) -> None:
    """Undo :func:`_retire` (the rename failed: the file stays the live one)."""
    if mode is not None:
        try:  # noqa: SIM105 - contextlib costs import time
            os.fchmod(fd, mode)
        except OSError:
            pass


def _retired(st: os.stat_result) -> bool:
    """True when a descriptor's file is no longer the trace's live file for certain: it
    was deleted, or rotated away by a process that marked it (:func:`_retire`)."""
    return st.st_nlink == 0 or not st.st_mode & stat.S_IWUSR


def _lock(fd: int) -> bool:
    """An exclusive flock on ``fd`` (POSIX); False where there is none."""
    try:
        import fcntl  # not at import time: only rotation needs it
    except ImportError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    import fcntl

    try:  # noqa: SIM105 - contextlib costs import time
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        pass


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
        #: Events urgent flushes gave the stores and not yet the tallies (Sink.tally).
        self._held: list[Item] = []
        # Re-entrant: a sink that itself records an urgent event must not deadlock.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = False
        #: sink name -> (events of batches it raised on, the first error): not written.
        self._failed: dict[str, tuple[int, str]] = {}
        _live.add(self)
        self._start_thread()

    @property
    def lock(self) -> threading.RLock:
        """Held while a batch goes to the sinks; hold it to keep them still."""
        return self._lock

    def _start_thread(self) -> None:
        from ._signals import start_quiet  # only once a session writes

        t = threading.Thread(target=self._run, name="flowscribe-flusher", daemon=True)
        self._thread = t
        start_quiet(t)

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
        """Hand everything queued so far to every sink, now, in this thread."""
        with self._lock:
            batch = self._take()
            held = self._held
            if held:
                self._held = []
                tallied = held + batch
            elif batch:
                tallied = batch
            else:
                return
            for sink in self.sinks:
                if sink.tally:
                    self._deliver(sink, tallied)
                elif batch:
                    self._deliver(sink, batch)

    def flush_urgent(self) -> None:
        """Write what is queued to the stores and the console now (an urgent event: on
        disk before its marker returns); the tallies take it with the next flush, which
        costs them one batch for many urgent events instead of one each."""
        with self._lock:
            batch = self._take()
            if not batch:
                return
            held = self._held
            held.extend(batch)
            for sink in self.sinks:
                if not sink.tally:
                    self._deliver(sink, batch)
            if len(held) >= self.max_pending:  # only urgent events, and no flusher yet
                self.flush()

    def _take(self) -> list[Item]:
        buf = self.pending
        n = len(buf)
        # Slice and delete (not swap) so an append racing with us is kept for next time.
        batch = buf[:n]
        del buf[:n]
        return batch

    def _deliver(self, sink: Sink, batch: list[Item]) -> None:
        try:
            sink.write(batch)
        except Exception as exc:
            lost, why = self._failed.get(sink.name, (0, ""))
            self._failed[sink.name] = (
                lost + len(batch), why or f"the {sink.name} sink failed ({type(exc).__name__})")
            warn_once(
                f"sink:{sink.name}:{type(exc).__name__}",
                f"the {sink.name} sink failed ({type(exc).__name__}: {exc}); "
                "its events are dropped, the app runs on",
            )

    def not_written(self) -> tuple[int, str]:
        """The most events any one sink could not store, and why: what the summary reports
        as "N events not written"."""
        worst = max(self._failed.values(), default=(0, ""))
        for sink in self.sinks:
            try:
                n, why = sink.not_written()
            except Exception:
                continue
            if n > worst[0]:
                worst = (n, why)
        return worst

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
        self._held = []  # the parent's: its tallies count them, never the child's
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
