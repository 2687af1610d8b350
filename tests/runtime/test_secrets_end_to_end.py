"""No secret an app hands to a marker reaches any file flowscribe writes (issue 16 §5).

A real app puts secrets in every place a marker takes text: evidence, correlation, the
reason, the quickstart's ``Event(event_type="exception", reason=...)``, and the names
(flow id, step, tag, error class, metric name and unit, thread name). Every file under
``.autodev`` afterwards (both traces, SQLite, summary.md, ask.md, the run folder) is
searched for each secret, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from _project import run_python, write_config

SECRETS = [
    "hunter2-very-secret",  # password=… in free text
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",  # a GitHub token's shape
    "Pa55@Word",  # a URL password with an @ in it
    "sk-live-0123456789abcdef0123",
]

APP = """\
import threading
import flowscribe
from flowscribe import Event

flowscribe.init(app_name="secrets")
with flowscribe.flow("orders/token=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                     tags=["password=hunter2-very-secret"],
                     api_key="sk-live-0123456789abcdef0123") as f:
    f.checkpoint("login password=hunter2-very-secret",
                 dsn="mysql://root:Pa55@Word@db/app", password="hunter2-very-secret")
    f.metric("token=ghp_abcdefghijklmnopqrstuvwxyz0123456789", 1.0,
             unit="password=hunter2-very-secret")
    f.add_event(Event(event_type="exception", reason="password=hunter2-very-secret"))
    f.failure("AUTH.password=hunter2-very-secret", "login failed for password hunter2-very-secret",
              headers=[("Authorization", "Bearer sk-live-0123456789abcdef0123")])

def work():
    with flowscribe.flow("jobs/thread") as g:
        g.checkpoint("in a thread")

t = threading.Thread(target=work, name="worker password=hunter2-very-secret")
t.start(); t.join()
"""


def test_no_secret_reaches_any_file_flowscribe_writes(project: Path) -> None:
    root = project
    write_config(root, """\
        version: 1
        profile: all
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
          - type: sqlite
            path: .autodev/trace.db
        artifacts:
          ask_md: always
        """)
    result = run_python(APP, root)
    assert result.returncode == 0, result.stderr
    written = [p for p in (root / ".autodev").rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"trace.jsonl", "trace.db", "summary.md", "ask.md"} <= names
    for path in written:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret!r} in {path.relative_to(root)}"
    # The events were kept, only their secrets hidden.
    summary = (root / ".autodev" / "summary.md").read_text("utf-8")
    assert "orders/token=" in summary and "AUTH.password=" in summary
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr
