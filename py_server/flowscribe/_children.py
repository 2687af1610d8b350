"""Child processes joining a run: what the environment says, and what a run puts there.

The process that owns a run exports ``FLOWSCRIBE_RUN_ID``, ``FLOWSCRIBE_ROOT`` and
``FLOWSCRIBE_RUN_PID`` into ``os.environ`` while its session is open (and restores them when
it ends); a process started from it, forked or spawned, finds them there and joins the
same run and trace instead of starting one. ``FLOWSCRIBE_PARENT`` (set by
``flowscribe.child_env()``) names the flow a child's top-level flows descend from. The
variables' names and the user-facing side are in ``_context.py``; this module is the
session's side: reading them at start, writing and restoring them.
"""

from __future__ import annotations

import os
import sys

from ._context import (
    ENV_PARENT,
    ENV_ROOT,
    ENV_RUN_ID,
    ENV_RUN_PID,
    carry_into_processes,
    parent_at_start,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping


def joining(env: Mapping[str, str], run_id: str | None) -> bool:
    """True in a child of a traced process: a run owned by another process is in the
    environment, and no run id was asked for."""
    return (
        run_id is None
        and bool(env.get(ENV_RUN_ID))
        and env.get(ENV_RUN_PID) != str(os.getpid())
    )


def joined_root(env: Mapping[str, str]) -> str | None:
    """The project root of the run being joined, if the environment names one."""
    return env.get(ENV_ROOT) or None


def joined_run_id(env: Mapping[str, str]) -> str:
    """The id of the run being joined (call only when :func:`joining` said so)."""
    return env[ENV_RUN_ID]


def joined_parent(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(instance, flow id) of the flow the child's top-level flows descend from: the one
    current where multiprocessing started this process, else ``FLOWSCRIBE_PARENT``.
    From here on, this process's own multiprocessing children carry its flows instead."""
    value = parent_at_start() or env.get(ENV_PARENT)
    carry_into_processes()
    if not value or "|" not in value:
        return None
    instance, _, flow_id = value.partition("|")
    return (instance, flow_id) if instance and flow_id else None


def in_mp_child() -> bool:
    """True in a process that ``multiprocessing`` started (a pool's worker, a Process,
    any start method). Such a process may be killed as soon as it has handed back a
    result (``with Pool()`` terminates its workers on exit), so each flow it ends is
    written before the call returns."""
    mp = sys.modules.get("multiprocessing")
    return mp is not None and mp.parent_process() is not None


def in_pool_worker() -> bool:
    """True in a ``multiprocessing.Pool`` worker (CPython names them ``*PoolWorker-N``).

    A pool terminates its workers with SIGTERM as they go back to wait on its queue's
    semaphore. A handler written in Python runs only once the main thread is back in the
    interpreter, and a signal that lands just before the wait starts leaves it asleep
    there for good: the worker would hang, and the pool's exit with it. So a pool worker
    keeps the default action; its flows are written as they end (:func:`in_mp_child`)."""
    mp = sys.modules.get("multiprocessing")
    return mp is not None and "PoolWorker" in mp.current_process().name


def export_run(env: MutableMapping[str, str], run_id: str, root: str) -> dict[str, str | None]:
    """Put the run in ``env`` for the children, clearing a parent flow inherited from an
    outer run; returns what was there before, for :func:`restore_env`."""
    saved: dict[str, str | None] = {}
    for key, value in (
        (ENV_RUN_ID, run_id),
        (ENV_ROOT, root),
        (ENV_RUN_PID, str(os.getpid())),
    ):
        saved[key] = env.get(key)
        env[key] = value
    saved[ENV_PARENT] = env.pop(ENV_PARENT, None)
    carry_into_processes()  # multiprocessing children: the flow where they start
    return saved


def restore_env(saved: Mapping[str, str | None]) -> None:
    """Put back in ``os.environ`` what :func:`export_run` replaced."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
