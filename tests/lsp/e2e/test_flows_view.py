"""`flowscribe/flows`: the Flows view's tree, with this run's verdicts and counts."""

from __future__ import annotations

from pathlib import Path

from _lsp_session import Session, find_line, uri, wait_flows


async def test_the_flow_tree(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = await wait_flows(session)
    assert set(flows) == {"premarket/prepare", "data/fetch/minute_candles",
                          "indicators/ema/compute", "indicators/rsi/compute",
                          "agent/decision/evaluate", "orders/submit"}
    orders = flows["orders/submit"]
    assert orders["status"] == "failed"
    assert orders["parent"] == "agent/decision/evaluate"
    assert orders["description"] == "Submit order to broker and await ack."
    assert orders["counts"]["failed"] == 1 and orders["counts"]["passed"] >= 1
    assert orders["slaP95Ms"] == 1000 and orders["p95Ms"] is not None
    assert orders["catalogued"] is True
    assert orders["workspaceFolder"] == uri(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    [marker] = orders["markers"]
    assert marker["uri"] == uri(broker)
    assert marker["range"]["start"]["line"] == find_line(broker, 'flowscribe.flow("orders/')
    flows_yaml = trading_ws / ".autodev" / "flows.yaml"
    assert orders["catalog"]["uri"] == uri(flows_yaml)
    assert orders["catalog"]["range"]["start"]["line"] == find_line(
        flows_yaml, '- id: "orders/submit"')
    last = orders["lastFailure"]
    assert last["errorClass"] == "EXTERNAL.TIMEOUT" and last["reason"]
    assert last["uri"] == uri(broker)
    assert last["line"] == find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"') + 1  # 1-based
    assert last["runId"] == orders["runId"] and last["eventId"]

    assert flows["indicators/rsi/compute"]["status"] == "disabled"
    assert flows["premarket/prepare"]["status"] == "passed"
    assert flows["agent/decision/evaluate"]["status"] == "failed"
    assert flows["premarket/prepare"]["parent"] is None


async def test_uncatalogued_and_never_run_flows(session: Session, shop_ws: Path) -> None:
    await session.start(shop_ws)
    flows = await wait_flows(session)
    assert flows["payment/refnd"]["status"] == "uncatalogued"  # only the code names it
    assert flows["payment/refnd"]["catalogued"] is False
    assert flows["shop/returns"]["status"] == "never_run"
    assert flows["shop/legacy"]["status"] == "disabled"
    assert flows["inventory/reserve"]["counts"]["failed"] == 3


async def test_flows_and_runs_count_a_run_as_its_summary_md_does(
        session: Session, shop_example_ws: Path) -> None:
    ws = shop_example_ws
    await session.start(ws)
    flows = await wait_flows(session)
    # One checkout ended with no verdict; three e-mails were still open at the end.
    assert flows["orders/checkout"]["counts"] == {
        "passed": 3, "failed": 1, "unfinished": 1, "orphaned": 0}
    assert flows["notifications/email"]["counts"] == {
        "passed": 0, "failed": 0, "unfinished": 0, "orphaned": 3}
    assert flows["notifications/email"]["status"] == "unfinished"
    # An exception's type, not only its class.
    reserve = flows["inventory/reserve"]["lastFailure"]
    assert reserve["errorClass"] == "SYSTEM" and reserve["exceptionType"] == "TimeoutError"
    charge = flows["payments/charge"]["lastFailure"]
    assert charge["errorClass"] == "BUSINESS.LIMIT_EXCEEDED" and charge["exceptionType"] is None

    [run] = (await session.request("flowscribe/runs", {}))["runs"]
    v = run["verdicts"]
    summary = (ws / ".autodev" / "latest" / "summary.md").read_text()
    assert f"✓ {v['passed']} passed · ✗ {v['failed']} failed · {v['unfinished']} unfinished" \
        f" · {v['orphaned']} orphaned" in summary, (v, summary)
    assert (v["unfinished"], v["orphaned"]) == (1, 3)
    assert v["unfinished"] == sum(f["counts"]["unfinished"] for f in flows.values())
    assert v["orphaned"] == sum(f["counts"]["orphaned"] for f in flows.values())
