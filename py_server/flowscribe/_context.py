"""The current flow, and carrying it to where work continues.

The enclosing flow is kept in a :class:`contextvars.ContextVar`, so it follows the code:

* **asyncio tasks** copy the context when created, so a task started inside a flow sees
  that flow as its parent without anything to do.
* **threads** start with an empty context. Carry it explicitly::

      threading.Thread(target=flowscribe.wrap(work)).start()
      pool.submit(flowscribe.wrap(work), arg)                  # ThreadPoolExecutor
      ctx = flowscribe.copy_context(); pool.submit(ctx.run, work, arg)

  :func:`wrap` takes a snapshot of the context when it is called and runs the function in
  a fresh copy of that snapshot each time, so one wrapped function may run in many worker
  threads at once.
* **child processes** join the parent's run through environment variables that the
  session sets in ``os.environ`` when it starts (inherited by ``subprocess`` and by
  ``multiprocessing`` children, forked or spawned): ``FLOWSCRIBE_RUN_ID`` (the run),
  ``FLOWSCRIBE_ROOT`` (the project root, so a child started elsewhere writes into the same
  ``.autodev/``) and ``FLOWSCRIBE_RUN_PID`` (the process that owns the run, which writes
  the end-of-run artifacts). To make a child's top-level flows children of the current
  flow, start it with ``env=flowscribe.child_env()``, which adds ``FLOWSCRIBE_PARENT``.
  A forked child also inherits the current flow directly.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

    from .core import Flow

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "ENV_PARENT",
    "ENV_ROOT",
    "ENV_RUN_ID",
    "ENV_RUN_PID",
    "child_env",
    "copy_context",
    "current_flow",
    "wrap",
]

ENV_RUN_ID = "FLOWSCRIBE_RUN_ID"
ENV_ROOT = "FLOWSCRIBE_ROOT"
ENV_RUN_PID = "FLOWSCRIBE_RUN_PID"
#: "<instance>|<flow_id>" of the flow a child's top-level flows descend from.
ENV_PARENT = "FLOWSCRIBE_PARENT"

CURRENT: contextvars.ContextVar[Flow | None] = contextvars.ContextVar(
    "flowscribe_current_flow", default=None
)

copy_context = contextvars.copy_context

#: Correlation every flow started in this process gets, whatever its thread: the pytest
#: plugin puts the running test's node id here (``flowscribe.testing``). Changed in place,
#: never rebound (``_flow`` holds it). Empty outside tests.
AMBIENT: dict[str, Any] = {}


def current_flow() -> Flow | None:
    """The innermost flow entered in this context (thread or task), or None."""
    return CURRENT.get()


def wrap(fn: F) -> F:
    """Bind ``fn`` to the current context, so the flow open here is its parent elsewhere.

    Use it for functions handed to threads and executors. Each call runs in its own copy of
    the captured context, so concurrent calls do not collide.
    """
    snapshot = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_context(*args: Any, **kwargs: Any) -> Any:
        return snapshot.copy().run(fn, *args, **kwargs)

    return run_in_context  # type: ignore[return-value]


def child_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child process that should join this run under the current flow.

    ``subprocess.run(cmd, env=flowscribe.child_env())``. The run variables are already in
    ``os.environ`` while a session is open; this adds ``FLOWSCRIBE_PARENT``.
    """
    env = dict(os.environ if base is None else base)
    flow = CURRENT.get()
    instance = getattr(flow, "instance", None)
    if flow is not None and instance:
        env[ENV_PARENT] = f"{instance}|{flow.flow_id}"
    return env
