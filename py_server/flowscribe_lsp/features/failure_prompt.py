"""``flowscribe/failurePrompt``: the story of one failure, as a prompt for an assistant.

The text is :func:`flowscribe.story.failure_prompt`'s, the one ask.md and the assistant
tools use: the causal slice, the code where the cause is, a passing instance, the
catalog's intent and what changed since the last good run, fitted into the caller's
``budgetTokens`` (default :data:`~flowscribe.story.DEFAULT_BUDGET_TOKENS`) in whole items.
Recorded text is redacted again with the project's ``privacy`` settings and fenced as data.
Built on the index worker: it reads traces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowscribe.artifacts import Scrubber
from flowscribe.story import clamp_budget, failure_prompt

from ..protocol import FAILURE_PROMPT, FailurePromptResult, params_of
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer

__all__ = ["FailurePrompt"]


class FailurePrompt(Feature):
    """Answers ``flowscribe/failurePrompt``."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(FAILURE_PROMPT)(self.failure_prompt)

    async def failure_prompt(self, params: Any) -> FailurePromptResult:
        p = params_of(params)
        run_id, event_id = p.get("runId"), p.get("eventId")
        if not isinstance(event_id, str) or not event_id:
            return {"prompt": "", "error": "eventId is required"}
        rid = run_id if isinstance(run_id, str) and run_id else None
        budget = clamp_budget(p.get("budgetTokens"))
        for project in list(self.server.index.projects()):
            try:
                prompt = await self.server.in_worker(_prompt, project, rid, event_id, budget)
            except Exception as exc:  # an unreadable run: try the other projects
                self.server.log(f"{FAILURE_PROMPT} in {project.autodev} failed: "
                                f"{type(exc).__name__}: {exc}")
                continue
            if prompt is not None:
                return {"prompt": prompt, "runId": rid or project.run.run_id,
                        "eventId": event_id, "budgetTokens": budget}
        return {"prompt": "", "error": f"event {event_id} not found"}


def _prompt(project: Project, run_id: str | None, event_id: str, budget: int) -> str | None:
    return failure_prompt(project.autodev, run_id, event_id, catalog=project.catalog,
                          root=project.root, scrub=Scrubber(project.config).event,
                          budget_tokens=budget)
