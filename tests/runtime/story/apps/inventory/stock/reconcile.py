"""Comparing what the API returned with the ledger."""

from flowscribe.core import Flow


def compare(flow: Flow, items: list[int], expected: int) -> bool:
    if len(items) != expected:
        flow.failure("DATA.MISMATCH", "stock count differs from the ledger",
                     counted=len(items), expected=expected)
        return False
    flow.success("reconciled", items=len(items))
    return True
