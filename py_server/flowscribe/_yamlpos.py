"""YAML loading with ``yaml.safe_load`` semantics that keeps where every node came from.

``ra.yaml`` and ``flows.yaml`` problems must name a line and column, and the language
server publishes them at those positions, so plain ``safe_load`` (which forgets positions)
is not enough. We compose the node tree with the safe loader, convert it to Python values
ourselves and record each node's position under its path.

Paths are tuples of mapping keys (``str``) and sequence indexes (``int``):
``("flows", 2, "parent")``; :func:`format_path` renders them as ``flows[2].parent``.
Lines and columns are 1-based (columns count code points).

Only the safe tags are accepted. A ``!!python/...`` (or any unknown) tag is reported as an
error and its node becomes ``None``: it is never constructed, let alone executed.
PyYAML is imported on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from ._record import Record

if TYPE_CHECKING:
    import yaml

__all__ = ["Path_", "Span", "YamlDoc", "YamlIssue", "format_path", "load_yaml"]

Path_ = tuple[Union[str, int], ...]

#: Alias expansion could otherwise blow up ("billion laughs"): a config file never
#: legitimately has this many nodes.
MAX_NODES = 200_000

_STD = "tag:yaml.org,2002:"
_SAFE_COLLECTION_TAGS = frozenset({_STD + "map", _STD + "seq", _STD + "omap", _STD + "pairs",
                                   _STD + "set"})


class Span(Record):
    """Where a node sits: start and end (end is exclusive, like PyYAML's marks)."""

    _fields = ("line", "column", "end_line", "end_column")
    __slots__ = _fields

    def __init__(
        self,
        line: int,
        column: int,
        end_line: int,
        end_column: int,
    ) -> None:
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column


class YamlIssue(Record):
    """A problem found while reading: a syntax error, a rejected tag, a duplicate key."""

    _fields = ("line", "column", "message", "path", "severity")
    __slots__ = _fields

    def __init__(
        self,
        line: int,
        column: int,
        message: str,
        path: Path_ = (),
        severity: str = "error",
    ) -> None:
        self.line = line
        self.column = column
        self.message = message
        self.path = path
        self.severity = severity


class YamlDoc(Record):
    """The Python value of a document plus the positions of its nodes.

    ``values[path]`` is the span of the value at ``path``; ``keys[path]`` is the span of the
    mapping key that introduced it (absent for sequence items and the root).
    ``items[path]`` is the start of a block sequence item including its ``-`` indicator.
    ``data`` is ``None`` for an empty document or when the text does not parse (then
    ``issues`` holds the syntax error); ``parsed`` is False when the text is not YAML at
    all (``issues`` then holds the syntax error).
    """

    _fields = ("data", "values", "keys", "items", "issues", "parsed")
    __slots__ = _fields

    def __init__(
        self,
        data: Any = None,
        values: dict[Path_, Span] | None = None,
        keys: dict[Path_, Span] | None = None,
        items: dict[Path_, tuple[int, int]] | None = None,
        issues: list[YamlIssue] | None = None,
        parsed: bool = False,
    ) -> None:
        self.data = data
        self.values: dict[Path_, Span] = {} if values is None else values
        self.keys: dict[Path_, Span] = {} if keys is None else keys
        self.items: dict[Path_, tuple[int, int]] = {} if items is None else items
        self.issues: list[YamlIssue] = [] if issues is None else issues
        self.parsed = parsed

    def locate(self, path: Path_, at_key: bool = False) -> Span:
        """The span of the value (or key) at ``path``.

        For a path the document does not have, the start of its nearest known ancestor,
        as an empty span; ``Span(0, 0, 0, 0)`` if nothing is known.
        """
        span = self.keys.get(path) if at_key else None
        if span is None:
            span = self.values.get(path)
        if span is not None:
            return span
        near = self._nearest(self.values, path)
        if near is None:
            return Span(0, 0, 0, 0)
        return Span(near.line, near.column, near.line, near.column)

    def value_pos(self, path: Path_) -> tuple[int, int]:
        """(line, column) of the value at ``path``, else of its nearest known ancestor."""
        span = self._nearest(self.values, path)
        return (span.line, span.column) if span else (0, 0)

    def key_pos(self, path: Path_) -> tuple[int, int]:
        """(line, column) of the key naming ``path``; the value's position if it has none."""
        span = self.keys.get(path)
        return (span.line, span.column) if span else self.value_pos(path)

    @staticmethod
    def _nearest(table: dict[Path_, Span], path: Path_) -> Span | None:
        for i in range(len(path), -1, -1):
            span = table.get(path[:i])
            if span is not None:
                return span
        return None


def format_path(path: Path_) -> str:
    """``("flows", 2, "parent")`` -> ``flows[2].parent``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(("." if out else "") + part)
    return "".join(out)


def _loader_class() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> YamlDoc:
    """Read one YAML document from ``text``; never raises.

    Syntax errors, rejected tags, alias bombs and duplicate keys become :class:`YamlIssue`
    entries (a syntax error has an empty path and leaves ``data`` as ``None``).
    """
    import yaml

    doc = YamlDoc()
    loader = _loader_class()(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
            problem = " ".join(p for p in (exc.problem, exc.context) if p) or str(exc)
            doc.issues.append(YamlIssue(line, col, f"invalid YAML: {problem}"))
            return doc
        except yaml.YAMLError as exc:
            doc.issues.append(YamlIssue(0, 0, f"invalid YAML: {exc}"))
            return doc
        doc.parsed = True
        if root is None:
            return doc
        builder = _Builder(loader, doc, text)
        try:
            doc.data = builder.build(root, ())
        except _TooBig:
            doc.data = None
            doc.issues.append(
                YamlIssue(1, 1, f"document too large: more than {MAX_NODES} nodes "
                                "(alias expansion?)")
            )
        return doc
    finally:
        loader.dispose()


class _TooBig(Exception):
    pass


def _span(node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _Builder:
    """Converts a composed node tree to Python values, recording spans on the way."""

    def __init__(self, loader: Any, doc: YamlDoc, text: str) -> None:
        self.loader = loader
        self.doc = doc
        self.lines = text.splitlines()
        self.count = 0
        self.active: set[int] = set()

    def issue(self, node: yaml.Node, path: Path_, message: str, severity: str = "error") -> None:
        m = node.start_mark
        self.doc.issues.append(YamlIssue(m.line + 1, m.column + 1, message, path, severity))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        import yaml

        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig
        self.doc.values[path] = self._end_adjusted(node)
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                self.issue(node, path, _tag_message(node.tag, exc))
                return None
        if node.tag not in _SAFE_COLLECTION_TAGS:
            self.issue(node, path, _tag_message(node.tag, None))
            return None
        if id(node) in self.active:
            self.issue(node, path, "recursive alias is not supported")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path)
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        return None  # pragma: no cover - composer yields only the three node kinds

    def _sequence(self, node: yaml.SequenceNode, path: Path_) -> Any:
        items = []
        for i, child in enumerate(node.value):
            sub = (*path, i)
            self.doc.items[sub] = self._item_start(child)
            items.append(self.build(child, sub))
        if node.tag == _STD + "set":
            return set(items)
        return items

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> Any:
        import yaml

        if node.tag != _STD + "map":
            # !!omap / !!pairs / !!set: rare in config; let the safe constructor build them.
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                self.issue(node, path, _tag_message(node.tag, exc))
                return None
        try:
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys, safely
        except yaml.YAMLError as exc:
            self.issue(node, path, f"invalid merge key: {getattr(exc, 'problem', exc)}")
            return {}
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = self._key(knode, path)
            if key is _BAD:
                continue
            sub = (*path, key if isinstance(key, (str, int)) else str(key))
            if key in out:
                self.issue(knode, sub, f"duplicate key '{key}' (the later value wins)",
                           "warning")
            self.doc.keys[sub] = _span(knode)
            out[key] = self.build(vnode, sub)
        return out

    def _key(self, knode: yaml.Node, path: Path_) -> Any:
        import yaml

        if not isinstance(knode, yaml.ScalarNode):
            self.issue(knode, path, "mapping keys must be plain values")
            return _BAD
        try:
            key = self.loader.construct_object(knode, deep=True)
        except yaml.YAMLError as exc:
            self.issue(knode, path, _tag_message(knode.tag, exc))
            return _BAD
        try:
            hash(key)
        except TypeError:
            self.issue(knode, path, "mapping keys must be plain values")
            return _BAD
        return key

    def _end_adjusted(self, node: yaml.Node) -> Span:
        """The node's span, with a block collection's end pulled back to its last content.

        PyYAML ends a block collection where the next token starts (often after blank lines
        and comments); an editor wants the range to stop at the last character of content.
        """
        import yaml

        span = _span(node)
        if isinstance(node, yaml.ScalarNode):
            return self._trim_block_scalar(node, span)
        if getattr(node, "flow_style", False) or not node.value:
            return span
        last = node.value[-1]
        if isinstance(last, tuple):
            last = last[1]
        end = self._end_adjusted(last)
        return Span(span.line, span.column, end.end_line, end.end_column)

    def _trim_block_scalar(self, node: yaml.Node, span: Span) -> Span:
        """A ``|``/``>`` scalar ends at its last non-blank line, not before the next key."""
        end = node.end_mark
        if end.column != 0 or end.line <= node.start_mark.line:
            return span
        idx = min(end.line, len(self.lines)) - 1
        while idx > node.start_mark.line and not self.lines[idx].strip():
            idx -= 1
        return Span(span.line, span.column, idx + 1, len(self.lines[idx]) + 1)

    def _item_start(self, node: yaml.Node) -> tuple[int, int]:
        """Position of the ``-`` that introduces a block sequence item (else the node's)."""
        line, col = node.start_mark.line, node.start_mark.column
        if line < len(self.lines):
            before = self.lines[line][:col].rstrip()
            if before.endswith("-"):
                return line + 1, len(before)
        return line + 1, col + 1


_BAD = object()


def _tag_message(tag: str, exc: Exception | None) -> str:
    if tag.startswith(_STD + "python/"):
        return (f"tag '!!{tag[len(_STD):]}' is not allowed: only plain YAML is read, "
                "Python objects are never constructed")
    if exc is not None and not str(tag).startswith(_STD):
        return f"unknown tag '{tag}': only plain YAML is read"
    if exc is not None:
        problem = getattr(exc, "problem", None) or str(exc)
        return f"invalid value: {problem}"
    return f"unknown tag '{tag}': only plain YAML is read"
