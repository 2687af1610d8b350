"""``flowscribe report``: the ready queries on a SQLite database the real runtime wrote."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from _project import clean_env, read_lines, run_python, write_catalog, write_config

from flowscribe.cli import main
from flowscribe.reports import REPORTS

#: Four runs: orders/submit always passes; feed/fetch fails on odd runs (flaky);
#: report/build is slow in runs 1 and 2 (over its ra.yaml SLA of 300 ms there);
#: data/parse raises in run 3.
APP = """\
import os
import time
import flowscribe

n = int(os.environ["RUN_N"])
flowscribe.init(app_name="reports-demo", mode="test")
with flowscribe.flow("orders/submit") as f:
    f.success()
with flowscribe.flow("feed/fetch") as f:
    if n % 2:
        f.failure("EXTERNAL.TIMEOUT", "no ack", waited_ms=1000)
    else:
        f.success()
with flowscribe.flow("report/build") as f:
    if n in (1, 2):
        time.sleep(0.35)
    f.success()
try:
    with flowscribe.flow("data/parse"):
        if n == 3:
            raise ValueError("bad row")
except ValueError:
    pass
flowscribe.end_session()
"""

CONFIG = """\
version: 1
profile: all
sinks:
  - type: jsonl
    path: .autodev/trace.jsonl
  - type: sqlite
    path: .autodev/trace.db
performance:
  sla_overrides:
    "report/*": 300
    "feed/*": 60000
"""

#: The catalog's SLA for report/build is lenient: ra.yaml's override (a glob) must win;
#: feed/fetch is in no catalog, its target comes from the glob alone.
CATALOG = """\
version: 1
flows:
  - id: "orders/submit"
    sla: {p95_ms: 60000}
  - id: "report/build"
    sla: {p95_ms: 60000}
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with four real runs of APP recorded into .autodev/trace.db."""
    root = tmp_path_factory.mktemp("reports") / "proj"
    root.mkdir()
    write_config(root, CONFIG)
    write_catalog(root, CATALOG)
    env = clean_env()
    for n in range(4):
        result = run_python(APP, root, env={**env, "RUN_N": str(n)})
        assert result.returncode == 0, result.stderr
    assert (root / ".autodev" / "trace.db").is_file()
    return root


def _ends(root: Path) -> list[dict[str, Any]]:
    events = read_lines(root / ".autodev" / "trace.jsonl")
    return [e for e in events if e["event_type"] == "flow_end"]


def _runs_in_order(root: Path) -> list[str]:
    events = read_lines(root / ".autodev" / "trace.jsonl")
    return list(dict.fromkeys(e["run_id"] for e in events if e["event_type"] == "run_start"))


def _report(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-C", str(root), "report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json_rows(root: Path, capsys: pytest.CaptureFixture[str], name: str) -> list[dict[str, Any]]:
    code, out, err = _report(root, capsys, "--json", name)
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def _nearest_rank(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * p / 100) - 1]


def test_failures_counts_each_class_over_runs(
        recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json_rows(recorded, capsys, "failures")
    by_class = {r["error_class"]: r for r in rows}
    timeout = by_class["EXTERNAL.TIMEOUT"]
    assert (timeout["failures"], timeout["runs"], timeout["of_runs"]) == (2, 2, 4)
    assert timeout["flows"] == "feed/fetch"
    # The exception in data/parse, under the class the runtime gave it.
    events = read_lines(recorded / ".autodev" / "trace.jsonl")
    (exc,) = [e for e in events if e["event_type"] == "exception"]
    assert by_class[exc["error_class"]]["flows"] == "data/parse"
    assert by_class[exc["error_class"]]["runs"] == 1
    assert set(by_class) == {"EXTERNAL.TIMEOUT", exc["error_class"]}
    assert rows[0]["error_class"] == "EXTERNAL.TIMEOUT"  # the most frequent first


def test_slowest_gives_nearest_rank_percentiles_per_flow(
        recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json_rows(recorded, capsys, "slowest")
    durations: dict[str, list[float]] = defaultdict(list)
    for e in _ends(recorded):
        durations[e["flow_id"]].append(e["duration_ms"])
    assert rows[0]["flow_id"] == "report/build"  # slept in two of four runs
    assert {r["flow_id"] for r in rows} == set(durations)
    for r in rows:
        d = durations[r["flow_id"]]
        assert r["instances"] == len(d)
        assert r["p50_ms"] == _nearest_rank(d, 50)
        assert r["p95_ms"] == _nearest_rank(d, 95)
        assert r["max_ms"] == max(d)
    assert [r["p95_ms"] for r in rows] == sorted((r["p95_ms"] for r in rows), reverse=True)


def test_flaky_names_only_the_flow_that_both_passed_and_failed(
        recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json_rows(recorded, capsys, "flaky")
    assert rows == [{"flow_id": "feed/fetch", "runs": 4, "passed_runs": 2, "failed_runs": 2,
                     "fail_rate": 0.5}]


def test_sla_lists_the_runs_over_target_with_the_ra_yaml_override(
        recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json_rows(recorded, capsys, "sla")
    runs = _runs_in_order(recorded)
    assert [(r["run_id"], r["flow_id"]) for r in rows] == [
        (runs[1], "report/build"), (runs[2], "report/build")]
    code, sql, err = _report(recorded, capsys, "--sql", "sla")
    assert code == 0, err
    assert ("VALUES ('feed/fetch', 60000.0), ('orders/submit', 60000.0), "
            "('report/build', 300.0)") in sql
    ends = {(e["run_id"], e["flow_id"]): e["duration_ms"] for e in _ends(recorded)}
    for r in rows:
        assert r["sla_ms"] == 300.0
        assert (r["instances"], r["over_sla"]) == (1, 1)
        assert r["p95_ms"] == r["max_ms"] == ends[(r["run_id"], "report/build")]


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_printed_sql_runs_as_is_and_gives_the_same_rows(
        recorded: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, sql, err = _report(recorded, capsys, "--sql", name)
    assert code == 0, err
    db = sqlite3.connect(recorded / ".autodev" / "trace.db")
    try:
        cur = db.execute(sql)
        columns = [d[0] for d in cur.description]
        direct = [dict(zip(columns, r)) for r in cur.fetchall()]
    finally:
        db.close()
    assert direct == _json_rows(recorded, capsys, name)
    assert direct  # each report has rows on this database


def test_table_output_has_a_header_and_a_row_per_result(
        recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _report(recorded, capsys, "flaky")
    assert code == 0, err
    head, row = out.splitlines()
    assert head.split() == ["flow_id", "runs", "passed_runs", "failed_runs", "fail_rate"]
    assert row.split() == ["feed/fetch", "4", "2", "2", "0.500"]


def test_db_option_reads_another_database(
        recorded: Path, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `project` has only a jsonl sink: --db alone says where the database is.
    code, out, err = _report(project, capsys, "--json", "--db",
                             str(recorded / ".autodev" / "trace.db"), "flaky")
    assert code == 0, err
    assert [r["flow_id"] for r in json.loads(out)] == ["feed/fetch"]


def test_list_names_every_report_with_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(REPORTS)
    assert all(len(line.split()) > 3 for line in lines)


def test_unknown_report_lists_the_names(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _report(project, capsys, "slowst")
    assert code == 1
    assert "no report 'slowst'" in err and "failures, slowest, flaky, sla" in err


def test_no_sqlite_sink_names_the_config_file(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _report(project, capsys, "failures")
    assert code == 1
    assert "no sqlite sink in" in err and str(project / ".autodev" / "ra.yaml") in err


def test_missing_database_names_the_path(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(project, CONFIG)
    code, _, err = _report(project, capsys, "failures")
    assert code == 1
    assert f"no database at {project / '.autodev' / 'trace.db'}" in err
    assert not (project / ".autodev" / "trace.db").exists()  # a report never creates it


@pytest.mark.parametrize("kind", ["empty sqlite", "text"])
def test_a_file_that_is_not_a_flowscribe_database_is_refused(
        project: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    other = project / "other.db"
    if kind == "text":
        other.write_text("not a database\n" * 100, encoding="utf-8")
    else:
        sqlite3.connect(other).close()
    before = other.read_bytes()
    code, _, err = _report(project, capsys, "--db", str(other), "slowest")
    assert code == 1
    assert f"{other} is not a flowscribe database" in err
    assert other.read_bytes() == before


def test_sla_query_quotes_flow_ids_as_data(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_catalog(project, """\
        version: 1
        flows:
          - id: "o'brien/x"
            sla: {p95_ms: 5}
        """)
    code, sql, err = _report(project, capsys, "--sql", "sla")
    assert code == 0, err
    assert "VALUES ('o''brien/x', 5.0)" in sql


def test_docs_show_each_report_and_its_query_verbatim() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "reports.md").read_text(encoding="utf-8")
    for name, (description, sql) in REPORTS.items():
        assert f"### `{name}`: {description}\n" in docs
        assert f"```sql\n{sql}\n```" in docs


def test_a_report_reads_while_the_app_is_still_writing(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flowscribe.core import Session

    write_config(project, CONFIG)
    session = Session()
    try:
        with session.flow("feed/fetch") as f:
            f.failure("EXTERNAL.TIMEOUT", "no ack")
        session.flush()
        rows = _json_rows(project, capsys, "failures")
        assert [(r["error_class"], r["failures"]) for r in rows] == [("EXTERNAL.TIMEOUT", 1)]
        with session.flow("feed/fetch") as f:  # the app goes on writing after the read
            f.failure("EXTERNAL.TIMEOUT", "no ack")
        session.flush()
    finally:
        session.end_session()
    rows = _json_rows(project, capsys, "failures")
    assert [(r["error_class"], r["failures"]) for r in rows] == [("EXTERNAL.TIMEOUT", 2)]
