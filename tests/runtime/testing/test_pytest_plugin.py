"""The pytest plugin, in real pytest runs (pytester, each in a subprocess of its own).

The project under test is a small instrumented app (``app.py``) and its tests; what is
checked is what a user sees: the run folder and pointers on disk, the report text, the
``flows`` fixture's answers, the coverage report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

APP = """
import flowscribe

def submit(rows, ticker="AAPL"):
    with flowscribe.flow("orders/submit", ticker=ticker) as f:
        f.checkpoint("validate", rows=len(rows))
        if not rows:
            f.failure("DATA.EMPTY", "no rows", rows=0)   # L:fail
            raise ValueError("no rows to submit")
        with flowscribe.flow("orders/route"):
            pass
        f.success("sent")

if __name__ == "__main__":
    flowscribe.init(app_name="shop", mode="dev")
    submit([1, 2])
    submit([])
"""

CATALOG = """
version: 1
flows:
  - id: orders/submit
    failure_classes: [DATA.EMPTY, EXTERNAL.TIMEOUT]
  - id: orders/route
  - id: reports/daily
    failure_classes: [DATA.STALE]
"""

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

QUIET = """
version: 1
sinks:
  - type: jsonl
    path: .autodev/trace.jsonl
"""


def _events(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as fh:
        return [json.loads(line) for line in fh]


def _test_runs(root: Path) -> list[Path]:
    runs = root / ".autodev" / "runs"
    return [d for d in sorted(runs.iterdir()) if (d / ".flowscribe-test-run").is_file()] \
        if runs.is_dir() else []


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with app.py, a quiet ra.yaml and a catalog; pytest-asyncio in auto mode."""
    pytester.makefile(".py", app=textwrap.dedent(APP))
    (pytester.path / ".autodev").mkdir()
    (pytester.path / ".autodev" / "ra.yaml").write_text(QUIET, encoding="utf-8")
    (pytester.path / ".autodev" / "flows.yaml").write_text(CATALOG, encoding="utf-8")
    pytester.makeini(INI)
    return pytester


def _run_app(root: Path) -> None:
    """The app's own run (the one the editor and the top-level artifacts show)."""
    subprocess.run([sys.executable, "app.py"], cwd=root, capture_output=True, check=False,
                   timeout=60)


TESTS = """
import pytest
from app import submit

def test_passes(flows):
    submit([1])
    flows.assert_flow("orders/submit", verdict="passed")

def test_provoked(flows):
    with pytest.raises(ValueError):
        submit([])
    f = flows.assert_flow("orders/submit", verdict="failed", error_class="DATA.EMPTY")
    assert f.expected and f.reason == "no rows"

@pytest.mark.xfail(reason="known", strict=True)
def test_known_bug():
    submit([])

def test_breaks():
    submit([], ticker="NFLX")
"""


def test_a_session_is_one_test_run_beside_the_apps_latest(shop: pytest.Pytester) -> None:
    root = shop.path
    _run_app(root)
    autodev = root / ".autodev"
    latest_before = (autodev / "latest").resolve()
    top = {n: (autodev / n).read_bytes() for n in ("summary.md", "ask.md", "trace.jsonl")}
    shop.makepyfile(test_shop=TESTS)

    result = shop.runpytest_subprocess("-q")

    result.assert_outcomes(passed=2, failed=1, xfailed=1)
    assert (autodev / "latest").resolve() == latest_before  # the app's run stays latest
    assert {n: (autodev / n).read_bytes() for n in top} == top
    [run] = _test_runs(root)
    events = _events(run / "trace.jsonl")
    [start] = [e for e in events if e["event_type"] == "run_start"]
    assert start["evidence"]["mode"] == "test" and start["evidence"]["test_run"] is True
    assert "-q" in start["evidence"]["argv"]
    assert (run / "summary.md").is_file()
    flows = [e for e in events if e["flow_id"]]
    assert {e["correlation"]["test"] for e in flows} == {
        f"test_shop.py::{n}" for n in ("test_passes", "test_provoked", "test_known_bug",
                                       "test_breaks")}
    failures = [e for e in events if e["event_type"] == "failure"]
    expected = {e["correlation"]["test"].split("::")[1]: e["correlation"].get("expected")
                for e in failures}
    assert expected == {"test_provoked": True, "test_known_bug": True, "test_breaks": None}

    listed = json.loads(subprocess.run(
        [sys.executable, "-m", "flowscribe.cli", "runs", "--json"], cwd=root,
        capture_output=True, text=True, check=True).stdout)
    assert [(r["mode"], r["testRun"], r["latest"]) for r in listed] == [
        ("test", True, False), ("dev", False, True)]


def test_a_failing_tests_report_has_a_flowscribe_section(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_shop=TESTS)
    result = shop.runpytest_subprocess("-q", "-k", "breaks")
    result.assert_outcomes(failed=1, deselected=3)
    text = result.stdout.str()
    section = text[text.index("- flowscribe -"):]
    line = next(n for n, t in enumerate(APP.splitlines()[1:], 1) if "L:fail" in t)
    assert "flows this test ran:" in section
    assert 'orders/submit #1 failed DATA.EMPTY "no rows" {"ticker": "NFLX"}' in section
    assert f'failure DATA.EMPTY "no rows" {{"rows": 0}}  (app.py:{line})' in section
    assert 'exception SYSTEM "ValueError: no rows to submit"' in section
    assert ".autodev/runs/" in section


def test_a_provoked_failure_is_not_the_apps_problem(shop: pytest.Pytester) -> None:
    """The editor's Problems read the latest run: a test run never becomes it."""
    from flowscribe_lsp.trace_index import TraceIndex

    shop.makepyfile(test_shop=TESTS)
    shop.runpytest_subprocess("-q").assert_outcomes(passed=2, failed=1, xfailed=1)
    index = TraceIndex(shop.path / ".autodev")
    index.read_findings()
    assert index.snapshot().findings == ()  # no app run yet: nothing to show
    _run_app(shop.path)
    index.read_findings()
    snap = index.snapshot()
    assert snap.mode == "dev" and [f.error_class for f in snap.findings] == ["DATA.EMPTY", "SYSTEM"]


def test_xdist_workers_join_one_run_and_lose_nothing(shop: pytest.Pytester) -> None:
    pytest.importorskip("xdist")  # a dev dependency; the Python 3.9 run goes without
    shop.makepyfile(test_many="""
        import pytest
        from app import submit

        @pytest.mark.parametrize("n", range(8))
        def test_submit(n, flows):
            submit([n])
            assert len(flows.instances("orders/submit")) == 1
    """)
    result = shop.runpytest_subprocess("-q", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=8)
    [run] = _test_runs(shop.path)
    events = _events(run / "trace.jsonl")
    starts = [e for e in events if e["event_type"] == "flow_start"
              and e["flow_id"] == "orders/submit"]
    assert sorted(e["correlation"]["test"] for e in starts) == sorted(
        f"test_many.py::test_submit[{n}]" for n in range(8))
    assert len({e["pid"] for e in starts}) == 2  # both workers recorded
    assert len({e["id"] for e in events}) == len(events)
    [summary] = [e for e in events if e["event_type"] == "summary"]
    # each submit routes once (orders/route ends with no verdict: unfinished)
    assert summary["evidence"]["flows"] == 16 and summary["evidence"]["passed"] == 8
    assert not (shop.path / ".autodev" / "latest").exists()


def test_a_test_that_starts_its_own_session(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_own="""
        import flowscribe
        from app import submit

        def test_own_session(tmp_path, flows):
            flowscribe.init(app_name="mine", root=tmp_path)
            submit([1])
            flowscribe.end_session()
            (tmp_path.parent / "own_root").write_text(str(tmp_path))
            assert len(flows.instances("orders/submit")) == 1

        def test_after_it(flows):
            submit([2])
            flows.assert_flow("orders/submit", verdict="passed")
    """)
    shop.runpytest_subprocess("-q", "-p", "no:randomly").assert_outcomes(passed=2)
    [run] = _test_runs(shop.path)
    tests = [e["correlation"]["test"] for e in _events(run / "trace.jsonl")
             if e["event_type"] == "flow_start" and e["flow_id"] == "orders/submit"]
    assert tests == ["test_own.py::test_after_it"]  # the suite's run went on recording
    own = Path(next(shop.path.glob("**/own_root")).read_text())
    own_events = _events(own / ".autodev" / "trace.jsonl")
    assert [e["correlation"]["test"] for e in own_events if e["event_type"] == "flow_start"
            and e["flow_id"] == "orders/submit"] == ["test_own.py::test_own_session"]


def test_flows_fixture_async_threads_and_no_leaks(shop: pytest.Pytester) -> None:
    pytest.importorskip("pytest_asyncio")
    shop.makepyfile(test_async="""
        import asyncio, threading
        import flowscribe
        from app import submit

        @flowscribe.traced("quotes/fetch")
        async def fetch(ticker):
            await asyncio.sleep(0)
            return ticker

        async def test_async(flows):
            with flowscribe.flow("quotes/batch"):
                await asyncio.gather(fetch("A"), fetch("B"))
            [batch] = flows.instances("quotes/batch")
            assert [c.flow_id for c in batch.children] == ["quotes/fetch"] * 2
            assert [i.verdict for i in flows.instances("quotes/*")] == ["unfinished"] * 3

        def test_thread(flows):
            t = threading.Thread(target=submit, args=([1],))
            t.start(); t.join()
            [f] = flows.instances("orders/submit")
            assert f.verdict == "passed"
            assert [c.flow_id for c in f.children] == ["orders/route"]
            assert flows.instances("quotes/*") == []   # nothing of the test before

        def test_message(flows):
            submit([1])
            try:
                flows.assert_flow("orders/submit", verdict="failed", error_class="DATA.EMPTY")
            except AssertionError as exc:
                msg = str(exc)
            assert msg.startswith(
                "no instance of 'orders/submit' with verdict='failed', "
                "error_class='DATA.EMPTY'; what this test ran:"), msg
            assert 'orders/submit #1 passed {"ticker": "AAPL"}' in msg
    """)
    shop.runpytest_subprocess("-q").assert_outcomes(passed=3)


def test_tree_is_a_stable_snapshot(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_tree="""
        import os, pathlib, flowscribe
        from app import submit

        def test_tree(flows, tmp_path):
            with flowscribe.flow("files/write", path=str(tmp_path / "x.csv")) as f:
                f.checkpoint("opened", where=os.getcwd(), obj=repr(object()))
            try:
                submit([])
            except ValueError:
                pass
            out = pathlib.Path(os.environ["TREE_OUT"])
            out.write_text(flows.tree())
    """)
    trees = []
    for n in range(2):
        out = shop.path / f"tree{n}.txt"
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("TREE_OUT", str(out))
            shop.runpytest_subprocess("-q").assert_outcomes(passed=1)
        trees.append(out.read_text())
    assert trees[0] == trees[1]
    assert trees[0] == textwrap.dedent("""\
        files/write #1 unfinished {"path": "<tmp>/test_tree0/x.csv"}  (test_tree.py:5)
          checkpoint opened {"where": "<root>", "obj": "<object object at 0x…>"}  (test_tree.py:6)
        orders/submit #2 failed DATA.EMPTY "no rows" {"ticker": "AAPL"}  (app.py:4)
          checkpoint validate {"rows": 0}  (app.py:5)
          failure DATA.EMPTY "no rows" {"rows": 0}  (app.py:7)
          exception SYSTEM "ValueError: no rows to submit"  (app.py:8)
    """)


def test_catalog_coverage(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_shop=TESTS)
    result = shop.runpytest_subprocess("-q", "--flowscribe-coverage",
                                       "--flowscribe-coverage-json=cov.json")
    text = result.stdout.str()
    assert "1 of 3 catalog flows exercised" not in text
    assert "2 of 3 catalog flows exercised, 1 of 3 declared failure classes provoked" in text
    assert "reports/daily: NOT EXERCISED by any test" in text
    assert "EXTERNAL.TIMEOUT: never provoked by a test" in text
    assert "orders/route: exercised by 1 test (test_shop.py::test_passes)" in text
    doc = json.loads((shop.path / "cov.json").read_text())
    by_id = {f["id"]: f for f in doc["flows"]}
    submit = by_id["orders/submit"]
    assert submit["exercised"] and len(submit["tests"]) == 4
    assert sorted(submit["failure_classes"]["DATA.EMPTY"]) == [
        "test_shop.py::test_breaks", "test_shop.py::test_known_bug",
        "test_shop.py::test_provoked"]
    assert submit["failure_classes"]["EXTERNAL.TIMEOUT"] == []
    assert submit["undeclared_classes"] == {"SYSTEM": submit["failure_classes"]["DATA.EMPTY"]}
    assert by_id["reports/daily"] == {
        "id": "reports/daily", "enabled": True, "exercised": False, "tests": [],
        "failure_classes": {"DATA.STALE": []}, "undeclared_classes": {}}
    assert doc["totals"] == {"flows": 3, "exercised": 2, "failure_classes": 3, "provoked": 1}


def test_coverage_across_xdist_workers(shop: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    shop.makepyfile(test_shop=TESTS)
    shop.runpytest_subprocess("-q", "-n", "2", "-p", "xdist",
                              "--flowscribe-coverage-json=cov.json")
    doc = json.loads((shop.path / "cov.json").read_text())
    assert doc["totals"] == {"flows": 3, "exercised": 2, "failure_classes": 3, "provoked": 1}


def test_p_no_flowscribe_turns_it_off(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_off="""
        from app import submit

        def test_plain():
            submit([1])

        def test_fixture(flows):
            pass
    """)
    result = shop.runpytest_subprocess("-q", "-p", "no:flowscribe")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'flows' not found*"])
    assert _test_runs(shop.path) == []


def test_a_suite_that_records_nothing_leaves_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=1)
    assert not (pytester.path / ".autodev").exists()


def test_an_in_process_run_leaves_the_outer_session_as_it_was(
    pytester: pytest.Pytester,
) -> None:
    import flowscribe._lifecycle as lifecycle

    raises, factory = pytest.raises, lifecycle.default_factory
    pytester.makeini(INI)
    pytester.makepyfile(test_inner="def test_x(flows):\n    assert flows.instances() == []\n")
    pytester.runpytest("-q").assert_outcomes(passed=1)
    assert pytest.raises is raises and lifecycle.default_factory is factory
