"""The failure's story on realistic bugs: the cause's code, the events that reveal it and
what changed since the good run are in what the assistant gets, within the budget."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from _story_apps import NAMES, run_app

from flowscribe.catalog import load_catalog
from flowscribe.runs import RunInfo
from flowscribe.story import (
    DEFAULT_BUDGET_TOKENS,
    RunView,
    build_story,
    compare_runs,
    diff_runs,
    estimate_tokens,
    load_for_diff,
    load_info,
    render_story,
    runs_to_compare,
)


@pytest.fixture(scope="module", params=NAMES)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        ) -> tuple[Path, dict[str, Any]]:
    return run_app(request.param, tmp_path_factory.mktemp("apps"))


def _story(root: Path, **kw: Any) -> str:
    before, after = runs_to_compare(root / ".autodev")
    assert before is not None and after is not None
    run, base = load_info(after), load_info(before)
    assert run is not None and base is not None
    story = build_story(run, baseline=base, catalog=load_catalog(root / ".autodev/flows.yaml"),
                        **kw)
    return render_story(story)


def _buggy_run(root: Path) -> tuple[RunInfo, RunView]:
    """The buggy (latest) run of an app, listed and read whole."""
    _, after = runs_to_compare(root / ".autodev")
    assert after is not None
    run = load_info(after)
    assert run is not None
    return after, run


def _fences_closed(text: str) -> bool:
    """Every fence opened is closed by a fence of the same length."""
    open_ticks = None
    for line in text.splitlines():
        m = re.match(r"^(`{3,})", line)
        if not m:
            continue
        if open_ticks is None:
            open_ticks = m.group(1)
        elif m.group(1) == open_ticks and line.strip() == open_ticks:
            open_ticks = None
    return open_ticks is None


def test_the_story_holds_the_cause_the_clues_and_the_change(app: tuple[Path, dict[str, Any]],
                                                           ) -> None:
    root, cause = app
    text = _story(root)
    assert cause["line_text"] in text, "the root cause's code line"
    for clue in cause["revealing"]:
        assert clue in text, f"the event that reveals it: {clue}"
    for change in cause["changed"]:
        assert change in text, f"the change since the good run: {change}"
    assert f"`{cause['flow']}`" in text
    assert estimate_tokens(text) <= DEFAULT_BUDGET_TOKENS
    assert _fences_closed(text)


def test_the_action_request_follows_the_goal_and_names_reproduce_command(
        app: tuple[Path, dict[str, Any]]) -> None:
    text = _story(app[0])
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[:3] == ["Goal", "Action request", "Project"]
    assert "`python main.py --bug --busy`" in text
    assert "*detected*" in text


def test_one_failure_told_by_id(app: tuple[Path, dict[str, Any]]) -> None:
    root, cause = app
    _, run = _buggy_run(root)
    failure = run.verdict_events()[0]
    text = render_story(build_story(run, failure_id=failure["id"]), budget_tokens=2_000)
    assert cause["line_text"] in text
    assert estimate_tokens(text) <= 2_000


def test_a_small_budget_drops_whole_items_and_says_so(app: tuple[Path, dict[str, Any]]) -> None:
    root = app[0]
    before, after = runs_to_compare(root / ".autodev")
    assert before and after
    run, base = load_info(after), load_info(before)
    assert run and base
    text = render_story(build_story(run, baseline=base), budget_tokens=900)
    assert _fences_closed(text)
    assert re.search(r"\(\d+ lower-ranked items were left out", text)
    assert "## Action request" in text


def test_the_failure_prompt_tells_one_failure_with_its_cause(app: tuple[Path, dict[str, Any]],
                                                            ) -> None:
    from flowscribe.story import failure_prompt

    root, cause = app
    after, run = _buggy_run(root)
    event = run.verdict_events()[0]
    text = failure_prompt(root / ".autodev", after.run_id, event["id"],
                          catalog=load_catalog(root / ".autodev/flows.yaml"))
    assert text is not None and text.startswith("# A runtime failure to diagnose")
    assert cause["line_text"] in text
    for change in cause["changed"]:
        assert change in text
    assert estimate_tokens(text) <= DEFAULT_BUDGET_TOKENS and _fences_closed(text)
    assert failure_prompt(root / ".autodev", after.run_id, "no-such-event") is None


def test_told_from_the_bytes_around_it_the_failure_still_shows_its_cause(
        app: tuple[Path, dict[str, Any]]) -> None:
    # As for a run too big to read whole: only the stretch of trace around the failure,
    # no comparison with the good run; the root cause's line is there all the same.
    from flowscribe.story import failure_prompt

    root, cause = app
    after, run = _buggy_run(root)
    event = run.verdict_events()[0]
    text = failure_prompt(root / ".autodev", after.run_id, event["id"], whole_run_bytes=0,
                          catalog=load_catalog(root / ".autodev/flows.yaml"))
    assert text is not None and "around the failure" in text
    assert cause["line_text"] in text
    assert estimate_tokens(text) <= DEFAULT_BUDGET_TOKENS and _fences_closed(text)


def test_a_diff_folded_as_the_runs_stream_by_is_the_views_diff(
        app: tuple[Path, dict[str, Any]]) -> None:
    # compare_runs (flowscribe diff, the editor, the assistant tools) keeps no view of
    # either run: what it says must be what the story's views say.
    root, cause = app
    before, after = runs_to_compare(root / ".autodev")
    assert before is not None and after is not None
    view_a, view_b = load_info(before), load_info(after)
    fold_a, fold_b = load_for_diff(before), load_for_diff(after)
    assert view_a and view_b and fold_a and fold_b
    by_views, by_folds = diff_runs(view_a, view_b), diff_runs(fold_a, fold_b)
    assert by_folds.to_json() == by_views.to_json() and by_folds.changes
    compared = compare_runs(root / ".autodev")
    assert not isinstance(compared, str)
    assert compared[2].to_json() == by_views.to_json()
    for change in cause["changed"]:
        assert any(change in line for line in by_folds.lines())
