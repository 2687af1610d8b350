"""Real web servers for the middleware tests: started as subprocesses on a free loopback
port in the test's project, sent concurrent requests, stopped with SIGTERM.

The assertions read the top-level ``.autodev/trace.jsonl``, which every process writes
event by event; a test waits until the trace holds every request's ``flow_end`` before it
stops the server (what SIGTERM writes besides is another part's concern).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _project import clean_env

#: Generous bounds for a shared 2-core machine; a healthy run takes a fraction of them.
START_TIMEOUT = 60.0
TRACE_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    status: int
    body: bytes


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, headers: dict[str, str] | None = None,
            data: bytes | None = None) -> Reply:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(resp.status, resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, err.read())

    def many(self, requests: Sequence[tuple[str, dict[str, str]]], threads: int = 16,
             ) -> list[Reply]:
        """Send ``(path, headers)`` requests concurrently; replies in the same order."""
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda r: self.get(r[0], r[1]), requests))


def write_app(root: Path, name: str, code: str) -> None:
    (root / name).write_text(textwrap.dedent(code), encoding="utf-8")


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server did not listen on {port}:\n{log.read_text()}")


@contextmanager
def serve(root: Path, argv: Sequence[str], port: int) -> Iterator[Server]:
    """Run ``python -m <argv>`` in ``root`` until the block ends, then SIGTERM it."""
    log = root / "server.log"
    env = clean_env(PYTHONUNBUFFERED="1")
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", *argv], cwd=root, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, proc, log)
        yield Server(f"http://127.0.0.1:{port}", proc, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def trace_events(root: Path) -> list[dict[str, Any]]:
    """Every whole line of the project's trace (a line being written is not read)."""
    path = root / ".autodev" / "trace.jsonl"
    if not path.exists():
        return []
    events = []
    for raw in path.read_bytes().splitlines(keepends=True):
        if raw.endswith(b"\n"):
            events.append(json.loads(raw))
    return events


def wait_for_requests(root: Path, count: int, prefix: str = "http/") -> list[dict[str, Any]]:
    """The trace once it holds ``count`` ended request flows (fails after a bound)."""
    deadline = time.monotonic() + TRACE_TIMEOUT
    while True:
        events = trace_events(root)
        ended = [e for e in events if e["event_type"] == "flow_end"
                 and str(e["flow_id"]).startswith(prefix)]
        if len(ended) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def request_flows(events: list[dict[str, Any]], prefix: str = "http/",
                  ) -> dict[str, list[dict[str, Any]]]:
    """instance -> its events, for every request flow (in trace order)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if str(e.get("flow_id")).startswith(prefix) and e.get("instance"):
            out.setdefault(e["instance"], []).append(e)
    return out
