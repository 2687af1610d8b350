"""The LSP lifecycle: initialize, documents opening and changing, settings, folders.

Each notification is one method here; what it means for the features reaches them
through the server's hooks (:class:`~flowscribe_lsp.features.Feature`), never by this
module calling a feature.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from .paths import uri_to_path
from .settings import parse_settings

if TYPE_CHECKING:
    from .server import FlowscribeServer

__all__ = ["Lifecycle"]


class Lifecycle:
    """Registers the lifecycle notifications and turns them into server calls."""

    def __init__(self, server: FlowscribeServer) -> None:
        self.server = server
        handlers = {
            lsp.INITIALIZE: self.initialize,
            lsp.INITIALIZED: self.initialized,
            lsp.SHUTDOWN: self.shutdown,
            lsp.TEXT_DOCUMENT_DID_OPEN: self.did_open,
            lsp.TEXT_DOCUMENT_DID_CHANGE: self.did_change,
            lsp.TEXT_DOCUMENT_DID_SAVE: self.did_save,
            lsp.TEXT_DOCUMENT_DID_CLOSE: self.did_close,
            lsp.WORKSPACE_DID_CHANGE_CONFIGURATION: self.did_change_configuration,
            lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS: self.did_change_folders,
        }
        for method, handler in handlers.items():
            # Not server.handle(): these must not wait for the index to be ready.
            server.feature(method)(_plain(handler))

    def initialize(self, params: lsp.InitializeParams) -> None:
        server = self.server
        server.settings = parse_settings(params.initialization_options)
        folders = [(f.uri, p) for f in params.workspace_folders or []
                   if (p := uri_to_path(f.uri)) is not None]
        if not folders and params.root_uri:
            root = uri_to_path(params.root_uri)
            if root is not None:
                folders = [(params.root_uri, root)]
        elif not folders and params.root_path:
            folders = [(Path(params.root_path).as_uri(), Path(params.root_path))]
        server.set_folders(folders)
        server.watcher.configure(params.capabilities)
        server.expect_start()

    async def initialized(self, params: lsp.InitializedParams) -> None:
        await self.server.start()

    def shutdown(self, params: Any) -> None:
        self.server.stop()

    def did_open(self, params: lsp.DidOpenTextDocumentParams) -> None:
        self.server.document_changed(params.text_document.uri, delay=0)

    def did_change(self, params: lsp.DidChangeTextDocumentParams) -> None:
        self.server.each_feature("document_edited", params)
        self.server.document_changed(params.text_document.uri)

    def did_save(self, params: lsp.DidSaveTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        if path is not None and path.suffix == ".py":
            self.server.code_changed({path})

    def did_close(self, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.server.documents.forget(uri)
        self.server.each_feature("document_closed", uri)
        path = uri_to_path(uri)
        if path is not None and path.suffix == ".py":
            self.server.code_changed({path})
        self.server.document_changed(uri, delay=0)

    async def did_change_configuration(self, params: lsp.DidChangeConfigurationParams) -> None:
        """Settings sent (the window's) or not (``settings: null``): either way each
        folder's are pulled again where the client can answer for them."""
        server = self.server
        raw = params.settings
        if not raw and not server.watcher.can_pull_configuration:
            return
        await server.apply_settings(parse_settings(raw, server.settings) if raw
                                    else server.settings)

    async def did_change_folders(self, params: lsp.DidChangeWorkspaceFoldersParams) -> None:
        folders = dict(self.server.folders)
        for f in params.event.removed:
            folders.pop(f.uri, None)
        for f in params.event.added:
            p = uri_to_path(f.uri)
            if p is not None:
                folders[f.uri] = p
        self.server.set_folders(list(folders.items()))
        if self.server.started:
            await self.server.rebuild()


def _plain(method: Any) -> Any:
    """A plain function calling ``method``: pygls sets attributes on handlers, which a
    bound method cannot take."""
    if asyncio.iscoroutinefunction(method):
        async def run_async(params: Any) -> Any:
            return await method(params)
        return run_async

    def run(params: Any) -> Any:
        return method(params)
    return run
