"""A project as the server loads it, without a server process: discovery, flows.yaml and
ra.yaml read on the worker and applied at once, the trace index of a real run, and the
hover text built from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from _lsp_workspaces import run_app

from flowscribe_lsp.features.hover import hover_markdown, hover_plain
from flowscribe_lsp.index import Project, WorkspaceIndex, read_project_files
from flowscribe_lsp.settings import Settings

APP = '''\
import flowscribe

flowscribe.init(app_name="unit", mode="test", root=".")
for n in range(3):
    with flowscribe.flow("shop/order", order=str(n)) as f:
        if n == 1:
            f.failure("DATA.EMPTY", "no lines on order 1", rows=0)
        else:
            f.success("placed")
flowscribe.end_session()
'''
CATALOG = '''\
version: 1
flows:
  - id: "shop/order"
    description: "Place an order."
    failure_classes: ["DATA.EMPTY"]
    sla:
      p95_ms: 250
'''


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("unit") / "shop"
    (ws / ".autodev").mkdir(parents=True)
    (ws / ".autodev" / "flows.yaml").write_text(CATALOG)
    (ws / "app.py").write_text(APP)
    done = run_app(ws)
    assert done.returncode == 0, done.stderr
    return ws


def _project(ws: Path) -> Project:
    index = WorkspaceIndex()
    index.build([("file:///ws", ws, Settings())])
    [project] = index.projects()
    files = read_project_files(project, {})
    assert files is not None
    project.apply_files(files)
    project.trace.read_findings()
    while project.trace.read_outcomes():
        pass
    project.run = project.trace.snapshot()
    return project


def test_discovery_finds_the_artifacts_folder_and_its_catalog(workspace: Path) -> None:
    project = _project(workspace)
    assert project.root == workspace and project.autodev == workspace / ".autodev"
    assert project.has_catalog and project.catalog.get("shop/order") is not None
    assert project.sla_ms("shop/order") == 250.0
    assert read_project_files(project, {}) is None  # nothing changed: nothing re-read


def test_a_catalog_change_is_read_and_applied_whole(workspace: Path, tmp_path: Path) -> None:
    project = _project(workspace)
    before = project.catalog
    flows = workspace / ".autodev" / "flows.yaml"
    open_text = {flows: (7, CATALOG.replace("Place an order.", "Place one order."))}
    files = read_project_files(project, open_text)  # an open, edited buffer wins
    assert files is not None
    assert project.catalog is before  # reading changes nothing until it is applied
    project.apply_files(files)
    entry = project.catalog.get("shop/order")
    assert entry is not None and entry.description == "Place one order."


def test_the_trace_index_folds_the_run_as_summary_md_counts_it(workspace: Path) -> None:
    snap = _project(workspace).run
    assert snap.app == "unit" and snap.mode == "test" and snap.run_id
    [finding] = snap.findings
    assert (finding.flow_id, finding.error_class, finding.count) == \
        ("shop/order", "DATA.EMPTY", 1)
    assert finding.file == "app.py" and finding.line == 7
    assert finding.reason == "no lines on order 1"
    assert snap.outcomes is not None
    order = snap.outcomes["shop/order"]
    assert (order.passed, order.failed, order.unfinished, order.orphaned) == (2, 1, 0, 0)
    summary = (workspace / ".autodev" / "summary.md").read_text()
    row = next(line for line in summary.splitlines() if line.startswith("| `shop/order` |"))
    assert "| 3 | 3 | 2 | 1 |" in row  # the same counts summary.md gives


def test_hover_text_from_the_loaded_project(workspace: Path) -> None:
    project = _project(workspace)
    text = hover_markdown(project, "shop/order")
    assert text.startswith("**`shop/order`** — Place an order.")
    assert "last failure: `DATA.EMPTY` no lines on order 1" in text
    assert "(SLA 250 ms)" in text
    plain = hover_plain(project, "shop/order")
    assert "`" not in plain.splitlines()[0] and "shop/order" in plain
    unknown = hover_markdown(project, "shop/nope")
    assert "shop/nope" in unknown
