"""Issue 3, point 5: hover on a flow id, in code and in flows.yaml; trace text inert.
Issue 7, point 6 and issue 13: compact (a few lines, most important first), the run by its
time, ids in code spans, and no backslashes where markdown needs none (Neovim shows them)."""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path

from _lsp_session import Session, col, find_line
from _lsp_workspaces import run_app
from _markdown_html import render, shown_text
from lsprotocol import types as lsp

from flowscribe.artifacts import fmt_ms


async def _hover_when_run(session: Session, path: Path, line: int, character: int,
                          also: str = "") -> str:
    for _ in range(400):
        text = await session.hover(path, line, character)
        if text and "latest run" in text and "reading trace" not in text and also in text:
            return text
        await session.settle(0.05)
    raise AssertionError(f"no hover with run results: {text}")


async def test_hover_in_code_shows_catalog_and_latest_run(
        session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    line = find_line(broker, 'flowscribe.flow("orders/submit"')
    text = await _hover_when_run(session, broker, line, col(broker, line, "orders/") + 3,
                                 also="latency:")
    lines = text.split("  \n")
    # Most important first: what the flow is, then what the latest run did.
    assert lines[0] == "**`orders/submit`** — Submit order to broker and await ack."
    run = re.fullmatch(r"latest run (\d\d:\d\d:\d\d) · ✓ (\d+)  ✗ 1  p95 [\d.]+ ms "
                       r"\(SLA 1000 ms\)  last: EXTERNAL\.TIMEOUT", lines[1])
    assert run, lines[1]
    fail_line = find_line(broker, 'f.failure("EXTERNAL.TIMEOUT"') + 1
    assert lines[2] == ("last failure: `EXTERNAL.TIMEOUT` no ack from the broker at "
                        f"`trading/broker.py:{fail_line}`")
    assert lines[3] == "parent: `premarket/prepare` › `agent/decision/evaluate`"
    assert lines[4] == ("success: ack received with order_id · "
                        "fails as: `EXTERNAL.TIMEOUT`, `EXTERNAL.REJECTED`")
    # Last, the latency: percentiles against the SLA, then the histogram (fenced).
    assert re.match(r"latency: p50 [\d.]+ ms · p95 [\d.]+ ms · p99 [\d.]+ ms · "
                    r"SLA p95 1000 ms ✓ · \d+ ended\n```text\n<= 50 ms ", lines[5]), lines[5]
    assert len(lines) == 6 and "\n\n" not in text  # compact: no blank lines between
    # The time, not the raw run id; and nothing escaped that needs no escaping.
    run_id = (trading_ws / ".autodev" / "latest").resolve().name
    assert run_id not in text and "\\" not in text


async def test_hover_in_flows_yaml(session: Session, trading_ws: Path) -> None:
    await session.start(trading_ws)
    flows = trading_ws / ".autodev" / "flows.yaml"
    line = find_line(flows, '- id: "data/fetch/minute_candles"')
    text = await _hover_when_run(session, flows, line, col(flows, line, "fetch"))
    assert text.startswith("**`data/fetch/minute_candles`** — Fetch minute candles for the "
                           "active ticker and date.")
    assert "(SLA 800 ms)" in text and "last failure: `DATA.EMPTY` no minute candles" in text
    # Brackets and ">=" in catalog text make no link and need no backslash.
    assert "success: rows >= 300 (+1 more)" in text
    assert "fails as: `DATA.EMPTY`, `EXTERNAL.4xx`, `EXTERNAL.5xx` +1" in text
    parent = find_line(flows, 'parent: "agent/decision/evaluate"')
    assert await session.hover(flows, parent, col(flows, parent, "decision")) is not None
    assert await session.hover(flows, 0, 0) is None
    disabled = find_line(flows, '- id: "indicators/rsi/compute"')
    text = await _hover_when_run(session, flows, disabled, col(flows, disabled, "rsi"))
    assert text.split("  \n")[0] == (
        "**`indicators/rsi/compute`** — Relative strength index (not used by the agent yet)."
        " · disabled in flows.yaml")
    assert "not in the latest run" in text


#: Under the hover's 160 characters of free text.
HOSTILE_REASON = ("[run me](command:workbench.action.terminal.new) <img src=x onerror=1> "
                  "<script>x</script> https://evil.example/a_b www.e.example a@e.example "
                  "**b** ~~g~~")


async def test_nothing_from_a_trace_becomes_a_link_or_html(
        session: Session, tmp_path: Path) -> None:
    ws = tmp_path / "evil"
    ws.mkdir()
    (ws / "app.py").write_text(textwrap.dedent(f'''\
        import flowscribe

        flowscribe.init(app_name="evil", root=".")
        with flowscribe.flow("evil/flow") as f:
            f.failure("X.Y", {HOSTILE_REASON!r})
        flowscribe.end_session()
        '''))
    (ws / ".autodev").mkdir()
    (ws / ".autodev" / "ra.yaml").write_text("version: 1\nprofile: all\n")
    run_app(ws)
    app = ws / "app.py"
    session.open(app)
    await session.start(ws)
    line = find_line(app, 'flowscribe.flow("evil/flow")')
    text = await _hover_when_run(session, app, line, col(app, line, "evil/"))
    # Rendered as a permissive editor renders it: no link (not even an autolink), no tag,
    # no emphasis; the reader sees the recorded characters as they are.
    out = render(text)
    for made in ("<a ", "<img", "<script", "<em>", "<del>", "<s>"):
        assert made not in out, out
    assert out.count("<strong>") == 1  # our own: the flow id
    assert f"last failure: X.Y {HOSTILE_REASON} at app.py:5" in shown_text(text)


IDS_APP = textwrap.dedent('''\
    import flowscribe

    flowscribe.init(app_name="ids", root=".")
    with flowscribe.flow("ohlc/[09:30,16:00]/fetch_v2") as f:
        f.failure("DATA.EMPTY", "window [09:30,16:00] had rows_min: 0, want >= 300")
    flowscribe.end_session()
    ''')
IDS_FLOWS = textwrap.dedent('''\
    version: 1
    flows:
      - id: "ohlc/[09:30,16:00]/fetch_v2"
        description: "Fetch bars for [09:30,16:00], a_b_c: x, y; see <script>alert(1)</script>"
        parent: "data/fetch/minute_candles"
        failure_classes: ["DATA.EMPTY"]
      - id: "data/fetch/minute_candles"
    ''')


async def test_ids_and_punctuation_read_as_written(session: Session, tmp_path: Path) -> None:
    """Issue 13: ids with / _ [ ] : , in code spans and prose with them show no
    backslashes (Neovim shows markdown source); HTML in the same text stays inert."""
    ws = tmp_path / "ids"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "ra.yaml").write_text("version: 1\nprofile: all\n")
    (ws / ".autodev" / "flows.yaml").write_text(IDS_FLOWS)
    (ws / "app.py").write_text(IDS_APP)
    run_app(ws)
    app = ws / "app.py"
    session.open(app)
    await session.start(ws)
    line = find_line(app, "ohlc/[09:30")
    text = await _hover_when_run(session, app, line, col(app, line, "ohlc/") + 6)
    lines = text.split("  \n")
    assert lines[0] == ("**`ohlc/[09:30,16:00]/fetch_v2`** — Fetch bars for [09:30,16:00], "
                        "a_b_c: x, y; see &lt;script>alert(1)&lt;/script>")
    assert lines[2] == ("last failure: `DATA.EMPTY` window [09:30,16:00] had rows_min: 0, "
                        "want >= 300 at `app.py:5`")
    assert "parent: `data/fetch/minute_candles`" in lines
    out = render(text)
    assert "<script" not in out and "<a " not in out
    assert "see <script>alert(1)</script>" in shown_text(text)  # as text, not as a tag


async def test_plain_text_for_a_client_without_markdown(
        session: Session, trading_ws: Path) -> None:
    caps = lsp.ClientCapabilities(text_document=lsp.TextDocumentClientCapabilities(
        hover=lsp.HoverClientCapabilities(content_format=[lsp.MarkupKind.PlainText])))
    await session.start(trading_ws, capabilities=caps)
    broker = trading_ws / "trading" / "broker.py"
    session.open(broker)
    line = find_line(broker, 'flowscribe.flow("orders/submit"')
    result = await session.client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=broker.as_uri()),
        position=lsp.Position(line=line, character=col(broker, line, "orders/") + 2)))
    assert result is not None and isinstance(result.contents, lsp.MarkupContent)
    assert result.contents.kind == lsp.MarkupKind.PlainText
    text = result.contents.value
    assert text.startswith("orders/submit — Submit order to broker and await ack.\n")
    assert "\nparent: premarket/prepare › agent/decision/evaluate\n" in text
    assert "\\" not in text and "**" not in text and "`" not in text


LATENCY_APP = textwrap.dedent('''\
    import time

    import flowscribe

    flowscribe.init(app_name="lat", root=".")
    for n in range(24):
        with flowscribe.flow("jobs/run", n=n) as f:
            time.sleep(0.03 if n % 3 == 0 else 0.0)  # a fast path and a slow one
            f.success("done")
    flowscribe.end_session()
    ''')


def _nearest_rank(values: list[float], q: float) -> float:
    """The smallest value with at least ``q`` of all values at or below it."""
    return sorted(values)[max(1, math.ceil(q * len(values))) - 1]


#: A histogram row: label, bar (eighth blocks), count, what falls in it (p50 p95 p99 SLA).
ROW = re.compile(r"(.+? ms) +[█▏▎▍▌▋▊▉]* +(\d+)(?:  ([\w ]+))?")


async def test_hover_latency_is_the_runs_percentiles_over_ra_yaml_buckets(
        session: Session, tmp_path: Path) -> None:
    """Issue 14 §5: p50/p95/p99 of the latest run, against the SLA, with a histogram over
    ra.yaml's buckets: the numbers are the ones the trace's durations give."""
    ws = tmp_path / "lat"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "ra.yaml").write_text(
        "version: 1\nprofile: all\nperformance:\n  latency_buckets_ms: [10, 20, 5000]\n"
        "  sla_overrides:\n    \"jobs/*\": { p95_ms: 15 }\n")
    (ws / "app.py").write_text(LATENCY_APP)
    assert run_app(ws).returncode == 0
    run_trace = (ws / ".autodev" / "latest").resolve() / "trace.jsonl"
    durations = [ev["duration_ms"] for ev in map(json.loads, run_trace.read_text().splitlines())
                 if ev["event_type"] == "flow_end"]
    assert len(durations) == 24
    app = ws / "app.py"
    session.open(app)
    await session.start(ws)
    line = find_line(app, 'flowscribe.flow("jobs/run"')
    text = await _hover_when_run(session, app, line, col(app, line, "jobs/"), also="latency:")
    want = " · ".join(f"p{q} {fmt_ms(_nearest_rank(durations, q / 100))}"
                      for q in (50, 95, 99))
    assert f"latency: {want} · SLA p95 15 ms ✗ over · 24 ended\n```text\n" in text, text
    block = text.split("```text\n")[1].split("\n```")[0]
    rows = [ROW.fullmatch(r) for r in block.split("\n")]
    assert all(rows), rows
    counts = [sum(1 for d in durations if lo < d <= hi) for lo, hi in
              ((-1, 10), (10, 20), (20, 5000), (5000, float("inf")))]
    assert [(m[1], int(m[2])) for m in rows if m] == list(zip(
        ["<= 10 ms", "10-20 ms", "20-5000 ms", "> 5000 ms"], counts))
    assert counts[2] == 8  # the slow path (every third job) is its own bucket
    notes = {m[1]: (m[3] or "").split() for m in rows if m}
    assert "SLA" in notes["10-20 ms"] and "p95" in notes["20-5000 ms"]
