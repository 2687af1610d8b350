"""Charging the customer's card."""

from flowscribe.core import Flow

CARD_LIMIT = 5_000.0


def charge(flow: Flow, amount: float) -> bool:
    if amount > CARD_LIMIT:
        flow.failure("BUSINESS.LIMIT_EXCEEDED", "amount over the card limit",
                     amount=amount, limit=CARD_LIMIT)
        return False
    flow.success("charged", amount=amount)
    return True
