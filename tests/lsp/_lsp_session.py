"""A thin layer over pytest-lsp's client: start a session on workspace folders, open
documents, wait for what the server publishes, call custom requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, client_capabilities

T = TypeVar("T")
#: A guard against hanging forever, not a speed requirement (tests assert no timings).
WAIT_S = 20.0


def uri(path: Path) -> str:
    return path.as_uri()


def accept_server_requests(client: LanguageClient) -> None:
    """Answer what a real editor answers: watcher registrations and lens refreshes."""
    client.registrations = []  # type: ignore[attr-defined]
    client.lens_refreshes = 0  # type: ignore[attr-defined]

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(params: lsp.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    @client.feature(lsp.CLIENT_UNREGISTER_CAPABILITY)
    def unregister(params: lsp.UnregistrationParams) -> None:
        return None

    @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(params: None) -> None:
        client.lens_refreshes += 1  # type: ignore[attr-defined]


class Session:
    """One client session with the server under test."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.versions: dict[str, int] = {}
        self.notifications: list[tuple[str, Any]] = []

        @client.feature("flowscribe/runsChanged")
        def runs_changed(params: Any) -> None:
            self.notifications.append(("flowscribe/runsChanged", _plain(params)))

    async def start(self, *folders: Path, options: dict[str, Any] | None = None,
                    capabilities: str | lsp.ClientCapabilities = "visual-studio-code"
                    ) -> lsp.InitializeResult:
        caps = (client_capabilities(capabilities) if isinstance(capabilities, str)
                else capabilities)
        result = await self.client.initialize_session(lsp.InitializeParams(
            capabilities=caps,
            root_uri=uri(folders[0]) if folders else None,
            workspace_folders=[lsp.WorkspaceFolder(uri=uri(f), name=f.name) for f in folders],
            initialization_options=options,
        ))
        return result

    # -- waiting ------------------------------------------------------------------------
    async def wait_until(self, check: Callable[[], T], what: str = "condition",
                         timeout: float = WAIT_S) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    def diagnostics(self, path: Path, source: str | None = None) -> list[lsp.Diagnostic]:
        found = self.client.diagnostics.get(uri(path), [])
        return [d for d in found if source is None or d.source == source]

    async def wait_diagnostics(self, path: Path, check: Callable[[list[lsp.Diagnostic]], bool],
                               source: str | None = None, what: str = "diagnostics"
                               ) -> list[lsp.Diagnostic]:
        def ok() -> list[lsp.Diagnostic] | None:
            d = self.diagnostics(path, source)
            return d if check(d) else None

        result = await self.wait_until(lambda: ok() is not None, f"{what} on {path.name}")
        assert result
        return self.diagnostics(path, source)

    async def settle(self, seconds: float = 1.0) -> None:
        """Give the server time to (not) publish something; used to check absences."""
        await asyncio.sleep(seconds)

    # -- documents ----------------------------------------------------------------------
    def open(self, path: Path, text: str | None = None, language: str = "python") -> str:
        u = uri(path)
        self.versions[u] = 1
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=u, language_id=language, version=1,
                text=path.read_text() if text is None else text)))
        return u

    def edit(self, path: Path, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        u = uri(path)
        self.versions[u] = self.versions.get(u, 1) + 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=u, version=self.versions[u]),
            content_changes=[lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(line=start[0], character=start[1]),
                                end=lsp.Position(line=end[0], character=end[1])),
                text=text)]))

    def close(self, path: Path) -> None:
        self.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(path))))

    # -- requests -----------------------------------------------------------------------
    async def lenses(self, path: Path) -> list[lsp.CodeLens]:
        result = await self.client.text_document_code_lens_async(lsp.CodeLensParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(path))))
        return list(result or [])

    async def hover(self, path: Path, line: int, character: int) -> str | None:
        result = await self.client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
            position=lsp.Position(line=line, character=character)))
        if result is None:
            return None
        contents = result.contents
        assert isinstance(contents, lsp.MarkupContent)
        return contents.value

    async def request(self, method: str, params: Any = None) -> Any:
        result = await self.client.protocol.send_request_async(method, params)
        return _plain(result)

    def notify_watched(self, *changes: tuple[Path, lsp.FileChangeType]) -> None:
        self.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=uri(p), type=t) for p, t in changes]))

    def log_text(self) -> str:
        return "\n".join(m.message for m in self.client.log_messages)


def _plain(value: Any) -> Any:
    """Results of custom requests arrive as namedtuples: back to JSON-like values."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def find_line(path: Path, needle: str, start: int = 0) -> int:
    """0-based index of the first line containing ``needle``."""
    for n, text in enumerate(path.read_text().splitlines()):
        if n >= start and needle in text:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def col(path: Path, line: int, needle: str) -> int:
    return path.read_text().splitlines()[line].index(needle)


def position_of(path: Path, needle: str, within: str = "", offset: int = 1) -> lsp.Position:
    """The position ``offset`` characters into ``needle`` on the first line containing
    ``within`` (default: ``needle`` itself)."""
    line = find_line(path, within or needle)
    return lsp.Position(line=line, character=col(path, line, needle) + offset)


async def wait_flows(session: Session) -> dict[str, Any]:
    """`flowscribe/flows` by id, once the run is read and the code scanned (both happen in
    the background)."""
    for _ in range(400):
        nodes = (await session.request("flowscribe/flows", {}))["flows"]
        if any(n["status"] not in ("never_run", "disabled") for n in nodes) and \
                any(n["markers"] for n in nodes):
            return {n["id"]: n for n in nodes}
        await session.settle(0.05)
    raise AssertionError("flows never showed run results")


def messages(diags: Sequence[lsp.Diagnostic]) -> list[str]:
    return [d.message for d in diags]
