"""A parsed ``ra.yaml`` or ``flows.yaml`` kept beside it, so that a start skips PyYAML.

Importing PyYAML and composing a document cost a start about 15 ms, more than the rest
of ``init()``, and these files change rarely. :func:`load_yaml_cached` returns the
document of a file's text from ``.autodev/cache/<name>.json`` when that file holds the
same text, else parses it (:func:`flowscribe._yamlpos.load_yaml`) and saves the result
there for the next start.

The cache only ever saves time, and is as untrusted as anything in a cloned repository:

- it is JSON, read with ``json.loads`` and type-checked field by field; anything out of
  shape is ignored and the text is parsed as if there were no cache;
- it is used only when the text it was made from equals the file's text exactly, so an
  edit (even within the file system's clock tick) is never missed;
- a document JSON cannot hold as it is (dates, binary, sets, keys that are not strings,
  non-finite numbers) is not saved, nor is a text over :data:`MAX_CACHED_TEXT`;
- it is written whole (``_files.write_text_atomic``: no reader sees half of one, never
  through a link), and only in a ``cache`` folder that is a real folder; every failure
  to write is silent.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

from ._files import read_regular, write_text_atomic
from ._yamlpos import Path_, Span, YamlDoc, YamlIssue, load_yaml

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CACHE_DIR", "MAX_CACHED_TEXT", "load_yaml_cached"]

#: The folder, inside ``.autodev``, that holds the parsed documents.
CACHE_DIR = "cache"
#: Texts longer than this (characters) are parsed every time: a real config is a few KB.
MAX_CACHED_TEXT = 512 * 1024
_FORMAT = "flowscribe-yaml"
_VERSION = 1


def load_yaml_cached(text: str, cache_dir: str | os.PathLike[str], name: str) -> YamlDoc:
    """The document of ``text`` (the file ``name``), from ``cache_dir`` when it holds it."""
    if len(text) > MAX_CACHED_TEXT:
        return load_yaml(text)
    file = os.path.join(cache_dir, f"{name}.json")
    doc = _read(file, text)
    if doc is None:
        doc = load_yaml(text)
        _write(cache_dir, file, text, doc)
    return doc


# -- reading ---------------------------------------------------------------------------


class _Bad(Exception):
    """The cache is out of shape: parse the text instead."""


def _read(file: str, text: str) -> YamlDoc | None:
    try:
        raw = read_regular(file, MAX_CACHED_TEXT * 16)
        obj = json.loads(raw)
        if not (isinstance(obj, dict) and obj.get("format") == _FORMAT
                and obj.get("version") == _VERSION and obj.get("text") == text):
            return None
        return YamlDoc(
            data=obj["data"],
            values={_path(p): Span(*_ints(s, 4)) for p, s in _pairs(obj["values"])},
            keys={_path(p): Span(*_ints(s, 4)) for p, s in _pairs(obj["keys"])},
            items={_path(p): _position(s) for p, s in _pairs(obj["items"])},
            issues=[_issue(i) for i in _list(obj["issues"])],
            parsed=_bool(obj["parsed"]),
        )
    except (OSError, ValueError, KeyError, TypeError, _Bad, RecursionError):
        return None


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise _Bad
    return value


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    out = []
    for pair in _list(value):
        if type(pair) is not list or len(pair) != 2:
            raise _Bad
        out.append((pair[0], pair[1]))
    return out


def _path(value: Any) -> Path_:
    for part in _list(value):
        if type(part) is not str and type(part) is not int:
            raise _Bad
    return tuple(value)


def _ints(value: Any, n: int) -> tuple[int, ...]:
    if len(_list(value)) != n or any(type(v) is not int for v in value):
        raise _Bad
    return tuple(value)


def _position(value: Any) -> tuple[int, int]:
    line, column = _ints(value, 2)
    return line, column


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _Bad
    return value


def _issue(value: Any) -> YamlIssue:
    line, column, message, path, severity = _list(value)
    if type(line) is not int or type(column) is not int or type(message) is not str \
            or severity not in ("error", "warning"):
        raise _Bad
    return YamlIssue(line, column, message, _path(path), severity)


# -- writing ---------------------------------------------------------------------------


def _plain(value: Any, depth: int = 0) -> bool:
    """``value`` is what JSON gives back as it is (no tuples, sets, dates, bytes)."""
    if depth > 100:
        return False
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_plain(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def _write(cache_dir: str | os.PathLike[str], file: str, text: str, doc: YamlDoc) -> None:
    if not _plain(doc.data):
        return
    obj = {
        "format": _FORMAT,
        "version": _VERSION,
        "text": text,
        "data": doc.data,
        "values": [[p, [s.line, s.column, s.end_line, s.end_column]]
                   for p, s in doc.values.items()],
        "keys": [[p, [s.line, s.column, s.end_line, s.end_column]]
                 for p, s in doc.keys.items()],
        "items": [[p, list(pos)] for p, pos in doc.items.items()],
        "issues": [[i.line, i.column, i.message, i.path, i.severity] for i in doc.issues],
        "parsed": doc.parsed,
    }
    try:
        payload = json.dumps(obj, separators=(",", ":"))
        try:  # noqa: SIM105 - contextlib costs import time
            os.mkdir(cache_dir, 0o755)
        except FileExistsError:
            pass
        if not stat.S_ISDIR(os.lstat(cache_dir).st_mode):  # a link: never written through
            return
        write_text_atomic(Path(file), payload)
    except (OSError, ValueError, TypeError, RecursionError):
        pass  # a read-only folder, a full disk, a link: the next start parses again
