"""Reading trace files: the one reader of the format in ``docs/trace-format.md``.

The runtime's CLI, the language server and the tests all read traces through this
module. Everything in a trace is untrusted input: a line may be cut short (a run is still
writing), malformed, huge, binary, or of a future schema. Such lines are skipped and
counted in :class:`ReadStats`, never raised.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from flowscribe._encode import orjson_allowed
from flowscribe._files import open_regular
from flowscribe._record import Record

__all__ = [
    "EVENT_TYPES",
    "LINE_START",
    "SCHEMA_VERSION",
    "ReadStats",
    "TraceFollower",
    "field_marker",
    "find_event",
    "instance_span",
    "instance_start",
    "iter_events",
    "open_trace",
    "parse_line",
]

SCHEMA_VERSION = 1
EVENT_TYPES = frozenset(
    {
        "run_start",
        "flow_start",
        "checkpoint",
        "success",
        "failure",
        "exception",
        "metric",
        "flow_end",
        "summary",
    }
)
#: Lines longer than this are skipped: the runtime caps evidence far below it, so such a
#: line is junk, and parsing it would cost the reader more than it could tell.
MAX_LINE_BYTES = 1 << 20
_CHUNK = 1 << 20
_TAIL_BLOCK = 1 << 16

Event = dict[str, Any]

#: Every digit to ``0``, every other byte to a space: a line so translated holds
#: :data:`_LONG_NUMBER` where it has a run of 19 digits or more, an integer orjson may
#: read as a float (beyond 64 bits). (Six times cheaper than a regular expression.)
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_NUMBER = b"0" * 19


def _orjson_loads() -> Any:
    """orjson's decoder when importable and not switched off (``FLOWSCRIBE_JSON=stdlib``,
    as for the encoder), else None."""
    if not orjson_allowed():
        return None
    try:
        from orjson import loads
    except ImportError:
        return None
    return loads


_UNKNOWN: Any = object()
#: orjson's decoder, looked for on the first line read (not at import: a session's start
#: imports this module, and orjson's import costs more than the start's own work).
_fast_loads: Any = _UNKNOWN


def _loads(line: bytes | str) -> Any:
    """A line's JSON, read by orjson when there is orjson (3-4x faster on trace lines).

    A trace must read the same with or without it, so what orjson reads differently goes
    to :func:`json.loads`: an integer beyond 64 bits (orjson makes it a float) and what
    orjson rejects but json accepts (NaN, a lone surrogate escape, a leading BOM).
    """
    global _fast_loads
    fast = _fast_loads
    if fast is _UNKNOWN:
        fast = _fast_loads = _orjson_loads()
    if (fast is not None and type(line) is bytes
            and _LONG_NUMBER not in line.translate(_DIGITS_ONLY)):
        try:
            return fast(line)
        except ValueError:
            pass
    return json.loads(line)


class ReadStats(Record):
    """Counts of what a read saw; ``skipped`` breaks down why lines were dropped."""

    _fields = ("lines", "events", "skipped")
    __slots__ = _fields

    def __init__(self, lines: int = 0, events: int = 0,
                 skipped: dict[str, int] | None = None) -> None:
        self.lines = lines
        self.events = events
        self.skipped: dict[str, int] = {} if skipped is None else skipped

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def parse_line(line: bytes | str, stats: ReadStats | None = None) -> Event | None:
    """Parse one trace line into an event dict, or ``None`` (counted) if it is not one."""
    st = stats if stats is not None else ReadStats()
    st.lines += 1
    if len(line) > MAX_LINE_BYTES:
        st.skip("too_long")
        return None
    try:
        obj = _loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        st.skip("malformed")
        return None
    if not isinstance(obj, dict):
        st.skip("not_object")
        return None
    if obj.get("schema") != SCHEMA_VERSION:
        st.skip("unknown_schema")
        return None
    if obj.get("event_type") not in EVENT_TYPES:
        st.skip("unknown_event_type")
        return None
    st.events += 1
    return obj


_TYPE_KEY = b'"event_type":"'
_UNKNOWN_TYPE = re.compile(
    re.escape(_TYPE_KEY) + b"(?!(?:" + b"|".join(t.encode() for t in sorted(EVENT_TYPES)) + b')")'
)


def _type_markers(types: Iterable[str]) -> tuple[bytes, ...]:
    return tuple(f'"event_type":"{t}"'.encode() for t in types)


def _iter_lines(fh: Any, stats: ReadStats) -> Iterator[bytes]:
    """Complete lines from a binary file; an over-long line is skipped without buffering it."""
    pending = b""
    skipping = False
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                if not skipping:
                    pending += chunk[start:]
                    if len(pending) > MAX_LINE_BYTES:
                        pending, skipping = b"", True
                break
            if skipping:
                stats.lines += 1
                stats.skip("too_long")
                skipping = False
            else:
                yield pending + chunk[start:nl] if pending else chunk[start:nl]
            pending = b""
            start = nl + 1
    if pending or skipping:
        # No newline at the end: a run still writing, or a run killed mid-line.
        stats.lines += 1
        stats.skip("truncated")


def open_trace(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a trace for binary reading; raise OSError unless it is a regular file (a FIFO
    or a device put in place of a trace would block a reader or never end)."""
    return open_regular(path)


def field_marker(key: str, value: Any) -> bytes:
    """``"key":value`` as the runtime writes it in a trace line (compact, ASCII-only JSON,
    see docs/trace-format.md): a substring for :func:`iter_events`' ``contains``.

    A line holding it may still not be a match (the text can occur inside another
    field's value), so a reader checks the parsed event too.
    """
    return (json.dumps(key) + ":" + json.dumps(value)).encode("ascii")


def iter_events(
    path: str | os.PathLike[str],
    *,
    types: Iterable[str] | None = None,
    contains: Iterable[bytes] | None = None,
    stats: ReadStats | None = None,
    start: int = 0,
    limit: int | None = None,
) -> Iterator[Event]:
    """Yield the events of a trace file, skipping (and counting) bad lines.

    ``start`` and ``limit`` read only the bytes from ``start`` to ``limit`` (both at a
    line start, e.g. offsets a reader kept), not the whole file.

    ``types`` limits the result to those event types; lines of other types are then
    rejected by a substring test before any JSON parsing, which is what makes reading a
    large trace for its failures cheap. ``contains`` likewise skips, unparsed, every line
    holding none of the given byte strings (e.g. :func:`field_marker` of a flow instance);
    the events yielded are only candidates, to be checked field by field. A missing or
    unreadable file yields nothing.
    """
    st = stats if stats is not None else ReadStats()
    markers = _type_markers(types) if types is not None else None
    needles = tuple(contains) if contains is not None else None
    try:
        fh: Any = open_trace(path)
        if start > 0:
            fh.seek(start)
        if limit is not None:
            fh = _Bounded(fh, limit - start)
    except OSError:
        st.skip("unreadable")
        return
    # With a filter, the lines holding one of the wanted strings are found by searching
    # whole chunks (C speed) and only they are cut out: a Python step per line would cost
    # more than the parse of the few that match (1M lines: seconds against tenths).
    # (The one searched for is the shorter list; the other is tested on the lines found.)
    primary = markers
    if needles is not None and (markers is None or len(needles) <= len(markers)):
        primary = needles
    try:
        scan = (primary if primary is not None and all(p and b"\n" not in p for p in primary)
                else None)
        lines = _iter_lines(fh, st) if scan is None else _scan_lines(fh, st, scan)
        # The lines the scan found hold one of ``scan`` already: only the other list is
        # tested on them.
        check_markers = None if scan is markers else markers
        check_needles = None if scan is needles else needles
        for line in lines:
            if not line.strip():
                continue
            if check_markers is not None and not any(m in line for m in check_markers):
                st.lines += 1
                continue
            if check_needles is not None and not any(n in line for n in check_needles):
                st.lines += 1
                continue
            ev = parse_line(line, st)
            if ev is not None:
                yield ev
    except OSError:
        st.skip("unreadable")
    finally:
        fh.close()


#: How far from a known line of a flow instance :func:`instance_span` looks for its start
#: and end (each way): a window read at once, a few milliseconds.
SPAN_REACH = 8 << 20


def instance_span(path: str | os.PathLike[str], instance: str, near: int | None = None,
                  reach: int = SPAN_REACH) -> tuple[int, int | None] | None:
    """The bytes of a trace that hold every event of flow ``instance``: from the start of
    its ``flow_start`` line to the end of its ``flow_end`` line (None: the end of the
    file, it has not ended), given ``near``, where one of its lines starts (a failure's,
    kept by a reader). The runtime writes an instance's events in order, from its start
    to its end, so reading this span (``iter_events(start=, limit=)``) finds all of them.
    None when the start or the end is not within ``reach`` bytes of ``near``, or the
    file cannot be read: the caller reads the whole file. Without ``near``, the start
    line is found by :func:`find_event`."""
    if near is None:
        near = find_event(path, instance)
        if near is None:
            return None
    found = _instance_window(path, instance, near, reach, want_end=True)
    return (found[0], found[1]) if found is not None else None


def instance_start(path: str | os.PathLike[str], instance: str, near: int,
                   reach: int = SPAN_REACH) -> tuple[int, Event] | None:
    """Where flow ``instance``'s ``flow_start`` line starts, and its event, given
    ``near`` as in :func:`instance_span`; None when not within ``reach`` bytes."""
    found = _instance_window(path, instance, near, reach, want_end=False)
    return (found[0], found[2]) if found is not None else None


#: How every line the runtime writes begins, after the newline that ends the one before:
#: its ``id`` right after the schema (docs/trace-format.md), which tells whose line it is
#: without parsing it.
LINE_START = b'\n{"schema":1,"id":"'
_EVENT_ID = re.compile(r"([0-9a-f]{8}-)([0-9]{1,18})\Z")
#: The bisection's probe, widened while it finds no line of the process asked about.
_PROBE = 1 << 14
_PROBE_MAX = 4 << 20
#: Around where the bisection ends, how far the start line is looked for: threads take
#: ids a moment before their events are queued, so ids are in order only nearly.
_SETTLE = 1 << 20


def find_event(path: str | os.PathLike[str], event_id: str) -> int | None:
    """Where the line of event ``event_id`` starts in a trace (a flow instance's
    ``flow_start``, named by the instance), found without an index and without reading the
    file: ids are ``<process prefix>-<seq>``, and one process writes its ids in (nearly)
    increasing order, so the file is bisected on the seq of that process's lines, about 20
    probes of a few KiB for a 1 GB trace (a long stretch of other processes' lines is
    scanned for the next of this one's, never parsed). None when the id is not of that
    form or the line is not found: the caller reads the whole file. :func:`instance_span`
    uses it when given no ``near``."""
    m = _EVENT_ID.match(event_id)
    if m is None:
        return None
    head = LINE_START + m.group(1).encode()
    want = int(m.group(2))
    exact = LINE_START + event_id.encode() + b'"'
    try:
        with open_trace(path) as fh:
            size = fh.seek(0, 2)
            lo, hi = 0, size
            # The start line lies in [lo, hi] (a line may start at ``hi`` itself).
            while hi - lo > _SETTLE:
                mid = (lo + hi) // 2
                found = _seq_after(fh, mid, head, hi)
                if found is None:  # none of the process's lines in [mid, hi]: not there
                    hi = mid
                    continue
                seq, at = found
                if seq < 0:
                    return None
                if seq == want:
                    return at
                if seq < want:
                    lo = at
                elif at < hi:  # before that line (other processes' lines may precede it)
                    hi = at
                else:
                    hi = mid
            # From one byte before, so that a line starting at ``lo`` has its newline.
            lo = max(0, lo - _SETTLE - 1)
            fh.seek(lo)
            window = (b"" if lo else b"\n") + fh.read(min(size, hi + _SETTLE) - lo)
    except OSError:
        return None
    at = window.find(exact)
    if at < 0:
        return None
    return lo + at + (1 if lo else 0)


def _seq_after(fh: BinaryIO, at: int, head: bytes, end: int) -> tuple[int, int] | None:
    """The seq and offset of the first line starting in [``at``, ``end``] that begins
    with ``head`` (a newline, then the id prefix of one process), read in blocks that
    grow up to :data:`_PROBE_MAX` (a stretch of other processes' lines costs a scan,
    never a parse); None when there is none; seq -1 when the line's id is not a seq."""
    probe = _PROBE
    pos = at - 1  # the newline before a line starting at ``at``
    while pos < end:
        n = min(probe, end - pos)
        fh.seek(pos)
        block = fh.read(n + len(head) + 20)  # and the id of a line starting at the end
        i = block.find(head)
        if 0 <= i < n:
            j = i + len(head)
            k = block.find(b'"', j, j + 20)
            seq = int(block[j:k]) if k > j and block[j:k].isdigit() else -1
            return seq, pos + i + 1
        pos += n
        probe = min(probe * 4, _PROBE_MAX)
    return None


def _instance_window(path: str | os.PathLike[str], instance: str, near: int, reach: int,
                     want_end: bool) -> tuple[int, int | None, Event] | None:
    """Start offset, end offset and flow_start event of ``instance`` around ``near``: a
    small window first (an instance is usually short), then ``reach``."""
    needle = field_marker("instance", instance)
    small = min(reach, _TAIL_BLOCK)
    for window in (small, reach) if reach > small else (reach,):
        try:
            with open_trace(path) as fh:
                size = fh.seek(0, 2)
                if not 0 <= near < size:
                    return None
                lo = max(0, near - window)
                fh.seek(lo)
                before = fh.read(near - lo)
                after = fh.read(window)
        except OSError:
            return None
        nl = after.find(b"\n")
        here = _line_event(after[:nl]) if nl > 0 else None  # ``near`` may be the start
        if here is not None and here.get("instance") == instance and \
                here["event_type"] == "flow_start":
            start: tuple[int, Event] | None = (near, here)
        else:
            start = _span_start(before, lo, needle, instance)
        if start is None:
            continue  # not within this window
        end = _span_end(after, needle, instance, near) if want_end else None
        if want_end and end is None and near + len(after) < size:
            continue  # the end may lie beyond the window
        return start[0], end, start[1]
    return None


def _span_start(before: bytes, lo: int, needle: bytes, instance: str
                ) -> tuple[int, Event] | None:
    """The instance's flow_start line in ``before`` (read from file offset ``lo``)."""
    at = before.rfind(needle)
    while at >= 0:
        ls = before.rfind(b"\n", 0, at) + 1
        if ls == 0 and lo > 0:
            return None  # the line may begin before the window
        ev = _line_event(before[ls:before.find(b"\n", at)])
        if ev is not None and ev.get("instance") == instance and \
                ev["event_type"] == "flow_start":
            return lo + ls, ev
        at = before.rfind(needle, 0, ls)
    return None


def _line_event(line: bytes) -> Event | None:
    return parse_line(line) if line else None


def _span_end(after: bytes, needle: bytes, instance: str, near: int) -> int | None:
    """Where the instance's ``flow_end`` line ends in ``after`` (read from ``near``), as a
    file offset; None when it is not there (open, or beyond the window)."""
    at = after.find(needle)
    while at >= 0:
        ls = after.rfind(b"\n", 0, at) + 1
        le = after.find(b"\n", at)
        if le < 0:
            break
        ev = _line_event(after[ls:le])
        if ev is not None and ev.get("instance") == instance and ev["event_type"] == "flow_end":
            return near + le + 1
        at = after.find(needle, le)
    return None


class _Bounded:
    """A binary file read up to a number of bytes (then it reads as ended)."""

    def __init__(self, fh: BinaryIO, left: int) -> None:
        self._fh, self._left = fh, max(left, 0)

    def read(self, n: int) -> bytes:
        data = self._fh.read(min(n, self._left)) if self._left else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._fh.close()


def _scan_lines(fh: Any, stats: ReadStats, wanted: tuple[bytes, ...]) -> Iterator[bytes]:
    """The complete lines of a binary file that hold one of ``wanted`` (non-empty, no
    newline), in file order; the others are counted in ``stats.lines``, never copied."""
    pending = b""
    skipping = False
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            break
        if skipping:  # inside a line longer than any event: it ends at the next newline
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            stats.lines += 1
            stats.skip("too_long")
            skipping = False
            chunk = chunk[nl + 1:]
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
            if len(pending) > MAX_LINE_BYTES:
                pending, skipping = b"", True
            continue
        pending = data[cut + 1:]
        if len(pending) > MAX_LINE_BYTES:
            pending, skipping = b"", True
        found: dict[int, int] = {}  # line start -> line end
        for needle in wanted:
            at = data.find(needle, 0, cut)
            while at >= 0:
                start = data.rfind(b"\n", 0, at) + 1
                end = data.find(b"\n", at, cut)
                end = cut if end < 0 else end
                found[start] = end
                at = data.find(needle, end, cut)
        lines = data.count(b"\n", 0, cut + 1) - data.count(b"\n\n", 0, cut + 1)
        stats.lines += max(0, lines - len(found))
        for start in sorted(found):
            yield data[start:found[start]]
    if pending or skipping:
        # No newline at the end: a run still writing, or a run killed mid-line.
        stats.lines += 1
        stats.skip("truncated")


class FollowResult(Record):
    """What one :meth:`TraceFollower.poll` found."""

    _fields = ("events", "reset", "more", "offsets")
    __slots__ = _fields

    def __init__(self, events: list[Event], reset: bool = False, more: bool = False,
                 offsets: list[int] | None = None) -> None:
        self.events = events
        #: True when the file was replaced, truncated or rotated: earlier events are void.
        self.reset = reset
        #: True when the poll stopped at ``max_read`` bytes and more data is waiting.
        self.more = more
        #: With a ``types`` filter, where each event's line starts in the file (bytes).
        self.offsets: list[int] = [] if offsets is None else offsets


class TraceFollower:
    """Reads a growing trace incrementally, from the offset it last stopped at.

    A partial last line is kept for the next poll. If the file is replaced (new inode),
    truncated, or deleted, the next poll reports ``reset=True`` and starts over, so a
    reader can drop what it derived from the old file.

    ``types`` limits the result to those event types. Lines are then found by searching
    the data for their ``"event_type":"<type>"`` key (keys have a fixed order, so it is
    on every line): only matching lines are cut out and parsed, which makes following a
    large trace for its failures cheap. With ``audit``, the lines skipped unparsed that
    are not events of a known type (junk without the key, unknown types) are counted too,
    at the cost of two more searches of the data. One poll reads at most ``max_read`` bytes
    (``FollowResult.more`` then says to poll again), so following costs bounded memory.

    ``start`` skips the file's first bytes the same way (a reader that has their events
    already, e.g. from a saved aggregate); it must be the start of a line.

    With ``from_end``, what the file holds when the follower is made is skipped: the first
    poll returns only lines completed after that (a line still being written then counts
    as new). :attr:`offset` is where following starts, for a reader that wants the events
    before it (``flowscribe tail -f`` reads the last few backwards from there).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        types: Iterable[str] | None = None,
        max_read: int = 8 * _CHUNK,
        audit: bool = False,
        from_end: bool = False,
        start: int = 0,
    ) -> None:
        self.path = Path(path)
        self.stats = ReadStats()
        self._types = frozenset(types) if types is not None else None
        self._type_re = (
            re.compile(b"|".join(re.escape(m) for m in _type_markers(sorted(self._types))))
            if self._types
            else None
        )
        self._audit = audit
        self._max_read = max(max_read, 1)
        self._offset = 0
        self._ino: int | None = None
        self._partial = b""
        self._skipping = False  # inside a line longer than MAX_LINE_BYTES
        self._irregular = False  # the path is not a regular file (counted once)
        if from_end:
            self._start_at_end()
        elif start > 0:
            self._start_at(start)

    @property
    def offset(self) -> int:
        """How far into the file the follower has read."""
        return self._offset

    def _start_at_end(self) -> None:
        """Start after the file's last newline (its end, when it ends with one). A file
        that is missing, unreadable or not a regular file is followed from its start."""
        try:
            st = os.stat(self.path)
            if not stat.S_ISREG(st.st_mode):
                return
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                pos = end = st.st_size
                start = 0  # where the unfinished last line begins
                while pos > 0 and end - pos <= MAX_LINE_BYTES:
                    step = min(_TAIL_BLOCK, pos)
                    pos -= step
                    fh.seek(pos)
                    nl = fh.read(step).rfind(b"\n")
                    if nl >= 0:
                        start = pos + nl + 1
                        break
                else:
                    start = pos  # no newline that close to the end
            if end - start > MAX_LINE_BYTES:  # longer than any event: skip it as poll would
                self._offset, self._skipping = end, True
            else:
                self._offset = start
        except OSError:
            self._restart()
            return
        self._ino = st.st_ino

    def _start_at(self, start: int) -> None:
        """Start at byte ``start`` (a line's start: what comes before it was read some
        other way). A file shorter than that, or gone, is followed from its start."""
        try:
            st = os.stat(self.path)
        except OSError:
            return
        if stat.S_ISREG(st.st_mode) and st.st_size >= start:
            self._offset, self._ino = start, st.st_ino

    def _restart(self) -> None:
        self._offset, self._partial, self._skipping = 0, b"", False

    def poll(self) -> FollowResult:
        """Return the complete events appended since the last poll."""
        reset = False
        try:
            st = os.stat(self.path)
        except OSError:
            if self._ino is not None:
                self._ino = None
                self._restart()
                return FollowResult([], reset=True)
            return FollowResult([])
        if not stat.S_ISREG(st.st_mode):
            # A FIFO or a device in place of the trace would block reads or never end.
            if not self._irregular:
                self._irregular = True
                self.stats.skip("unreadable")
            return FollowResult([])
        self._irregular = False
        if self._ino is not None and (st.st_ino != self._ino or st.st_size < self._offset):
            reset = True
            self._restart()
        self._ino = st.st_ino
        if st.st_size == self._offset:
            return FollowResult([], reset=reset)
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read(self._max_read)
        except OSError:
            self.stats.skip("unreadable")
            return FollowResult([], reset=reset)
        base = self._offset
        first_at = base - len(self._partial)  # where a kept partial line started
        self._offset += len(data)
        more = self._offset < st.st_size
        first, lo, hi = self._complete(data)
        where: list[int] = []
        if self._types is None:
            lines = [first] if first is not None else []
            if hi > lo:
                lines += data[lo:hi].split(b"\n")
        else:
            lines = self._matching_lines(first, data, lo, hi, where)
        events = []
        offsets = []
        for n, line in enumerate(lines):
            if not line.strip():
                continue
            ev = parse_line(line, self.stats)
            if ev is None:
                continue
            if self._types is not None and ev["event_type"] not in self._types:
                self.stats.events -= 1  # the key matched inside a value, not the event's
                continue
            events.append(ev)
            if where:
                offsets.append(first_at if where[n] < 0 else base + where[n])
        return FollowResult(events, reset=reset, more=more, offsets=offsets)

    def _matching_lines(self, first: bytes | None, data: bytes, lo: int, hi: int,
                        where: list[int]) -> list[bytes]:
        """The complete lines (``first``, then ``data[lo:hi]``) holding a wanted type key,
        each once; the others are counted, never copied or parsed. ``where`` gets each
        line's start in ``data`` (-1: ``first``, which began before it)."""
        pattern = self._type_re
        assert pattern is not None
        found = []
        if first is not None:
            if pattern.search(first):
                found.append(first)
                where.append(-1)
            else:
                self.stats.lines += 1
                if self._audit and first.strip() and _TYPE_KEY not in first:
                    self.stats.skip("malformed")
        if hi <= lo:
            return found
        end = -1
        matched = 0
        for m in pattern.finditer(data, lo, hi):
            if m.start() < end:
                continue  # a second hit on a line already taken
            nl = data.rfind(b"\n", lo, m.start())
            start = lo if nl < 0 else nl + 1
            end = data.find(b"\n", m.end(), hi)
            if end < 0:
                end = hi
            found.append(data[start:end])
            where.append(start)
            matched += 1
        # parse_line counts the lines it is given; count the ones left unparsed.
        lines = data.count(b"\n", lo, hi) + 1
        self.stats.lines += lines - matched
        if self._audit:
            # Every event line holds the key once: lines without it are junk or cut.
            junk = lines - data.count(_TYPE_KEY, lo, hi) - data.count(b"\n\n", lo, hi)
            unknown = len(_UNKNOWN_TYPE.findall(data, lo, hi))
            for why, n in (("malformed", junk), ("unknown_event_type", unknown)):
                if n > 0:
                    self.stats.skipped[why] = self.stats.skipped.get(why, 0) + n
        return found

    def _complete(self, data: bytes) -> tuple[bytes | None, int, int]:
        """Split new ``data`` into the complete lines it finishes: the line that the kept
        partial line continues (or None), and the range ``data[lo:hi]`` of whole lines
        (newline-separated, no final newline). The unfinished rest is kept."""
        cut = data.rfind(b"\n")
        if cut < 0:
            if not self._skipping:
                self._partial += data
                if len(self._partial) > MAX_LINE_BYTES:
                    self._partial, self._skipping = b"", True
            return None, 0, 0
        nl = data.find(b"\n")
        first: bytes | None = None
        lo = nl + 1
        if self._skipping:  # the over-long line ends at the first newline
            self.stats.lines += 1
            self.stats.skip("too_long")
            self._skipping = False
        elif self._partial:
            first = self._partial + data[:nl]
        else:
            lo = 0
        rest = data[cut + 1 :]
        self._partial = b""
        if len(rest) > MAX_LINE_BYTES:
            self._skipping = True
        else:
            self._partial = rest
        return first, lo, cut
