"""Stopping an app with a signal: the artifacts are written, the signal does what it
would have done without flowscribe (issue 8 §2)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from _apps import clean_env, finish, start_app, write_app
from _project import QUIET_CONFIG, trace, write_config

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")

#: Records a failure, says it is ready, then sleeps until stopped.
FAILING_APP = """\
    import os, signal, sys, time
    {before}
    import flowscribe

    with flowscribe.flow("orders/submit", ticker="AAPL") as f:
        f.failure("EXTERNAL.TIMEOUT", "no ack in 1s", severity="error")
    print("ready", flush=True)
    time.sleep(60)
    print("woke up", flush=True)
"""


def _artifacts(root: Path) -> tuple[str, str]:
    autodev = root / ".autodev"
    return ((autodev / "summary.md").read_text(encoding="utf-8"),
            (autodev / "ask.md").read_text(encoding="utf-8"))


def _assert_artifacts_name_the_failure(root: Path, ended: bool = True) -> None:
    summary, ask = _artifacts(root)
    for text in (summary, ask):
        assert "orders/submit" in text
        assert "EXTERNAL.TIMEOUT" in text
    # The run's last event is its summary when the session ended (not with os._exit).
    assert ([e["event_type"] for e in trace(root)][-1] == "summary") is ended


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["TERM", "HUP"])
def test_a_stopping_signal_writes_the_artifacts_and_kills_as_before(
    project: Path, sig: signal.Signals
) -> None:
    write_app(project, FAILING_APP.format(before=""))
    proc = start_app(project)
    proc.send_signal(sig)
    status, err = finish(proc)
    assert status == -sig, err
    _assert_artifacts_name_the_failure(project)


@pytest.mark.parametrize("exit_call", ["sys.exit(3)", "os._exit(3)"])
def test_the_apps_own_handler_still_decides_the_exit(project: Path, exit_call: str) -> None:
    # Installed before tracing starts: flowscribe wraps it. With os._exit no atexit
    # runs, so only the wrapper can have written the artifacts.
    before = f"signal.signal(signal.SIGTERM, lambda signum, frame: {exit_call})"
    write_app(project, FAILING_APP.format(before=before))
    proc = start_app(project)
    proc.send_signal(signal.SIGTERM)
    status, err = finish(proc)
    assert status == 3, err
    _assert_artifacts_name_the_failure(project, ended=exit_call == "sys.exit(3)")


def test_an_app_handler_that_does_not_exit_keeps_the_run_open(project: Path) -> None:
    # A HUP that reloads the config: the artifacts so far are written, the app goes on
    # and is still traced; its normal end writes the final artifacts.
    write_app(project, """\
        import signal, sys, time
        import flowscribe

        hup = []
        signal.signal(signal.SIGHUP, lambda signum, frame: hup.append(signum))
        with flowscribe.flow("orders/submit") as f:
            f.failure("EXTERNAL.TIMEOUT", "no ack")
        print("ready", flush=True)
        while not hup:
            time.sleep(0.05)
        print("reloaded", flush=True)
        with flowscribe.flow("orders/after_reload") as f:
            f.success("ok")
    """)
    proc = start_app(project)
    proc.send_signal(signal.SIGHUP)
    status, err = finish(proc)
    assert status == 0, err
    summary, _ = _artifacts(project)
    assert "orders/after_reload" in summary
    ends = [e for e in trace(project) if e["event_type"] == "flow_end"]
    assert [e["flow_id"] for e in ends] == ["orders/submit", "orders/after_reload"]


def test_sigint_raises_keyboard_interrupt_as_without_flowscribe(project: Path) -> None:
    write_app(project, FAILING_APP.format(before=""))
    runs = {}
    for traced in ("1", "0"):
        proc = start_app(project, env=clean_env(RA_ENABLED=traced))
        proc.send_signal(signal.SIGINT)
        runs[traced] = finish(proc)
    (status, err), (plain_status, plain_err) = runs["1"], runs["0"]
    # Python re-raises an uncaught KeyboardInterrupt as SIGINT: the shell sees 130.
    assert status == plain_status == -signal.SIGINT, err
    assert err.rstrip().splitlines()[-1] == plain_err.rstrip().splitlines()[-1] == \
        "KeyboardInterrupt"
    assert "Traceback" in err
    _assert_artifacts_name_the_failure(project)


def test_an_interrupt_the_app_raises_itself_still_exits_by_sigint(project: Path) -> None:
    # No signal, so no handler of ours runs first: the run ends in atexit, and writing
    # ask.md for its failure makes classes from source, which clears CPython's note
    # that the program was interrupted (it exited 1).
    write_app(project, """\
        import flowscribe

        with flowscribe.flow("orders/submit", ticker="AAPL") as f:
            f.failure("EXTERNAL.TIMEOUT", "no ack in 1s", severity="error")
        print("ready", flush=True)
        raise KeyboardInterrupt
    """)
    statuses = [finish(start_app(project, env=clean_env(RA_ENABLED=traced)))[0]
                for traced in ("1", "0")]
    assert statuses == [-signal.SIGINT, -signal.SIGINT]
    _assert_artifacts_name_the_failure(project)


def test_on_signal_false_leaves_the_default_action(project: Path) -> None:
    write_config(project, QUIET_CONFIG + "artifacts:\n  on_signal: false\n")
    write_app(project, FAILING_APP.format(before=""))
    proc = start_app(project)
    proc.send_signal(signal.SIGTERM)
    status, err = finish(proc)
    assert status == -signal.SIGTERM, err
    assert not (project / ".autodev" / "summary.md").exists()
    # The failure itself was written when recorded (failures are flushed at once).
    assert any(e["event_type"] == "failure" for e in trace(project))


def test_a_bad_on_signal_value_names_file_line_and_key(project: Path) -> None:
    write_config(project, QUIET_CONFIG + "artifacts:\n  on_signal: sometimes\n")
    write_app(project, FAILING_APP.format(before=""))
    proc = start_app(project)
    proc.send_signal(signal.SIGTERM)
    status, err = finish(proc)
    assert status == -signal.SIGTERM  # the default (true) applies
    assert ".autodev/ra.yaml:7:14: artifacts.on_signal: must be true or false" in err, err
    summary = json.dumps(_artifacts(project))
    assert "EXTERNAL.TIMEOUT" in summary


def test_term_reaches_a_main_thread_asleep_in_a_lock(project: Path) -> None:
    # Python runs handlers in the main thread only; were the signal handed to the
    # flusher thread, the main thread would sleep on and the app would never stop.
    write_app(project, FAILING_APP.format(before="").replace(
        "time.sleep(60)", "import threading; lock = threading.Lock(); lock.acquire(); "
        "lock.acquire()"))
    for _ in range(5):
        proc = start_app(project)
        proc.send_signal(signal.SIGTERM)
        status, err = finish(proc)
        assert status == -signal.SIGTERM, err
        _assert_artifacts_name_the_failure(project)
