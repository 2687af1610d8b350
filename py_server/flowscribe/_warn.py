"""One warning per problem on stderr: how flowscribe reports trouble without raising.

The host application must never fail because of its tracing, and a broken disk must not
turn into a million identical lines either, so each problem (named by ``key``) is told
once per process.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["reset_warnings", "warn_once"]

_seen: set[str] = set()
_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # A fork taken while another thread held the lock would leave the child's copy held.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_new_lock_in_child)


def warn_once(key: str, message: str) -> bool:
    """Write ``flowscribe: <message>`` to stderr unless ``key`` was already reported.

    Returns True when the warning was written. Never raises.
    """
    with _lock:
        if key in _seen:
            return False
        _seen.add(key)
    try:
        sys.stderr.write(f"flowscribe: {message}\n")
        sys.stderr.flush()
    except Exception:
        pass
    return True


def reset_warnings() -> None:
    """Forget which problems were reported (tests; a new session after a fix)."""
    with _lock:
        _seen.clear()
