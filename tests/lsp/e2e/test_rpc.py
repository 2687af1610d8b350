"""Issue 16 §7: a bad client cannot crash, stall or confuse the server. Bytes no client
library would send, written to a real server process; each bad message gets its JSON-RPC
error (id null when the id is unusable) or, for a notification, nothing, never a
traceback, and the next ordinary request is still answered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _raw_rpc import RawClient, frame

from flowscribe_lsp.rpc import MAX_HEADER_LINE

HOVER = {"textDocument": {"uri": "file:///nowhere/x.py"}, "position": {"line": 0, "character": 0}}


def _msg(**fields: Any) -> bytes:
    return frame(json.dumps({"jsonrpc": "2.0", **fields}).encode())


# (what, bytes sent, the expected error as (id, code), or None: no answer at all)
CASES: list[tuple[str, bytes, tuple[Any, int] | None]] = [
    ("object id", _msg(id={"a": 1}, method="textDocument/hover", params=HOVER), (None, -32600)),
    ("array id", _msg(id=[1], method="textDocument/hover", params=HOVER), (None, -32600)),
    ("boolean id", _msg(id=True, method="flowscribe/flows", params={}), (None, -32600)),
    ("fractional id", _msg(id=1.5, method="flowscribe/flows", params={}), (None, -32600)),
    ("no method", _msg(id=7), (7, -32600)),
    ("no method, no id", _msg(params={}), None),
    ("method not a string", _msg(id=8, method=5), (8, -32600)),
    ("no jsonrpc", frame(b'{"id": 9, "method": "flowscribe/flows"}'), (9, -32600)),
    ("params a string", _msg(id=10, method="textDocument/hover", params="x"), (10, -32602)),
    ("params of the wrong types", _msg(id=11, method="textDocument/hover", params={
        "textDocument": {"uri": 5}, "position": {"line": "a", "character": None}}),
     (11, -32602)),
    ("a notification with bad params", _msg(method="textDocument/didOpen",
                                            params={"textDocument": 5}), None),
    ("cancel with an object id", _msg(method="$/cancelRequest", params={"id": {}}), None),
    ("unknown method", _msg(id=12, method="no/such"), (12, -32601)),
    ("invalid JSON", frame(b"{not json"), (None, -32700)),
    ("invalid UTF-8", frame(b'{"jsonrpc": "2.0", "id": 1, "method": "\xff\xfe"}'),
     (None, -32700)),
    ("nested 100k deep", frame(b"[" * 100_000), (None, -32700)),
    ("a batch", frame(b'[{"jsonrpc": "2.0", "id": 13, "method": "flowscribe/flows"}]'),
     (None, -32600)),
    ("second initialize", _msg(id=14, method="initialize", params={
        "processId": None, "rootUri": None, "capabilities": {}}), (14, -32600)),
    ("huge header line", b"X-Junk: " + b"a" * (50 * MAX_HEADER_LINE) + b"\r\n", None),
    ("huge Content-Length", b"Content-Length: 99999999999999\r\n\r\n", (None, -32600)),
    ("empty body", b"Content-Length: 0\r\n\r\n", (None, -32700)),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawClient]:
    ws = tmp_path_factory.mktemp("rpc")
    (ws / "mod.py").write_text("import flowscribe\n")
    c = RawClient()
    assert "capabilities" in c.start(ws)["result"]
    yield c
    c.close()


@pytest.mark.parametrize(("what", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_message_gets_a_clean_error_and_the_server_keeps_serving(
        client: RawClient, what: str, data: bytes, expected: tuple[Any, int] | None) -> None:
    client.send_raw(data)
    if expected is not None:
        reply = client.response(expected[0])
        assert reply["error"]["code"] == expected[1], reply
        assert "result" not in reply and "data" not in reply["error"], reply
        assert "traceback" not in json.dumps(reply).lower()
    # Whatever came before, an ordinary request is answered, and nothing else is pending.
    follow = client.request("flowscribe/flows", {})
    assert "flows" in follow["result"], follow
    stray = [m for m in list(client.messages.queue) if "method" not in m]
    assert not stray, f"{what}: unexpected responses {stray}"


def test_after_shutdown_requests_are_refused_not_left_waiting(tmp_path: Path) -> None:
    c = RawClient()
    try:
        c.start(tmp_path)
        assert c.request("shutdown")["result"] is None
        assert c.request("flowscribe/flows", {})["error"]["code"] == -32600
    finally:
        c.send({"jsonrpc": "2.0", "method": "exit"})
        c.proc.wait(timeout=30)
    assert c.proc.returncode == 0
