"""What `import flowscribe` costs a program that starts, against its peers and the stdlib.

Target (issue 2): under 20 ms. Each figure is the median over many fresh interpreters: a
child process times its own ``import <module>`` with ``perf_counter_ns`` (so interpreter
start-up is not counted), and the parent times the whole child process as well. Rows are
sampled in round-robin order so that background noise falls on all of them alike.

Bytecode caches are on, as in every run of an installed package after its first: the
first, untimed round writes them to a temporary prefix (not into the source tree), even
where PYTHONDONTWRITEBYTECODE is set, as it often is in containers and CI. One extra row
shows flowscribe compiled from source (no cache), what such an environment pays.

A second table times ``flowscribe.init()`` after the import (target, issue 12: at most
10 ms), each sample a fresh interpreter in a fresh copy of a project: the example app with
its ``.autodev/ra.yaml`` and ``flows.yaml`` (as every start after the first finds it, with
the parsed config the previous one kept, and as a first start finds it, without), and a
folder with no config at all. With
``--baseline REV`` the same rows are measured for the flowscribe of git revision REV
(exported to a temporary folder), interleaved with this tree's, so the comparison is made
in one run on one machine.

Usage: python benchmarks/bench_import.py [--reps N] [--quick] [--baseline REV]
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
from dataclasses import dataclass, field
from pathlib import Path

import _table

TARGET_MS = 20.0
TARGET = "flowscribe"
INIT_TARGET_MS = 10.0
REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "trading_app"

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
    parser.add_argument("--baseline", metavar="REV",
                        help="also time init() of the flowscribe of git revision REV")
    opts = parser.parse_args(argv)
    reps = 3 if opts.quick else opts.reps

    cache_dir = tempfile.mkdtemp(prefix="flowscribe-bench-pycache-")
    try:
        status = measure(reps, cache_dir)
        return status or measure_init(reps, cache_dir, opts.baseline)
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


# -- init() ------------------------------------------------------------------------------

# Times its own import and then init() (a session's start: config, catalog, redactor,
# sinks, writer thread, run folder, run header); the run ends at exit, untimed.
INIT_CHILD = """
import sys, time
t0 = time.perf_counter_ns()
import flowscribe
t1 = time.perf_counter_ns()
flowscribe.init()
t2 = time.perf_counter_ns()
print(t1 - t0, t2 - t1, int("yaml" in sys.modules), int("sqlite3" in sys.modules),
      int("hashlib" in sys.modules), int("shutil" in sys.modules))
"""


@dataclass
class InitRow:
    label: str
    src: Path  # the folder holding the flowscribe package measured
    project: Path | None  # copied for each sample; None: an empty folder (no config)
    #: The parsed config the previous start kept (.autodev/cache) goes into each copy:
    #: what every start but a project's first (or the first after an edit) finds.
    warm: bool = True
    #: Extra environment of the child (FLOWSCRIBE_JSON=stdlib: no orjson).
    env: dict[str, str] = field(default_factory=dict)
    imports: list[float] = field(default_factory=list)
    inits: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    loaded: str = ""


def export_revision(rev: str, dest: Path) -> Path:
    """``py_server`` of git revision ``rev``, extracted under ``dest`` (the checkout and
    its work tree are left alone)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "py_server"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "py_server"


def init_env(cache_dir: str, src: Path) -> dict[str, str]:
    """Bytecode caches on, ``src`` importable, and nothing of a run this benchmark may be
    part of (a child would join it) nor of the user's RA_* overrides."""
    env = {k: v for k, v in cached_env(cache_dir).items()
           if not k.startswith(("FLOWSCRIBE_", "RA_"))}
    env["PYTHONPATH"] = str(src)
    return env


def run_init_child(row: InitRow, cache_dir: str, work: Path) -> None:
    """One sample: a fresh copy of the project, a fresh interpreter."""
    proj = work / "project"
    shutil.rmtree(proj, ignore_errors=True)
    if row.project is None:
        proj.mkdir()
    else:
        shutil.copytree(row.project, proj, ignore=shutil.ignore_patterns("__pycache__"))
        for stale in ("runs", "latest", "live", "trace.jsonl", "summary.md", "ask.md", "cache"):
            target = proj / ".autodev" / stale
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
    kept = work / f"cache-{id(row)}"
    if row.warm and kept.is_dir():
        shutil.copytree(kept, proj / ".autodev" / "cache")
    t0 = time.perf_counter_ns()
    proc = subprocess.run([sys.executable, "-c", INIT_CHILD], cwd=proj, capture_output=True,
                          text=True, check=False,
                          env={**init_env(cache_dir, row.src), **row.env})
    total_ms = (time.perf_counter_ns() - t0) / 1e6
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(proc.stderr.strip() or f"exit status {proc.returncode}")
    if row.warm and not kept.exists() and (proj / ".autodev" / "cache").is_dir():
        shutil.copytree(proj / ".autodev" / "cache", kept)
    imp, ini, *flags = proc.stdout.split()
    row.imports.append(int(imp) / 1e6)
    row.inits.append(int(ini) / 1e6)
    row.totals.append(total_ms)
    names = ("yaml", "sqlite3", "hashlib", "shutil")
    row.loaded = ", ".join(n for n, f in zip(names, flags) if f == "1") or "none of them"


def measure_init(reps: int, cache_dir: str, baseline: str | None) -> int:
    work = Path(tempfile.mkdtemp(prefix="flowscribe-bench-init-"))
    try:
        trees = [("this tree", REPO / "py_server")]
        if baseline:
            trees.append((f"baseline {baseline}", export_revision(baseline, work)))
        stdlib = {"FLOWSCRIBE_JSON": "stdlib"}
        rows = [InitRow(f"{name}: {what}", src, project, warm, env)
                for what, project, warm, env in (
                    ("example config", EXAMPLE, True, {}),
                    ("example config, first start", EXAMPLE, False, {}),
                    ("example config, stdlib json", EXAMPLE, True, stdlib),
                    ("no config", None, True, {}))
                for name, src in trees]
        notes = [f"{reps} samples per row, round-robin; a fresh interpreter and a fresh copy "
                 "of the project per sample",
                 "example config: examples/trading_app (its .autodev/ra.yaml and flows.yaml); "
                 "no config: an empty folder; first start: without the parsed config the "
                 "previous start kept in .autodev/cache (a project's first run, or the first "
                 "after an edit); stdlib json: FLOWSCRIBE_JSON=stdlib, orjson not imported "
                 "(importing orjson imports dataclasses, inspect, uuid and datetime)",
                 "min and median in ms; 'loaded' lists which of yaml, sqlite3, hashlib, shutil "
                 "the start imported"]
        _table.print_header("init() after import (fresh interpreter per sample)", notes)
        for row in rows:  # untimed: write the bytecode caches (and keep the parsed config)
            run_init_child(row, cache_dir, work)
        for row in rows:
            row.imports.clear()
            row.inits.clear()
            row.totals.clear()
        for _ in range(reps):
            for row in rows:
                run_init_child(row, cache_dir, work)
        table = []
        for row in rows:
            imp, ini, tot = (_table.stats(v) for v in (row.imports, row.inits, row.totals))
            table.append([row.label, _table.fmt(imp.minimum), _table.fmt(imp.median),
                          _table.fmt(ini.minimum), _table.fmt(ini.median), ini.spread,
                          _table.fmt(tot.median), row.loaded])
        _table.print_table(["tree: project", "import min", "import median", "init() min",
                            "init() median", "init() spread", "process median", "loaded"],
                           table)
        by_label = {row.label: row for row in rows}
        for what in ("example config", "example config, first start",
                     "example config, stdlib json", "no config"):
            ours = _table.stats(by_label[f"this tree: {what}"].inits).median
            line = (f"init() {what}: {_table.fmt(ours)} ms median -> target <= "
                    f"{INIT_TARGET_MS:.0f} ms {'MET' if ours <= INIT_TARGET_MS else 'MISSED'}")
            if baseline:
                base = _table.stats(by_label[f"baseline {baseline}: {what}"].inits).median
                line += f"; baseline {_table.fmt(base)} ms, ratio {ours / base:.2f}"
            print(line)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
