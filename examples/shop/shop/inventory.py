"""inventory/reserve: asks the warehouse to hold an order's items."""

from __future__ import annotations

import flowscribe

#: Orders whose warehouse is down today (the demo's deliberate timeout).
UNREACHABLE = {"o-1003"}


def reserve(order: str, items: list[str]) -> None:
    with flowscribe.flow("inventory/reserve", order=order) as f:
        f.checkpoint("request", items=len(items))
        _ask_warehouse(order)
        f.success("reserved", items=len(items))


def _ask_warehouse(order: str) -> None:
    # Stands in for a network call with a 2 s timeout (no real waiting in the demo).
    if order in UNREACHABLE:
        raise TimeoutError("inventory service did not answer in 2s")
