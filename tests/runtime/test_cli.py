"""The ``flowscribe`` command on traces written by the real runtime."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from _project import run_python, write_catalog

from flowscribe.cli import last_events, main
from flowscribe.config import load_config
from flowscribe.runs import RunLayout

APP = """\
import sys
import flowscribe

flowscribe.init(app_name="cli-demo", mode="test")
with flowscribe.flow("orders/submit", ticker="AAPL") as f:
    f.checkpoint("validate", rows=3)
    if "fail" in sys.argv[1:]:
        f.failure("EXTERNAL.TIMEOUT", "no ack in 1s", waited_ms=1000)
    else:
        f.success("ack", order_id="X1")
with flowscribe.flow("data/fetch", ticker="AAPL") as g:
    g.success("rows", rows=300)
flowscribe.end_session()
"""

CATALOG = """\
version: 1
flows:
  - id: "orders/submit"
    description: "Submit the order"
  - id: "data/fetch"
"""


def _run_app(root: Path, *args: str) -> str:
    """Run APP in ``root`` with the real runtime; returns the new run's id."""
    result = run_python(APP.replace("sys.argv[1:]", repr(list(args))), root)
    assert result.returncode == 0, result.stderr
    run_dir = RunLayout(root / ".autodev").latest_run_dir()
    assert run_dir is not None
    return run_dir.name


@pytest.fixture
def runs(project: Path) -> list[str]:
    """Two runs of APP in ``project``: a failing one, then a passing one."""
    write_catalog(project, CATALOG)
    return [_run_app(project, "fail"), _run_app(project)]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- init -----------------------------------------------------------------------------------


def test_init_writes_config_catalog_and_prompt_that_load_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "-C", str(tmp_path), "init")
    assert code == 0
    autodev = tmp_path / ".autodev"
    assert sorted(p.name for p in autodev.iterdir()) == ["copilot_init.md", "flows.yaml", "ra.yaml"]
    assert "wrote .autodev/ra.yaml" in out
    config, problems = load_config(tmp_path, env={})
    assert problems == [] and config.profile == "all"
    assert config.artifacts.ask_md == "on_failure"
    guide = (autodev / "copilot_init.md").read_text()
    assert "## How to work" in guide and "tail trace.jsonl" not in guide
    from flowscribe.catalog import load_catalog

    catalog = load_catalog(autodev / "flows.yaml")
    assert catalog.problems == [] and list(catalog.flows) == ["example/flow"]


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".autodev").mkdir()
    mine = tmp_path / ".autodev" / "ra.yaml"
    mine.write_text("enabled: false\n")
    code, out, err = cli(capsys, "-C", str(tmp_path), "init")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "ra.yaml already exist" in err and "--force" in err
    assert mine.read_text() == "enabled: false\n"
    assert not (tmp_path / ".autodev" / "flows.yaml").exists()  # nothing half-written
    assert cli(capsys, "-C", str(tmp_path), "init", "--force")[0] == 0
    assert "profile: all" in mine.read_text()


def test_after_init_the_quickstart_records_its_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The skeleton must not filter out a newcomer's first flow (demo/flow is neither in
    # the skeleton catalog nor under the critical profile's domains).
    assert cli(capsys, "-C", str(tmp_path), "init")[0] == 0
    result = run_python(
        """\
        from flowscribe.core import Session, Event
        session = Session(app_name="my-app", mode="dev", tags=["demo"])
        flow = session.start_flow("demo/flow")
        flow.add_event(Event(event_type="checkpoint", flow_id=flow.flow_id, step="start"))
        session.end_session()
        """,
        tmp_path,
    )
    assert result.returncode == 0 and "flowscribe:" not in result.stderr, result.stderr
    summary = (tmp_path / ".autodev" / "summary.md").read_text()
    assert "demo/flow" in summary and "1 started" in summary


# -- summary --------------------------------------------------------------------------------


def test_summary_defaults_to_the_latest_run(
    runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "summary")
    assert code == 0
    assert f"`{runs[1]}`" in out and "## Failures\n\nNone recorded." in out
    assert (Path(".autodev") / "summary.md").read_text() == out  # same as the runtime wrote


def test_summary_of_an_older_run_by_id_prefix_dir_or_trace(
    runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    layout = RunLayout(Path(".autodev"))
    older = layout.run_dir(runs[0])
    for arg in (runs[0], runs[0][:-2], str(older), str(older / "trace.jsonl")):
        code, out, _ = cli(capsys, "summary", arg)
        assert code == 0, arg
        assert "`EXTERNAL.TIMEOUT` failure in `orders/submit` at `app.py:" in out


def test_summary_of_the_shared_trace_is_its_last_run(
    runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "summary", ".autodev/trace.jsonl")
    assert code == 0 and f"`{runs[1]}`" in out


def test_summary_ask_and_write(runs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = RunLayout(Path(".autodev")).run_dir(runs[1])
    assert not (run_dir / "ask.md").exists()  # ask_md: on_failure, and this run passed
    code, out, err = cli(capsys, "summary", "--ask", "--write")
    assert code == 0 and "## Action request" in out
    assert (run_dir / "ask.md").read_text() == out
    assert err == f"wrote {(run_dir / 'ask.md').resolve()}\n"


def test_summary_errors_are_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "summary")
    assert (code, out) == (1, "")
    assert (
        err == f"flowscribe: error: no runs yet in {project / '.autodev'} (run an app "
        "that uses flowscribe)\n"
    )
    code, _, err = cli(capsys, "summary", "nope")
    assert code == 1 and err.count("\n") == 1 and "'nope'" in err
    (project / "empty.jsonl").write_text("{broken\n")
    code, _, err = cli(capsys, "summary", "empty.jsonl")
    assert code == 1 and "no readable events" in err


# -- tail -----------------------------------------------------------------------------------


def test_tail_prints_the_last_events_human_readably(
    runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "tail", "-n", "3", "--color", "never")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert "END" in lines[-1] and "2 flows" in lines[-1]  # the run's summary event
    assert "\x1b[" not in out


def test_tail_filters_by_type_and_flow_glob(
    runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "tail", "--type", "failure", "-n", "50")
    assert code == 0
    [line] = out.splitlines()
    assert "FAIL" in line and "EXTERNAL.TIMEOUT no ack in 1s" in line and "app.py:" in line
    code, out, _ = cli(capsys, "tail", "--flow", "data/**", "--type", "flow_start,flow_end")
    assert code == 0 and len(out.splitlines()) == 4  # two runs, one start and end each
    assert all("data/fetch" in line for line in out.splitlines())
    code, out, _ = cli(capsys, "tail", "--run", runs[0], "--type", "run_start")
    assert out.count("RUN") == 1 and runs[0] in out


def test_tail_rejects_unknown_types(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "tail", "--type", "failures")
    assert code == 1 and "unknown event type failures" in err


def test_tail_cannot_be_driven_into_terminal_escapes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ev = {
        "schema": 1,
        "id": "x-1",
        "run_id": "r",
        "seq": 1,
        "ts": 1.0,
        "event_type": "failure",
        "flow_id": "a\x1b[2Jb",
        "error_class": "E",
        "reason": "\x1b]0;pwned\x07 bad",
        "evidence": {"k": "\x9b31m"},
    }
    path = project / ".autodev" / "trace.jsonl"
    path.write_text(json.dumps(ev) + "\n")
    code, out, _ = cli(capsys, "tail", "--color", "never")
    assert code == 0 and "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "a?[2Jb" in out


def test_last_events_reads_backwards_across_blocks_and_skips_junk(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"

    def line(i: int, pad: int = 0) -> bytes:
        return (
            json.dumps(
                {
                    "schema": 1,
                    "run_id": "r",
                    "seq": i,
                    "event_type": "checkpoint",
                    "evidence": {"pad": "x" * pad},
                }
            ).encode()
            + b"\n"
        )

    body = b"".join(line(i, pad=(i * 997) % 70_000) for i in range(1, 60))
    body += b"not json\n" + b"y" * (2 << 20) + b"\n" + line(60) + b'{"schema":1,"seq":61'
    path.write_bytes(body)
    got = last_events(path, 100, lambda ev: True)
    assert [ev["seq"] for ev in got] == list(range(1, 61))
    assert [ev["seq"] for ev in last_events(path, 3, lambda ev: ev["seq"] % 2 == 0)] == [56, 58, 60]
    assert last_events(path, 0, lambda ev: True) == []


def test_tail_follow_prints_events_as_they_are_appended(project: Path) -> None:
    trace = project / ".autodev" / "trace.jsonl"
    trace.write_text("")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flowscribe",
            "tail",
            "-f",
            "--color",
            "never",
            "--type",
            "failure",
            "--interval",
            "0.05",
        ],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    ev = {
        "schema": 1,
        "id": "x-1",
        "run_id": "r",
        "seq": 1,
        "ts": 1.0,
        "event_type": "failure",
        "flow_id": "orders/submit",
        "error_class": "LATE",
        "reason": "appended later",
    }
    try:
        got = None
        for _ in range(60):  # append until the follower prints one (it may start late)
            with trace.open("a") as fh:
                fh.write(json.dumps(ev) + "\n")
            try:
                got = lines.get(timeout=0.5)
                break
            except queue.Empty:
                continue
        assert got is not None and "FAIL" in got
        assert "orders/submit LATE appended later" in got
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_tail_follow_prints_the_last_lines_then_follows_from_the_end(project: Path) -> None:
    def event(seq: int, step: str) -> str:
        return json.dumps({"schema": 1, "id": f"x-{seq}", "run_id": "r", "seq": seq,
                           "ts": 1.0, "event_type": "checkpoint", "flow_id": "orders/submit",
                           "step": step}) + "\n"

    trace = project / ".autodev" / "trace.jsonl"
    trace.write_text("".join(event(i, f"old{i}") for i in range(1, 200)) + event(200, "old200"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "flowscribe", "tail", "-f", "-n", "2", "--color", "never",
         "--interval", "0.05"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()
    try:
        first = [lines.get(timeout=30) for _ in range(2)]
        assert "old199" in first[0] and "old200" in first[1]
        with trace.open("a") as fh:
            fh.write(event(201, "new201"))
        assert "new201" in lines.get(timeout=30)
        with pytest.raises(queue.Empty):  # nothing twice, nothing older
            lines.get(timeout=0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- runs -----------------------------------------------------------------------------------


def test_runs_lists_newest_first_and_marks_the_latest(
    runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "runs")
    assert code == 0
    header, newest, older, legend = out.splitlines()
    assert legend.startswith("* the latest run")
    assert header.split()[:2] == ["RUN", "STARTED"]
    assert newest.startswith("*") and runs[1] in newest and "cli-demo" in newest
    assert runs[0] in older and not older.startswith("*")
    code, out, _ = cli(capsys, "runs", "--json")
    doc = json.loads(out)
    assert [r["runId"] for r in doc] == runs[::-1]
    assert doc[1]["verdicts"] == {
        "passed": 1,
        "failed": 1,
        "unfinished": 0,
        "failures": 1,
        "exceptions": 0,
    }
    assert doc[1]["artifacts"]["ask"] is not None and doc[0]["artifacts"]["ask"] is None


# -- the command itself ---------------------------------------------------------------------


def test_bad_command_lines_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for argv in (["bogus"], ["tail", "-n", "x"], []):
        result = subprocess.run(
            [sys.executable, "-m", "flowscribe", *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 2, argv
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("flowscribe")
        assert ": error: " in result.stderr


def test_missing_root_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "-C", str(tmp_path / "nope"), "runs")
    assert code == 1 and err == f"flowscribe: error: no such directory: {tmp_path / 'nope'}\n"


def test_console_script_and_module_agree(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("flowscribe")
    for cmd in ([str(script)], [sys.executable, "-m", "flowscribe"]):
        if not Path(cmd[0]).exists():
            continue
        result = subprocess.run([*cmd, "--version"], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and result.stdout.startswith("flowscribe ")


@pytest.mark.parametrize("argv", [
    ["runs"], ["runs", "--json"], ["summary"], ["tail"], ["diff"], ["timeline"], ["export"],
])
def test_nothing_there_is_exit_1_for_every_command(
        project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = cli(capsys, *argv)
    assert code == 1
    assert out.strip() == "[]" if "--json" in argv else "no runs" in err


@pytest.mark.parametrize("argv", [
    ["runs"], ["summary"], ["tail"], ["diff"], ["timeline"], ["export"], ["init"],
])
def test_a_missing_root_is_exit_1_for_every_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = cli(capsys, "-C", str(tmp_path / "nope"), *argv)
    assert code == 1 and "no such directory" in err


def test_tail_says_when_a_filter_matches_nothing(
        runs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "tail", "--flow", "nothing/**")
    assert code == 1 and out == "" and "match --flow nothing/**" in err


def test_runs_shows_short_durations_in_ms_and_explains_the_star(
        runs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "runs")
    assert code == 0
    rows = out.splitlines()
    assert re.search(r"\d+ ms", rows[1]) and rows[1].startswith("*")
    assert rows[-1].startswith("* the latest run")


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"flowscribe {version('flowscribe')}"
