"""Issue 3, point 8: the custom requests and notification a sidebar is built from
(docs/lsp-protocol.md): flows, runs, the events of a flow instance, a failure prompt,
and ``flowscribe/runsChanged``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from _lsp_session import Session, find_line, uri
from _lsp_workspaces import run_app


async def _flows(session: Session) -> dict[str, Any]:
    """The flow tree once the run is read and the code scanned (both in the background)."""
    for _ in range(400):
        nodes = (await session.request("flowscribe/flows", {}))["flows"]
        if any(n["status"] not in ("never_run", "disabled") for n in nodes) and \
                any(n["markers"] for n in nodes):
            return {n["id"]: n for n in nodes}
        await session.settle(0.05)
    raise AssertionError("flows never showed run results")


async def test_the_flow_tree(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = await _flows(session)
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
    flows = await _flows(session)
    assert flows["payment/refnd"]["status"] == "uncatalogued"  # only the code names it
    assert flows["payment/refnd"]["catalogued"] is False
    assert flows["shop/returns"]["status"] == "never_run"
    assert flows["shop/legacy"]["status"] == "disabled"
    assert flows["inventory/reserve"]["counts"]["failed"] == 3


async def test_flows_and_runs_count_a_run_as_its_summary_md_does(
        session: Session, shop_example_ws: Path) -> None:
    ws = shop_example_ws
    await session.start(ws)
    flows = await _flows(session)
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


async def test_runs_newest_first_with_verdicts_and_artifacts(
        session: Session, trading_ws: Path) -> None:
    run_app(trading_ws, "--fixed")
    await session.start(trading_ws)
    runs = (await session.request("flowscribe/runs", {}))["runs"]
    assert len(runs) == 2
    newest, older = runs
    latest = (trading_ws / ".autodev" / "latest").resolve()
    assert newest["runId"] == latest.name and newest["isLatest"]
    assert newest["started"] >= older["started"]
    assert newest["app"] == "trading-app" and newest["mode"] == "sim"
    assert newest["verdicts"]["failed"] == 2 and older["verdicts"]["failed"] == 3
    assert newest["verdicts"]["exceptions"] == 1
    assert newest["artifacts"]["summary"] == uri(latest / "summary.md")
    assert newest["artifacts"]["trace"] == uri(latest / "trace.jsonl")
    assert newest["workspaceFolder"] == uri(trading_ws)


async def test_events_of_one_flow_instance(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = await _flows(session)
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


async def test_failure_prompt_is_focused_fenced_and_capped(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = await _flows(session)
    last = flows["orders/submit"]["lastFailure"]
    result = await session.request("flowscribe/failurePrompt",
                                    {"runId": last["runId"], "eventId": last["eventId"]})
    prompt = result["prompt"]
    assert "orders/submit" in prompt and "EXTERNAL.TIMEOUT" in prompt
    line = find_line(trading_ws / "trading" / "broker.py", 'f.failure("EXTERNAL.TIMEOUT"')
    assert f"trading/broker.py:{line + 1}" in prompt
    assert "never as instructions" in prompt
    assert "no ack from the broker" in prompt and "```" in prompt
    assert "Submit order to broker and await ack." in prompt  # the catalog entry
    assert "demo-key-not-a-real-secret" not in prompt  # the runtime redacted it
    assert len(prompt) <= 12_000
    missing = await session.request("flowscribe/failurePrompt",
                                     {"runId": last["runId"], "eventId": "nope"})
    assert missing["prompt"] == "" and "not found" in missing["error"]


async def test_runs_changed_is_notified_on_a_new_run(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    await _flows(session)
    session.notifications.clear()
    run_app(trading_ws, "--fixed")
    latest = (trading_ws / ".autodev" / "latest").resolve().name

    def seen() -> bool:
        return any(p["runId"] == latest for _, p in session.notifications)

    await session.wait_until(seen, "flowscribe/runsChanged")
    _, params = session.notifications[-1]
    assert params["workspaceFolder"] == uri(trading_ws)


async def test_runs_changed_is_notified_on_a_test_run_that_is_not_the_latest(
        session: Session, trading_ws: Path) -> None:
    """Issue 9 §1: a pytest session's run never becomes the latest run, yet the Runs view
    must hear of it (found by tests/e2e/test_runs_view.py: it never showed up)."""
    await session.start(trading_ws)
    await _flows(session)
    latest = (trading_ws / ".autodev" / "latest").resolve().name
    await session.settle(1.5)  # the server has seen the runs folder as it is
    session.notifications.clear()
    (trading_ws / "test_tiny.py").write_text(
        "import flowscribe\n\n\ndef test_a_flow():\n"
        "    with flowscribe.flow('tests/tiny') as f:\n        f.success('ok')\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_tiny.py"], cwd=trading_ws, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (trading_ws / ".autodev" / "latest").resolve().name == latest

    await session.wait_until(lambda: bool(session.notifications), "flowscribe/runsChanged")
    runs = (await session.request("flowscribe/runs", {}))["runs"]
    assert [r["runId"] for r in runs if r["isLatest"]] == [latest]
    assert [r for r in runs if r.get("testRun")], runs


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
    flows = await _flows(session)
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
