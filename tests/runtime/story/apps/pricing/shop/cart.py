"""Pricing a cart, in cents."""

from flowscribe.core import Flow


def total_cents(flow: Flow, items: list[int]) -> int:
    total = sum(items)
    flow.checkpoint("priced", items=len(items), total_cents=total)
    flow.success("cart priced")
    return total
