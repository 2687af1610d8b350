"""The repository as a newcomer gets it: one version everywhere, and installing it leaves the
checkout as it was, with no setuptools deprecation warnings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import flowscribe

REPO = Path(__file__).resolve().parents[2]


def test_one_version_for_the_package_the_server_and_the_extension() -> None:
    from importlib.metadata import version

    import flowscribe_lsp

    ext = json.loads((REPO / "vscode-ext" / "package.json").read_text())["version"]
    assert flowscribe.__version__ == flowscribe_lsp.__version__ == ext == version("flowscribe")


def _tracked_copy(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "t"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


@pytest.mark.slow
def test_pip_install_leaves_no_untracked_files_and_no_warnings(tmp_path: Path) -> None:
    checkout = _tracked_copy(tmp_path / "checkout")
    target = tmp_path / "site"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
         "-v", "--target", str(target), "."],
        cwd=checkout, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    log = out.stdout + out.stderr
    assert "Deprecat" not in log and "BuildBackendWarning" not in log, log[-3000:]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=checkout, check=True,
                            capture_output=True, text=True).stdout
    assert status == "", status
    assert (target / "flowscribe" / "__init__.py").is_file()
