"""The sinks: console lines for people, the JSONL trace, and SQLite for queries."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from _project import of_type, trace, write_config

from flowscribe.core import Session
from flowscribe.sinks import make_sink
from flowscribe.sinks.console import ConsoleSink, format_event
from flowscribe.sinks.sqlite import COLUMNS

FAILURE = {
    "event_type": "failure", "flow_id": "orders/submit", "correlation": {"ticker": "AAPL"},
    "error_class": "EXTERNAL.TIMEOUT", "reason": "no ack in 1s", "evidence": {"waited_ms": 1000},
    "file": "app/orders.py", "line": 42, "ts": 0.0,
}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_lines_are_concise_and_plain_off_a_terminal() -> None:
    line = format_event(FAILURE)
    assert line is not None and "\033[" not in line
    for part in ("FAIL", "orders/submit[ticker=AAPL]", "EXTERNAL.TIMEOUT", "no ack in 1s",
                 "waited_ms=1000", "app/orders.py:42"):
        assert part in line
    assert format_event({"event_type": "flow_start", "flow_id": "x"}) is None
    end = format_event({"event_type": "flow_end", "flow_id": "x", "status": "passed",
                        "duration_ms": 12.345, "ts": 0})
    assert end is not None and "passed 12.3 ms" in end


def test_console_colours_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty, pipe = Terminal(), io.StringIO()
    for stream in (tty, pipe):
        ConsoleSink(stream).write([(FAILURE, "")])
    assert "\033[31m" in tty.getvalue() and "\033[" not in pipe.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    quiet = Terminal()
    ConsoleSink(quiet).write([(FAILURE, "")])
    assert "\033[" not in quiet.getvalue()


def test_console_caps_long_values() -> None:
    line = format_event({**FAILURE, "evidence": {"blob": "x" * 5000}})
    assert line is not None and len(line) < 400


def test_unknown_sink_types_and_missing_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown sink type"):
        make_sink("kafka")
    with pytest.raises(ValueError, match="needs a path"):
        make_sink("jsonl")


def test_console_sink_through_the_config(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(project, """\
        version: 1
        sinks:
          - type: console
        artifacts:
          per_run_dirs: false
        """)
    session = Session()
    with session.flow("orders/submit", ticker="AAPL") as f:
        f.failure("EXTERNAL.TIMEOUT", "no ack in 1s")
    session.end_session()
    err = capsys.readouterr().err
    assert "FAIL" in err and "EXTERNAL.TIMEOUT" in err and "1 failed" in err
    assert not (project / ".autodev" / "trace.jsonl").exists()


def test_sqlite_sink_stores_every_event_indexed(project: Path) -> None:
    write_config(project, """\
        version: 1
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
          - type: sqlite
            path: .autodev/trace.db
        """)
    session = Session()
    with session.flow("orders/submit", ticker="AAPL") as f:
        f.checkpoint("validate", rows=120)
        f.failure("EXTERNAL.TIMEOUT", "no ack", waited_ms=1000)
    with pytest.raises(ValueError), session.flow("data/parse"):
        raise ValueError("bad row")
    session.end_session()

    db = sqlite3.connect(project / ".autodev" / "trace.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        cols = [r[1] for r in db.execute("PRAGMA table_info(events)")]
        assert tuple(cols) == COLUMNS
        indexes = {r[1] for r in db.execute("PRAGMA index_list(events)")}
        assert {"events_by_run_type", "events_by_flow", "events_by_error_class",
                "events_by_file_line", "events_by_instance"} <= indexes
        rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY pid, seq").fetchall()
        events = trace(project)
        assert len(rows) == len(events)
        by_id = {e["id"]: e for e in events}
        for row in rows:
            stored = dict(zip(COLUMNS, row))
            ev = by_id[stored["id"]]
            for col in ("correlation", "tags", "evidence", "exception"):
                stored[col] = json.loads(stored[col]) if stored[col] is not None else None
            assert stored == {k: ev[k] for k in COLUMNS}
        (fail,) = db.execute(
            "SELECT flow_id, reason, json_extract(evidence, '$.waited_ms') FROM events "
            "WHERE error_class = 'EXTERNAL.TIMEOUT' AND event_type = 'failure'").fetchall()
        assert fail == ("orders/submit", "no ack", 1000)
        ends = dict(db.execute("SELECT flow_id, status FROM flow_ends").fetchall())
        assert ends == {"orders/submit": "failed", "data/parse": "failed"}
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        assert version == ("1",)
    finally:
        db.close()
    assert of_type(trace(project), "exception")


def test_two_sessions_append_to_one_database(project: Path) -> None:
    write_config(project, """\
        version: 1
        sinks:
          - type: sqlite
            path: .autodev/trace.db
        """)
    runs = []
    for _ in range(2):
        session = Session()
        with session.flow("a/b") as f:
            f.success()
        session.end_session()
        runs.append(session.run_id)
    db = sqlite3.connect(project / ".autodev" / "trace.db")
    try:
        got = dict(db.execute("SELECT run_id, count(*) FROM events GROUP BY run_id").fetchall())
    finally:
        db.close()
    assert got == dict.fromkeys(runs, 5)  # run_start, flow_start, success, flow_end, summary
