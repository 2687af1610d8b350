"""The run header: what ``run_start`` records about the program that runs.

The app's default name, the checked-out git commit (read from ``.git`` without running
git) and the command line with secret-looking arguments redacted. Separate from the
session because none of it is about recording: it is read once, when a run starts, and
imported only then.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from pathlib import Path

    from .redact import Redactor


def default_app_name() -> str:
    """The script's name without its extension (``python`` when there is none)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] else "")
    name = os.path.splitext(os.path.basename(path))[0]
    return name or "python"


def python_version() -> str:
    """The interpreter's version, ``3.11.7``."""
    return sys.version.split()[0]


def git_sha(root: Path) -> str | None:
    """The checked-out commit, read from ``.git`` without running git."""
    for directory in (root, *root.parents):
        git = directory / ".git"
        try:
            if git.is_file():  # a worktree or submodule: "gitdir: <path>"
                text = git.read_text(encoding="utf-8").strip()
                if not text.startswith("gitdir:"):
                    return None
                git = (directory / text[7:].strip()).resolve()
            elif not git.is_dir():
                continue
            head = (git / "HEAD").read_text(encoding="utf-8").strip()
            if not head.startswith("ref:"):
                return head or None
            ref = head[4:].strip()
            common = git
            commondir = git / "commondir"
            if commondir.is_file():
                common = (git / commondir.read_text(encoding="utf-8").strip()).resolve()
            for base in (git, common):
                ref_file = base / ref
                if ref_file.is_file():
                    return ref_file.read_text(encoding="utf-8").strip() or None
            packed = common / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(encoding="utf-8").splitlines():
                    if line.endswith(" " + ref):
                        return line.split(" ", 1)[0]
            return None
        except OSError:
            return None
    return None


def safe_argv(red: Redactor | None) -> list[str]:
    """``sys.argv`` (at most 64 arguments), with the values of secret-named options
    (``--token=...``, ``--api-key ...``) and secret shapes redacted."""
    out: list[str] = []
    secret_next = False
    for arg in sys.argv[:64]:
        arg = str(arg)
        if red is None:
            out.append(arg)
            continue
        if secret_next:
            out.append("[REDACTED]")
            secret_next = False
            continue
        name, eq, _ = arg.partition("=")
        if name.startswith("-") and red.is_secret_key(name.lstrip("-")):
            if eq:
                out.append(f"{name}=[REDACTED]")
            else:
                out.append(arg)
                secret_next = True
            continue
        out.append(red.text(arg)[0])
    return out
