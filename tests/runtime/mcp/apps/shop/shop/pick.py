"""Picking a user's items."""

from flowscribe.core import Flow

BUG = False


def items(flow: Flow, user: str) -> list[str]:
    found = ["apple", "pear"]
    if BUG and user == "u7":
        found = [i for i in found if i.startswith("z")]
    flow.checkpoint("picked", items=len(found))
    return found
