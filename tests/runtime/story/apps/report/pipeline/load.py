"""Orders from the (simulated) warehouse."""

from flowscribe.core import Flow


def orders(flow: Flow, region: str) -> list[dict]:
    rows = [{"id": n, "region": region, "amount": 100 + 10 * n} for n in range(30)]
    flow.checkpoint("loaded", rows=len(rows), min_amount=rows[0]["amount"])
    flow.success("orders loaded", rows=len(rows))
    return rows
