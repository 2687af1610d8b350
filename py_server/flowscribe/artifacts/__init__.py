"""End-of-run artifacts: summary.md and ask.md, rendered from a run's aggregate.

``write_run_artifacts`` is what the runtime calls when a session ends;
``aggregate_trace`` rebuilds a run's aggregate from a trace file (the CLI's ``summary``,
the server). The aggregate a session feeds as it goes is ``aggregate.aggregate_for``'s.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscribe._files import write_text_atomic
from flowscribe._warn import warn_once
from flowscribe.aggregate import RunAggregate, aggregate_events, aggregate_for
from flowscribe.artifacts._format import fmt_ms
from flowscribe.artifacts._scrub import Scrubber, default_scrubber
from flowscribe.artifacts.ask import render_ask, run_views
from flowscribe.artifacts.summary import render_summary
from flowscribe.trace import ReadStats, iter_events

if TYPE_CHECKING:
    from flowscribe.catalog import Catalog
    from flowscribe.config import Config
    from flowscribe.runs import RunLayout

__all__ = [
    "Scrubber",
    "aggregate_trace",
    "default_scrubber",
    "fmt_ms",
    "render_ask",
    "render_summary",
    "should_write_ask",
    "write_run_artifacts",
    "write_text_atomic",
]


def aggregate_trace(
    trace: Path,
    config: Config | None,
    catalog: Catalog | None,
    run_id: str | None = None,
) -> tuple[RunAggregate, list[dict[str, Any]]]:
    """Aggregate one run of a trace file (``run_id``, else the last run in it) and return
    it with its last ``trace_tail_events`` events. Bad lines are skipped and counted in
    the aggregate's ``skipped_lines``."""
    stats = ReadStats()
    tail_n = config.artifacts.trace_tail_events if config is not None else 50
    agg, tail = aggregate_events(
        iter_events(trace, stats=stats),
        run_id=run_id,
        tail=tail_n,
        factory=lambda rid: aggregate_for(config, catalog, rid),
    )
    agg.skipped_lines = stats.skipped_total
    return agg, tail


def should_write_ask(agg: RunAggregate, config: Config | None) -> bool:
    """``artifacts.ask_md``: ``always``, ``on_failure`` (any failure, exception or failed
    flow) or ``never``."""
    mode = config.artifacts.ask_md if config is not None else "on_failure"
    if mode == "always":
        return True
    if mode == "never":
        return False
    return agg.has_failures


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def write_run_artifacts(
    agg: RunAggregate,
    catalog: Catalog | None,
    config: Config | None,
    tail: Sequence[Mapping[str, Any]],
    layout: RunLayout,
    *,
    top_level: bool = True,
) -> None:
    """Write summary.md and ask.md for a finished run.

    Each goes into ``runs/<run_id>/`` (with ``per_run_dirs``) and is copied to
    ``.autodev/``; an artifact this run does not produce (``summary_md: false``, or
    ``ask_md`` deciding against it) is removed from ``.autodev/`` so no stale copy of an
    older run is mistaken for this one's. ``top_level=False`` (a test run) writes the run
    folder only and leaves ``.autodev/``'s copies, the app's, alone. Never raises:
    trouble is one warning on stderr.
    """
    try:
        _write(agg, catalog, config, tail, layout, top_level)
    except Exception as exc:  # the host app must never see our failures
        warn_once("artifacts", f"could not write the run's summary.md/ask.md: {exc}")


def _ask(
    agg: RunAggregate,
    catalog: Catalog | None,
    config: Config | None,
    tail: Sequence[Mapping[str, Any]],
    layout: RunLayout,
) -> str | None:
    """ask.md, told from the run's own trace (``tail``, the events the session still holds,
    when it has none) against the last good run."""
    if not should_write_ask(agg, config):
        return None
    first = agg.first_failure.event_id if agg.first_failure is not None else None
    run, baseline = run_views(layout, agg.run_id, fallback=tail, focus=first)
    return render_ask(run, catalog, config, baseline=baseline)


def _write(
    agg: RunAggregate,
    catalog: Catalog | None,
    config: Config | None,
    tail: Sequence[Mapping[str, Any]],
    layout: RunLayout,
    top_level: bool,
) -> None:
    # Imported here, not with the session: hashlib is a good part of a start's import
    # time. (What is imported at exit may make classes from source: see
    # _lifecycle._keep_interrupt_status for what that costs an interrupted program.)
    from flowscribe.artifacts.aggregate_file import write_aggregate

    layout.autodev_dir.mkdir(parents=True, exist_ok=True)
    run_dir: Path | None = None
    per_run = (config is None or config.artifacts.per_run_dirs) or not top_level
    # A runs/ that is a link or leads out of .autodev gets nothing (layout.contained warns).
    if per_run and agg.run_id and layout.contained():
        run_dir = layout.run_dir(agg.run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
    outputs: list[tuple[str, str | None]] = [
        (
            "summary.md",
            render_summary(agg, catalog, config)
            if (config is None or config.artifacts.summary_md)
            else None,
        ),
        ("ask.md", _ask(agg, catalog, config, tail, layout)),
    ]
    for name, text in outputs:
        if text is None:
            if top_level:
                _remove(layout.autodev_dir / name)
            continue
        if run_dir is not None:
            write_text_atomic(run_dir / name, text)
        if top_level:
            write_text_atomic(layout.autodev_dir / name, text)
    if run_dir is not None:
        write_aggregate(agg, run_dir)
