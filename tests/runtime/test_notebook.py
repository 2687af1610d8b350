"""flowscribe in a real Jupyter kernel (ipykernel, driven by jupyter_client as a notebook
front end drives it): artifacts on demand while the kernel lives, the cell a failure came
from named as the notebook shows it, and the run ended when the kernel shuts down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _project import write_config

manager = pytest.importorskip("jupyter_client.manager")
pytest.importorskip("ipykernel")


class Kernel:
    """One running kernel and its client; :meth:`run` executes a cell as a notebook does."""

    def __init__(self, cwd: Path) -> None:
        self.km, self.kc = manager.start_new_kernel(kernel_name="python3", cwd=str(cwd),
                                                    startup_timeout=120)

    def run(self, code: str) -> dict[str, Any]:
        """Execute ``code`` as the next cell: its execution count, output and error."""
        msg_id = self.kc.execute(code)
        out: list[str] = []
        error: str | None = None
        while True:
            msg = self.kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                break
        reply = self.kc.get_shell_msg(timeout=60)
        return {"count": reply["content"].get("execution_count"), "out": "".join(out),
                "error": error}

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


@pytest.fixture
def kernel(project: Path) -> Iterator[Kernel]:
    write_config(project, "version: 1\nprofile: all\n")
    k = Kernel(project)
    try:
        yield k
    finally:
        if k.km.is_alive():
            k.km.shutdown_kernel(now=True)


def test_a_failing_cell_is_named_as_the_notebook_shows_it(kernel: Kernel, project: Path) -> None:
    assert kernel.run("import flowscribe\nflowscribe.init(app_name='nb')")["error"] is None
    ok = kernel.run("with flowscribe.flow('orders/load') as f:\n    f.checkpoint('read')")
    failing = kernel.run(
        "with flowscribe.flow('orders/submit') as f:\n"
        "    f.checkpoint('validate')\n"
        "    f.failure('DATA.EMPTY', 'no rows')")
    assert ok["error"] is None and failing["error"] is None
    written = kernel.run("flowscribe.write_artifacts()")
    assert written["error"] is None, written

    summary = (project / ".autodev" / "summary.md").read_text()
    ask = (project / ".autodev" / "ask.md").read_text()
    cell = f"in notebook cell In[{failing['count']}]"
    assert f"{cell})" in summary
    assert cell in ask
    assert "2 started" in summary  # the run so far, while the kernel lives


def test_the_run_goes_on_after_artifacts_on_demand_and_ends_with_the_kernel(
        kernel: Kernel, project: Path) -> None:
    kernel.run("import flowscribe\nflowscribe.init(app_name='nb')")
    kernel.run("with flowscribe.flow('orders/load') as f:\n    f.checkpoint('read')")
    kernel.run("flowscribe.write_artifacts()")
    failing = kernel.run(
        "with flowscribe.flow('orders/submit') as f:\n    f.failure('DATA.EMPTY', 'none')")
    kernel.shutdown()  # as closing the notebook does: the kernel exits normally

    trace = project / ".autodev" / "trace.jsonl"
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len({e["run_id"] for e in events}) == 1  # one kernel, one run
    assert events[-1]["event_type"] == "summary"
    assert events[-1]["evidence"]["flows"] == 2
    assert events[-1]["evidence"]["failed"] == 1
    summary = (project / ".autodev" / "summary.md").read_text()
    assert "ended cleanly" in summary
    # written as the kernel exits, while IPython still knows its cells
    failure = next(e for e in events if e["event_type"] == "failure")
    assert f"at `{failure['file']}:2` (in notebook cell In[{failing['count']}])" in summary
