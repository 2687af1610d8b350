"""The failure's story: one implementation of what a prompt about a run tells.

Used by ask.md, the editor's failure prompt, ``flowscribe diff`` and the assistant tools:

- :func:`load_run` reads one run (bounded in memory);
- :func:`top_failures` and :func:`causal_slice` choose what to tell;
- :func:`build_story` gathers the slice, the code, a passing instance, the catalog's intent
  and :func:`diff_runs` against the last good run;
- :func:`render_story` fits it into one token budget (:data:`DEFAULT_BUDGET_TOKENS`).

:func:`runs_to_compare` picks the runs: the latest, and the newest earlier run that passed
(or the previous one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscribe.runs import RunInfo, RunLayout, run_events
from flowscribe.story._budget import (
    CHARS_PER_TOKEN,
    DEFAULT_BUDGET_TOKENS,
    MAX_BUDGET_TOKENS,
    MIN_BUDGET_TOKENS,
    clamp_budget,
    estimate_tokens,
)
from flowscribe.story._diff import Change, RunDiff, diff_runs, fold_for_diff
from flowscribe.story._guide import render_guide
from flowscribe.story._lines import event_line
from flowscribe.story._render import render_story, verdict_line
from flowscribe.story._run import (
    WHOLE_RUN_BYTES,
    EventWindow,
    RunView,
    load_instance,
    load_near,
    load_run,
    run_passed,
    too_big_to_read_whole,
    well_typed,
)
from flowscribe.story._slice import SliceItem, TopFailure, causal_slice, top_failures
from flowscribe.story._story import FailureStory, Story, build_story

if TYPE_CHECKING:
    from flowscribe.catalog import Catalog

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_BUDGET_TOKENS",
    "MAX_BUDGET_TOKENS",
    "MIN_BUDGET_TOKENS",
    "WHOLE_RUN_BYTES",
    "Change",
    "EventWindow",
    "FailureStory",
    "RunDiff",
    "RunView",
    "SliceItem",
    "Story",
    "TopFailure",
    "baseline_for",
    "build_story",
    "causal_slice",
    "clamp_budget",
    "compare_runs",
    "diff_runs",
    "estimate_tokens",
    "event_line",
    "failure_prompt",
    "load_for_diff",
    "load_info",
    "load_info_near",
    "load_instance",
    "load_near",
    "load_run",
    "render_guide",
    "render_story",
    "run_passed",
    "runs_to_compare",
    "too_big_to_read_whole",
    "top_failures",
    "verdict_line",
]


def _passed(info: RunInfo) -> bool:
    v = info.verdicts
    return not (v.get("failed") or v.get("failures") or v.get("exceptions"))


def baseline_for(runs: list[RunInfo], run_id: str) -> RunInfo | None:
    """The newest run before ``run_id`` that passed, else the one right before it, of the
    same kind (app runs with app runs, test runs with test runs). ``runs`` is newest
    first, as :meth:`RunLayout.list_runs` gives them."""
    ids = [r.run_id for r in runs]
    if run_id not in ids:
        return None
    at = ids.index(run_id)
    earlier = [r for r in runs[at + 1:] if r.test_run == runs[at].test_run]
    for info in earlier:
        if _passed(info):
            return info
    return earlier[0] if earlier else None


def load_info(info: RunInfo) -> RunView | None:
    """The events of a listed run (its own trace, or its part of the shared one)."""
    if info.trace is None:
        return None
    return load_run(info.trace, info.trace_filter)


def load_info_near(info: RunInfo, event_id: str) -> RunView | None:
    """The events of a listed run around event ``event_id`` (:func:`load_near`)."""
    if info.trace is None:
        return None
    return load_near(info.trace, event_id, info.trace_filter)


def load_for_diff(info: RunInfo) -> RunView | None:
    """A listed run as :func:`diff_runs` reads it: every event folded as it streams by,
    none kept (one pass over a run of any size, and no view of it in memory). The view
    has no events: it is for comparing only."""
    if info.trace is None:
        return None
    view = RunView(run_id=info.run_id, events=[])
    view.diff_side = fold_for_diff(well_typed(ev) for ev in run_events(info))
    return view


def runs_to_compare(autodev_dir: Path, after: str | None = None, before: str | None = None,
                    ) -> tuple[RunInfo | None, RunInfo | None]:
    """``(before, after)``: ``after`` defaults to the latest run, ``before`` to its
    :func:`baseline_for`. Ids may be given as unique prefixes."""
    runs = RunLayout(autodev_dir).list_runs()

    def find(prefix: str) -> RunInfo | None:
        hits = [r for r in runs if r.run_id == prefix] or [
            r for r in runs if r.run_id.startswith(prefix)]
        return hits[0] if len(hits) == 1 else None

    later = find(after) if after else next((r for r in runs if r.is_latest), None) or (
        runs[0] if runs else None)
    if later is None:
        return None, None
    earlier = find(before) if before else baseline_for(runs, later.run_id)
    return earlier, later


def compare_runs(autodev_dir: Path, after: str | None = None, before: str | None = None,
                 sla_ms: Mapping[str, float] | None = None,
                 ) -> tuple[RunInfo, RunInfo, RunDiff] | str:
    """``(before, after, diff)`` of two runs chosen as :func:`runs_to_compare` chooses
    them; or why there is nothing to compare, as one sentence for the user."""
    earlier, later = runs_to_compare(autodev_dir, after=after, before=before)
    if later is None:
        return f"no run {after} in {autodev_dir}" if after else f"no runs in {autodev_dir}"
    if earlier is None:
        return (f"no run to compare {later.run_id} with"
                + (f" (no run {before})" if before else " (it is the only run)"))
    view_a, view_b = load_for_diff(earlier), load_for_diff(later)
    if view_a is None or view_b is None:
        return "a run to compare has no trace"
    return earlier, later, diff_runs(view_a, view_b, sla_ms)


def failure_prompt(
    autodev_dir: Path,
    run_id: str | None,
    event_id: str,
    *,
    catalog: Catalog | None = None,
    root: Path | str | None = None,
    scrub: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    load: Callable[[RunInfo], RunView | None] = load_info,
    whole_run_bytes: int = WHOLE_RUN_BYTES,
) -> str | None:
    """The story of one failure (event ``event_id`` of run ``run_id``, default the latest)
    as a prompt within ``budget_tokens``; None when the run has no such event. ``load``
    reads a listed run (a long-lived caller passes one that keeps what it read).

    A run whose trace is over ``whole_run_bytes`` is read only around the failure, and
    not compared with the last good run (that is :func:`compare_runs`' job): the prompt
    then says so, and costs a few MB of reading whatever the run's size."""
    before, after = runs_to_compare(autodev_dir, after=run_id)
    if after is None:
        return None
    big = too_big_to_read_whole(after.trace, whole_run_bytes)
    run = load_info_near(after, event_id) if big else None
    baseline = None
    if run is None:
        run = load(after)
        baseline = load(before) if before is not None else None
    if run is None or event_id not in run.by_id:
        return None
    story = build_story(run, baseline=baseline, catalog=catalog, root=root,
                        failure_id=event_id, scrub=scrub)
    return render_story(story, budget_tokens=budget_tokens,
                        title="# A runtime failure to diagnose (flowscribe)")
