"""The markers that stand in for what redaction and truncation removed."""

from __future__ import annotations

__all__ = ["MORE_KEY", "REDACTED", "TRUNCATED"]

#: Replaces a secret. It never carries any part of what it hides.
REDACTED = "[REDACTED]"
#: Ends a value that was cut to fit.
TRUNCATED = "… (truncated)"
#: Key used in a truncated mapping to say entries were dropped.
MORE_KEY = "…"
