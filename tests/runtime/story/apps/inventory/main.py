"""Nightly stock reconciliation: page through the warehouse API, compare with the ledger.

    python main.py [--bug] [--busy]

Root cause with --bug (written down before running): ``stock/pager.py`` stops one page
early (``range(1, pages)`` where ``pages`` is the number of pages, 1-based), so the last
50 items are never fetched and ``stock/reconcile.py`` detects DATA.MISMATCH.
"""

import sys

from stock import ledger, pager, reconcile

import flowscribe


def nightly(warehouse: str, bug: bool) -> None:
    with flowscribe.flow("stock/nightly", warehouse=warehouse):
        with flowscribe.flow("stock/fetch", warehouse=warehouse) as f:
            items = pager.fetch_all(f, total=250, bug=bug)
        with flowscribe.flow("stock/ledger", warehouse=warehouse) as f:
            expected = ledger.count(f, warehouse)
        with flowscribe.flow("stock/reconcile", warehouse=warehouse) as f:
            reconcile.compare(f, items, expected)


def main() -> int:
    bug, busy = "--bug" in sys.argv, "--busy" in sys.argv
    flowscribe.init(app_name="stock", mode="dev")
    houses = [f"W{n:02d}" for n in range(30)] if busy else []
    for w in houses[:15]:
        nightly(w, bug=False)
    nightly("berlin", bug=bug)
    for w in houses[15:]:
        nightly(w, bug=False)
    flowscribe.end_session()
    return 0


if __name__ == "__main__":
    sys.exit(main())
