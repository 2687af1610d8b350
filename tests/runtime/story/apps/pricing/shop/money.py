"""Money conversions."""

from flowscribe.core import Flow


def to_dollars(flow: Flow, cents: int, bug: bool = False) -> float:
    if bug:  # noqa: SIM108 (the bug stays on a line of its own)
        amount = cents * 100.0  # the bug: multiplies where it should divide
    else:
        amount = cents / 100.0
    flow.checkpoint("converted", cents=cents, amount=amount, currency="USD")
    flow.success("converted")
    return amount
