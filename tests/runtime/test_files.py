"""Config and catalog files that are not what they seem: a FIFO, a link to /dev/zero, a
directory, a huge file. The app never hangs or balloons; one warning names the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = """\
import flowscribe
flowscribe.init(app_name="x")
with flowscribe.flow("a/b") as f:
    f.success()
flowscribe.end_session()
print("app done")
"""


def _plant(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "huge":
        path.write_bytes(b"# padding\n" * (1024 * 1024))  # 10 MiB of YAML comments


@pytest.mark.parametrize("name", ["ra.yaml", "flows.yaml"])
@pytest.mark.parametrize("kind", ["fifo", "devzero", "directory", "huge"])
def test_the_app_runs_with_defaults_and_one_warning(project: Path, name: str, kind: str) -> None:
    target = project / ".autodev" / name
    _plant(target, kind)
    (project / "app.py").write_text(APP)
    # The timeout is the hang detector: a blocked open or an endless read would hit it.
    out = subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "app done" in out.stdout, out.stderr
    warnings = [line for line in out.stderr.splitlines() if f".autodev/{name}" in line]
    assert len(warnings) == 1, out.stderr
    if kind == "huge":
        assert "larger than 4 MiB" in warnings[0]
    elif kind != "directory":
        assert "not a regular file" in warnings[0]
