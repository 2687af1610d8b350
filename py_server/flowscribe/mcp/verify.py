"""``verify_fix``: rerun a run's recorded command and say what changed.

The loop an agent closes after a patch: run the program again exactly as the failing run
was started (the recorded ``argv``, from the run's root, inside the workspace, with a
timeout), then compare the failing run with the run that rerun recorded.

Only the recorded command is run, never one an agent supplies. It is refused when the
recorded command line had a secret redacted (it could not be the same command) or names
a script outside the workspace. The command's own output is not returned: it is the app's
raw output, which the runtime never redacted.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowscribe.markdown import code
from flowscribe.mcp.results import data_result
from flowscribe.mcp.tools import diff_doc, run_brief, run_passed
from flowscribe.mcp.workspace import ToolInputError, Workspace, inside
from flowscribe.vocabulary import REDACTED

__all__ = ["DEFAULT_TIMEOUT_S", "MAX_TIMEOUT_S", "command_for", "planned_rerun", "verify_fix"]

DEFAULT_TIMEOUT_S = 120
MAX_TIMEOUT_S = 900


def command_for(header: Mapping[str, Any], root: Path) -> tuple[list[str], Path]:
    """The argv and working folder that rerun the run with this ``run_start`` header.

    A script (``app.py``) runs with this interpreter, the one flowscribe is installed in;
    any other program (a console script such as ``pytest``) is found on PATH."""
    argv = header.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ToolInputError("the run recorded no command line to rerun")
    if any(REDACTED in a for a in argv):
        raise ToolInputError("the run's command line had a secret redacted, so it cannot be "
                             "rerun as it was; rerun it yourself")
    recorded_root = header.get("root")
    cwd = Path(recorded_root) if isinstance(recorded_root, str) and recorded_root else root
    if not inside(cwd, root) or not cwd.is_dir():
        raise ToolInputError(f"the run was started in {cwd}, outside the workspace")
    first = argv[0]
    if first in ("-c", "-"):
        raise ToolInputError("the run was started from inline code (python -c), which the "
                             "trace does not hold; rerun it yourself")
    if first.endswith(".py"):
        script = Path(first) if Path(first).is_absolute() else cwd / first
        if not inside(script, root) or not script.is_file():
            raise ToolInputError(f"the run's script {first} is not a file in the workspace")
        return [sys.executable, *argv], cwd.resolve()
    program = shutil.which(first, path=os.environ.get("PATH")) if os.sep not in first else first
    if program is None or not os.path.isfile(program):
        raise ToolInputError(f"the run's program {first} is not found")
    return [program, *argv[1:]], cwd.resolve()


def _shown(cmd: list[str]) -> str:
    return shlex.join(["python", *cmd[1:]] if cmd[0] == sys.executable else cmd)


def planned_rerun(ws: Workspace, run: str | None = None) -> tuple[str, str]:
    """(the command, its folder in the workspace) that :func:`verify_fix` would run for
    run ``run``, for a client to show before asking the user; runs nothing."""
    cmd, cwd = command_for(ws.view(ws.run(run)).header, ws.root)
    return _shown(cmd), ws.display(cwd)


def _child_env() -> dict[str, str]:
    # A child must start a run of its own, not join one this process was started in.
    return {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCRIBE_", "RA_"))}


def _run(cmd: list[str], cwd: Path, timeout_s: int) -> tuple[int | None, bool]:
    """(exit status, timed out); the whole process group is killed on timeout."""
    popen_kw: dict[str, Any] = {}
    if os.name == "posix":
        popen_kw["start_new_session"] = True
    # stdin/stdout closed: this process's stdout is the MCP channel, and the app's output
    # is raw app data.
    proc = subprocess.Popen(cmd, cwd=cwd, env=_child_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen_kw)
    try:
        return proc.wait(timeout=timeout_s), False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            if os.name == "posix":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        proc.wait()
        return None, True


def verify_fix(ws: Workspace, run: str | None = None,
               timeout_s: int = DEFAULT_TIMEOUT_S) -> str:
    """Rerun run ``run``'s (default: the latest) recorded command and return the diff
    between that run and the run the rerun recorded."""
    from flowscribe.story import diff_runs

    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or not (
            1 <= timeout_s <= MAX_TIMEOUT_S):
        raise ToolInputError(f"timeout_s must be between 1 and {MAX_TIMEOUT_S} (got "
                             f"{timeout_s!r})")
    failing = ws.run(run)
    failing_view = ws.view(failing)
    cmd, cwd = command_for(failing_view.header, ws.root)
    known = {r.run_id for r in ws.runs()}
    try:
        status, timed_out = _run(cmd, cwd, timeout_s)
    except OSError as exc:
        raise ToolInputError(f"cannot run {shlex.join(cmd)}: {exc.strerror or exc}") from exc
    new = [r for r in ws.runs() if r.run_id not in known]
    doc: dict[str, Any] = {"command": _shown(cmd), "cwd": ws.display(cwd),
                           "exit_status": status, "timed_out": timed_out,
                           "failing_run": run_brief(failing)}
    if not new:
        doc["new_run"] = None
        return data_result(
            f"Reran run {code(failing.run_id, 80)}: no new run was recorded", doc,
            footer="The command ran but recorded nothing (did it stop before flowscribe "
                   "started, or time out?).")
    latest = new[0]
    diff = diff_runs(failing_view, ws.view(latest), ws.sla_ms())
    doc.update(diff_doc(ws, failing, latest, diff))
    doc["new_run"] = doc.pop("after")
    doc.pop("before", None)
    fixed = run_passed(latest)
    doc["fixed"] = fixed
    verdict = "the new run passed" if fixed else "the new run still failed"
    return data_result(f"Reran run {code(failing.run_id, 80)}: {verdict}", doc,
                       footer="changes: what differs from the failing run to the new one "
                              "(kind 'fixed': a failure class that no longer happens).")

