"""Streaming run aggregates: counts, verdicts, percentiles, SLA, failures, orphans."""

from __future__ import annotations

import math
import random
import tracemalloc

import pytest
from _trace_events import Events

from flowscribe.aggregate import (
    MAX_FLOWS,
    OTHER_FLOWS,
    Quantiles,
    RunAggregate,
    aggregate_events,
    bucket_labels,
)


def feed(agg: RunAggregate, events: list[dict]) -> RunAggregate:
    for ev in events:
        agg.add(ev)
    return agg


def test_run_header_counts_and_verdicts_per_flow() -> None:
    e = Events()
    events = [e.run_start()]
    events += e.instance("orders/submit", "i1", "passed", 100.0)
    events += e.instance(
        "orders/submit", "i2", "failed", 1500.0,
        error_class="EXTERNAL.TIMEOUT", reason="no ack in 1s", line=42,
        evidence={"waited_ms": 1000},
    )
    events += e.instance("data/fetch/minute_candles", "i3", "unfinished", 5.0)
    events.append(e("summary", evidence={"flows": 3, "passed": 1, "redacted": 0}))
    agg = feed(RunAggregate(), events)

    assert (agg.run_id, agg.app, agg.mode, agg.tags) == (
        "20261125T140512Z-3f9a1c", "trading-app", "sim", ["demo"]
    )
    assert agg.started == 1001.0 and agg.ended_cleanly
    orders = agg.flows["orders/submit"]
    assert (orders.started, orders.ended, orders.passed, orders.failed) == (2, 2, 1, 1)
    assert orders.failures_by_class == {"EXTERNAL.TIMEOUT": 1}
    assert orders.status == "failed"
    fetch = agg.flows["data/fetch/minute_candles"]
    assert (fetch.unfinished, fetch.status) == (1, "unfinished")
    assert [i.instance for i in agg.unfinished] == ["i3"]
    assert agg.verdicts() == {
        "passed": 1, "failed": 1, "unfinished": 1, "orphaned": 0, "failures": 1, "exceptions": 0,
    }
    assert agg.has_failures


def test_first_and_latest_failure_keep_class_reason_location_and_evidence() -> None:
    e = Events()
    events = [e.run_start()]
    events += e.instance("data/fetch/minute_candles", "a", "failed", 3.0,
                         error_class="DATA.EMPTY", reason="0 rows", file="data.py", line=7,
                         evidence={"rows": 0})
    events.append(e("flow_start", "indicators/ema/compute", instance="b"))
    events.append(e("exception", "indicators/ema/compute", instance="b", error_class="SYSTEM",
                    file="ind.py", line=33,
                    exception={"type": "TypeError", "message": "bad operand", "frames": []}))
    agg = feed(RunAggregate(), events)

    first, latest = agg.first_failure, agg.last_failure
    assert first is not None and latest is not None
    assert (first.error_class, first.reason) == ("DATA.EMPTY", "0 rows")
    assert first.location == "data.py:7"
    assert first.evidence == {"rows": 0} and first.event_id == "p1-3"
    assert (latest.event_type, latest.error_class, latest.location) == (
        "exception", "SYSTEM", "ind.py:33"
    )
    assert latest.exception_type == "TypeError" and latest.reason == "bad operand"
    assert agg.exception_count == 1 and [x.location for x in agg.exceptions] == ["ind.py:33"]


def test_top_issues_group_repeats_by_flow_class_and_line() -> None:
    e = Events()
    events = [e.run_start()]
    for i in range(3):
        events += e.instance("orders/submit", f"o{i}", "failed", 1.0,
                             error_class="EXTERNAL.TIMEOUT", reason="late", line=42)
    events += e.instance("orders/submit", "x", "failed", 1.0,
                         error_class="EXTERNAL.REJECTED", reason="no", line=50)
    agg = feed(RunAggregate(), events)
    issues = agg.top_issues()
    assert [(i.first.error_class, i.count) for i in issues] == [
        ("EXTERNAL.TIMEOUT", 3), ("EXTERNAL.REJECTED", 1),
    ]
    assert issues[0].first.instance == "o0" and issues[0].latest.instance == "o2"


def test_durations_give_p50_p95_buckets_and_sla_check() -> None:
    e = Events()
    events = [e.run_start()]
    for i, ms in enumerate([10, 20, 30, 40, 60, 100, 250, 400, 900, 1200]):
        events += e.instance("orders/submit", f"o{i}", "passed", float(ms))
    agg = feed(RunAggregate([50, 200, 1000], sla_p95_ms={"orders/submit": 1000}), events)
    s = agg.flows["orders/submit"]
    assert s.p50_ms == 60.0  # nearest rank: the 5th of 10
    assert s.p95_ms == 1200.0
    assert s.buckets == [4, 2, 3, 1]
    assert s.bucket_labels() == ["<= 50 ms", "50-200 ms", "200-1000 ms", "> 1000 ms"]
    assert s.sla_p95_ms == 1000 and s.sla_ok is False
    assert RunAggregate().flow("x").sla_ok is None  # no target, no verdict


def test_quantiles_stay_within_documented_error_past_the_exact_limit() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(4, 1.5) for _ in range(50_000)]
    q = Quantiles()
    for v in values:
        q.add(v)
    assert not q.exact
    ordered = sorted(values)
    bound = (Quantiles.GAMMA - 1) / (Quantiles.GAMMA + 1) + 1e-9
    for p in (0.5, 0.9, 0.95, 0.99):
        exact = ordered[math.ceil(p * len(ordered)) - 1]
        got = q.percentile(p)
        assert got is not None and abs(got - exact) / exact <= bound
    assert q.count == 50_000 and q.min == ordered[0] and q.max == ordered[-1]


def test_quantiles_ignore_non_finite_values() -> None:
    q = Quantiles()
    for v in (float("nan"), float("inf"), 5.0, -3.0):
        q.add(v)
    assert q.count == 2 and q.percentile(1.0) == 5.0 and q.percentile(0.5) == 0.0
    assert Quantiles().percentile(0.5) is None


def test_orphans_from_the_summary_event_and_from_runs_that_never_ended() -> None:
    e = Events()
    events = [e.run_start(),
              e("flow_start", "premarket/prepare", instance="p1", line=5),
              e("flow_start", "orders/submit", instance="o1", line=9),
              e("summary", evidence={"orphaned": [{"instance": "p1", "flow_id":
                                                   "premarket/prepare"}]})]
    agg = feed(RunAggregate(), events)
    assert [(o.flow_id, o.instance, o.line) for o in agg.orphans()] == [
        ("premarket/prepare", "p1", 5), ("orders/submit", "o1", 9),
    ]
    assert agg.orphan_count() == 2
    assert agg.orphans_by_flow() == {"premarket/prepare": 1, "orders/submit": 1}

    killed = feed(RunAggregate(), events[:3])  # no summary: a killed run
    assert not killed.ended_cleanly
    assert [o.instance for o in killed.orphans()] == ["p1", "o1"]


def test_catalog_comparisons_and_redaction_count() -> None:
    e = Events()
    events = [e.run_start()]
    events += e.instance("orders/submit", "o", "passed", 1.0)
    events += e.instance("orders/expermental", "x", "passed", 1.0)
    events.append(e("checkpoint", "orders/submit", evidence={"auth": "[REDACTED]",
                                                             "nested": ["[REDACTED]"]}))
    agg = feed(RunAggregate(), events)
    catalog = ["orders/submit", "premarket/prepare"]
    assert agg.unknown_flows(catalog) == ["orders/expermental"]
    assert agg.never_seen(catalog) == ["premarket/prepare"]
    assert agg.redacted == 2
    agg.add(e("summary", evidence={"redacted": 5}))
    assert agg.redacted == 5


def test_events_of_another_run_are_ignored_and_counted() -> None:
    a, b = Events("run-a"), Events("run-b")
    agg = feed(RunAggregate(), [a.run_start(), b.run_start(), *a.instance("f", "1", "passed", 1)])
    assert agg.run_id == "run-a" and agg.foreign_events == 1 and agg.flows["f"].passed == 1


def test_aggregate_events_picks_the_last_run_of_a_shared_trace_and_its_tail() -> None:
    a, b = Events("run-a"), Events("run-b")
    stream = [a.run_start(), *a.instance("f", "1", "failed", 1, error_class="X"),
              b.run_start(), *b.instance("f", "2", "passed", 1)]
    agg, tail = aggregate_events(stream, tail=2)
    assert agg.run_id == "run-b" and agg.flows["f"].passed == 1 and not agg.has_failures
    assert [ev["event_type"] for ev in tail] == ["flow_start", "flow_end"]
    older, _ = aggregate_events(stream, run_id="run-a")
    assert older.failures == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"event_type": "flow_end", "flow_id": "f", "duration_ms": "slow", "status": 3},
        {"event_type": "failure", "flow_id": ["f"], "line": "x"},
        {"event_type": "failure", "flow_id": "f", "evidence": "nope", "exception": 5},
        {"event_type": "summary", "evidence": {"orphaned": ["i1", 7, {"instance": None}]}},
        {"event_type": "run_start", "evidence": {"argv": "x", "app": 3}, "tags": "t"},
        {"event_type": "metric", "flow_id": "f", "value": True, "step": None},
        {"event_type": "flow_end", "flow_id": "f", "instance": {"unhashable": 1}, "line": 2.5},
        {"event_type": "exception", "flow_id": None, "exception": "x", "evidence": [1]},
        {"event_type": "exception", "run_id": 7, "ts": "now", "pid": "p", "reason": 3},
        {},
    ],
)
def test_odd_field_types_never_raise(bad: dict) -> None:
    agg = RunAggregate()
    agg.add(bad)
    agg.orphans()
    agg.verdicts()
    agg.top_issues()


def test_an_exception_outside_any_flow_counts_for_the_run_and_its_issues() -> None:
    e = Events()
    crash = e("exception", None, error_class="SYSTEM", reason="ValueError: crash", file="app.py",
              line=6, severity="critical",
              exception={"type": "ValueError", "message": "crash", "frames": []})
    agg = feed(RunAggregate(), [e.run_start(), *e.instance("a/ok", "i1", "passed", 1.0), crash])
    assert (agg.exception_count, agg.outside_flows, agg.has_failures) == (1, 1, True)
    assert list(agg.flows) == ["a/ok"] and agg.flows["a/ok"].status == "passed"
    (issue,) = agg.top_issues()
    first = issue.first
    assert (first.flow_id, first.location, first.exception_type) == (None, "app.py:6", "ValueError")
    assert agg.first_failure is first and agg.exceptions == [first]
    assert agg.verdicts()["exceptions"] == 1


def _state(agg: RunAggregate) -> dict[str, object]:
    """What an aggregate tells its readers, in comparable form."""
    flows = {
        fid: (s.started, s.ended, s.passed, s.failed, s.unfinished, s.orphaned, s.failures,
              s.exceptions, s.checkpoints, s.successes, s.failures_by_class, s.buckets,
              s.p50_ms, s.p95_ms, s.sla_p95_ms, s.parent_flow, s.first_failure, s.last_failure,
              {k: (m.count, m.total, m.unit) for k, m in s.metrics.items()})
        for fid, s in agg.flows.items()
    }
    header = (agg.run_id, agg.app, agg.mode, agg.tags, agg.argv, agg.started, agg.ended,
              agg.last_ts, agg.pids, agg.events, agg.by_type, agg.summary_counts)
    return {"header": header, "flows": flows, "verdicts": agg.verdicts(),
            "issues": agg.top_issues(), "exceptions": agg.exceptions,
            "orphans": agg.orphans(), "unfinished": agg.unfinished,
            "failures": (agg.first_failure, agg.last_failure, agg.outside_flows)}


def test_trusted_batches_fold_exactly_like_checked_events() -> None:
    """The runtime's unchecked path and a trace reader's checked one are one fold."""
    e = Events()
    events = [e.run_start(argv=["app.py", "--fast"])]
    events += e.instance("orders/submit", "i1", "passed", 120.0)
    events += e.instance("orders/submit", "i2", "failed", 1500.0, error_class="EXTERNAL.TIMEOUT",
                         reason="late", line=42, evidence={"waited_ms": 1000})
    events += e.instance("data/fetch", "i3", "unfinished", 5.0)
    events += [
        e("flow_start", "agent/decide", instance="i4", parent_flow="orders/submit", pid=43),
        e("checkpoint", "agent/decide", instance="i4", step="scored", evidence={"n": 3}),
        e("success", "agent/decide", instance="i4", reason="buy"),
        e("metric", "agent/decide", instance="i4", step="latency_ms", value=3.5, unit="ms"),
        e("exception", "agent/decide", instance="i4", error_class="SYSTEM",
          reason="TypeError: bad", exception={"type": "TypeError", "message": "bad",
                                              "frames": []}),
        e("exception", None, error_class="SYSTEM", reason="ValueError: crash", thread="w1",
          exception={"type": "ValueError", "message": "crash", "frames": []}),
        e("summary", evidence={"flows": 4, "orphaned": 1, "redacted": 2, "orphaned_instances": [
            {"instance": "i4", "flow_id": "agent/decide", "file": "app.py", "line": 10}]}),
    ]
    checked = feed(RunAggregate([50, 200, 1000], {"orders/submit": 1000}), events)
    trusted = RunAggregate([50, 200, 1000], {"orders/submit": 1000}, run_id=e.run_id)
    trusted.add_trusted(events[:7])
    trusted.add_trusted(events[7:])
    assert _state(trusted) == _state(checked)
    assert trusted.flows["orders/submit"].buckets == [0, 1, 0, 1]
    assert trusted.redacted == checked.redacted == 2


def test_trusted_events_take_the_runtimes_redaction_count() -> None:
    e = Events()
    agg = RunAggregate()
    agg.add_trusted([e("checkpoint", "a/b", evidence={"token": "[REDACTED]"})])
    assert agg.redacted == 0  # the runtime's events are not scanned for markers
    agg.note_redacted(3)
    agg.note_redacted(2)
    assert agg.redacted == 3


def test_non_finite_numbers_read_from_a_trace_count_as_missing() -> None:
    e = Events()
    agg = feed(RunAggregate(), [
        e("flow_end", "f", status="passed", duration_ms=math.inf, ts=math.nan),
        e("metric", "f", step="m", value=math.nan),
    ])
    s = agg.flows["f"]
    assert (s.passed, s.durations.count, s.buckets, s.metrics) == (1, 0, [0, 0, 0, 0], {})
    assert agg.last_ts == 1002.0


def test_metrics_are_summarised_per_flow() -> None:
    e = Events()
    agg = feed(RunAggregate(), [
        e("metric", "orders/submit", step="latency_ms", value=v, unit="ms") for v in (10, 30)
    ])
    m = agg.flows["orders/submit"].metrics["latency_ms"]
    assert (m.count, m.min, m.max, m.mean, m.unit) == (2, 10, 30, 20, "ms")


def test_bucket_labels_without_bounds() -> None:
    assert bucket_labels([]) == ["all"]
    assert bucket_labels([0.5, 2]) == ["<= 0.5 ms", "0.5-2 ms", "> 2 ms"]


def test_memory_stays_flat_over_many_events() -> None:
    """30k flow instances over a handful of flows: the aggregate does not grow with them."""
    e = Events()
    agg = RunAggregate()
    agg.add(e.run_start())
    rng = random.Random(1)

    def run(n: int) -> None:
        for i in range(n):
            fid = f"flow/{i % 5}"
            inst = f"i{e.seq}"
            agg.add(e("flow_start", fid, instance=inst))
            if i % 10 == 0:
                agg.add(e("failure", fid, instance=inst, error_class=f"C{i % 3}", line=i % 7))
            agg.add(e("flow_end", fid, instance=inst, status="passed",
                      duration_ms=rng.expovariate(0.01)))

    run(20_000)  # past every sketch's exact phase and its histograms' growth
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    run(30_000)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert agg.events == 1 + 50_000 * 2 + 5_000
    assert grown < 50_000, f"aggregate grew by {grown} bytes over 30k instances"


def test_flow_ids_past_the_cap_share_the_other_flows_stats_and_the_totals_hold() -> None:
    e = Events()
    events = [e.run_start()]
    for i in range(10):
        if i == 7:
            events += e.instance(f"orders/{i}", f"i{i}", "failed", 7.0, error_class="DATA.EMPTY")
        else:
            events += e.instance(f"orders/{i}", f"i{i}", "passed", float(i))
    events += e.instance("catalog/flow", "c", "passed", 1.0)  # a kept id, seen last
    agg = feed(RunAggregate(max_flows=3, keep_flows=["catalog/flow"]), events)

    assert sorted(agg.flows) == sorted(["orders/0", "orders/1", "orders/2", OTHER_FLOWS,
                                        "catalog/flow"])
    other = agg.flows[OTHER_FLOWS]
    assert (other.started, other.passed, other.failed) == (7, 6, 1)
    assert agg.flows_folded and agg.other_flow_events > 0
    assert agg.verdicts()["passed"] + agg.verdicts()["failed"] == 11
    # the failure keeps its own flow id, only its counts are the long tail's
    assert agg.first_failure is not None and agg.first_failure.flow_id == "orders/7"
    assert agg.unknown_flows(["orders/0"]) == ["catalog/flow", "orders/1", "orders/2"]


def test_memory_stays_bounded_with_many_distinct_flow_ids() -> None:
    e = Events()
    agg = RunAggregate()
    agg.add(e.run_start())
    tracemalloc.start()
    try:
        for i in range(MAX_FLOWS + 2000):
            for ev in e.instance(f"orders/{i}", f"i{i}", "passed", 1.0):
                agg.add(ev)
            if i == MAX_FLOWS + 500:
                at_cap = tracemalloc.get_traced_memory()[0]
        grown = tracemalloc.get_traced_memory()[0] - at_cap
    finally:
        tracemalloc.stop()
    assert len(agg.flows) == MAX_FLOWS + 1
    assert grown < 64 * 1024, grown  # 1,500 more ids: well under 1.5 KB each
