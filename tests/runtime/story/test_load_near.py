"""The story of one failure of a run too big to read whole (``story.load_near``, the
failure prompt over ``whole_run_bytes``): told from the bytes around the failure, with the
run header and the failing instance's ancestors fetched from wherever they are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _project import QUIET_CONFIG, clean_env, write_config

from flowscribe.story import WHOLE_RUN_BYTES, failure_prompt, load_instance, load_near
from flowscribe.trace import iter_events

#: A batch flow open for the whole run, 3,000 items under it (or argv[1]); item 2,500
#: fails.
APP = """\
import sys
import flowscribe

flowscribe.init(app_name="batch")
with flowscribe.flow("batch/run", batch="b-7"):
    for n in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3000):
        with flowscribe.flow("item/process", item=f"i-{n}") as f:
            f.checkpoint("work", n=n)
            if n == 2500:
                f.failure("DATA.EMPTY", "no rows for the item", rows=0)
            else:
                f.success("done")
flowscribe.end_session()
"""


def _run_batch(project: Path, *args: str) -> tuple[Path, dict[str, object]]:
    write_config(project, QUIET_CONFIG + "artifacts:\n  per_run_dirs: true\n")
    (project / "app.py").write_text(APP, encoding="utf-8")
    subprocess.run([sys.executable, "app.py", *args], cwd=project, env=clean_env(), check=True,
                   capture_output=True, timeout=120)
    trace = (project / ".autodev" / "latest").resolve() / "trace.jsonl"
    [failure] = iter_events(trace, types=["failure"])
    return trace, failure


@pytest.fixture
def batch_run(project: Path) -> tuple[Path, dict[str, object]]:
    return _run_batch(project)


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


def test_one_instance_is_read_from_its_span_with_its_children(
    batch_run: tuple[Path, dict[str, object]],
) -> None:
    trace, failure = batch_run
    whole = list(iter_events(trace))
    item = str(failure["instance"])
    view = load_instance(trace, item)
    assert view is not None and view.window is not None
    assert view.by_instance[item] == [e for e in whole if e.get("instance") == item]
    assert view.header["app"] == "batch"  # and the batch it ran under, for its depth
    assert any(e["flow_id"] == "batch/run" for e in view.starts.values())
    # The batch's span is the whole run: every item is one of its children.
    [batch] = [e["id"] for e in whole if e["event_type"] == "flow_start"
               and e["flow_id"] == "batch/run"]
    batch_view = load_instance(trace, batch)
    assert batch_view is not None and len(batch_view.descendants(batch)) == 3000
    assert load_instance(trace, "0badc0de-12") is None


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


def test_a_run_too_big_to_read_whole_writes_ask_md_from_around_its_first_failure(
    project: Path,
) -> None:
    trace, failure = _run_batch(project, "12000")
    assert trace.stat().st_size > WHOLE_RUN_BYTES  # else this tests the whole read
    ask = (project / ".autodev" / "ask.md").read_text(encoding="utf-8")
    assert "around the failure" in ask
    assert f">> {failure['id']} app.py:" in ask and "batch/run" in ask
