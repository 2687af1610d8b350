"""``flowscribe diff`` and the project's copilot_init.md, on runs of the buggy apps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _story_apps import run_app

from flowscribe.catalog import load_catalog
from flowscribe.story import render_guide


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowscribe", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_app("window", tmp_path_factory.mktemp("cli"))[0]


def test_diff_compares_the_latest_run_with_the_last_good_one(window: Path) -> None:
    out = _cli("diff", cwd=window)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("before: ") and "(passed," in lines[0]
    assert lines[1].startswith("after:  ") and "(failed," in lines[1]
    assert "  session/window [ticker=NFLX] window: window.start: 09:30 -> 10:30" in lines
    assert "  session/check: CONTRACT.VALIDATION is new" in lines


def test_diff_json_and_explicit_runs(window: Path) -> None:
    runs = json.loads(_cli("runs", "--json", cwd=window).stdout)
    ids = sorted(r["runId"] for r in runs)
    out = _cli("diff", ids[1], ids[0], "--json", cwd=window)  # the other way round
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["before"], doc["after"]) == (ids[1], ids[0])
    kinds = {c["kind"] for c in doc["changes"]}
    assert "fixed" in kinds and "new_failure" not in kinds


def test_diff_says_when_there_is_nothing_to_compare(tmp_path: Path) -> None:
    out = _cli("diff", cwd=tmp_path)
    assert out.returncode == 1 and "no runs in" in out.stderr
    out = _cli("diff", "nosuchrun", cwd=tmp_path)
    assert out.returncode == 1 and "no run nosuchrun" in out.stderr


def test_the_guide_names_this_projects_entry_test_command_and_flows(tmp_path: Path) -> None:
    root, _ = run_app("report", tmp_path)
    (root / "tests").mkdir()
    text = render_guide(root, load_catalog(root / ".autodev" / "flows.yaml"))
    assert "- `python main.py`" in text
    assert "run them with `python -m pytest tests`" in text
    assert "- `report/select`: Keep the orders of the report's region." in text
    assert "last 50" not in text and "tail trace.jsonl" not in text
