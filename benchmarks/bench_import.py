"""What `import flowscribe` costs a program that starts, against its peers and the stdlib.

Target (issue 2): under 20 ms. Each figure is the median over many fresh interpreters: a
child process times its own ``import <module>`` with ``perf_counter_ns`` (so interpreter
start-up is not counted), and the parent times the whole child process as well. Modules are
imported in round-robin order so that background noise falls on all of them alike. The
first, untimed round compiles bytecode caches, as a user's first run would.

Usage: python benchmarks/bench_import.py [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time

import _table

TARGET_MS = 20.0

# (module, why it is here). Baselines first, then flowscribe, then peers.
MODULES: list[tuple[str, str]] = [
    ("json", "stdlib baseline"),
    ("logging", "stdlib baseline"),
    ("yaml", "PyYAML (why flowscribe imports it lazily)"),
    ("flowscribe", "target < 20 ms"),
    ("structlog", "peer"),
    ("eliot", "peer"),
    ("opentelemetry.sdk.trace", "peer"),
]

# The child imports nothing before the timed import beyond sys and time (always loaded at
# start-up), so that `json` is measured from scratch too.
CHILD = """
import sys, time
before = set(sys.modules)
t0 = time.perf_counter_ns()
__import__(sys.argv[1])
dt = time.perf_counter_ns() - t0
added = set(sys.modules) - before
import json
print(json.dumps({"ns": dt, "added": len(added), "yaml": "yaml" in added,
                  "heavy": sorted(m for m in added if m.split(".")[0] in
                                  ("yaml", "sqlite3", "asyncio", "email", "http",
                                   "urllib", "inspect", "typing", "dataclasses"))}))
"""


def run_child(module: str | None) -> tuple[float, float, dict[str, object]]:
    """(import ms, whole process ms, child report) for one fresh interpreter."""
    args = [sys.executable, "-c", CHILD, module] if module else [sys.executable, "-c", "pass"]
    t0 = time.perf_counter_ns()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    total_ms = (time.perf_counter_ns() - t0) / 1e6
    if proc.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{proc.stderr.strip()}")
    if module is None:
        return 0.0, total_ms, {}
    report = json.loads(proc.stdout)
    return report["ns"] / 1e6, total_ms, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40, help="fresh interpreters per module")
    parser.add_argument("--quick", action="store_true", help="3 repetitions (smoke test)")
    opts = parser.parse_args(argv)
    reps = 3 if opts.quick else opts.reps

    present, skipped = [], []
    for mod, why in MODULES:
        if importlib.util.find_spec(mod.split(".")[0]) is None:
            skipped.append(f"{mod}: not installed (pip install -e '.[bench]'), skipped")
        else:
            present.append((mod, why))

    _table.print_header(
        "import cost (fresh interpreter per sample)",
        [f"{reps} samples per module, round-robin; median and 25th–75th percentile",
         *skipped],
    )

    names: list[str | None] = [None] + [m for m, _ in present]
    for name in names:  # untimed: write bytecode caches
        run_child(name)
    imports: dict[str | None, list[float]] = {n: [] for n in names}
    totals: dict[str | None, list[float]] = {n: [] for n in names}
    reports: dict[str | None, dict[str, object]] = {}
    for _ in range(reps):
        for name in names:
            imp, total, report = run_child(name)
            imports[name].append(imp)
            totals[name].append(total)
            reports[name] = report

    base = _table.stats(totals[None])
    rows: list[list[object]] = [[
        "(nothing: python -c pass)", "-", "-", _table.fmt(base.median), "-", "baseline"]]
    verdict = ""
    for mod, why in present:
        imp = _table.stats(imports[mod])
        tot = _table.stats(totals[mod])
        note = why
        if mod == "flowscribe":
            met = imp.median < TARGET_MS
            verdict = (f"flowscribe: {_table.fmt(imp.median)} ms median "
                       f"-> target < {TARGET_MS:.0f} ms {'MET' if met else 'MISSED'}")
            note = f"{why}: {'met' if met else 'MISSED'}"
            if reports[mod].get("yaml"):
                note += "; imports yaml eagerly"
        rows.append([mod, _table.fmt(imp.median), imp.spread, _table.fmt(tot.median),
                     reports[mod].get("added", "?"), note])
    _table.print_table(
        ["module", "import ms (median)", "spread", "process ms (median)", "modules added",
         "note"],
        rows,
    )
    heavy = reports.get("flowscribe", {}).get("heavy")
    if heavy:
        print(f"flowscribe pulls in: {', '.join(heavy)}")  # type: ignore[arg-type]
    if verdict:
        print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
