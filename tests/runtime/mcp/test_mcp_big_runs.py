"""get_flow_events on a run too big to read whole (over ``story.WHOLE_RUN_BYTES``): one
instance from its span, one correlation value from the lines holding it; the answers are
those of reading the run whole, and the run is not read whole for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _project import clean_env

from flowscribe.mcp import tools
from flowscribe.mcp.cache import RunCache
from flowscribe.mcp.workspace import Workspace
from flowscribe.story import WHOLE_RUN_BYTES
from flowscribe.trace import iter_events

APP = """\
import flowscribe

flowscribe.init(app_name="batch")
with flowscribe.flow("batch/run", batch="b-7"):
    for n in range(12000):
        with flowscribe.flow("item/process", item=f"i-{n}", n=n) as f:
            f.checkpoint("work", n=n)
            if n % 1000 == 500:
                f.failure("DATA.EMPTY", "no rows for the item", rows=0)
            else:
                f.success("done")
"""


@pytest.fixture(scope="module")
def big_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "batch"
    (root / ".autodev").mkdir(parents=True)
    (root / ".autodev" / "ra.yaml").write_text(
        "version: 1\nprofile: all\nsinks:\n  - type: jsonl\n    path: .autodev/trace.jsonl\n"
        "artifacts:\n  per_run_dirs: true\n", encoding="utf-8")
    (root / "app.py").write_text(APP, encoding="utf-8")
    subprocess.run([sys.executable, "app.py"], cwd=root, env=clean_env(), check=True,
                   capture_output=True, timeout=120)
    trace = (root / ".autodev" / "latest").resolve() / "trace.jsonl"
    assert trace.stat().st_size > WHOLE_RUN_BYTES  # else this tests the whole read
    return root


@pytest.mark.parametrize("ask", [
    {"instance": "the 7th failing item"},
    {"where": "item=i-6500"},
    {"where": "n=6500"},  # a number: found as JSON, not as text
])
def test_the_answers_are_those_of_a_whole_read(
    big_run: Path, ask: dict[str, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    trace = (big_run / ".autodev" / "latest").resolve() / "trace.jsonl"
    if "instance" in ask:
        failures = list(iter_events(trace, types=["failure"]))
        ask = {"instance": str(failures[6]["instance"])}
    cache = RunCache()
    ws = Workspace.open(big_run, cache)
    near = tools.get_flow_events(ws, **ask)
    assert cache.get(ws.run(None)).view_events() == 0  # the run was not read whole
    assert "i-6500" in near and '"no rows for the item"' in near
    monkeypatch.setattr(tools, "too_big_to_read_whole", lambda trace: False)
    whole = tools.get_flow_events(Workspace.open(big_run, RunCache()), **ask)
    assert near == whole


def test_a_value_nearly_every_event_carries_is_read_up_to_a_cap(
    big_run: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # batch=b-7 is on every item's events (inherited from the batch flow): without a cap
    # a big run's every event would be held in memory at once.
    monkeypatch.setattr(tools, "MAX_WHERE_EVENTS", 10)
    text = tools.get_flow_events(Workspace.open(big_run, RunCache()), where="batch=b-7")
    assert "of 10, oldest first" in text and "only its first 10 events" in text
