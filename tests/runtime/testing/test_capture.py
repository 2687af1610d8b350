"""flowscribe.testing outside pytest's hooks: capture(), Flows, FlowInstance, the tree."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import flowscribe
from flowscribe.testing import capture


def test_capture_sees_the_block_only_with_instances_children_and_verdicts(
    project: Path,
) -> None:
    session = flowscribe.init(app_name="shop")  # started before the capture: tapped too
    with flowscribe.flow("before"):
        pass
    with capture() as rec:
        with flowscribe.flow("orders/submit", ticker="AAPL") as f:
            with flowscribe.flow("data/load") as load:
                load.failure("DATA.EMPTY", "no rows", rows=0)
            f.success("sent")
        t = threading.Thread(target=flowscribe.wrap(lambda: flowscribe.flow("t/work").start()))
        t.start()
        t.join()
    with flowscribe.flow("after"):
        pass
    session.end_session()

    assert [i.flow_id for i in rec.instances()] == ["orders/submit", "data/load", "t/work"]
    [submit] = rec.instances("orders/*")
    assert (submit.verdict, submit.correlation, submit.error_class) == (
        "passed", {"ticker": "AAPL"}, None)
    [load] = submit.children
    assert (load.verdict, load.error_class, load.reason) == ("failed", "DATA.EMPTY", "no rows")
    assert [e["event_type"] for e in load.events] == ["flow_start", "failure", "flow_end"]
    assert rec.instances("t/work")[0].verdict == "open"
    found = rec.assert_flow("data/load", verdict="failed", error_class="DATA.EMPTY")
    assert found.instance == load.instance
    assert [e["error_class"] for e in rec.failures()] == ["DATA.EMPTY"]


def test_assert_flow_says_what_happened(project: Path) -> None:
    with capture() as rec, flowscribe.flow("orders/submit") as f:
        f.failure("EXTERNAL.TIMEOUT", "no ack \x1b[31m", waited_ms=1000)
    with pytest.raises(AssertionError) as info:
        rec.assert_flow("orders/submit", verdict="failed", error_class="DATA.EMPTY")
    msg = str(info.value)
    assert msg.startswith("no instance of 'orders/submit' with verdict='failed', "
                          "error_class='DATA.EMPTY'; what this test ran:\n")
    assert 'orders/submit #1 failed EXTERNAL.TIMEOUT "no ack \\u001b[31m"' in msg
    assert "\x1b" not in msg  # recorded text is shown escaped, never acted on
    with pytest.raises(AssertionError, match="expected 2 instance"):
        rec.assert_flow("orders/submit", count=2)


def test_nothing_recorded_says_how_tracing_is_decided(project: Path) -> None:
    with capture() as rec:
        pass
    with pytest.raises(AssertionError, match=r"this test ran no flows \(nothing was recorded"):
        rec.assert_flow("orders/submit")
