"""``.autodev/flows.yaml`` -> :class:`Catalog`: the declared flows, each with its position.

The runtime uses the catalog to silence disabled flows and enrich summaries; the language
server reuses it for hovers, navigation and the "catalog checks" diagnostics, which is why
every entry keeps its line/column and every problem names an exact position.

Schema (the original description's)::

    version: 1
    defaults: {tags: [...], correlation_keys: [...], on_failure: ..., parent: ..., enabled: ...}
    flows:
      - id: "data/fetch/minute_candles"       # required, unique
        enabled: true
        description: "..."
        parent: "premarket/prepare"
        success: {criteria: ["rows >= 300"]}
        failure_classes: ["DATA.EMPTY"]
        correlation_keys: ["ticker", "date"]
        code_refs: ["src/data/fetcher.py"]     # relative to the project root
        tags: ["ticker"]
        sla: {p95_ms: 800}
        on_failure: generate_prompt

Defaults apply to every entry: ``tags`` are added to the entry's own, ``correlation_keys``,
``on_failure``, ``parent`` and ``enabled`` are used when the entry does not set them. The
project root is the parent of the folder that holds flows.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._checks import MISSING, Checker, Problem, did_you_mean, display_path, got
from ._files import read_regular
from ._record import Record
from ._yamlcache import CACHE_DIR, load_yaml_cached
from ._yamlpos import Path_, YamlDoc, load_yaml

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .config import Config

__all__ = ["CATALOG_FILE", "Catalog", "FlowSpec", "load_catalog", "parse_catalog", "sla_target",
           "sla_targets"]

CATALOG_FILE = "flows.yaml"

_TOP_KEYS = ("version", "defaults", "flows")
_DEFAULT_KEYS = ("tags", "correlation_keys", "on_failure", "parent", "enabled")
_FLOW_KEYS = ("id", "enabled", "description", "parent", "success", "failure_classes",
              "correlation_keys", "code_refs", "tags", "sla", "on_failure")
_SUCCESS_KEYS = ("criteria",)
_SLA_KEYS = ("p95_ms",)


class FlowSpec(Record):
    """One catalog entry, defaults applied. Positions are 1-based (0: unknown).

    ``line``/``column`` locate the list item (its ``-``), ``id_line``/``id_column`` the id
    value, ``end_line``/``end_column`` the item's last character; ``parent_line`` and
    ``parent_column`` the parent value when the entry sets one itself.
    """

    _fields = (
        "id", "enabled", "description", "parent", "success_criteria", "failure_classes",
        "correlation_keys", "tags", "code_refs", "sla_p95_ms", "on_failure", "line", "column",
        "id_line", "id_column", "end_line", "end_column", "parent_line", "parent_column",
    )
    __slots__ = _fields

    def __init__(
        self,
        id: str,
        enabled: bool = True,
        description: str = "",
        parent: str | None = None,
        success_criteria: Sequence[str] = (),
        failure_classes: Sequence[str] = (),
        correlation_keys: Sequence[str] = (),
        tags: Sequence[str] = (),
        code_refs: Sequence[str] = (),
        sla_p95_ms: float | None = None,
        on_failure: str | None = None,
        line: int = 0,
        column: int = 0,
        id_line: int = 0,
        id_column: int = 0,
        end_line: int = 0,
        end_column: int = 0,
        parent_line: int = 0,
        parent_column: int = 0,
    ) -> None:
        self.id = id
        self.enabled = enabled
        self.description = description
        self.parent = parent
        self.success_criteria = success_criteria
        self.failure_classes = failure_classes
        self.correlation_keys = correlation_keys
        self.tags = tags
        self.code_refs = code_refs
        self.sla_p95_ms = sla_p95_ms
        self.on_failure = on_failure
        self.line = line
        self.column = column
        self.id_line = id_line
        self.id_column = id_column
        self.end_line = end_line
        self.end_column = end_column
        self.parent_line = parent_line
        self.parent_column = parent_column


class Catalog(Record):
    """The flows of one flows.yaml, by id, plus every problem found reading it."""

    _fields = ("path", "flows", "defaults", "problems", "version", "root")
    __slots__ = _fields

    def __init__(
        self,
        path: Path | None = None,
        flows: dict[str, FlowSpec] | None = None,
        defaults: dict[str, Any] | None = None,
        problems: list[Problem] | None = None,
        version: int = 1,
        root: Path | None = None,
    ) -> None:
        self.path = path
        self.flows: dict[str, FlowSpec] = {} if flows is None else flows
        self.defaults: dict[str, Any] = {} if defaults is None else defaults
        self.problems: list[Problem] = [] if problems is None else problems
        self.version = version
        #: The project root code_refs are relative to (``None`` without a file).
        self.root = root

    def get(self, flow_id: str) -> FlowSpec | None:
        """The entry for ``flow_id``, or ``None`` if the catalog does not declare it."""
        return self.flows.get(flow_id)

    def __contains__(self, flow_id: object) -> bool:
        return flow_id in self.flows

    def __iter__(self) -> Iterator[FlowSpec]:
        return iter(self.flows.values())

    def __len__(self) -> int:
        return len(self.flows)

    def is_enabled(self, flow_id: str) -> bool:
        """False only for a declared flow with ``enabled: false`` (unknown flows are on)."""
        spec = self.flows.get(flow_id)
        return spec is None or spec.enabled

    def parent_chain(self, flow_id: str) -> list[str]:
        """Ancestors of ``flow_id``, nearest first, excluding itself.

        Stops after a parent the catalog does not declare (it is included) and before
        repeating an id (a cycle).
        """
        chain: list[str] = []
        seen = {flow_id}
        spec = self.flows.get(flow_id)
        while spec is not None and spec.parent is not None and spec.parent not in seen:
            chain.append(spec.parent)
            seen.add(spec.parent)
            spec = self.flows.get(spec.parent)
        return chain

    def children(self, flow_id: str) -> list[str]:
        """Ids of the declared flows whose parent is ``flow_id``, in file order."""
        return [s.id for s in self.flows.values() if s.parent == flow_id]


def sla_target(flow_id: str, catalog: Catalog | None, config: Config | None) -> float | None:
    """A flow's p95 target in ms: ra.yaml's ``performance.sla_overrides`` first, then the
    catalog's ``sla.p95_ms``; None when neither sets one."""
    ms = config.sla_p95_ms(flow_id) if config is not None else None
    if ms is None and catalog is not None:
        spec = catalog.get(flow_id)
        ms = spec.sla_p95_ms if spec is not None else None
    return float(ms) if ms is not None else None


def sla_targets(flow_ids: Iterable[str], catalog: Catalog | None, config: Config | None
                ) -> dict[str, float]:
    """``{flow id: p95 target}`` of those of ``flow_ids`` that have one (:func:`sla_target`)."""
    out = {}
    for fid in flow_ids:
        ms = sla_target(fid, catalog, config)
        if ms is not None:
            out[fid] = ms
    return out


def load_catalog(path: Path, root: Path | None = None, *, cached: bool = False) -> Catalog:
    """Read a flows.yaml; a missing file is an empty catalog with no problems. Never raises.

    ``cached``: the parsed document is kept in ``cache/`` beside it (``path`` is then in
    ``.autodev``) for the next read of the same text (``_yamlcache.py``: a start then
    skips PyYAML)."""
    path = Path(path)
    root = Path(root) if root is not None else path.parent.parent
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return Catalog(path=None, root=root)
    except OSError as exc:
        return Catalog(path=path, root=root, problems=[
            Problem(display_path(path, root), 0, 0, "", f"cannot read ({exc.strerror or exc})")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Catalog(path=path, root=root, problems=[
            Problem(display_path(path, root), 0, 0, "", f"not UTF-8 text (byte {exc.start})")])
    doc = load_yaml_cached(text, path.parent / CACHE_DIR, path.name) if cached else load_yaml(text)
    return _from_doc(doc, path, root)


def parse_catalog(text: str, path: Path, root: Path | None = None) -> Catalog:
    """Parse flows.yaml text (e.g. an editor's unsaved buffer); never raises."""
    path = Path(path)
    root = Path(root) if root is not None else path.parent.parent
    return _from_doc(load_yaml(text), path, root)


def _from_doc(doc: YamlDoc, path: Path, root: Path) -> Catalog:
    cat = Catalog(path=path, root=root)
    parser = _Parser(doc, cat, display_path(path, root))
    parser.run()
    cat.problems = sorted(parser.problems, key=lambda p: (p.line, p.column))
    return cat


class _Parser(Checker):
    """Validates flows.yaml entry by entry into ``cat``; a bad value is left unset."""

    def __init__(self, doc: YamlDoc, cat: Catalog, file: str) -> None:
        super().__init__(doc, file)
        self.cat = cat
        self.indexes: dict[str, int] = {}

    # -- document ------------------------------------------------------------------------
    def run(self) -> None:
        data = self.doc.data
        if not self.doc.parsed or data is None:
            return
        top = self.section(data, (), _TOP_KEYS)
        version = self.get(top, (), "version")
        if version is not MISSING and version != 1:
            self.bad(("version",), f"unsupported version {got(version)} "
                     "(this flowscribe reads 1)")
        defaults = self.defaults(top.get("defaults"))
        self.cat.defaults = defaults
        flows = self.get(top, (), "flows")
        if flows is MISSING:
            return
        if not isinstance(flows, list):
            self.bad(("flows",), f"must be a list of flow entries (got {got(flows)})")
            return
        first_seen: dict[str, int] = {}
        for i, entry in enumerate(flows):
            spec = self.entry(entry, ("flows", i), defaults)
            if spec is None:
                continue
            if spec.id in self.cat.flows:
                self.bad(("flows", i, "id"), f"duplicate flow id '{spec.id}' (first defined "
                         f"on line {first_seen[spec.id]}); this entry is ignored")
                continue
            first_seen[spec.id] = spec.id_line
            self.indexes[spec.id] = i
            self.cat.flows[spec.id] = spec
        self.check_parents()

    def defaults(self, data: Any) -> dict[str, Any]:
        path: Path_ = ("defaults",)
        sec = self.section(data, path, _DEFAULT_KEYS)
        out: dict[str, Any] = {}
        for key in ("tags", "correlation_keys"):
            v = self.strings(sec, path, key)
            if v is not None:
                out[key] = v
        for key in ("on_failure", "parent"):
            s = self.string(sec, path, key)
            if s is not None:
                out[key] = s
        b = self.boolean(sec, path, "enabled", None)
        if b is not None:
            out["enabled"] = b
        return out

    def entry(self, data: Any, path: Path_, defaults: dict[str, Any]) -> FlowSpec | None:
        if not isinstance(data, dict):
            if not self.rejected(path):
                self.bad(path, f"a flow entry must be a mapping with an 'id' (got {got(data)})")
            return None
        sec = self.section(data, path, _FLOW_KEYS)
        fid = self.get(sec, path, "id")
        if fid is MISSING:
            self.bad(path, "flow entry has no 'id'; ignored")
            return None
        if not isinstance(fid, str) or not fid.strip():
            self.bad((*path, "id"), f"id must be a non-empty string (got {got(fid)}); "
                     "entry ignored")
            return None
        self.check_id(fid, (*path, "id"))

        tags = list(defaults.get("tags", []))
        for t in self.strings(sec, path, "tags") or []:
            if t not in tags:
                tags.append(t)
        corr = self.strings(sec, path, "correlation_keys")
        enabled = self.boolean(sec, path, "enabled", None)
        parent = self.string(sec, path, "parent")
        parent_line = parent_col = 0
        if parent is not None:
            parent_line, parent_col = self.doc.value_pos((*path, "parent"))
        elif defaults.get("parent") not in (None, fid):
            parent = defaults["parent"]

        item_line, item_col = self.doc.items.get(path, (0, 0))
        id_line, id_col = self.doc.value_pos((*path, "id"))
        span = self.doc.values.get(path)
        return FlowSpec(
            id=fid,
            enabled=enabled if enabled is not None else defaults.get("enabled", True),
            description=self.string(sec, path, "description") or "",
            parent=parent,
            success_criteria=self.success(sec, path),
            failure_classes=self.strings(sec, path, "failure_classes") or [],
            correlation_keys=corr if corr is not None else
            list(defaults.get("correlation_keys", [])),
            tags=tags,
            code_refs=self.code_refs(sec, path),
            sla_p95_ms=self.sla(sec, path),
            on_failure=self.string(sec, path, "on_failure") or defaults.get("on_failure"),
            line=item_line or (span.line if span else 0),
            column=item_col or (span.column if span else 0),
            id_line=id_line,
            id_column=id_col,
            end_line=span.end_line if span else id_line,
            end_column=span.end_column if span else id_col,
            parent_line=parent_line,
            parent_column=parent_col,
        )

    def check_id(self, fid: str, path: Path_) -> None:
        if fid != fid.strip() or any(c.isspace() for c in fid):
            self.bad(path, f"flow id {got(fid)} contains whitespace", "warning")
        elif "*" in fid or "?" in fid:
            self.bad(path, f"flow id {got(fid)} contains a wildcard; ids are literal "
                     "(globs belong in ra.yaml filters)", "warning")
        elif fid.startswith("/") or fid.endswith("/") or "//" in fid:
            self.bad(path, f"flow id {got(fid)} has an empty path segment", "warning")

    def success(self, sec: dict[str, Any], path: Path_) -> list[str]:
        v = self.get(sec, path, "success")
        if v is MISSING:
            return []
        sub: Path_ = (*path, "success")
        if isinstance(v, (list, str)):  # `success: [..]` is a common shorthand; accept it
            return self.strings(sec, path, "success") or []
        body = self.section(v, sub, _SUCCESS_KEYS)
        return self.strings(body, sub, "criteria") or []

    def sla(self, sec: dict[str, Any], path: Path_) -> float | None:
        v = self.get(sec, path, "sla")
        if v is MISSING:
            return None
        sub: Path_ = (*path, "sla")
        return self.positive_ms(self.section(v, sub, _SLA_KEYS), sub, "p95_ms")

    def code_refs(self, sec: dict[str, Any], path: Path_) -> list[str]:
        refs = self.strings(sec, path, "code_refs") or []
        root = self.cat.root
        if root is None:
            return refs
        raw = sec.get("code_refs")
        for i, ref in enumerate(refs):
            ref_path: Path_ = (*path, "code_refs", i) if isinstance(raw, list) else \
                (*path, "code_refs")
            why = _missing_ref(root, ref)
            if why:
                self.bad(ref_path, why, "warning")
        return refs

    def check_parents(self) -> None:
        flows = self.cat.flows
        default_parent = self.cat.defaults.get("parent")
        if isinstance(default_parent, str) and default_parent not in flows:
            self.bad(("defaults", "parent"), self.unknown_parent(default_parent), "warning")
        for spec in flows.values():
            if spec.parent is None or not spec.parent_line:
                continue  # no parent, or the default's (reported once, above)
            where: Path_ = ("flows", self.index(spec), "parent")
            if spec.parent == spec.id:
                self.bad(where, f"flow '{spec.id}' cannot be its own parent")
            elif spec.parent not in flows:
                self.bad(where, self.unknown_parent(spec.parent), "warning")
        for cycle in self.cycles():
            text = " -> ".join([*cycle, cycle[0]])
            for member in cycle:
                m = flows[member]
                field = "parent" if m.parent_line else "id"
                self.bad(("flows", self.index(m), field), f"parent cycle: {text}")

    def unknown_parent(self, parent: str) -> str:
        hint = did_you_mean(parent, list(self.cat.flows))
        tip = f"; did you mean '{hint}'?" if hint else ""
        return f"unknown parent '{parent}' (not declared in this catalog){tip}"

    def cycles(self) -> list[list[str]]:
        """Every parent cycle of two or more flows, each once, in one linear pass."""
        flows = self.cat.flows
        done: set[str] = set()
        found: list[list[str]] = []
        for start in flows:
            path: list[str] = []
            on_path: dict[str, int] = {}
            cur: str | None = start
            while cur is not None and cur in flows and cur not in done:
                if cur in on_path:
                    cycle = path[on_path[cur]:]
                    if len(cycle) > 1:
                        found.append(cycle)
                    break
                on_path[cur] = len(path)
                path.append(cur)
                cur = flows[cur].parent
            done.update(path)
        return found

    def index(self, spec: FlowSpec) -> int:
        return self.indexes.get(spec.id, 0)


def _missing_ref(root: Path, ref: str) -> str:
    """Why ``ref`` does not point at an existing file in the project ('' if it does)."""
    target = ref.strip()
    if not target:
        return "empty code_ref"
    if "*" in target or "?" in target:
        return ""  # a glob documents a family of files; nothing to check
    # `path:line` and `path#L10` point into a file; check the file.
    for sep in ("#", ":"):
        head, _, tail = target.rpartition(sep)
        if head and tail.lstrip("L").isdigit():
            target = head
            break
    p = Path(target)
    full = p if p.is_absolute() else root / p
    try:
        resolved = full.resolve()
        inside = resolved == root.resolve() or root.resolve() in resolved.parents
    except (OSError, RuntimeError):
        return ""
    if not inside:
        return f"code_ref '{ref}' points outside the project"
    if not full.exists():
        return f"code_ref '{ref}' does not exist in the project"
    return ""
