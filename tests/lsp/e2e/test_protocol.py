"""The wire, declared once (``flowscribe_lsp.protocol``): the checked-in JSON Schema the
extension's tests read is the declaration's, and what a real server answers about a real
run validates against it (fields, types, nothing undeclared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from _lsp_session import Session
from _lsp_workspaces import REPO

from flowscribe_lsp.protocol import json_schema

CHECKED_IN = REPO / "vscode-ext" / "src" / "common" / "protocol.schema.json"


def _check(schema: dict[str, Any], name: str, value: Any) -> None:
    ref = {"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]}
    jsonschema.Draft202012Validator(ref).validate(value)


def test_the_checked_in_schema_is_the_declarations() -> None:
    current = json.loads(CHECKED_IN.read_text(encoding="utf-8"))
    assert current == json_schema(), (
        "protocol.py changed: run `python -m flowscribe_lsp.protocol > "
        f"{CHECKED_IN.relative_to(REPO)}`")
    jsonschema.Draft202012Validator.check_schema(current)


async def test_real_answers_validate(session: Session, trading_ws: Path) -> None:
    schema = json_schema()
    await session.start(trading_ws)
    broker = trading_ws / "trading" / "broker.py"
    diags = await session.wait_diagnostics(broker, bool, source="flowscribe.trace")
    for d in diags:
        _check(schema, "TraceDiagnosticData", d.data)
    for _ in range(400):  # until the background code scan has found the failing markers
        flows = await session.request("flowscribe/flows", {})
        failing = next(f for f in flows["flows"] if f["lastFailure"])
        if failing["markers"]:
            break
        await session.settle(0.05)
    _check(schema, "FlowsResult", flows)
    assert failing["markers"] and failing["catalog"]  # the nested shapes were checked too
    runs = await session.request("flowscribe/runs", {})
    _check(schema, "RunsResult", runs)
    assert runs["runs"]
    last = failing["lastFailure"]
    events = await session.request("flowscribe/flowEvents", {"flowId": failing["id"]})
    _check(schema, "FlowEventsResult", events)
    prompt = await session.request("flowscribe/failurePrompt",
                                   {"runId": last["runId"], "eventId": last["eventId"]})
    _check(schema, "FailurePromptResult", prompt)
    assert prompt["prompt"]
    for bad in ({"eventId": "nope"}, {}):
        _check(schema, "FailurePromptResult",
               await session.request("flowscribe/failurePrompt", bad))
    _check(schema, "FlowEventsResult", await session.request("flowscribe/flowEvents", {}))


def test_the_extension_uses_the_one_prompt_budget() -> None:
    """ask.md, the server's failure prompt and the extension's fallback share one budget."""
    import re

    from flowscribe.story import CHARS_PER_TOKEN, DEFAULT_BUDGET_TOKENS

    ts = (REPO / "vscode-ext" / "src" / "common" / "constants.ts").read_text(encoding="utf-8")

    def constant(name: str) -> float:
        m = re.search(rf"export const {name} = ([\d_.]+);", ts)
        assert m, name
        return float(m.group(1).replace("_", ""))

    assert constant("PROMPT_BUDGET_TOKENS") == DEFAULT_BUDGET_TOKENS
    assert constant("CHARS_PER_TOKEN") == CHARS_PER_TOKEN
