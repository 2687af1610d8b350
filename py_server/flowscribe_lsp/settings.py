"""The server's settings: initialization options and ``workspace/didChangeConfiguration``.

The shape (section ``flowscribe``) is documented in docs/lsp-protocol.md::

    {"artifactsDir": ".autodev", "markers": ["start_flow", "flow", "traced"],
     "diagnostics": {"enabled": true, "minSeverity": "warn"}, "lenses": {"enabled": true}}

A client may send more keys (the VS Code extension's own settings ride along); they are
ignored. A value of the wrong type is reported and the default kept: bad settings must
not stop the server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flowscribe.vocabulary import SEVERITIES, SEVERITY_ALIASES, severity_rank

__all__ = ["Settings", "parse_settings"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Settings:
    """What the user can configure."""

    artifacts_dir: str = ".autodev"
    markers: tuple[str, ...] = ("start_flow", "flow", "traced")
    diagnostics_enabled: bool = True
    min_severity: str = "warn"
    lenses_enabled: bool = True
    #: Commands the client implements itself (``clientCommands``): the VS Code extension
    #: lists ``flowscribe.revealFlow``; lenses carry the server's own command otherwise.
    client_commands: frozenset[str] = frozenset()
    #: Problems found in the last settings received, for the log.
    problems: tuple[str, ...] = field(default=(), compare=False)

    def severity_shown(self, severity: str | None) -> bool:
        """True if a failure of ``severity`` is at or above ``min_severity``."""
        return severity_rank(severity) >= severity_rank(self.min_severity)


def parse_settings(raw: Any, base: Settings | None = None) -> Settings:
    """Settings from a client's options object, unknown keys ignored, bad values reported.

    ``raw`` may be the ``flowscribe`` section itself or an object holding it (what
    ``didChangeConfiguration`` carries). Keys missing from ``raw`` keep ``base``'s values.
    """
    cur = base or Settings()
    problems: list[str] = []
    if isinstance(raw, Mapping) and isinstance(raw.get("flowscribe"), Mapping):
        raw = raw["flowscribe"]
    if raw is None:
        return replace(cur, problems=())
    if not isinstance(raw, Mapping):
        return replace(cur, problems=("settings: expected an object",))

    artifacts = raw.get("artifactsDir", cur.artifacts_dir)
    if not isinstance(artifacts, str) or not artifacts.strip():
        problems.append("artifactsDir: expected a non-empty string")
        artifacts = cur.artifacts_dir

    markers: Any = raw.get("markers", cur.markers)
    if isinstance(markers, str):
        markers = [m.strip() for m in markers.split(",")]
    if not isinstance(markers, (list, tuple)) or not all(isinstance(m, str) for m in markers):
        problems.append("markers: expected a list of function names")
        markers = cur.markers
    valid = [m for m in markers if _IDENT.match(m)]
    good = tuple(dict.fromkeys(valid))  # a name given twice is not a problem
    if len(valid) != len([m for m in markers if m]):
        problems.append("markers: names must be Python identifiers; others ignored")

    diag = _section(raw, "diagnostics", problems)
    enabled = _flag(diag, "enabled", cur.diagnostics_enabled, "diagnostics.enabled", problems)
    min_sev = diag.get("minSeverity", cur.min_severity)
    if isinstance(min_sev, str):
        min_sev = SEVERITY_ALIASES.get(min_sev, min_sev)
    if min_sev not in SEVERITIES:
        problems.append(f"diagnostics.minSeverity: must be one of {', '.join(SEVERITIES)}")
        min_sev = cur.min_severity

    lenses = _section(raw, "lenses", problems)
    lenses_on = _flag(lenses, "enabled", cur.lenses_enabled, "lenses.enabled", problems)

    commands: Any = raw.get("clientCommands", cur.client_commands)
    if not isinstance(commands, (list, tuple, frozenset)) or not all(
            isinstance(c, str) for c in commands):
        problems.append("clientCommands: expected a list of command names")
        commands = cur.client_commands

    return Settings(
        artifacts_dir=artifacts.strip(),
        markers=good,
        diagnostics_enabled=enabled,
        min_severity=min_sev,
        lenses_enabled=lenses_on,
        client_commands=frozenset(commands),
        problems=tuple(problems),
    )


def _section(raw: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if isinstance(value, Mapping):
        return value
    problems.append(f"{key}: expected an object")
    return {}


def _flag(section: Mapping[str, Any], key: str, default: bool, name: str,
          problems: list[str]) -> bool:
    value = section.get(key, default)
    if isinstance(value, bool):
        return value
    problems.append(f"{name}: expected true or false")
    return default
