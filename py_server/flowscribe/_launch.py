"""One launch is one run: which run a process that starts tracing belongs to, and which
of the run's processes writes its artifacts.

A *launch* is what the user started: ``python app.py``, ``gunicorn app:app -w 4``,
``uvicorn app:app --workers 2``. Processes a traced process starts find its run in their
environment (``_children.py``); this module covers the rest, processes that begin
tracing on their own while their parent never did: gunicorn's workers (forked before
they import the app), uvicorn's (spawned by multiprocessing), a pool's workers under an
untraced parent. Such a process walks up the process tree while it is a copy of its
parent (a fork that started no program since: the same auxiliary vector, see
:func:`_is_copy`) or a multiprocessing helper (``spawn_main``, the forkserver); where that
stops is the launch's root, named by its pid and start time, so a later process that got
the same pid is another launch. A second
``python app.py`` typed in another terminal has the shell as its parent, with another
command line: it is a launch of its own, and never joins this one. Only Linux tells this
cheaply (``/proc``); elsewhere each process that starts tracing by itself starts a run.

The registry (``.autodev/live/``, every change under an ``flock`` of ``live/.lock``)::

    launch-<root pid>-<root start>     the run id of that launch's run
    <run id>+<pid>-<start>-<program>-<token>   one file per live session of the run

The first process of a launch to take the lock names the run (and points ``latest`` at
it); its siblings find the name and join. Every session of a run, whichever way it
joined, holds a member file while it is open; at its end it removes its file, removes
those of processes that are gone (killed, or ended without ending their session), and
when none is left it is the last: it reads the run's trace back and writes the summary
and artifacts, covering every process. A launch's entry stays while its root runs, so a
worker started later (gunicorn's ``--max-requests``) still joins the same run; an entry
whose root is gone is removed at the next lookup. Nothing here raises: a registry that
cannot be used (no ``flock``, a read-only or odd folder) leaves each process to the rule
it had before, the process that started the run writes its artifacts.
"""

from __future__ import annotations

import os
import re
import threading

from ._files import write_text_atomic

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["LiveRuns", "Proc", "alive", "enter", "launch_root", "leave", "me", "run_for_launch"]

#: (pid, start time in clock ticks since boot; 0 where unknown): one process, told apart
#: from a later one that got the same pid.
Proc = tuple[int, int]

#: What multiprocessing's helper processes run (``python [flags] -c "from
#: multiprocessing.spawn import spawn_main; ..."``; the forkserver's is alike).
_MP_HELPER = b"\0-c\0from multiprocessing."
_MEMBER = re.compile(r"^(\d+)-(\d+)-([0-9a-f]{8})-[0-9a-f]+$")
_LAUNCH = re.compile(r"^launch-(\d+)-(\d+)$")
_CREATE = (os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
           | getattr(os, "O_CLOEXEC", 0))
#: A process tree this deep is not one program's.
_MAX_DEPTH = 64


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of ``pid`` from ``/proc``, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read(4096)
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ")".
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return fields[0].decode("ascii", "replace"), int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _read(pid: int, name: str) -> bytes | None:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as fh:
            return fh.read(65536)
    except OSError:
        return None


def _is_copy(pid: int, ppid: int, cmd: bytes, parent_cmd: bytes) -> bool:
    """True when ``pid`` is ``ppid`` forked, with no program started since.

    The auxiliary vector is set by ``exec`` (with addresses that differ from one exec to
    the next) and copied by ``fork``: equal vectors mean a fork, even after the child
    renamed itself (gunicorn's workers do, through setproctitle). Where it cannot be read
    (a parent of another user), the command lines are compared instead."""
    mine, theirs = _read(pid, "auxv"), _read(ppid, "auxv")
    if mine and theirs:
        return mine == theirs
    return cmd == parent_cmd


def program_tag(pid: int) -> str:
    """Which program ``pid`` runs, as 8 hex digits (a checksum of its auxiliary vector,
    which every ``exec`` changes); ``00000000`` where it cannot be read."""
    import zlib

    vector = _read(pid, "auxv")
    return f"{zlib.crc32(vector):08x}" if vector else "00000000"


def me() -> Proc:
    """This process, with its start time (0 where ``/proc`` is not there)."""
    pid = os.getpid()
    st = _stat(pid)
    return (pid, st[2] if st is not None else 0)


def alive(proc: Proc) -> bool:
    """True while ``proc`` runs: its pid exists, started when recorded, is no zombie."""
    pid, start = proc
    st = _stat(pid)
    if st is not None:
        return st[0] not in ("Z", "X") and (start == 0 or st[2] == start)
    if start:  # recorded from /proc, which no longer knows the pid
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, and belongs to someone else
        return True
    return True


def launch_root() -> Proc | None:
    """The first process of the launch this process belongs to (perhaps itself), or None
    where the process tree cannot be read."""
    pid = os.getpid()
    st = _stat(pid)
    cmd = _read(pid, "cmdline")
    if st is None or not cmd:
        return None
    for _ in range(_MAX_DEPTH):
        ppid = st[1]
        if ppid <= 0:  # no parent (pid 1 may well be the launch: a container's server)
            break
        parent, parent_cmd = _stat(ppid), _read(ppid, "cmdline")
        if parent is None or not parent_cmd:
            break
        if _MP_HELPER not in cmd and not _is_copy(pid, ppid, cmd, parent_cmd):
            break  # started as a program of its own: the launch begins here
        pid, st, cmd = ppid, parent, parent_cmd
    return (pid, st[2])


class LiveRuns:
    """The registry of live runs in one ``.autodev`` folder (see the module's doc)."""

    def __init__(self, autodev_dir: Path) -> None:
        self.dir = autodev_dir / "live"

    def run_of_launch(self, root: Proc, run_id: str) -> tuple[str, bool]:
        """The run of the launch ``root``: the one already named, else ``run_id``, which
        this process then creates. Returns (run id, created)."""
        name = f"launch-{root[0]}-{root[1]}"
        with self._locked():
            self._forget_gone_launches()
            path = self.dir / name
            try:
                known = path.read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError):
                known = ""
            if known and _safe(known):
                return known, False
            write_text_atomic(path, run_id)
            return run_id, True

    def enter(self, run_id: str) -> str:
        """Add a live session of ``run_id`` (this process); returns its member name."""
        if not _safe(run_id):
            raise ValueError(f"not a usable run id: {run_id!r}")
        pid, start = me()
        # Files side by side, not a folder per run: removing a folder costs milliseconds
        # on some filesystems, at every end of a run.
        member = f"{run_id}+{pid}-{start}-{program_tag(pid)}-{os.urandom(4).hex()}"
        with self._locked():
            os.close(os.open(self.dir / member, _CREATE, 0o644))
        return member

    def leave(self, run_id: str, member: str) -> bool:
        """Remove the session ``member``; True when no live session of the run is left
        (the caller, the last, writes the run's artifacts)."""
        prefix = run_id + "+"
        with self._locked():
            _remove(self.dir / member)
            left = False
            for other in _names(self.dir):
                if other.startswith(prefix) and _still_tracing(other[len(prefix):]):
                    left = True
                elif "+" in other and not _still_tracing(other.rpartition("+")[2]):
                    _remove(self.dir / other)  # any run's: its process is gone
            return not left

    # -- helpers ---------------------------------------------------------------------

    def _forget_gone_launches(self) -> None:
        for name in _names(self.dir):
            m = _LAUNCH.match(name)
            if m is not None and not alive((int(m.group(1)), int(m.group(2)))):
                _remove(self.dir / name)

    def _locked(self) -> _Lock:
        return _Lock(self.dir)


#: Threads of this process take the registry one at a time (two descriptors of one
#: process conflict under flock like two processes); ``_holder`` is the thread in it.
_mutex = threading.Lock()
_holder: int | None = None
#: The process ``_mutex`` belongs to: a forked child makes its own (another thread of
#: the parent may have held it at the fork; in the child nobody does). Checked here, not
#: in a fork hook, because the sessions' own fork hook, which enters the registry, may
#: run first.
_mutex_pid = os.getpid()


class _Lock:
    """An exclusive ``flock`` of ``live/.lock`` (a context manager); raises OSError
    where there is no flock, the folder is not a real one of ours, or this thread holds
    it already (a signal handler that interrupted it must not wait for itself)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd = -1

    def __enter__(self) -> _Lock:
        import fcntl  # ImportError (Windows): the caller keeps the old rule

        global _holder, _mutex, _mutex_pid
        if _mutex_pid != os.getpid():
            _mutex, _holder, _mutex_pid = threading.Lock(), None, os.getpid()
        me_ = threading.get_ident()
        if _holder == me_:
            raise OSError("the registry of live runs is in use by this very thread")
        folder = self.folder
        if folder.is_symlink():
            raise OSError(f"{folder} is a link: not used")
        _mutex.acquire()
        try:
            folder.mkdir(exist_ok=True)
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(
                os, "O_CLOEXEC", 0)
            self.fd = os.open(folder / ".lock", flags, 0o644)
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            except OSError:
                os.close(self.fd)
                raise
        except BaseException:
            _mutex.release()
            raise
        _holder = me_
        return self

    def __exit__(self, *exc: object) -> None:
        global _holder
        _holder = None
        try:
            os.close(self.fd)  # closing the descriptor releases the flock
        finally:
            _mutex.release()




def _still_tracing(member: str) -> bool:
    """True while the member's process runs the program that registered it: a process
    forked and then exec'd (``subprocess`` with ``preexec_fn``) runs another program,
    which has a member of its own if it traces."""
    m = _MEMBER.match(member)
    if m is None:
        return False
    pid, tag = int(m.group(1)), m.group(3)
    if not alive((pid, int(m.group(2)))):
        return False
    return tag == "00000000" or program_tag(pid) in (tag, "00000000")


def _safe(run_id: str) -> bool:
    from .runs import is_safe_run_id

    return is_safe_run_id(run_id)


def _names(folder: Path) -> Iterator[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return iter(())
    return (n for n in names if not n.startswith("."))


def _remove(path: Path) -> None:
    try:  # noqa: SIM105 - contextlib costs import time
        os.unlink(path)
    except OSError:
        pass


# -- the session's side: never raises, None where the registry cannot say ---------------


def run_for_launch(autodev_dir: Path, run_id: str) -> tuple[str, bool]:
    """(run id, created) for a process that starts tracing on its own: its launch's run
    when it is a copy or helper of an earlier process, else ``run_id`` (created)."""
    try:
        root = launch_root()
        if root is None or root[0] == os.getpid():
            return run_id, True  # a launch of its own (or no /proc): a run of its own
        return LiveRuns(autodev_dir).run_of_launch(root, run_id)
    except Exception:  # ImportError (no fcntl), OSError: the run is this process's own
        return run_id, True


def enter(autodev_dir: Path, run_id: str) -> str | None:
    """Register a live session of the run; its member name, or None (no registry)."""
    try:
        return LiveRuns(autodev_dir).enter(run_id)
    except Exception:
        return None


def leave(autodev_dir: Path, run_id: str, member: str) -> bool | None:
    """Unregister; True when this was the run's last live session, None when unknown."""
    try:
        return LiveRuns(autodev_dir).leave(run_id, member)
    except Exception:
        return None
