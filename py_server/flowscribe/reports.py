"""Ready queries over the SQLite sink's database (``flowscribe report``).

Each report is one SQL query on the documented schema (``docs/sqlite-schema.md``), so
``flowscribe report --sql NAME`` can print exactly what runs and a user can adapt it. The
queries and their one-line descriptions live here and nowhere else; ``docs/reports.md``
shows them. Percentiles are nearest-rank (the value at rank ``ceil(p * n)``), computed in SQL
with window functions. The database is opened read-only: a report never writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["REPORTS", "ReportError", "flow_ids", "report_sql", "run_report"]


class ReportError(Exception):
    """A report could not run; the message names the database or the report."""


_FAILURES = """\
-- Failures and exceptions by error class, over all runs.
SELECT error_class,
       count(*) AS failures,
       count(DISTINCT run_id) AS runs,
       (SELECT count(DISTINCT run_id) FROM events) AS of_runs,
       group_concat(DISTINCT flow_id) AS flows,
       datetime(max(ts), 'unixepoch') AS last_seen_utc
FROM events
WHERE event_type IN ('failure', 'exception') AND error_class IS NOT NULL
GROUP BY error_class
ORDER BY failures DESC, error_class;"""

_SLOWEST = """\
-- Finished flows by p95 duration over all runs (nearest-rank percentiles).
WITH ranked AS (
    SELECT flow_id, duration_ms,
           row_number() OVER (PARTITION BY flow_id ORDER BY duration_ms) AS rn,
           count(*) OVER (PARTITION BY flow_id) AS n
    FROM flow_ends
    WHERE duration_ms IS NOT NULL
)
SELECT flow_id,
       n AS instances,
       min(CASE WHEN rn >= (n * 50 + 99) / 100 THEN duration_ms END) AS p50_ms,
       min(CASE WHEN rn >= (n * 95 + 99) / 100 THEN duration_ms END) AS p95_ms,
       max(duration_ms) AS max_ms
FROM ranked
GROUP BY flow_id
ORDER BY p95_ms DESC, flow_id
LIMIT 20;"""

_FLAKY = """\
-- Flows that passed in some runs and failed in others (a run's outcome of a flow:
-- failed when any of its instances failed).
WITH per_run AS (
    SELECT flow_id, run_id, max(status = 'failed') AS failed
    FROM flow_ends
    WHERE status IN ('passed', 'failed')
    GROUP BY flow_id, run_id
)
SELECT flow_id,
       count(*) AS runs,
       sum(1 - failed) AS passed_runs,
       sum(failed) AS failed_runs,
       round(avg(failed), 3) AS fail_rate
FROM per_run
GROUP BY flow_id
HAVING sum(failed) > 0 AND sum(1 - failed) > 0
ORDER BY fail_rate DESC, flow_id;"""

#: ``{sla}`` is replaced by the targets (``VALUES ('flow/id', ms), ...``), from the catalog's
#: ``sla.p95_ms`` and ra.yaml's ``performance.sla_overrides``, so the printed query runs as is.
_SLA = """\
-- Runs in which a flow's p95 duration was over its SLA target, oldest run first.
WITH sla(flow_id, p95_ms) AS ({sla}),
runs AS (
    SELECT run_id, min(ts) AS started FROM events GROUP BY run_id
),
ranked AS (
    SELECT e.run_id, e.flow_id, e.duration_ms, s.p95_ms AS sla_ms,
           row_number() OVER (PARTITION BY e.run_id, e.flow_id ORDER BY e.duration_ms) AS rn,
           count(*) OVER (PARTITION BY e.run_id, e.flow_id) AS n
    FROM flow_ends AS e JOIN sla AS s ON s.flow_id = e.flow_id
    WHERE e.duration_ms IS NOT NULL
)
SELECT datetime(r.started, 'unixepoch') AS started_utc,
       k.run_id, k.flow_id, k.sla_ms,
       k.n AS instances,
       sum(k.duration_ms > k.sla_ms) AS over_sla,
       min(CASE WHEN k.rn >= (k.n * 95 + 99) / 100 THEN k.duration_ms END) AS p95_ms,
       max(k.duration_ms) AS max_ms
FROM ranked AS k JOIN runs AS r ON r.run_id = k.run_id
GROUP BY k.run_id, k.flow_id
HAVING p95_ms > k.sla_ms
ORDER BY r.started, k.flow_id;"""

#: name -> (one-line description, SQL).
REPORTS: Mapping[str, tuple[str, str]] = {
    "failures": ("failures and exceptions by error class, over all runs", _FAILURES),
    "slowest": ("finished flows by p95 duration (p50, p95, max), over all runs", _SLOWEST),
    "flaky": ("flows that passed in some runs and failed in others", _FLAKY),
    "sla": ("runs in which a flow's p95 was over its SLA target (catalog, ra.yaml)", _SLA),
}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def report_sql(name: str, sla_ms: Mapping[str, float] | None = None) -> str:
    """The SQL of report ``name``, ready to run; ``sla_ms`` (flow id -> p95 target) is
    written into the ``sla`` report's query. Raises ReportError for an unknown name."""
    entry = REPORTS.get(name)
    if entry is None:
        raise ReportError(f"no report {name!r}; the reports are: {', '.join(REPORTS)}")
    sql = entry[1]
    if "{sla}" in sql:
        targets = sorted((sla_ms or {}).items())
        values = ("VALUES " + ", ".join(f"({_literal(f)}, {float(ms)!r})" for f, ms in targets)
                  if targets else "SELECT NULL, NULL WHERE 0")  # no targets: no rows
        sql = sql.replace("{sla}", values)
    return sql


def _connect(db: Path) -> sqlite3.Connection:
    if not db.is_file():
        raise ReportError(f"no database at {db} (the sqlite sink writes it on a run's first "
                          "event)")
    try:
        conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
        conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        conn.execute("SELECT 1 FROM events LIMIT 1").fetchone()
    except sqlite3.Error as exc:
        raise ReportError(f"{db} is not a flowscribe database ({exc})") from exc
    return conn


def flow_ids(db: Path) -> list[str]:
    """Every flow id the database holds (what the ``sla`` report looks up targets for)."""
    conn = _connect(db)
    try:
        rows = conn.execute("SELECT DISTINCT flow_id FROM events WHERE flow_id IS NOT NULL")
        return [str(r[0]) for r in rows]
    finally:
        conn.close()


def run_report(db: Path, name: str, sla_ms: Mapping[str, float] | None = None
               ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of report ``name`` on the database ``db``."""
    sql = report_sql(name, sla_ms)
    conn = _connect(db)
    try:
        cur = conn.execute(sql)
        columns = [d[0] for d in cur.description]
        return columns, [tuple(r) for r in cur.fetchall()]
    except sqlite3.Error as exc:
        raise ReportError(f"report {name} failed on {db}: {exc}") from exc
    finally:
        conn.close()
