"""Where the user's code is: ``file``, ``line`` and ``function`` of a marker call.

flowscribe's own frames are skipped, so a marker reached through ``flowscribe.checkpoint``,
a ``with`` block or the ``traced`` wrapper reports the user's line. What a code object
resolves to (its path relative to the project root, POSIX, when inside it; its function
name; the JSON text of both) is computed once and cached, which is what keeps the call
site off the hot path's bill: per event only the line number is new.
"""

from __future__ import annotations

import os
import sys
from types import CodeType, FrameType, TracebackType

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Callable, Optional

    #: (file, function, JSON text up to the line number, JSON text after it), e.g.
    #: ``("app.py", "run", '"file":"app.py","line":', ',"function":"run",')``.
    CodeInfo = tuple[Optional[str], Optional[str], str, str]
    #: A call site: what its code object resolves to, and the line.
    Site = tuple[CodeInfo, Optional[int]]

__all__ = [
    "NO_SITE",
    "caller",
    "code_info",
    "display_path",
    "set_root",
    "site_of_code",
    "traceback_frames",
]

_UNKNOWN: CodeInfo = (None, None, '"file":null,"line":', ',"function":null,')
NO_SITE: Site = (_UNKNOWN, None)

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_MAX_CACHE = 20_000

_root = ""
_root_real = ""
#: code object -> what it resolves to, or None for flowscribe's own code.
_code_cache: dict[CodeType, CodeInfo | None] = {}
#: filename -> (display path, user code rather than the stdlib or an installed package),
#: or None for flowscribe's own files.
_file_cache: dict[str, tuple[str, bool] | None] = {}
_encode: Callable[[str], str] | None = None
#: Where the interpreter keeps the standard library and installed packages.
_LIBRARY_DIRS = tuple(
    {os.path.normcase(os.path.join(os.path.abspath(p), "lib") + os.sep)
     for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
)


def set_root(root: str) -> None:
    """Make paths relative to ``root`` from now on (the session's project root)."""
    global _root, _root_real
    _root = os.path.abspath(root)
    _root_real = os.path.realpath(root)
    _code_cache.clear()
    _file_cache.clear()


def _json_str(text: str) -> str:
    global _encode
    if _encode is None:
        from json.encoder import encode_basestring_ascii

        _encode = encode_basestring_ascii
    return _encode(text)


def _relative(path: str, root: str) -> str | None:
    if root and (path == root or path.startswith(root.rstrip(os.sep) + os.sep)):
        rel = os.path.relpath(path, root)
        return rel.replace(os.sep, "/")
    return None


def _is_library(path: str) -> bool:
    if "site-packages" in path or "dist-packages" in path:
        return True
    return os.path.normcase(path).startswith(_LIBRARY_DIRS)


def _resolve_file(filename: str) -> tuple[str, bool] | None:
    if filename.startswith("<"):  # <string>, <stdin>, <frozen ...>
        return filename, not filename.startswith("<frozen")
    path = os.path.abspath(filename)
    if path.startswith(_PACKAGE_DIR):
        return None
    user_code = not _is_library(path)
    rel = _relative(path, _root)
    if rel is None:
        real = os.path.realpath(path)
        if real.startswith(_PACKAGE_DIR):
            return None
        rel = _relative(real, _root_real)
    if rel is None:
        return path.replace(os.sep, "/"), user_code
    return rel, user_code


def _file_info(filename: str) -> tuple[str, bool] | None:
    try:
        return _file_cache[filename]
    except KeyError:
        pass
    if len(_file_cache) > _MAX_CACHE:
        _file_cache.clear()
    info = _file_cache[filename] = _resolve_file(filename)
    return info


def display_path(filename: str) -> str | None:
    """The trace's ``file`` for a code filename; None for flowscribe's own files."""
    info = _file_info(filename)
    return None if info is None else info[0]


def code_info(code: CodeType) -> CodeInfo | None:
    """What ``code`` resolves to (cached); None for flowscribe's own code."""
    try:
        return _code_cache[code]
    except KeyError:
        pass
    finfo = _file_info(code.co_filename)
    result: CodeInfo | None = None
    if finfo is not None:
        name = getattr(code, "co_qualname", code.co_name)
        result = (
            finfo[0],
            name,
            f'"file":{_json_str(finfo[0])},"line":',
            f',"function":{_json_str(name)},',
        )
    if len(_code_cache) > _MAX_CACHE:
        _code_cache.clear()
    _code_cache[code] = result
    return result


def caller(frame: FrameType | None = None) -> Site:
    """The innermost non-flowscribe frame, starting at ``frame`` (default: our caller)."""
    f: FrameType | None = frame if frame is not None else sys._getframe(1)
    cache = _code_cache
    while f is not None:
        code = f.f_code
        try:
            info = cache[code]
        except KeyError:
            info = code_info(code)
        if info is not None:
            return info, f.f_lineno
        f = f.f_back
    return NO_SITE


def site_of_code(code: CodeType) -> Site:
    """The definition site of a function (its first decorator line, as Python reports it)."""
    info = code_info(code)
    return NO_SITE if info is None else (info, code.co_firstlineno)


def traceback_frames(
    tb: TracebackType | None, limit: int = 50
) -> tuple[list[dict[str, object]], Site]:
    """The frames of a traceback (outermost first, ours left out) and the raising site.

    The raising site is the innermost frame of user code (not the standard library, not
    an installed package), so an error raised deep in a library is placed on the user's
    line that called into it; if there is none, the innermost frame at all.
    """
    frames: list[dict[str, object]] = []
    site: Site = NO_SITE
    fallback: Site = NO_SITE
    while tb is not None:
        code = tb.tb_frame.f_code
        info = code_info(code)
        if info is not None:
            line = tb.tb_lineno
            frames.append({"file": info[0], "line": line, "function": info[1]})
            fallback = (info, line)
            finfo = _file_info(code.co_filename)
            if finfo is not None and finfo[1]:
                site = fallback
        tb = tb.tb_next
    if len(frames) > limit:
        frames = frames[-limit:]
    return frames, site if site is not NO_SITE else fallback
