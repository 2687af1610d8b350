"""The trace reader: tolerant of every kind of bad line, incremental on growing files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from flowscribe.trace import (
    MAX_LINE_BYTES,
    ReadStats,
    TraceFollower,
    field_marker,
    iter_events,
)


def _event(seq: int, event_type: str = "checkpoint", **extra: object) -> dict[str, object]:
    ev: dict[str, object] = {
        "schema": 1,
        "id": f"p1-{seq}",
        "run_id": "r1",
        "seq": seq,
        "ts": 1.0 + seq,
        "event_type": event_type,
        "flow_id": "orders/submit",
    }
    ev.update(extra)
    return ev


def _line(ev: dict[str, object]) -> bytes:
    return json.dumps(ev, separators=(",", ":")).encode() + b"\n"


def test_bad_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(
        _line(_event(1))
        + b"{not json\n"
        + b"\x00\xff\xfe binary junk\n"
        + b"[1, 2, 3]\n"
        + _line({**_event(2), "schema": 99})
        + _line(_event(3, "teleport"))
        + b"x" * (MAX_LINE_BYTES + 10)
        + b"\n"
        + b"\n"
        + _line(_event(4, "failure"))
        + b'{"schema":1,"event_type":"fail'  # a run still writing its last line
    )
    stats = ReadStats()
    events = list(iter_events(path, stats=stats))
    assert [e["seq"] for e in events] == [1, 4]
    assert stats.skipped == {
        "malformed": 2,
        "not_object": 1,
        "unknown_schema": 1,
        "unknown_event_type": 1,
        "too_long": 1,
        "truncated": 1,
    }


def test_type_filter_only_parses_matching_lines(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"".join(_line(_event(i, t)) for i, t in enumerate(
        ["run_start", "flow_start", "failure", "checkpoint", "exception", "flow_end"], 1)))
    stats = ReadStats()
    got = [e["event_type"] for e in iter_events(path, types={"failure", "exception"}, stats=stats)]
    assert got == ["failure", "exception"]
    assert stats.events == 2


def test_contains_parses_only_lines_holding_an_encoded_field(tmp_path: Path) -> None:
    # Ids with characters JSON escapes (quotes, backslashes, non-ASCII, a newline) must be
    # found exactly as the runtime's ASCII-only encoder writes them.
    odd = 'shop/"quoted"\\back/café\n💥'
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"".join(_line(e) for e in [
        _event(1, flow_id=odd, instance="i-1"),
        _event(2, flow_id="shop/other", instance="i-2"),
        _event(3, flow_id="shop/other", evidence={"flow_id": odd}),  # a look-alike
        _event(4, "failure", flow_id=odd, instance="i-1"),
        _event(5, flow_id="shop/\"quoted\"", instance="i-3"),  # a prefix of the id
    ]))
    assert field_marker("flow_id", odd).isascii()
    stats = ReadStats()
    got = [e["seq"] for e in iter_events(path, contains=[field_marker("flow_id", odd)],
                                         stats=stats)]
    assert got == [1, 3, 4]  # candidates: the reader checks the fields itself
    assert stats.lines == 5 and stats.events == 3
    both = iter_events(path, types={"failure"}, contains=[field_marker("instance", "i-1")])
    assert [e["seq"] for e in both] == [4]
    ids = [field_marker("id", "p1-2"), field_marker("id", "p1-5")]
    assert [e["seq"] for e in iter_events(path, contains=ids)] == [2, 5]


def test_filters_find_every_match_across_chunk_boundaries(tmp_path: Path) -> None:
    # A few MB of lines of varied length, so lines straddle the reader's 1 MiB chunks;
    # an over-long line and a cut last line among them. The filtered read must give
    # exactly the events an unfiltered read gives, filtered by hand.
    kinds = ["flow_start", "checkpoint", "failure", "metric", "exception", "flow_end"]
    parts = []
    for i in range(1, 12_001):
        pad = "x" * (i * 37 % 700)
        parts.append(_line(_event(i, kinds[i % 6], evidence={"pad": pad},
                                  instance=f"i-{i % 97}")))
        if i == 6_000:
            parts.append(b"y" * (MAX_LINE_BYTES + 5) + b' "event_type":"failure"\n')
    parts.append(b'{"schema":1,"event_type":"failure"')
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"".join(parts))
    everything = list(iter_events(path))
    wanted = {"failure", "exception"}
    stats = ReadStats()
    got = [e["seq"] for e in iter_events(path, types=wanted, stats=stats)]
    assert got == [e["seq"] for e in everything if e["event_type"] in wanted]
    assert stats.skipped == {"too_long": 1, "truncated": 1}
    assert stats.events == len(got)
    mine = [field_marker("instance", "i-5")]
    got = [e["seq"] for e in iter_events(path, contains=mine)]
    assert got == [e["seq"] for e in everything if e.get("instance") == "i-5"]
    both = [e["seq"] for e in iter_events(path, types={"failure"}, contains=mine)]
    assert both == [e["seq"] for e in everything
                    if e.get("instance") == "i-5" and e["event_type"] == "failure"]


def test_missing_file_yields_nothing(tmp_path: Path) -> None:
    stats = ReadStats()
    assert list(iter_events(tmp_path / "nope.jsonl", stats=stats)) == []
    assert stats.skipped == {"unreadable": 1}


def test_follower_reads_appends_and_keeps_partial_lines(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    follower = TraceFollower(path)
    assert follower.poll().events == []  # not there yet: no error

    path.write_bytes(_line(_event(1)))
    assert [e["seq"] for e in follower.poll().events] == [1]

    whole = _line(_event(2))
    with path.open("ab") as fh:
        fh.write(whole[:10])
    assert follower.poll().events == []
    with path.open("ab") as fh:
        fh.write(whole[10:] + _line(_event(3)))
    result = follower.poll()
    assert [e["seq"] for e in result.events] == [2, 3]
    assert result.reset is False


def test_follower_from_end_reads_only_what_comes_after(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    done = _line(_event(1)) + _line(_event(2))
    writing = _line(_event(3))
    path.write_bytes(done + writing[:15])  # a line still being written counts as new
    follower = TraceFollower(path, from_end=True)
    assert follower.offset == len(done)
    assert follower.poll().events == []
    with path.open("ab") as fh:
        fh.write(writing[15:] + _line(_event(4)))
    assert [e["seq"] for e in follower.poll().events] == [3, 4]
    assert follower.stats.skipped == {} and follower.stats.lines == 2

    whole = tmp_path / "whole.jsonl"
    whole.write_bytes(done)
    at_end = TraceFollower(whole, from_end=True)
    assert at_end.offset == len(done) and at_end.poll().events == []

    # A file that is not there yet, or is replaced, is read from its start.
    later = TraceFollower(tmp_path / "later.jsonl", from_end=True)
    (tmp_path / "later.jsonl").write_bytes(done)
    assert [e["seq"] for e in later.poll().events] == [1, 2]
    os.replace(tmp_path / "later.jsonl", tmp_path / "later.jsonl.1")
    (tmp_path / "later.jsonl").write_bytes(_line(_event(1, run_id="r2")))
    result = later.poll()
    assert result.reset and [e["run_id"] for e in result.events] == ["r2"]


def test_follower_from_end_skips_an_over_long_last_line(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(_line(_event(1)) + b"x" * (MAX_LINE_BYTES + 10))
    follower = TraceFollower(path, from_end=True)
    assert follower.offset == path.stat().st_size
    with path.open("ab") as fh:
        fh.write(b"xx\n" + _line(_event(2)))
    assert [e["seq"] for e in follower.poll().events] == [2]
    assert follower.stats.skipped == {"too_long": 1}


def test_follower_resets_on_rotation_truncation_and_deletion(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(_line(_event(1)) + _line(_event(2)))
    follower = TraceFollower(path)
    assert len(follower.poll().events) == 2

    # rotation: the old file is renamed away and a new one starts
    os.replace(path, tmp_path / "trace.jsonl.1")
    path.write_bytes(_line(_event(1, run_id="r2")))
    result = follower.poll()
    assert result.reset is True
    assert [e["run_id"] for e in result.events] == ["r2"]

    # truncation in place
    path.write_bytes(b"")
    assert follower.poll().reset is True

    path.unlink()
    assert follower.poll().reset is True
    assert follower.poll().reset is False


def test_follower_prefilters_types_and_reads_in_bounded_steps(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    kinds = ["run_start", "flow_start", "failure", "checkpoint", "exception", "flow_end"] * 50
    path.write_bytes(b"".join(_line(_event(i, t)) for i, t in enumerate(kinds, 1)))
    follower = TraceFollower(path, types={"failure", "exception"}, max_read=1000)
    got: list[object] = []
    polls = 0
    while True:
        result = follower.poll()
        polls += 1
        got += [e["event_type"] for e in result.events]
        if not result.more:
            break
    assert got == ["failure", "exception"] * 50
    assert polls > 10
    assert follower.stats.events == 100
    assert follower.offset == path.stat().st_size


def test_follower_skips_an_over_long_line_across_polls(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(_line(_event(1)) + b"x" * (MAX_LINE_BYTES + 10) + b"\n" + _line(_event(2)))
    follower = TraceFollower(path, max_read=MAX_LINE_BYTES // 2)
    seqs: list[object] = []
    while True:
        result = follower.poll()
        seqs += [e["seq"] for e in result.events]
        if not result.more:
            break
    assert seqs == [1, 2]
    assert follower.stats.skipped == {"too_long": 1}


def test_follower_type_filter_ignores_the_key_inside_evidence(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    sneaky = _event(1, "checkpoint", evidence={"event_type": "failure"})
    path.write_bytes(_line(sneaky) + _line(_event(2, "failure")))
    follower = TraceFollower(path, types={"failure"})
    assert [e["seq"] for e in follower.poll().events] == [2]
    assert follower.stats.events == 1


def test_follower_type_filter_counts_junk_lines_without_parsing_them(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(b"\x00\xff junk\n" + _line(_event(1, "checkpoint")) + b"{cut\n"
                     + _line(_event(2, "failure")))
    follower = TraceFollower(path, types={"failure"}, audit=True)
    assert [e["seq"] for e in follower.poll().events] == [2]
    assert follower.stats.skipped == {"malformed": 2}
    assert follower.stats.lines == 4


def test_follower_type_filter_can_audit_types(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_bytes(_line(_event(1, "teleport")) + _line(_event(2, "failure"))
                     + _line(_event(3, "checkpoint")))
    quiet = TraceFollower(path, types={"failure"})
    assert len(quiet.poll().events) == 1 and quiet.stats.skipped == {}
    counting = TraceFollower(path, types={"failure"}, audit=True)
    assert len(counting.poll().events) == 1
    assert counting.stats.skipped == {"unknown_event_type": 1}


def test_a_fifo_in_place_of_a_trace_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    os.mkfifo(path)  # opening it for reading would block until a writer came
    stats = ReadStats()
    assert list(iter_events(path, stats=stats)) == []
    assert stats.skipped == {"unreadable": 1}
    follower = TraceFollower(path)
    assert follower.poll().events == [] and follower.poll().events == []
    assert follower.stats.skipped == {"unreadable": 1}


def test_follower_says_where_each_line_it_found_starts(tmp_path: Path) -> None:
    # Lines cut across polls (a small max_read, appends mid-line) still get their start.
    path = tmp_path / "trace.jsonl"
    kinds = ["flow_start", "failure", "checkpoint", "exception", "flow_end"] * 40
    lines = [_line(_event(i, t, evidence={"pad": "x" * (i % 37)}))
             for i, t in enumerate(kinds, 1)]
    data = b"".join(lines)
    starts = [sum(len(x) for x in lines[:n]) for n in range(len(lines))]
    want = [s for s, t in zip(starts, kinds) if t in ("failure", "exception")]
    follower = TraceFollower(path, types={"failure", "exception"}, max_read=333)
    got: list[int] = []
    for cut in range(0, len(data) + 1, 1000):  # written in pieces, as a run writes
        with open(path, "ab") as fh:
            fh.write(data[len(path.read_bytes()) if path.exists() else 0:cut])
        while True:
            result = follower.poll()
            got += result.offsets
            assert len(result.offsets) == len(result.events)
            if not result.more:
                break
    with open(path, "ab") as fh:
        fh.write(data[len(path.read_bytes()):])
    while True:
        result = follower.poll()
        got += result.offsets
        if not result.more:
            break
    assert got == want
    assert all(data[o:].startswith(b'{"schema":1') for o in got)


def test_a_read_can_be_bounded_to_a_byte_range(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    lines = [_line(_event(i)) for i in range(1, 11)]
    path.write_bytes(b"".join(lines))
    start = sum(len(x) for x in lines[:3])
    end = start + sum(len(x) for x in lines[3:6])
    assert [e["seq"] for e in iter_events(path, start=start, limit=end)] == [4, 5, 6]
    assert [e["seq"] for e in iter_events(path, start=start, limit=end,
                                          contains=[b'"seq":5'])] == [5]


def test_a_line_reads_the_same_with_orjson_as_with_json(tmp_path: Path) -> None:
    # The reader uses orjson when importable; what orjson reads differently (a float for
    # an integer beyond 64 bits) or rejects while json accepts must still read as json
    # reads it, or an event would change (or vanish) with the environment.
    head = '{"schema":1,"id":"p1-1","run_id":"r1","seq":1,"event_type":"checkpoint",'
    lines = [
        head + '"evidence":{"n":123456789012345678901234567890}}',
        head + '"evidence":{"n":-9999999999999999999}}',
        head + '"evidence":{"n":18446744073709551615,"m":1.5e300}}',
        head + '"evidence":{"x":NaN,"y":Infinity}}',
        head + '"evidence":{"n":1e400}}',
        head + '"evidence":{"s":"\\ud800 alone"}}',
        "\ufeff" + head + '"evidence":{}}',
    ]
    path = tmp_path / "trace.jsonl"
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
    got = list(iter_events(path))
    expected = [json.loads(line.encode("utf-8")) for line in lines]
    assert repr(got) == repr(expected)  # repr: NaN != NaN, and 1e400 is inf either way
    assert got[0]["evidence"]["n"] == 123456789012345678901234567890
