"""The console is for people: verdicts by default, every event on request, and recorded text
never acts on the terminal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from _project import write_config
from hypothesis import given
from hypothesis import strategies as st

from flowscribe.config import load_config
from flowscribe.sinks.console import ConsoleSink, format_event, terminal_safe

APP = textwrap.dedent("""\
    import flowscribe
    flowscribe.init(app_name="shop")
    for n in range(3):
        with flowscribe.flow("orders/submit", n=n) as f:
            f.checkpoint("validate", rows=n)
            f.metric("latency_ms", 5.0, unit="ms")
            if n == 2:
                f.failure("EXTERNAL.TIMEOUT", "no ack")
            else:
                f.success("ack")
    flowscribe.end_session()
    """)


def _console(project: Path, level: str | None) -> list[str]:
    sink = "  - type: console\n" + (f"    level: {level}\n" if level else "")
    write_config(project, f"version: 1\nprofile: all\nsinks:\n{sink}")
    (project / "app.py").write_text(APP)
    out = subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                         text=True, timeout=60, check=True)
    return [line.split(None, 2)[1] for line in out.stderr.splitlines() if line.strip()]


def test_the_default_console_prints_verdicts_only(project: Path) -> None:
    labels = _console(project, None)
    # run start, the failure, the failed flow's end, the run's end: no checkpoints
    assert labels == ["RUN", "FAIL", "END", "END"]


def test_level_flows_and_all(project: Path) -> None:
    assert _console(project, "flows") == ["RUN", "OK", "END", "OK", "END", "FAIL", "END", "END"]
    labels = _console(project, "all")
    assert labels.count("..") == 3 and labels.count("METRIC") == 3


def test_a_bad_level_names_file_line_and_key(project: Path) -> None:
    write_config(project, "version: 1\nsinks:\n  - type: console\n    level: loud\n"
                          "  - type: jsonl\n    level: all\n")
    config, problems = load_config(project)
    text = [str(p) for p in problems]
    assert any(t.endswith("sinks[0].level: must be one of verdicts, flows, all (got 'loud'); "
                          "using verdicts") and ":4:12:" in t for t in text), text
    assert any("sinks[1].level: only the console and logging sinks have a level" in t for t in text)
    assert config.sinks[0].level == "verdicts"


HOSTILE = ["\x1b]0;pwned\x07", "\x1b[2J", "\x07", "\x1bc", "\x9b31m", "a\rb", "\u202eevil"]


def test_terminal_control_sequences_are_shown_not_acted_on() -> None:
    for text in HOSTILE:
        ev = {"event_type": "failure", "flow_id": f"f{text}", "error_class": "X",
              "reason": text, "evidence": {"k": text}, "file": f"a{text}.py", "line": 1,
              "ts": 0.0}
        line = format_event(ev)
        assert line is not None
        assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 for c in line), repr(line)


@given(st.text())
def test_terminal_safe_leaves_no_control_character(text: str) -> None:
    safe = terminal_safe(text)
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u2029\u202e"
                   for c in safe)
    if text.isprintable() and not any(0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069
                                      for c in text):
        assert safe == text  # printable text is untouched


def test_colour_codes_are_ours_only() -> None:
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    ConsoleSink(out, color=True).write([({"event_type": "failure", "flow_id": "x",
                                          "error_class": "E", "reason": "\x1b[31mred",
                                          "ts": 0.0}, "")])
    assert "\\x1b[31mred" in out.getvalue()
