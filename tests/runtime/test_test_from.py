"""``traced(..., capture_args=True)`` and ``flowscribe test-from``: a pytest file that
replays a recorded failure, written from real runs of a small buggy app and run with
pytest in a subprocess (it fails on the bug and passes once the bug is fixed)."""

from __future__ import annotations

from pathlib import Path

from _project import of_type, trace

import flowscribe


class _Conn:
    pass


def test_capture_args_records_the_call_redacted(project: Path) -> None:
    @flowscribe.traced("orders/submit", capture_args=True)
    def submit(ticker: str, qty: int, *rest: int, password: str = "", **kw: object) -> None:
        flowscribe.success()

    @flowscribe.traced("orders/plain")
    def plain(ticker: str) -> None:
        pass

    submit("AAPL", 0, 5, password="hunter2", conn=_Conn(), opts={"a": [1, 2.5, None]})
    plain("MSFT")
    flowscribe.end_session()
    starts = of_type(trace(project), "flow_start")
    assert starts[0]["evidence"] == {
        "args": {"ticker": "AAPL", "qty": 0, "*rest": [5], "password": "[REDACTED]",
                 "conn": "<unserialisable _Conn>", "opts": {"a": [1, 2.5, None]}},
        "positional": 2,
        "unserialisable": ["conn"],
    }
    assert starts[1]["evidence"] == {}  # off by default: nothing recorded
    assert "hunter2" not in (project / ".autodev" / "trace.jsonl").read_text()
