"""``.autodev/ra.yaml`` plus the ``RA_*`` environment -> :class:`Config`.

Every key of the documented example is honoured; a missing file means the documented
defaults. A bad config never stops the app: each mistake becomes a :class:`Problem`
naming the file, line, column and key, the bad value falls back to its default, and
everything else the user set is kept.

Environment overrides (applied after the file):

==================  ===============================================================
``RA_ENABLED``      ``0``/``1`` (also ``true``/``false``, ``yes``/``no``, ``on``/``off``)
``RA_PROFILE``      a profile name (built-in ``all`` and ``critical``, or one of yours)
``RA_INCLUDE``      comma-separated flow globs; *replaces* every include list
``RA_EXCLUDE``      comma-separated flow globs; *added* to every exclude list
``RA_TAGS``         comma-separated tags; *replaces* ``include_tags``
``RA_TRACE_TAIL``   ``artifacts.trace_tail_events``
==================  ===============================================================

How a flow is selected (:meth:`Config.flow_allowed`): the active profile and ``filters``
both apply. A flow is recorded when tracing is enabled, it matches no exclude pattern
(profile, filters, ``RA_EXCLUDE``), it matches an include pattern (the profile's plus the
filters' extras; an empty profile include list means every flow), none of its tags is
excluded, and, when ``include_tags`` are set, it carries one of them. An event's severity
must reach both the profile's and the filters' ``min_severity``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable

from . import patterns
from ._checks import MISSING, Checker, Problem, did_you_mean, display_path, got, is_positive_number
from ._files import read_regular
from ._record import Record
from ._yamlcache import CACHE_DIR, load_yaml_cached
from ._yamlpos import Path_, YamlDoc, load_yaml
from .vocabulary import SEVERITIES, SEVERITY_ALIASES, SINK_TYPES
from .vocabulary import severity_rank as _severity_rank

__all__ = [
    "ASK_MD_VALUES",
    "CONFIG_FILE",
    "CONSOLE_LEVELS",
    "DEFAULT_AUTODEV",
    "DEFAULT_REDACT_KEYS",
    "Artifacts",
    "Config",
    "Filters",
    "OtlpOptions",
    "Performance",
    "Privacy",
    "Problem",
    "Profile",
    "Retention",
    "Sink",
    "did_you_mean",
    "load_config",
    "parse_config",
    "severity_rank",
]

DEFAULT_AUTODEV = ".autodev"
CONFIG_FILE = "ra.yaml"
ASK_MD_VALUES = ("always", "on_failure", "never")
#: What the otlp sink speaks (docs/otlp.md); gRPC and HTTP/JSON are not offered.
OTLP_PROTOCOLS = ("http/protobuf",)
#: What the console prints: ``verdicts`` (failures, exceptions, failed flows, the run's
#: start and end), ``flows`` (also every flow's end and success), ``all`` (every event).
CONSOLE_LEVELS = ("verdicts", "flows", "all")
#: Names whose values are always redacted (docs/privacy.md; matching: ``_secret_keys``).
#: Some are covered by another (``refresh_token`` by ``token``) and listed to be found.
DEFAULT_REDACT_KEYS = (
    "api_key", "token", "password", "secret", "auth", "cookie",
    "passwd", "pwd", "passphrase", "credential", "private_key", "client_secret",
    "access_token", "refresh_token", "access_key", "sessionid", "sessid", "session_key",
    "sid", "set-cookie", "csrf", "xsrf", "jwt", "credit_card", "card_number", "cvv", "cvc",
)
#: Smallest payload_limit: the truncation marker itself must fit.
MIN_PAYLOAD_LIMIT = 64
#: The profile used when ra.yaml names none. The example's ``critical`` profile only lets
#: through the example app's domains (data/**, indicators/**, orders/**): as an implicit
#: default it would silently drop every flow of an app that has not written a config yet
#: (the quickstart's ``demo/flow`` included). ``flowscribe init`` writes ``critical``.
DEFAULT_PROFILE = "all"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_ENV_FILE = "environment"


def severity_rank(severity: str | None) -> int:
    """0 (debug) .. 4 (critical); ``None`` counts as info, unknown names as -1."""
    return 1 if severity is None else _severity_rank(severity, unknown=-1)


class Profile(Record):
    """A named selection of flows (``profiles.<name>``)."""

    _fields = ("include_flows", "exclude_flows", "include_tags", "min_severity")
    __slots__ = _fields

    def __init__(
        self,
        include_flows: tuple[str, ...] = (),
        exclude_flows: tuple[str, ...] = (),
        include_tags: tuple[str, ...] = (),
        min_severity: str = "debug",
    ) -> None:
        self.include_flows = include_flows
        self.exclude_flows = exclude_flows
        self.include_tags = include_tags
        self.min_severity = min_severity


class OtlpOptions(Record):
    """The otlp sink's keys (docs/otlp.md). ``None`` means "not set in ra.yaml": the
    standard ``OTEL_EXPORTER_OTLP_*`` variables, then the exporter's defaults, apply."""

    _fields = (
        "endpoint", "headers", "protocol", "timeout_s", "export_evidence", "max_queue_events",
    )
    __slots__ = _fields

    def __init__(
        self,
        endpoint: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        protocol: str = "http/protobuf",
        timeout_s: float | None = None,
        export_evidence: bool = False,
        max_queue_events: int = 8192,
    ) -> None:
        #: base URL of the receiver (``/v1/traces`` and ``/v1/metrics`` are appended).
        self.endpoint = endpoint
        #: header name -> value (API keys: never printed, never written anywhere).
        self.headers = headers
        self.protocol = protocol
        self.timeout_s = timeout_s
        #: off by default: evidence goes to a backend only when the user says so.
        self.export_evidence = export_evidence
        #: events waiting for the exporter thread; more are dropped (and counted).
        self.max_queue_events = max_queue_events


class Sink(Record):
    """Where events go: ``console``, ``jsonl``, ``sqlite``, ``logging`` or ``otlp``; ``path``
    relative to the root. ``level`` is the console's (and ``logging``'s, which sends the
    console's lines through stdlib logging): which events it prints (:data:`CONSOLE_LEVELS`);
    ``otlp`` holds the otlp sink's options."""

    _fields = ("type", "path", "level", "otlp")
    __slots__ = _fields

    def __init__(
        self,
        type: str,
        path: str | None = None,
        level: str = "verdicts",
        otlp: OtlpOptions | None = None,
    ) -> None:
        self.type = type
        self.path = path
        self.level = level
        self.otlp = otlp


class Artifacts(Record):
    """What the end of a run writes (``artifacts``)."""

    _fields = ("summary_md", "ask_md", "per_run_dirs", "trace_tail_events", "on_signal")
    __slots__ = _fields

    def __init__(
        self,
        summary_md: bool = True,
        ask_md: str = "on_failure",
        per_run_dirs: bool = True,
        trace_tail_events: int = 50,
        on_signal: bool = True,
    ) -> None:
        self.summary_md = summary_md
        self.ask_md = ask_md
        self.per_run_dirs = per_run_dirs
        self.trace_tail_events = trace_tail_events
        #: SIGTERM/SIGHUP (and an app's own INT handler) write the artifacts first (_signals.py).
        self.on_signal = on_signal


class Privacy(Record):
    """What is redacted and how much of a payload is kept (``privacy``)."""

    _fields = ("redact_keys", "payload_limit", "allow_raw_payloads")
    __slots__ = _fields

    def __init__(
        self,
        redact_keys: tuple[str, ...] = DEFAULT_REDACT_KEYS,
        payload_limit: int = 2048,
        allow_raw_payloads: bool = False,
    ) -> None:
        #: Always includes :data:`DEFAULT_REDACT_KEYS`; ra.yaml can add keys, never remove them.
        self.redact_keys = redact_keys
        self.payload_limit = payload_limit
        self.allow_raw_payloads = allow_raw_payloads


class Filters(Record):
    """Which events are recorded, over every profile (``filters``)."""

    _fields = ("include_tags", "exclude_tags", "include_flows", "exclude_flows", "min_severity")
    __slots__ = _fields

    def __init__(
        self,
        include_tags: tuple[str, ...] = (),
        exclude_tags: tuple[str, ...] = (),
        include_flows: tuple[str, ...] = (),
        exclude_flows: tuple[str, ...] = (),
        min_severity: str = "info",
    ) -> None:
        self.include_tags = include_tags
        self.exclude_tags = exclude_tags
        self.include_flows = include_flows
        self.exclude_flows = exclude_flows
        self.min_severity = min_severity


class Performance(Record):
    """Latency buckets and SLA targets (``performance``)."""

    _fields = ("latency_buckets_ms", "sla_overrides")
    __slots__ = _fields

    def __init__(
        self,
        latency_buckets_ms: tuple[float, ...] = (50.0, 200.0, 1000.0),
        sla_overrides: Mapping[str, float] | None = None,
    ) -> None:
        self.latency_buckets_ms = latency_buckets_ms
        #: flow id (or glob) -> p95 target in ms; wins over the catalog's ``sla.p95_ms``.
        self.sla_overrides: Mapping[str, float] = (
            {"orders/submit": 1000.0, "data/fetch/minute_candles": 800.0}
            if sla_overrides is None else sla_overrides)


class Retention(Record):
    """How much history the trace and the run folders keep (``retention``)."""

    _fields = ("rotate_trace", "max_trace_bytes", "trace_backups", "keep_runs")
    __slots__ = _fields

    def __init__(
        self,
        rotate_trace: bool = True,
        max_trace_bytes: int = 10 * 1024 * 1024,
        trace_backups: int = 5,
        keep_runs: int = 20,
    ) -> None:
        self.rotate_trace = rotate_trace
        self.max_trace_bytes = max_trace_bytes
        #: rotated traces kept (trace.jsonl.1 .. .N): history is at most (N + 1) x max bytes.
        self.trace_backups = trace_backups
        self.keep_runs = keep_runs


def _default_profiles() -> dict[str, Profile]:
    return {
        "critical": Profile(
            include_flows=("data/**", "indicators/**", "orders/**"),
            exclude_flows=("**/debug/**",),
            min_severity="info",
        ),
        "all": Profile(include_flows=("**",), min_severity="debug"),
    }


def _default_sinks(root: Path, autodev_dir: Path) -> tuple[Sink, ...]:
    return (Sink("console"), Sink("jsonl", _default_sink_path("jsonl", root, autodev_dir)))


def _default_sink_path(kind: str, root: Path, autodev_dir: Path) -> str | None:
    name = {"jsonl": "trace.jsonl", "sqlite": "trace.db"}.get(kind)
    if name is None:
        return None
    try:
        return (autodev_dir / name).relative_to(root).as_posix()
    except ValueError:
        return str(autodev_dir / name)


_FLOW_CACHE_MAX = 4096


class Config(Record):
    """The effective configuration: ra.yaml with defaults and env overrides applied.

    Read-only by convention (``_replace`` makes a changed copy): what the flow and
    severity filters are compiled from at construction."""

    _fields = (
        "root", "autodev_dir", "path", "version", "enabled", "profile", "profiles", "sinks",
        "artifacts", "privacy", "filters", "performance", "retention", "env_include",
        "env_exclude", "env_tags", "env_applied",
    )
    # Beside the fields: the filters compiled from them (not compared, not replaced).
    __slots__ = (*_fields, "_exclude", "_exclude_tags", "_flow_cache", "_include",
                 "_include_tags", "_min_rank")

    def __init__(
        self,
        root: Path,
        autodev_dir: Path,
        path: Path | None = None,
        version: int = 1,
        enabled: bool = True,
        profile: str = DEFAULT_PROFILE,
        profiles: Mapping[str, Profile] | None = None,
        sinks: tuple[Sink, ...] = (),
        artifacts: Artifacts | None = None,
        privacy: Privacy | None = None,
        filters: Filters | None = None,
        performance: Performance | None = None,
        retention: Retention | None = None,
        env_include: tuple[str, ...] | None = None,
        env_exclude: tuple[str, ...] = (),
        env_tags: tuple[str, ...] | None = None,
        env_applied: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.autodev_dir = autodev_dir
        #: The ra.yaml that was read, or ``None`` when there was none.
        self.path = path
        self.version = version
        self.enabled = enabled
        self.profile = profile
        self.profiles: Mapping[str, Profile] = (
            _default_profiles() if profiles is None else profiles)
        self.sinks = sinks
        self.artifacts = Artifacts() if artifacts is None else artifacts
        self.privacy = Privacy() if privacy is None else privacy
        self.filters = Filters() if filters is None else filters
        self.performance = Performance() if performance is None else performance
        self.retention = Retention() if retention is None else retention
        #: ``RA_INCLUDE``: when set, replaces every include list.
        self.env_include = env_include
        #: ``RA_EXCLUDE``: added to every exclude list.
        self.env_exclude = env_exclude
        #: ``RA_TAGS``: when set, replaces ``include_tags``.
        self.env_tags = env_tags
        #: Names of the ``RA_*`` variables that took effect.
        self.env_applied = env_applied
        prof = self.active_profile
        flt = self.filters
        if env_include is not None:
            include: Callable[[str], bool] | None = patterns.compile_patterns(env_include)
        elif prof.include_flows:
            include = patterns.compile_patterns(prof.include_flows + flt.include_flows)
        else:
            include = None
        self._include = include
        self._exclude = patterns.compile_patterns(
            prof.exclude_flows + flt.exclude_flows + env_exclude)
        tags = env_tags if env_tags is not None else prof.include_tags + flt.include_tags
        self._include_tags = frozenset(tags)
        self._exclude_tags = frozenset(flt.exclude_tags)
        self._min_rank = max(severity_rank(prof.min_severity), severity_rank(flt.min_severity))
        self._flow_cache: dict[str, bool] = {}

    @classmethod
    def defaults(cls, root: Path, autodev_dir: Path | None = None) -> Config:
        """The documented defaults (what a project without ra.yaml gets)."""
        root = Path(root)
        adir = Path(autodev_dir) if autodev_dir is not None else root / DEFAULT_AUTODEV
        return cls(root=root, autodev_dir=adir, sinks=_default_sinks(root, adir))

    @property
    def active_profile(self) -> Profile:
        """The profile named by ``profile`` (validated on load, so it always exists)."""
        prof = self.profiles.get(self.profile)
        return prof if prof is not None else Profile()

    def flow_allowed(self, flow_id: str, tags: Sequence[str] = ()) -> bool:
        """Whether events of ``flow_id`` (carrying ``tags``) are recorded."""
        if not self.enabled:
            return False
        cache = self._flow_cache
        ok = cache.get(flow_id)
        if ok is None:
            ok = not self._exclude(flow_id) and (self._include is None or self._include(flow_id))
            if len(cache) >= _FLOW_CACHE_MAX:
                cache.clear()
            cache[flow_id] = ok
        if not ok:
            return False
        if self._exclude_tags and not self._exclude_tags.isdisjoint(tags):
            return False
        return not self._include_tags or not self._include_tags.isdisjoint(tags)

    def severity_allowed(self, severity: str | None) -> bool:
        """Whether an event of this severity passes ``min_severity`` (unknown names pass)."""
        rank = severity_rank(severity)
        return rank < 0 or rank >= self._min_rank

    def sla_p95_ms(self, flow_id: str) -> float | None:
        """The ``performance.sla_overrides`` p95 target for ``flow_id`` (exact id, else glob)."""
        over = self.performance.sla_overrides
        hit = over.get(flow_id)
        if hit is not None:
            return hit
        for pattern, ms in over.items():
            if patterns.is_glob(pattern) and patterns.matches(pattern, flow_id):
                return ms
        return None

    def resolve(self, path: str) -> Path:
        """A path from the config (e.g. a sink's) made absolute against the project root."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def trace_tail_events(self) -> int:
        return self.artifacts.trace_tail_events


def load_config(
    root: Path,
    env: Mapping[str, str] = os.environ,
    autodev_dir: Path | None = None,
    *,
    cached: bool = False,
) -> tuple[Config, list[Problem]]:
    """Read ``<root>/.autodev/ra.yaml`` (if any) and apply ``RA_*`` overrides; never raises.

    ``cached``: the parsed document is kept in ``.autodev/cache`` for the next read of
    the same text (``_yamlcache.py``: a start then skips PyYAML)."""
    root = Path(root)
    adir = Path(autodev_dir) if autodev_dir is not None else root / DEFAULT_AUTODEV
    path = adir / CONFIG_FILE
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return _apply_env(Config.defaults(root, adir), env, [])
    except OSError as exc:
        problems = [Problem(display_path(path, root), 0, 0, "",
                            f"cannot read ({exc.strerror or exc}); using defaults")]
        return _apply_env(Config.defaults(root, adir), env, problems)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems = [Problem(display_path(path, root), 0, 0, "",
                            f"not UTF-8 text (byte {exc.start}); using defaults")]
        return _apply_env(Config.defaults(root, adir), env, problems)
    doc = load_yaml_cached(text, adir / CACHE_DIR, CONFIG_FILE) if cached else load_yaml(text)
    return _from_doc(doc, path, root, env, adir)


def parse_config(
    text: str,
    path: Path,
    root: Path | None = None,
    env: Mapping[str, str] = os.environ,
    autodev_dir: Path | None = None,
) -> tuple[Config, list[Problem]]:
    """Parse ra.yaml text (e.g. an editor's unsaved buffer); never raises.

    ``root`` defaults to the parent of the folder holding ``path``.
    """
    path = Path(path)
    adir = Path(autodev_dir) if autodev_dir is not None else path.parent
    root = Path(root) if root is not None else adir.parent
    return _from_doc(load_yaml(text), path, root, env, adir)


def _from_doc(
    doc: YamlDoc, path: Path, root: Path, env: Mapping[str, str], adir: Path
) -> tuple[Config, list[Problem]]:
    reader = _Reader(doc, display_path(path, root))
    cfg = reader.config(Config.defaults(root, adir), path)
    reader.problems.sort(key=lambda p: (p.line, p.column))
    return _apply_env(cfg, env, reader.problems)


_TOP_KEYS = ("version", "enabled", "profile", "profiles", "sinks", "artifacts", "privacy",
             "filters", "performance", "retention")
_PROFILE_KEYS = ("include_flows", "exclude_flows", "include_tags", "min_severity")
_SINK_KEYS = ("type", "path", "level")
#: The sinks that print the console's lines, and so have a level and no path.
_LINE_SINKS = ("console", "logging")
_OTLP_KEYS = ("type", "endpoint", "headers", "protocol", "timeout_s", "export_evidence",
              "max_queue_events")
_ARTIFACT_KEYS = ("summary_md", "ask_md", "per_run_dirs", "trace_tail_events", "on_signal")
_PRIVACY_KEYS = ("redact_keys", "payload_limit", "allow_raw_payloads")
_FILTER_KEYS = ("include_tags", "exclude_tags", "include_flows", "exclude_flows",
                "min_severity")
_PERF_KEYS = ("latency_buckets_ms", "sla_overrides")
_SLA_KEYS = ("p95_ms",)
MAX_TRACE_BACKUPS = 1000
_RETENTION_KEYS = ("rotate_trace", "max_trace_bytes", "trace_backups", "keep_runs")


class _Reader(Checker):
    """Validates the YAML tree section by section; any bad value falls back to its default."""

    section_note = "; using defaults"

    def choice(self, sec: dict[str, Any], path: Path_, key: str, default: str,
               allowed: Sequence[str]) -> str:
        v = self.get(sec, path, key)
        if v is MISSING:
            return default
        if isinstance(v, str):
            norm = v.strip().lower()
            norm = SEVERITY_ALIASES.get(norm, norm) if allowed is SEVERITIES else norm
            if norm in allowed:
                return norm
        self.bad((*path, key), f"must be one of {', '.join(allowed)} (got {got(v)})")
        return default

    def string_tuple(self, sec: dict[str, Any], path: Path_, key: str,
                     default: tuple[str, ...]) -> tuple[str, ...]:
        v = self.strings(sec, path, key)
        return default if v is None else tuple(v)

    # -- sections ------------------------------------------------------------------------
    def config(self, base: Config, path: Path) -> Config:
        data = self.doc.data
        if not self.doc.parsed:
            return base._replace(path=path)
        if data is None:
            return base._replace(path=path)
        top = self.section(data, (), _TOP_KEYS)
        version = self.integer(top, (), "version", 1, minimum=1)
        if version != 1:
            self.bad(("version",), f"unsupported version {version} (this flowscribe reads 1)")
        profiles = self.profiles(top.get("profiles"))
        profile = base.profile
        pv = self.get(top, (), "profile")
        if pv is not MISSING:
            if isinstance(pv, str) and pv in profiles:
                profile = pv
            else:
                self.bad(("profile",), f"unknown profile {got(pv)} (defined: "
                         f"{', '.join(sorted(profiles))}); using '{base.profile}'")
        return base._replace(
            path=path,
            version=1,
            enabled=self.boolean(top, (), "enabled", base.enabled),
            profile=profile,
            profiles=profiles,
            sinks=self.sinks(top.get("sinks"), base),
            artifacts=self.artifacts(top.get("artifacts"), base.artifacts),
            privacy=self.privacy(top.get("privacy"), base.privacy),
            filters=self.filters(top.get("filters"), base.filters),
            performance=self.performance(top.get("performance"), base.performance),
            retention=self.retention(top.get("retention"), base.retention),
        )

    def profiles(self, data: Any) -> dict[str, Profile]:
        out = _default_profiles()
        if data is None:
            return out
        path: Path_ = ("profiles",)
        if not isinstance(data, dict):
            if not self.rejected(path):
                self.bad(path, f"must be a mapping of profile names (got {got(data)})")
            return out
        for name, body in data.items():
            sub: Path_ = (*path, str(name))
            # Redefining a built-in profile changes only the keys given.
            d = out.get(str(name), Profile())
            sec = self.section(body, sub, _PROFILE_KEYS)
            out[str(name)] = Profile(
                include_flows=self.string_tuple(sec, sub, "include_flows", d.include_flows),
                exclude_flows=self.string_tuple(sec, sub, "exclude_flows", d.exclude_flows),
                include_tags=self.string_tuple(sec, sub, "include_tags", d.include_tags),
                min_severity=self.choice(sec, sub, "min_severity", d.min_severity, SEVERITIES),
            )
        return out

    def sinks(self, data: Any, base: Config) -> tuple[Sink, ...]:
        path: Path_ = ("sinks",)
        if data is None:
            return base.sinks
        if not isinstance(data, list):
            if not self.rejected(path):
                self.bad(path, f"must be a list of sinks (got {got(data)}); using defaults")
            return base.sinks
        out = []
        for i, item in enumerate(data):
            sub: Path_ = (*path, i)
            if isinstance(item, str):
                item = {"type": item}
            if not isinstance(item, dict):
                if not self.rejected(sub):
                    self.bad(sub, f"must be a mapping with 'type' (got {got(item)}); ignored")
                continue
            if item.get("type") == "otlp":
                out.append(Sink("otlp", otlp=self.otlp(self.section(item, sub, _OTLP_KEYS), sub)))
                continue
            sec = self.section(item, sub, _SINK_KEYS)
            kind = self.get(sec, sub, "type")
            if kind is MISSING:
                self.bad(sub, f"missing 'type' (one of {', '.join(SINK_TYPES)}); ignored")
                continue
            if kind not in SINK_TYPES:
                self.bad((*sub, "type"), f"must be one of {', '.join(SINK_TYPES)} "
                         f"(got {got(kind)}); sink ignored")
                continue
            sink_path = self.get(sec, sub, "path")
            if sink_path is MISSING or kind in _LINE_SINKS:
                sink_path = _default_sink_path(kind, base.root, base.autodev_dir)
            elif not isinstance(sink_path, str) or not sink_path.strip():
                self.bad((*sub, "path"), f"must be a file path (got {got(sink_path)}); "
                         "using the default")
                sink_path = _default_sink_path(kind, base.root, base.autodev_dir)
            level = self.get(sec, sub, "level")
            if level is MISSING:
                level = "verdicts"
            elif kind not in _LINE_SINKS:
                self.bad((*sub, "level"), "only the console and logging sinks have a level; "
                         "ignored",
                         severity="warning")
                level = "verdicts"
            elif level not in CONSOLE_LEVELS:
                self.bad((*sub, "level"), f"must be one of {', '.join(CONSOLE_LEVELS)} "
                         f"(got {got(level)}); using verdicts")
                level = "verdicts"
            out.append(Sink(kind, sink_path, level))
        return tuple(out)

    def otlp(self, sec: dict[str, Any], sub: Path_) -> OtlpOptions:
        d = OtlpOptions()
        endpoint = self.string(sec, sub, "endpoint")
        if endpoint is not None and not endpoint.startswith(("http://", "https://")):
            self.bad((*sub, "endpoint"), "must be an http:// or https:// URL; "
                     "using OTEL_EXPORTER_OTLP_ENDPOINT or the default")
            endpoint = None
        protocol = self.choice(sec, sub, "protocol", d.protocol, OTLP_PROTOCOLS)
        timeout = self.get(sec, sub, "timeout_s")
        if timeout is MISSING:
            timeout = None
        elif not is_positive_number(timeout):
            self.bad((*sub, "timeout_s"), f"must be a positive number of seconds "
                     f"(got {got(timeout)}); using the exporter's")
            timeout = None
        return OtlpOptions(
            endpoint=endpoint,
            headers=self.headers(sec, sub),
            protocol=protocol,
            timeout_s=None if timeout is None else float(timeout),
            export_evidence=self.boolean(sec, sub, "export_evidence", d.export_evidence),
            max_queue_events=self.integer(sec, sub, "max_queue_events", d.max_queue_events,
                                          minimum=1),
        )

    def headers(self, sec: dict[str, Any], sub: Path_) -> tuple[tuple[str, str], ...]:
        """``{name: value}`` of strings. Values are credentials: a bad one is named by its
        key, never quoted."""
        v = self.get(sec, sub, "headers")
        if v is MISSING:
            return ()
        if not isinstance(v, dict):
            self.bad((*sub, "headers"), "must be a mapping of header names to values; ignored")
            return ()
        out = []
        for name, value in v.items():
            if not isinstance(name, str) or not name.strip() or not isinstance(value, str):
                self.bad((*sub, "headers", str(name)),
                         "must be a header name with a string value; ignored")
                continue
            out.append((name.strip(), value))
        return tuple(out)

    def artifacts(self, data: Any, d: Artifacts) -> Artifacts:
        path: Path_ = ("artifacts",)
        sec = self.section(data, path, _ARTIFACT_KEYS)
        ask = sec.get("ask_md")
        if isinstance(ask, bool):  # `ask_md: true/false` reads naturally; accept it
            sec = {**sec, "ask_md": "always" if ask else "never"}
        return Artifacts(
            summary_md=self.boolean(sec, path, "summary_md", d.summary_md),
            ask_md=self.choice(sec, path, "ask_md", d.ask_md, ASK_MD_VALUES),
            per_run_dirs=self.boolean(sec, path, "per_run_dirs", d.per_run_dirs),
            trace_tail_events=self.integer(sec, path, "trace_tail_events",
                                           d.trace_tail_events),
            on_signal=self.boolean(sec, path, "on_signal", d.on_signal),
        )

    def privacy(self, data: Any, d: Privacy) -> Privacy:
        path: Path_ = ("privacy",)
        sec = self.section(data, path, _PRIVACY_KEYS)
        keys = self.string_tuple(sec, path, "redact_keys", ())
        merged = tuple(dict.fromkeys(
            [*DEFAULT_REDACT_KEYS, *(k.strip().lower() for k in keys if k.strip())]))
        return Privacy(
            redact_keys=merged,
            payload_limit=self.integer(sec, path, "payload_limit", d.payload_limit,
                                       minimum=MIN_PAYLOAD_LIMIT),
            allow_raw_payloads=self.boolean(sec, path, "allow_raw_payloads",
                                            d.allow_raw_payloads),
        )

    def filters(self, data: Any, d: Filters) -> Filters:
        path: Path_ = ("filters",)
        sec = self.section(data, path, _FILTER_KEYS)
        return Filters(
            include_tags=self.string_tuple(sec, path, "include_tags", d.include_tags),
            exclude_tags=self.string_tuple(sec, path, "exclude_tags", d.exclude_tags),
            include_flows=self.string_tuple(sec, path, "include_flows", d.include_flows),
            exclude_flows=self.string_tuple(sec, path, "exclude_flows", d.exclude_flows),
            min_severity=self.choice(sec, path, "min_severity", d.min_severity, SEVERITIES),
        )

    def performance(self, data: Any, d: Performance) -> Performance:
        path: Path_ = ("performance",)
        sec = self.section(data, path, _PERF_KEYS)
        buckets = d.latency_buckets_ms
        v = self.get(sec, path, "latency_buckets_ms")
        if v is not MISSING:
            sub: Path_ = (*path, "latency_buckets_ms")
            if isinstance(v, list) and all(is_positive_number(x) for x in v):
                buckets = tuple(sorted({float(x) for x in v}))
            else:
                self.bad(sub, f"must be a list of positive numbers (got {got(v)}); "
                         "using the defaults")
        overrides = dict(d.sla_overrides)
        v = self.get(sec, path, "sla_overrides")
        if v is not MISSING:
            overrides = self.sla_overrides(v, (*path, "sla_overrides"), overrides)
        return Performance(latency_buckets_ms=buckets, sla_overrides=overrides)

    def sla_overrides(self, v: Any, path: Path_, default: dict[str, float]
                      ) -> dict[str, float]:
        if not isinstance(v, dict):
            self.bad(path, f"must map flow ids to {{p95_ms: N}} (got {got(v)})")
            return default
        out: dict[str, float] = {}
        for flow, body in v.items():
            sub: Path_ = (*path, str(flow))
            if is_positive_number(body):  # `"orders/submit": 1000` is unambiguous
                out[str(flow)] = float(body)
                continue
            sec = self.section(body, sub, _SLA_KEYS)
            ms = self.positive_ms(sec, sub, "p95_ms", "; ignored")
            if ms is not None:
                out[str(flow)] = ms
            elif isinstance(body, dict) and self.get(sec, sub, "p95_ms") is MISSING:
                self.bad(sub, "missing 'p95_ms'; ignored")
        return out

    def retention(self, data: Any, d: Retention) -> Retention:
        path: Path_ = ("retention",)
        sec = self.section(data, path, _RETENTION_KEYS)
        backups = self.integer(sec, path, "trace_backups", d.trace_backups, minimum=1)
        if backups > MAX_TRACE_BACKUPS:  # each rotation renames every backup
            self.bad((*path, "trace_backups"),
                     f"must be at most {MAX_TRACE_BACKUPS} (got {backups})")
            backups = d.trace_backups
        return Retention(
            rotate_trace=self.boolean(sec, path, "rotate_trace", d.rotate_trace),
            max_trace_bytes=self.integer(sec, path, "max_trace_bytes", d.max_trace_bytes,
                                         minimum=4096),
            trace_backups=backups,
            keep_runs=self.integer(sec, path, "keep_runs", d.keep_runs, minimum=1),
        )


def _env_list(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(",") if p.strip())


def _apply_env(cfg: Config, env: Mapping[str, str], problems: list[Problem]
               ) -> tuple[Config, list[Problem]]:
    """Apply ``RA_*`` overrides; a bad value is reported and ignored."""
    changes: dict[str, Any] = {}
    applied: list[str] = []

    def bad(name: str, message: str) -> None:
        problems.append(Problem(_ENV_FILE, 0, 0, name, message, "warning"))

    raw = env.get("RA_ENABLED")
    if raw is not None and raw.strip():
        low = raw.strip().lower()
        if low in _TRUE or low in _FALSE:
            changes["enabled"] = low in _TRUE
            applied.append("RA_ENABLED")
        else:
            bad("RA_ENABLED", f"must be 0 or 1 (got {got(raw)}); ignored")
    raw = env.get("RA_PROFILE")
    if raw is not None and raw.strip():
        name = raw.strip()
        if name in cfg.profiles:
            changes["profile"] = name
            applied.append("RA_PROFILE")
        else:
            bad("RA_PROFILE", f"unknown profile {got(name)} (defined: "
                f"{', '.join(sorted(cfg.profiles))}); ignored")
    raw = env.get("RA_INCLUDE")
    if raw is not None and _env_list(raw):
        changes["env_include"] = _env_list(raw)
        applied.append("RA_INCLUDE")
    raw = env.get("RA_EXCLUDE")
    if raw is not None and _env_list(raw):
        changes["env_exclude"] = _env_list(raw)
        applied.append("RA_EXCLUDE")
    raw = env.get("RA_TAGS")
    if raw is not None and _env_list(raw):
        changes["env_tags"] = _env_list(raw)
        applied.append("RA_TAGS")
    raw = env.get("RA_TRACE_TAIL")
    if raw is not None and raw.strip():
        try:
            tail = int(raw.strip())
        except ValueError:
            tail = -1
        if tail >= 0:
            changes["artifacts"] = cfg.artifacts._replace(trace_tail_events=tail)
            applied.append("RA_TRACE_TAIL")
        else:
            bad("RA_TRACE_TAIL", f"must be a whole number >= 0 (got {got(raw)}); ignored")
    if changes:
        cfg = cfg._replace(env_applied=tuple(applied), **changes)
    return cfg, problems
