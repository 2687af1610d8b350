"""payments/charge: charges the card, within its limit."""

from __future__ import annotations

import flowscribe


def charge(order: str, amount: float, limit: float) -> bool:
    """True when the card was charged."""
    with flowscribe.flow("payments/charge", order=order) as f:
        if amount > limit:
            f.failure("BUSINESS.LIMIT_EXCEEDED", "amount over the card limit",
                      severity="error", amount=amount, limit=limit)
            return False
        f.success("charged", amount=amount)
        return True
