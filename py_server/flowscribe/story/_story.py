"""A run's failure story: its distinct failures, each with its causal slice, its code, a
passing instance to contrast it with, the catalog's intent for every flow it touches, and
what changed since the last good run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscribe.story._diff import RunDiff, diff_runs
from flowscribe.story._project import ProjectFacts, project_facts
from flowscribe.story._run import RunView
from flowscribe.story._slice import SliceItem, TopFailure, causal_slice, top_failures
from flowscribe.story._source import CodeBlock, SourceReader

if TYPE_CHECKING:
    from flowscribe.catalog import Catalog, FlowSpec

__all__ = ["FailureStory", "Story", "build_story"]

#: Failures told in full; the rest are listed.
MAX_TOLD = 3
#: Functions quoted per failure (recorded ones first, then their callees).
MAX_FUNCTIONS = 6
MAX_CONTRAST_LINES = 14

Scrub = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass
class FailureStory:
    """One distinct failure and the material that explains it."""

    top: TopFailure
    slice: list[SliceItem] = field(default_factory=list)
    code: list[CodeBlock] = field(default_factory=list)
    contrast: list[dict[str, Any]] = field(default_factory=list)
    contrast_from: str = ""  # "this run" or the run id it came from
    specs: list[FlowSpec] = field(default_factory=list)

    @property
    def event(self) -> dict[str, Any]:
        return self.top.event


@dataclass
class Story:
    """Everything a prompt about one run can say, before it is fitted to a budget."""

    run: RunView
    facts: ProjectFacts
    failures: list[FailureStory]
    all_failures: list[TopFailure]
    baseline: RunView | None = None
    diff: RunDiff | None = None
    #: Redacts an event before anything is quoted from it.
    scrub: Scrub = field(default=lambda ev: dict(ev), repr=False)

    @property
    def baseline_passed(self) -> bool:
        return self.baseline is not None and self.baseline.passed()


def _identity(ev: Mapping[str, Any]) -> dict[str, Any]:
    return dict(ev)


def _code_for(reader: SourceReader, failure: Mapping[str, Any], items: list[SliceItem],
              ) -> list[CodeBlock]:
    blocks: dict[tuple[str, int], CodeBlock] = {}
    order: list[tuple[str, int]] = []
    for item in [SliceItem(dict(failure), 101, "the failure"), *items]:
        ev = item.event
        file, line = ev.get("file"), ev.get("line")
        if not isinstance(file, str) or not isinstance(line, int):
            continue
        block = reader.function_at(file, line)
        if block is None:
            continue
        key = (block.file, block.start)
        if key not in blocks:
            block.why = ("where the failure was detected" if item.score > 100
                         else f"recorded {item.why}")
            blocks[key] = block
            order.append(key)
        blocks[key].marked.add(line)
    first = [blocks[k] for k in order][:MAX_FUNCTIONS]
    # One level of the workspace functions that the failing function calls.
    if first and len(first) < MAX_FUNCTIONS:
        for file, line in reader.callees(first[0]):
            callee = reader.function_at(file, line)
            if callee is None or (callee.file, callee.start) in blocks:
                continue
            callee.why = f"called by {first[0].function}"
            blocks[(callee.file, callee.start)] = callee
            first.append(callee)
            if len(first) >= MAX_FUNCTIONS:
                break
    return first


def _contrast(run: RunView, baseline: RunView | None, failure: Mapping[str, Any],
              ) -> tuple[list[dict[str, Any]], str]:
    """A passing instance of the failing flow: in the last good run with the same
    correlation if there is one, else in this run, else in the last good run."""
    flow_id = failure.get("flow_id")
    if not isinstance(flow_id, str):
        return [], ""
    corr = failure.get("correlation") if isinstance(failure.get("correlation"), Mapping) else {}

    def passing(view: RunView, same_corr: bool) -> str | None:
        # The newest one: looked for from the end (a big run has many instances).
        for inst, start in reversed(view.starts.items()):
            if start.get("flow_id") != flow_id or view.status(inst) != "passed":
                continue
            if same_corr and start.get("correlation") != corr:
                continue
            return inst
        return None

    for view, same, label in ((baseline, True, "the last good run"),
                              (run, False, "this run"), (baseline, False, "the last good run")):
        if view is None:
            continue
        inst = passing(view, same)
        if inst is None:
            continue
        events = list(view.by_instance.get(inst, ()))
        for child in view.descendants(inst):
            events.extend(view.by_instance.get(child, ()))
        events.sort(key=lambda e: view.position.get(str(e.get("id")), 0))
        return events[:MAX_CONTRAST_LINES], f"{label} ({view.run_id})"
    return [], ""


def build_story(
    run: RunView,
    *,
    baseline: RunView | None = None,
    catalog: Catalog | None = None,
    root: Path | str | None = None,
    failure_id: str | None = None,
    scrub: Scrub | None = None,
    sla_ms: Mapping[str, float] | None = None,
    slice_limit: int = 40,
) -> Story:
    """The story of ``run`` (of the one failure ``failure_id`` when given), compared with
    ``baseline`` (the last good run, or the previous one). ``scrub`` redacts each event
    before anything is quoted from it."""
    # Scrubbing is applied where events are quoted (render), not to whole runs: a second
    # redaction pass over every event of a big run would cost more than the story.
    base = baseline
    facts = project_facts(run.header, root)
    reader = SourceReader(facts.root)
    tops = top_failures(run, limit=10_000)
    told = tops
    if failure_id is not None:
        chosen = run.by_id.get(failure_id)
        told = [t for t in tops if t.event.get("id") == failure_id
                or any(c.get("id") == failure_id for c in t.consequences)]
        if not told and chosen is not None:
            told = [TopFailure(event=chosen, latest=chosen)]
    stories = []
    for top in told[:MAX_TOLD]:
        items = causal_slice(run, top.event, limit=slice_limit)
        fs = FailureStory(top=top, slice=items, code=_code_for(reader, top.event, items))
        fs.contrast, fs.contrast_from = _contrast(run, base, top.event)
        if catalog is not None:
            seen: list[str] = []
            for ev in [top.event, *(i.event for i in items)]:
                fid = ev.get("flow_id")
                if isinstance(fid, str) and fid not in seen:
                    seen.append(fid)
            fs.specs = [s for s in (catalog.get(f) for f in seen) if s is not None]
        stories.append(fs)
    diff = diff_runs(base, run, sla_ms) if base is not None else None
    return Story(run=run, facts=facts, failures=stories, all_failures=tops, baseline=base,
                 diff=diff, scrub=scrub or _identity)
