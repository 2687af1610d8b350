"""A small shop's checkout, traced with flowscribe: the editor's first screen.

    python app.py            # five orders: one over the card limit, one the warehouse drops

Each order goes through the same flows:

    orders/checkout                        one per order
      inventory/reserve                    the warehouse reserves the items
      payments/charge                      the card is charged
    notifications/email                    queued per paid order, sent by a mailer that
                                           never starts in this demo: left open (orphaned)

What goes wrong, on purpose and always the same way:

- order o-1002 costs more than its card allows: ``BUSINESS.LIMIT_EXCEEDED`` in
  payments/charge (a failure with no exception); its checkout ends with no verdict
  (unfinished);
- the warehouse never answers for order o-1003: a ``TimeoutError`` escapes
  inventory/reserve and fails its checkout too;
- the three paid orders' confirmation e-mails are queued and never sent: three orphaned flows.

``loyalty/points`` is declared in ``.autodev/flows.yaml`` but ``enabled: false`` and not
used by the code yet.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shop import inventory, notifications, payments

import flowscribe

HERE = Path(__file__).resolve().parent

#: (order id, items, amount, card limit)
ORDERS = [
    ("o-1001", ["mug", "tea"], 24.0, 500.0),
    ("o-1002", ["espresso machine"], 1240.0, 1000.0),
    ("o-1003", ["kettle"], 39.0, 500.0),
    ("o-1004", ["filter", "beans"], 31.5, 500.0),
    ("o-1005", ["cups"], 18.0, 500.0),
]


def checkout(order: str, items: list[str], amount: float, limit: float) -> str:
    """One order's checkout. Returns a line for the report."""
    with flowscribe.flow("orders/checkout", order=order) as f:
        inventory.reserve(order, items)  # raises TimeoutError for o-1003
        if not payments.charge(order, amount, limit):
            return "payment refused"
        notifications.queue_confirmation(order)
        f.success("paid and reserved", amount=amount)
    return "ok"


def main() -> int:
    flowscribe.init(app_name="shop", mode="demo", tags=["demo"], root=HERE)
    problems = 0
    for order, items, amount, limit in ORDERS:
        try:
            outcome = checkout(order, items, amount, limit)
        except TimeoutError as exc:  # recorded by flowscribe where it was raised
            outcome = f"crashed: {type(exc).__name__}: {exc}"
        problems += outcome != "ok"
        print(f"{order}  {outcome}")
    flowscribe.end_session()
    print(f"\n{problems} of {len(ORDERS)} orders had problems; see .autodev/summary.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
