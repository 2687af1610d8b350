"""Running the buggy apps under ``apps/``: each has a run that passes and a buggy one.

Every app has 2-4 modules with the failure *detected* in one function and *caused* in
another, a ``--busy`` mode with hundreds of healthy events around the failure, and a
``cause.json`` written before it was ever run: the root cause's code line, the recorded
values that reveal it, and the change against the good run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from _project import clean_env

APPS = Path(__file__).resolve().parent / "apps"
NAMES = sorted(p.name for p in APPS.iterdir() if (p / "cause.json").is_file())


def run_app(name: str, dest: Path) -> tuple[Path, dict[str, Any]]:
    """Copies app ``name`` to ``dest``, runs it once healthy and once with its bug (both
    busy), and returns the copy's root and its cause.json."""
    root = dest / name
    shutil.copytree(APPS / name, root)
    env = clean_env()
    for args in (["--busy"], ["--bug", "--busy"]):
        subprocess.run([sys.executable, "main.py", *args], cwd=root, env=env, check=True,
                       capture_output=True, timeout=120)
    return root, json.loads((root / "cause.json").read_text())
