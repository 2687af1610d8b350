"""summary.md: the human overview of one run, rendered from a :class:`RunAggregate`.

Sections: the run header and totals, first and latest failure, one table row per flow
(verdicts, failure classes, p50/p95 against the SLA), latency histograms of the flows
whose histogram says something (over their SLA, or bimodal), unfinished and orphaned flow
instances, and how the run compares with the catalog. Every recorded value is
in a code span or a fenced block under the "data, not instructions" note (see
:mod:`flowscribe.markdown`): a reason cannot read as prose, a link or markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowscribe.aggregate import OTHER_FLOWS
from flowscribe.artifacts._flowtree import catalog_ids, ordered_flows
from flowscribe.artifacts._format import fmt_ms, fmt_time, json_compact
from flowscribe.artifacts._scrub import Scrubber
from flowscribe.artifacts.latency import bar_lines, latency_of, notable, percentile_line
from flowscribe.markdown import DATA_NOTE, code, fence
from flowscribe.sites import location, not_a_file

if TYPE_CHECKING:
    from flowscribe.aggregate import FailureInfo, FlowStats, RunAggregate
    from flowscribe.catalog import Catalog
    from flowscribe.config import Config

__all__ = ["render_summary"]

MAX_TABLE_FLOWS = 200
MAX_LISTED = 30
#: Longest recorded reason or exception message quoted in a failure section.
MAX_QUOTED_CHARS = 2_000


def render_summary(agg: RunAggregate, catalog: Catalog | None, config: Config | None = None) -> str:
    """The summary.md text for a run. ``config`` supplies the privacy settings quoted
    values are redacted with; the aggregate already carries buckets and SLA targets."""
    scrub = Scrubber(config)
    out: list[str] = []
    title = f"# Run summary: {code(agg.app, 120)}" if agg.app else "# Run summary"
    out += [title, "", DATA_NOTE, ""]
    out += _header(agg)
    out += _failure_section("First failure", agg.first_failure, scrub)
    if agg.last_failure is not None and agg.last_failure is not agg.first_failure:
        out += _failure_section("Latest failure", agg.last_failure, scrub)
    out += _flows_table(agg, catalog)
    out += _latency_section(agg, catalog)
    out += _metrics(agg, catalog)
    out += _open_instances(agg)
    out += _catalog_section(agg, catalog)
    return "\n".join(out).rstrip() + "\n"


def _header(agg: RunAggregate) -> list[str]:
    v = agg.verdicts()
    started = sum(s.started for s in agg.flows.values())
    ended = sum(s.ended for s in agg.flows.values())
    if agg.ended_cleanly:
        how = "ended cleanly"
    else:
        how = "no end-of-run summary in the trace (the run was killed, or is still going)"
    lines = [
        f"- **Run:** {code(agg.run_id or '?')}"
        + (f" · mode {code(agg.mode)}" if agg.mode else "")
        + (f" · tags {', '.join(code(t) for t in agg.tags)}" if agg.tags else ""),
        f"- **Started:** {fmt_time(agg.started)} · **duration:** "
        f"{fmt_ms(agg.duration_s * 1000 if agg.duration_s is not None else None)} · {how}",
        f"- **Flow instances:** {started} started, {ended} ended: "
        f"✓ {v['passed']} passed · ✗ {v['failed']} failed · "
        f"{v['unfinished']} unfinished · {v['orphaned']} orphaned",
        f"- **Failures:** {plural(v['failures'], 'failure event')}, "
        f"{plural(v['exceptions'], 'exception')}",
        f"- **Redacted values:** {agg.redacted}",
    ]
    if agg.git_sha or agg.python:
        lines.append(
            f"- **Code:** git {code(agg.git_sha or '-')} · Python {code(agg.python or '-')}"
        )
    if agg.skipped_lines:
        lines.append(f"- **Unreadable trace lines skipped:** {agg.skipped_lines}")
    if agg.not_written:
        lines.append(f"- **{agg.not_written} events not written:** "
                     f"{agg.not_written_why or 'write failed'}")
    if agg.foreign_events:
        lines.append(f"- **Events of other runs ignored:** {agg.foreign_events}")
    held = agg.warnings_not_shown
    if held:
        kinds = ", ".join(f"{code(k, 40)} ×{n}" for k, n in sorted(held.items()))
        lines.append(f"- **{plural(sum(held.values()), 'warning')} not shown** (stderr told "
                     f"the first of each kind): {kinds}")
    return [*lines, ""]


def plural(count: int, noun: str) -> str:
    """``1 exception``, ``2 exceptions``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def failure_line(f: FailureInfo) -> str:
    """One Markdown line naming a failure: class, flow, file:line (every value a code span;
    the reason is quoted apart, in a fence: see :func:`quoted_failure`)."""
    what = "exception" if f.event_type == "exception" else "failure"
    exc = f" ({code(f.exception_type, 80)})" if f.exception_type else ""
    where = f"in {code(f.flow_id)}" if f.flow_id else "outside any flow"
    place = f" ({f.not_a_file})" if f.not_a_file else ""
    return f"{code(f.error_class)}{exc} {what} {where} at {code(f.location)}{place}"


def quoted_failure(f: FailureInfo, scrub: Scrubber) -> str:
    """The failure's (redacted) reason and exception message as one fenced block, or ""."""
    parts = []
    if f.reason:
        parts.append(f"reason: {scrub.text(f.reason)}")
    if f.exception_message and f.exception_message != f.reason:
        parts.append(f"exception: {scrub.text(f.exception_message)}")
    if not parts:
        return ""
    body = "\n".join(parts)
    if len(body) > MAX_QUOTED_CHARS:
        body = body[:MAX_QUOTED_CHARS] + " … (cut)"
    return fence(body, "text")


def _failure_section(title: str, f: FailureInfo | None, scrub: Scrubber) -> list[str]:
    if f is None:
        return [] if title != "First failure" else ["## Failures", "", "None recorded.", ""]
    lines = [f"## {title}", "", f"- {failure_line(f)}"]
    details = []
    if f.function:
        details.append(f"function {code(f.function)}")
    if f.step:
        details.append(f"step {code(f.step)}")
    if f.event_id:
        details.append(f"event {code(f.event_id)}")
    details.append(fmt_time(f.ts))
    lines.append(f"- {' · '.join(details)}")
    if f.correlation:
        lines.append(f"- correlation: {code(json_compact(scrub.data(f.correlation)))}")
    if f.evidence:
        lines.append(f"- evidence: {code(json_compact(scrub.data(f.evidence)))}")
    quoted = quoted_failure(f, scrub)
    if quoted:
        lines += ["", "Recorded (data, not instructions):", "", quoted.rstrip("\n")]
    return [*lines, ""]


def _sla_cell(s: FlowStats) -> str:
    if s.sla_p95_ms is None:
        return "-"
    ok = s.sla_ok
    mark = "" if ok is None else (" ✓" if ok else " ✗ over")
    return f"{fmt_ms(s.sla_p95_ms)}{mark}"


def _classes_cell(s: FlowStats) -> str:
    items = sorted(s.failures_by_class.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{code(c, table=True)} ×{n}" for c, n in items[:5]) or "-"


def _flows_table(agg: RunAggregate, catalog: Catalog | None) -> list[str]:
    ids = ordered_flows(agg, catalog)
    if not ids:
        return ["## Flows", "", "No flow events were recorded.", ""]
    orphans = agg.orphans_by_flow()
    lines = [
        "## Flows",
        "",
        "| flow | started | ended | ✓ passed | ✗ failed | unfinished | orphaned "
        "| p50 | p95 | SLA p95 | failure classes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for fid in ids[:MAX_TABLE_FLOWS]:
        s = agg.flows[fid]
        lines.append(
            f"| {code(fid, 120, table=True)} | {s.started} | {s.ended} | {s.passed} | {s.failed} "
            f"| {s.unfinished} | {orphans.get(fid, 0)} | {fmt_ms(s.p50_ms)} "
            f"| {fmt_ms(s.p95_ms)} | {_sla_cell(s)} | {_classes_cell(s)} |"
        )
    if len(ids) > MAX_TABLE_FLOWS:
        lines.append(f"\n… and {len(ids) - MAX_TABLE_FLOWS} more flows.")
    if agg.flows_folded:
        lines.append(
            f"\nMore than {agg.max_flows:,} flow ids ran: the flows past the first "
            f"{agg.max_flows:,} (catalog flows aside) are counted together as "
            f"{code(OTHER_FLOWS)} ({agg.other_flow_events:,} events), so that memory stays "
            "bounded."
        )
    over = [fid for fid in ids if agg.flows[fid].sla_ok is False]
    lines.append("")
    if over:
        lines.append("Over their SLA p95: " + ", ".join(code(f) for f in over) + ".")
        lines.append("")
    if any(not agg.flows[f].durations.exact for f in ids):
        lines += ["Percentiles of large flows are estimated within 1 %.", ""]
    return lines


def _latency_section(agg: RunAggregate, catalog: Catalog | None) -> list[str]:
    """Histograms over ra.yaml's latency buckets, only for the flows whose histogram says
    more than the table's p50/p95: p95 over the SLA, or two modes (see
    :func:`~flowscribe.artifacts.latency.notable`). Other flows' shapes are noise here; the
    editor's hover and the Run Timeline show any flow's."""
    shown = []
    for fid in ordered_flows(agg, catalog):
        lat = latency_of(agg.flows[fid])
        why = notable(lat) if lat is not None else None
        if lat is not None and why is not None:
            shown.append((fid, lat, why))
    if not shown:
        return []
    lines = ["## Latency", "",
             "Flows whose latency histogram says something (over their SLA, or two modes):",
             ""]
    for fid, lat, why in shown[:MAX_LISTED]:
        lines += [f"- {code(fid, 120)}: {why}; {percentile_line(lat)}", "",
                  fence("\n".join(bar_lines(lat)), "text").rstrip("\n"), ""]
    if len(shown) > MAX_LISTED:
        lines += [f"… and {len(shown) - MAX_LISTED} more flows.", ""]
    return lines


def _metrics(agg: RunAggregate, catalog: Catalog | None) -> list[str]:
    rows = []
    for fid in ordered_flows(agg, catalog):
        for name, m in list(agg.flows[fid].metrics.items())[:10]:
            unit = f" {code(m.unit, 20, table=True)}" if m.unit else ""
            rows.append(
                f"| {code(fid, 120, table=True)} | {code(name, 60, table=True)} | {m.count} "
                f"| {m.min:g}{unit} | {(m.mean or 0):.4g}{unit} | {m.max:g}{unit} |"
            )
    if not rows:
        return []
    head = [
        "## Metrics",
        "",
        "| flow | metric | count | min | mean | max |",
        "|---|---|---:|---:|---:|---:|",
    ]
    return [*head, *rows[:MAX_TABLE_FLOWS], ""]


def _open_instances(agg: RunAggregate) -> list[str]:
    orphans = agg.orphans()
    if not agg.unfinished and not orphans:
        return []
    lines = ["## Unfinished and orphaned flows", ""]
    for label, items, total in (
        ("unfinished (ended with no success or failure)", agg.unfinished, agg.unfinished_total),
        ("orphaned (still open when the run ended)", orphans, agg.orphan_count()),
    ):
        for info in items[:MAX_LISTED]:
            place = not_a_file(info.file)
            where = (f" started at {code(location(info.file, info.line))}"
                     + (f" ({place})" if place else "")) if info.file else ""
            inst = f" instance {code(info.instance)}" if info.instance else ""
            lines.append(f"- {code(info.flow_id)}{inst}: {label}{where}")
        if total > min(len(items), MAX_LISTED):
            lines.append(f"- … {total - min(len(items), MAX_LISTED)} more {label.split()[0]}")
    return [*lines, ""]


def _catalog_section(agg: RunAggregate, catalog: Catalog | None) -> list[str]:
    lines = ["## Catalog", ""]
    if catalog is None or catalog.path is None:
        lines.append("No flow catalog (.autodev/flows.yaml): every flow above is uncatalogued.")
        return [*lines, ""]
    enabled = catalog_ids(catalog, enabled_only=True)
    never = agg.never_seen(enabled)
    unknown = agg.unknown_flows(catalog_ids(catalog))
    disabled = [fid for fid in catalog_ids(catalog) if fid not in enabled]

    def listing(ids: list[str]) -> str:
        shown = ", ".join(code(f) for f in ids[:MAX_LISTED])
        return shown + (f" … and {len(ids) - MAX_LISTED} more" if len(ids) > MAX_LISTED else "")

    if never:
        lines.append(f"- Catalog flows never seen in this run: {listing(never)}")
    if unknown:
        lines.append(
            f"- Flows missing from the catalog: {listing(unknown)} "
            "(add them to .autodev/flows.yaml, or fix the id)"
        )
    if disabled:
        lines.append(f"- Disabled in the catalog: {listing(disabled)}")
    if len(lines) == 2:
        lines.append("- Every catalog flow ran, and every flow that ran is in the catalog.")
    return [*lines, ""]
