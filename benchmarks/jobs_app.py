"""A busy app for big runs: ``python jobs_app.py N`` records N ``jobs/run`` flows through the
real runtime, half on the main thread and half on a ``worker`` thread.

Each ``jobs/run`` instance writes 8 events (it and its ``jobs/step`` child: two starts, two
ends, two checkpoints, two verdicts), so N = 12,500 makes a 100k-event run; one step in
997 fails with ``DATA.EMPTY``. Used by benchmarks/bench_timeline.py and by the tests of the
Run Timeline on big runs, which copy it into their workspace as ``app.py``.
"""

from __future__ import annotations

import sys
import threading

import flowscribe


def batch(first: int, count: int) -> None:
    for n in range(first, first + count):
        with flowscribe.flow("jobs/run", job=str(n % 7)) as f:
            with flowscribe.flow("jobs/step") as s:
                s.checkpoint("load", rows=n)
                if n % 997 == 5:
                    s.failure("DATA.EMPTY", f"no rows for job {n}")
                else:
                    s.success("ok")
            f.checkpoint("store")
            f.success("done")


flowscribe.init(app_name="jobs", root=".")
flows = int(sys.argv[1])
worker = threading.Thread(target=flowscribe.wrap(batch), args=(flows // 2, flows - flows // 2),
                          name="worker")
worker.start()
batch(0, flows // 2)
worker.join()
flowscribe.end_session()
