"""The SQLite sink: every event as a row, indexed for the questions people ask of a run.

The schema is documented in ``docs/sqlite-schema.md``. Batches from the flusher go in one
transaction each; the database is in WAL mode, so a reader (a shell, a notebook) can query
it while the app writes, and several processes of one run can share it.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
from collections.abc import Sequence
from typing import Any

from .._writer import Sink

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from .._writer import Item

__all__ = ["COLUMNS", "SCHEMA_SQL", "SCHEMA_VERSION", "SqliteSink"]

SCHEMA_VERSION = 1

#: Columns of ``events``, in trace-format order; JSON-valued fields are stored as JSON text.
COLUMNS = (
    "run_id", "id", "seq", "ts", "event_type", "flow_id", "instance", "parent",
    "parent_flow", "step", "correlation", "tags", "file", "line", "function", "thread",
    "pid", "severity", "error_class", "reason", "evidence", "value", "unit", "status",
    "duration_ms", "caused_by", "exception",
)  # fmt: skip
_JSON_COLUMNS = frozenset({"correlation", "tags", "evidence", "exception"})

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    run_id      TEXT NOT NULL,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    ts          REAL NOT NULL,
    event_type  TEXT NOT NULL,
    flow_id     TEXT,
    instance    TEXT,
    parent      TEXT,
    parent_flow TEXT,
    step        TEXT,
    correlation TEXT NOT NULL,
    tags        TEXT NOT NULL,
    file        TEXT,
    line        INTEGER,
    function    TEXT,
    thread      TEXT,
    pid         INTEGER,
    severity    TEXT,
    error_class TEXT,
    reason      TEXT,
    evidence    TEXT NOT NULL,
    value       REAL,
    unit        TEXT,
    status      TEXT,
    duration_ms REAL,
    caused_by   TEXT,
    exception   TEXT,
    PRIMARY KEY (run_id, id)
);
CREATE INDEX IF NOT EXISTS events_by_run_type ON events (run_id, event_type);
CREATE INDEX IF NOT EXISTS events_by_flow ON events (flow_id, ts);
CREATE INDEX IF NOT EXISTS events_by_instance ON events (instance);
CREATE INDEX IF NOT EXISTS events_by_error_class ON events (error_class)
    WHERE error_class IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_file_line ON events (file, line);
CREATE VIEW IF NOT EXISTS flow_ends AS
    SELECT run_id, flow_id, instance, parent, status, error_class, duration_ms, ts,
           file, line
    FROM events WHERE event_type = 'flow_end';
"""

_INSERT = (
    f"INSERT OR IGNORE INTO events ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)
#: Connections inherited through fork are never touched again (not even closed): closing
#: them in the child could disturb the parent's locks and WAL state.
_abandoned: list[sqlite3.Connection] = []


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), default=repr)


def _row(ev: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        _json(ev.get(col)) if col in _JSON_COLUMNS else ev.get(col) for col in COLUMNS
    )


def _check_files(path: str) -> None:
    """Refuse a database (or its journal files) that is a link or not a regular file:
    SQLite follows links, and a ``trace.db`` planted as a link to a file outside the
    project must never be written through. Raises OSError; the writer warns once."""
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            st = os.lstat(name)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode):
            raise OSError(errno.ELOOP, "is a link; flowscribe never writes through one", name)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "is not a regular file", name)


class SqliteSink(Sink):
    """Inserts events into ``path`` (created with the schema on first write)."""

    name = "sqlite"

    def __init__(self, path: str, busy_timeout_s: float = 5.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        _check_files(self.path)
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_s,
            isolation_level=None,  # explicit transactions, one per batch
            check_same_thread=False,  # the writer's lock serialises use across threads
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA_SQL)
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
        except Exception:
            conn.close()
            raise
        self._conn = conn
        return conn

    def write(self, batch: Sequence[Item]) -> None:
        conn = self._conn if self._conn is not None else self._connect()
        rows = [_row(ev) for ev, _ in batch]
        conn.execute("BEGIN")
        try:
            conn.executemany(_INSERT, rows)
        except Exception:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def after_fork_child(self) -> None:
        if self._conn is not None:
            _abandoned.append(self._conn)
            self._conn = None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
