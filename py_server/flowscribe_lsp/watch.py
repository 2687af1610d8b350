"""Noticing changes: the client's file watcher where it offers one, polling otherwise.

With ``workspace/didChangeWatchedFiles`` dynamic registration, the client tells us when
artifacts, catalogs or Python files change, and the refresh loop runs at once. Without
it (or in addition: watchers coalesce and some ignore folders), the refresh loop polls
every :data:`~flowscribe_lsp.server.POLL_S` seconds: a ``stat`` of each trace and catalog,
which is cheap, and a walk of the Python files every few seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from .paths import uri_to_path

if TYPE_CHECKING:
    from .server import FlowscribeServer

__all__ = ["Watcher"]

_REGISTRATION_ID = "flowscribe-watch"


class Watcher:
    """Registers file watches with the client and routes their events."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server
        self.client_can_watch = False
        self.can_pull_configuration = False
        self.registered = False
        self._globs_registered: list[str] = []
        server.handle(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)(self.on_changes)

    @property
    def watches_code(self) -> bool:
        """True when the client reports Python file changes (no periodic walk needed)."""
        return self.registered

    def configure(self, caps: lsp.ClientCapabilities) -> None:
        ws = caps.workspace
        watched = ws.did_change_watched_files if ws is not None else None
        self.client_can_watch = bool(watched and watched.dynamic_registration)
        self.can_pull_configuration = bool(ws and ws.configuration)

    def _globs(self) -> list[str]:
        folders = self.server.index.folders.values()
        adirs = {f.settings.artifacts_dir for f in folders} or {self.server.settings.artifacts_dir}
        globs = ["**/*.py", "**/flows.yaml", "**/ra.yaml"]
        globs += sorted(f"**/{a.strip('/')}/**" for a in adirs if not Path(a).is_absolute())
        return globs

    async def register(self) -> None:
        """(Re-)register our watchers if what they must cover changed (every folder's
        artifacts folder); on failure the polling fallback covers us."""
        if not self.client_can_watch:
            return
        globs = self._globs()
        if self.registered and globs == self._globs_registered:
            return
        server = self.server
        try:
            if self.registered:
                await server.client_unregister_capability_async(lsp.UnregistrationParams(
                    unregisterations=[lsp.Unregistration(
                        id=_REGISTRATION_ID, method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)]))
                self.registered = False
            options = lsp.DidChangeWatchedFilesRegistrationOptions(
                watchers=[lsp.FileSystemWatcher(glob_pattern=g) for g in globs])
            await server.client_register_capability_async(lsp.RegistrationParams(
                registrations=[lsp.Registration(
                    id=_REGISTRATION_ID, method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=options)]))
            self.registered = True
            self._globs_registered = globs
        except Exception as exc:  # the client said no: poll instead
            self.registered = False
            server.log(f"file watching not available ({exc}); polling instead",
                       lsp.MessageType.Info)

    def on_changes(self, params: lsp.DidChangeWatchedFilesParams) -> None:
        code: set[Path] = set()
        for change in params.changes:
            path = uri_to_path(change.uri)
            if path is not None and path.suffix == ".py":
                code.add(path)
        if code:
            self.server.code_changed(code)
        else:
            self.server.wake()
