"""A checkout: price the cart, convert to the card's currency, charge the card.

    python main.py [--bug] [--busy]

Root cause with --bug (written down before running): ``shop/money.py`` converts cents to
dollars by multiplying by 100 instead of dividing, so a 42.50 cart is charged as 425000.00
and ``shop/payments.py`` detects BUSINESS.LIMIT_EXCEEDED.
"""

import sys

from shop import cart, money, payments

import flowscribe


def checkout(customer: str, items: list[int], bug: bool) -> None:
    with flowscribe.flow("checkout/submit", customer=customer):
        with flowscribe.flow("cart/price", customer=customer) as f:
            cents = cart.total_cents(f, items)
        with flowscribe.flow("money/convert", customer=customer) as f:
            amount = money.to_dollars(f, cents, bug=bug)
        with flowscribe.flow("payments/charge", customer=customer) as f:
            payments.charge(f, amount)


def main() -> int:
    bug, busy = "--bug" in sys.argv, "--busy" in sys.argv
    flowscribe.init(app_name="shop", mode="dev")
    customers = [f"c{n:03d}" for n in range(40)] if busy else []
    for c in customers[:20]:
        checkout(c, [1000, 250], bug=False)
    checkout("c-alice", [3000, 1250], bug=bug)
    for c in customers[20:]:
        checkout(c, [1000, 250], bug=False)
    flowscribe.end_session()
    return 0


if __name__ == "__main__":
    sys.exit(main())
