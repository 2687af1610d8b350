"""ask.md: the run's failure story, as a prompt an assistant can act on.

What it says and in which order is :mod:`flowscribe.story`'s (goal, action request,
project, failures, each failure's causal slice, code and passing instance, the changes
since the last good run); this module only gathers what the story needs at the end of a
run (the run's events, the baseline run, the redaction settings) and fits it into the one
token budget, :data:`~flowscribe.story.DEFAULT_BUDGET_TOKENS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscribe.artifacts._scrub import Scrubber
from flowscribe.catalog import sla_targets

if TYPE_CHECKING:
    from flowscribe.catalog import Catalog
    from flowscribe.config import Config
    from flowscribe.runs import RunLayout
    from flowscribe.story import RunView

__all__ = ["render_ask", "run_views"]

# flowscribe.story is imported in the functions: it builds on this package's Markdown
# blocks, so importing it here would make the two packages import each other.


def _slice_limit(config: Config | None) -> int:
    """``artifacts.trace_tail_events``: how many events a failure's slice may quote."""
    if config is None:
        return 50
    return max(5, int(config.artifacts.trace_tail_events))


def render_ask(
    run: RunView,
    catalog: Catalog | None,
    config: Config | None,
    *,
    baseline: RunView | None = None,
    budget_tokens: int | None = None,
) -> str:
    """The ask.md text for ``run``, compared with ``baseline`` (the last good run), within
    ``budget_tokens`` (default: the story's one budget)."""
    from flowscribe.story import DEFAULT_BUDGET_TOKENS, build_story, render_story

    scrub = Scrubber(config)
    flows = sorted({str(e.get("flow_id")) for e in run.events if e.get("flow_id")})
    story = build_story(
        run,
        baseline=baseline,
        catalog=catalog,
        root=config.root if config is not None else None,
        scrub=scrub.event,
        sla_ms=sla_targets(flows, catalog, config),
        slice_limit=_slice_limit(config),
    )
    return render_story(story, budget_tokens=budget_tokens or DEFAULT_BUDGET_TOKENS)


def run_views(
    layout: RunLayout,
    run_id: str | None,
    *,
    trace: Path | None = None,
    fallback: Sequence[Mapping[str, Any]] = (),
    focus: str | None = None,
) -> tuple[RunView, RunView | None]:
    """The run ``run_id`` (from ``trace`` when given, else from its run folder or the
    shared trace; ``fallback`` events when none has it, e.g. with no JSONL sink) and its
    baseline: the newest earlier run that passed, else the previous one.

    A trace over :data:`~flowscribe.story.WHOLE_RUN_BYTES` is read only around event
    ``focus`` (the run's first failure), with no baseline, when that event is found
    there: the story of a million events is then a few MB of reading, not a minute."""
    from flowscribe.story import RunView, load_near, load_run, too_big_to_read_whole

    dirs = layout.run_dirs(test_runs=True)
    own = next((d for d in dirs if d.name == run_id), None)
    sources: list[tuple[Path, str | None]] = []
    if trace is not None:
        sources.append((trace, run_id))
    if own is not None:
        sources.append((own / "trace.jsonl", None))
    if run_id:
        sources.append((layout.trace_path, run_id))
    for path, rid in sources:
        if focus is not None and too_big_to_read_whole(path):
            near = load_near(path, focus, rid)
            if near is not None:
                return near, None
        run = load_run(path, rid)
        if run.events:
            return run, _baseline(dirs, run_id)
    return RunView.from_events(fallback), _baseline(dirs, run_id)


def _baseline(dirs: Sequence[Path], run_id: str | None) -> RunView | None:
    """The newest run folder before ``run_id`` whose run passed (by its summary event, so
    no older trace is read whole), else the one right before it; of the same kind (an app
    run is compared with app runs, a test run with test runs)."""
    from flowscribe.runs import is_test_run
    from flowscribe.story import load_run, run_passed

    names = [d.name for d in dirs]
    if run_id not in names:
        return None
    at = names.index(run_id)
    kind = is_test_run(dirs[at])
    earlier = [d for d in dirs[at + 1:] if is_test_run(d) == kind]
    for d in earlier[:50]:
        if run_passed(d / "trace.jsonl"):
            return load_run(d / "trace.jsonl")
    return load_run(earlier[0] / "trace.jsonl") if earlier else None
