"""The process-wide parts: live sessions, the default session, and the hooks that end runs.

Every session that starts registers here. The first one (or the one :func:`flowscribe.init`
starts) is the default session the module-level API records into. Hooks installed with
the first session end every live session at exit (``atexit``, and multiprocessing's own
exit hook in its forked children, which skip ``atexit``) and when a signal stops the
process (``_signals.py``), write the artifacts when an exception is not caught
(``sys.excepthook``, ``threading.excepthook``), and hand a forked child its own ids and
locks. These are the only places flowscribe touches process state, so they are kept
apart from the session's own code; sessions are reached only through their public methods
and attributes (``after_fork``, ``ending``, ``recorder``), and ``core.py`` imports this
module, never the other way round.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from types import TracebackType

# Imported first for its side effect: the writers' fork hook is registered before ours,
# so in a forked child a session finds its writer's fresh queue (hooks run in order).
from . import _writer
from ._event import _EXC_ATTR

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable

    from .core import Session

_sessions: weakref.WeakSet[Session] = weakref.WeakSet()
#: The default session (see ``core.get_session``); None until one starts.
default: Session | None = None
_default_lock = threading.RLock()
_hooks_installed = False
#: The main thread ended with an uncaught KeyboardInterrupt (see _keep_interrupt_status).
_interrupted = False
#: flowscribe.testing (the pytest plugin): what starts the default session when none is
#: open (a test run), and in-memory listeners every session started from now on also
#: feeds. None and empty outside tests.
default_factory: Callable[[], Session] | None = None
taps: list[_writer.Sink] = []


def register(session: Session) -> None:
    """A session started: end it at exit, and make it the default if there is none."""
    global default
    _sessions.add(session)
    with _default_lock:
        if default is None or default.closed:
            default = session
    _install_hooks()
    cfg = session.config
    if cfg is not None and cfg.artifacts.on_signal:
        from . import _children, _signals

        if _children.in_pool_worker():
            _signals.leave_to_default()
        else:
            _signals.install(_end_all_for_signal, _write_all_so_far)


def unregister(session: Session) -> None:
    """A session ended: the hooks forget it."""
    _sessions.discard(session)


def start_default(start: Callable[[], Session]) -> Session:
    """The default session, started with ``start()`` if there is none yet."""
    global default
    with _default_lock:
        if default is None:
            # An inactive session (tracing off) is kept too, so it is asked only once.
            default = (default_factory or start)()
        return default


def replace_default(start: Callable[[], Session]) -> Session:
    """End the default session, if one is open, and make ``start()`` the default."""
    global default
    with _default_lock:
        old = default
        default = None
        if old is not None:
            old.end_session()
        session = start()
        default = session
        return session


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(end_all)
    previous = sys.excepthook

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        global _interrupted
        # Not in the REPL: there the next statement clears CPython's flag again.
        _interrupted = isinstance(exc, KeyboardInterrupt) and not (
            sys.flags.interactive or hasattr(sys, "ps1")
        )
        _unhandled(exc, tb, main=True)
        previous(exc_type, exc, tb)

    sys.excepthook = excepthook
    previous_thread_hook = threading.excepthook

    def thread_excepthook(args: Any) -> None:
        if args.exc_value is not None:
            _unhandled(args.exc_value, args.exc_traceback, main=False)
        previous_thread_hook(args)

    threading.excepthook = thread_excepthook


def _unhandled(exc: BaseException, tb: TracebackType | None, main: bool) -> None:
    """An exception nobody caught: every live session of this process records it (unless
    a flow already did), then ends (the main thread) or writes its run so far (a thread:
    the app goes on)."""
    for session in list(_sessions):
        try:
            if not session.active or session.closed or session.recorder.pid != os.getpid():
                continue
            if isinstance(exc, Exception) and getattr(exc, _EXC_ATTR, None) is None:
                session.recorder.record_exception(None, exc, tb, None, "critical", None, None)
            if main:
                session.end_session()
            else:
                session.write_so_far()
        except Exception:
            pass


def end_all() -> None:
    """End every live session (at exit)."""
    for session in list(_sessions):
        try:  # noqa: SIM105 - contextlib costs import time
            session.end_session()
        except Exception:
            pass
    if _interrupted:
        _keep_interrupt_status()


def _keep_interrupt_status() -> None:
    """Let the process still die of SIGINT (status 130) after an uncaught KeyboardInterrupt.

    CPython remembers that the main module ended that way in a flag it checks after the
    atexit hooks, and clears it whenever it runs source text with ``exec`` or ``eval``:
    ending a run imports modules whose dataclasses are made that way, so the process
    would exit 1. Running source that raises KeyboardInterrupt sets the flag again, by
    the same rule that set it the first time.
    """
    try:  # noqa: SIM105 - contextlib costs import time
        exec("raise KeyboardInterrupt")
    except KeyboardInterrupt:
        pass


def _end_all_for_signal() -> None:
    """End every live session whose end is not already under way (a signal handler
    must not wait for an end it interrupted)."""
    for session in list(_sessions):
        try:
            if not session.ending:  # a signal may have interrupted that very end,
                session.end_session()  # whose lock it would wait for forever
        except Exception:
            pass


def _write_all_so_far() -> None:
    """Flush every live session and write the artifacts of its run so far."""
    for session in list(_sessions):
        try:  # noqa: SIM105 - contextlib costs import time
            session.write_so_far()
        except Exception:
            pass


def _after_fork_child() -> None:
    global _default_lock
    _default_lock = threading.RLock()
    for session in list(_sessions):
        session.after_fork()
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None and _sessions:
        # multiprocessing's forked children leave through os._exit, skipping atexit:
        # have its own exit hook flush ours. Registered through its after-fork hooks
        # because it clears its finalizers when the child starts.
        mp_util.register_after_fork(_after_fork_token, _register_mp_finalizer)


class _Token:
    """A weak-referenceable object for multiprocessing.util.register_after_fork."""


_after_fork_token = _Token()


def _register_mp_finalizer(_: object) -> None:
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        mp_util.Finalize(None, end_all, exitpriority=100)
    for session in list(_sessions):
        session.recorder.flush_ends = True  # each flow_end written at once from now
    from . import _children, _signals

    if _children.in_pool_worker():
        _signals.leave_to_default()


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_child)
