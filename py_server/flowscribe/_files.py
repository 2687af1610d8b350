"""Files that someone else may have put in place: reading them bounded, replacing them whole.

A config, catalog or trace can be a FIFO (a reader would block forever), a device or a link
to one (``/dev/zero`` never ends), or simply huge. Every read of such a file goes through
here: opened non-blocking and checked on the open descriptor (no race between the check and
the open), and read up to a limit. Every file flowscribe replaces whole (artifacts, the
registry of live runs, the parsed-config cache) is written by :func:`write_text_atomic`.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MAX_CONFIG_BYTES", "open_regular", "read_regular", "write_text_atomic"]

#: ra.yaml and flows.yaml larger than this are refused (a real one is a few KB).
MAX_CONFIG_BYTES = 4 * 1024 * 1024


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for binary reading; raise OSError unless it is a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str], limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes; OSError otherwise
    (``FileNotFoundError`` when it does not exist)."""
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // (1024 * 1024)} MiB", os.fspath(path))
    return data


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``, so a reader
    never sees half a file, and a link at ``path`` is replaced, never written through."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:  # noqa: SIM105 - contextlib costs import time
        os.unlink(tmp)  # a stale one, or a link planted there: O_EXCL never follows it
    except FileNotFoundError:
        pass
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o644)
        with open(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib costs import time
            os.unlink(tmp)
        except OSError:
            pass
        raise
