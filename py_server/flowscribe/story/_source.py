"""The code behind a story: the source of the functions its events were recorded in, with
the recorded lines marked, and one level of the workspace functions they call.

Only files inside the project root are read (resolved paths, regular files, at most
:data:`MAX_FILE_BYTES`); anything else is skipped silently, since a trace names whatever
paths it likes.
"""

from __future__ import annotations

import ast
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CodeBlock", "SourceReader"]

MAX_FILE_BYTES = 1_000_000
#: A function longer than this is shown as a window around its marked lines.
MAX_BLOCK_LINES = 60
_CONTEXT = 8


@dataclass
class CodeBlock:
    """The source of one function, numbered, with the lines a trace recorded marked."""

    file: str  # as the trace names it (relative to the root when inside it)
    function: str
    start: int
    end: int
    marked: set[int] = field(default_factory=set)
    text: str = ""
    why: str = ""

    def render(self) -> str:
        """Numbered lines; ``>>`` marks a line an event was recorded at."""
        out = []
        lines = self.text.splitlines()
        width = len(str(self.end))
        shown = _window(self.start, self.end, self.marked)
        last = None
        for n, line in enumerate(lines, self.start):
            if n not in shown:
                if last is not None and last == n - 1:
                    out.append(f"{'…':>{width}}")
                continue
            mark = ">>" if n in self.marked else "  "
            out.append(f"{n:>{width}} {mark} {line}")
            last = n
        return "\n".join(out)


def _window(start: int, end: int, marked: set[int]) -> set[int]:
    if end - start + 1 <= MAX_BLOCK_LINES or not marked:
        return set(range(start, min(end, start + MAX_BLOCK_LINES - 1) + 1))
    shown = set(range(start, start + 3))  # the signature
    for m in marked:
        shown.update(range(max(start, m - _CONTEXT), min(end, m + _CONTEXT) + 1))
    return shown


class SourceReader:
    """Reads and parses project files once each, refusing anything outside ``root``."""

    def __init__(self, root: Path | str | None) -> None:
        self.root = Path(root).resolve() if root else None
        self._files: dict[str, tuple[list[str], ast.Module | None] | None] = {}

    def _path(self, file: str) -> Path | None:
        if self.root is None or not file or "\x00" in file:
            return None
        p = Path(file)
        p = (p if p.is_absolute() else self.root / p)
        try:
            real = p.resolve()
            real.relative_to(self.root)
            st = os.stat(real)
        except (OSError, ValueError, RuntimeError):
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None
        return real

    def _load(self, file: str) -> tuple[list[str], ast.Module | None] | None:
        if file in self._files:
            return self._files[file]
        loaded = None
        path = self._path(file)
        if path is not None:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = None
            if text is not None:
                try:
                    tree: ast.Module | None = ast.parse(text)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    tree = None
                loaded = (text.splitlines(), tree)
        self._files[file] = loaded
        return loaded

    def function_at(self, file: str, line: int) -> CodeBlock | None:
        """The innermost function containing ``file:line`` (or a window of the module)."""
        loaded = self._load(file)
        if loaded is None or line < 1:
            return None
        lines, tree = loaded
        if line > len(lines):
            return None
        node = _innermost(tree, line) if tree is not None else None
        if node is None:
            start, end, name = max(1, line - _CONTEXT), min(len(lines), line + _CONTEXT), ""
        else:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            end = node.end_lineno or node.lineno
            name = node.name
        return CodeBlock(file=file, function=name or "<module>", start=start, end=end,
                         text="\n".join(lines[start - 1:end]))

    def callees(self, block: CodeBlock) -> list[tuple[str, int]]:
        """``(file, line)`` of the workspace functions called from ``block``'s function,
        resolved within its module and through its ``from … import`` / ``import`` lines."""
        loaded = self._load(block.file)
        if loaded is None or loaded[1] is None:
            return []
        tree = loaded[1]
        node = _innermost(tree, block.start + (block.end - block.start) // 2)
        if node is None:
            return []
        local = {n.name: n.lineno for n in tree.body
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        imported = _imports(tree)
        out: list[tuple[str, int]] = []
        for call in ast.walk(node):
            if not isinstance(call, ast.Call):
                continue
            target = self._resolve(block.file, call.func, local, imported)
            if target is not None and target not in out:
                out.append(target)
        return out

    def _resolve(self, file: str, func: ast.expr, local: dict[str, int],
                 imported: dict[str, tuple[str, str | None]]) -> tuple[str, int] | None:
        if isinstance(func, ast.Name):
            if func.id in local:
                return (file, local[func.id])
            if func.id in imported:
                module, name = imported[func.id]
                return self._def_in_module(file, module, name or func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            mod = imported.get(func.value.id)
            if mod is not None:
                module, name = mod
                return self._def_in_module(file, f"{module}.{name}" if name else module,
                                           func.attr)
        return None

    def _def_in_module(self, file: str, module: str, name: str) -> tuple[str, int] | None:
        for candidate in _module_files(file, module):
            loaded = self._load(candidate)
            if loaded is None or loaded[1] is None:
                continue
            for n in loaded[1].body:
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name:
                    return (candidate, n.lineno)
        return None


def _innermost(tree: ast.AST | None, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    best = None
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first <= line <= (node.end_lineno or node.lineno) and (
                    best is None or node.lineno >= best.lineno):
                best = node
    return best


def _imports(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    """Local name -> (module, attribute or None), for top-level imports."""
    out: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                out[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                out[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
    return out


def _module_files(file: str, module: str) -> Iterable[str]:
    """Where ``module`` could live, as paths relative to the root: beside ``file`` (the
    script's folder is first on sys.path) and from the root."""
    rel = module.replace(".", "/")
    here = str(Path(file).parent)
    bases = [here] if here not in ("", ".") else []
    bases.append("")
    for base in bases:
        stem = f"{base}/{rel}" if base else rel
        yield f"{stem}.py"
        yield f"{stem}/__init__.py"
