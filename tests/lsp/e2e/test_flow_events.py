"""`flowscribe/flowEvents`: the events of one flow instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _handmade import event, write_trace
from _lsp_session import Session, uri, wait_flows
from _lsp_workspaces import run_app


async def test_events_of_one_flow_instance(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = await wait_flows(session)
    event_id = flows["orders/submit"]["lastFailure"]["eventId"]
    every = (await session.request("flowscribe/flowEvents", {"flowId": "orders/submit"}))
    assert every["events"] and {e["flow_id"] for e in every["events"]} == {"orders/submit"}
    failure = next(e for e in every["events"] if e["id"] == event_id)
    one = await session.request("flowscribe/flowEvents", {
        "flowId": "orders/submit", "instance": failure["instance"]})
    kinds = [e["event_type"] for e in one["events"]]
    assert kinds[0] == "flow_start" and kinds[-1] == "flow_end" and "failure" in kinds
    assert {e["instance"] for e in one["events"]} == {failure["instance"]}
    broker = trading_ws / "trading" / "broker.py"
    assert all(e["uri"] == uri(broker) for e in one["events"])
    assert one["runId"] == flows["orders/submit"]["runId"]
    assert (await session.request("flowscribe/flowEvents", {}))["events"] == []


ODD_APP = '''\
import flowscribe

ODD = 'shop/"quoted"\\\\back/café 💥'
flowscribe.init(app_name="odd", mode="test", root=".")
for n in range(3):
    with flowscribe.flow(ODD, n=n) as f:
        f.checkpoint("look-alike", flow_id="shop/plain")  # the other id, in evidence
        if n == 1:
            f.failure("X.ODD", "odd one out")
        else:
            f.success("ok")
with flowscribe.flow("shop/plain") as f:
    f.checkpoint("look-alike", flow_id=ODD)
flowscribe.end_session()
'''


async def test_events_and_prompt_for_ids_that_json_escapes(
        session: Session, tmp_path: Path) -> None:
    # The requests pick lines by the encoded id before parsing them: ids with quotes,
    # backslashes and non-ASCII (escaped in the trace) must still find every event, and a
    # look-alike in another field must not count.
    ws = tmp_path / "odd"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "ra.yaml").write_text(
        "version: 1\nprofile: all\nsinks:\n  - type: jsonl\n    path: .autodev/trace.jsonl\n"
        "artifacts:\n  per_run_dirs: true\n")
    (ws / "app.py").write_text(ODD_APP, encoding="utf-8")
    proc = run_app(ws)
    assert (ws / ".autodev" / "latest").exists(), proc.stdout + proc.stderr
    odd = 'shop/"quoted"\\back/café 💥'
    await session.start(ws)
    flows = await wait_flows(session)
    assert flows[odd]["counts"] == {"passed": 2, "failed": 1, "unfinished": 0, "orphaned": 0}
    every = await session.request("flowscribe/flowEvents", {"flowId": odd})
    assert every["total"] == 3 * 4  # start, checkpoint, verdict, end per instance
    assert {e["flow_id"] for e in every["events"]} == {odd}
    plain = await session.request("flowscribe/flowEvents", {"flowId": "shop/plain"})
    assert [e["event_type"] for e in plain["events"]] == ["flow_start", "checkpoint", "flow_end"]
    last = flows[odd]["lastFailure"]
    failure = next(e for e in every["events"] if e["id"] == last["eventId"])
    one = await session.request("flowscribe/flowEvents",
                                {"flowId": odd, "instance": failure["instance"]})
    kinds = [e["event_type"] for e in one["events"]]
    assert kinds == ["flow_start", "checkpoint", "failure", "flow_end"]
    result = await session.request("flowscribe/failurePrompt",
                                   {"runId": last["runId"], "eventId": last["eventId"]})
    assert "X.ODD" in result["prompt"] and "odd one out" in result["prompt"]
    # The id, JSON-escaped in the trace, reads as the app wrote it.
    assert odd in result["prompt"] and "\\u00e9" not in result["prompt"]


async def test_flow_events_redact_a_trace_the_runtime_did_not_write(
        session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    write_trace(ws, [
        event(1, "run_start", None, evidence={"root": str(ws)}),
        event(2, "flow_start", "a/b"),
        event(3, "failure", "a/b", reason="password hunter2-very-secret",
              evidence={"api_key": "k-987654321"}, correlation={"token": "t-55554444"}),
    ])
    await session.start(ws)
    got: dict[str, Any] = {}
    for _ in range(100):
        got = await session.request("flowscribe/flowEvents", {"flowId": "a/b"})
        if got.get("total") == 2:
            break
        await session.settle(0.05)
    failure = next(e for e in got["events"] if e["event_type"] == "failure")
    assert failure["reason"] == "password [REDACTED]"
    assert failure["evidence"] == {"api_key": "[REDACTED]"}
    assert failure["correlation"] == {"token": "[REDACTED]"}
