"""An interactive session (``python -i`` fed from stdin): ``flowscribe.write_artifacts()``
writes summary.md and ask.md of the run so far and the session goes on (issue 8 §7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _apps import TIMEOUT, clean_env
from _project import of_type, trace

TYPED = """\
import flowscribe
with flowscribe.flow("repl/first") as f:
    f.failure("DATA.EMPTY", "nothing loaded")

flowscribe.write_artifacts()
print("written", flush=True)
"""

LATER = """\
with flowscribe.flow("repl/second") as f:
    f.success("ok")

"""


def test_write_artifacts_at_a_python_prompt_keeps_the_session(project: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-i", "-q"], cwd=project, env=clean_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(TYPED)
        proc.stdin.flush()
        while (line := proc.stdout.readline()) and "written" not in line:
            pass
        assert "written" in line
        # The interpreter still runs: the artifacts are those of the run so far.
        autodev = project / ".autodev"
        summary = (autodev / "summary.md").read_text(encoding="utf-8")
        assert "repl/first" in summary and "DATA.EMPTY" in summary
        assert "nothing loaded" in (autodev / "ask.md").read_text(encoding="utf-8")
        assert not of_type(trace(project), "summary")  # the run has not ended
        proc.stdin.write(LATER)
        proc.stdin.close()
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()
    events = trace(project)
    assert len({e["run_id"] for e in events}) == 1  # one session, one run
    (end,) = of_type(events, "summary")
    assert (end["evidence"]["flows"], end["evidence"]["failed"]) == (2, 1)
    assert "repl/second" in (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    # Typed lines are recorded as `<stdin>`, a name no file has: the editor has nowhere
    # to point (the server places diagnostics only in files that exist).
    (failure,) = of_type(events, "failure")
    assert (failure["file"], failure["line"]) == ("<stdin>", 2)  # the statement's 2nd line


def test_write_artifacts_with_no_session_does_nothing(project: Path) -> None:
    import flowscribe

    flowscribe.write_artifacts()
    assert not (project / ".autodev" / "summary.md").exists()
