"""Flow marker calls in Python source: where the code names a flow.

A marker is a call of one of the configured names (``start_flow``, ``flow``, ``traced``
by default) whose flow id is a string literal: ``session.flow("orders/submit")``,
``@flowscribe.traced("indicators/ema/compute")``, ``start_flow(flow_id="x")``. Files are
parsed with :mod:`ast`; while a file has a syntax error (mid-edit), a tolerant regex scan
keeps lenses and checks working.

Columns here are code points (Python string indexes); the server converts them to the
client's position encoding.
"""

from __future__ import annotations

import ast
import logging
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "MAX_BUFFER_CHARS",
    "Marker",
    "MarkerScan",
    "MarkerScanner",
    "completion_prefix",
    "scan_source",
    "split_lines",
    "string_at",
]

log = logging.getLogger("flowscribe_lsp")

#: Largest open buffer scanned for markers. Buffers are scanned on the request path (the
#: first scan parses every block: about 1 s per MB), so a generated or data-sized file
#: opened in the editor would stall every other request; beyond this it has no markers
#: (one log line). Files on disk are scanned on the index worker with their own limit.
MAX_BUFFER_CHARS = 512 * 1024

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_ODD_BREAK = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """Lines as LSP and Python's tokenizer count them: only ``\\n``, ``\\r\\n`` and
    ``\\r`` end a line (``str.splitlines`` also splits at form feeds and other
    separators, which would shift every line after one)."""
    if not _ODD_BREAK.search(text):
        return text.splitlines(keepends)  # the same when no other separator occurs
    lines = _LINE.findall(text)
    return lines if keepends else [ln.rstrip("\r\n") for ln in lines]


@dataclass(frozen=True)
class Marker:
    """One marker call with a literal flow id. Lines and columns are 0-based."""

    flow_id: str
    name: str
    #: The call (``session.flow(...)``): where lenses go.
    call_line: int
    call_col: int
    #: The id's string literal, quotes included.
    line: int
    start: int
    end: int
    #: The id's characters inside the quotes, when the literal is a plain one-line
    #: ``"..."``/``'...'`` (so an edit can replace exactly the id); else the literal.
    value_start: int
    value_end: int

    def contains(self, line: int, character: int) -> bool:
        """True if the position is on the id literal."""
        return line == self.line and self.start <= character <= self.end


@dataclass(frozen=True)
class MarkerScan:
    """The markers of one text."""

    markers: tuple[Marker, ...]
    #: True when the text did not parse and the tolerant scan found these.
    tolerant: bool = False
    syntax_error: str | None = None
    #: True when the text was over the scanner's size limit and was not scanned.
    too_large: bool = False

    def at(self, line: int, character: int) -> Marker | None:
        """The marker whose id literal covers the position."""
        for m in self.markers:
            if m.contains(line, character):
                return m
        return None


def scan_source(text: str, names: Sequence[str]) -> MarkerScan:
    """Find the marker calls in ``text`` (one-off, no size limit: for the index worker,
    which caps file sizes itself; see :class:`MarkerScanner`)."""
    return MarkerScanner(names, max_chars=None).scan(text)


class MarkerScanner:
    """Scans successive versions of texts, re-parsing only the top-level blocks that changed.

    A module is cut into top-level blocks (a ``def`` with its decorators, a statement),
    and each block is parsed with :mod:`ast` on its own and cached by its text, so after an
    edit only the edited block is parsed again: a 10,000-line file costs one full parse
    when it is opened, then a few milliseconds per edit. A block that does not parse alone
    is merged with the blocks after it (the cut was wrong, e.g. inside a string); one that
    still does not parse has a real syntax error and gets the tolerant scan.
    """

    MAX_MERGE = 8

    def __init__(self, names: Sequence[str], max_chars: int | None = MAX_BUFFER_CHARS) -> None:
        self.names = tuple(names)
        self.max_chars = max_chars
        self._cache: dict[str, tuple[tuple[Marker, ...], str | None]] = {}
        self._told_too_large = False

    def scan(self, text: str) -> MarkerScan:
        """The markers of ``text`` (none for a text over ``max_chars``); never raises."""
        names = self.names
        if self.max_chars is not None and len(text) > self.max_chars:
            self._cache = {}
            if not self._told_too_large:  # once per document, not once per keystroke
                self._told_too_large = True
                log.warning("a %d-character Python buffer is over the %d-character limit: "
                            "its flow markers are not scanned", len(text), self.max_chars)
            return MarkerScan((), too_large=True)
        self._told_too_large = False
        if not names or not any(n in text for n in names):
            self._cache = {}
            return MarkerScan(())
        mentions = _names_re(names).search
        starts = _block_starts(text)
        starts.append(len(text))
        fresh: dict[str, tuple[tuple[Marker, ...], str | None]] = {}
        found: list[Marker] = []
        error: str | None = None
        line = 0  # the line where block i starts
        i = 0
        while i < len(starts) - 1:
            a, b = starts[i], starts[i + 1]
            i += 1
            chunk = text[a:b]
            if mentions(chunk) is not None:
                hit = self._parse(chunk, fresh)
                merged = 0
                while hit[1] is not None and i < len(starts) - 1 and merged < self.MAX_MERGE:
                    i += 1
                    merged += 1
                    b = starts[i]
                    chunk = text[a:b]
                    hit = self._parse(chunk, fresh)
                markers, err = hit
                if err is not None and error is None:
                    error = f"{err} (near line {line + 1})"
                found.extend(_shift(m, line) for m in markers) if line else found.extend(markers)
            line += text.count("\n", a, b)
        self._cache = fresh
        return MarkerScan(tuple(found), tolerant=error is not None, syntax_error=error)


    def _parse(self, chunk: str, fresh: dict[str, tuple[tuple[Marker, ...], str | None]]
               ) -> tuple[tuple[Marker, ...], str | None]:
        """A block's markers, from the last scan's cache or parsed now. Failures are
        cached too, so a broken block costs lookups, not parses, until it changes."""
        hit = self._cache.get(chunk) or fresh.get(chunk)
        if hit is None:
            hit = _parse_block(chunk, self.names)
        fresh[chunk] = hit
        return hit


def _parse_block(chunk: str, names: tuple[str, ...]) -> tuple[tuple[Marker, ...], str | None]:
    try:
        tree = ast.parse(chunk)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return _tolerant(chunk, names), str(getattr(exc, "msg", exc))
    return _from_ast(tree, chunk, frozenset(names)), None


def _shift(m: Marker, by: int) -> Marker:
    return Marker(m.flow_id, m.name, m.call_line + by, m.call_col, m.line + by, m.start,
                  m.end, m.value_start, m.value_end)


_TRIPLE = re.compile(r"\"\"\"|\'\'\'")
#: A line that starts in column 0 with code (a candidate block start).
_COLUMN_0 = re.compile(r"^[^\s#)\]}]", re.MULTILINE)
_CONTINUES = re.compile(r"(?:else|elif|except|finally|case)\b")
_LONE_CR = re.compile(r"\r(?!\n)")


@lru_cache(maxsize=16)
def _names_re(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in names))


def _block_starts(text: str) -> list[int]:
    """Offsets where the top-level blocks of a module start (the first is 0).

    A block starts at a line beginning in column 0 with code, unless that line continues
    the block before (``else:``, ``except:``, a ``def`` after its decorators) or sits
    inside a triple-quoted string. Heuristic on purpose: :class:`MarkerScanner` checks
    every block with ``ast`` and merges blocks when the cut was wrong. Works on the text
    with C-level searches, so its cost grows with the number of blocks, not of lines.
    """
    if _LONE_CR.search(text):
        return [0]  # old Mac line ends: "\n" counts would be wrong; one block is right
    strings = []
    open_quote, opened = None, 0
    for m in _TRIPLE.finditer(text):
        if open_quote is None:
            open_quote, opened = m.group(), m.start()
        elif m.group() == open_quote:
            strings.append((opened, m.end()))
            open_quote = None
    if open_quote is not None:
        strings.append((opened, len(text)))
    starts = [0]
    attach = text.startswith("@")  # the next column-0 line belongs to this decorator
    k = 0
    for m in _COLUMN_0.finditer(text):
        pos = m.start()
        if pos == 0:
            continue
        while k < len(strings) and strings[k][1] <= pos:
            k += 1
        if k < len(strings) and strings[k][0] < pos:
            continue  # inside a string
        decorator = text[pos] == "@"
        if attach:
            attach = decorator
            continue
        if _CONTINUES.match(text, pos):
            continue
        starts.append(pos)
        attach = decorator
    return starts


def _from_ast(tree: ast.AST, text: str, names: frozenset[str]) -> tuple[Marker, ...]:
    lines: list[str] | None = None
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else None)
        if name not in names:
            continue
        arg: ast.expr | None = node.args[0] if node.args else None
        if arg is None:
            arg = next((k.value for k in node.keywords if k.arg == "flow_id"), None)
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)) or not arg.value:
            continue
        if lines is None:
            lines = split_lines(text)
        line = arg.lineno - 1
        start = _col(lines, line, arg.col_offset)
        end_line = (arg.end_lineno or arg.lineno) - 1
        end = _col(lines, line, arg.end_col_offset) if end_line == line else len(
            lines[line] if line < len(lines) else "")
        vs, ve = _value_span(lines[line] if line < len(lines) else "", start, end, arg.value)
        found.append(Marker(arg.value, name, node.lineno - 1,
                            _col(lines, node.lineno - 1, node.col_offset),
                            line, start, end, vs, ve))
    found.sort(key=lambda m: (m.line, m.start))
    return tuple(found)


def _col(lines: list[str], line: int, byte_col: int | None) -> int:
    """ast columns count UTF-8 bytes; convert to code points."""
    if byte_col is None or line >= len(lines):
        return 0
    s = lines[line]
    if s.isascii():
        return byte_col
    return len(s.encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _value_span(line: str, start: int, end: int, value: str) -> tuple[int, int]:
    lit = line[start:end]
    if len(lit) >= 2 and lit[0] == lit[-1] and lit[0] in "'\"" and lit[1:-1] == value:
        return start + 1, end - 1
    return start, end


@lru_cache(maxsize=16)
def _tolerant_re(names: tuple[str, ...]) -> re.Pattern[str]:
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"(?<![\w])(?P<name>{alt})\s*\(\s*(?:flow_id\s*=\s*)?(?P<q>['\"])(?P<id>[^'\"\\\n]+)(?P=q)"
    )


def _tolerant(text: str, names: tuple[str, ...]) -> tuple[Marker, ...]:
    starts = [0]
    starts += [m.end() for m in re.finditer("\n", text)]
    found = []
    for m in _tolerant_re(names).finditer(text):
        call_line = bisect_right(starts, m.start("name")) - 1
        call_col = m.start("name") - starts[call_line]
        before = text[starts[call_line]:m.start("name")]
        if "#" in before:
            continue  # most likely a comment
        line = bisect_right(starts, m.start("q")) - 1
        start = m.start("q") - starts[line]
        end = m.end() - starts[line]
        found.append(Marker(m.group("id"), m.group("name"), call_line, call_col,
                            line, start, end, start + 1, end - 1))
    return tuple(found)


@lru_cache(maxsize=16)
def _prefix_re(names: tuple[str, ...]) -> re.Pattern[str]:
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        rf"(?<![\w])(?:{alt})\s*\(\s*(?:flow_id\s*=\s*)?(?P<q>['\"])(?P<typed>[^'\"\\]*)$")


def completion_prefix(line_text: str, character: int, names: Sequence[str]
                      ) -> tuple[int, str] | None:
    """If the cursor sits inside a marker call's flow-id string, ``(column of the id's
    first character, what is typed so far)``."""
    if not names:
        return None
    m = _prefix_re(tuple(names)).search(line_text[:character])
    if m is None:
        return None
    return m.start("typed"), m.group("typed")


_STRING = re.compile(r"""(?P<q>['"])(?P<s>[^'"\\\n]*)(?P=q)""")


def string_at(line_text: str, character: int) -> tuple[str, int, int] | None:
    """The simple string literal covering ``character`` on a line: (value, start, end),
    quotes included in the span."""
    for m in _STRING.finditer(line_text):
        if m.start() <= character <= m.end():
            return m.group("s"), m.start(), m.end()
        if m.start() > character:
            break
    return None
