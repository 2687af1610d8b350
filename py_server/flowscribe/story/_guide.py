"""copilot_init.md for one project: what an assistant should know before its first question,
written by ``flowscribe init`` from what it finds in the project (entry points, the test
command, where the artifacts are, the catalog's flows) rather than generic advice."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from flowscribe.markdown import code, escape
from flowscribe.story._project import find_tests

if TYPE_CHECKING:
    from flowscribe.catalog import Catalog

__all__ = ["entry_points", "render_guide"]

_SKIP_DIRS = {".git", ".venv", "venv", "env", "node_modules", "__pycache__", ".autodev",
              "build", "dist", ".tox", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_MAX_FILES = 2_000
_MAX_BYTES = 400_000
_MAX_FLOWS = 40


def _python_files(root: Path) -> Iterator[Path]:
    seen = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                seen += 1
                if seen > _MAX_FILES:
                    return
                yield Path(folder) / name


def _is_entry(tree: ast.Module) -> bool:
    """A script that starts flowscribe: an ``if __name__ == "__main__":`` block in a module
    that imports flowscribe."""
    imports = any(
        (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "flowscribe" for a in n.names))
        or (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "flowscribe")
        for n in ast.walk(tree))
    main = any(isinstance(n, ast.If) and isinstance(n.test, ast.Compare)
               and isinstance(n.test.left, ast.Name) and n.test.left.id == "__name__"
               for n in tree.body)
    return imports and main


def entry_points(root: Path) -> list[str]:
    """Scripts under ``root`` that run instrumented code (relative POSIX paths)."""
    found = []
    for path in _python_files(root):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("tests/", "test/")) or path.name.startswith("test_"):
            continue
        try:
            if path.stat().st_size > _MAX_BYTES:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError, RecursionError):
            continue
        if _is_entry(tree):
            found.append(rel)
    return found[:10]


def render_guide(root: Path, catalog: Catalog | None) -> str:
    """The text of ``.autodev/copilot_init.md`` for the project at ``root``."""
    entries = entry_points(root)
    tests, test_cmd = find_tests(root)
    lines = [
        f"# flowscribe in {code(root.name or str(root), 80)}",
        "",
        "This project records its runs with flowscribe: code names *flows* (e.g. "
        "`orders/submit`) and marks explicit verdicts (success; failure with a class such as "
        "`DATA.EMPTY`; exception; metric). Each event has file:line, function, thread and "
        "small redacted evidence.",
        "",
        "## Run it",
        "",
    ]
    if entries:
        for rel in entries:
            folder, script = os.path.split(rel)
            cmd = f"cd {folder} && python {script}" if folder else f"python {rel}"
            lines.append(f"- {code(cmd)}")
    else:
        lines.append("- No entry script was found: run the app the way you usually do.")
    if test_cmd:
        lines += ["", f"Tests are in {code(tests or '?')}; run them with {code(test_cmd)}."]
    lines += [
        "",
        "## After a run",
        "",
        "- `.autodev/ask.md`: the latest run's failure story (start here): each failure's "
        "causal slice of events, the code of the functions involved, a passing instance, and "
        "what changed since the last good run.",
        "- `.autodev/summary.md`: verdicts per flow, for people.",
        "- `.autodev/runs/<run_id>/`: every kept run; `flowscribe runs` lists them, "
        "`flowscribe diff` compares the latest with the last good one.",
        "",
        "## How to work",
        "",
        "1. Read ask.md first; a failure line is where a problem was *detected*, its cause is "
        "often upstream (in the slice and the code it quotes).",
        "2. Propose a minimal patch and a test that fails before it and passes after it; keep "
        "the flow markers and their intent intact.",
        "3. Re-run the app and check `flowscribe diff`: the failure should be gone and "
        "nothing else should have changed.",
        "4. Use the recorded evidence as ground truth; never ask for secrets (redacted values "
        "stay redacted).",
    ]
    flows = list(catalog.flows.values())[:_MAX_FLOWS] if catalog is not None else []
    if flows:
        lines += ["", "## Flows in `.autodev/flows.yaml`", ""]
        for spec in flows:
            text = f"- {code(spec.id, 120)}"
            if spec.description:
                text += f": {escape(spec.description, 200)}"
            if not spec.enabled:
                text += " (disabled)"
            lines.append(text)
        if catalog is not None and len(catalog.flows) > _MAX_FLOWS:
            lines.append(f"- … and {len(catalog.flows) - _MAX_FLOWS} more")
    return "\n".join(lines) + "\n"
