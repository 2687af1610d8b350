"""One size budget for every prompt flowscribe writes, counted in tokens.

ask.md, the editor's failure prompt and the assistant tools all fit their text into a
budget of :data:`DEFAULT_BUDGET_TOKENS`, chosen so the whole prompt fits an assistant's chat
input with room for the model's answer. Tokens are estimated, not counted by a tokenizer
(no dependency, same answer everywhere): :data:`CHARS_PER_TOKEN` characters a token is a
cautious average for English, code and JSON in the GPT and Claude tokenizers.

A text is packed from *items* with a rank: required items always, then the best-ranked
optional ones while they fit; an item is whole (its fences closed) or absent, never cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["CHARS_PER_TOKEN", "DEFAULT_BUDGET_TOKENS", "MAX_BUDGET_TOKENS", "MIN_BUDGET_TOKENS",
           "Packer", "clamp_budget", "estimate_tokens"]

DEFAULT_BUDGET_TOKENS = 4_000
#: What a caller (an editor, an assistant tool) may ask for: below this the failure and
#: the request alone may not fit; above it no chat input takes the text.
MIN_BUDGET_TOKENS = 500
MAX_BUDGET_TOKENS = 100_000
CHARS_PER_TOKEN = 3.5


def clamp_budget(value: object) -> int:
    """A caller's budget, as an int within the bounds; the default for anything but a
    number (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return DEFAULT_BUDGET_TOKENS
    return int(min(max(value, MIN_BUDGET_TOKENS), MAX_BUDGET_TOKENS))


def estimate_tokens(text: str) -> int:
    """The estimated token count of ``text``."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass
class Packer:
    """Chooses which optional items fit beside the required ones."""

    budget_tokens: int = DEFAULT_BUDGET_TOKENS
    used: int = 0
    dropped: int = 0
    _offers: list[tuple[float, int, str, str]] = field(default_factory=list)

    def require(self, text: str) -> None:
        """Count an item that is always in the text."""
        self.used += estimate_tokens(text) + 1

    def offer(self, slot: str, text: str, rank: float) -> None:
        """Offer an optional item for ``slot``; higher ``rank`` is kept first."""
        self._offers.append((rank, len(self._offers), slot, text))

    def pack(self, reserve_tokens: int = 0) -> dict[str, list[str]]:
        """The kept items by slot, each slot's items in the order they were offered."""
        kept: list[tuple[int, str, str]] = []
        room = self.budget_tokens - reserve_tokens
        for _rank, order, slot, text in sorted(self._offers, key=lambda o: (-o[0], o[1])):
            cost = estimate_tokens(text) + 1
            if self.used + cost <= room:
                self.used += cost
                kept.append((order, slot, text))
            else:
                self.dropped += 1
        by_slot: dict[str, list[str]] = {}
        for _, slot, text in sorted(kept):
            by_slot.setdefault(slot, []).append(text)
        return by_slot
