"""What `import flowscribe` costs a program that starts, against its peers and the stdlib.

Target (issue 2): under 20 ms. Each figure is the median over many fresh interpreters: a
child process times its own ``import <module>`` with ``perf_counter_ns`` (so interpreter
start-up is not counted), and the parent times the whole child process as well. Rows are
sampled in round-robin order so that background noise falls on all of them alike.

Bytecode caches are on, as in every run of an installed package after its first: the
first, untimed round writes them to a temporary prefix (not into the source tree), even
where PYTHONDONTWRITEBYTECODE is set, as it often is in containers and CI. One extra row
shows flowscribe compiled from source (no cache), what such an environment pays.

Usage: python benchmarks/bench_import.py [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import _table

TARGET_MS = 20.0
TARGET = "flowscribe"

# (module, why it is here). Baselines first, then flowscribe, then peers.
MODULES: list[tuple[str, str]] = [
    ("json", "stdlib baseline"),
    ("logging", "stdlib baseline"),
    ("yaml", "PyYAML (why flowscribe imports it lazily)"),
    (TARGET, "target < 20 ms"),
    ("structlog", "peer"),
    ("eliot", "peer"),
    ("opentelemetry.sdk.trace", "peer"),
]

# The child imports nothing before the timed import beyond sys and time (always loaded at
# start-up), so that `json` is measured from scratch too, and nothing after it (it reports
# in plain text), so that the whole-process time is start-up plus this one import.
CHILD = """
import sys, time
before = set(sys.modules)
t0 = time.perf_counter_ns()
__import__(sys.argv[1])
dt = time.perf_counter_ns() - t0
added = set(sys.modules) - before
heavy = sorted(m for m in added if m.split(".")[0] in ("yaml", "sqlite3", "asyncio", "email",
               "http", "urllib", "inspect", "typing", "dataclasses", "pathlib", "re"))
print(dt, len(added), int("yaml" in added), ",".join(heavy))
"""


@dataclass
class Row:
    label: str
    module: str | None  # None: the interpreter alone (`python -c pass`)
    note: str
    env: dict[str, str]
    imports: list[float]
    totals: list[float]
    report: dict[str, object]


def cached_env(cache_dir: str) -> dict[str, str]:
    """Bytecode caches on, kept under ``cache_dir``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def uncached_env() -> dict[str, str]:
    """No bytecode written: modules without a cache beside them compile from source.

    The stdlib keeps its shipped caches; an editable install's modules have none.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_child(module: str | None, env: dict[str, str]) -> tuple[float, float, dict[str, object]]:
    """(import ms, whole process ms, child report) for one fresh interpreter."""
    args = [sys.executable, "-c", CHILD, module] if module else [sys.executable, "-c", "pass"]
    t0 = time.perf_counter_ns()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    total_ms = (time.perf_counter_ns() - t0) / 1e6
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip() or f"exit status {proc.returncode}")
    if module is None:
        return 0.0, total_ms, {}
    ns, added, yaml, heavy = [*proc.stdout.split(), ""][:4]
    report = {"added": int(added), "yaml": yaml == "1", "heavy": heavy.replace(",", ", ")}
    return int(ns) / 1e6, total_ms, report


def has_uncached_modules(module: str) -> bool:
    """Whether ``module``'s files have no bytecode cache beside them (an editable tree)."""
    spec = importlib.util.find_spec(module)
    origin = spec.origin if spec is not None else None
    if not origin:
        return False
    return not os.path.exists(importlib.util.cache_from_source(origin))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40, help="fresh interpreters per row")
    parser.add_argument("--quick", action="store_true", help="3 repetitions (smoke test)")
    opts = parser.parse_args(argv)
    reps = 3 if opts.quick else opts.reps

    cache_dir = tempfile.mkdtemp(prefix="flowscribe-bench-pycache-")
    try:
        return measure(reps, cache_dir)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def _installed(module: str) -> bool:
    """Whether ``module`` itself imports: a namespace package's parent alone (FastAPI
    brings ``opentelemetry-api`` without the SDK) is not the peer."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def measure(reps: int, cache_dir: str) -> int:
    env = cached_env(cache_dir)
    notes = [f"{reps} samples per row, round-robin; median and 25th–75th percentile",
             "bytecode caches on (written by an untimed first round to a temporary prefix)"]
    rows = [Row("(nothing: python -c pass)", None, "baseline", env, [], [], {})]
    for mod, why in MODULES:
        if not _installed(mod):
            notes.append(f"{mod}: not installed (pip install -e '.[bench]'), skipped")
            continue
        rows.append(Row(mod, mod, why, env, [], [], {}))
        if mod == TARGET and has_uncached_modules(TARGET):
            rows.append(Row(f"(info) {TARGET}, compiled from source", TARGET,
                            "no bytecode cache (PYTHONDONTWRITEBYTECODE, first run)",
                            uncached_env(), [], [], {}))

    _table.print_header("import cost (fresh interpreter per sample)", notes)
    broken: list[str] = []
    for row in list(rows):  # untimed: write the caches, find what cannot be imported
        try:
            run_child(row.module, row.env)
        except RuntimeError as exc:
            broken.append(f"{row.module} could not run: {str(exc).splitlines()[-1]}")
            rows.remove(row)
    for _ in range(reps):
        for row in rows:
            imp, total, row.report = run_child(row.module, row.env)
            row.imports.append(imp)
            row.totals.append(total)

    table: list[list[object]] = []
    verdict = ""
    for row in rows:
        tot = _table.stats(row.totals)
        if row.module is None:
            table.append([row.label, "-", "-", _table.fmt(tot.median), "-", row.note])
            continue
        imp = _table.stats(row.imports)
        note = row.note
        if row.label == TARGET:
            met = imp.median < TARGET_MS
            verdict = (f"{TARGET}: {_table.fmt(imp.median)} ms median "
                       f"-> target < {TARGET_MS:.0f} ms {'MET' if met else 'MISSED'}")
            note = f"{note}: {'met' if met else 'MISSED'}"
            if row.report.get("yaml"):
                note += "; imports yaml eagerly"
            heavy = row.report.get("heavy")
            if heavy:
                broken.append(f"{TARGET} pulls in: {heavy}")
        table.append([row.label, _table.fmt(imp.median), imp.spread, _table.fmt(tot.median),
                      row.report.get("added", "?"), note])
    _table.print_table(["module", "import ms (median)", "spread", "process ms (median)",
                        "modules added", "note"], table)
    for line in broken:
        print(line)
    if verdict:
        print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
