"""Artifacts on demand: ``flowscribe.write_artifacts()`` in a session that goes on.

At a ``python -i``/IPython/Jupyter prompt the run ends only when the interpreter exits,
so summary.md and ask.md would wait for that. This writes those of the run so far (the
same path a signal with an app handler takes: flush, fold in other processes' lines,
render), and the session stays open: later flows go into the same run, and the next call,
or the end, writes the artifacts again.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from .core import Session

__all__ = ["write_artifacts"]


def write_artifacts(session: Session | None = None) -> None:
    """Write summary.md and ask.md of the run so far, without ending the session
    (default: the default session; nothing when none is open). Never raises."""
    if session is None:
        from . import _lifecycle

        session = _lifecycle.default
    if session is None:
        return
    try:
        session.write_so_far()
    except Exception as exc:
        from ._warn import warn_once

        warn_once("write-artifacts", f"writing the artifacts failed ({exc!r})")
