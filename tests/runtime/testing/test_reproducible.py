"""flowscribe.testing.reproducible: summary.md and ask.md of the shop example against
golden files, byte for byte.

A change to what the artifacts say shows here as a diff to read. When it is meant, write
the files again with ``FLOWSCRIBE_UPDATE_GOLDEN=1 pytest tests/runtime/testing`` and
review them as part of the change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _project import clean_env

import flowscribe
from flowscribe.testing import reproducible

REPO = Path(__file__).resolve().parents[3]
SHOP = REPO / "examples" / "shop"
GOLDEN = Path(__file__).parent / "golden"
ROOT_MARK = "<project root>"

#: Runs the shop as `python app.py` would, with the clock and ids fixed, and ends the
#: run inside the block (the app exits 1: it has failures).
RUNNER = """\
import runpy
import flowscribe
from flowscribe.testing import reproducible

with reproducible():
    try:
        runpy.run_path("app.py", run_name="__main__")
    except SystemExit:
        pass
    finally:
        flowscribe.end_session()
"""


def _run_shop(where: Path) -> Path:
    shutil.copytree(SHOP, where, ignore=shutil.ignore_patterns(
        "runs", "latest", "live", "cache", "*.md", "trace.jsonl*", "__pycache__"))
    (where / "golden_runner.py").write_text(RUNNER, encoding="utf-8")
    env = clean_env(PYTHONPATH=str(REPO / "py_server"))
    subprocess.run([sys.executable, "golden_runner.py"], cwd=where, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    return where / ".autodev"


def _text(path: Path, root: Path) -> str:
    return path.read_text(encoding="utf-8").replace(str(root), ROOT_MARK)


def _trace_without_pids(autodev: Path) -> list[dict[str, object]]:
    events = [json.loads(line) for line in (autodev / "trace.jsonl").read_bytes().splitlines()]
    for ev in events:
        ev.pop("pid")
        ev["evidence"] = {k: v for k, v in (ev["evidence"] or {}).items() if k != "root"}
    return events


@pytest.fixture(scope="module")
def shop_runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """Two reproducible runs of the shop, in folders with different paths."""
    roots = [tmp_path_factory.mktemp("shop") / name for name in ("one", "another")]
    return [(root, _run_shop(root)) for root in roots]


@pytest.mark.parametrize("artifact", ["summary.md", "ask.md"])
def test_the_shops_artifacts_match_their_golden_files(
    shop_runs: list[tuple[Path, Path]], artifact: str
) -> None:
    root, autodev = shop_runs[0]
    got = _text(autodev / artifact, root)
    golden = GOLDEN / f"shop-{artifact}"
    if os.environ.get("FLOWSCRIBE_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8")


def test_two_runs_write_the_same_bytes_wherever_they_run(
    shop_runs: list[tuple[Path, Path]],
) -> None:
    (root_a, a), (root_b, b) = shop_runs
    for artifact in ("summary.md", "ask.md"):
        assert _text(a / artifact, root_a) == _text(b / artifact, root_b)
    # The trace too, but for the real pid (a forked child must still tell it apart).
    assert _trace_without_pids(a) == _trace_without_pids(b)
    assert [p.name for p in (a / "runs").iterdir()] == ["20260101T000000.000Z-000001"]


def test_the_real_clock_and_random_ids_come_back_after_the_block(project: Path) -> None:
    with reproducible(tick_ms=5):
        fixed = flowscribe.init(app_name="fixed")
        with flowscribe.flow("orders/submit") as f:
            f.success("sent")
        fixed.end_session()
    real = flowscribe.init(app_name="real")
    with flowscribe.flow("orders/submit") as f:
        f.success("sent")
    real.end_session()
    events = [json.loads(line) for line in
              (project / ".autodev" / "trace.jsonl").read_bytes().splitlines()]
    by_run = {ev["run_id"]: ev for ev in events if ev["event_type"] == "flow_end"}
    assert len(by_run) == 2
    fixed_end = by_run[fixed.run_id]
    assert fixed_end["id"].startswith("p0-") and fixed_end["duration_ms"] == 5.0
    assert fixed_end["ts"] < time.time() - 86_400
    real_end = by_run[real.run_id]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9]+", real_end["id"])
    assert abs(real_end["ts"] - time.time()) < 600
    assert real.run_id is not None and not real.run_id.endswith("000001")
