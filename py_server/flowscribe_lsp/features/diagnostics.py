"""``textDocument/publishDiagnostics``: the latest run's failures where they happened.

Each failure site of the latest run (see :class:`~flowscribe_lsp.trace_index.Finding`) is
a diagnostic at its recorded line, spanning the line's text without its indentation.
Source ``flowscribe.trace``; code = the error class; severity from the event (warn ->
Warning, error/critical -> Error); repeats folded ("x3"); related information for the
flow's start, the ``caused_by`` event and the exception's frames inside the workspace;
``data`` = ``{runId, eventId, flowId, instance}`` so a client can open the event. The
message leads with what Problems' narrow row must show, the class (or the exception's
type) and the reason, and names the flow after them.

While a file is edited, the diagnostics move with their lines (we follow the document's
content changes) until the next run replaces them; when the recorded line's text no
longer matches what was there when the run's results arrived, the diagnostic says it is
stale instead of pointing confidently at the wrong code.

The server's :class:`~flowscribe_lsp.publishing.Publisher` merges these with the catalog
checks' into one notification per file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from ..documents import range_of
from ..paths import path_to_uri, uri_to_path
from ..protocol import TraceDiagnosticData
from ..publishing import SOURCE_TRACE
from ..trace_index import Finding, Loc
from . import Feature

if TYPE_CHECKING:
    from ..index import Project
    from ..server import FlowscribeServer
    from ..trace_index import RunSnapshot

__all__ = ["Diagnostics", "shift_line"]

MAX_RELATED_FRAMES = 10
_SEVERITY = {
    "critical": lsp.DiagnosticSeverity.Error,
    "error": lsp.DiagnosticSeverity.Error,
    "warn": lsp.DiagnosticSeverity.Warning,
    "warning": lsp.DiagnosticSeverity.Warning,
    "info": lsp.DiagnosticSeverity.Information,
    "debug": lsp.DiagnosticSeverity.Hint,
}


@dataclass
class _Tracked:
    """Where a finding's line is now, in the edited document."""

    line: int  # 0-based
    indent: int
    anchor: str | None  # the line's text (stripped) when the run's results arrived


def shift_line(line: int, indent: int, change: lsp.Range, added_lines: int) -> int:
    """Where the content of ``line`` (indented by ``indent``) is after ``change`` replaced
    ``change`` with text of ``added_lines`` newlines."""
    s, e = change.start, change.end
    if e.line < line or (e.line == line and e.character <= indent):
        # The edit ends before the line's content: the content moves with what follows.
        return line + s.line + added_lines - e.line
    if s.line >= line:
        return line  # the edit starts on or after the line: its start stays put
    # The edit swallowed the start of the line: it survives (if at all) where the edit ends.
    return s.line + added_lines


class Diagnostics(Feature):
    """The run's failures as diagnostics (a publishing source), and their line tracking."""

    def __init__(self, server: FlowscribeServer) -> None:
        super().__init__(server)
        #: project artifacts dir -> file -> that project's findings in the file
        self._sites: dict[Path, dict[Path, list[Finding]]] = {}
        self._tracks: dict[Path, dict[tuple[Any, ...], _Tracked]] = {}
        self._unplaced: dict[Path, int] = {}

    def reset(self) -> None:
        """Forget runs (the index was rebuilt); what was published is cleared by the next
        publish."""
        self._sites.clear()
        self._tracks.clear()

    # -- runs ---------------------------------------------------------------------------
    def run_changed(self, project: Project, old: RunSnapshot, new: RunSnapshot) -> None:
        """Place the new run's findings, then publish the files they touch."""
        new_run = old.run_id != new.run_id or old.generation != new.generation
        if new_run or old.findings != new.findings:
            self._place(project, new_run)

    def _place(self, project: Project, new_run: bool) -> None:
        old = self._sites.pop(project.autodev, {})
        if new_run:
            for gone in old:
                self._tracks.pop(gone, None)
        placed: dict[Path, list[Finding]] = {}
        unplaced = 0
        where: dict[str, Path | None] = {}  # sites share few files: resolve each once
        for finding in project.run.findings:
            if finding.file not in where:
                p = project.resolve(finding.file)
                where[finding.file] = p if p is not None and \
                    self.server.index.in_workspace(p) else None
            path = where[finding.file]
            if path is None:
                unplaced += finding.count
                continue
            placed.setdefault(path, []).append(finding)
        for path, findings in placed.items():
            tracks = self._tracks.setdefault(path, {})
            lines = None
            for f in findings:
                if f.key in tracks:
                    continue
                if lines is None:
                    lines = self.server.documents.disk_lines(path) or []
                text = lines[f.line - 1] if f.line - 1 < len(lines) else None
                indent = len(text) - len(text.lstrip()) if text is not None else 0
                tracks[f.key] = _Tracked(f.line - 1, indent,
                                         text.strip() if text is not None else None)
        self._sites[project.autodev] = placed
        if unplaced and unplaced != self._unplaced.get(project.autodev):
            self.server.log(
                f"{project.autodev}: {unplaced} failure(s) point at files that are missing or "
                "outside the workspace folders; not shown", lsp.MessageType.Info)
        self._unplaced[project.autodev] = unplaced
        # Only files that had or have this project's failures can change.
        self.server.publisher.publish_paths(set(old) | set(placed))

    def document_edited(self, params: lsp.DidChangeTextDocumentParams) -> None:
        """Move tracked lines with an edit."""
        path = uri_to_path(params.text_document.uri)
        tracks = self._tracks.get(path) if path is not None else None
        if not tracks:
            return
        for change in params.content_changes:
            if not isinstance(change, lsp.TextDocumentContentChangePartial):
                continue  # whole text replaced: lines stay, the stale check tells
            added = change.text.count("\n")
            for t in tracks.values():
                t.line = max(0, shift_line(t.line, t.indent, change.range, added))
        lines = self.server.documents.lines(params.text_document.uri) or []
        for t in tracks.values():
            if t.line < len(lines):
                text = lines[t.line]
                t.indent = len(text) - len(text.lstrip())

    # -- the source ---------------------------------------------------------------------
    def targets(self) -> set[Path]:
        """Files holding a failure of a latest run."""
        return {path for sites in self._sites.values() for path in sites}

    def diagnostics_for(self, path: Path) -> list[lsp.Diagnostic]:
        settings = self.server.settings_for(path)
        out: list[lsp.Diagnostic] = []
        found = [f for sites in self._sites.values() for f in sites.get(path, ())]
        if not found:
            return out
        lines = self.server.documents.text_lines(path)
        if not lines:
            return out
        related_ok = self._related_supported()
        tracks = self._tracks.get(path, {})
        for f in found:
            if f.event_type == "failure" and not settings.severity_shown(f.severity):
                continue
            track = tracks.get(f.key) or _Tracked(f.line - 1, 0, None)
            out.append(self._diagnostic(path, f, track, lines, related_ok))
        return out

    def _diagnostic(self, path: Path, f: Finding, track: _Tracked, lines: list[str],
                    related_ok: bool) -> lsp.Diagnostic:
        ln = track.line
        stale = False
        if ln >= len(lines):
            ln, stale = len(lines) - 1, True
        text = lines[ln]
        if track.anchor is not None and text.strip() != track.anchor:
            stale = True
        start = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        if end <= start:
            start, end = 0, len(text)
        data: TraceDiagnosticData = {
            "runId": f.run_id, "eventId": f.event_id, "flowId": f.flow_id,
            "instance": f.instance, "count": f.count, "stale": stale, "recordedLine": f.line}
        severity = (lsp.DiagnosticSeverity.Error if f.event_type == "exception"
                    else _SEVERITY.get(f.severity, lsp.DiagnosticSeverity.Error))
        return lsp.Diagnostic(
            range=range_of(lines, ln, start, end, self.server.documents.codec),
            message=_message(f, stale),
            severity=severity,
            code=f.error_class,
            source=SOURCE_TRACE,
            related_information=self._related(path, f) if related_ok else None,
            data=data,
        )

    def _related_supported(self) -> bool:
        try:
            td = self.server.client_capabilities.text_document
        except (AttributeError, RuntimeError):
            return False
        pd = td.publish_diagnostics if td is not None else None
        return bool(pd and pd.related_information)

    def _related(self, path: Path, f: Finding) -> list[lsp.DiagnosticRelatedInformation] | None:
        project = self.server.index.project_for(path)
        if project is None:
            return None
        out = []

        def add(loc: Loc | None, message: str) -> None:
            if loc is None:
                return
            target = project.resolve(loc.file)
            if target is None or not self.server.index.in_workspace(target):
                return
            lines = self.server.documents.disk_lines(target) or []
            ln = loc.line - 1
            text = lines[ln] if 0 <= ln < len(lines) else ""
            start = len(text) - len(text.lstrip())
            out.append(lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=path_to_uri(target), range=range_of(
                    lines, ln, start, len(text.rstrip()), self.server.documents.codec)),
                message=message))

        add(f.flow_start, f"flow {f.flow_id} started here")
        if f.caused_by:
            add(f.cause, f"caused by {f.cause.label if f.cause else 'event'} ({f.caused_by})")
        frames = [fr for fr in f.frames if not (fr.file == f.file and fr.line == f.line)]
        for fr in frames[-MAX_RELATED_FRAMES:]:
            add(fr, f"in {fr.label}()")
        return out or None


def _headline(f: Finding) -> str:
    """The message's first line, with what matters where Problems has room for it: the
    class (or the exception's type) and the reason first, the flow last.

    ``BUSINESS.LIMIT_EXCEEDED amount over the card limit · payments/charge``, or
    ``TimeoutError: inventory service did not answer in 2s · inventory/reserve``.
    """
    reason = f.reason
    if f.event_type == "exception" and f.exception_type:
        # The runtime's reason for an exception is "<Type>: <message>" already.
        if reason.startswith(f"{f.exception_type}: "):
            reason = reason[len(f.exception_type) + 2:]
        what = f"{f.exception_type}: {reason}" if reason else f.exception_type
    else:
        what = f"{f.error_class} {reason}" if reason else f.error_class
    head = f"{what} · {f.flow_id}"
    return f"{head} (x{f.count})" if f.count > 1 else head


def _message(f: Finding, stale: bool) -> str:
    parts = [_headline(f)]
    if f.new_since:
        parts.append(f"new since the previous run ({f.new_since}), which did not fail this way")
    if f.evidence:
        parts.append(f"evidence: {f.evidence}")
    if f.caused_by and f.cause is None:
        parts.append(f"caused by event {f.caused_by}")
    if stale:
        parts.append(f"stale: line {f.line} has changed since run {f.run_id}")
    return "\n".join(parts)
