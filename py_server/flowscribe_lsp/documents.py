"""Text the features look at: open documents (their current buffer) or files on disk.

Marker scans of open documents are cached per version (and re-parse only the top-level
blocks an edit touched, see :class:`~flowscribe_lsp.markers.MarkerScanner`), so lenses,
hovers and completion on a large file cost a lookup. Closed files are read from disk,
cached by mtime. Columns inside the server are code points; :func:`position`,
:func:`range_of` and :func:`char_index` convert to and from the client's position encoding
with pygls' :class:`~pygls.workspace.PositionCodec` for the encoding negotiated at
``initialize`` (UTF-8 for Neovim, UTF-16 for VS Code, UTF-32 where offered). The codec
is a required argument everywhere: a default once let a call count UTF-16 columns for a
UTF-8 client.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.workspace import PositionCodec

from .markers import MarkerScan, MarkerScanner, split_lines
from .paths import path_to_uri, regular_file, uri_to_path

if TYPE_CHECKING:
    from .server import FlowscribeServer

__all__ = ["UTF16", "Documents", "char_index", "position", "range_of"]

_DISK_CACHE = 256


#: The LSP default, for a client that negotiated nothing (and before ``initialize``).
UTF16 = PositionCodec(lsp.PositionEncodingKind.Utf16)


def position(lines: Sequence[str], line: int, col: int, codec: PositionCodec) -> lsp.Position:
    """The client position of code-point column ``col`` on ``line``, in ``codec``'s units."""
    line, col = max(line, 0), max(col, 0)
    # Past the end pygls answers (len(lines), 0): keep what we were given. On ASCII every
    # encoding counts alike, and lenses convert hundreds of positions per request.
    if line >= len(lines) or lines[line].isascii():
        return lsp.Position(line=line, character=col)
    return codec.position_to_client_units(lines, lsp.Position(line=line, character=col))


def range_of(lines: Sequence[str], line: int, start: int, end: int,
             codec: PositionCodec) -> lsp.Range:
    """The client range of code-point columns ``start``..``end`` on ``line``."""
    return lsp.Range(start=position(lines, line, start, codec),
                     end=position(lines, line, end, codec))


class Documents:
    """Open buffers and files on disk, with cached marker scans."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server
        self._scanners: dict[str, MarkerScanner] = {}
        self._scans: dict[str, tuple[int | None, MarkerScan]] = {}
        self._lines: dict[str, tuple[int | None, list[str]]] = {}
        self._disk: OrderedDict[Path, tuple[tuple[int, int], list[str]]] = OrderedDict()

    @property
    def codec(self) -> PositionCodec:
        """The codec of the position encoding negotiated with the client."""
        try:
            return self.server.workspace.position_codec
        except RuntimeError:  # no workspace before `initialize`
            return UTF16


    def is_open(self, uri: str) -> bool:
        try:
            return unquote(uri) in self.server.workspace.text_documents
        except RuntimeError:
            return False

    def open_uris(self) -> list[str]:
        try:
            return list(self.server.workspace.text_documents)
        except RuntimeError:
            return []

    def open_buffers(self) -> dict[Path, tuple[int, str]]:
        """Paths of open documents -> (version, text)."""
        out = {}
        for uri in self.open_uris():
            path = uri_to_path(uri)
            if path is not None:
                doc = self.server.workspace.get_text_document(uri)
                out[path] = (doc.version or 0, doc.source)
        return out

    def lines(self, uri: str) -> list[str] | None:
        """Lines (without line ends) of an open document, else of the file on disk."""
        if self.is_open(uri):
            doc = self.server.workspace.get_text_document(uri)
            hit = self._lines.get(uri)
            if hit is not None and hit[0] == doc.version and doc.version is not None:
                return hit[1]
            lines = split_lines(doc.source)
            self._lines[uri] = (doc.version, lines)
            return lines
        path = uri_to_path(uri)
        return self.disk_lines(path) if path is not None else None

    def disk_lines(self, path: Path) -> list[str] | None:
        st = regular_file(path)
        if st is None:
            return None
        sig = (st.st_mtime_ns, st.st_size)
        hit = self._disk.get(path)
        if hit is not None and hit[0] == sig:
            self._disk.move_to_end(path)
            return hit[1]
        if st.st_size > 8 << 20:
            return None
        try:
            lines = split_lines(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None
        self._disk[path] = (sig, lines)
        if len(self._disk) > _DISK_CACHE:
            self._disk.popitem(last=False)
        return lines

    def text_lines(self, path: Path) -> list[str] | None:
        """Lines of ``path``: the open buffer's if open."""
        return self.lines(path_to_uri(path))

    def markers(self, uri: str) -> MarkerScan | None:
        """The marker scan of an open Python document, cached per version."""
        if not uri.endswith(".py") or not self.is_open(uri):
            return None
        doc = self.server.workspace.get_text_document(uri)
        hit = self._scans.get(uri)
        if hit is not None and hit[0] == doc.version:
            return hit[1]
        scanner = self._scanners.get(uri)
        names = self.server.settings_for(uri_to_path(uri)).markers
        if scanner is None or scanner.names != names:
            scanner = self._scanners[uri] = MarkerScanner(names)
        scan = scanner.scan(doc.source)
        self._scans[uri] = (doc.version, scan)
        return scan

    def forget(self, uri: str) -> None:
        """Drop caches of a closed document."""
        self._scanners.pop(uri, None)
        self._scans.pop(uri, None)
        self._lines.pop(uri, None)

    def reset(self) -> None:
        """Drop every cache (marker names changed)."""
        self._scanners.clear()
        self._scans.clear()
        self._lines.clear()
        self._disk.clear()


def char_index(lines: Sequence[str], pos: lsp.Position, codec: PositionCodec) -> int:
    """The code-point column of a client position (inverse of :func:`position`)."""
    if not 0 <= pos.line < len(lines):
        return pos.character
    text = lines[pos.line]
    if text.isascii():
        return pos.character
    if pos.character >= codec.client_num_units(text):
        return len(text)  # pygls would clamp to the last character (and in place)
    return codec.position_from_client_units(lines, pos).character
