"""notifications/email: queues an order's confirmation for a mailer.

The flow starts when the e-mail is queued and would end when the mailer sends it; the demo
has no mailer, so each one is still open when the session ends: orphaned.
"""

from __future__ import annotations

import flowscribe
from flowscribe import Flow, NullFlow

#: Queued confirmations: (order, its open flow).
QUEUE: list[tuple[str, Flow | NullFlow]] = []


def queue_confirmation(order: str) -> None:
    QUEUE.append((order, flowscribe.start_flow("notifications/email", order=order)))
