"""The ``flowscribe`` command: ``init``, ``summary``, ``tail``, ``runs``, ``diff``, ``timeline``,
``export``, ``report``, ``test-from``, ``lsp``, ``mcp``.

Every command works on a project root (``-C DIR``, default: the current directory) and its
``.autodev`` folder. Exit status, the same for every command: 0 done; 1 nothing there (no
runs, no matching events, a missing folder) or the command failed, with one line on stderr
saying which; 2 a command line that does not parse.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Callable, NoReturn

from flowscribe import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowscribe.config import Config

__all__ = ["main"]

TEMPLATES = Path(__file__).parent / "templates"
INIT_FILES = ("ra.yaml", "flows.yaml", "copilot_init.md")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BLOCK = 1 << 16


class CliError(Exception):
    """A command failed; the message is the one line the user sees."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the command's --help has the rest.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- shared helpers -------------------------------------------------------------------------


def _root(args: argparse.Namespace) -> Path:
    root = Path(args.root).expanduser()
    if not root.is_dir():
        raise CliError(f"no such directory: {root}")
    return root.resolve()


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    """(config, catalog) of the project; their problems are warnings, not errors."""
    from flowscribe.catalog import CATALOG_FILE, load_catalog
    from flowscribe.config import load_config

    root = _root(args)
    config, problems = load_config(root)
    catalog = load_catalog(config.autodev_dir / CATALOG_FILE, root)
    for problem in [*problems, *catalog.problems]:
        if problem.severity == "error":
            print(f"flowscribe: warning: {problem}", file=sys.stderr)
    return config, catalog


def _shared_trace(config: Config) -> Path:
    """The trace shared by all runs: the jsonl sink's file, else .autodev/trace.jsonl."""
    for sink in config.sinks:
        if sink.type == "jsonl" and sink.path:
            return Path(config.resolve(sink.path))
    return Path(config.autodev_dir) / "trace.jsonl"


def _resolve_run(config: Config, run: str | None) -> tuple[Path, str | None]:
    """The trace file and run id a RUN argument names: a run id (or a unique prefix of
    one), a run directory, or a trace file; None means the latest run."""
    from flowscribe.runs import RunLayout, is_safe_run_id, read_run_infos

    layout = RunLayout(config.autodev_dir)
    shared = _shared_trace(config)
    if run is None:
        latest = layout.latest_run_dir()
        if latest is not None and (latest / "trace.jsonl").is_file():
            return latest / "trace.jsonl", latest.name
        if shared.is_file():
            return shared, None
        raise CliError(f"no runs yet in {layout.autodev_dir} (run an app that uses flowscribe)")
    path = Path(run).expanduser()
    if path.is_dir():
        trace = path / "trace.jsonl"
        if not trace.is_file():
            raise CliError(f"no trace.jsonl in {path}")
        return trace, None
    if path.is_file():
        return path, None
    if is_safe_run_id(run):
        dirs = [d for d in _listdir(layout.runs_dir) if d.name.startswith(run) and d.is_dir()]
        exact = [d for d in dirs if d.name == run]
        if exact or len(dirs) == 1:
            d = (exact or dirs)[0]
            if (d / "trace.jsonl").is_file():
                return d / "trace.jsonl", d.name
            raise CliError(f"run {d.name} has no trace.jsonl")
        if len(dirs) > 1:
            raise CliError(f"{run!r} matches {len(dirs)} runs; give more of the id")
        ids = [i.run_id for i in read_run_infos(shared) if i.run_id.startswith(run)]
        if run in ids or len(ids) == 1:
            return shared, run if run in ids else ids[0]
        if len(ids) > 1:
            raise CliError(f"{run!r} matches {len(ids)} runs; give more of the id")
    raise CliError(f"no run, run directory or trace file named {run!r} (see: flowscribe runs)")


def _listdir(path: Path) -> list[Path]:
    try:
        return sorted(path.iterdir())
    except OSError:
        return []


# -- init -----------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    root = _root(args)
    autodev = root / ".autodev"
    targets = [autodev / name for name in INIT_FILES]
    existing = [t for t in targets if t.exists()]
    if existing and not args.force:
        names = ", ".join(str(t.relative_to(root)) for t in existing)
        if not args.agents:
            raise CliError(f"{names} already exist; use --force to overwrite")
        # --agents on an initialised project: only the agent instructions are added.
        print(f"kept {names} (--force overwrites them)")
        return _init_agents(root)
    from flowscribe.artifacts import write_text_atomic
    from flowscribe.catalog import load_catalog
    from flowscribe.story import render_guide

    try:
        autodev.mkdir(parents=True, exist_ok=True)
        for t in targets:
            if t.name == "copilot_init.md":
                # Written last, for this project: its entry scripts, tests and flows.
                text = render_guide(root, load_catalog(autodev / "flows.yaml", root))
            else:
                text = (TEMPLATES / t.name).read_text(encoding="utf-8")
            write_text_atomic(t, text)
    except OSError as exc:
        raise CliError(f"cannot write {autodev}: {exc.strerror or exc}") from exc
    for t in targets:
        print(f"wrote {t.relative_to(root)}")
    print(
        "Next: declare your flows in .autodev/flows.yaml and list their domains in the "
        "ra.yaml profile. Generated files to git-ignore: .autodev/runs/, .autodev/latest, "
        ".autodev/trace.jsonl*, .autodev/summary.md, .autodev/ask.md"
    )
    if args.agents:
        return _init_agents(root)
    if (root / "AGENTS.md").exists() or (root / ".github" / "copilot-instructions.md").exists():
        print("Tip: flowscribe init --agents adds flowscribe's MCP tools to your agent "
              "instructions (appended, never overwriting)")
    return 0


def _init_agents(root: Path) -> int:
    from flowscribe.mcp.agents import add_agent_instructions

    try:
        done = add_agent_instructions(root)
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot add the agent instructions: {exc}") from exc
    for path, what in done:
        rel = path.relative_to(root)
        print(f"{'added the flowscribe section to' if what == 'added' else 'already in'} {rel}")
    return 0


# -- summary --------------------------------------------------------------------------------


def cmd_summary(args: argparse.Namespace) -> int:
    from flowscribe.artifacts import aggregate_trace, render_ask, render_summary, write_text_atomic

    config, catalog = _load(args)
    trace, run_id = _resolve_run(config, args.run)
    agg, tail = aggregate_trace(trace, config, catalog, run_id)
    if agg.events == 0:
        raise CliError(f"no readable events in {trace}")
    if args.ask:
        from flowscribe.artifacts.ask import run_views
        from flowscribe.runs import RunLayout

        first = agg.first_failure.event_id if agg.first_failure is not None else None
        run, baseline = run_views(RunLayout(config.autodev_dir), agg.run_id, trace=trace,
                                  fallback=tail, focus=first)
        name, text = "ask.md", render_ask(run, catalog, config, baseline=baseline)
    else:
        name, text = "summary.md", render_summary(agg, catalog, config)
    if args.write:
        target = trace.parent / name
        try:
            write_text_atomic(target, text)
        except OSError as exc:
            raise CliError(f"cannot write {target}: {exc.strerror or exc}") from exc
        print(f"wrote {target}", file=sys.stderr)
    sys.stdout.write(text)
    return 0


# -- tail -----------------------------------------------------------------------------------


def _defang(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` whose strings cannot drive the terminal (no control chars)."""
    if isinstance(value, str):
        return _CONTROL.sub("?", value)
    if depth > 6:
        return value
    if isinstance(value, dict):
        return {_defang(k, depth + 1): _defang(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_defang(v, depth + 1) for v in value]
    return value


def format_line(ev: dict[str, Any], color: bool) -> str:
    """One human line for an event (the console sink's format, flow starts included)."""
    from flowscribe.sinks.console import format_event

    safe = _defang(ev)
    line = format_event(safe, color)
    if line is None:  # the console sink leaves flow starts out; tail shows what it is asked
        stamp = time.strftime("%H:%M:%S", time.localtime(_num(safe.get("ts"))))
        corr = safe.get("correlation") or {}
        keys = " ".join(f"{k}={v}" for k, v in corr.items()) if isinstance(corr, dict) else ""
        line = f"{stamp} {'START':<6} {safe.get('flow_id') or ''} {keys}".rstrip()
    return line


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _matcher(args: argparse.Namespace) -> Callable[[dict[str, Any]], bool]:
    from flowscribe.patterns import matches
    from flowscribe.trace import EVENT_TYPES

    types: set[str] = set()
    for t in args.type or []:
        types.update(x.strip() for x in t.split(",") if x.strip())
    unknown = sorted(types - EVENT_TYPES)
    if unknown:
        raise CliError(
            f"unknown event type {', '.join(unknown)} (one of: {', '.join(sorted(EVENT_TYPES))})"
        )
    flow = args.flow

    def keep(ev: dict[str, Any]) -> bool:
        if types and ev.get("event_type") not in types:
            return False
        if flow is not None:
            fid = ev.get("flow_id")
            return isinstance(fid, str) and matches(flow, fid)
        return True

    return keep


def last_events(
    path: Path, n: int, keep: Callable[[dict[str, Any]], bool], end: int | None = None
) -> list[dict[str, Any]]:
    """The last ``n`` events of a trace that ``keep`` accepts, oldest first, read from the
    end of the file (or from byte ``end``) backwards: a large trace costs only its tail.
    A last line still being written is left out."""
    from flowscribe.trace import MAX_LINE_BYTES, parse_line

    found: list[dict[str, Any]] = []
    if n <= 0:
        return found
    with open(path, "rb") as fh:
        pos = fh.seek(0, os.SEEK_END)
        if end is not None:
            pos = max(0, min(pos, end))
        head = b""  # the start of a line that began before ``pos``
        drop_last = True  # the bytes after the last newline are an unfinished line
        while pos > 0 and len(found) < n:
            size = min(_BLOCK, pos)
            pos -= size
            fh.seek(pos)
            parts = (fh.read(size) + head).split(b"\n")
            head = parts[0]
            lines = parts[1:]
            if drop_last and lines:
                lines.pop()
                drop_last = False
            if len(head) > MAX_LINE_BYTES:  # junk: skip to the line before it
                head, drop_last = b"", True
            for line in reversed(lines):
                ev = parse_line(line) if line.strip() else None
                if ev is not None and keep(ev):
                    found.append(ev)
                    if len(found) >= n:
                        break
        if pos == 0 and head and not drop_last and len(found) < n:
            ev = parse_line(head)
            if ev is not None and keep(ev):
                found.append(ev)
    found.reverse()
    return found


def _wants_color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def cmd_tail(args: argparse.Namespace) -> int:
    config, _ = _load(args)
    if args.lines < 0:
        raise CliError("-n must be 0 or more")
    keep = _matcher(args)
    color = _wants_color(args.color)
    if args.run is not None:
        trace, run_id = _resolve_run(config, args.run)
    else:
        # The shared trace spans runs, so following it carries on into the next run.
        trace, run_id = _shared_trace(config), None
        if not trace.is_file():
            trace, run_id = _resolve_run(config, None)
    if run_id is not None:
        base = keep

        def keep(ev: dict[str, Any]) -> bool:
            return ev.get("run_id") == run_id and base(ev)

    out = sys.stdout
    if not args.follow:
        try:
            events = last_events(trace, args.lines, keep)
        except OSError as exc:
            raise CliError(f"cannot read {trace}: {exc.strerror or exc}") from exc
        for ev in events:
            out.write(format_line(ev, color) + "\n")
        if not events and args.lines:
            wanted = " ".join(f for f in (
                f"--flow {args.flow}" if args.flow else "",
                f"--type {','.join(args.type)}" if args.type else "") if f)
            print(f"flowscribe: no events in {trace}"
                  + (f" match {wanted}" if wanted else ""), file=sys.stderr)
            return 1
        return 0
    return _follow(trace, args, keep, color)


def _follow(
    trace: Path, args: argparse.Namespace, keep: Callable[[dict[str, Any]], bool], color: bool
) -> int:
    from flowscribe.trace import TraceFollower

    # Follow from the current end; the last N events before it are read backwards from
    # there, so a large trace is not parsed from its start first.
    follower = TraceFollower(trace, from_end=True)
    recent: list[dict[str, Any]] = []
    if follower.offset > 0:  # else no complete line yet (or no regular file to read)
        with contextlib.suppress(OSError):  # gone already: the follower says what came
            recent = last_events(trace, args.lines, keep, end=follower.offset)
    _emit(recent, color)
    try:
        while True:
            result = follower.poll()
            if result.reset:
                print(f"-- {trace.name} was rotated or replaced; reading it anew --")
            _emit((ev for ev in result.events if keep(ev)), color)
            if not result.more:
                time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def _emit(events: Iterable[dict[str, Any]], color: bool) -> None:
    lines = [format_line(ev, color) for ev in events]
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


# -- runs -----------------------------------------------------------------------------------


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts is not None else "-"


def cmd_runs(args: argparse.Namespace) -> int:
    from flowscribe.artifacts._format import fmt_ms
    from flowscribe.runs import RunLayout

    config, _ = _load(args)
    runs = RunLayout(config.autodev_dir).list_runs()
    if args.json:
        doc = [
            {
                "runId": r.run_id,
                "started": r.started,
                "ended": r.ended,
                "app": r.app,
                "mode": r.mode,
                "verdicts": r.verdicts,
                "artifacts": {k: str(v) if v else None for k, v in r.artifacts.items()},
                "latest": r.is_latest,
                "testRun": r.test_run,
            }
            for r in runs
        ]
        print(json.dumps(doc, indent=2))
        return 0 if runs else 1
    if not runs:
        print(f"flowscribe: no runs yet in {config.autodev_dir} (run an app that uses "
              "flowscribe)", file=sys.stderr)
        return 1
    head = ("", "RUN", "STARTED", "TOOK", "APP", "MODE", "PASS", "FAIL", "UNFIN", "FAILURES", "EXC")
    rows = [head]
    for r in runs:
        took = fmt_ms((r.ended - r.started) * 1000) if r.started is not None and r.ended \
            else "-"
        v = r.verdicts
        rows.append(
            (
                "*" if r.is_latest else "T" if r.test_run else "",
                r.run_id,
                _when(r.started),
                took if r.ended else "running/killed" if r.started else "-",
                _defang(r.app or "-"),
                _defang(r.mode or "-"),
                *(str(v.get(k, 0)) for k in ("passed", "failed", "unfinished", "failures")),
                str(v.get("exceptions", 0)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print("* the latest run (what .autodev/latest, summary.md and the editor show); "
          + ("T a test run (pytest's); " if any(r.test_run for r in runs) else "")
          + "PASS/FAIL/UNFIN: flow instances; FAILURES/EXC: events")
    return 0



# -- lsp ------------------------------------------------------------------------------------


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from flowscribe_lsp.server import run  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise CliError(
            f"the language server cannot start ({exc}); install it with: "
            "pip install 'flowscribe[lsp]'"
        ) from exc
    run()
    return 0


# -- mcp ------------------------------------------------------------------------------------


def cmd_mcp(args: argparse.Namespace) -> int:
    from flowscribe.mcp import INSTALL_HINT

    root = Path(args.workspace if args.workspace is not None else args.root).expanduser()
    if not root.is_dir():
        raise CliError(f"no such directory: {root}")
    if sys.version_info < (3, 10):
        print(f"flowscribe: the MCP server needs Python >= 3.10; install: {INSTALL_HINT}",
              file=sys.stderr)
        return 2
    try:
        from flowscribe.mcp.server import run
    except ImportError as exc:
        if not (exc.name or "").split(".")[0] == "mcp":
            raise
        print(f"flowscribe: the MCP server needs the mcp SDK; install it with: {INSTALL_HINT}",
              file=sys.stderr)
        return 2
    run(root.resolve())
    return 0


# -- diff -----------------------------------------------------------------------------------


def _run_label(info: Any) -> str:
    v = info.verdicts
    bad = v.get("failed", 0) + v.get("failures", 0) + v.get("exceptions", 0)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.started)) if info.started \
        else "?"
    return f"{info.run_id} ({'failed' if bad else 'passed'}, started {when})"


def cmd_diff(args: argparse.Namespace) -> int:
    from flowscribe.catalog import CATALOG_FILE, load_catalog, sla_targets
    from flowscribe.config import load_config
    from flowscribe.story import compare_runs

    root = _root(args)
    config, _ = load_config(root)
    if args.run_b is not None:
        before_id, after_id = args.run_a, args.run_b
    else:
        before_id, after_id = None, args.run_a
    catalog = load_catalog(config.autodev_dir / CATALOG_FILE, root)
    sla = sla_targets(catalog.flows, catalog, config)
    compared = compare_runs(config.autodev_dir, after=after_id, before=before_id, sla_ms=sla)
    if isinstance(compared, str):
        raise CliError(compared)
    before, after, diff = compared
    if args.json:
        print(json.dumps(diff.to_json(), indent=1, default=str))
        return 0
    print(f"before: {_run_label(before)}")
    print(f"after:  {_run_label(after)}")
    lines = diff.lines()
    print(f"{len(lines)} change{'s' if len(lines) != 1 else ''}" + (":" if lines else ""))
    for line in lines:
        print("  " + _CONTROL.sub("?", line))
    return 0


# -- timeline -------------------------------------------------------------------------------


def _one_run(args: argparse.Namespace) -> tuple[Path, Any, Any, Any]:
    """(root, config, run info, run view) of ``args.run``, else the latest run."""
    from flowscribe.config import load_config
    from flowscribe.story import load_info, runs_to_compare

    root = _root(args)
    config, _ = load_config(root)
    _, info = runs_to_compare(config.autodev_dir, after=args.run)
    if info is None:
        raise CliError(f"no run {args.run} in {config.autodev_dir}" if args.run
                       else f"no runs in {config.autodev_dir}")
    run = load_info(info)
    if run is None or not run.events:
        raise CliError(f"run {info.run_id} has no readable trace")
    return root, config, info, run


def cmd_timeline(args: argparse.Namespace) -> int:
    from flowscribe.timeline import TimelineFilter, render, select
    from flowscribe.trace import EVENT_TYPES

    _, _, info, run = _one_run(args)
    types: set[str] = set()
    for t in args.type or []:
        types.update(x.strip() for x in t.split(",") if x.strip())
    unknown = sorted(types - EVENT_TYPES)
    if unknown:
        raise CliError(f"unknown event type {', '.join(unknown)} "
                       f"(one of: {', '.join(sorted(EVENT_TYPES))})")
    where: dict[str, str] = {}
    for item in args.where or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--where takes KEY=VALUE (got {item!r})")
        where[key] = value
    if args.instance is not None and args.instance not in run.starts:
        raise CliError(f"no flow instance {args.instance} in run {info.run_id}")
    chosen = select(run, TimelineFilter(flow=args.flow, instance=args.instance, where=where,
                                        types=types, text=args.grep, since=args.since,
                                        until=args.until))
    if not chosen:
        print(f"no events of run {info.run_id} match", file=sys.stderr)
        return 1
    shown = chosen[-args.limit:] if args.limit else chosen
    if args.json:
        for ev in shown:
            print(json.dumps(ev, ensure_ascii=True, separators=(",", ":")))
        return 0
    for line in render(run, shown, tree=not args.flat):
        print(_CONTROL.sub("?", line))
    if len(shown) < len(chosen):
        print(f"({len(chosen) - len(shown)} earlier events not shown: --limit)", file=sys.stderr)
    return 0


# -- export ---------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from flowscribe.catalog import CATALOG_FILE, load_catalog
    from flowscribe.export import chrome_trace, failure_sequence, flow_graph

    if args.format == "otlp-json":
        text = _otlp_json(args)
        return _write_export(args, text)
    root, config, info, run = _one_run(args)
    if args.format == "chrome":
        text = json.dumps(chrome_trace(run), ensure_ascii=False, separators=(",", ":"))
    else:
        catalog = load_catalog(config.autodev_dir / CATALOG_FILE, root)
        text = ("%% flows of run " + info.run_id + "\n" + flow_graph(run, catalog)
                + "\n%% the first failing instance\n" + failure_sequence(run))
    return _write_export(args, text)


def _otlp_json(args: argparse.Namespace) -> str:
    """The run's OTLP/JSON lines: every event of the run (not the bounded view a story
    reads), evidence only when ra.yaml's otlp sink exports it."""
    from flowscribe.config import load_config
    from flowscribe.export import otlp_json_lines
    from flowscribe.runs import run_events
    from flowscribe.story import runs_to_compare

    config, _ = load_config(_root(args))
    _, info = runs_to_compare(config.autodev_dir, after=args.run)
    if info is None or info.trace is None:
        raise CliError(f"no run {args.run} in {config.autodev_dir}" if args.run
                       else f"no runs in {config.autodev_dir}")
    evidence = any(s.otlp.export_evidence for s in config.sinks
                   if s.type == "otlp" and s.otlp is not None)
    return "\n".join(otlp_json_lines(run_events(info), export_evidence=evidence))


def _write_export(args: argparse.Namespace, text: str) -> int:
    if args.output and args.output != "-":
        from flowscribe.artifacts import write_text_atomic

        target = Path(args.output)
        try:
            write_text_atomic(target, text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            raise CliError(f"cannot write {target}: {exc.strerror or exc}") from exc
        print(f"wrote {target}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


# -- report ---------------------------------------------------------------------------------


def _report_db(args: argparse.Namespace, config: Config) -> Path:
    """``--db``, else the sqlite sink's path in ra.yaml (an error when there is none)."""
    if args.db:
        return Path(args.db).expanduser()
    for sink in config.sinks:
        if sink.type == "sqlite" and sink.path:
            return Path(config.resolve(sink.path))
    where = config.path or config.autodev_dir / "ra.yaml"
    raise CliError(f"no sqlite sink in {where}: add `- type: sqlite` under sinks "
                   "(docs/sqlite-schema.md), or pass --db PATH")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 1 or value == 0 else f"{value:.3f}"
    return _CONTROL.sub("?", str(value))


def cmd_report(args: argparse.Namespace) -> int:
    from flowscribe import reports
    from flowscribe.catalog import sla_targets
    from flowscribe.reports import REPORTS, ReportError

    if args.list:
        width = max(map(len, REPORTS))
        for name, (description, _) in REPORTS.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if args.name not in REPORTS:
        what = f"no report {args.name!r}" if args.name else "name a report"
        raise CliError(f"{what}; the reports are: {', '.join(REPORTS)} (see --list)")
    config, catalog = _load(args)
    try:
        db: Path | None = _report_db(args, config)
    except CliError:
        if not args.sql:  # the query alone needs no database
            raise
        db = None

    try:
        sla: dict[str, float] = {}
        if args.name == "sla":
            known = set(catalog.flows)
            if db is not None and (db.is_file() or not args.sql):
                known.update(reports.flow_ids(db))
            sla = sla_targets(sorted(known), catalog, config)
        if args.sql or db is None:
            print(reports.report_sql(args.name, sla))
            return 0
        columns, rows = reports.run_report(db, args.name, sla)
    except ReportError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps([dict(zip(columns, r)) for r in rows], indent=1))
        return 0
    if not rows:
        print(f"flowscribe: report {args.name}: no rows in {db}", file=sys.stderr)
        return 0
    table = [columns, *([_cell(v) for v in r] for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    return 0


# -- test-from ------------------------------------------------------------------------------


def cmd_test_from(args: argparse.Namespace) -> int:
    from flowscribe.artifacts import write_text_atomic
    from flowscribe.config import load_config
    from flowscribe.runs import run_events
    from flowscribe.story import runs_to_compare
    from flowscribe.testing.from_run import find_failure, generate

    root = _root(args)
    config, _ = load_config(root)
    _, info = runs_to_compare(config.autodev_dir, after=args.run)
    if info is None or info.trace is None:
        raise CliError(f"no run {args.run} in {config.autodev_dir}" if args.run
                       else f"no runs in {config.autodev_dir}")
    events = list(run_events(info))
    failure = find_failure(events, args.event_id)
    if failure is None:
        raise CliError(f"no failure {args.event_id} in run {info.run_id}" if args.event_id
                       else f"run {info.run_id} recorded no failure")
    to_stdout = args.output == "-"
    target = Path(args.output) if args.output and not to_stdout else None
    if target is not None and not target.is_absolute():
        target = Path.cwd() / target
    if target is None:
        target = root / "tests" / "placeholder.py"
    try:  # the file finds the project root from where it is, so it can be moved with it
        depth = len(target.parent.resolve().relative_to(root).parts)
        root_expr = f"Path(__file__).resolve().parents[{depth}]"
    except ValueError:
        root_expr = f"Path({str(root)!r})"
    made = generate(events, failure, root_expr=root_expr)
    if to_stdout:
        sys.stdout.write(made.text)
    else:
        if args.output is None:
            target = target.with_name(made.filename)
        if target.exists() and not args.force:
            raise CliError(f"{target} already exists; use --force to overwrite")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(target, made.text)
        except OSError as exc:
            raise CliError(f"cannot write {target}: {exc.strerror or exc}") from exc
        print(f"wrote {target}")
    for why in made.missing:
        print(f"flowscribe: incomplete: {_CONTROL.sub('?', why)}", file=sys.stderr)
    return 0


# -- entry point ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (its --help is the command reference)."""
    p = _Parser(prog="flowscribe", description="Flow-first runtime tracing: artifacts and runs.")
    p.add_argument("--version", action="version", version=f"flowscribe {__version__}")
    p.add_argument(
        "-C", "--root", default=".", metavar="DIR", help="project root (default: current dir)"
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("init", help="write .autodev/ra.yaml, flows.yaml and copilot_init.md")
    s.add_argument("--force", action="store_true", help="overwrite existing files")
    s.add_argument("--agents", action="store_true",
                   help="also append a flowscribe section (the MCP tools, start from "
                   "get_failures) to AGENTS.md / .github/copilot-instructions.md")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("summary", help="render a run's summary.md from its trace")
    s.add_argument(
        "run",
        nargs="?",
        metavar="RUN",
        help="run id, run dir or trace file (default: the latest run)",
    )
    s.add_argument("--ask", action="store_true", help="render ask.md instead")
    s.add_argument("--write", action="store_true", help="also write it next to the trace")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("tail", help="print the last events of the trace, human-readably")
    s.add_argument(
        "-n", "--lines", type=int, default=20, metavar="N", help="how many events (default 20)"
    )
    s.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    s.add_argument("--flow", metavar="GLOB", help="only flows matching GLOB (`*`, `**`)")
    s.add_argument(
        "--type",
        action="append",
        metavar="T",
        help="only events of type T (repeat, or comma-separate)",
    )
    s.add_argument("--run", metavar="RUN", help="only this run (id, run dir or trace file)")
    s.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    s.add_argument("--interval", type=float, default=0.25, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_tail)

    s = sub.add_parser("runs", help="list runs, newest first (* the latest, T a test run)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_runs)

    s = sub.add_parser(
        "diff",
        help="what changed between two runs (default: the latest against the last good one)",
    )
    s.add_argument("run_a", nargs="?", metavar="RUN_A",
                   help="the run to compare from (with RUN_B); alone: the run to compare")
    s.add_argument("run_b", nargs="?", metavar="RUN_B", help="the run to compare to")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_diff)

    s = sub.add_parser("timeline", help="a run's events as a tree or flat, filtered")
    s.add_argument("run", nargs="?", metavar="RUN", help="run id or prefix (default: the latest)")
    s.add_argument("--flow", metavar="GLOB", help="only flows matching GLOB (`*`, `**`)")
    s.add_argument("--instance", metavar="ID", help="only this flow instance and its children")
    s.add_argument("--where", action="append", metavar="KEY=VALUE",
                   help="only events with this correlation value (repeatable)")
    s.add_argument("--type", action="append", metavar="T",
                   help="only events of type T (repeat, or comma-separate)")
    s.add_argument("--grep", metavar="TEXT", help="only events containing TEXT (any case)")
    s.add_argument("--since", type=float, metavar="S", help="from S seconds after the start")
    s.add_argument("--until", type=float, metavar="S", help="up to S seconds after the start")
    s.add_argument("--flat", action="store_true", help="no indentation by parent flow")
    s.add_argument("--json", action="store_true", help="the matching events as JSON lines")
    s.add_argument("-n", "--limit", type=int, default=0, metavar="N",
                   help="only the last N matching events")
    s.set_defaults(func=cmd_timeline)

    s = sub.add_parser("export", help="a run as Chrome trace JSON (Perfetto), Mermaid, or "
                       "OTLP/JSON lines (an OpenTelemetry Collector's file format)")
    s.add_argument("run", nargs="?", metavar="RUN", help="run id or prefix (default: the latest)")
    s.add_argument("--format", choices=("chrome", "mermaid", "otlp-json"), default="chrome")
    s.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("report", help="ready queries over the sqlite sink's database: "
                       "failures, slowest, flaky, sla (docs/reports.md)")
    s.add_argument("name", nargs="?", metavar="NAME", help="the report (see --list)")
    s.add_argument("--db", metavar="PATH",
                   help="the database (default: the sqlite sink's path in ra.yaml)")
    s.add_argument("--list", action="store_true", help="name the reports, one line each")
    s.add_argument("--sql", action="store_true", help="print the query instead of running it")
    s.add_argument("--json", action="store_true", help="the rows as a JSON list of objects")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("test-from", help="write a pytest file that replays a recorded "
                       "failure (a @traced flow with capture_args=True)")
    s.add_argument("run", nargs="?", metavar="RUN", help="run id or prefix (default: the latest)")
    s.add_argument("event_id", nargs="?", metavar="EVENT_ID",
                   help="the failure, exception or flow instance (default: the first failure)")
    s.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE, - for stdout (default: tests/test_from_<flow>_<id>.py)")
    s.add_argument("--force", action="store_true", help="overwrite an existing file")
    s.set_defaults(func=cmd_test_from)

    s = sub.add_parser("lsp", help="start the language server on stdio")
    s.set_defaults(func=cmd_lsp)

    s = sub.add_parser("mcp", help="start the MCP server for AI agents on stdio "
                       "(needs flowscribe[mcp]; docs/agents.md)")
    s.add_argument("--workspace", metavar="DIR",
                   help="the project whose .autodev it answers from (default: -C, or cwd)")
    s.set_defaults(func=cmd_mcp)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"flowscribe: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`flowscribe tail | head`): not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"flowscribe: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug of ours: still one line, and a non-zero exit
        print(f"flowscribe: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
