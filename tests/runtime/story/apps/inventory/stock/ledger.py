"""The book count of a warehouse."""

from flowscribe.core import Flow


def count(flow: Flow, warehouse: str) -> int:
    flow.checkpoint("booked", items=250)
    flow.success("ledger read")
    return 250
