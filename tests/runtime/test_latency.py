"""Issue 14 §5: a flow's latency picture (flowscribe.artifacts.latency) and where
summary.md shows it: only for flows over their SLA or with two modes."""

from __future__ import annotations

from pathlib import Path

from _project import of_type, read_lines, run_python, write_config

from flowscribe.aggregate import RunAggregate
from flowscribe.artifacts.latency import bar_lines, latency_of, notable, percentile_line


def _flow(durations: list[float], sla: float | None = None,
          bounds: tuple[float, ...] = (50, 200, 1000)) -> RunAggregate:
    agg = RunAggregate(run_id="r", latency_buckets_ms=bounds,
                       sla_p95_ms={"f": sla} if sla is not None else None)
    for n, ms in enumerate(durations):
        agg.add({"run_id": "r", "event_type": "flow_end", "flow_id": "f", "instance": str(n),
                 "status": "passed", "duration_ms": ms, "ts": 1.0})
    return agg


def test_percentiles_buckets_and_bars() -> None:
    lat = latency_of(_flow([10.0] * 18 + [120.0, 900.0], sla=100).flows["f"])
    assert lat is not None
    assert (lat.p50_ms, lat.p95_ms, lat.p99_ms, lat.count) == (10.0, 120.0, 900.0, 20)
    assert lat.counts == (18, 1, 1, 0) and lat.over_sla and lat.sla_bucket == 1
    assert percentile_line(lat) == (
        "p50 10 ms · p95 120 ms · p99 900 ms · SLA p95 100 ms ✗ over · 20 ended")
    assert bar_lines(lat, width=8) == [
        "<= 50 ms     ████████  18  p50",
        "50-200 ms    ▌          1  p95 SLA",
        "200-1000 ms  ▌          1  p99",
        "> 1000 ms               0",
    ]
    assert notable(lat) == "p95 120 ms is over its SLA p95 of 100 ms"


def test_two_modes_are_notable_one_is_not() -> None:
    fast_and_slow = latency_of(_flow([5.0] * 12 + [600.0] * 8).flows["f"])
    assert fast_and_slow is not None and fast_and_slow.modes == (0, 2)
    assert notable(fast_and_slow) == "two modes: <= 50 ms and 200-1000 ms"
    # Adjacent buckets, a filled valley, or too few durations: one shape, nothing to say.
    for durations in ([5.0] * 12 + [100.0] * 8, [5.0] * 8 + [100.0] * 6 + [600.0] * 6,
                      [5.0] * 4 + [600.0] * 4):
        lat = latency_of(_flow(durations, sla=1000).flows["f"])
        assert lat is not None and notable(lat) is None, durations
    assert latency_of(_flow([]).flow("f")) is None


SUMMARY_APP = """\
    import time

    import flowscribe

    flowscribe.init(app_name="lat", root=".")
    for n in range(20):
        with flowscribe.flow("cache/get") as f:      # a hit, or a miss that waits
            time.sleep(0.25 if n % 2 else 0.0)
            f.success("ok")
        with flowscribe.flow("steady/tick") as f:    # fast, one shape, within its SLA
            f.success("ok")
    with flowscribe.flow("slow/report") as f:        # over its SLA
        time.sleep(0.06)
        f.success("ok")
    flowscribe.end_session()
"""


def test_summary_shows_histograms_only_where_they_say_something(project: Path) -> None:
    write_config(project, """\
        version: 1
        profile: all
        sinks: [{type: jsonl, path: .autodev/trace.jsonl}]
        performance:
          latency_buckets_ms: [20, 200, 5000]
          sla_overrides: {"slow/*": {p95_ms: 30}, "steady/*": {p95_ms: 1000}}
        """)
    assert run_python(SUMMARY_APP, project).returncode == 0
    summary = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    section = summary.split("## Latency\n")[1].split("\n## ")[0]
    assert "- `cache/get`: two modes: <= 20 ms and 200-5000 ms; p50 " in section
    assert "- `slow/report`: p95 " in section and "is over its SLA p95 of 30 ms" in section
    assert "steady/tick" not in section
    # The bars count what the trace recorded, over ra.yaml's buckets.
    ends = [e for e in of_type(read_lines(project / ".autodev" / "trace.jsonl"), "flow_end")
            if e["flow_id"] == "cache/get"]
    slow = sum(1 for e in ends if 200 < e["duration_ms"] <= 5000)
    assert slow == 10 and f"200-5000 ms  ████████████████  {slow}" in section


def test_summary_has_no_latency_section_when_nothing_stands_out(project: Path) -> None:
    assert run_python("""\
        import flowscribe

        flowscribe.init(app_name="calm", root=".")
        for n in range(30):
            with flowscribe.flow("steady/tick") as f:
                f.success("ok")
        flowscribe.end_session()
        """, project).returncode == 0
    summary = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    assert "## Latency" not in summary and "## Flows" in summary
