"""The run fold behind the Run Timeline and the flow graph, without a server: it redacts
again what it keeps of a trace the runtime did not write."""

from __future__ import annotations

from pathlib import Path

from _handmade import event, write_trace

from flowscribe_lsp.features.run_fold import RunFolds


def test_a_foreign_traces_secrets_are_redacted_in_what_the_fold_keeps(tmp_path: Path) -> None:
    trace = write_trace(tmp_path, [
        event(1, "run_start", None, evidence={"root": str(tmp_path)}),
        event(2, "flow_start", "a/b", correlation={"token": "t-55554444", "order": "A1"}),
        event(3, "checkpoint", "a/b", step="login password=hunter2-very-secret",
              evidence={"api_key": "k-987654321", "rows": 3}),
        event(4, "failure", "a/b", reason="password hunter2-very-secret",
              evidence={"session_key": "s-1234"}, error_class="AUTH.BAD"),
        event(5, "flow_end", "a/b", status="failed", error_class="AUTH.BAD"),
    ])
    fold = RunFolds().fold(trace, None)
    [inst] = fold.instances.values()
    assert inst.correlation == {"token": "[REDACTED]", "order": "A1"}
    assert inst.status == "failed" and inst.ticks == 1 and inst.marks == 1
    [tick] = fold.ticks
    assert "hunter2" not in (tick.step or "") and "k-987654321" not in tick.evidence
    assert '"rows": 3' in tick.evidence
    [mark] = fold.marks
    assert mark.reason == "password [REDACTED]" and "s-1234" not in mark.evidence
    assert mark.error_class == "AUTH.BAD"
