"""flowscribe's pytest plugin (the ``pytest11`` entry point; ``-p no:flowscribe`` turns it off).

* **One test run per pytest session.** What the code under test records through the
  default session goes into a test run (``flowscribe.testing._run.TestRun``): mode
  ``test``, pytest's argv, its own run folder, never ``latest`` nor the top-level
  artifacts, which stay the app's. It starts with the first event (a suite that records
  nothing leaves nothing). pytest-xdist workers join the controller's run.
* **Per test:** every flow started during a test carries ``test=<node id>`` (and
  ``expected=true`` inside ``pytest.raises`` or in an expected-failure test); a failing
  test's report gets a ``flowscribe`` section; the ``flows`` fixture sees the test's events
  in memory. A session a test starts itself (``flowscribe.init()``) is that test's: it is
  ended after the test, and the test run records on.
* **``--flowscribe-coverage``** (``--flowscribe-coverage-json=PATH``): per catalog flow,
  exercised or not, the failure classes tests provoked and those none did.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from . import _lifecycle
from ._context import AMBIENT
from ._warn import warn_once
from .testing import Recording, _capture
from .testing._coverage import Coverage, test_hits
from .testing._run import TestRun, join

_REC = pytest.StashKey[Recording]()
_WORKER_KEY = "flowscribe_run"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowscribe", "flowscribe (flows in tests)")
    group.addoption("--flowscribe-coverage", action="store_true", default=False,
                    help="report which catalog flows (.autodev/flows.yaml) and failure "
                         "classes the tests exercised")
    group.addoption("--flowscribe-coverage-json", metavar="PATH", default=None,
                    help="write the catalog coverage report as JSON to PATH")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "flowscribe_off: flowscribe's plugin leaves this test alone (no test key "
        "on its flows, the default session is not the test run); for tests of tracing itself")
    config.pluginmanager.register(_Plugin(config), "flowscribe-run")


class _Ambient:
    """What every flow started now carries: the running test, and whether a failure is
    what the test expects (``_context.AMBIENT``, read by flows as they start)."""

    def __init__(self) -> None:
        self.test: str | None = None
        self.xfail = False
        self.raises = 0

    def apply(self) -> None:
        now: dict[str, Any] = {}
        if self.test is not None:
            now["test"] = self.test
        if self.test is not None and (self.xfail or self.raises > 0):
            now["expected"] = True
        AMBIENT.update(now)  # updated, then trimmed: a flow starting meanwhile sees either
        for key in [k for k in AMBIENT if k not in now]:
            AMBIENT.pop(key, None)

    def enter_raises(self) -> None:
        self.raises += 1
        self.apply()

    def leave_raises(self) -> None:
        self.raises = max(0, self.raises - 1)
        self.apply()


class _Expecting:
    """``pytest.raises(...)`` as a context manager, with failures inside it expected."""

    def __init__(self, cm: Any, ambient: _Ambient) -> None:
        self._cm = cm
        self._ambient = ambient

    def __enter__(self) -> Any:
        self._ambient.enter_raises()
        try:
            return self._cm.__enter__()
        except BaseException:
            self._ambient.leave_raises()
            raise

    def __exit__(self, *exc: Any) -> Any:
        try:
            return self._cm.__exit__(*exc)
        finally:
            self._ambient.leave_raises()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cm, name)


def _xfail_expected(item: pytest.Item) -> bool:
    """True if the test is expected to fail (its xfail marks, conditions evaluated)."""
    try:
        from _pytest.skipping import evaluate_xfail_marks  # pytest's own evaluation

        return evaluate_xfail_marks(item) is not None
    except Exception:  # another pytest: any xfail mark counts
        return item.get_closest_marker("xfail") is not None


class _Plugin:
    """The session's run, the per-test hooks and the coverage (one per pytest process)."""

    def __init__(self, config: pytest.Config) -> None:
        from .redact import Redactor
        from .runs import new_run_id

        self.config = config
        self.root = Path(config.rootpath)
        joined = getattr(config, "workerinput", {}).get(_WORKER_KEY)
        self.worker = joined is not None
        self.run_id: str = joined["run_id"] if joined else new_run_id()
        self.owner_pid: int = int(joined["pid"]) if joined else os.getpid()
        self.app_name = self.root.name or "pytest"
        self.run: TestRun | None = None
        self.ambient = _Ambient()
        self.coverage = Coverage() if self._coverage_wanted() else None
        self._redact = Redactor((), 10_000, False).text
        self._before: Any = None
        # Kept to put back at the end: an in-process pytest run inside a test (pytester's
        # runpytest) leaves the outer session's plugin as it was.
        self._outer_factory = _lifecycle.default_factory
        _lifecycle.default_factory = self._make_run
        self._raises = pytest.raises
        pytest.raises = self._wrap_raises(pytest.raises)

    def _coverage_wanted(self) -> bool:
        opt = self.config.option
        return bool(opt.flowscribe_coverage or opt.flowscribe_coverage_json)

    # -- the run -------------------------------------------------------------------------
    def _make_run(self) -> TestRun:
        """The test run, started on first use (the default session's factory)."""
        if self.run is None:
            if self.worker:
                self.run = join(self.run_id, self.root, self.owner_pid, self.app_name)
            else:
                self.run = TestRun(self.app_name, "test", root=self.root, run_id=self.run_id)
        return self.run

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist (controller): each worker joins this run."""
        node.workerinput[_WORKER_KEY] = {"run_id": self.run_id, "pid": self.owner_pid}

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # A worker's events are on disk before it says it has finished (tryfirst); the
        # controller then owns the run its workers wrote, even if it recorded nothing.
        if self.run is None and not self.worker:
            from .config import load_config
            from .runs import RunLayout

            try:
                cfg, _ = load_config(self.root)
                if (RunLayout(cfg.autodev_dir).run_dir(self.run_id) / "trace.jsonl").is_file():
                    self._make_run()
            except Exception:  # the suite's result is not ours to spoil
                pass
        if self.run is not None:
            self.run.finish()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.run is not None:
            self.run.finish()  # idempotent; covers a session that never finished
        pytest.raises = self._raises
        _lifecycle.default_factory = self._outer_factory

    # -- per test ------------------------------------------------------------------------
    def _wrap_raises(self, original: Any) -> Any:
        ambient = self.ambient

        @functools.wraps(original)
        def raises(*args: Any, **kwargs: Any) -> Any:
            if len(args) > 1:  # pytest.raises(Exc, func, *args): func is called now
                ambient.enter_raises()
                try:
                    return original(*args, **kwargs)
                finally:
                    ambient.leave_raises()
            return _Expecting(original(*args, **kwargs), ambient)

        return raises

    def _paths(self) -> dict[str, str]:
        paths = {str(self.root): "<root>"}
        factory = getattr(self.config, "_tmp_path_factory", None)
        base = getattr(factory, "_basetemp", None)
        for path, label in ((base, "<tmp>"), (tempfile.gettempdir(), "<tmp>"),
                            (os.path.expanduser("~"), "~")):
            if path is not None:
                paths.setdefault(str(path), label)  # the root first, when HOME is the root
        return paths

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, None, None]:
        test = self._redact(item.nodeid)[0]
        off = item.get_closest_marker("flowscribe_off") is not None
        if off:
            _lifecycle.default_factory = None
        else:
            self.ambient.test, self.ambient.xfail = test, _xfail_expected(item)
            self.ambient.apply()
        self._before = _lifecycle.default
        rec = _capture.start(test, self._paths())
        item.stash[_REC] = rec
        try:
            yield
        finally:
            _capture.stop(rec)
            del item.stash[_REC]
            self.ambient.test, self.ambient.xfail, self.ambient.raises = None, False, 0
            self.ambient.apply()
            _lifecycle.default_factory = self._make_run

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        yield
        # A session the test started (flowscribe.init()) is the test's: ended with it,
        # and the default is what it was before the test (the test run, when it is on).
        current, before = _lifecycle.default, self._before
        if current is not before:
            if current is not None and current is not self.run and not current.closed:
                current.end_session()
            keep = before if before is not None and not before.closed else self.run
            _lifecycle.default = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        rec = item.stash.get(_REC, None)
        if rec is None:
            return
        report = outcome.get_result()
        try:
            if report.failed:
                text = self._section(rec)
                if text:
                    report.sections.append(("flowscribe", text))
            if call.when == "teardown" and self.coverage is not None:
                report.flowscribe_coverage = test_hits(rec.flows().events)
        except Exception as exc:  # a test's outcome is never ours to change
            warn_once(f"pytest-report:{type(exc).__name__}",
                      f"flowscribe could not add to a test's report ({type(exc).__name__}: {exc})")

    def _section(self, rec: Recording) -> str:
        flows = rec.flows()
        if not flows.instances():
            return ""
        where = ""
        if self.run is not None and self.run.run_dir is not None:
            trace = _rel(self.run.run_dir / "trace.jsonl", self.root)
            where = f"\n(the whole run: {trace}, its events with this test's correlation key test)"
        return "flows this test ran:\n" + flows.tree().rstrip("\n") + where

    # -- coverage ------------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        hits = getattr(report, "flowscribe_coverage", None)
        if self.coverage is not None and not self.worker and isinstance(hits, dict):
            self.coverage.add(report.nodeid, hits)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.coverage is None or self.worker:
            return
        from .catalog import CATALOG_FILE, load_catalog
        from .config import load_config

        cfg, _ = load_config(self.root)
        catalog = load_catalog(cfg.autodev_dir / CATALOG_FILE, self.root)
        doc = self.coverage.report(catalog)
        if self.config.option.flowscribe_coverage:
            terminalreporter.write_sep("-", "flowscribe catalog coverage")
            for line in Coverage.render(doc):
                terminalreporter.write_line(line)
        path = self.config.option.flowscribe_coverage_json
        if path:
            out = Path(self.config.invocation_params.dir, path)
            out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            terminalreporter.write_line(f"flowscribe catalog coverage written to {out}")


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


@pytest.fixture
def flows(request: pytest.FixtureRequest) -> Generator[Recording, None, None]:
    """This test's flows, in memory: ``flows.instances(id)``, ``flows.assert_flow(id,
    verdict=..., error_class=...)``, ``flows.tree()`` (see ``flowscribe.testing``)."""
    rec = request.node.stash.get(_REC, None)
    own = rec is None  # outside the plugin's protocol hook (e.g. an in-process run)
    if rec is None:
        rec = _capture.start(None)
    base = request.getfixturevalue("tmp_path_factory").getbasetemp()
    rec.paths.setdefault(str(base), "<tmp>")
    try:
        yield rec
    finally:
        if own:
            _capture.stop(rec)
