"""flowscribe.logging: log records into flows at the log call's line, flow ids onto log
records, and the console's lines through logging (``sinks: [{type: logging}]``)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from _project import line_of, of_type, run_python, trace, write_config

import flowscribe
from flowscribe.logging import FlowFilter, FlowscribeHandler, structlog_processor


@pytest.fixture
def log(project: Path) -> Iterator[logging.Logger]:
    logger = logging.getLogger("test.flowscribe.app")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = FlowscribeHandler(failure_level=logging.ERROR, failure_class="APP.LOGGED")
    logger.addHandler(handler)
    yield logger
    logger.removeHandler(handler)


def test_the_stdlib_logging_is_what_flowscribe_imports() -> None:
    import flowscribe.logging as ours
    import flowscribe.sinks.console  # noqa: F401 - imports logging lazily, must get stdlib

    assert ours.logging is sys.modules["logging"]
    assert ours is not sys.modules["logging"]
    assert hasattr(sys.modules["logging"], "getLogger")


def test_records_land_at_the_log_call_with_their_severity(project: Path,
                                                          log: logging.Logger) -> None:
    with flowscribe.flow("orders/submit") as f:
        log.debug("looking %s", "up")  # L:debug
        log.info("found %d rows", 3)  # L:info
        log.warning("slow: %s ms", 900)  # L:warning
        f.success("done")
    flowscribe.end_session()
    logs = [e for e in of_type(trace(project), "checkpoint") if e["step"] == "log"]
    here = "test_records_land_at_the_log_call_with_their_severity"
    # debug is below the default filters' min_severity (info), as for every marker
    assert [(e["line"], e["function"]) for e in logs] == [
        (line_of(m), here) for m in ("info", "warning")]
    assert {e["file"] for e in logs} == {Path(__file__).as_posix()}  # outside the project
    assert [e["severity"] for e in logs] == ["info", "warn"]
    assert [e["evidence"] for e in logs] == [
        {"logger": "test.flowscribe.app", "level": "INFO", "message": "found 3 rows"},
        {"logger": "test.flowscribe.app", "level": "WARNING", "message": "slow: 900 ms"},
    ]
    assert of_type(trace(project), "flow_end")[0]["status"] == "passed"


def test_errors_fail_the_flow_and_exceptions_are_exception_events(project: Path,
                                                                  log: logging.Logger) -> None:
    with flowscribe.flow("orders/submit"):
        log.error("no ack from %s", "broker")  # L:error
    with flowscribe.flow("orders/cancel"):
        try:
            {}["missing"]  # L:raise
        except KeyError:
            log.exception("cancel failed")  # L:exception
    flowscribe.end_session()
    events = trace(project)
    (failure,) = of_type(events, "failure")
    assert (failure["line"], failure["error_class"], failure["reason"], failure["severity"]) == (
        line_of("error"), "APP.LOGGED", "no ack from broker", "error")
    (exc,) = of_type(events, "exception")
    assert exc["flow_id"] == "orders/cancel"
    assert exc["exception"]["type"] == "KeyError"
    assert exc["line"] == line_of("raise")  # where it was raised, as for every exception
    assert exc["evidence"] == {"logger": "test.flowscribe.app", "message": "cancel failed"}
    ends = {e["flow_id"]: e for e in of_type(events, "flow_end")}
    assert ends["orders/submit"]["error_class"] == "APP.LOGGED"
    assert ends["orders/cancel"]["error_class"] == "SYSTEM"


def test_outside_flows_and_own_records_are_left_alone(project: Path,
                                                      log: logging.Logger) -> None:
    log.warning("no flow here")
    with flowscribe.flow("orders/submit"):
        logging.getLogger("flowscribe").warning("our own line")
        logging.getLogger("flowscribe.console").warning("ours too")
    flowscribe.end_session()
    assert of_type(trace(project), "checkpoint", "failure") == []


def test_secrets_in_messages_are_scrubbed(project: Path, log: logging.Logger) -> None:
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    with flowscribe.flow("orders/submit"):
        log.info("calling with token %s", token)
    flowscribe.end_session()
    assert token not in (project / ".autodev" / "trace.jsonl").read_text()


def test_a_broken_record_never_raises(project: Path) -> None:
    out = run_python("""
        import logging
        import flowscribe
        from flowscribe.logging import FlowscribeHandler
        log = logging.getLogger("app")
        log.addHandler(FlowscribeHandler())
        with flowscribe.flow("orders/submit") as f:
            log.warning("%d rows", "not a number")   # the app's bug
            f.success()
        print("app went on")
        """, project)
    assert out.returncode == 0 and out.stdout == "app went on\n"
    assert "not a number" in out.stderr  # reported the way logging reports it
    assert of_type(trace(project), "flow_end")[0]["status"] == "passed"


def test_the_filter_puts_flow_ids_on_records(project: Path) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.flowscribe.filtered")
    logger.propagate = False
    handler = Keep()
    handler.addFilter(FlowFilter(default="-"))
    handler.setFormatter(logging.Formatter("%(flow_id)s %(flow_instance)s %(message)s"))
    logger.addHandler(handler)
    try:
        logger.warning("before")
        with flowscribe.flow("orders/submit") as f:
            logger.warning("inside")
    finally:
        logger.removeHandler(handler)
    assert [handler.format(r) for r in records] == [
        "- - before", f"orders/submit {f.instance} inside"]


def test_the_structlog_processor_adds_flow_ids(project: Path) -> None:
    assert structlog_processor(None, "info", {"event": "x"}) == {"event": "x"}
    with flowscribe.flow("orders/submit") as f:
        assert structlog_processor(None, "info", {"event": "x"}) == {
            "event": "x", "flow_id": "orders/submit", "flow_instance": f.instance}


def test_the_structlog_processor_in_structlog(project: Path) -> None:
    structlog = pytest.importorskip("structlog")
    seen: list[dict[str, object]] = []

    def keep(logger: object, name: str, event_dict: dict[str, object]) -> str:
        seen.append(dict(event_dict))
        return ""

    structlog.configure(processors=[structlog_processor, keep])
    try:
        with flowscribe.flow("orders/submit") as f:
            structlog.get_logger().info("priced", rows=3)
    finally:
        structlog.reset_defaults()
    assert seen[0]["flow_id"] == "orders/submit" and seen[0]["flow_instance"] == f.instance


def test_console_lines_through_logging(project: Path) -> None:
    write_config(project, """\
        version: 1
        profile: all
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
          - type: logging
            level: flows
        """)
    app = textwrap.dedent("""\
        import logging, sys
        import flowscribe
        from flowscribe.logging import FlowscribeHandler
        logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                            format="%(levelname)s %(name)s %(flow_id)s | %(message)s")
        logging.getLogger().addHandler(FlowscribeHandler())   # must not record our lines
        with flowscribe.flow("orders/submit") as f:
            f.checkpoint("validate")
            f.success("ack")
        with flowscribe.flow("orders/cancel") as f:
            f.failure("EXTERNAL.TIMEOUT", "no ack")
        flowscribe.end_session()
        """)
    (project / "app.py").write_text(app)
    out = subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                         text=True, timeout=60, check=True)
    lines = out.stdout.splitlines()
    heads = [line.split(" | ")[0] for line in lines]
    assert heads == [
        "INFO flowscribe None", "INFO flowscribe orders/submit", "INFO flowscribe orders/submit",
        "ERROR flowscribe orders/cancel", "ERROR flowscribe orders/cancel",
        "INFO flowscribe None"], out.stdout
    assert lines[3].split(" | ")[1].startswith("FAIL   orders/cancel EXTERNAL.TIMEOUT no ack")
    assert out.stderr == ""  # nothing on the terminal: it all went through logging
    assert [e["step"] for e in of_type(trace(project), "checkpoint")] == ["validate"]


def test_the_handler_and_the_logging_sink_together_never_deadlock(project: Path) -> None:
    # The flusher thread writes the logging sink's lines through the root logger's
    # handlers (FlowscribeHandler among them) while app threads log through the same
    # handler and flush urgent failures: no lock may be taken in opposite orders.
    write_config(project, """\
        version: 1
        profile: all
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
          - type: logging
            level: all
        """)
    out = run_python("""
        import logging, threading
        import flowscribe
        from flowscribe.logging import FlowscribeHandler
        logging.basicConfig(filename="app.log", level=logging.INFO)
        logging.getLogger().addHandler(FlowscribeHandler(failure_level=logging.WARNING))
        log = logging.getLogger("app")

        def work(n):
            for i in range(300):
                with flowscribe.flow("orders/submit", n=n, i=i):
                    log.info("step %d", i)
                    log.warning("odd %d", i)     # an urgent failure: flushed from here

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        flowscribe.end_session()
        print("done")
        """, project, timeout=120)
    assert out.stdout == "done\n", out.stderr
    assert len(of_type(trace(project), "failure")) == 1200


def test_the_logging_sink_level_is_checked_like_the_console_s(project: Path) -> None:
    from flowscribe.config import load_config

    write_config(project, "version: 1\nsinks:\n  - type: logging\n    level: loud\n")
    config, problems = load_config(project)
    assert [s.type for s in config.sinks] == ["logging"]
    assert any(str(p).endswith("sinks[0].level: must be one of verdicts, flows, all "
                               "(got 'loud'); using verdicts") and ":4:12:" in str(p)
               for p in problems), [str(p) for p in problems]
