"""Paging through the (simulated) warehouse API."""

import math

from flowscribe.core import Flow

PAGE_SIZE = 50


def _page(n: int, total: int) -> list[int]:
    return list(range((n - 1) * PAGE_SIZE, min(total, n * PAGE_SIZE)))


def fetch_all(flow: Flow, total: int, bug: bool = False) -> list[int]:
    pages = math.ceil(total / PAGE_SIZE)
    last = pages if bug else pages + 1
    items: list[int] = []
    for n in range(1, last):  # with bug=True: range(1, pages) stops one page early
        items.extend(_page(n, total))
    flow.checkpoint("paged", pages_fetched=last - 1, items=len(items), page_size=PAGE_SIZE)
    flow.success("fetched")
    return items
