"""Choosing the rows a report is about: orders of at least MIN_AMOUNT."""

from flowscribe.core import Flow

MIN_AMOUNT = 100


def for_region(flow: Flow, rows: list[dict], region: str, bug: bool = False) -> list[dict]:
    if bug:
        kept = [r for r in rows if r["amount"] < MIN_AMOUNT]  # the bug: the wrong way round
    else:
        kept = [r for r in rows if r["amount"] >= MIN_AMOUNT]
    flow.checkpoint("filtered", rows_in=len(rows), rows_out=len(kept), min_amount=MIN_AMOUNT)
    flow.success("rows selected", rows=len(kept))
    return kept
