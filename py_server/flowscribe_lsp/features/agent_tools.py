"""``flowscribe/agentTool``: one of ``flowscribe mcp``'s tools, answered by this server, for
the editor's language-model tools (the VS Code extension's ``vscode-ext/src/agent/``).

The answer is the MCP tool's own (:mod:`flowscribe.mcp.tools`, :mod:`flowscribe.mcp.verify`:
the same functions, so the same redaction and data fencing); only the transport differs. A
bad or unknown argument is an answer with ``isError``, never a failed request.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowscribe.mcp import tools, verify
from flowscribe.mcp.workspace import ToolInputError, Workspace

from ..paths import path_to_uri
from ..protocol import AGENT_TOOL, AgentToolResult, params_of
from . import Feature

if TYPE_CHECKING:
    from ..server import FlowscribeServer

__all__ = ["AGENT_TOOLS", "AgentTools"]

#: The tools, by their MCP names (``flowscribe mcp`` lists the same ones).
AGENT_TOOLS: Mapping[str, Callable[..., str]] = {
    "list_runs": tools.list_runs,
    "get_failures": tools.get_failures,
    "get_failure_story": tools.get_failure_story,
    "get_flow": tools.get_flow,
    "get_flow_events": tools.get_flow_events,
    "diff_runs": tools.diff_runs,
    "verify_fix": verify.verify_fix,
}


def _error(text: str) -> AgentToolResult:
    return {"text": text, "isError": True}


def _plain(value: Any) -> Any:
    """JSON data as sent (pygls hands nested objects over as namedtuple-like objects)."""
    if hasattr(value, "_asdict"):
        value = value._asdict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _arguments(fn: Callable[..., str], given: Any) -> dict[str, Any]:
    """``given`` checked against ``fn``'s keyword parameters (the values are checked by
    the tool itself); raises :class:`ToolInputError` naming what is wrong."""
    given = _plain(given)
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ToolInputError("input must be an object of the tool's arguments")
    accepted = [n for n in inspect.signature(fn).parameters if n != "ws"]
    unknown = sorted(str(k) for k in given if k not in accepted)
    if unknown:
        raise ToolInputError(f"unknown argument{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(unknown)}; this tool takes {', '.join(accepted)}")
    kwargs = {str(k): v for k, v in given.items() if v is not None}
    try:
        inspect.signature(fn).bind(None, **kwargs)
    except TypeError as exc:  # a required argument missing
        raise ToolInputError(f"{exc}; this tool takes {', '.join(accepted)}") from None
    return kwargs


def answer(root: Path, tool: str, given: Any) -> AgentToolResult:
    """The text tool ``tool`` answers for workspace ``root`` (``isError`` when refused)."""
    fn = AGENT_TOOLS.get(tool)
    if fn is None:
        return _error(f"no tool {tool!r}; the tools are {', '.join(AGENT_TOOLS)}")
    try:
        return {"text": fn(Workspace.open(root), **_arguments(fn, given)), "isError": False}
    except ToolInputError as exc:
        return _error(str(exc))


def plan(root: Path, tool: str, given: Any) -> AgentToolResult:
    """What ``tool`` would do, without doing it: for ``verify_fix``, the command it would
    run (the client asks the user first); the other tools only read."""
    if tool != "verify_fix":
        return {"text": "", "isError": False}
    try:
        run = _arguments(verify.verify_fix, given).get("run")
        command, cwd = verify.planned_rerun(Workspace.open(root), run)
    except ToolInputError as exc:
        return _error(str(exc))
    return {"text": "", "isError": False, "command": command, "cwd": cwd}


class AgentTools(Feature):
    """Answers ``flowscribe/agentTool`` ({tool, input, projectRoot?, prepare?} ->
    {text, isError, command?, cwd?})."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        server.handle(AGENT_TOOL)(self.agent_tool)

    def _root(self, wanted: Any) -> Path | None:
        """The project asked for (``projectRoot``: a uri, as the Flows and Runs views give
        it), else the one whose latest run is the newest."""
        projects = list(self.server.index.projects())
        if isinstance(wanted, str) and wanted:
            return next((p.root for p in projects if path_to_uri(p.root) == wanted), None)
        with_runs = [p for p in projects if p.run.run_id]
        best = max(with_runs, key=lambda p: p.run.started or 0.0, default=None)
        return best.root if best is not None else (projects[0].root if projects else None)

    async def agent_tool(self, params: Any) -> AgentToolResult:
        p = params_of(params)
        tool = _plain(p.get("tool"))
        if not isinstance(tool, str) or not tool:
            return _error(f"tool is required, one of {', '.join(AGENT_TOOLS)}")
        root = self._root(p.get("projectRoot"))
        if root is None:
            return _error("no flowscribe project in this workspace (no .autodev folder)")
        try:
            if p.get("prepare") is True:
                return await self.server.in_worker(plan, root, tool, p.get("input"))
            # verify_fix waits for the app's rerun: not on the index worker, which the
            # editor's other requests need meanwhile.
            if tool == "verify_fix":
                return await asyncio.get_running_loop().run_in_executor(
                    None, answer, root, tool, p.get("input"))
            return await self.server.in_worker(answer, root, tool, p.get("input"))
        except Exception as exc:  # a bug of ours: the model gets an error, the log the rest
            self.server.log(f"{AGENT_TOOL} {tool} failed: {type(exc).__name__}: {exc}")
            return _error(f"flowscribe could not answer ({type(exc).__name__}); this is a bug "
                          "in flowscribe, not in your arguments")
