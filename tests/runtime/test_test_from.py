"""``traced(..., capture_args=True)`` and ``flowscribe test-from``: a pytest file that
replays a recorded failure, written from real runs of a small buggy app and run with
pytest in a subprocess (it fails on the bug and passes once the bug is fixed)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
from _project import of_type, trace

import flowscribe


class _Conn:
    pass


def test_capture_args_records_the_call_redacted(project: Path) -> None:
    @flowscribe.traced("orders/submit", capture_args=True)
    def submit(ticker: str, qty: int, *rest: int, password: str = "", **kw: object) -> None:
        flowscribe.success()

    @flowscribe.traced("orders/plain")
    def plain(ticker: str) -> None:
        pass

    submit("AAPL", 0, 5, password="hunter2", conn=_Conn(), opts={"a": [1, 2.5, None]})
    plain("MSFT")
    flowscribe.end_session()
    starts = of_type(trace(project), "flow_start")
    assert starts[0]["evidence"] == {
        "args": {"ticker": "AAPL", "qty": 0, "*rest": [5], "password": "[REDACTED]",
                 "conn": "<unserialisable _Conn>", "opts": {"a": [1, 2.5, None]}},
        "positional": 2,
        "unserialisable": ["conn"],
    }
    assert starts[1]["evidence"] == {}  # off by default: nothing recorded
    schema = json.loads((Path(flowscribe.__file__).parent / "schema" /
                         "trace.schema.json").read_text(encoding="utf-8"))
    for ev in starts:
        jsonschema.validate(ev, schema)
    assert "hunter2" not in (project / ".autodev" / "trace.jsonl").read_text()


# -- test-from on real runs -----------------------------------------------------------------

#: A small app whose order submission has a bug: a quantity of 0 is divided by.
SHOP = '''\
import flowscribe


@flowscribe.traced("orders/submit", capture_args=True)
def submit(ticker, qty, note="", **extra):
    per_unit = 100 / qty  # BUG
    flowscribe.checkpoint("priced", per_unit=per_unit)
    flowscribe.success()
    return per_unit


if __name__ == "__main__":
    submit("AAPL", 3)
    try:
        submit("NFLX", 0, note=NOTE, **EXTRA)
    except ZeroDivisionError:
        pass
'''
FIX = ("per_unit = 100 / qty  # BUG", "per_unit = 100 / qty if qty else 0.0")
#: Recorded text that must stay data in the generated file.
HOSTILE = "it's \"quoted\"\n__import__('os').system('touch pwned')\r\n# \\"


def _record(project: Path, app: str, *, note: str = "", extra: str = "{}") -> None:
    pkg = project / "shop"
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "orders.py").write_text(app.replace("NOTE", repr(note)).replace("EXTRA", extra))
    done = subprocess.run([sys.executable, "-m", "shop.orders"], cwd=project,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _test_from(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowscribe", "test-from", *args],
                          cwd=project, capture_output=True, text=True, timeout=60)


def _pytest(project: Path, test: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           str(test)], cwd=project, capture_output=True, text=True, timeout=120)


def _written(out: subprocess.CompletedProcess[str]) -> Path:
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip().removeprefix("wrote "))
    assert path.is_file(), out.stdout
    return path


def test_the_generated_test_fails_on_the_bug_and_passes_after_the_fix(project: Path) -> None:
    _record(project, SHOP)
    test = _written(_test_from(project))
    assert test.parent == project / "tests" and test.name.startswith("test_orders_submit_from_")
    text = test.read_text()
    compile(text, str(test), "exec")
    assert "MODULE = 'shop.orders'" in text and "FUNCTION = 'submit'" in text
    assert "fn('NFLX', 0, note='')" in text  # the failing call, not the good one before it
    assert "ZeroDivisionError: division by zero" in text  # the failure, as a comment

    before = _pytest(project, test)
    assert before.returncode == 1, before.stdout
    assert "ZeroDivisionError" in before.stdout

    orders = project / "shop" / "orders.py"
    orders.write_text(orders.read_text().replace(*FIX))
    after = _pytest(project, test)
    assert after.returncode == 0, after.stdout
    assert "1 passed" in after.stdout

    again = _test_from(project)  # an existing file is kept unless --force
    assert again.returncode == 1 and "already exists" in again.stderr


def test_a_failure_inside_the_replayed_call_is_asserted_on_its_own_flow(
        project: Path) -> None:
    """The failing flow is a `with flow()` inside the traced call: the traced flow itself
    succeeds, so the test must also assert the inner flow, or it would pass on the bug."""
    app = SHOP.replace(
        "    per_unit = 100 / qty  # BUG\n",
        "    per_unit = 1.0\n"
        "    with flowscribe.flow('orders/price') as price:\n"
        "        if qty == 0:\n"
        "            price.failure('DATA.INVALID', 'no quantity')  # BUG\n")
    _record(project, app)
    test = _written(_test_from(project))
    assert test.name.startswith("test_orders_submit_from_")  # the call around it is replayed
    assert "orders/price still fails" in test.read_text()
    before = _pytest(project, test)
    assert before.returncode == 1, before.stdout
    assert "orders/price still fails" in before.stdout
    orders = project / "shop" / "orders.py"
    orders.write_text(orders.read_text().replace("if qty == 0:", "if False:"))
    after = _pytest(project, test)
    assert after.returncode == 0, after.stdout


def test_a_recorded_failure_marker_is_asserted_away_too(project: Path) -> None:
    app = SHOP.replace("    per_unit = 100 / qty  # BUG\n", "    per_unit = 1.0\n"
                       "    if qty == 0:\n"
                       "        flowscribe.failure('DATA.INVALID', 'no quantity')  # BUG\n")
    _record(project, app)
    test = _written(_test_from(project))
    before = _pytest(project, test)
    assert before.returncode == 1
    assert "the flow still fails" in before.stdout and "DATA.INVALID" in before.stdout
    orders = project / "shop" / "orders.py"
    orders.write_text(orders.read_text().replace("if qty == 0:", "if qty < 0:"))
    assert _pytest(project, test).returncode == 0


def test_without_captured_args_a_skeleton_says_what_is_missing(project: Path) -> None:
    _record(project, SHOP.replace(", capture_args=True", ""))
    out = _test_from(project, "-o", "-")
    assert out.returncode == 0, out.stderr
    assert "capture_args=True" in out.stderr  # what is missing, said on the terminal too
    text = out.stdout
    tree = ast.parse(text)
    assert "pytest.fail(" in text and "fn(" not in text
    assert '#   exception "SYSTEM" in flow "orders/submit"' in text
    assert '#   reason: "ZeroDivisionError: division by zero"' in text
    assert '#   at "shop/orders.py":6' in text
    assert [type(n).__name__ for n in tree.body] == ["ImportFrom", "Import", "FunctionDef"]
    test = project / "tests" / "test_skeleton.py"
    test.parent.mkdir()
    test.write_text(text)
    run = _pytest(project, test)
    assert run.returncode == 1 and "the inputs were not recorded" in run.stdout


def test_hostile_recorded_values_stay_data(project: Path) -> None:
    _record(project, SHOP, note=HOSTILE, extra='{"opts": {"k\\n": ["\')", None, 1.5]}}')
    text = _test_from(project, "-o", "-").stdout
    tree = ast.parse(text)  # valid Python, and nothing runs but the test
    assert [type(n).__name__ for n in tree.body] == [
        "ImportFrom", "Import", "Import", "Import", "Import", "ImportFrom",
        "Assign", "Assign", "Assign", "FunctionDef"]
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name) and n.func.id == "fn")
    assert [ast.literal_eval(a) for a in call.args] == ["NFLX", 0]
    assert {k.arg: ast.literal_eval(k.value) for k in call.keywords} == {
        "note": HOSTILE, "opts": {"k\n": ["')", None, 1.5]}}
    assert all(line.startswith("#") or not line.strip().startswith("__import__")
               for line in text.splitlines())
    assert not (project / "pwned").exists()


def test_unserialisable_and_odd_arguments_are_said_not_run(project: Path) -> None:
    app = SHOP.replace('submit("NFLX", 0, note=NOTE, **EXTRA)',
                       'submit("NFLX", 0, note=object(), **{"not-a-name": 1})')
    _record(project, app)
    out = _test_from(project, "-o", "-")
    assert "not-a-name" in out.stderr and "not an identifier" in out.stderr
    ast.parse(out.stdout)
    assert "fn(" not in out.stdout

    app = SHOP.replace('submit("NFLX", 0, note=NOTE, **EXTRA)', 'submit("NFLX", 0, note=object())')
    _record(project, app)
    out = _test_from(project, "-o", "-", "--force")
    assert "argument note could not be recorded" in out.stderr
    assert "<unserialisable object>" in out.stderr
    assert "pytest.fail(" in out.stdout and "fn('NFLX', 0, note='<unserialisable object>')" \
        in out.stdout  # kept so the user sees where to build one


def test_a_run_with_no_failure_or_an_unknown_event_is_an_error(project: Path) -> None:
    _record(project, SHOP.replace(*FIX))
    out = _test_from(project)
    assert out.returncode == 1 and "recorded no failure" in out.stderr
    _record(project, SHOP)
    listed = subprocess.run([sys.executable, "-m", "flowscribe", "runs", "--json"],
                            cwd=project, capture_output=True, text=True, timeout=60)
    latest = next(r["runId"] for r in json.loads(listed.stdout) if r["latest"])
    out = _test_from(project, latest, "nosuch-1")
    assert out.returncode == 1 and f"no failure nosuch-1 in run {latest}" in out.stderr
    assert not (project / "tests").exists()


def test_a_cut_argument_is_said_and_an_async_flow_is_awaited(project: Path) -> None:
    app = SHOP.replace("def submit(", "async def submit(").replace(
        '    submit("AAPL", 3)\n', "    import asyncio\n").replace(
        'submit("NFLX", 0, note=NOTE, **EXTRA)', 'asyncio.run(submit("NFLX", 0))')
    _record(project, app)
    test = _written(_test_from(project))
    assert _pytest(project, test).returncode == 1
    orders = project / "shop" / "orders.py"
    orders.write_text(orders.read_text().replace(*FIX))
    assert _pytest(project, test).returncode == 0  # awaited: the fixed flow ran and passed

    _record(project, SHOP, note="x" * 5000)
    out = _test_from(project, "-o", "-")
    assert "argument note was redacted or cut when recorded" in out.stderr
    assert "pytest.fail(" in out.stdout
