"""Runs that come out the same every time, for golden files of summary.md, ask.md, traces.

Inside ``with reproducible():`` the runtime takes its clock, its ids and the facts about
the machine from fixed sources instead of the real ones, so the same program recording
the same events writes the same summary.md and ask.md on any machine, on any day, and
the same trace but for each event's ``pid`` (kept real: it is how a forked child knows
it is one):

* the wall clock starts at ``start`` (default 2026-01-01 00:00:00 UTC) and every reading
  moves it on by ``tick_ms``; so does the clock flows time themselves with (from 0), so a
  flow's duration is ``tick_ms`` times the readings made while it ran;
* run ids are read from that clock, with ``000001``, ``000002``… in place of the random
  suffix; event ids are ``p0-1``, ``p0-2``… (``p1-``, ``p2-``… for the next processes);
* the run header says Python ``3`` and no git commit.

Paths stay what they are: a golden file of ask.md holds the project's root, which a test
replaces by a placeholder. Events recorded by several threads at once come out in the
order the threads ran, which no clock can fix: golden runs are single-threaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from .. import _flow, _recorder

__all__ = ["reproducible"]

#: 2026-01-01 00:00:00 UTC.
DEFAULT_START = 1_767_225_600.0


@contextmanager
def reproducible(start: float = DEFAULT_START, tick_ms: float = 1.0) -> Iterator[None]:
    """Record with a fixed clock, fixed ids and fixed host facts inside the block (see the
    module's docstring); what was there before is put back after it."""
    from .. import _header, runs  # lazily: the pytest plugin imports this package

    tick = tick_ms / 1000.0
    wall, perf = itertools.count(), itertools.count()
    prefixes, suffixes = itertools.count(), itertools.count(1)
    saved = (_recorder._now, _flow._perf, _recorder._process_prefix, runs.new_run_id,
             _header.python_version, _header.git_sha)
    real_new_run_id = runs.new_run_id

    def clock() -> float:
        return start + next(wall) * tick

    def new_run_id(now: float | None = None) -> str:
        stamp = real_new_run_id(clock() if now is None else now)
        return f"{stamp[:-6]}{next(suffixes):06d}"

    _recorder._now = clock
    _flow._perf = lambda: next(perf) * tick
    _recorder._process_prefix = lambda: f"p{next(prefixes)}-"
    runs.new_run_id = new_run_id
    _header.python_version = lambda: "3"
    _header.git_sha = lambda root: None
    try:
        yield
    finally:
        (_recorder._now, _flow._perf, _recorder._process_prefix, runs.new_run_id,
         _header.python_version, _header.git_sha) = saved
