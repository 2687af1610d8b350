"""Catalog coverage: which catalog flows the tests ran, which failure classes they provoked.

Each test's part is small plain data (:func:`test_hits`: flow id -> failure classes seen),
so pytest-xdist carries it from the workers to the controller on the test's report;
:class:`Coverage` folds the parts and renders them against ``flows.yaml``: per flow,
exercised or not, the tests that hit it, each declared ``failure_classes`` entry with the
tests that provoked it (or none), and the classes tests provoked that the catalog does not
declare.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..catalog import Catalog
from ..sinks.console import terminal_safe

__all__ = ["Coverage", "test_hits"]

_FAILS = ("failure", "exception")


def test_hits(events: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Flow id -> the failure classes recorded in it, for one test's events."""
    hits: dict[str, set[str]] = {}
    for ev in events:
        flow_id = ev.get("flow_id")
        if not isinstance(flow_id, str):
            continue
        etype = ev.get("event_type")
        classes = hits.setdefault(flow_id, set())
        cls = ev.get("error_class")
        if isinstance(cls, str) and (etype in _FAILS or etype == "flow_end"):
            classes.add(cls)
    return {k: sorted(v) for k, v in hits.items()}


class Coverage:
    """The whole session's hits: flow id -> failure class ('' for the flow) -> tests."""

    def __init__(self) -> None:
        self.hits: dict[str, dict[str, list[str]]] = {}

    def add(self, test: str, hits: Mapping[str, Iterable[str]]) -> None:
        """Fold in one test's :func:`test_hits`."""
        for flow_id, classes in hits.items():
            per = self.hits.setdefault(str(flow_id), {})
            for cls in ("", *classes):
                tests = per.setdefault(str(cls), [])
                if test not in tests:
                    tests.append(test)

    def report(self, catalog: Catalog) -> dict[str, Any]:
        """The machine-readable report (``--flowscribe-coverage-json``)."""
        flows: list[dict[str, Any]] = []
        for spec in catalog.flows.values():
            per = self.hits.get(spec.id, {})
            declared = list(spec.failure_classes)
            flows.append({
                "id": spec.id,
                "enabled": spec.enabled,
                "exercised": bool(per.get("")),
                "tests": per.get("", []),
                "failure_classes": {c: per.get(c, []) for c in declared},
                "undeclared_classes": {c: t for c, t in per.items()
                                       if c and c not in declared},
            })
        declared_n = sum(len(f["failure_classes"]) for f in flows)
        provoked_n = sum(bool(t) for f in flows for t in f["failure_classes"].values())
        return {
            "catalog": str(catalog.path) if catalog.path else None,
            "flows": flows,
            "not_in_catalog": {fid: per.get("", []) for fid, per in sorted(self.hits.items())
                               if fid not in catalog.flows},
            "totals": {
                "flows": len(flows),
                "exercised": sum(1 for f in flows if f["exercised"]),
                "failure_classes": declared_n,
                "provoked": provoked_n,
            },
        }

    @staticmethod
    def render(doc: Mapping[str, Any]) -> list[str]:
        """The terminal lines of a :meth:`report`."""
        t = doc["totals"]
        lines = [
            f"{t['exercised']} of {t['flows']} catalog flows exercised, "
            f"{t['provoked']} of {t['failure_classes']} declared failure classes provoked"
            + (f" ({doc['catalog']})" if doc["catalog"] else " (no flows.yaml)"),
        ]
        for f in doc["flows"]:
            tests = f["tests"]
            state = (f"exercised by {_tests(tests)}" if tests
                     else "NOT EXERCISED by any test")
            lines.append(f"  {f['id']}: {state}")
            for cls, hit in f["failure_classes"].items():
                lines.append(f"    {cls}: provoked by {_tests(hit)}" if hit
                             else f"    {cls}: never provoked by a test")
            for cls, hit in f["undeclared_classes"].items():
                lines.append(f"    {cls}: provoked by {_tests(hit)}, not declared"
                             " in failure_classes")
        if doc["not_in_catalog"]:
            lines.append("  not in the catalog: " + ", ".join(doc["not_in_catalog"]))
        return [terminal_safe(line) for line in lines]


def _tests(tests: list[str], shown: int = 3) -> str:
    """``2 tests (test_a.py::test_x, test_a.py::test_y)``, the first few by name."""
    names = ", ".join(tests[:shown]) + (", …" if len(tests) > shown else "")
    return f"{len(tests)} test{'' if len(tests) == 1 else 's'} ({names})"
