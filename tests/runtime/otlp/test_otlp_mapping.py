"""The span mapping's bookkeeping when a backend is down: every event given up on is
counted once, whether it came before, during or after the outage of its flow instance."""

from __future__ import annotations

from typing import Any

from flowscribe.otlp.mapping import SpanMapper


def _ev(n: int, etype: str, instance: str | None) -> dict[str, Any]:
    return {"id": f"p-{n}", "run_id": "r1", "ts": 1.0 + n, "event_type": etype,
            "flow_id": "orders/submit" if instance else None, "instance": instance,
            "pid": 7, "status": "passed" if etype == "flow_end" else None}


def test_events_given_up_on_are_counted_once_and_the_rest_of_their_flow_too() -> None:
    m = SpanMapper()
    assert m.add(_ev(1, "run_start", None)) == []
    assert m.add(_ev(2, "flow_start", "a")) == []          # a: mapped before the outage
    assert m.add(_ev(3, "checkpoint", "a")) == []
    lost = m.lose(_ev(4, "checkpoint", "a"))                # the outage: a's 2 + this one
    lost += m.lose(_ev(5, "flow_start", "b"))               # b starts during it
    lost += m.lose(_ev(6, "run_start", None))               # no span: never counted
    assert lost == 4
    assert m.add(_ev(7, "success", "a")) == []              # after it: a and b are lost
    assert m.add(_ev(8, "flow_end", "a")) == []
    assert m.add(_ev(9, "flow_end", "b")) == []
    assert m.take_lost() == 3 and m.take_lost() == 0
    assert m.add(_ev(10, "flow_start", "a2")) == []          # a new flow is mapped again
    [span] = m.add(_ev(11, "flow_end", "a2"))
    assert span.name == "orders/submit" and span.n_events == 2
    assert m.resource(7)["flowscribe.run.id"] == "r1"


def test_a_backend_going_down_gives_up_the_open_flows_and_their_later_events() -> None:
    m = SpanMapper()
    assert m.add(_ev(1, "flow_start", "a")) == []
    assert m.add(_ev(2, "checkpoint", "a")) == []
    assert m.lose_open() == 2                               # a would go out with holes
    assert m.open_events() == 0
    assert m.add(_ev(3, "flow_end", "a")) == []             # its end is lost too
    assert m.add(_ev(4, "checkpoint", "b")) == []           # b started unseen (at the door)
    assert m.take_lost() == 2
    assert m.add(_ev(5, "flow_start", "c")) == []
    [span] = m.add(_ev(6, "flow_end", "c"))
    assert span.n_events == 2 and m.take_lost() == 0
