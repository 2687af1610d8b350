"""``file:line`` and ``function`` are the user's, never flowscribe's own code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _project import line_of, of_type, trace

import flowscribe
from flowscribe import _callsite

THIS = Path(__file__).resolve()
# Code objects know their qualified name from Python 3.11 (co_qualname); before, the plain name.
QUALIFIED = sys.version_info >= (3, 11)


@pytest.fixture
def rooted_here() -> Iterator[None]:
    """Paths relative to this test directory, as if it were the project root."""
    _callsite.set_root(str(THIS.parent))
    yield
    _callsite.set_root("")


class Broker:
    def submit(self) -> _callsite.Site:
        return _callsite.caller()  # L:method


def test_caller_is_relative_posix_with_qualified_function(rooted_here: None) -> None:
    info, line = Broker().submit()
    function = "Broker.submit" if QUALIFIED else "submit"
    assert (info[0], line, info[1]) == ("test_callsite.py", line_of("method"), function)


def test_caller_outside_the_root_is_absolute() -> None:
    _callsite.set_root("/nonexistent-root")
    try:
        info, _ = _callsite.caller()
        assert info[0] == THIS.as_posix()
    finally:
        _callsite.set_root("")


def test_flowscribe_own_files_never_count_as_a_site(rooted_here: None) -> None:
    import flowscribe.core as core

    assert _callsite.display_path(core.__file__) is None
    assert _callsite.code_info(core.Session.__init__.__code__) is None
    # Walking up from a frame inside the package lands on the first frame outside it.
    info, _ = core._caller(sys._getframe(0))
    assert info[0] == "test_callsite.py"


def test_site_of_code_is_the_definition(rooted_here: None) -> None:
    def defined_here() -> None:  # L:definition
        pass

    info, line = _callsite.site_of_code(defined_here.__code__)
    assert (info[0], line) == ("test_callsite.py", line_of("definition"))


def fails_deep() -> None:
    import json

    json.loads("[1,")  # L:deep-call


def test_traceback_frames_skip_flowscribe_and_place_the_user_line(rooted_here: None) -> None:
    try:
        fails_deep()  # L:top-call
    except ValueError as exc:
        frames, (info, line) = _callsite.traceback_frames(exc.__traceback__)
    assert (info[0], line) == ("test_callsite.py", line_of("deep-call"))
    lines = [(f["file"], f["line"]) for f in frames[:2]]
    assert lines == [("test_callsite.py", line_of("top-call")),
                     ("test_callsite.py", line_of("deep-call"))]
    assert str(frames[-1]["file"]).endswith("json/decoder.py")
    assert str(frames[-1]["file"]).startswith("/")


def test_markers_through_every_entry_point_report_the_marker_line(project: Path) -> None:
    app = project / "pkg" / "work.py"
    app.parent.mkdir()
    app.write_text(
        "import flowscribe\n"
        "\n"
        "@flowscribe.traced('t/decorated')\n"
        "def decorated():\n"
        "    flowscribe.checkpoint('module-level')\n"
        "\n"
        "def run(session):\n"
        "    with session.flow('t/with') as f:\n"
        "        f.checkpoint('method')\n"
        "    decorated()\n"
    )
    sys.path.insert(0, str(project))
    try:
        import pkg.work as work  # type: ignore[import-not-found]

        session = flowscribe.init(root=project)
        work.run(session)
        session.end_session()
    finally:
        sys.path.remove(str(project))
        sys.modules.pop("pkg.work", None)
        sys.modules.pop("pkg", None)
    sites = {(e["event_type"], e["flow_id"], e["step"]): (e["file"], e["line"], e["function"])
             for e in trace(project) if e["flow_id"]}
    assert sites[("flow_start", "t/with", None)] == ("pkg/work.py", 8, "run")
    assert sites[("checkpoint", "t/with", "method")] == ("pkg/work.py", 9, "run")
    assert sites[("flow_end", "t/with", None)][:2] == ("pkg/work.py", 8)
    # A traced flow sits at its decorator; markers inside it at their own line.
    assert sites[("flow_start", "t/decorated", None)] == ("pkg/work.py", 3, "decorated")
    assert sites[("checkpoint", "t/decorated", "module-level")] == (
        "pkg/work.py", 5, "decorated")
    run_start = of_type(trace(project), "run_start")[0]
    assert run_start["file"] == THIS.as_posix()  # the test that called init(), outside root
