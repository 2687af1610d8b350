"""The story of one failure of a run too big to read whole (``story.load_near``, the
failure prompt over ``whole_run_bytes``): told from the bytes around the failure, with the
run header and the failing instance's ancestors fetched from wherever they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _project import QUIET_CONFIG, write_config

from flowscribe.story import failure_prompt, load_near
from flowscribe.trace import iter_events

#: A batch flow open for the whole run, 3,000 items under it; item 2,500 fails.
APP = """\
import flowscribe

flowscribe.init(app_name="batch")
with flowscribe.flow("batch/run", batch="b-7"):
    for n in range(3000):
        with flowscribe.flow("item/process", item=f"i-{n}") as f:
            f.checkpoint("work", n=n)
            if n == 2500:
                f.failure("DATA.EMPTY", "no rows for the item", rows=0)
            else:
                f.success("done")
flowscribe.end_session()
"""


@pytest.fixture
def batch_run(project: Path) -> tuple[Path, dict[str, object]]:
    write_config(project, QUIET_CONFIG + "artifacts:\n  per_run_dirs: true\n")
    (project / "app.py").write_text(APP, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCRIBE_", "RA_"))}
    subprocess.run([sys.executable, "app.py"], cwd=project, env=env, check=True,
                   capture_output=True, timeout=120)
    trace = (project / ".autodev" / "latest").resolve() / "trace.jsonl"
    [failure] = iter_events(trace, types=["failure"])
    return trace, failure


def test_the_bytes_around_a_failure_hold_its_story(
    batch_run: tuple[Path, dict[str, object]],
) -> None:
    trace, failure = batch_run
    size = trace.stat().st_size
    view = load_near(trace, str(failure["id"]), before=64 << 10, after=8 << 10)
    assert view is not None and view.window is not None
    start, end, whole = view.window
    assert whole == size and end - start < 100 << 10 < size // 10
    # The failing instance whole, and the items that ran just before it.
    mine = [e["event_type"] for e in view.by_instance[str(failure["instance"])]]
    assert mine == ["flow_start", "checkpoint", "failure", "flow_end"]
    items = {e["correlation"]["item"] for e in view.starts.values()
             if e["flow_id"] == "item/process"}
    assert "i-2499" in items and "i-0" not in items
    # From far away: the header of the run and the batch flow the item ran under.
    assert view.header["app"] == "batch"
    assert str(failure["instance"]) in view.descendants(
        next(i for i, e in view.starts.items() if e["flow_id"] == "batch/run"))


def test_an_event_that_is_not_found_by_its_id_leaves_it_to_a_whole_read(
    batch_run: tuple[Path, dict[str, object]],
) -> None:
    trace, _ = batch_run
    assert load_near(trace, "0badc0de-12") is None
    assert load_near(trace, "not an id") is None


def test_the_prompt_of_a_big_run_says_it_was_told_from_a_stretch(
    batch_run: tuple[Path, dict[str, object]], project: Path,
) -> None:
    _, failure = batch_run
    text = failure_prompt(project / ".autodev", None, str(failure["id"]), whole_run_bytes=0)
    assert text is not None
    assert "this story is told from the" in text and "around the failure" in text
    assert '"no rows for the item"' in text and "batch/run" in text
    # Read whole, the same failure is told without that note.
    whole = failure_prompt(project / ".autodev", None, str(failure["id"]))
    assert whole is not None and "around the failure" not in whole
