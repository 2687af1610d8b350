"""orders/submit: a simulated broker that acknowledges orders, or does not."""

from __future__ import annotations

import flowscribe
from trading.agent import Decision

ACK_TIMEOUT_MS = 1000
#: Simulated acknowledgement delays; AMZN's broker gateway is having a bad day.
ACK_DELAY_MS = {"AMZN": 1500.0}
DEFAULT_DELAY_MS = 120.0
#: A credential the order is signed with. flowscribe redacts it (its key says "api_key").
BROKER_API_KEY = "demo-key-not-a-real-secret-12345"


def submit_order(ticker: str, decision: Decision, quantity: int = 10) -> str | None:
    """Send the order and wait for the broker's ack; returns the order id, or None."""
    with flowscribe.flow("orders/submit", ticker=ticker) as f:
        f.checkpoint("signed", side=decision.action, quantity=quantity, api_key=BROKER_API_KEY)
        delay = ACK_DELAY_MS.get(ticker, DEFAULT_DELAY_MS)
        f.metric("ack_latency_ms", delay, unit="ms")
        if delay > ACK_TIMEOUT_MS:
            f.failure("EXTERNAL.TIMEOUT", "no ack from the broker", waited_ms=ACK_TIMEOUT_MS)
            return None
        order_id = f"SIM-{ticker}-{quantity}"
        f.success("ack received", order_id=order_id, latency_ms=delay)
        return order_id
