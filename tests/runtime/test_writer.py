"""The buffered writer: background flushing, urgent flushes, rotation, failing disks, fork."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _project import of_type, read_lines, trace, write_config

from flowscribe._warn import reset_warnings
from flowscribe._writer import AppendFile, Sink, Writer
from flowscribe.core import Session

if TYPE_CHECKING:
    from flowscribe._writer import Item


class Collect(Sink):
    name = "collect"

    def __init__(self) -> None:
        self.batches: list[list[Item]] = []
        self.closed = False

    def write(self, batch: Sequence[Item]) -> None:
        self.batches.append(list(batch))

    def close(self) -> None:
        self.closed = True


class Broken(Sink):
    name = "broken"

    def write(self, batch: Sequence[Item]) -> None:
        raise OSError("device on fire")


def item(n: int) -> Item:
    ev = {"n": n}
    return ev, json.dumps(ev) + "\n"


def wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    """Poll until ``predicate()`` holds (no timing assertion: a generous ceiling only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def test_append_file_writes_whole_lines_and_counts_bytes(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "trace.jsonl"
    f = AppendFile(str(path))
    assert f.write(b'{"a":1}\n{"a":2}\n') and f.write(b'{"a":3}\n')
    assert path.read_bytes() == b'{"a":1}\n{"a":2}\n{"a":3}\n'
    assert f.bytes_written == len(path.read_bytes())
    f.close()


def test_large_writes_are_split_only_at_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    f = AppendFile(str(path))
    line = b'{"x":"' + b"y" * 1000 + b'"}\n'
    f.write(line * 3000)  # about 3 MB: several os.write calls
    f.close()
    assert path.read_bytes() == line * 3000


@pytest.mark.parametrize("backups", [1, 3])
def test_rotation_keeps_n_generations_of_whole_lines(tmp_path: Path, backups: int) -> None:
    path = tmp_path / "trace.jsonl"
    f = AppendFile(str(path), max_bytes=1000, backups=backups)
    lines = [json.dumps({"n": n, "pad": "x" * 40}).encode() + b"\n" for n in range(200)]
    for line in lines:
        assert f.write(line)
    f.close()
    files = [tmp_path / f"trace.jsonl.{n}" for n in range(backups, 0, -1)] + [path]
    assert all(p.is_file() and p.stat().st_size <= 1000 for p in files)
    assert not (tmp_path / f"trace.jsonl.{backups + 1}").exists()
    kept = [x for p in files for x in p.read_bytes().splitlines()]
    # The newest generations are kept, oldest first across the files, whole and in order.
    numbers = [json.loads(x)["n"] for x in kept]
    assert numbers == list(range(numbers[0], 200))
    assert len(numbers) > 15 * backups  # each backup is a full file of about 18 lines


def test_a_rotation_that_cannot_rename_keeps_writing_and_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reset_warnings()
    path = tmp_path / "trace.jsonl"
    (tmp_path / "trace.jsonl.1").mkdir()  # a folder where the first backup goes
    f = AppendFile(str(path), max_bytes=200, backups=1)
    lines = [b'{"n":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n' % n for n in range(20)]
    assert all(f.write(line) for line in lines)
    f.close()
    assert path.read_bytes() == b"".join(lines)  # nothing lost, nothing torn
    err = capsys.readouterr().err
    assert err.count("cannot rotate") == 1 and "grows past its size limit" in err
    reset_warnings()


WRITE_LINES = """\
import json, sys
from flowscribe._writer import AppendFile

f = AppendFile(sys.argv[1], max_bytes=4000, backups=500)
for n in range(400):
    f.write(json.dumps({"p": sys.argv[2], "n": n, "pad": "x" * 30}).encode() + b"\\n")
f.close()
"""


def test_processes_sharing_a_trace_rotate_it_once_each_time(tmp_path: Path) -> None:
    """Four writers rotate one file about 30 times: rotation takes an flock and looks
    again, so no process rotates a file another one just rotated (losing a generation)."""
    import subprocess
    import sys

    path = tmp_path / "trace.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", WRITE_LINES, str(path), str(p)])
             for p in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    seen = []
    for p in tmp_path.iterdir():
        assert p.name == "trace.jsonl" or p.name.startswith("trace.jsonl.")
        seen += [(e["p"], e["n"]) for e in map(json.loads, p.read_bytes().splitlines())]
    assert sorted(seen) == [(str(p), n) for p in range(4) for n in range(400)]


def test_a_file_rotated_by_another_writer_is_followed(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    f = AppendFile(str(path))
    f.CHECK_EVERY_S = 0  # the path is looked at every 0.5 s; here at every write
    f.write(b"1\n")
    os.replace(path, tmp_path / "trace.jsonl.1")  # another process rotated it
    f.write(b"2\n")
    f.close()
    assert path.read_bytes() == b"2\n"
    assert (tmp_path / "trace.jsonl.1").read_bytes() == b"1\n"


def test_a_writer_never_appends_to_a_file_another_one_rotated_away(tmp_path: Path) -> None:
    """The rotated file still has room for a small line, and the other writer looked at the
    path a moment ago (it looks every 0.5 s): its next event must still go to the live
    file, after the newer ones, not into the history before them. (A parent's summary,
    written just after a pool's workers rotated the trace, ended up in ``.1``.)"""
    path = tmp_path / "trace.jsonl"
    quiet = AppendFile(str(path), max_bytes=100, backups=2)
    busy = AppendFile(str(path), max_bytes=100, backups=2)
    assert quiet.write(b'{"q":0}\n')
    assert busy.write(b'{"b":0}\n' * 6)
    assert busy.write(b'{"b":1}\n' * 6)  # does not fit: the busy writer rotates
    assert quiet.write(b'{"q":1}\n')  # would fit in the rotated file
    quiet.close()
    busy.close()
    assert path.read_bytes().splitlines()[-1] == b'{"q":1}'
    history = (tmp_path / "trace.jsonl.1").read_bytes().splitlines()
    assert history == [b'{"q":0}'] + [b'{"b":0}'] * 6
    assert (tmp_path / "trace.jsonl.1").stat().st_mode & 0o222 == 0  # marked as history
    assert path.stat().st_mode & 0o200  # the live file stays writable


def test_an_unwritable_path_warns_once_and_drops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reset_warnings()
    (tmp_path / "blocker").write_text("a file, not a directory")
    f = AppendFile(str(tmp_path / "blocker" / "trace.jsonl"))
    assert not f.write(b"1\n")
    assert not f.write(b"2\n")
    err = capsys.readouterr().err
    assert err.count("cannot write") == 1 and "the app runs on" in err
    reset_warnings()


def test_writer_flushes_in_the_background_and_on_demand() -> None:
    sink = Collect()
    w = Writer([sink], interval=0.05)
    w.append(item(1))
    assert wait_for(lambda: sink.batches)  # no flush() call: the flusher thread did it
    w.append(item(2))
    w.append(item(3))
    w.flush()
    w.close()
    got = [ev["n"] for batch in sink.batches for ev, _ in batch]
    assert got == [1, 2, 3] and sink.closed
    w.append(item(4))  # after close: queued, never written, never raised
    w.close()


def test_a_full_buffer_flushes_without_waiting() -> None:
    sink = Collect()
    w = Writer([sink], interval=3600, max_pending=10)
    for n in range(25):
        w.append(item(n))
    assert sum(len(b) for b in sink.batches) == 20
    w.close()
    assert [ev["n"] for b in sink.batches for ev, _ in b] == list(range(25))


class Tally(Collect):
    name = "tally"
    tally = True


def test_an_urgent_flush_writes_the_stores_now_and_the_tally_in_order_later() -> None:
    store, tally = Collect(), Tally()
    w = Writer([store, tally], interval=3600)
    w.append(item(1))
    w.flush_urgent()  # a failure: on disk before its marker returns
    w.append(item(2))
    w.flush_urgent()
    assert [[ev["n"] for ev, _ in b] for b in store.batches] == [[1], [2]]
    assert tally.batches == []  # not yet: with the next batch, as one
    w.append(item(3))
    w.flush()
    assert [[ev["n"] for ev, _ in b] for b in tally.batches] == [[1, 2, 3]]
    w.append(item(4))
    w.flush_urgent()
    w.close()  # the end of the run: the tally has everything the stores have
    assert [ev["n"] for b in store.batches for ev, _ in b] == [1, 2, 3, 4]
    assert [ev["n"] for b in tally.batches for ev, _ in b] == [1, 2, 3, 4]


def test_urgent_events_alone_reach_the_tally_through_the_flusher_or_a_full_hold() -> None:
    tally = Tally()
    w = Writer([Collect(), tally], interval=0.05)
    w.append(item(1))
    w.flush_urgent()
    assert wait_for(lambda: tally.batches)  # nothing else queued: the flusher hands it on
    w.close()
    tally = Tally()
    w = Writer([Collect(), tally], interval=3600, max_pending=10)
    for n in range(25):
        w.append(item(n))
        w.flush_urgent()
    assert sum(len(b) for b in tally.batches) == 20  # never more than max_pending held
    w.close()
    assert [ev["n"] for b in tally.batches for ev, _ in b] == list(range(25))


def test_a_failing_sink_is_reported_once_and_the_others_go_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reset_warnings()
    good = Collect()
    w = Writer([Broken(), good], interval=3600)
    for n in range(3):
        w.append(item(n))
        w.flush()
    w.close()
    assert len(good.batches) == 3
    assert capsys.readouterr().err.count("the broken sink failed") == 1
    reset_warnings()


def test_failures_reach_the_file_before_the_marker_returns(project: Path) -> None:
    session = Session()
    path = project / ".autodev" / "trace.jsonl"
    session._writer.interval = 3600  # type: ignore[union-attr]  # no background help
    with session.flow("orders/submit") as f:
        f.checkpoint("buffered")
        f.failure("EXTERNAL.TIMEOUT", "no ack")
        on_disk = [e["event_type"] for e in read_lines(path)]
        assert on_disk[-1] == "failure" and "checkpoint" in on_disk
        f.checkpoint("after")
        assert [e["event_type"] for e in read_lines(path)][-1] == "failure"
    session.end_session()
    assert [e["step"] for e in of_type(trace(project), "checkpoint")] == ["buffered", "after"]


def test_ordinary_events_reach_a_reader_without_a_flush(project: Path) -> None:
    session = Session()
    with session.flow("quiet/flow") as f:
        f.checkpoint("one")
        path = project / ".autodev" / "trace.jsonl"
        assert wait_for(lambda: path.exists() and b'"step":"one"' in path.read_bytes())
    session.end_session()


def test_rotation_through_the_config(project: Path) -> None:
    write_config(project, """\
        version: 1
        sinks:
          - type: jsonl
            path: .autodev/trace.jsonl
        artifacts:
          per_run_dirs: true
        retention:
          rotate_trace: true
          max_trace_bytes: 20000
          trace_backups: 2
        """)
    session = Session()
    with session.flow("big/flow") as f:
        for n in range(200):
            f.checkpoint("step", n=n, pad="x" * 100)
            if n % 20 == 0:
                session.flush()
    session.end_session()
    autodev = project / ".autodev"
    assert (autodev / "trace.jsonl.1").is_file() and (autodev / "trace.jsonl.2").is_file()
    assert not (autodev / "trace.jsonl.3").exists()
    assert (autodev / "trace.jsonl").stat().st_size <= 20000
    # The run's own trace is never rotated: it holds the whole run.
    run = read_lines(autodev / "runs" / str(session.run_id) / "trace.jsonl")
    assert len(of_type(run, "checkpoint")) == 200


@pytest.mark.parametrize(("value", "message"), [
    ("0", "must be at least 1 (got 0)"),
    ("5000", "must be at most 1000 (got 5000)"),
    ("many", "must be a whole number"),
])
def test_trace_backups_is_checked_like_every_key(tmp_path: Path, value: str, message: str
                                                 ) -> None:
    from flowscribe.config import load_config

    write_config(tmp_path, f"version: 1\nretention:\n  trace_backups: {value}\n")
    cfg, problems = load_config(tmp_path, env={})
    assert cfg.retention.trace_backups == 5  # the default stands in for a bad value
    (problem,) = problems
    assert (problem.file, problem.line, problem.key) == (".autodev/ra.yaml", 3,
                                                        "retention.trace_backups")
    assert message in problem.message


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_writes_its_own_whole_lines_and_none_of_the_parents(
    project: Path,
) -> None:
    session = Session()
    session._writer.interval = 3600  # type: ignore[union-attr]  # keep events pending
    with session.flow("prefork") as f:
        for n in range(50):
            f.checkpoint("pending", n=n)  # still buffered when we fork
        pid = os.fork()
        if pid == 0:  # the child: its copy of the buffer is empty, its lock is free
            code = 0
            try:
                for n in range(20):
                    f.checkpoint("child", n=n)
                session.flush()
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    session.end_session()
    events = trace(project)
    pending = [e for e in events if e["step"] == "pending"]
    child = [e for e in events if e["step"] == "child"]
    assert len(pending) == 50 and {e["pid"] for e in pending} == {os.getpid()}
    assert len(child) == 20 and {e["pid"] for e in child} == {pid}
    child_start = [e for e in of_type(events, "run_start") if e["pid"] == pid]
    assert len(child_start) == 1
    assert len({e["id"] for e in events}) == len(events)


def test_append_file_knows_which_ranges_other_processes_wrote(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"before us\n")
    f = AppendFile(str(path))
    other = [sys.executable, "-c",
             "import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND); "
             "os.write(fd, sys.argv[2].encode() + b'\\n')", str(path)]
    assert f.write(b"ours 1\n")
    subprocess.run([*other, "theirs 1"], check=True)
    assert f.write(b"ours 2\n") and f.write(b"ours 3\n")
    subprocess.run([*other, "theirs 2"], check=True)
    data = path.read_bytes()
    ranges = f.others_wrote(0, len(data))
    assert ranges is not None
    assert [data[b:e] for b, e in ranges] == [b"before us\n", b"theirs 1\n", b"theirs 2\n"]
    assert f.others_wrote(len(b"before us\n"), len(data)) == ranges[1:]
    f.close()


def test_append_file_ranges_are_unknown_once_the_file_was_reopened(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    f = AppendFile(str(path), max_bytes=30)
    assert f.write(b"x" * 20 + b"\n")
    assert f.others_wrote(0, path.stat().st_size) == []
    assert f.write(b"y" * 20 + b"\n")  # rotated: another file from here on
    assert f.others_wrote(0, path.stat().st_size) is None
    f.close()
