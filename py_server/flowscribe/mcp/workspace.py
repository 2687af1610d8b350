"""The workspace an MCP session answers about: its root, config, catalog, runs, and the
redaction pass applied to everything quoted from them.

Every read goes through here, so one rule holds: nothing outside the workspace root is
read (a run whose trace resolves elsewhere, through a configured sink path or a link, is
not listed), and every event is redacted again with the project's ``privacy`` settings
before it is quoted, as the artifacts do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscribe.artifacts._scrub import Scrubber
from flowscribe.catalog import CATALOG_FILE, Catalog, load_catalog
from flowscribe.config import Config, load_config
from flowscribe.mcp.cache import PROCESS_CACHE, RunCache
from flowscribe.runs import RunInfo, RunLayout
from flowscribe.story import RunView

__all__ = ["ToolInputError", "Workspace", "inside"]


class ToolInputError(ValueError):
    """A bad argument or a missing thing; the message is what the agent is told."""


def inside(path: Path, root: Path) -> bool:
    """True when ``path`` resolves (links followed) to somewhere under ``root``."""
    try:
        path.resolve().relative_to(root)
    except (OSError, RuntimeError, ValueError):
        return False
    return True


@dataclass
class Workspace:
    """One project root, read afresh for each request (runs come and go, the catalog is
    edited): :meth:`open` is cheap, it parses two small YAML files. The runs' traces are
    read through ``cache``, which outlives the request (the process's, by default)."""

    root: Path
    config: Config
    catalog: Catalog
    scrubber: Scrubber
    cache: RunCache = field(default=PROCESS_CACHE, repr=False, compare=False)

    @classmethod
    def open(cls, root: Path | str, cache: RunCache = PROCESS_CACHE) -> Workspace:
        """The workspace at ``root``; raises :class:`ToolInputError` when it is not a folder."""
        base = Path(root).expanduser()
        if not base.is_dir():
            raise ToolInputError(f"the workspace {base} is not a folder")
        base = base.resolve()
        config, _ = load_config(base)
        catalog = load_catalog(config.autodev_dir / CATALOG_FILE, base)
        return cls(base, config, catalog, Scrubber(config), cache)

    @property
    def autodev_dir(self) -> Path:
        return Path(self.config.autodev_dir)

    def runs(self) -> list[RunInfo]:
        """The workspace's runs, newest first, whose traces are inside the workspace."""
        if not inside(self.autodev_dir, self.root):
            return []
        return [r for r in RunLayout(self.autodev_dir).list_runs()
                if r.trace is None or inside(r.trace, self.root)]

    def run(self, run_id: str | None) -> RunInfo:
        """The run ``run_id`` (an id or a unique prefix of one), default the latest."""
        runs = self.runs()
        if not runs:
            raise ToolInputError(
                f"no runs yet in {self.display(self.autodev_dir)} (run an app that uses "
                "flowscribe first)")
        if run_id is None or run_id == "":
            return next((r for r in runs if r.is_latest), runs[0])
        exact = [r for r in runs if r.run_id == run_id]
        hits = exact or [r for r in runs if r.run_id.startswith(run_id)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise ToolInputError(f"run {run_id!r} matches {len(hits)} runs; give more of the id")
        raise ToolInputError(f"no run {run_id!r} in this workspace (see list_runs)")

    def baseline(self, info: RunInfo) -> RunInfo | None:
        """The newest run before ``info`` that passed, else the one right before it."""
        from flowscribe.story import baseline_for

        return baseline_for(self.runs(), info.run_id)

    def view(self, info: RunInfo) -> RunView:
        """The events of run ``info`` (bounded as the story library keeps them)."""
        view = self.cache.view(info)
        if view is None or not view.events:
            raise ToolInputError(f"run {info.run_id} has no readable trace")
        return view

    def scrub(self, ev: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of an event with its free-form fields redacted again."""
        return self.scrubber.event(ev)

    def sla_ms(self) -> dict[str, float]:
        """Each catalog flow's p95 target."""
        return {fid: spec.sla_p95_ms for fid, spec in self.catalog.flows.items()
                if spec.sla_p95_ms is not None}

    def display(self, path: Path) -> str:
        """``path`` relative to the root where it is inside it."""
        try:
            return path.resolve().relative_to(self.root).as_posix() or "."
        except (OSError, RuntimeError, ValueError):
            return str(path)
