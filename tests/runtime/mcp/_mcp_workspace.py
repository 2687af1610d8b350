"""A workspace made by really running ``apps/shop`` (a good run, then a buggy one), and
the MCP server started on it as a subprocess, driven by the SDK's own stdio client."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from _project import clean_env

APP = Path(__file__).resolve().parent / "apps" / "shop"
SECRETS = ("hunter2", "sk-live-abcdef")


def set_bug(root: Path, on: bool) -> None:
    pick = root / "shop" / "pick.py"
    text = pick.read_text(encoding="utf-8")
    pick.write_text(text.replace(f"BUG = {not on}", f"BUG = {on}"), encoding="utf-8")


def make_workspace(dest: Path) -> Path:
    """The shop copied to ``dest``, run once healthy and once with its bug."""
    root = dest / "shop"
    shutil.copytree(APP, root)
    for bug in (False, True):
        set_bug(root, bug)
        subprocess.run([sys.executable, "main.py"], cwd=root, env=clean_env(), check=True,
                       capture_output=True, timeout=120)
    return root


@contextlib.asynccontextmanager
async def session(root: Path) -> AsyncIterator[Any]:
    """An initialised ClientSession with ``flowscribe mcp --workspace root``."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "flowscribe", "mcp", "--workspace", str(root)],
        env=clean_env(), cwd=str(root.parent))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        yield s


def is_error(result: Any) -> bool:
    flag = getattr(result, "is_error", None)  # mcp 2; isError in mcp 1
    return bool(flag if flag is not None else getattr(result, "isError", False))


def text_of(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)
