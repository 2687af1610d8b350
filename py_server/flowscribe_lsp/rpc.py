"""The JSON-RPC boundary: what a client sends over stdio, framed, checked and answered.

pygls 2.x trusts its client more than an LSP server can: a request whose ``id`` is an
object reaches a dict lookup (``TypeError: unhashable type``) and is answered with an
internal error, a traceback and the unusable id; a body that is not JSON or does not
match the method's types is logged and never answered (the request waits forever); a
second ``initialize`` runs again; a header line has no length limit. So the server reads
stdio here, and pygls only sees well-formed messages:

* **Framing** with limits: header lines up to :data:`MAX_HEADER_LINE` bytes, bodies up to
  :data:`MAX_BODY` bytes; an over-long line is skipped, an oversized body refused.
* **Envelope** checks (JSON-RPC 2.0): an object, ``"jsonrpc": "2.0"``, an integer or string
  id, a string method, structured params; otherwise Parse Error / Invalid Request with
  ``id: null`` when the id is unusable.
* **Protocol** checks (LSP): a second ``initialize`` and requests after ``shutdown`` are
  Invalid Request; params that do not fit the method's types are Invalid Params.
* **Answers** never carry a traceback (it stays in the server's log).

Every bad message gets its error (requests) or a log line (notifications), and the
loop goes on to the next one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

__all__ = ["MAX_BODY", "MAX_HEADER_LINE", "FlowscribeProtocol", "check_envelope", "serve"]

log = logging.getLogger("flowscribe_lsp")

#: Longest header line read; LSP headers are two short lines.
MAX_HEADER_LINE = 4096
#: Largest message body accepted (a didOpen of a big file fits many times over).
MAX_BODY = 64 << 20

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*(\d{1,20})[ \t]*\r?\n?$", re.IGNORECASE)


def _usable_id(value: Any) -> bool:
    """LSP ids are integers or strings (JSON-RPC: no fractions, no structured ids)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def check_envelope(data: Any) -> tuple[int, str] | None:
    """The JSON-RPC error (code, message) for a message that is not a usable request,
    notification or response; None if it is."""
    if not isinstance(data, dict):
        kind = "a batch (LSP has none)" if isinstance(data, list) else type(data).__name__
        return INVALID_REQUEST, f"a message must be a JSON object, not {kind}"
    if data.get("jsonrpc") != "2.0":
        return INVALID_REQUEST, 'a message must have "jsonrpc": "2.0"'
    if "id" in data and not _usable_id(data["id"]):
        return INVALID_REQUEST, "an id must be an integer or a string"
    if "method" in data:
        if not isinstance(data["method"], str) or not data["method"]:
            return INVALID_REQUEST, "a method must be a non-empty string"
        if data.get("params") is not None and not isinstance(data["params"], (dict, list)):
            return INVALID_PARAMS, "params must be an object or an array"
    elif "id" not in data or ("result" not in data and "error" not in data):
        return INVALID_REQUEST, "a message needs a method (request, notification) or an id " \
                                "and a result or error (response)"
    return None


class FlowscribeProtocol(LanguageServerProtocol):
    """pygls' LSP protocol with the checks above; :func:`serve` feeds it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_seen = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        # LSP allows requests without ``params``; pygls' generic request type needs the key.
        if "jsonrpc" in data and "method" in data and "params" not in data:
            data["params"] = None
        return super().structure_message(data)

    def reply_error(self, msg_id: Any, code: int, message: str) -> None:
        """Answer with a JSON-RPC error; ``msg_id`` None (unusable id) answers ``id: null``."""
        self._send_data({"jsonrpc": "2.0", "id": msg_id if _usable_id(msg_id) else None,
                         "error": {"code": code, "message": message}})

    def protocol_error(self, data: dict[str, Any]) -> tuple[int, str] | None:
        """What LSP forbids at this point of the session, for a well-formed request."""
        method = data.get("method")
        if "id" not in data or method is None:
            return None
        if method == lsp.INITIALIZE:
            if self._initialize_seen:
                return INVALID_REQUEST, "initialize was already received"
            self._initialize_seen = True
        elif self._shutdown and method != lsp.EXIT:
            return INVALID_REQUEST, "the server is shutting down (shutdown was received)"
        return None

    def _send_response(self, msg_id: Any, result: Any = None,
                       error: lsp.ResponseError | None = None) -> None:
        # pygls puts the handler's traceback in the error's data: it stays in our log.
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            error = lsp.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)

    def receive(self, body: bytes) -> None:
        """One message body: parsed, checked, structured, then handled by pygls."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, absurdly deep
            log.warning("unparsable message (%s bytes): %s", len(body), type(exc).__name__)
            self.reply_error(None, PARSE_ERROR, "Parse error: the body is not JSON")
            return
        msg_id = data.get("id") if isinstance(data, dict) else None
        is_request = isinstance(data, dict) and "method" in data and "id" in data
        problem = check_envelope(data)
        if problem is None and isinstance(data, dict):
            problem = self.protocol_error(data)
        if problem is not None:
            log.warning("refused a message: %s", problem[1])
            # Anything with an id (or not even an object) is answered; notifications never
            # are (JSON-RPC). Well-formed responses never get here.
            if not isinstance(data, dict) or "id" in data:
                self.reply_error(msg_id, *problem)
            return
        try:
            message = self.structure_message(data)
        except JsonRpcException as exc:
            method = data.get("method")
            log.warning("bad params for %r: %s", method, exc.__cause__ or exc)
            if is_request:
                code = INVALID_PARAMS if isinstance(exc, JsonRpcInvalidParams) else INVALID_REQUEST
                self.reply_error(msg_id, code, f"params do not fit {method}")
            return
        try:
            self.handle_message(message)
        except Exception:  # a pygls or handler bug on one message must not stop the loop
            log.exception("handling %r failed", data.get("method"))
            if is_request:
                self.reply_error(msg_id, -32603, "Internal error (details in the server log)")


class _Framing:
    """Blocking reads of stdin with limits (run on the reader thread)."""

    def __init__(self, stdin: BinaryIO) -> None:
        self.stdin = stdin

    def header_line(self) -> bytes:
        """The next header line; b"" at EOF. Of a line over the limit only its last piece
        is kept (a header glued to its end still counts), marked so it is never blank."""
        line = self.stdin.readline(MAX_HEADER_LINE + 1)
        if len(line) <= MAX_HEADER_LINE or line.endswith(b"\n"):
            return line
        log.warning("skipped a header line over %d bytes", MAX_HEADER_LINE)
        while line and not line.endswith(b"\n"):  # the rest, in bounded pieces
            line = self.stdin.readline(MAX_HEADER_LINE)
        return b"\x00" + line

    def body(self, length: int) -> bytes:
        chunks, left = [], length
        while left > 0:
            chunk = self.stdin.read(min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


async def serve(stdin: BinaryIO, protocol: FlowscribeProtocol, stop: threading.Event) -> None:
    """Read framed messages from ``stdin`` until EOF or ``stop``; each body goes to
    :meth:`FlowscribeProtocol.receive`."""
    loop = asyncio.get_running_loop()
    framing = _Framing(stdin)
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowscribe-stdin")
    length: int | None = None
    try:
        while not stop.is_set():
            line = await loop.run_in_executor(reader, framing.header_line)
            if line == b"":
                break  # EOF: the client is gone
            # Anywhere on the line: a header glued to junk still resynchronises.
            match = _CONTENT_LENGTH.search(line)
            if match is not None:
                length = int(match.group(1))
                continue
            if line.strip() or length is None:
                continue  # another header (Content-Type), or junk between messages
            size, length = length, None
            if size > MAX_BODY:
                # Not read: a length that lies would swallow the messages after it. The
                # bytes that follow (if any) are skipped as junk until the next header.
                log.warning("refused a message of %d bytes (limit %d)", size, MAX_BODY)
                protocol.reply_error(None, INVALID_REQUEST,
                                     f"message too large ({size} bytes, limit {MAX_BODY})")
                continue
            body = await loop.run_in_executor(reader, framing.body, size)
            if len(body) < size:
                break  # EOF mid-body
            protocol.receive(body)
    finally:
        reader.shutdown(wait=False, cancel_futures=True)
