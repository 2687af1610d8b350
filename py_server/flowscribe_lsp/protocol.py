"""The wire between the server and its clients: custom methods and their payloads.

One declaration of every custom request's result, notification and diagnostic ``data``
(docs/lsp-protocol.md is their prose). :func:`json_schema` turns these declarations into
a JSON Schema, checked in as ``vscode-ext/src/common/protocol.schema.json``; a test keeps
that file equal to this module, and the extension's unit tests check ``protocol.ts``
against it, so the two sides cannot drift.

The annotations are evaluated at run time (for the schema), so they use ``Optional``
rather than ``X | None``: the server still runs on Python 3.9.
"""

# No `from __future__ import annotations`: json_schema() reads the real types.
from collections.abc import Mapping
from typing import (
    Any,
    Literal,
    Optional,
    TypedDict,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

__all__ = [
    "AGENT_TOOL",
    "COMPARE_RUNS",
    "FAILURE_PROMPT",
    "FLOWS",
    "FLOW_EVENTS",
    "REVEAL_FLOW",
    "RUNS",
    "RUNS_CHANGED",
    "SHOW_FLOW",
    "SHOW_TIMELINE",
    "AgentToolResult",
    "CompareRunsResult",
    "FailurePromptResult",
    "FlowCounts",
    "FlowEventsResult",
    "FlowNode",
    "FlowsResult",
    "LastFailure",
    "Location",
    "RunArtifacts",
    "RunChange",
    "RunInfo",
    "RunsChangedParams",
    "RunsResult",
    "TraceDiagnosticData",
    "json_schema",
    "location",
    "params_of",
]

FLOWS = "flowscribe/flows"
RUNS = "flowscribe/runs"
FLOW_EVENTS = "flowscribe/flowEvents"
FAILURE_PROMPT = "flowscribe/failurePrompt"
RUNS_CHANGED = "flowscribe/runsChanged"
COMPARE_RUNS = "flowscribe/compareRuns"
AGENT_TOOL = "flowscribe/agentTool"
#: A lens's command when the client implements it (the VS Code extension: the Flows view).
REVEAL_FLOW = "flowscribe.revealFlow"
#: A lens's command otherwise, run by the server (``workspace/executeCommand``).
SHOW_FLOW = "flowscribe.showFlow"
#: A second lens per marker when the client implements it (the VS Code extension): the Run
#: Timeline filtered to the flow; its argument is ``{"flow": id, "workspaceFolder": uri}``.
SHOW_TIMELINE = "flowscribe.showTimeline"

FlowStatus = Literal["passed", "failed", "unfinished", "never_run", "disabled", "uncatalogued"]


class Position(TypedDict):
    line: int
    character: int


class Range(TypedDict):
    start: Position
    end: Position


class Location(TypedDict):
    """An LSP location (0-based, in the negotiated position encoding)."""

    uri: str
    range: Range


class LastFailure(TypedDict):
    """The latest failure of a flow in the run the index holds."""

    errorClass: Optional[str]
    exceptionType: Optional[str]
    reason: Optional[str]
    #: As recorded (relative to the project root, usually).
    file: Optional[str]
    #: Only for a file inside the workspace folders.
    uri: Optional[str]
    #: 1-based, as recorded.
    line: Optional[int]
    runId: Optional[str]
    eventId: Optional[str]


class FlowCounts(TypedDict):
    passed: int
    failed: int
    unfinished: int
    orphaned: int


class FlowNode(TypedDict):
    """One flow of ``flowscribe/flows``: the catalog's, or one only the run or code knows."""

    id: str
    parent: Optional[str]
    description: str
    status: FlowStatus
    catalogued: bool
    counts: FlowCounts
    p95Ms: Optional[float]
    slaP95Ms: Optional[float]
    markers: list[Location]
    catalog: Optional[Location]
    lastFailure: Optional[LastFailure]
    runId: Optional[str]
    workspaceFolder: str
    projectRoot: str


class FlowsResult(TypedDict):
    flows: list[FlowNode]


class RunArtifacts(TypedDict):
    summary: Optional[str]
    ask: Optional[str]
    trace: Optional[str]


class RunInfo(TypedDict):
    """One run of ``flowscribe/runs``."""

    runId: str
    #: Unix seconds; None while unknown (``ended``: still running, or killed).
    started: Optional[float]
    ended: Optional[float]
    app: Optional[str]
    mode: Optional[str]
    #: passed, failed, unfinished, orphaned (latest run), failures, exceptions.
    verdicts: dict[str, int]
    artifacts: RunArtifacts
    isLatest: bool
    testRun: bool
    workspaceFolder: str
    projectRoot: str


class RunsResult(TypedDict):
    runs: list[RunInfo]


class FlowEventsResult(TypedDict, total=False):
    #: Trace events as recorded (docs/trace-format.md), each with the ``uri`` of its file.
    events: list[dict[str, Any]]
    runId: Optional[str]
    total: int
    truncated: bool
    error: str


class FailurePromptResult(TypedDict, total=False):
    prompt: str
    runId: Optional[str]
    eventId: str
    #: The budget the prompt was fitted to.
    budgetTokens: int
    error: str


class RunChange(TypedDict):
    """One difference between two runs (``flowscribe diff``'s line)."""

    #: verdict, new_failure, fixed, step_added, step_removed, value or timing.
    kind: str
    flowId: Optional[str]
    text: str
    #: The instance's correlation, e.g. ``ticker=NFLX``; "" when not one instance's.
    where: str


class CompareRunsResult(TypedDict, total=False):
    """``flowscribe/compareRuns``: a run (default the latest) against the last good one
    (or the one before), or ``baseRunId``."""

    before: str
    after: str
    changes: list[RunChange]
    workspaceFolder: str
    error: str


class _AgentToolAnswer(TypedDict):
    text: str
    #: The tool refused (bad argument, nothing to answer about): ``text`` says why.
    isError: bool


class AgentToolResult(_AgentToolAnswer, total=False):
    """``flowscribe/agentTool`` ({tool, input, projectRoot?, prepare?}): the answer of one
    of ``flowscribe mcp``'s tools, Markdown with recorded text fenced as data. With
    ``prepare`` nothing runs: ``verify_fix`` says the command it would run, and where."""

    #: The recorded command line (untrusted text: show it as code).
    command: str
    #: Its folder, relative to the project root.
    cwd: str


class RunsChangedParams(TypedDict):
    """``flowscribe/runsChanged`` (server → client): a run started, grew or ended."""

    workspaceFolder: str
    projectRoot: str
    runId: Optional[str]


class TraceDiagnosticData(TypedDict):
    """``data`` of a ``flowscribe.trace`` diagnostic."""

    runId: str
    eventId: str
    flowId: Optional[str]
    instance: Optional[str]
    count: int
    stale: bool
    #: 1-based, as recorded.
    recordedLine: int


#: What the schema covers: the custom methods' payloads and the diagnostic data.
SCHEMA_TYPES = (FlowsResult, RunsResult, FlowEventsResult, FailurePromptResult,
                CompareRunsResult, AgentToolResult, RunsChangedParams, TraceDiagnosticData)


def location(loc: Any) -> Location:
    """An ``lsprotocol`` location as the wire carries it."""
    r = loc.range
    return {"uri": loc.uri, "range": {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character}}}


def params_of(params: Any) -> Mapping[str, Any]:
    """A custom request's params as a mapping (pygls may hand over a namedtuple-like
    object; anything else counts as no params)."""
    if isinstance(params, Mapping):
        return params
    if params is not None and hasattr(params, "_asdict"):
        return dict(params._asdict())
    return {}


# -- the schema --------------------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) with one definition per declared payload."""
    defs: dict[str, Any] = {}
    for td in SCHEMA_TYPES:
        _define(td, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "flowscribe language server protocol (custom methods)",
        "methods": {"flows": FLOWS, "runs": RUNS, "flowEvents": FLOW_EVENTS,
                    "failurePrompt": FAILURE_PROMPT, "compareRuns": COMPARE_RUNS,
                    "agentTool": AGENT_TOOL, "runsChanged": RUNS_CHANGED},
        "$defs": dict(sorted(defs.items())),
    }


def main() -> None:
    """``python -m flowscribe_lsp.protocol``: print the schema (the checked-in copy is
    ``vscode-ext/src/common/protocol.schema.json``)."""
    import json

    print(json.dumps(json_schema(), indent=2))


def _define(td: Any, defs: dict[str, Any]) -> dict[str, str]:
    name = td.__name__
    if name not in defs:
        defs[name] = {}  # recursion guard
        hints = get_type_hints(td)
        defs[name] = {
            "type": "object",
            "properties": {k: _schema(v, defs) for k, v in hints.items()},
            "required": sorted(td.__required_keys__),
            "additionalProperties": False,
        }
    return {"$ref": f"#/$defs/{name}"}


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if isinstance(tp, type) and hasattr(tp, "__required_keys__"):
        return _define(tp, defs)
    if origin is Union:  # Optional[X] too; `X | None` is not used here (see above)
        return {"anyOf": [_schema(a, defs) for a in get_args(tp)]}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin is list:
        return {"type": "array", "items": _schema(get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(get_args(tp)[1], defs)}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean",
              type(None): "null"}
    if tp in simple:
        return {"type": simple[tp]}
    if tp is Any:
        return {}
    raise TypeError(f"no JSON Schema for {tp!r}")


if __name__ == "__main__":
    main()
