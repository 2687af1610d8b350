"""A raw JSON-RPC client over a real server process's stdio: Content-Length frames written
by hand, so tests can send what no well-behaved client library would."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

#: A hang detector, not a timing assert: a healthy server answers in milliseconds.
TIMEOUT_S = 30.0


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawClient:
    """``python -m flowscribe_lsp`` with bytes in, parsed messages out."""

    def __init__(self, python: str = sys.executable) -> None:
        self.proc = subprocess.Popen([python, "-m", "flowscribe_lsp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr: list[bytes] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        self._next_id = 1000

    def _read(self, out: IO[bytes]) -> None:
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line == b"\r\n" and length is not None:
                    break
            self.messages.put(json.loads(out.read(length)))

    def _drain(self, err: IO[bytes]) -> None:
        for line in err:
            self.stderr.append(line)

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        self.send_raw(frame(json.dumps(message).encode()))

    def response(self, msg_id: Any) -> dict[str, Any]:
        """The next response with ``msg_id`` (server requests and notifications are
        answered or skipped on the way)."""
        while True:
            msg = self.messages.get(timeout=TIMEOUT_S)
            if "method" in msg:
                if "id" in msg:  # a server request (registration, refresh): accept it
                    self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
                continue
            if msg.get("id") == msg_id:
                return msg

    def request(self, method: str, params: Any = None) -> dict[str, Any]:
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self.response(self._next_id)

    def start(self, root: Path) -> dict[str, Any]:
        result = self.request("initialize", {"processId": None, "rootUri": root.as_uri(),
                                             "capabilities": {}})
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return result

    def close(self) -> None:
        try:
            self.request("shutdown")
            self.send({"jsonrpc": "2.0", "method": "exit"})
            self.proc.wait(timeout=TIMEOUT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
