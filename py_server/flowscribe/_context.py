"""The current flow, and carrying it to where work continues.

The enclosing flow is kept in a :class:`contextvars.ContextVar`, so it follows the code:

* **asyncio tasks** copy the context when created, so a task started inside a flow sees
  that flow as its parent without anything to do.
* **threads** start with an empty context. Carry it explicitly::

      threading.Thread(target=flowscribe.wrap(work)).start()
      flowscribe.submit(pool, work, arg)                       # ThreadPoolExecutor
      pool.submit(flowscribe.wrap(work), arg)                  # the same
      pool.submit(flowscribe.copy_context().run, work, arg)    # a fresh copy per submit

  A context can be entered by one thread at a time: one ``copy_context()`` reused for
  several submits fails ("cannot enter context: ... is already entered") as soon as two
  of them run at once. :func:`wrap` takes a snapshot when it is called and runs the
  function in a fresh copy of it each time, so one wrapped function may run in many
  worker threads at once. Executors are not patched to carry it by themselves: that would
  carry every library's context variables into every pool of the app, not only ours.
* **child processes** join the parent's run through environment variables that the
  session sets in ``os.environ`` when it starts (inherited by ``subprocess`` and by
  ``multiprocessing`` children, forked or spawned): ``FLOWSCRIBE_RUN_ID`` (the run),
  ``FLOWSCRIBE_ROOT`` (the project root, so a child started elsewhere writes into the same
  ``.autodev/``) and ``FLOWSCRIBE_RUN_PID`` (the process that owns the run, which writes
  the end-of-run artifacts). To make a child's top-level flows children of the current
  flow, start it with ``env=flowscribe.child_env()``, which adds ``FLOWSCRIBE_PARENT``.
* **multiprocessing children** (``Process``, ``Pool``, ``ProcessPoolExecutor``; every
  start method) descend from the flow that was current where they were started, with
  nothing to pass: a forked child inherits it with the memory, a spawned or forkserver
  one through multiprocessing's per-process config, which every child copies and gets
  pickled at its start (:class:`_ParentAtStart`). A pool's workers start when the pool is
  made (``ProcessPoolExecutor``: at the submits that need them), so a pool made inside a
  flow has its tasks' flows as that flow's children. It needs ``multiprocessing`` imported
  before the session starts (an import at the top of the module does it).
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
from collections.abc import Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from concurrent.futures import Executor, Future
    from typing import Any, Callable, TypeVar

    from .core import Flow

    F = TypeVar("F", bound=Callable[..., Any])
    T = TypeVar("T")

__all__ = [
    "ENV_PARENT",
    "ENV_ROOT",
    "ENV_RUN_ID",
    "ENV_RUN_PID",
    "carry_into_processes",
    "child_env",
    "copy_context",
    "current_flow",
    "parent_at_start",
    "submit",
    "wrap",
]

ENV_RUN_ID = "FLOWSCRIBE_RUN_ID"
ENV_ROOT = "FLOWSCRIBE_ROOT"
ENV_RUN_PID = "FLOWSCRIBE_RUN_PID"
#: "<instance>|<flow_id>" of the flow a child's top-level flows descend from.
ENV_PARENT = "FLOWSCRIBE_PARENT"
#: The same, in multiprocessing's per-process config (``_ParentAtStart``).
MP_PARENT = "flowscribe_parent"

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


def submit(pool: Executor, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
    """``pool.submit(fn, *args, **kwargs)`` with the current flow carried along: the task
    runs in a fresh copy of this context (a thread pool), so its flows are children of
    the flow open here. Other executors (a process pool, whose workers carry the flow
    they were started in) get the call as it is."""
    from concurrent.futures import ThreadPoolExecutor

    if isinstance(pool, ThreadPoolExecutor):
        return pool.submit(contextvars.copy_context().run, fn, *args, **kwargs)
    return pool.submit(fn, *args, **kwargs)


def _parent_ref() -> str:
    """``<instance>|<flow_id>`` of the current flow, or "" outside flows."""
    flow = CURRENT.get()
    instance = getattr(flow, "instance", None)
    return f"{instance}|{flow.flow_id}" if flow is not None and instance else ""


class _ParentAtStart:
    """Held in multiprocessing's config of this process (``current_process()._config``,
    which every ``Process`` copies and which spawn and forkserver pickle with it when it
    starts, in the thread that starts it): pickled, it is the current flow's reference."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (str, (_parent_ref(),))


def _mp_config() -> dict[str, Any] | None:
    process = sys.modules.get("multiprocessing.process")
    config = getattr(getattr(process, "_current_process", None), "_config", None)
    return config if isinstance(config, dict) else None


def carry_into_processes() -> None:
    """Have the multiprocessing children started from now on carry the flow current where
    they start (see the module's doc). Nothing to do before ``multiprocessing`` is
    imported; never imports it (its import costs ~10 ms)."""
    config = _mp_config()
    if config is not None and not isinstance(config.get(MP_PARENT), _ParentAtStart):
        config[MP_PARENT] = _ParentAtStart()


def parent_at_start() -> str | None:
    """In a spawned or forkserver multiprocessing child: the ``<instance>|<flow_id>``
    current where it was started (None when none was, or in another kind of process)."""
    config = _mp_config()
    value = config.get(MP_PARENT) if config is not None else None
    return value if isinstance(value, str) and value else None


def child_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a child process that should join this run under the current flow.

    ``subprocess.run(cmd, env=flowscribe.child_env())``. The run variables are already in
    ``os.environ`` while a session is open; this adds ``FLOWSCRIBE_PARENT``.
    """
    env = dict(os.environ if base is None else base)
    parent = _parent_ref()
    if parent:
        env[ENV_PARENT] = parent
    return env
