"""Sessions: one run of a program, where its events go; and the names apps import.

This is the public home of :class:`Session`, :class:`Flow`, :class:`NullFlow` and
:class:`Event` (the original quickstart does ``from flowscribe.core import Session,
Event``) and of the default session's functions. A :class:`Session` reads the config and
the flow catalog, opens the sinks, and hands recording to its :class:`Recorder`
(``_recorder.py``, the hot path), which turns every marker into one event dict, encoded
once and queued on the buffered writer (``_writer.py``) that feeds the sinks and the
run's aggregate.

What has a job of its own lives beside it: ``_event.py`` (the trace vocabulary and
``Event``), ``_encode.py`` (JSON line fragments and fallbacks), ``_flow.py`` (flows and
their markers), ``_children.py`` (child processes joining the run), ``_lifecycle.py``
(live sessions, the default session, atexit/excepthook/fork hooks), and, imported only
when a session starts, ``_header.py`` (the run header) and ``_finish.py`` (the
end-of-run summary and artifacts).

Nothing here raises into the application: a problem is reported once on stderr and the
call does nothing.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Awaitable, Sequence

from . import _callsite, _children, _lifecycle
from ._event import (
    EVENT_KEYS,
    MARKER_TYPES,
    SCHEMA_VERSION,
    Event,
    _id_of,
    _merge_tags,
    _More,
    _text,
)
from ._flow import Flow, NullFlow, _FlowInfo
from ._recorder import BATCH, Recorder, trouble
from ._warn import warn_once
from ._writer import Sink, Writer
from .vocabulary import SEVERITIES, SEVERITY_ALIASES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Callable, TypeVar

    from ._finish import _RunState
    from ._flow import ParentLike as ParentLike
    from .aggregate import RunAggregate
    from .catalog import Catalog
    from .config import Config
    from .redact import Redactor
    from .runs import RunLayout
    from .sinks.jsonl import JsonlSink

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "EVENT_KEYS",
    "MARKER_TYPES",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "Event",
    "Flow",
    "NullFlow",
    "Session",
    "end_session",
    "get_session",
    "init",
    "traced",
]

# The public classes' home is this module, wherever they are defined.
Event.__module__ = Flow.__module__ = NullFlow.__module__ = __name__

_CO_COROUTINE = 0x0080
_CO_VARARGS = 0x0004

_caller = _callsite.caller
_getframe = sys._getframe


class Session:
    """One run of a program: where events go, and its end-of-run artifacts.

    ``Session(app_name="my-app", mode="dev", tags=["demo"])`` reads ``.autodev/ra.yaml``
    and ``.autodev/flows.yaml`` under ``root`` (default: the current directory), opens
    the configured sinks and records ``run_start``. In a child process of a traced
    program (``FLOWSCRIBE_RUN_ID`` in the environment), or in a worker of a launch
    that already has a run (``_launch.py``), it joins that run instead of starting one.
    :meth:`end_session` (also called at exit) records the ``summary`` event and writes
    ``summary.md``, ``ask.md`` and the run's trace.
    """

    #: A test run (the pytest plugin's, ``flowscribe.testing``): it writes its run folder
    #: only, marked as a test run; ``latest``, the configured sinks and the top-level
    #: artifacts stay the app's.
    test_run = False

    def __init__(
        self,
        app_name: str | None = None,
        mode: str | None = None,
        tags: Sequence[str] | None = None,
        *,
        root: str | os.PathLike[str] | None = None,
        run_id: str | None = None,
    ) -> None:
        from ._header import default_app_name  # lazily, like all a start needs

        self.app_name = app_name or default_app_name()
        self.mode = mode or "dev"
        self.tags = _merge_tags(tags)
        self.run_id: str | None = None
        from pathlib import Path  # lazily: `import flowscribe` must stay cheap

        self.root = Path(os.getcwd())
        self.config: Config | None = None
        self.catalog: Catalog | None = None
        self.run_dir: Path | None = None
        #: False when tracing is off (config, RA_ENABLED=0, or a failed start).
        self.active = False
        self.closed = False
        self._owner = True
        #: What builds, encodes and queues this session's events (``_recorder.py``).
        self.recorder = Recorder()
        self._infos: dict[str, _FlowInfo] = {}
        self._tagged: dict[tuple[str, tuple[str, ...]], bool] = {}
        self._env_saved: dict[str, str | None] = {}
        self._redactor: Redactor | None = None
        self._writer: Writer | None = None
        self._state: _RunState | None = None
        self._run_trace: JsonlSink | None = None
        self._main_trace: JsonlSink | None = None
        self._main_trace_start = 0
        #: How far other processes' lines are folded into this session's tally (bytes).
        self._folded_to = 0
        self._layout: RunLayout | None = None
        self._end_lock = threading.Lock()
        #: This session named its run (and pointed ``latest`` at it); and its entry in the
        #: registry of live runs (``_launch.py``), None when it has none.
        self._created = True
        self._member: str | None = None
        try:
            self._start(root, run_id)
        except Exception as exc:
            warn_once(
                "session-start",
                f"tracing could not start ({type(exc).__name__}: {exc}); the app runs untraced",
            )
            self._deactivate()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "active" if self.active else "inactive"
        return f"Session(app_name={self.app_name!r}, run_id={self.run_id!r}, {state})"

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end_session()

    # -- start -----------------------------------------------------------------------

    def _start(self, root: str | os.PathLike[str] | None, run_id: str | None) -> None:
        env = os.environ
        joining = _children.joining(env, run_id)
        if root is None and joining:
            root = _children.joined_root(env)
        self.root = type(self.root)(os.path.abspath(root if root is not None else os.getcwd()))
        _callsite.set_root(str(self.root))
        self._owner = not joining
        rec = self.recorder
        rec.flush_ends = _children.in_mp_child()

        cfg = self._load_config()
        if cfg is None or not cfg.enabled:
            return
        self.config = cfg
        self.catalog = self._load_catalog(cfg)
        self._redactor = self._make_redactor(cfg)
        muted = {s for s in SEVERITIES if not cfg.severity_allowed(s)}
        muted.update(a for a, s in SEVERITY_ALIASES.items() if s in muted)
        muted.update(s.upper() for s in list(muted))

        from . import _launch
        from .runs import RunLayout, new_run_id

        self._layout = RunLayout(cfg.autodev_dir)
        if joining:
            self.run_id = _children.joined_run_id(env)
            rec.env_parent = _children.joined_parent(env)
            self._created = False
        elif run_id is None and not self.test_run:  # one launch, one run
            self.run_id, self._created = _launch.run_for_launch(cfg.autodev_dir, new_run_id())
        else:
            self.run_id = run_id or new_run_id()
        rec.start(self.run_id, self._redactor, frozenset(muted))
        if cfg.artifacts.per_run_dirs or self.test_run:
            try:
                if self._created:
                    self.run_dir = self._layout.start_run(self.run_id, test_run=self.test_run)
                else:
                    self.run_dir = self._layout.run_dir(self.run_id)
                    self.run_dir.mkdir(parents=True, exist_ok=True)
            except (OSError, ValueError) as exc:
                warn_once(
                    "run-dir",
                    f"cannot create the run directory under {cfg.autodev_dir} ({exc}); "
                    "the run's artifacts are not written",
                )
        sinks = self._make_sinks(cfg)
        if self._owner:
            from ._finish import _LiveSnapshot, _RunState

            self._state = _RunState(self._new_aggregate(), cfg.artifacts.trace_tail_events)
            sinks.append(self._state)
            if self._run_trace is not None and self.run_dir is not None:
                sinks.append(_LiveSnapshot(self._state, self._run_trace, self.run_dir))
        self._writer = Writer(sinks, max_pending=BATCH)
        rec.attach(self._writer)
        self.active = rec.on = True
        if not self.test_run:
            self._member = _launch.enter(cfg.autodev_dir, self.run_id)
        if self._owner:
            self._env_saved = _children.export_run(env, self.run_id, str(self.root))
        _lifecycle.register(self)
        self._record_run_start(_caller(_getframe(1)))

    def _load_config(self) -> Config | None:
        from .config import Config, load_config

        try:
            cfg, problems = load_config(self.root, cached=True)
        except Exception as exc:
            warn_once("config-crash", f"reading the config failed ({exc}); using defaults")
            return Config.defaults(self.root)
        for problem in problems:
            warn_once(f"config:{problem}", str(problem))
        return cfg

    def _load_catalog(self, cfg: Config) -> Catalog | None:
        from .catalog import CATALOG_FILE, load_catalog

        try:
            catalog = load_catalog(cfg.autodev_dir / CATALOG_FILE, self.root, cached=True)
        except Exception as exc:
            warn_once("catalog-crash", f"reading the flow catalog failed ({exc}); ignoring it")
            return None
        for problem in catalog.problems:
            warn_once(f"catalog:{problem}", str(problem))
        return catalog

    @staticmethod
    def _make_redactor(cfg: Config) -> Redactor:
        from .redact import Redactor

        p = cfg.privacy
        return Redactor(p.redact_keys, p.payload_limit, p.allow_raw_payloads)

    def _make_sinks(self, cfg: Config) -> list[Sink]:
        from .sinks import make_sink
        from .sinks.jsonl import JsonlSink

        sinks: list[Sink] = []
        ret = cfg.retention
        for spec in () if self.test_run else cfg.sinks:
            path = str(cfg.resolve(spec.path)) if spec.path else None
            try:
                rotate = ret.max_trace_bytes if ret.rotate_trace and spec.type == "jsonl" else 0
                sink = make_sink(spec.type, path, max_bytes=rotate, level=spec.level,
                                 backups=ret.trace_backups, otlp=spec.otlp)
            except Exception as exc:
                warn_once(f"sink:{spec.type}:{path}", f"sink {spec.type} skipped: {exc}")
                continue
            if isinstance(sink, JsonlSink) and self._main_trace is None:
                self._main_trace = sink
                try:
                    self._main_trace_start = os.path.getsize(sink.path)
                except OSError:
                    self._main_trace_start = 0
            sinks.append(sink)
        if self.run_dir is not None:
            self._run_trace = JsonlSink(str(self.run_dir / "trace.jsonl"))
            sinks.append(self._run_trace)
        sinks.extend(_lifecycle.taps)  # flowscribe.testing's in-memory listeners, if any
        return sinks

    def _new_aggregate(self) -> RunAggregate | None:
        """The aggregate summary.md and ask.md are rendered from; None when this run
        renders neither (its cost is then not paid on every event)."""
        cfg = self.config
        if cfg is None or not (cfg.artifacts.summary_md or cfg.artifacts.ask_md != "never"):
            return None
        from .aggregate import aggregate_for

        return aggregate_for(cfg, self.catalog, self.run_id)

    def _record_run_start(self, site: _callsite.Site) -> None:
        from ._header import git_sha, python_version, safe_argv

        evidence: dict[str, Any] = {
            "app": self.app_name,
            "mode": self.mode,
            "root": str(self.root),
            "git_sha": git_sha(self.root),
            "python": python_version(),
            "argv": safe_argv(self._redactor),
        }
        if self.test_run:
            evidence["test_run"] = True
        self.recorder.record(
            None, "run_start", None, None, evidence, site, _More(tags=self.tags, trusted=True)
        )

    def _deactivate(self) -> None:
        self.active = False
        self.recorder.on = False
        writer, self._writer = self._writer, None
        self.recorder.attach(None)
        if writer is not None:
            try:  # noqa: SIM105 - contextlib costs import time
                writer.close()
            except Exception:
                pass
        self._restore_env()

    # -- flows -----------------------------------------------------------------------

    def _info(self, flow_id: str) -> _FlowInfo:
        info = self._infos.get(flow_id)
        if info is not None:
            return info
        spec = self.catalog.get(flow_id) if self.catalog is not None else None
        tags = _merge_tags(self.tags, spec.tags if spec is not None else None)
        enabled = bool(
            self.active
            and (spec is None or spec.enabled)
            and self.config is not None
            and self.config.flow_allowed(flow_id, tags)
        )
        info = _FlowInfo(
            enabled,
            tags,
            frozenset(spec.correlation_keys) if spec is not None else frozenset(),
            spec.parent if spec is not None else None,
            NullFlow(flow_id),
        )
        if len(self._infos) > 10_000:
            self._infos.clear()
        self._infos[flow_id] = info
        return info

    def _allowed_with(self, flow_id: str, info: _FlowInfo, tags: Sequence[str]) -> bool:
        key = (flow_id, tuple(tags))
        ok = self._tagged.get(key)
        if ok is None:
            spec = self.catalog.get(flow_id) if self.catalog is not None else None
            ok = bool(
                self.active
                and (spec is None or spec.enabled)
                and self.config is not None
                and self.config.flow_allowed(flow_id, _merge_tags(info.tags, tags))
            )
            if len(self._tagged) > 10_000:
                self._tagged.clear()
            self._tagged[key] = ok
        return ok

    def flow(
        self,
        flow_id: str,
        *,
        parent: ParentLike = None,
        tags: Sequence[str] | None = None,
        caused_by: Any = None,
        **correlation: Any,
    ) -> Flow | NullFlow:
        """A flow instance to use with ``with``; keyword arguments are correlation keys.

        The parent is the enclosing flow (in this thread or task), or ``parent=``: a Flow,
        a flow instance id, or a flow id. Returns a :class:`NullFlow` when the flow is
        disabled or filtered out.
        """
        try:
            rec = self.recorder
            flow_id = rec.clean_name(flow_id)
            if tags:
                tags = [rec.clean_name(t) for t in _merge_tags(tags)]
            info = self._infos.get(flow_id) or self._info(flow_id)
            if tags:
                if not self._allowed_with(flow_id, info, tags):
                    return info.null
            elif not info.enabled or self.closed:
                return info.null
            return Flow(self, flow_id, info, parent, tags, correlation,
                        cause=None if caused_by is None else _id_of(caused_by))
        except Exception as exc:
            trouble("flow", exc)
            return NullFlow(_text(flow_id))

    def start_flow(
        self,
        flow_id: str,
        *,
        parent: ParentLike = None,
        tags: Sequence[str] | None = None,
        **correlation: Any,
    ) -> Flow | NullFlow:
        """Start a flow now (the original API); end it with :meth:`Flow.end`. It is not
        the enclosing flow of later code unless entered with ``with``."""
        f = self.flow(flow_id, parent=parent, tags=tags, **correlation)
        if isinstance(f, Flow):
            try:
                f.start(frame=_getframe(1))
            except Exception as exc:
                trouble("flow", exc)
        return f

    def traced(
        self,
        flow_id: str,
        *,
        parent: ParentLike = None,
        tags: Sequence[str] | None = None,
        capture_args: bool = False,
        **correlation: Any,
    ) -> Callable[[F], F]:
        """Decorator: each call of the function is one instance of ``flow_id``."""
        return traced(flow_id, parent=parent, tags=tags, session=self,
                      capture_args=capture_args, **correlation)

    # -- end -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything recorded so far to the sinks, now."""
        writer = self._writer
        if writer is not None:
            try:
                writer.flush()
            except Exception as exc:
                trouble("flush", exc)

    def end_session(self) -> None:
        """End the run: record ``summary``, flush, write the artifacts. Idempotent.

        While other processes of the run are still tracing (workers, children), this only
        flushes: the run's last live session writes its summary and artifacts, with
        every process's events (docs/trace-format.md, "One launch, one run").
        """
        with self._end_lock:
            if self.closed:
                return
            try:
                self._end(_caller(_getframe(1)))
            except Exception as exc:
                warn_once("session-end", f"ending the run failed ({type(exc).__name__}: {exc})")
            finally:
                self.closed = True
                self._deactivate()
                _lifecycle.unregister(self)

    def _end(self, site: _callsite.Site) -> None:
        writer = self._writer
        if writer is None or not self.active:
            return
        if self.recorder.pid != os.getpid():
            writer.close()
            return
        writer.flush()  # in the trace before this session leaves the run
        if not self._last_out():
            writer.close()  # another live session of the run writes its artifacts
            return
        with writer.lock:  # the flusher waits: the state is swapped under it
            writer.flush()
            self._reaggregate_if_joined()
        if self._state is not None:
            from ._finish import summary_evidence

            self.recorder.record(
                None, "summary", None, None,
                summary_evidence(self._state, self.recorder.redacted), site,
                _More(tags=self.tags, urgent=True, trusted=True),
            )
        writer.close()
        self._write_artifacts()
        cfg, layout = self.config, self._layout
        if cfg is not None and layout is not None and cfg.artifacts.per_run_dirs:
            try:
                layout.prune(cfg.retention.keep_runs)
            except Exception as exc:
                warn_once("prune", f"removing old runs failed ({exc})")

    def _last_out(self) -> bool:
        """Leave the registry of live runs: True when this is the run's last live
        session, which writes its artifacts. Without a registry entry, the session that
        started the run writes them, as ever."""
        member, self._member = self._member, None
        cfg = self.config
        if member is None or cfg is None or self.run_id is None:
            return self._owner
        from . import _launch

        last = _launch.leave(cfg.autodev_dir, self.run_id, member)
        return self._owner if last is None else last

    def _reaggregate_if_joined(self) -> None:
        """Fold in what other processes wrote to the run's trace. The session that started
        the run folds only their lines into the tally it kept; one that joined the run
        (its own view is partial) rebuilds the tally from the whole trace."""
        state = self._state
        if self.run_id is None:
            return
        if state is None or not (self._owner and self._created):
            self._rebuild_from_trace()
            return
        if self._run_trace is not None:
            sink, start = self._run_trace, 0
        elif self._main_trace is not None:
            sink, start = self._main_trace, self._main_trace_start
        else:
            return
        try:
            size = os.path.getsize(sink.path)
        except OSError:
            return
        # Folding twice must not count twice: a signal's "run so far" folds, then the end
        # of the run folds again, only what came after.
        first = self._folded_to == 0
        start = max(start, self._folded_to)
        if size <= start or (first and size - start - sink.file.bytes_written <= 0):
            return
        ranges = sink.file.others_wrote(start, size)
        if ranges is not None:
            ranges = [(max(b, start), e) for b, e in ranges if e > max(b, start)]
        from ._joined import fold_other_processes

        if ranges != []:
            fold_other_processes(
                state, sink.path, start, self.run_id, self.recorder.id_prefix, ranges
            )
        self._folded_to = size

    def _rebuild_from_trace(self) -> None:
        """The run state of a joined session, from every line of the run in its trace."""
        sink = self._run_trace or self._main_trace
        if sink is None:
            return
        from ._finish import reread_run

        tail = self.config.artifacts.trace_tail_events if self.config is not None else 50
        fresh = reread_run(sink.path, 0, self.run_id, self._new_aggregate(), tail)
        if fresh is None:
            return
        state, writer = self._state, self._writer
        if writer is not None:
            if state is not None and state in writer.sinks:
                writer.sinks = [fresh if s is state else s for s in writer.sinks]
            else:
                writer.sinks.append(fresh)  # it sees the summary event too
        self._state = fresh

    def _write_artifacts(self) -> None:
        from ._finish import write_artifacts

        state, writer = self._state, self._writer
        if state is not None and state.aggregate is not None and writer is not None:
            state.aggregate.not_written, state.aggregate.not_written_why = writer.not_written()
        write_artifacts(
            self._state, self.config, self.catalog, self.run_id, self._layout,
            self.recorder.redacted, top_level=not self.test_run,
        )

    @property
    def ending(self) -> bool:
        """An end of this session is under way (in this or another thread)."""
        return self._end_lock.locked()

    def write_so_far(self) -> None:
        """Flush; in the run's owner, also write the artifacts of the run so far (the
        session stays open: ``flowscribe.write_artifacts()``, a signal with an app
        handler), with the flusher held off so that the state does not change while it
        is rendered."""
        writer = self._writer
        if writer is None or self.closed or self.recorder.pid != os.getpid():
            return
        with writer.lock:
            writer.flush()
            if self._owner:
                self._reaggregate_if_joined()
                self._write_artifacts()

    # -- process hooks (``_lifecycle.py``) -----------------------------------------

    def after_fork(self) -> None:
        """Go on in a forked child of the process that started the session: fresh event
        ids, the run's registry entry and ``run_start`` of this process; the parent still
        owns the run. Called by flowscribe's own fork hook: an app never needs to."""
        self.recorder.new_process()
        self._owner = False  # the parent owns the run (unless it ends first: _last_out)
        self._folded_to = 0
        self._end_lock = threading.Lock()
        self._env_saved = {}
        self._member = None
        cfg = self.config
        if self.active and not self.closed and not self.test_run and cfg is not None:
            from . import _launch

            self._member = _launch.enter(cfg.autodev_dir, self.run_id or "")
        self.recorder.attach(self._writer)  # the writer's hook gave it a fresh queue
        if self.active and not self.closed:
            site = _callsite.caller()
            self._record_run_start(site)

    def _restore_env(self) -> None:
        saved, self._env_saved = self._env_saved, {}
        if not saved or self.recorder.pid != os.getpid():
            return
        _children.restore_env(saved)



def get_session() -> Session:
    """The default session: the first one started and still open, else a new one.

    After the default session ended, a new one is started only by :func:`init`; until
    then the module-level functions record nothing.
    """
    s = _lifecycle.default
    if s is not None:
        return s
    return _lifecycle.start_default(Session)


def init(
    app_name: str | None = None,
    mode: str | None = None,
    tags: Sequence[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    run_id: str | None = None,
) -> Session:
    """Start the default session (ending the previous default, if one is open)."""
    return _lifecycle.replace_default(
        lambda: Session(app_name, mode, tags, root=root, run_id=run_id)
    )


def end_session() -> None:
    """End the default session (see :meth:`Session.end_session`)."""
    s = _lifecycle.default
    if s is not None:
        s.end_session()


def traced(
    flow_id: str,
    *,
    parent: ParentLike = None,
    tags: Sequence[str] | None = None,
    session: Session | None = None,
    capture_args: bool = False,
    **correlation: Any,
) -> Callable[[F], F]:
    """Decorator: every call of the function (sync or ``async``) is one instance of
    ``flow_id``, placed at the function's definition.

    Arguments whose names are the flow's catalog ``correlation_keys`` become correlation
    keys of the instance; keyword arguments given here are added to them. With
    ``capture_args=True`` the call's arguments are the flow_start's evidence (redacted as
    evidence is; see ``_call_args``), so ``flowscribe test-from`` can call it again.
    """

    def decorate(fn: F) -> F:
        code = getattr(fn, "__code__", None)
        names: tuple[str, ...] = ()
        if code is not None:
            names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]

        def open_flow(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Flow | NullFlow:
            s = session if session is not None else get_session()
            info = s._infos.get(flow_id) or s._info(flow_id)
            corr = dict(correlation)
            keys = info.correlation_keys
            if keys:
                for name, value in zip(names, args):
                    if name in keys:
                        corr[name] = value
                for name in keys.intersection(kwargs):
                    corr[name] = kwargs[name]
            f = s.flow(flow_id, parent=parent, tags=tags, **corr)
            if code is not None and isinstance(f, Flow):
                f.bind_call(
                    _callsite.site_of_code(code),
                    _call_args(code, args, kwargs) if capture_args else None,
                )
            return f

        if code is not None and code.co_flags & _CO_COROUTINE:
            async_fn: Callable[..., Awaitable[Any]] = fn

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with open_flow(args, kwargs):
                    return await async_fn(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with open_flow(args, kwargs):
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def _call_args(code: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A traced call's arguments as flow_start evidence: ``args`` maps each parameter name
    to its value (extra positional ones under ``*<name>``), ``positional`` says how many
    of them came positionally. Only JSON data is kept as it is; anything else is recorded
    as ``"<unserialisable T>"`` and named in ``unserialisable``, so a replay knows."""
    names = code.co_varnames[: code.co_argcount]
    out: dict[str, Any] = {}
    bad: list[str] = []

    def put(name: str, value: Any) -> None:
        if _is_json_data(value, 0):
            out[name] = value
        else:
            out[name] = f"<unserialisable {type(value).__name__}>"
            bad.append(name)

    for name, value in zip(names, args):
        put(name, value)
    if len(args) > len(names):
        star = code.co_varnames[code.co_argcount + code.co_kwonlyargcount] \
            if code.co_flags & _CO_VARARGS else "args"
        put("*" + star, list(args[len(names):]))
    for name, value in kwargs.items():
        put(name, value)
    evidence: dict[str, Any] = {"args": out, "positional": min(len(args), len(names))}
    if bad:
        evidence["unserialisable"] = bad
    return evidence


def _is_json_data(value: Any, depth: int) -> bool:
    """True for what survives a JSON round trip as the same value (tuples as lists)."""
    if value is None or isinstance(value, (str, bool, int)):
        return type(value) in (str, bool, int) or value is None
    if isinstance(value, float):
        return type(value) is float and value == value and abs(value) != float("inf")
    if depth > 8:
        return False
    if type(value) in (list, tuple):
        return all(_is_json_data(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_json_data(v, depth + 1) for k, v in value.items())
    return False
