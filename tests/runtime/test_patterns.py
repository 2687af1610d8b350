"""Flow-id globs: `*` is one segment, `**` any number (including none)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowscribe.patterns import compile_patterns, glob_to_regex, is_glob, matches, matches_any


@pytest.mark.parametrize(
    ("pattern", "flow_id", "expected"),
    [
        ("orders/submit", "orders/submit", True),
        ("orders/submit", "orders/submit/x", False),
        ("data/*", "data/fetch", True),
        ("data/*", "data", False),
        ("data/*", "data/fetch/minute_candles", False),
        ("*/submit", "orders/submit", True),
        ("*", "orders", True),
        ("*", "orders/submit", False),
        ("data/**", "data", True),
        ("data/**", "data/fetch", True),
        ("data/**", "data/fetch/minute_candles", True),
        ("data/**", "database/x", False),
        ("**/debug/**", "debug", True),
        ("**/debug/**", "a/debug", True),
        ("**/debug/**", "debug/x", True),
        ("**/debug/**", "a/b/debug/c/d", True),
        ("**/debug/**", "a/debugger/c", False),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**/b", "a/x/y/c", False),
        ("**", "anything/at/all", True),
        ("**/**", "x", True),
        ("orders/submit_*", "orders/submit_fast", True),
        ("orders/submit_*", "orders/submit_/x", False),
        ("orders/?ubmit", "orders/submit", True),
        ("orders/?ubmit", "orders/ssubmit", False),
        ("a.b/(c)", "a.b/(c)", True),  # regex characters are literal
        ("a.b/(c)", "axb/(c)", False),
        ("Orders/submit", "orders/submit", False),  # case-sensitive
    ],
)
def test_glob_semantics(pattern: str, flow_id: str, expected: bool) -> None:
    assert matches(pattern, flow_id) is expected


def test_any_of_several_patterns() -> None:
    m = compile_patterns(["data/**", "orders/submit", "indicators/*/compute"])
    assert m("data/fetch/minute_candles")
    assert m("orders/submit")
    assert m("indicators/ema/compute")
    assert not m("indicators/ema/rsi/compute")
    assert not m("orders/cancel")
    assert matches_any(["x", "y/**"], "y/z")


def test_no_patterns_match_nothing() -> None:
    assert not compile_patterns([])("anything")


def test_matchers_are_cached() -> None:
    assert compile_patterns(("a/**", "b")) is compile_patterns(["a/**", "b"])


def test_is_glob() -> None:
    assert is_glob("data/**") and is_glob("a?") and not is_glob("orders/submit")


segment = st.text(alphabet="abcxyz_.-", min_size=1, max_size=4)
flow_ids = st.lists(segment, min_size=1, max_size=5).map("/".join)


@settings(deadline=None)
@given(flow_ids)
def test_double_star_matches_every_id_and_an_id_matches_itself(flow_id: str) -> None:
    assert matches("**", flow_id)
    assert matches(flow_id, flow_id)


@settings(deadline=None)
@given(st.lists(segment, min_size=1, max_size=4), st.lists(segment, max_size=3))
def test_prefix_double_star_matches_any_descendant(prefix: list[str], rest: list[str]) -> None:
    pattern = "/".join(prefix) + "/**"
    assert matches(pattern, "/".join(prefix + rest))


@settings(deadline=None)
@given(flow_ids)
def test_single_star_matches_exactly_the_segment_count(flow_id: str) -> None:
    n = flow_id.count("/") + 1
    for k in range(1, 6):
        assert matches("/".join(["*"] * k), flow_id) is (k == n)


def test_regex_is_anchored_by_fullmatch() -> None:
    assert re.fullmatch(glob_to_regex("data/*"), "data/x")
    assert not re.fullmatch(glob_to_regex("data/*"), "xdata/x")
