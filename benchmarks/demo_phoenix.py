"""The example app's run in a full OpenTelemetry backend: Arize Phoenix, started locally.

Optional and not run by CI (issue 15's demo against a real backend). Phoenix is big and
pins its own dependencies, so it lives in a virtual environment of its own, never the
project's:

    python -m venv /tmp/phoenix-venv && /tmp/phoenix-venv/bin/pip install arize-phoenix
    .venv/bin/python benchmarks/demo_phoenix.py --phoenix /tmp/phoenix-venv/bin/python

The script starts ``phoenix serve`` on a free loopback port (a fresh working folder,
telemetry off), copies ``examples/trading_app`` to a temporary folder with an ``otlp`` sink
added to its ``ra.yaml`` (pointed at Phoenix, which takes OTLP/HTTP on its own port, with
``x-project-name`` naming the project), runs it with this Python (which needs
``flowscribe[otlp]``), then reads the spans back over Phoenix's REST API
(``GET /v1/projects/<name>/spans/otlpv1``) and prints what arrived: names, parents, statuses
and ``error.type``, next to what the run's own trace holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PROJECT = "flowscribe-demo"

OTLP_SINK = """\
  - type: otlp
    endpoint: http://127.0.0.1:{port}
    headers: {{x-project-name: {project}}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read().decode())


def _start_phoenix(python: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PHOENIX_PORT": str(port), "PHOENIX_HOST": "127.0.0.1",
           "PHOENIX_GRPC_PORT": str(_free_port()), "PHOENIX_WORKING_DIR": str(workdir),
           "PHOENIX_TELEMETRY_ENABLED": "false"}
    log = open(workdir / "phoenix.log", "wb")  # noqa: SIM115 - the server's, closed with it
    return subprocess.Popen([python, "-m", "phoenix.server.main", "serve"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"Phoenix exited ({proc.returncode}) before it was ready")
        try:
            _get(f"http://127.0.0.1:{port}/v1/projects")
            return time.monotonic() - started
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(0.5)
    raise SystemExit(f"Phoenix was not ready after {timeout:.0f} s")


def _run_example(tmp: Path, port: int) -> Path:
    app = tmp / "trading_app"
    shutil.copytree(REPO / "examples" / "trading_app", app,
                    ignore=shutil.ignore_patterns(".autodev/runs", "trace.jsonl*", "*.md",
                                                  "latest", "__pycache__"))
    ra = app / ".autodev" / "ra.yaml"
    text = ra.read_text(encoding="utf-8")
    text = text.replace("sinks:\n", "sinks:\n" + OTLP_SINK.format(port=port, project=PROJECT), 1)
    ra.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCRIBE_", "RA_"))}
    proc = subprocess.run([sys.executable, "app.py"], cwd=app, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    print(f"example app: exit status {proc.returncode} (1: it fails on purpose)")
    for line in proc.stderr.splitlines():
        if "otlp" in line.lower():
            print(f"  {line}")
    return app


def _spans(port: int, expected: int, timeout: float = 30) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/v1/projects/{PROJECT}/spans/otlpv1?limit=1000"
    deadline = time.monotonic() + timeout
    got: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            got = _get(url).get("data", [])
        except (urllib.error.URLError, OSError, ValueError):
            got = []
        if len(got) >= expected:
            break
        time.sleep(0.5)
    return got


def _attr(span: dict[str, Any], key: str) -> str:
    for item in span.get("attributes") or []:
        if item.get("key") == key:
            value = item.get("value") or {}  # {"string_value": ...}, unset kinds None
            return next((str(v) for v in value.values() if v is not None), "")
    return ""


def _status(span: dict[str, Any]) -> str:
    code = (span.get("status") or {}).get("code")
    return {0: "UNSET", 1: "OK", 2: "ERROR", None: "UNSET"}.get(code, str(code))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--phoenix", default="/tmp/phoenix-venv/bin/python",
                   help="the Python of the virtual environment Phoenix is installed in")
    p.add_argument("--keep", action="store_true", help="leave the temporary folder")
    args = p.parse_args()
    try:
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
    except ImportError:
        print("could not run: this Python needs flowscribe[otlp]")
        return 1
    if not Path(args.phoenix).exists():
        print(f"could not run: no Python at {args.phoenix} (see this script's docstring)")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="demo-phoenix-"))
    port = _free_port()
    server = _start_phoenix(args.phoenix, port, tmp)
    try:
        ready = _wait_ready(port, server, timeout=180)
        print(f"Phoenix ready on 127.0.0.1:{port} after {ready:.1f} s")
        app = _run_example(tmp, port)
        from flowscribe.trace import iter_events

        trace = (app / ".autodev" / "latest").resolve() / "trace.jsonl"
        starts = {e["instance"]: e for e in iter_events(trace) if e["event_type"] == "flow_start"}
        ends = {e["instance"]: e for e in iter_events(trace) if e["event_type"] == "flow_end"}
        print(f"the run's trace: {len(starts)} flow instances, "
              f"{sum(1 for e in ends.values() if e['status'] == 'failed')} failed")
        spans = _spans(port, len(starts))
        print(f"Phoenix returned {len(spans)} spans for project {PROJECT!r}")
        names = {s.get("span_id"): s.get("name") for s in spans}
        rows = []
        for s in sorted(spans, key=lambda s: int(s.get("start_time_unix_nano") or 0)):
            parent = s.get("parent_span_id") or ""
            rows.append((s.get("name", "?"), names.get(parent, "-") if parent else "-",
                         _status(s), _attr(s, "error.type") or "-",
                         _attr(s, "flowscribe.correlation.ticker") or "-",
                         ((s.get("status") or {}).get("message") or "")[:40]))
        head = ("span", "parent", "status", "error.type", "ticker", "status message")
        width = [max(len(r[i]) for r in [*rows, head]) for i in range(len(head))]
        print()
        for r in [head, *rows]:
            print("  ".join(f"{c:<{w}}" for c, w in zip(r, width)).rstrip())
        errors = sum(1 for r in rows if r[2] == "ERROR")
        print()
        print(f"{len(rows)} spans, {errors} with status ERROR; every flow instance arrived: "
              f"{len(rows) == len(starts)}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
