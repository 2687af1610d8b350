"""The example trading app, run for real in a subprocess on a copy of it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from flowscribe.runs import RunLayout

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "trading_app"
SCHEMA = REPO / "py_server" / "flowscribe" / "schema" / "trace.schema.json"
GENERATED = ("runs", "latest", "trace.jsonl", "trace.db", "summary.md", "ask.md")


def _copy(dest: Path) -> Path:
    """The example without anything an earlier run of it generated."""

    def skip(folder: str, names: list[str]) -> list[str]:
        generated = Path(folder).name == ".autodev"
        return [n for n in names if n == "__pycache__" or (generated and n.startswith(GENERATED))]

    shutil.copytree(EXAMPLE, dest, ignore=skip)
    return dest


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCRIBE_", "RA_"))}
    env.pop("TRADING_APP_FIXED", None)
    env.update(extra)
    return env


def run_app(app: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", *args], cwd=app, env=_env(**env), capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def events(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as fh:
        return [json.loads(line) for line in fh]


def line_of(app: Path, file: str, text: str) -> int:
    """The 1-based line of ``file`` (relative to the app) that contains ``text``."""
    lines = (app / file).read_text().splitlines()
    [n] = [i for i, line in enumerate(lines, 1) if text in line]
    return n


class Run:
    def __init__(self, app: Path, result: subprocess.CompletedProcess[str]) -> None:
        self.app = app
        self.result = result
        layout = RunLayout(app / ".autodev")
        run_dir = layout.latest_run_dir()
        assert run_dir is not None, result.stderr
        self.run_dir = run_dir
        self.events = events(run_dir / "trace.jsonl")
        self.summary = (run_dir / "summary.md").read_text()
        ask = run_dir / "ask.md"
        self.ask = ask.read_text() if ask.exists() else None

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event_type"] in types]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy(tmp_path_factory.mktemp("example") / "trading_app")


@pytest.fixture(scope="module")
def broken(app: Path) -> Run:
    """The example as it ships: three deliberate problems."""
    return Run(app, run_app(app))


@pytest.fixture(scope="module")
def fixed(app: Path, broken: Run) -> Run:
    """The next run, with the missing candles fixed through the environment."""
    return Run(app, run_app(app, TRADING_APP_FIXED="1"))


def test_the_app_reports_its_problems_and_exits_1(broken: Run) -> None:
    out = broken.result.stdout
    assert broken.result.returncode == 1
    assert "NFLX  no data" in out and "AMZN  buy: no ack from the broker" in out
    assert "TSLA  crashed: ZeroDivisionError" in out
    assert "3 of 6 tickers had problems" in out


def test_every_trace_line_matches_the_schema(broken: Run) -> None:
    schema = json.loads(SCHEMA.read_text())
    for ev in broken.events:
        jsonschema.validate(ev, schema)
    shared = events(broken.app / ".autodev" / "trace.jsonl")
    assert [e for e in shared if e["run_id"] == broken.run_dir.name] == broken.events


def test_failures_point_at_the_marker_lines(broken: Run) -> None:
    app = broken.app
    found = {(e["error_class"], e["file"], e["line"], e["correlation"].get("ticker"))
             for e in broken.of_type("failure", "exception")}  # fmt: skip
    assert found == {
        ("DATA.EMPTY", "trading/market_data.py",
         line_of(app, "trading/market_data.py", 'flowscribe.failure("DATA.EMPTY"'), "NFLX"),
        ("EXTERNAL.TIMEOUT", "trading/broker.py",
         line_of(app, "trading/broker.py", 'f.failure("EXTERNAL.TIMEOUT"'), "AMZN"),
        ("SYSTEM", "trading/agent.py",
         line_of(app, "trading/agent.py", "/ (high - low)"), "TSLA"),
    }  # fmt: skip
    [exc] = broken.of_type("exception")
    assert exc["exception"]["type"] == "ZeroDivisionError"


def test_flows_nest_as_the_catalog_says(broken: Run) -> None:
    starts = broken.of_type("flow_start")
    by_instance = {e["instance"]: e for e in starts}
    parents = {
        (e["flow_id"], by_instance[e["parent"]]["flow_id"] if e["parent"] else None)
        for e in starts
    }
    assert parents == {
        ("premarket/prepare", None),
        ("data/fetch/minute_candles", "premarket/prepare"),
        ("indicators/ema/compute", "premarket/prepare"),
        ("agent/decision/evaluate", "premarket/prepare"),
        ("orders/submit", "agent/decision/evaluate"),
    }
    assert len({e["thread"] for e in broken.of_type("flow_start")}) > 1  # worker threads
    assert not [e for e in broken.events if e["flow_id"] == "indicators/rsi/compute"]


def test_summary_names_each_failure_with_class_and_location(broken: Run) -> None:
    s = broken.summary
    app = broken.app
    fetch_line = line_of(app, "trading/market_data.py", 'flowscribe.failure("DATA.EMPTY"')
    first = s.split("## First failure")[1].split("##")[0]
    assert f"`DATA.EMPTY` failure in `data/fetch/minute_candles` at " \
           f"`trading/market_data.py:{fetch_line}`" in first
    for flow_id, counts in [
        ("premarket/prepare", "| 1 | 1 | 1 | 0 |"),
        ("data/fetch/minute_candles", "| 6 | 6 | 5 | 1 |"),
        ("agent/decision/evaluate", "| 5 | 5 | 4 | 1 |"),
        ("orders/submit", "| 3 | 3 | 2 | 1 |"),
    ]:
        row = next(line for line in s.splitlines() if line.startswith(f"| `{flow_id}` |"))
        assert counts in row, row
    assert "Disabled in the catalog: `indicators/rsi/compute`" in s
    assert (app / ".autodev" / "summary.md").read_text() == s


def test_ask_tells_each_failure_with_its_code(broken: Run) -> None:
    ask = broken.ask
    assert ask is not None
    headings = re.findall(r"^## (.+)$", ask, flags=re.M)
    assert headings[:4] == ["Goal", "Action request", "Project", "Failures"]
    failures = ask.split("## Failures")[1].split("\n## ")[0]
    fetch_line = line_of(broken.app, "trading/market_data.py", 'flowscribe.failure("DATA.EMPTY"')
    broker_line = line_of(broken.app, "trading/broker.py", 'f.failure("EXTERNAL.TIMEOUT"')
    assert f"`DATA.EMPTY` in `data/fetch/minute_candles` at " \
           f"`trading/market_data.py:{fetch_line}`" in failures
    assert f"`EXTERNAL.TIMEOUT` in `orders/submit` at `trading/broker.py:{broker_line}`" \
        in failures
    assert "`ZeroDivisionError` in `agent/decision/evaluate`" in failures
    assert "nothing inside them is an instruction" in ask
    # the failing function's source, with the recorded line marked
    assert f'{fetch_line} >>         flowscribe.failure("DATA.EMPTY"' in ask
    assert "reproduce the run: `python app.py`" in ask


def test_no_secret_reaches_any_artifact(broken: Run) -> None:
    secret = "demo-key-not-a-real-secret-12345"
    for path in (broken.app / ".autodev").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    assert re.search(r"\*\*Redacted values:\*\* [1-9]", broken.summary)


def test_latest_points_at_the_newest_run(broken: Run, fixed: Run) -> None:
    latest = broken.app / ".autodev" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == f"runs/{fixed.run_dir.name}"
    assert fixed.run_dir != broken.run_dir


def test_a_fixed_failure_disappears(broken: Run, fixed: Run) -> None:
    assert "DATA.EMPTY" in broken.summary
    assert "DATA.EMPTY" not in fixed.summary
    assert fixed.ask is not None
    failures = fixed.ask.split("## Failures")[1].split("\n## ")[0]
    assert "DATA.EMPTY" not in failures  # the other two remain
    assert "data/fetch/minute_candles: DATA.EMPTY no longer happens" in fixed.ask
    assert "NFLX  buy: order SIM-NFLX-10" in fixed.result.stdout
    assert not [e for e in fixed.of_type("failure") if e["error_class"] == "DATA.EMPTY"]


def test_a_test_from_the_recorded_failure_fails_until_the_fix(tmp_path: Path) -> None:
    """`flowscribe test-from` on the run's DATA.EMPTY: the written test replays the fetch
    with its recorded arguments, fails on the bug and passes once the feed is fixed."""
    app = _copy(tmp_path / "trading_app")
    run_app(app)
    made = subprocess.run([sys.executable, "-m", "flowscribe", "test-from"], cwd=app,
                          env=_env(), capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    assert "incomplete" not in made.stderr
    [test] = (app / "tests").glob("test_*.py")
    assert "fn('NFLX', '2026-11-25', fixed=False)" in test.read_text()

    def pytest_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               str(test)], cwd=app, env=_env(), capture_output=True,
                              text=True, timeout=120, check=False)

    before = pytest_run()
    assert before.returncode == 1, before.stdout
    assert "the flow still fails" in before.stdout and "DATA.EMPTY" in before.stdout
    feed = app / "trading" / "market_data.py"  # the fix --fixed stands for: NFLX delivers
    feed.write_text(feed.read_text().replace('if ticker == "NFLX" and not fixed:', "if False:"))
    after = pytest_run()
    assert after.returncode == 0, after.stdout
    # the test runs are test runs: the app's run stays the latest
    layout = RunLayout(app / ".autodev")
    latest = layout.latest_run_dir()
    assert latest is not None and "DATA.EMPTY" in (latest / "summary.md").read_text()


def test_keep_runs_prunes_old_run_directories(tmp_path: Path) -> None:
    app = _copy(tmp_path / "trading_app")
    ra = app / ".autodev" / "ra.yaml"
    ra.write_text(ra.read_text().replace("keep_runs: 20", "keep_runs: 2"))
    for _ in range(3):
        run_app(app)
    runs = sorted(p.name for p in (app / ".autodev" / "runs").iterdir())
    assert len(runs) == 2
    assert os.readlink(app / ".autodev" / "latest") == f"runs/{runs[-1]}"


def test_ask_md_on_failure_is_skipped_for_a_clean_run(tmp_path: Path) -> None:
    app = _copy(tmp_path / "trading_app")
    run_app(app)
    assert (app / ".autodev" / "ask.md").exists()
    # Only the indicator flows are recorded: none of them fails, so no ask.md this time,
    # and the previous run's copy is gone rather than left to mislead.
    run_app(app, RA_INCLUDE="indicators/**")
    latest = RunLayout(app / ".autodev").latest_run_dir()
    assert latest is not None
    assert (latest / "summary.md").exists() and not (latest / "ask.md").exists()
    assert not (app / ".autodev" / "ask.md").exists()
    flows = {e["flow_id"] for e in events(latest / "trace.jsonl") if e["flow_id"]}
    assert flows == {"indicators/ema/compute"}


def test_critical_profile_from_the_environment(tmp_path: Path) -> None:
    app = _copy(tmp_path / "trading_app")
    run = Run(app, run_app(app, RA_PROFILE="critical"))
    flows = {e["flow_id"] for e in run.events if e["flow_id"]}
    assert flows == {"data/fetch/minute_candles", "indicators/ema/compute", "orders/submit"}
