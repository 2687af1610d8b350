"""The example app as the end-to-end tests use it: copy it, run it, read what it recorded.

What it recorded is read with the runtime's own readers (flowscribe.runs, flowscribe.trace,
flowscribe.catalog): the tests compare what the editor shows with the real artifacts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flowscribe.aggregate import RunAggregate, aggregate_events
from flowscribe.catalog import Catalog, load_catalog
from flowscribe.runs import RunInfo, RunLayout
from flowscribe.trace import iter_events

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "trading_app"
#: The shop-style workspace of the editor's first screen: a BUSINESS failure, a TimeoutError,
#: an unfinished checkout, three orphaned e-mails and a disabled, unused catalog flow.
SHOP = EXAMPLES / "shop"

# Made by running the app or tools on it; a copy starts without them, like a fresh checkout.
GENERATED = ("runs", "latest", "trace.jsonl*", "trace.db*", "summary.md", "ask.md",
             "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")


@dataclass(frozen=True)
class RecordedFailure:
    """A failure or exception event of the latest run, inside the workspace."""

    flow_id: str
    error_class: str
    file: str   # POSIX, relative to the workspace
    line: int
    severity: str  # the trace's: debug, info, warn, error, critical


def copy_example(target: Path, source: Path = EXAMPLE) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*GENERATED))
    return target


def run_app(workspace: Path, fixed: bool = False) -> subprocess.CompletedProcess[str]:
    """Run an example's app.py in `workspace` with the repo's Python, as a user would.

    `fixed` runs the trading app with the fix for its DATA.EMPTY failure (TRADING_APP_FIXED=1).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RA_", "TRADING_APP_"))}
    if fixed:
        env["TRADING_APP_FIXED"] = "1"
    # The example fails on purpose (that is what the editor shows): its exit status is not ours.
    return subprocess.run([sys.executable, "app.py"], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def latest_run_id(workspace: Path) -> str:
    run_id = RunLayout(workspace / ".autodev").latest_run_id()
    assert run_id, f"no latest run under {workspace / '.autodev'}"
    return run_id


def recorded_failures(workspace: Path) -> list[RecordedFailure]:
    """The latest run's failures and exceptions recorded at a file inside the workspace."""
    run_dir = RunLayout(workspace / ".autodev").latest_run_dir()
    assert run_dir is not None, f"no latest run under {workspace / '.autodev'}"
    found: list[RecordedFailure] = []
    for ev in iter_events(run_dir / "trace.jsonl", types=("failure", "exception")):
        file, line = ev.get("file"), ev.get("line")
        if not file or not line or Path(file).is_absolute():
            continue
        found.append(RecordedFailure(ev.get("flow_id") or "", ev.get("error_class") or "",
                                     file, int(line), ev.get("severity") or ""))
    return found


def latest_run_counts(workspace: Path) -> dict[str, int]:
    """How many events of each type the latest run recorded."""
    run_dir = RunLayout(workspace / ".autodev").latest_run_dir()
    assert run_dir is not None, f"no latest run under {workspace / '.autodev'}"
    counts: dict[str, int] = {}
    for ev in iter_events(run_dir / "trace.jsonl"):
        counts[ev["event_type"]] = counts.get(ev["event_type"], 0) + 1
    return counts


def latest_run_info(workspace: Path) -> RunInfo:
    """The latest run as `flowscribe runs` lists it (start and end times)."""
    [info] = [r for r in RunLayout(workspace / ".autodev").list_runs() if r.is_latest]
    return info


def latest_run_aggregate(workspace: Path) -> RunAggregate:
    """The latest run folded by the runtime's aggregate: what summary.md is written from."""
    run_dir = RunLayout(workspace / ".autodev").latest_run_dir()
    assert run_dir is not None, f"no latest run under {workspace / '.autodev'}"
    agg, _ = aggregate_events(iter_events(run_dir / "trace.jsonl"))
    return agg


def run_time_label(started: float) -> str:
    """A run's start as the Runs view names a run of today: `18:01:45` (local time)."""
    return datetime.fromtimestamp(started).strftime("%H:%M:%S")


def catalog(workspace: Path) -> Catalog:
    return load_catalog(workspace / ".autodev" / "flows.yaml")


def flow_id_in_code(workspace: Path, flow_id: str) -> tuple[str, int] | None:
    """Where the code names `flow_id` as a string literal: (relative file, 1-based line)."""
    literal = re.compile(r"""(["'])""" + re.escape(flow_id) + r"\1")
    for path in sorted(workspace.rglob("*.py")):
        if ".autodev" in path.parts:
            continue
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if literal.search(text):
                return path.relative_to(workspace).as_posix(), number
    return None


def indentation_column(workspace: Path, file: str, line: int) -> int:
    """The 1-based column where the text of `line` starts (a diagnostic's range starts there)."""
    text = (workspace / file).read_text().splitlines()[line - 1]
    return len(text) - len(text.lstrip()) + 1
