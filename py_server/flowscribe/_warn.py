"""One warning per problem on stderr, and a bounded number per kind: how flowscribe reports
trouble without raising.

The host application must never fail because of its tracing, and a broken disk or a loop
recording 2,000 odd severities must not turn into thousands of lines either: each problem
(named by ``key``) is told once per process, and of each *kind* of problem (the key's part
before the first ``:``, e.g. ``severity`` in ``severity:urgent``) only the first
:data:`MAX_PER_KIND` are told. How many more were held back is said once, at exit, and
in the run's ``summary`` event and summary.md (:func:`suppressed`).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

__all__ = ["MAX_PER_KIND", "report_suppressed", "reset_warnings", "suppressed", "warn_once"]

MAX_PER_KIND = 5
#: Config and catalog problems are each one line of a file the user is fixing: more of
#: them are worth showing (a file with thousands of errors still stops at this).
_LIMITS = {"config": 50, "catalog": 50}

_seen: set[str] = set()
_shown: dict[str, int] = {}
_held: dict[str, int] = {}
_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # A fork taken while another thread held the lock would leave the child's copy held.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_new_lock_in_child)


def _write(line: str) -> None:
    try:
        sys.stderr.write(f"flowscribe: {line}\n")
        sys.stderr.flush()
    except Exception:
        pass


def warn_once(key: str, message: str) -> bool:
    """Write ``flowscribe: <message>`` to stderr unless ``key`` was already reported or its
    kind already had :data:`MAX_PER_KIND` warnings. Returns True when it was written.
    Never raises."""
    kind = key.split(":", 1)[0]
    with _lock:
        if key in _seen:
            return False
        _seen.add(key)
        shown = _shown.get(kind, 0)
        if shown >= _LIMITS.get(kind, MAX_PER_KIND):
            _held[kind] = _held.get(kind, 0) + 1
            return False
        _shown[kind] = shown + 1
    _write(message)
    return True


def suppressed() -> dict[str, int]:
    """Warnings held back so far in this process, by kind (``{"severity": 1995}``); the
    end of a run records them in its summary event."""
    with _lock:
        return dict(_held)


def report_suppressed() -> None:
    """Say how many warnings of each kind were held back (at exit; once)."""
    with _lock:
        held = dict(_held)
        _held.clear()
    for kind, count in sorted(held.items()):
        _write(f"{count} more {kind!r} warning{'s' if count != 1 else ''} not shown "
               f"(the first {_LIMITS.get(kind, MAX_PER_KIND)} were)")


def reset_warnings() -> None:
    """Forget which problems were reported (tests; a new session after a fix)."""
    with _lock:
        _seen.clear()
        _shown.clear()
        _held.clear()


atexit.register(report_suppressed)
