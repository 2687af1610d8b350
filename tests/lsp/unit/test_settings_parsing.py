"""``parse_settings``: what a client sends, to Settings and problems (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from flowscribe_lsp.settings import Settings, parse_settings

DEFAULT = Settings()


@pytest.mark.parametrize(("raw", "field", "value"), [
    ({"artifactsDir": " build/.autodev "}, "artifacts_dir", "build/.autodev"),
    ({"flowscribe": {"artifactsDir": "x"}}, "artifacts_dir", "x"),  # didChangeConfiguration
    ({"markers": "flow, traced ,step"}, "markers", ("flow", "traced", "step")),
    ({"markers": ["flow", "flow", "traced"]}, "markers", ("flow", "traced")),
    ({"diagnostics": {"minSeverity": "error"}}, "min_severity", "error"),
    ({"diagnostics": {"minSeverity": "warning"}}, "min_severity", "warn"),  # an alias
    ({"diagnostics": {"enabled": False}}, "diagnostics_enabled", False),
    ({"lenses": {"enabled": False}}, "lenses_enabled", False),
    ({"clientCommands": ["flowscribe.revealFlow"]}, "client_commands",
     frozenset({"flowscribe.revealFlow"})),
])
def test_good_values_are_taken(raw: dict[str, Any], field: str, value: Any) -> None:
    got = parse_settings(raw)
    assert getattr(got, field) == value
    assert got.problems == ()


@pytest.mark.parametrize(("raw", "problem", "field"), [
    ({"artifactsDir": ""}, "artifactsDir: expected a non-empty string", "artifacts_dir"),
    ({"artifactsDir": 3}, "artifactsDir: expected a non-empty string", "artifacts_dir"),
    ({"markers": 7}, "markers: expected a list of function names", "markers"),
    ({"diagnostics": {"minSeverity": "loud"}}, "diagnostics.minSeverity: must be one of",
     "min_severity"),
    ({"clientCommands": "flowscribe.revealFlow"}, "clientCommands: expected a list",
     "client_commands"),
])
def test_bad_values_keep_the_previous_one_and_say_why(raw: dict[str, Any], problem: str,
                                                      field: str) -> None:
    base = Settings(artifacts_dir="mine", markers=("flow",), min_severity="error",
                    client_commands=frozenset({"x"}))
    got = parse_settings(raw, base)
    assert getattr(got, field) == getattr(base, field)
    assert any(p.startswith(problem) for p in got.problems), got.problems


def test_names_that_are_not_identifiers_are_dropped_and_reported() -> None:
    got = parse_settings({"markers": ["flow", "not a name", "x.y"]})
    assert got.markers == ("flow",)
    assert got.problems == ("markers: names must be Python identifiers; others ignored",)


def test_missing_keys_keep_the_base_and_odd_shapes_are_not_errors() -> None:
    base = Settings(artifacts_dir="mine", lenses_enabled=False)
    assert parse_settings({}, base) == base
    assert parse_settings(None, base) == base  # the extension sends null: pull them instead
    assert parse_settings({"unknown": 1}, base) == base
    assert parse_settings(["not", "an", "object"]).problems == ("settings: expected an object",)


def test_severity_shown_follows_the_minimum() -> None:
    warn = parse_settings({"diagnostics": {"minSeverity": "warn"}})
    assert warn.severity_shown("error") and warn.severity_shown("warn")
    assert not warn.severity_shown("info")
