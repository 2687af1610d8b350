"""Finding one flow instance in a big trace by its id alone (``trace.find_event``,
``instance_span`` without ``near``): on a trace written by the runtime from several
threads and processes, every instance is found at its own start line, and what its span
holds is what reading the whole file finds; a name that is not there finds nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _project import QUIET_CONFIG, write_config

from flowscribe.trace import field_marker, find_event, instance_span, iter_events

APP = """\
import os, sys, threading
import flowscribe

def work(tag, n):
    for i in range(n):
        with flowscribe.flow("jobs/run", correlation={"job": f"{tag}-{i}"}) as f:
            f.checkpoint("load", rows=i, note="x" * 200)
            if i % 7 == 0:
                with flowscribe.flow("jobs/step") as g:
                    g.checkpoint("inner", pad="y" * 300)
            if i % 50 == 0:
                f.failure("DATA.EMPTY", "no rows", job=i)
            else:
                f.success()

flowscribe.init(app_name="big")
if sys.argv[1:] == ["child"]:
    work("child", 1500)
else:
    import subprocess
    child = subprocess.Popen([sys.executable, __file__, "child"])
    threads = [threading.Thread(target=work, args=(f"t{k}", 1500)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    child.wait()
flowscribe.end_session()
"""


@pytest.fixture(scope="module")
def big_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    write_config(root, QUIET_CONFIG + "retention:\n  max_trace_bytes: 200000000\n")
    (root / "app.py").write_text(APP)
    subprocess.run([sys.executable, "app.py"], cwd=root, check=True, timeout=300,
                   capture_output=True)
    return root / ".autodev" / "trace.jsonl"


def _starts(trace: Path) -> dict[str, int]:
    """Each instance's flow_start offset, from a read of every line."""
    found: dict[str, int] = {}
    offset = 0
    with trace.open("rb") as fh:
        for line in fh:
            if b'"event_type":"flow_start"' in line:
                inst = line.split(b'"instance":"', 1)[1].split(b'"', 1)[0].decode()
                found[inst] = offset
            offset += len(line)
    return found


def _events_of(trace: Path, instance: str, span: tuple[int, int | None] | None) -> list[dict]:
    start, end = span if span is not None else (0, None)
    return [ev for ev in iter_events(trace, contains=(field_marker("instance", instance),),
                                     start=start, limit=end)
            if ev.get("instance") == instance]


def test_every_instance_is_found_at_its_start_line(big_trace: Path) -> None:
    starts = _starts(big_trace)
    assert big_trace.stat().st_size > 8 << 20  # big enough to be bisected
    prefixes = {inst.split("-")[0] for inst in starts}
    assert len(prefixes) == 2  # the app and its child, interleaved
    assert len(starts) > 6000
    missed = {inst: at for inst, at in starts.items() if find_event(big_trace, inst) != at}
    assert not missed


def test_an_instance_s_span_found_by_id_holds_what_a_whole_read_finds(big_trace: Path) -> None:
    starts = sorted(_starts(big_trace))
    size = big_trace.stat().st_size
    for instance in starts[:: max(1, len(starts) // 60)]:
        span = instance_span(big_trace, instance)
        assert span is not None, instance
        assert (span[1] or size) - span[0] < size // 2  # not the whole file
        assert _events_of(big_trace, instance, span) == _events_of(big_trace, instance, None)


def test_a_long_burst_of_another_process_s_lines_is_stepped_over(
        big_trace: Path, tmp_path: Path) -> None:
    # The same real lines, regrouped as if the child had written all of its events in
    # one burst in the middle of the parent's: the bisection meets stretches of megabytes
    # with none of the process it looks for.
    lines = big_trace.read_bytes().splitlines(keepends=True)
    parent = lines[0][18:26]  # the run_start's id prefix: the app's own process
    own = [ln for ln in lines if ln[18:26] == parent]
    other = [ln for ln in lines if ln[18:26] != parent] * 2  # longer than a probe reads
    assert sum(map(len, other)) > 6 << 20
    half = len(own) // 2
    burst = tmp_path / "trace.jsonl"
    burst.write_bytes(b"".join(own[:half] + other + own[half:]))
    starts = {inst: at for inst, at in _starts(burst).items()
              if inst.startswith(parent.decode())}  # the child's lines are there twice
    missed = [inst for inst, at in starts.items() if find_event(burst, inst) != at]
    assert len(starts) > 3000
    assert not missed


@pytest.mark.parametrize("name", [
    "never-ran", "", "0badc0de-", "0badc0de-12", "ffffffff-99999999999999", "../etc",
])
def test_a_name_that_is_not_in_the_trace_finds_nothing(big_trace: Path, name: str) -> None:
    assert find_event(big_trace, name) is None
    assert instance_span(big_trace, name) is None


def test_a_trace_the_runtime_did_not_write_finds_nothing(tmp_path: Path) -> None:
    other = tmp_path / "trace.jsonl"
    other.write_bytes(b'{"id": "0badc0de-3", "event_type": "flow_start"}\n' * 100_000)
    assert find_event(other, "0badc0de-3") is None
    assert find_event(tmp_path / "missing.jsonl", "0badc0de-3") is None
