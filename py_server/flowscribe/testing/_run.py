"""A pytest session's run: a :class:`~flowscribe.core.Session` that the tests cannot end.

It is a test run (``Session.test_run``): its own run folder, marked as such, and nothing
else (``latest``, the top-level artifacts and the configured sinks stay the app's). Only
the plugin ends it (:meth:`TestRun.finish`): ``flowscribe.init()`` or ``end_session()``
called by a test, or a test suite's own clean-up ending every session, would otherwise
stop the recording for the rest of the suite. It does not leave its run in ``os.environ``:
an app a test starts as a subprocess runs as it runs outside pytest; pytest-xdist's
workers join it through :func:`join`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._children import restore_env
from .._context import ENV_ROOT, ENV_RUN_ID, ENV_RUN_PID
from ..core import Session

__all__ = ["TestRun", "join"]


class TestRun(Session):
    """The run of one pytest session (mode ``test``); ended by :meth:`finish` only."""

    __test__ = False  # a class named Test*: not one of pytest's test classes
    test_run = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._finishing = False
        self._made_in = os.getpid()
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _start(self, root: str | os.PathLike[str] | None, run_id: str | None) -> None:
        super()._start(root, run_id)
        self._restore_env()  # children of the tests are not this run's (see the module doc)

    def end_session(self) -> None:
        """Ignored: the plugin ends the run (:meth:`finish`). In a forked child it flushes
        that process's events, as any session's end does there."""
        if self._finishing or os.getpid() != self._made_in:
            super().end_session()

    def finish(self) -> None:
        """End the run: its summary, and summary.md/ask.md in its run folder."""
        self._finishing = True
        super().end_session()


def join(run_id: str, root: Path, owner_pid: int, app_name: str) -> TestRun:
    """A session of an xdist worker that joins the controller's run ``run_id``."""
    saved = {k: os.environ.get(k) for k in (ENV_RUN_ID, ENV_ROOT, ENV_RUN_PID)}
    os.environ.update({ENV_RUN_ID: run_id, ENV_ROOT: str(root), ENV_RUN_PID: str(owner_pid)})
    try:
        return TestRun(app_name, "test", root=root)
    finally:
        restore_env(saved)
