"""Never delete or write what isn't ours; whole lines always; no hangs on odd trace files.

Every test runs the real runtime in its own process (``app.py`` in a project folder) and
looks at what it left on disk: planted links and folders, a full tmpfs, a file-size limit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _project import clean_env, write_config

from flowscribe.runs import RunLayout
from flowscribe.trace import ReadStats, iter_events

CONFIG = """\
version: 1
profile: all
sinks:
  - type: jsonl
    path: .autodev/trace.jsonl
artifacts:
  ask_md: always
retention:
  keep_runs: 1
"""

#: An app recording a few flows; the session ends normally.
APP = """\
from flowscribe.core import Session

s = Session(app_name="safety", mode="test")
for i in range(3):
    with s.flow("orders/submit", order=i) as f:
        f.checkpoint("validate", rows=i)
        f.success("ok")
s.end_session()
print("app done")
"""


def run_app(root: Path, code: str = APP, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as the project's app; the app must never see our trouble."""
    (root / "app.py").write_text(textwrap.dedent(code), encoding="utf-8")
    proc = subprocess.run([sys.executable, "app.py"], cwd=root, env=clean_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "app done" in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def warnings(proc: subprocess.CompletedProcess[str], word: str) -> list[str]:
    return [line for line in proc.stderr.splitlines()
            if line.startswith("flowscribe:") and word in line]


def snapshot(folder: Path, skip: str = "") -> dict[str, bytes | str]:
    """Every file (its bytes), folder and link (its target) under ``folder``."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        if skip and (rel == skip or rel.startswith(skip + os.sep)):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = os.path.normpath(os.path.join(rel, name))
            if skip and key == skip:
                continue
            if path.is_symlink():
                out[key] = "-> " + os.readlink(path)
            elif path.is_dir():
                out[key] = "dir"
            else:
                out[key] = path.read_bytes()
    return out


def run_dirs(root: Path) -> list[str]:
    runs = root / ".autodev" / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []


def make_project(root: Path, config: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_config(root, config)
    return root


# --- 1. never delete or write what isn't ours ----------------------------------------------

def test_a_runs_link_out_of_the_project_deletes_nothing(tmp_path: Path) -> None:
    """A cloned repository ships `.autodev/runs -> ../..`: next to the clone are folders
    named like runs (one even holds a planted run marker). Three runs, keep_runs 1."""
    outer = tmp_path / "work"
    for name in ("20240101T000000Z-aaaaaa", "20240101T000001.000Z-bbbbbb",
                 "20240102T000000Z-cccccc", "src"):
        (outer / name).mkdir(parents=True)
        (outer / name / "notes.txt").write_text(f"{name}: not flowscribe's\n")
    (outer / "20240102T000000Z-cccccc" / ".flowscribe-run").write_text(
        "20240102T000000Z-cccccc\n")
    root = make_project(outer / "clone")
    os.symlink("../..", root / ".autodev" / "runs")
    before = snapshot(outer, skip="clone")

    for _ in range(3):
        proc = run_app(root)
        told = warnings(proc, "runs")
        assert len(told) == 1, proc.stderr
        assert "is a link or leads out of" in told[0]

    assert snapshot(outer, skip="clone") == before
    assert os.readlink(root / ".autodev" / "runs") == "../.."
    # The run is still recorded and summarised at the top of .autodev.
    assert "# Run summary" in (root / ".autodev" / "summary.md").read_text(encoding="utf-8")
    assert (root / ".autodev" / "trace.jsonl").stat().st_size > 0


def test_retention_removes_only_the_run_folders_flowscribe_made(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    runs = root / ".autodev" / "runs"
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "data.csv").write_text("1,2,3\n")
    # Named like runs, older than any run, but not made by flowscribe:
    (runs / "20200101T000000Z-aaaaaa").mkdir(parents=True)  # no marker: the user's folder
    (runs / "20200101T000000Z-aaaaaa" / "keep.txt").write_text("mine\n")
    (runs / "20200101T000001Z-bbbbbb").mkdir()  # a marker naming another run
    (runs / "20200101T000001Z-bbbbbb" / ".flowscribe-run").write_text("20200101T000000Z-x\n")
    (outside / ".flowscribe-run").write_text("20200101T000002Z-cccccc\n")
    os.symlink(outside, runs / "20200101T000002Z-cccccc")  # a link to a folder elsewhere
    planted = snapshot(runs)
    planted_dirs = set(run_dirs(root))

    made = []
    for _ in range(3):
        run_app(root)
        made.append(set(run_dirs(root)) - planted_dirs)
    newest = made[-1] - made[-2]
    assert len(newest) == 1
    # keep_runs 1: flowscribe's own older runs are gone, the newest is kept, the rest stays.
    assert set(run_dirs(root)) == planted_dirs | newest
    assert {k: v for k, v in snapshot(runs).items() if k in planted} == planted
    assert (outside / "data.csv").read_text() == "1,2,3\n"


def test_latest_pointing_outside_is_ignored_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flowscribe._warn import reset_warnings

    reset_warnings()
    root = make_project(tmp_path / "proj")
    elsewhere = tmp_path / "elsewhere" / "runs" / "20240101T000000Z-aaaaaa"
    elsewhere.mkdir(parents=True)
    (elsewhere / "summary.md").write_text("someone else's\n")
    latest = root / ".autodev" / "latest"
    os.symlink("../../elsewhere/runs/20240101T000000Z-aaaaaa", latest)
    layout = RunLayout(root / ".autodev")
    assert layout.latest_run_id() is None and layout.latest_run_dir() is None
    assert layout.latest_run_id() is None
    told = [line for line in capsys.readouterr().err.splitlines() if "latest" in line]
    assert len(told) == 1 and "outside" in told[0]

    run_app(root)
    assert (elsewhere / "summary.md").read_text() == "someone else's\n"
    (new,) = run_dirs(root)
    assert os.readlink(latest) == f"runs/{new}"  # replaced, not written through
    assert layout.latest_run_dir() == root / ".autodev" / "runs" / new


@pytest.mark.parametrize("name", ["trace.jsonl", "summary.md", "ask.md", "trace.db"])
def test_a_file_linked_outside_the_project_is_never_written_through(
    tmp_path: Path, name: str
) -> None:
    config = CONFIG.replace("sinks:\n", "sinks:\n  - type: sqlite\n") if name == "trace.db" \
        else CONFIG
    root = make_project(tmp_path / "proj", config)
    victim = tmp_path / "outside" / "victim"
    victim.parent.mkdir()
    victim.write_bytes(b"precious, not a trace\n")
    link = root / ".autodev" / name
    os.symlink(victim, link)

    proc = run_app(root)

    assert victim.read_bytes() == b"precious, not a trace\n"
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim"]
    (run,) = run_dirs(root)
    events = list(iter_events(root / ".autodev" / "runs" / run / "trace.jsonl"))
    assert len([e for e in events if e["event_type"] == "flow_end"]) == 3
    if name.endswith(".md"):  # the copy replaced the link; the link's target is untouched
        assert not link.is_symlink() and "safety" in link.read_text(encoding="utf-8")
    else:
        assert link.is_symlink()
        told = warnings(proc, "link")
        assert len(told) == 1, proc.stderr
    if name == "trace.jsonl":  # the summary says what the shared trace is missing
        summary = (root / ".autodev" / "summary.md").read_text(encoding="utf-8")
        assert f"{len(events)} events not written:** is a link" in summary


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/full"])
@pytest.mark.parametrize("per_run_dirs", [True, False])
def test_a_trace_that_is_not_a_regular_file_is_refused_without_hanging(
    tmp_path: Path, kind: str, per_run_dirs: bool
) -> None:
    """A FIFO nobody reads would block the app in open(); /dev/zero read back would fill
    memory; /dev/full fails every write. Each is refused once; the app never waits."""
    config = CONFIG if per_run_dirs else CONFIG.replace(
        "  ask_md: always\n", "  ask_md: always\n  per_run_dirs: false\n")
    root = make_project(tmp_path / "proj", config)
    trace = root / ".autodev" / "trace.jsonl"
    if kind == "fifo":
        os.mkfifo(trace)
    else:
        os.symlink(kind, trace)
    # Memory capped: an app reading /dev/zero into memory fails instead of swapping.
    capped = "import resource\nresource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"

    proc = run_app(root, capped + APP, timeout=60)

    (told,) = warnings(proc, "trace.jsonl")
    assert "is not a regular file" in told or "is a link" in told
    assert trace.is_fifo() if kind == "fifo" else trace.is_symlink()
    if per_run_dirs:
        (run,) = run_dirs(root)
        ends = [e for e in iter_events(root / ".autodev" / "runs" / run / "trace.jsonl")
                if e["event_type"] == "flow_end"]
        assert len(ends) == 3
    assert "orders/submit" in (root / ".autodev" / "summary.md").read_text(encoding="utf-8")


# --- 2. whole lines, always ------------------------------------------------------------------

#: Record until the disk is full (or the size limit is hit), let space come back, record
#: more, end. ``append_only`` makes the traces `chattr +a`: truncation then fails, and the
#: fallback (a newline before the next event) has to keep lines apart.
FILL_APP = """\
import os, resource, signal, subprocess, sys
from flowscribe.core import Session

mode, append_only = sys.argv[1], sys.argv[2] == "1"
s = Session(app_name="full", mode="test")
s.flush()
traces = [os.path.abspath(".autodev/trace.jsonl"), os.path.join(str(s.run_dir), "trace.jsonl")]
if append_only:
    subprocess.run(["chattr", "+a", *traces], check=True)
try:
    if mode == "fsize":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        limit = max(os.path.getsize(t) for t in traces) + 3000
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    else:
        with open("filler", "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"x" * 1024)
            except OSError:
                pass
    for i in range(60):
        with s.flow("disk/fill", i=i) as f:
            f.checkpoint("step", i=i)
        if i % 7 == 0:
            s.flush()
    s.flush()
    if mode == "fsize":
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    else:
        os.unlink("filler")
    for i in range(5):
        with s.flow("disk/after", i=i) as f:
            f.checkpoint("step", i=i)
    s.end_session()
finally:
    if append_only:
        subprocess.run(["chattr", "-a", *traces], check=True)
print("app done")
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (needs root); skipped with the reason where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a 64 KiB tmpfs here: {proc.stderr.strip() or 'not root'}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _need_chattr(append_only: bool, where: Path) -> None:
    if not append_only:
        return
    probe = where / ".probe"
    probe.write_text("")
    ok = shutil.which("chattr") is not None and subprocess.run(
        ["chattr", "+a", str(probe)], capture_output=True, check=False).returncode == 0
    if ok:
        subprocess.run(["chattr", "-a", str(probe)], check=False)
    probe.unlink()
    if not ok:
        pytest.skip("chattr +a (append-only files, to make truncation fail) not available")


def check_whole_lines(root: Path, proc: subprocess.CompletedProcess[str], why: str,
                      append_only: bool) -> None:
    (run,) = run_dirs(root)
    traces = [root / ".autodev" / "trace.jsonl", root / ".autodev" / "runs" / run / "trace.jsonl"]
    missing = []
    for path in traces:
        data = path.read_bytes()
        assert data.endswith(b"\n")
        events: list[dict[str, Any]] = []
        torn = 0
        for raw in data.split(b"\n")[:-1]:
            try:
                events.append(json.loads(raw))
            except ValueError:
                # Only with truncation impossible: the cut event alone on its line, never
                # glued to the next one.
                assert append_only, f"torn line in {path}: {raw[:80]!r}"
                # (the disk may fill at any byte, even inside `{"schema"` itself)
                start = b'{"schema"'
                assert raw.count(start) <= 1
                assert raw.startswith(start) or start.startswith(raw)
                torn += 1
        stats = ReadStats()
        assert len(list(iter_events(path, stats=stats))) == len(events)
        assert stats.skipped_total == torn
        # After space came back, every event arrived (5 flows of start, checkpoint, end).
        assert len([e for e in events if e.get("flow_id") == "disk/after"]) == 15
        assert events[-1]["event_type"] == "summary"
        missing.append(events[-1]["seq"] - len(events))  # seq counts every event recorded
        told = warnings(proc, f"cannot write {path}")
        assert len(told) == 1 and why in told[0], proc.stderr
    assert max(missing) > 0, missing
    summary = (root / ".autodev" / "summary.md").read_text(encoding="utf-8")
    assert f"- **{max(missing)} events not written:** {why}" in summary, [
        ln for ln in summary.splitlines() if "not written" in ln or "Warning" in ln]


@pytest.mark.parametrize("append_only", [False, True], ids=["cut-back", "newline"])
def test_a_full_disk_never_leaves_a_torn_line(small_disk: Path, append_only: bool) -> None:
    _need_chattr(append_only, small_disk)
    root = make_project(small_disk / "proj", CONFIG.replace("  ask_md: always\n",
                                                            "  ask_md: never\n"))
    (root / "app.py").write_text(FILL_APP, encoding="utf-8")
    proc = subprocess.run([sys.executable, "app.py", "tmpfs", str(int(append_only))],
                          cwd=root, env=clean_env(), capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0 and "app done" in proc.stdout, proc.stderr
    check_whole_lines(root, proc, "disk full", append_only)


@pytest.mark.parametrize("append_only", [False, True], ids=["cut-back", "newline"])
def test_a_file_size_limit_never_leaves_a_torn_line(tmp_path: Path, append_only: bool) -> None:
    _need_chattr(append_only, tmp_path)
    root = make_project(tmp_path / "proj")
    (root / "app.py").write_text(FILL_APP, encoding="utf-8")
    proc = subprocess.run([sys.executable, "app.py", "fsize", str(int(append_only))],
                          cwd=root, env=clean_env(), capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0 and "app done" in proc.stdout, proc.stderr
    check_whole_lines(root, proc, "file size limit reached", append_only)


#: One event cut at each byte of it, the file append-only (no truncation): the newline the
#: next write begins with completes an event that lacked only its own newline, so that one
#: was written after all. ``dropped`` must count what readers cannot read, no more, no less.
CUT_AT_EVERY_BYTE = """\
import json, os, resource, signal, subprocess, sys
from flowscribe._writer import AppendFile

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
line = json.dumps({"schema": 1, "id": "x-1", "n": 12345}, separators=(",", ":")).encode() + b"\\n"
out = []
for cut in range(1, len(line) + 1):
    path = f"t{cut}.jsonl"
    f = AppendFile(path)
    f.write(b'{"schema":1,"id":"a"}\\n')
    subprocess.run(["chattr", "+a", path], check=True)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + cut, hard))
        f.write(line)  # cut after `cut` bytes (all of it when cut == len(line))
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        f.write(b'{"schema":1,"id":"b"}\\n')
    finally:
        subprocess.run(["chattr", "-a", path], check=True)
    out.append([cut, f.dropped])
print(json.dumps(out))
"""


def line_start(raw: bytes) -> bool:
    """``raw`` is the start of the one event this test cuts."""
    return raw.startswith(b'{"schema"') or b'{"schema"'.startswith(raw)


def test_an_event_cut_just_before_its_newline_is_not_counted_as_dropped(tmp_path: Path) -> None:
    _need_chattr(True, tmp_path)
    (tmp_path / "app.py").write_text(CUT_AT_EVERY_BYTE, encoding="utf-8")
    proc = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=60, check=True)
    results = json.loads(proc.stdout)
    assert len(results) > 20
    for cut, dropped in results:
        path = tmp_path / f"t{cut}.jsonl"
        data = path.read_bytes()
        assert data.endswith(b"\n")
        readable = []
        for raw in data.split(b"\n")[:-1]:
            try:
                readable.append(json.loads(raw)["id"])
            except ValueError:
                # the cut one, alone on its line
                assert raw.count(b"{") == 1 and line_start(raw), (cut, data)
        assert readable[0] == "a" and readable[-1] == "b", (cut, data)
        # Three events were written or dropped; the count says exactly which.
        assert 3 - len(readable) == dropped, (cut, dropped, data)
