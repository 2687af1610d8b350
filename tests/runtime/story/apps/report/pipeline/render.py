"""Rendering the report."""

from flowscribe.core import Flow


def report(flow: Flow, rows: list[dict], region: str) -> str:
    if not rows:
        flow.failure("DATA.EMPTY", f"no rows to report for {region}", rows=0)
        return ""
    total = sum(r["amount"] for r in rows)
    flow.success("report rendered", rows=len(rows), total=total)
    return f"{region}: {total}"
