"""aggregate.json: a finished run's aggregate, saved beside its summary.md.

Folding a large trace again costs its readers seconds (the language server's lenses, MCP's
first answer), although the run that wrote it had the aggregate in hand at its end. The run
saves it here, with how many bytes of its trace it covers and a digest of the bytes before
that point; a reader loads it and folds only what came after (a child process that went on
writing). A file that does not match its trace, or is out of shape in any way, is ignored:
the reader folds the whole trace, as it would without one. Format: docs/trace-format.md.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from flowscribe._files import open_regular, read_regular
from flowscribe._warn import warn_once
from flowscribe.aggregate import RunAggregate, SlaTargets, aggregate_from_dict, aggregate_to_dict

__all__ = ["AGGREGATE_FILE", "load_aggregate", "write_aggregate"]

AGGREGATE_FILE = "aggregate.json"
FORMAT = "flowscribe-aggregate"
VERSION = 1
#: The digest covers the first and the last ``DIGEST_BYTES`` before the covered offset and
#: ``DIGEST_SAMPLES`` blocks of ``DIGEST_BYTES`` spread between them: enough to tell a
#: replaced, cut or rewritten trace from the one the aggregate was folded from, at the cost
#: of a few reads (hashing all of a 1M-event trace would cost what folding it saves).
DIGEST_BYTES = 1 << 12
DIGEST_SAMPLES = 32
#: A larger file is no aggregate of ours (they hold bounded state: tens of KB).
MAX_BYTES = 16 << 20


def _digest(trace: Path, size: int) -> str:
    """sha256 of the sampled blocks of ``trace`` before byte ``size`` (see above); OSError
    when the trace is shorter or not cut at a line's end there."""
    h = hashlib.sha256(str(size).encode())
    step = max(size // (DIGEST_SAMPLES + 1), DIGEST_BYTES)
    starts = sorted({*range(0, max(size - DIGEST_BYTES, 0), step),
                     max(size - DIGEST_BYTES, 0)})
    with open_regular(trace) as fh:
        for start in starts:
            fh.seek(start)
            want = min(DIGEST_BYTES, size - start)
            data = fh.read(want)
            if len(data) != want:
                raise OSError("trace shorter than the aggregate says")
            h.update(data)
        if size and not data.endswith(b"\n"):
            raise OSError("trace not cut at a line's end where the aggregate says")
    return h.hexdigest()


def write_aggregate(agg: RunAggregate, run_dir: Path, covering: int | None = None) -> None:
    """Save ``agg`` as ``run_dir/aggregate.json``, covering its trace as it is now.

    Only a run that ended (its summary event folded) with a trace in ``run_dir`` gets one;
    otherwise an older file there is removed, so that none outlives the state it told.
    ``covering``: a live run's snapshot, of the first ``covering`` bytes of its trace (the
    events ``agg`` has seen); it replaces the file without removing it first. Never
    raises: trouble is one warning (readers then fold the trace)."""
    from flowscribe.artifacts import write_text_atomic

    path, trace = run_dir / AGGREGATE_FILE, run_dir / "trace.jsonl"
    try:
        if covering is None and path.is_file() and not path.is_symlink():
            os.unlink(path)
        if (covering is None and not agg.ended_cleanly) or not trace.is_file():
            return
        size = os.path.getsize(trace) if covering is None else covering
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "run_id": agg.run_id,
            "trace": {"bytes": size, "sha256_sampled": _digest(trace, size)},
            "aggregate": aggregate_to_dict(agg),
        }
        text = json.dumps(doc, ensure_ascii=True, separators=(",", ":"), allow_nan=False,
                          default=str)
        write_text_atomic(path, text + "\n")
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        warn_once("aggregate-file", f"could not write {path} ({exc}); readers will fold "
                  "the trace instead")


def load_aggregate(run_dir: Path, sla_p95_ms: SlaTargets | None = None
                   ) -> tuple[RunAggregate, int] | None:
    """The saved aggregate of the run in ``run_dir`` and the trace offset it covers, or
    None when there is none that matches the trace byte for byte up to that offset (stale,
    corrupt, hostile: the caller folds the trace instead). Never raises."""
    try:
        raw = read_regular(run_dir / AGGREGATE_FILE, MAX_BYTES)
        doc: Any = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get(
                "version") != VERSION or doc.get("run_id") != run_dir.name:
            return None
        trace = doc.get("trace")
        if not isinstance(trace, dict):
            return None
        size = trace.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return None
        path = run_dir / "trace.jsonl"
        if os.path.getsize(path) < size or _digest(path, size) != trace.get("sha256_sampled"):
            return None
        agg = aggregate_from_dict(doc.get("aggregate"), sla_p95_ms)
        if agg.run_id != run_dir.name:
            return None
        return agg, size
    except (OSError, ValueError, TypeError, RecursionError, MemoryError):
        return None
