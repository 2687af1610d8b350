"""A second redaction pass over what the artifacts quote from a trace.

The runtime redacts every event before it is written, so this normally finds nothing. It
is here because summary.md and ask.md are also rendered from trace files the CLI is
pointed at (another version, another tool, a hand-edited file): secrets must not reach an
artifact either way. It uses the run's own ``privacy`` settings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowscribe.config import DEFAULT_REDACT_KEYS as _DEFAULT_KEYS
from flowscribe.redact import Redactor

if TYPE_CHECKING:
    from flowscribe.config import Config

__all__ = ["Scrubber", "default_scrubber"]



class Scrubber:
    """Redacts quoted evidence and text with the config's ``privacy`` settings."""

    def __init__(self, config: Config | None) -> None:
        privacy = getattr(config, "privacy", None)
        keys = getattr(privacy, "redact_keys", _DEFAULT_KEYS)
        limit = getattr(privacy, "payload_limit", 2048)
        raw = getattr(privacy, "allow_raw_payloads", False)
        self._redactor = Redactor(tuple(keys), int(limit), bool(raw))

    def data(self, value: Any) -> dict[str, Any]:
        """A redacted copy of a mapping (evidence, correlation); {} for anything else."""
        if not isinstance(value, Mapping) or not value:
            return {}
        return self._redactor.evidence(value)[0]

    def text(self, value: Any) -> str:
        """Text with secret shapes scrubbed; "" for None."""
        if value is None:
            return ""
        return self._redactor.text(value)[0]

    def event(self, ev: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a trace event with its free-form fields redacted."""
        out = dict(ev)
        for key in ("evidence", "correlation"):
            if key in out:
                out[key] = self.data(out[key])
        for key in ("reason",):
            if isinstance(out.get(key), str):
                out[key] = self.text(out[key])
        exc = out.get("exception")
        if isinstance(exc, Mapping):
            out["exception"] = {**exc, "message": self.text(exc.get("message"))}
        return out


@functools.lru_cache(maxsize=1)
def default_scrubber() -> Scrubber:
    """The one scrubber with the default keys, for readers that have no project config at
    hand (the language server's trace index and run fold redacting a trace again)."""
    return Scrubber(None)
