"""What starting a session pays for: only what recording needs (issue 12, target 3).

Each test runs a real app in a fresh interpreter (imports are per process) in a real
project: ``init()``, one flow with ordinary evidence, and a look at ``sys.modules`` and at
the redactor while the run is still open. The speed itself is measured by
``benchmarks/bench_import.py``; these tests keep the reasons for it from coming back.
"""

from __future__ import annotations

import ast
import json
import shutil
import signal
from pathlib import Path

from _project import clean_env, run_python, trace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "trading_app" / ".autodev"

# Modules only the end of a run or another sink uses.
NOT_AT_START = ["hashlib", "sqlite3", "shutil", "flowscribe.artifacts.aggregate_file"]

APP = """
import sys
import flowscribe

flowscribe.init()
with flowscribe.flow("orders/submit", ticker="AAPL") as f:
    f.checkpoint("validate", rows=120, source="cache")
scrubber = flowscribe.get_session()._redactor._scrubber
def compiled():  # a scrubber without the attribute compiles its pattern when it is made
    return getattr(scrubber, "_shapes_sub", "made with the scrubber") is not None
state = {"loaded": sorted(m for m in MODULES if m in sys.modules),
         "shapes_compiled": compiled()}
with flowscribe.flow("orders/submit", ticker="MSFT") as f:
    f.checkpoint("send", url="https://bob:hunter2-x@example.com/")
state["after_secret"] = compiled()
print(repr(state))  # not json: the app itself must not import what is looked for
"""


def _run(project: Path) -> dict[str, object]:
    out = run_python(APP.replace("MODULES", repr(NOT_AT_START)), project)
    assert out.returncode == 0, out.stderr
    state: dict[str, object] = ast.literal_eval(out.stdout.splitlines()[-1])
    return state


def _recorded_secret_is_hidden(project: Path) -> None:
    sends = [e for e in trace(project) if e.get("step") == "send"]
    assert len(sends) == 1
    assert "hunter2" not in json.dumps(sends[0])
    assert sends[0]["evidence"]["url"] == "https://bob:[REDACTED]@example.com/"


def test_start_with_the_example_config_imports_nothing_the_end_needs(project: Path) -> None:
    shutil.copy(EXAMPLE / "ra.yaml", project / ".autodev" / "ra.yaml")
    shutil.copy(EXAMPLE / "flows.yaml", project / ".autodev" / "flows.yaml")
    state = _run(project)
    assert state["loaded"] == []
    assert (project / ".autodev" / "summary.md").is_file()  # the end still writes it all
    assert (project / ".autodev" / "latest" / "summary.md").is_file()
    _recorded_secret_is_hidden(project)


def test_a_second_start_with_the_same_config_does_not_import_yaml(project: Path) -> None:
    shutil.copy(EXAMPLE / "ra.yaml", project / ".autodev" / "ra.yaml")
    shutil.copy(EXAMPLE / "flows.yaml", project / ".autodev" / "flows.yaml")
    app = APP.replace("MODULES", repr(["yaml"]))
    first = ast.literal_eval(run_python(app, project).stdout.splitlines()[-1])
    second = ast.literal_eval(run_python(app, project).stdout.splitlines()[-1])
    assert first["loaded"] == ["yaml"]  # parsed, and kept in .autodev/cache
    assert second["loaded"] == []
    # An edit is read at the next start: this one turns the example's console sink off.
    ra = project / ".autodev" / "ra.yaml"
    ra.write_text(ra.read_text("utf-8").replace("type: console", "type: consol"), "utf-8")
    out = run_python(app, project)
    assert "(got 'consol'); sink ignored" in out.stderr, out.stderr
    assert ast.literal_eval(out.stdout.splitlines()[-1])["loaded"] == ["yaml"]


def test_a_start_makes_no_dataclass(project: Path) -> None:
    # A dataclass is made from generated source (about 1 ms a class): the records a
    # start makes are NamedTuples and slotted classes. orjson imports dataclasses itself,
    # so this start keeps to the standard library's encoder.
    shutil.copy(EXAMPLE / "ra.yaml", project / ".autodev" / "ra.yaml")
    shutil.copy(EXAMPLE / "flows.yaml", project / ".autodev" / "flows.yaml")
    app = APP.replace("MODULES", repr(["dataclasses", "inspect"]))
    out = run_python(app, project, env=clean_env(FLOWSCRIBE_JSON="stdlib"))
    assert out.returncode == 0, out.stderr
    assert ast.literal_eval(out.stdout.splitlines()[-1])["loaded"] == []


def test_secret_shapes_are_compiled_on_the_first_text_that_may_hold_one(
        project: Path) -> None:
    state = _run(project)
    # Clean evidence (and the run header) never paid for the big pattern; the first text
    # the prefilter lets through compiles it, and is redacted as before.
    assert state["shapes_compiled"] is False
    assert state["after_secret"] is True
    _recorded_secret_is_hidden(project)


def test_an_uncaught_keyboard_interrupt_still_exits_as_killed_by_sigint(
        project: Path) -> None:
    # What the start no longer imports, the end of the run does, at exit. Made there, a
    # class built from generated source (a dataclass) would make CPython forget the
    # uncaught KeyboardInterrupt: the app would exit 1, not by SIGINT as without us.
    # (A failed run still does: its ask.md imports flowscribe.story at exit.)
    out = run_python("""
        import flowscribe

        with flowscribe.flow("orders/submit") as f:
            f.checkpoint("validate", rows=3)
        raise KeyboardInterrupt
    """, project)
    assert out.returncode == -signal.SIGINT, out.stderr
    assert out.stderr.rstrip().splitlines()[-1] == "KeyboardInterrupt"
    assert "orders/submit" in (project / ".autodev" / "summary.md").read_text("utf-8")
    assert (project / ".autodev" / "latest" / "aggregate.json").is_file()
