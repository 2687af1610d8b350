"""Stopping the app with a signal writes the run's artifacts, and changes nothing else.

``docker stop``, systemd and Kubernetes stop a program with SIGTERM, a terminal closing
sends SIGHUP: their default action kills the process on the spot, with no ``atexit``, so
the run would end with its trace and no ``summary.md``/``ask.md``. :func:`install` (at
the first session start, in the main thread: Python runs handlers only there) takes over
TERM and HUP where they still have their default action, and wraps a handler the app
installed before tracing started:

* default action: end every live session (flush, summary, artifacts), put the default
  back and send the signal again, so the process dies of it exactly as it would have
  (status -15 / 143 for TERM). A session whose end is already under way (the signal
  interrupted it) is skipped rather than waited for: the interrupted end holds its lock.
* the app's own handler: the run so far is flushed and its artifacts written, then the
  app's handler runs. The session stays open, because that handler may well not exit (a
  HUP that reloads the config); when it does exit, the normal end writes them again.
* ignored (``SIG_IGN``): left alone.

SIGINT's default handler (``KeyboardInterrupt``) is wrapped like an app's: an app that
catches the interrupt keeps a live session, and one that does not ends through
``sys.excepthook`` and ``atexit`` as before. Writing first matters there too: Python
exits of an uncaught KeyboardInterrupt by SIGINT (status -2 / 130) unless modules are
first imported on the way out, which writing the artifacts then would do.
A handler the app installs *after* tracing started simply replaces ours, as it would
replace the default: the app then decides how it stops (gunicorn's and uvicorn's workers
do, and end the run through ``atexit``; uvicorn re-sends the signal to the handler it
found, ours). ``artifacts.on_signal: false`` in ``ra.yaml`` turns all of this off.

One limit is CPython's, not ours: a Python handler runs when the main thread is next in
the interpreter, and a signal landing in the instant before the main thread blocks in a
lock or a C call leaves it asleep there (the default action would have killed the
process at once). A pool's workers meet that instant all the time, as the pool
terminates them while they go back to wait for a task: they keep the default action.
"""

from __future__ import annotations

import os
import signal
import threading

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any, Callable

__all__ = ["install", "leave_to_default", "start_quiet"]

#: The signals that stop a program by default (those the platform has).
_STOPPING = tuple(
    sig for sig in (getattr(signal, n, None) for n in ("SIGTERM", "SIGHUP")) if sig is not None
)
_INT = signal.SIGINT

#: Signals already taken over in this process (a forked child inherits them, as it
#: inherits the handlers).
_done: set[int] = set()
#: Our own handlers for signals whose default action we replaced.
_ours: dict[int, Callable[[int, FrameType | None], None]] = {}


def install(end_all: Callable[[], None], write_so_far: Callable[[], None]) -> None:
    """Take over the stopping signals, once per process, from the main thread only.

    ``end_all`` ends every live session; ``write_so_far`` flushes them and writes the
    artifacts of the run so far. Neither may raise (both are the lifecycle's safe loops).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (*_STOPPING, _INT):
        if sig in _done:
            continue
        _done.add(sig)
        try:
            previous = signal.getsignal(sig)
            if callable(previous):  # the app's, or SIGINT's default_int_handler
                signal.signal(sig, _chained(previous, write_so_far))
            elif previous == signal.SIG_DFL and sig != _INT:
                _ours[sig] = _ending(end_all)
                signal.signal(sig, _ours[sig])
            # SIG_IGN, None (a handler not set from Python): left alone.
        except (OSError, RuntimeError, ValueError):
            pass  # not settable here (embedded interpreter, odd platform): nothing lost


def _ending(end_all: Callable[[], None]) -> Callable[[int, FrameType | None], None]:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        try:
            end_all()
        finally:
            # Die of the signal itself, as without flowscribe: the parent sees the same
            # status (a shell 128+N, subprocess -N), and nothing is swallowed.
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    return on_signal


def _chained(
    previous: Callable[[int, FrameType | None], Any], write_so_far: Callable[[], None]
) -> Callable[[int, FrameType | None], Any]:
    def on_signal(signum: int, frame: FrameType | None) -> Any:
        try:  # noqa: SIM105 - contextlib costs import time
            write_so_far()
        except Exception:
            pass  # the app's handler runs whatever happened to ours
        return previous(signum, frame)

    return on_signal


def leave_to_default() -> None:
    """Give the default action back where we replaced it, and take over nothing more
    (in a pool's worker: ``_children.in_pool_worker`` says why)."""
    _done.update((*_STOPPING, _INT))
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, ours in list(_ours.items()):
        try:
            if signal.getsignal(sig) is ours:
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, RuntimeError, ValueError):
            pass


def start_quiet(thread: threading.Thread) -> None:
    """Start one of flowscribe's own threads with the stopping signals blocked in it, so
    the kernel hands them to a thread of the app, ideally the main one, where Python runs
    the handler. A signal delivered to our thread instead would only set a flag for a
    main thread that may be asleep in a lock, and the app would neither stop nor write."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # Windows: no signal masks, nothing to do
        thread.start()
        return
    old = mask(signal.SIG_BLOCK, (*_STOPPING, _INT))  # the new thread inherits the mask
    try:
        thread.start()
    finally:
        mask(signal.SIG_SETMASK, old)
