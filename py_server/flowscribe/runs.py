"""The ``.autodev`` layout: run directories, the ``latest`` pointer, retention, listing runs.

```
.autodev/
  trace.jsonl  summary.md  ask.md     (copies of the newest run's artifacts)
  latest                              -> runs/<run_id>  (symlink, or a text file holding
                                         "runs/<run_id>" where links are not allowed)
  runs/<run_id>/trace.jsonl summary.md ask.md
```

A test run (a pytest session, ``flowscribe.pytest_plugin``) has a run folder of its own,
marked with :data:`TEST_RUN_MARKER`; it never moves ``latest`` and is not what an app run
is compared with.

Run ids sort by time: ``20261125T140512Z-3f9a1c`` (UTC second, then 6 random hex digits).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flowscribe._record import Record
from flowscribe._warn import warn_once
from flowscribe.trace import field_marker, iter_events, open_trace, parse_line

__all__ = ["RUN_ID_RE", "RUN_MARKER", "TEST_RUN_MARKER", "RunInfo", "RunLayout", "new_run_id",
           "read_run_infos", "run_events"]

#: The file each run folder flowscribe makes holds (its content: the run id). Retention
#: removes only folders that have it, so nothing flowscribe did not create is ever deleted.
RUN_MARKER = ".flowscribe-run"
#: Beside the run marker in a test run's folder: the run is a pytest session's.
TEST_RUN_MARKER = ".flowscribe-test-run"

#: runs/ folders start_run refused (its caller warned): contained() does not warn again.
_refused: set[str] = set()

#: The shape of the run ids this module makes; other safe names are accepted too.
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}(?:\.\d{3})?Z-[0-9a-f]{6,}$")
# Anything used as a directory name under runs/: no separators, no leading dot.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_POINTER_MAX = 4096
_LIST_TYPES = ("run_start", "flow_end", "failure", "exception", "summary")


def new_run_id(now: float | None = None) -> str:
    """A fresh, time-sortable run id: ``YYYYMMDDTHHMMSS.mmmZ-xxxxxx`` (UTC).

    Milliseconds keep runs started within one second (tests, scripts, CI) in order
    when their folders are listed by name."""
    t = time.time() if now is None else now
    millis = int(t * 1000) % 1000
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(t))
    return f"{stamp}.{millis:03d}Z-{os.urandom(3).hex()}"


def is_safe_run_id(run_id: str) -> bool:
    """True if ``run_id`` can name a directory under ``runs/`` (no separators, no dots
    in front, at most 128 characters)."""
    return bool(_SAFE_ID.match(run_id)) and ".." not in run_id


class RunInfo(Record):
    """One run, as ``flowscribe runs`` and the editor's run list show it."""

    _fields = ("run_id", "run_dir", "trace", "started", "ended", "app", "mode", "verdicts",
               "artifacts", "is_latest", "test_run")
    __slots__ = _fields

    def __init__(
        self,
        run_id: str,
        run_dir: Path | None,
        trace: Path | None,
        started: float | None = None,
        ended: float | None = None,
        app: str | None = None,
        mode: str | None = None,
        verdicts: dict[str, int] | None = None,
        artifacts: dict[str, Path | None] | None = None,
        is_latest: bool = False,
        test_run: bool = False,
    ) -> None:
        self.run_id = run_id
        self.run_dir = run_dir
        self.trace = trace
        self.started = started
        #: None: still running, or killed before its summary.
        self.ended = ended
        self.app = app
        self.mode = mode
        #: passed / failed / unfinished flow instances, failure and exception events.
        self.verdicts: dict[str, int] = {} if verdicts is None else verdicts
        #: "summary", "ask", "trace" -> the file, or None when it does not exist.
        self.artifacts: dict[str, Path | None] = {} if artifacts is None else artifacts
        self.is_latest = is_latest
        #: A pytest session's run (never ``latest``); shown apart from the app's runs.
        self.test_run = test_run

    @property
    def own_trace(self) -> bool:
        """The trace is the run's own folder's (only its lines), not the shared one."""
        return self.trace is not None and self.run_dir is not None and (
            self.trace.parent == self.run_dir)

    @property
    def trace_filter(self) -> str | None:
        """The run id a reader keeps the trace's lines by: None for the run's own trace."""
        return None if self.own_trace else self.run_id


def _empty_verdicts() -> dict[str, int]:
    return {"passed": 0, "failed": 0, "unfinished": 0, "failures": 0, "exceptions": 0}


# (path, size, mtime_ns) -> infos; traces of finished runs don't change, so listing runs
# repeatedly (the editor does) reads each trace once.
_CACHE: dict[tuple[str, int, int], list[RunInfo]] = {}
_CACHE_MAX = 256


def read_run_infos(trace: Path) -> list[RunInfo]:
    """The runs recorded in one trace file, in order of first appearance.

    Only ``run_start``, ``flow_end``, ``failure``, ``exception`` and ``summary`` lines
    are parsed (the reader's substring pre-filter skips the rest unparsed).
    """
    try:
        st = trace.stat()
    except OSError:
        return []
    key = (str(trace), st.st_size, st.st_mtime_ns)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    runs: dict[str, RunInfo] = {}
    start = _from_saved_aggregate(trace, runs)
    for ev in iter_events(trace, types=_LIST_TYPES, start=start):
        rid = ev.get("run_id")
        if not isinstance(rid, str):
            continue
        info = runs.get(rid)
        if info is None:
            info = runs[rid] = RunInfo(rid, None, trace, verdicts=_empty_verdicts())
        _fold(info, ev)
    result = list(runs.values())
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = result
    return result


def _from_saved_aggregate(trace: Path, runs: dict[str, RunInfo]) -> int:
    """A run folder's trace with a saved aggregate (aggregate.json) beside it: its run's
    info from that, into ``runs``; returns how many bytes of the trace it covers (0: none,
    read the whole trace)."""
    from flowscribe.artifacts.aggregate_file import load_aggregate

    saved = load_aggregate(trace.parent) if trace.name == "trace.jsonl" else None
    if saved is None:
        return 0
    agg, covered = saved
    assert agg.run_id is not None  # load_aggregate checked it is the folder's
    flows = agg.flows.values()
    runs[agg.run_id] = RunInfo(
        agg.run_id, None, trace, started=agg.started, ended=agg.ended, app=agg.app,
        mode=agg.mode, verdicts={
            "passed": sum(f.passed for f in flows), "failed": sum(f.failed for f in flows),
            "unfinished": sum(f.unfinished for f in flows), "failures": agg.failures,
            "exceptions": agg.exception_count})
    return covered


def run_events(info: RunInfo, *, types: tuple[str, ...] | None = None,
               contains: list[bytes] | None = None) -> Iterator[dict[str, Any]]:
    """Every event of one listed run, in trace order: its own folder's trace, or its lines
    of the shared top-level one. ``types`` and ``contains`` prefilter as in
    :func:`~flowscribe.trace.iter_events` (cheap on big traces)."""
    if info.trace is None:
        return
    own = info.own_trace
    needles = contains
    if not own and contains is None:
        needles = [field_marker("run_id", info.run_id)]
    for ev in iter_events(info.trace, types=types, contains=needles):
        if own or ev.get("run_id") == info.run_id:
            yield ev


def _fold(info: RunInfo, ev: dict[str, Any]) -> None:
    etype = ev.get("event_type")
    ts = ev.get("ts")
    ts = float(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) else None
    if etype == "run_start":
        if info.started is None:
            info.started = ts
            evidence = ev.get("evidence")
            if isinstance(evidence, dict):
                app, mode = evidence.get("app"), evidence.get("mode")
                info.app = app if isinstance(app, str) else None
                info.mode = mode if isinstance(mode, str) else None
    elif etype == "flow_end":
        status = ev.get("status")
        key = status if status in ("passed", "failed") else "unfinished"
        info.verdicts[key] += 1
    elif etype == "failure":
        info.verdicts["failures"] += 1
    elif etype == "exception":
        info.verdicts["exceptions"] += 1
    elif etype == "summary":
        info.ended = ts


class RunLayout:
    """Paths and housekeeping of one ``.autodev`` directory."""

    def __init__(self, autodev_dir: Path | str) -> None:
        self.autodev_dir = Path(autodev_dir)
        self.runs_dir = self.autodev_dir / "runs"
        self.latest_path = self.autodev_dir / "latest"
        self.trace_path = self.autodev_dir / "trace.jsonl"

    def run_dir(self, run_id: str) -> Path:
        """``runs/<run_id>``; raises ValueError for an id that is not a safe name."""
        if not is_safe_run_id(run_id):
            raise ValueError(f"not a usable run id: {run_id!r}")
        return self.runs_dir / run_id

    def start_run(self, run_id: str, *, test_run: bool = False) -> Path:
        """Create ``runs/<run_id>`` and point ``latest`` at it; returns the run dir.

        ``latest`` is replaced atomically, so a reader sees the old run or the new one,
        never a missing pointer. Raises OSError only when neither a symlink nor a
        pointer file can be written. A ``test_run`` is marked as one and leaves
        ``latest`` alone.
        """
        path = self.run_dir(run_id)
        if not self._inside():
            # The caller warns with this message: contained() then stays quiet about it.
            _refused.add(str(self.runs_dir))
            raise OSError(errno.EPERM, self._outside_message())
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # a second session of the same run
            _create(path / RUN_MARKER, run_id + "\n")
        if test_run:
            with contextlib.suppress(FileExistsError):
                _create(path / TEST_RUN_MARKER, run_id + "\n")
            return path
        self.point_latest(run_id)
        return path

    def contained(self) -> bool:
        """True when ``runs/`` is a real folder inside the artifacts folder (or absent).
        A link, or one leading elsewhere (a cloned repository can ship ``runs -> ../..``),
        makes flowscribe neither write, list nor delete anything there; warned once."""
        if self._inside():
            return True
        runs = str(self.runs_dir)
        if runs not in _refused:
            warn_once(f"runs-outside:{runs}", self._outside_message())
        return False

    def _inside(self) -> bool:
        runs = self.runs_dir
        try:
            if runs.is_symlink():
                return False
            return not runs.exists() or runs.resolve().parent == self.autodev_dir.resolve()
        except (OSError, RuntimeError):
            return False

    def _outside_message(self) -> str:
        return (f"{self.runs_dir} is a link or leads out of {self.autodev_dir}: flowscribe "
                "will not write, list or remove run folders there")

    def point_latest(self, run_id: str) -> None:
        """Point ``latest`` at ``runs/<run_id>`` (atomically; OSError when neither a link
        nor a pointer file can be written)."""
        target = f"runs/{run_id}"
        tmp = self.autodev_dir / f".latest.{os.getpid()}.tmp"
        try:
            _unlink(tmp)
            os.symlink(target, tmp)
            os.replace(tmp, self.latest_path)
            return
        except (OSError, NotImplementedError):
            _unlink(tmp)
        # Where links are not allowed (Windows without the privilege, some mounts).
        _create(tmp, target + "\n")
        try:
            os.replace(tmp, self.latest_path)
        except OSError:
            _unlink(tmp)
            raise

    def latest_run_id(self) -> str | None:
        """The run ``latest`` points at (symlink or pointer file), if it is a safe id."""
        p = self.latest_path
        try:
            if p.is_symlink():
                target = os.readlink(p)
            elif p.is_file():
                with open(p, encoding="utf-8", errors="replace") as fh:
                    target = fh.read(_POINTER_MAX).strip()
            else:
                return None
        except OSError:
            return None
        parts = [s for s in target.replace("\\", "/").split("/") if s and s != "."]
        if len(parts) < 2 or parts[-2] != "runs" or not is_safe_run_id(parts[-1]):
            return None
        run_id = parts[-1]
        if len(parts) == 2 or _same_path(target, self.runs_dir / run_id):
            return run_id
        # e.g. "../../elsewhere/runs/<id>", shipped by a cloned repository: never followed.
        warn_once(f"latest-outside:{p}",
                  f"{p} points at {target!r}, outside {self.runs_dir}: ignored")
        return None

    def latest_run_dir(self) -> Path | None:
        """The newest run's directory per ``latest``, or None (no pointer, or it dangles)."""
        run_id = self.latest_run_id()
        if run_id is None:
            return None
        path = self.runs_dir / run_id
        return path if path.is_dir() else None

    def _run_dirs(self) -> list[Path]:
        if not self.contained():
            return []
        try:
            entries = list(self.runs_dir.iterdir())
        except OSError:
            return []
        return [p for p in entries if is_safe_run_id(p.name) and not p.is_symlink()
                and p.is_dir()]

    def _ordered(self) -> list[Path]:
        """Run dirs, newest first."""
        return sorted(self._run_dirs(), key=_order_key, reverse=True)

    def run_dirs(self, *, test_runs: bool = False) -> list[Path]:
        """The run directories, newest first, without reading their traces: the app's
        runs (what a run is compared with), and test runs too with ``test_runs``."""
        dirs = self._ordered()
        return dirs if test_runs else [d for d in dirs if not is_test_run(d)]

    def list_runs(self) -> list[RunInfo]:
        """Every run, newest first: the run dirs, or, when there are none (``per_run_dirs:
        false``), the runs recorded in ``.autodev/trace.jsonl``."""
        latest = self.latest_run_id()
        result: list[RunInfo] = []
        for d in self._ordered():
            trace = d / "trace.jsonl"
            found = [i for i in read_run_infos(trace) if i.run_id == d.name]
            info = found[0] if found else RunInfo(d.name, d, None, verdicts=_empty_verdicts())
            info = _copy(info)  # the cached one stays untouched
            info.run_dir = d
            info.trace = trace if trace.is_file() else None
            info.artifacts = {
                "summary": _existing(d / "summary.md"),
                "ask": _existing(d / "ask.md"),
                "trace": info.trace,
            }
            info.is_latest = d.name == latest
            info.test_run = is_test_run(d)
            result.append(info)
        if result:
            return result
        infos = [_copy(i) for i in read_run_infos(self.trace_path)]
        for n, info in enumerate(reversed(infos)):
            newest = n == 0
            info.is_latest = newest
            info.artifacts = {
                "summary": _existing(self.autodev_dir / "summary.md") if newest else None,
                "ask": _existing(self.autodev_dir / "ask.md") if newest else None,
                "trace": self.trace_path,
            }
            result.append(info)
        return result

    def prune(self, keep: int) -> list[str]:
        """Delete all but the ``keep`` newest run dirs (``retention.keep_runs``), never the
        one ``latest`` points at, and only folders flowscribe made (:data:`RUN_MARKER`).
        App runs and test runs are counted apart (a test suite run in a loop never pushes
        the app's history out). ``keep < 1`` keeps everything. Returns the removed ids; a
        directory that cannot be removed is left alone."""
        if keep < 1:
            return []
        import shutil  # here, at the end of a run: a start does not pay for it

        latest = self.latest_run_id()
        removed = []
        ordered = self._ordered()
        tests = [d for d in ordered if is_test_run(d)]
        apps = [d for d in ordered if not is_test_run(d)]
        for d in apps[keep:] + tests[keep:]:
            if d.name == latest or not _made_by_us(d):
                continue
            try:
                shutil.rmtree(d)
            except OSError:
                continue
            removed.append(d.name)
        return removed


def is_test_run(run_dir: Path) -> bool:
    """True for the run folder of a test run (a pytest session's)."""
    return (run_dir / TEST_RUN_MARKER).is_file()


def _made_by_us(run_dir: Path) -> bool:
    """True for a real run folder (not a link) holding the marker with its own id."""
    try:
        if run_dir.is_symlink():
            return False
        with open(run_dir / RUN_MARKER, encoding="utf-8", errors="replace") as fh:
            return fh.read(256).strip() == run_dir.name
    except OSError:
        return False


def _create(path: Path, text: str) -> None:
    """Write a new file; O_EXCL never follows a link planted in its place (FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 0o644)
    with open(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _same_path(target: str, path: Path) -> bool:
    """True when an absolute link target names ``path`` itself (a relative one that is not
    plain ``runs/<id>`` never does)."""
    if not os.path.isabs(target):
        return False
    return os.path.normcase(os.path.normpath(target)) == os.path.normcase(
        os.path.normpath(str(path)))


def _copy(info: RunInfo) -> RunInfo:
    return info._replace(verdicts=dict(info.verdicts), artifacts=dict(info.artifacts))


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _first_ts(run_dir: Path) -> float:
    """When a run began: its trace's first timestamp, else the directory's mtime."""
    try:
        with open_trace(run_dir / "trace.jsonl") as fh:
            first = fh.readline(65536)
    except OSError:
        first = b""
    ev = parse_line(first) if first else None
    ts = ev.get("ts") if ev else None
    if isinstance(ts, (int, float)) and not isinstance(ts, bool):
        return float(ts)
    try:
        return run_dir.stat().st_mtime
    except OSError:
        return 0.0


def _order_key(run_dir: Path) -> tuple[str, float, str]:
    # Ids of the same millisecond tie on their stamp; the trace's first event breaks the tie.
    name = run_dir.name
    stamp = name.split("-", 1)[0] if RUN_ID_RE.match(name) else ""
    return (stamp, _first_ts(run_dir), name)
