"""Start the bundled server as the extension does and check that it answers ``initialize``.

    python scripts/smoke_server.py [PYTHON ...]

Each interpreter (default: this one) runs ``bundled/tool/lsp_server.py`` with ``-I -S``: no
site-packages at all, so a pass proves bundled/libs alone is enough to run the server (``-B``:
and no ``__pycache__`` left in bundled/ to be packed).
Exits non-zero, with the server's stderr, when one does not answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

EXT = Path(__file__).resolve().parents[1]
ENTRY = EXT / "bundled" / "tool" / "lsp_server.py"
TIMEOUT_S = 60.0


def _send(stream: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps(message).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def _receive(stream: IO[bytes]) -> dict[str, Any]:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("the server closed its output")
        line = line.strip()
        if not line:
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    message: dict[str, Any] = json.loads(stream.read(length))
    return message


def smoke(python: str) -> str:
    """Initialize and shut down the server once; returns a line for the log."""
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile() as err:
        root = Path(folder).as_uri()
        started = time.monotonic()
        proc = subprocess.Popen(
            [python, "-I", "-S", "-B", str(ENTRY)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, cwd=folder,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        # A server that never answers must not hang the build: kill it, which ends the read.
        watchdog = threading.Timer(TIMEOUT_S, proc.kill)
        watchdog.start()
        try:
            _send(proc.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "processId": None, "rootUri": root, "capabilities": {},
                "workspaceFolders": [{"uri": root, "name": "smoke"}],
            }})  # fmt: skip
            while True:
                reply = _receive(proc.stdout)
                if reply.get("id") == 1:
                    break
            if "result" not in reply:
                raise RuntimeError(f"initialize failed: {reply.get('error')}")
            took = (time.monotonic() - started) * 1000
            _send(proc.stdin, {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
            _send(proc.stdin, {"jsonrpc": "2.0", "method": "exit", "params": None})
            proc.wait(timeout=TIMEOUT_S)
        except Exception as exc:
            proc.kill()
            proc.wait()
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
            raise RuntimeError(f"{python}: {exc}\n--- server stderr ---\n{stderr}") from exc
        finally:
            watchdog.cancel()
        version = subprocess.run(
            [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
        info = reply["result"].get("serverInfo") or {}
        name = f"{info.get('name', '?')} {info.get('version', '?')}"
        return f"{name} answered initialize on Python {version} in {took:.0f} ms"


def main(argv: list[str]) -> int:
    if not ENTRY.is_file():
        print(f"smoke_server: {ENTRY} is missing; run bundle_python.py first", file=sys.stderr)
        return 2
    failed = 0
    for python in argv or [sys.executable]:
        try:
            print(f"smoke_server: {smoke(python)}", flush=True)
        except Exception as exc:
            failed += 1
            print(f"smoke_server: FAILED {exc}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
