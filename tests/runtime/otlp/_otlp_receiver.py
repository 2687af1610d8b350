"""A real OTLP/HTTP receiver (oteltap) on loopback for the otlp tests, and the small app
they run into it. Test modules import this after skipping without oteltap."""

from __future__ import annotations

import asyncio
import socket
import sys
import textwrap
from collections.abc import Awaitable, Callable, Collection, Mapping
from pathlib import Path
from typing import Any

APP = """\
import flowscribe
flowscribe.init(app_name="shop", mode="test")
with flowscribe.flow("orders/submit", ticker="AAPL") as f:
    f.checkpoint("validate", rows=3)
    with flowscribe.flow("orders/ack") as g:
        g.failure("EXTERNAL.TIMEOUT", "no ack password=hunter2", severity="critical")
flowscribe.end_session()
"""
APP_SPANS = frozenset({"orders/submit", "orders/ack"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def attrs(item: Any) -> dict[str, Any]:
    """The attributes of a received span, event or data point, as a dict."""
    out = {}
    for kv in item.attributes:
        v = kv.value
        out[kv.key] = getattr(v, v.WhichOneof("value"))
    return out


def otlp_project(project: Path, port: int, app: str = APP, extra: str = "") -> Path:
    """``project`` with an otlp sink pointed at ``port`` (plus ``extra`` sink keys) and
    ``app.py``."""
    (project / ".autodev" / "ra.yaml").write_text(textwrap.dedent(f"""\
        version: 1
        profile: all
        sinks:
          - type: jsonl
          - type: otlp
            endpoint: http://127.0.0.1:{port}
    """) + "".join(f"    {line}\n" for line in extra.splitlines()))
    (project / "app.py").write_text(app)
    return project


async def receive(port: int, act: Callable[[], Awaitable[None]], *,
                  spans: Collection[str] = APP_SPANS, metrics: bool = False,
                  ) -> tuple[list[Any], list[Any]]:
    """(spans, metrics) a receiver on ``port`` got while ``act`` ran and until the spans
    named ``spans`` (and a metric, with ``metrics``) arrived: bounded, not a timing
    assert."""
    import oteltap

    settings = oteltap.OtelTapHttpProtobufReceiverSettings(http_port=port)
    async with oteltap.OtelTapHttpProtobufReceiver(settings) as receiver:
        got_spans: list[Any] = []
        got_metrics: list[Any] = []

        async def collect(stream: Any, into: list[Any]) -> None:
            async for item in stream:
                into.append(item)

        tasks = [asyncio.create_task(collect(receiver.stream_traces(), got_spans)),
                 asyncio.create_task(collect(receiver.stream_metrics(), got_metrics))]
        await act()
        for _ in range(200):
            if set(spans) <= {s.name for s in got_spans} and (got_metrics or not metrics):
                break
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        return got_spans, got_metrics


def run_app(root: Path, env: Mapping[str, str] | None = None) -> Callable[[], Awaitable[None]]:
    """An ``act`` for :func:`receive`: ``python app.py`` in ``root``, which must exit 0."""
    async def act() -> None:
        proc = await asyncio.create_subprocess_exec(sys.executable, "app.py", cwd=root,
                                                    env=dict(env) if env is not None else None)
        assert await proc.wait() == 0

    return act
