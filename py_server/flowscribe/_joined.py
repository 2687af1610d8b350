"""What the run's other processes wrote, folded into the owner's run state at its end.

Child processes that joined the run (``subprocess``, ``multiprocessing``, a fork) append to
the owner's trace, but only the owner writes the summary. The owner's state already holds
every event it recorded itself (it is a sink of its own writer), so only the lines of the
other processes are parsed and folded in; re-reading the whole trace cost seconds at the
end of a long run (9.2 s for 1M events), this costs a scan of the bytes.

A line is the owner's when it begins with the owner's event-id prefix: the trace writes
``schema`` then ``id`` first, and an id starts with 8 hex digits drawn at random per
process, so ``{"schema":1,"id":"<prefix>-`` at the start of a line tells without parsing.
Counting those starts per block of lines (bytes ``count``, in C, in place) skips every
block that holds no other process's line, which is nearly all of a long run.
"""

from __future__ import annotations

from ._warn import warn_once
from .trace import LINE_START  # loaded with the session already: no import at exit

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any

    from ._finish import _RunState

__all__ = ["fold_other_processes"]

_BLOCK = 1 << 22


def fold_other_processes(
    state: _RunState,
    path: str,
    start: int,
    run_id: str,
    own_prefix: str,
    ranges: list[tuple[int, int]] | None = None,
) -> int | None:
    """Fold into ``state`` the events of run ``run_id`` that other processes wrote to
    ``path`` from byte ``start``; ``own_prefix`` is this process's event-id prefix
    (``"1a2b3c4d-"``); ``ranges``, when known (``AppendFile.others_wrote``), are the only
    byte ranges others wrote, and nothing else is read. Returns how many were folded, or
    None when the file cannot be read (warned once). The run's last events (ask.md's
    tail) are kept in time order."""
    from .trace import parse_line  # lazily: only a run that children joined reads back

    own = LINE_START + own_prefix.encode("ascii", "replace")
    run_key = b'"run_id":"' + run_id.encode("ascii", "replace") + b'"'
    tail = state.tail
    own_tail = list(tail)
    tail.clear()  # state.add appends what it folds; merged with the owner's below
    folded = 0

    def fold(line: bytes) -> None:
        nonlocal folded
        if not line or line.startswith(own[1:]) or run_key not in line:
            return
        ev = parse_line(line)
        if ev is not None and ev.get("run_id") == run_id:
            state.add(ev)
            folded += 1

    try:
        with open(path, "rb") as fh:
            for begin, end in [(start, -1)] if ranges is None else ranges:
                fh.seek(begin)
                left = end - begin  # bytes of the range still to read; -1: to the end
                carry = b""  # the start of a line the last block cut
                while left:
                    block = fh.read(_BLOCK if left < 0 else min(_BLOCK, left))
                    if not block:
                        break
                    if left > 0:
                        left -= len(block)
                    first = block.find(b"\n")
                    if first < 0:  # no line ends in this block
                        carry += block
                        continue
                    last = block.rfind(b"\n")
                    fold(carry + block[:first])
                    carry = block[last + 1:]
                    # Whole lines lie between the first and the last newline; counted in
                    # place (no copy): as many line starts as the owner's means none other.
                    if block.count(own, first, last) != block.count(LINE_START, first, last):
                        for line in block[first + 1:last].split(b"\n"):
                            fold(line)
                fold(carry)  # a last line without its newline: a writer still busy, or torn
    except OSError as exc:
        warn_once("reaggregate", f"could not read {path} ({exc}); other processes' "
                  "events are missing from the summary")
        return None
    finally:
        merged = own_tail + list(tail)
        merged.sort(key=_ts)
        tail.clear()
        tail.extend(merged[-(tail.maxlen or 1):])
    return folded


def _ts(ev: dict[str, Any]) -> float:
    ts = ev.get("ts")
    return float(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) else 0.0
