"""Entry point of the bundled flowscribe language server.

The extension runs ``<python> -I -S -X utf8 bundled/tool/lsp_server.py``. ``-I`` keeps PYTHONPATH,
the user site-packages and the current directory (the user's workspace) off ``sys.path``, ``-S``
the interpreter's site-packages too (and skips their ``.pth`` files, which only cost start-up
time); this script then puts the bundled libraries first, so the server runs on any
Python >= 3.9 without pip.

Development hooks (environment variables, set by .vscode/launch.json):
  FLOWSCRIBE_SERVER_SRC   a folder searched before the bundled libs (e.g. the repo's py_server)
  FLOWSCRIBE_DEBUG_PORT   wait for a debugpy client on this port before serving
"""

from __future__ import annotations

import gc
import importlib
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIBS = os.path.join(os.path.dirname(HERE), "libs")


def _prepend(path: str) -> None:
    if path and os.path.isdir(path) and path not in sys.path:
        sys.path.insert(0, path)


def _debug(port_text: str) -> None:
    try:
        import site

        # debugpy lives in the interpreter's site-packages, which -S left off sys.path; they go
        # after the bundled libraries, so the server still runs on those.
        site.main()
        import debugpy  # type: ignore[import-not-found]

        debugpy.listen(("127.0.0.1", int(port_text)))
        sys.stderr.write(f"flowscribe server: waiting for a debugger on port {port_text}\n")
        debugpy.wait_for_client()
    except Exception as exc:  # a failed debug hook must not stop the server
        sys.stderr.write(f"flowscribe server: debugpy not attached ({exc})\n")


def _import_server() -> None:
    """Imports the server with the garbage collector paused (measured: 40-60 ms less start-up).

    Importing lsprotocol creates many long-lived objects, which trigger full collections that
    find nothing to free. ``gc.freeze`` then keeps these objects out of later collections.
    """
    gc.disable()
    try:
        importlib.import_module("flowscribe_lsp.server")
    finally:
        gc.enable()
        gc.freeze()


def main() -> None:
    if sys.version_info < (3, 9):  # noqa: UP036 - this check is for older interpreters
        sys.stderr.write("flowscribe server needs Python 3.9 or newer\n")
        raise SystemExit(2)
    _prepend(LIBS)
    _prepend(os.environ.get("FLOWSCRIBE_SERVER_SRC", ""))
    port = os.environ.get("FLOWSCRIBE_DEBUG_PORT", "")
    if port:
        _debug(port)
    _import_server()
    runpy.run_module("flowscribe_lsp", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
