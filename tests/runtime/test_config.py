"""ra.yaml + RA_* environment -> Config; bad input -> Problems at file:line:column, defaults."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from flowscribe.config import (
    DEFAULT_REDACT_KEYS,
    Config,
    Problem,
    Sink,
    load_config,
    parse_config,
)

# The original description's example, verbatim.
EXAMPLE = """\
version: 1
enabled: true

profile: critical
profiles:
  critical:
    include_flows: ["data/**", "indicators/**", "orders/**"]
    exclude_flows: ["**/debug/**"]
    include_tags: []
    min_severity: info
  all:
    include_flows: ["**"]
    exclude_flows: []
    include_tags: []
    min_severity: debug

sinks:
  - type: console
  - type: jsonl
    path: .autodev/trace.jsonl
  # - type: sqlite
  #   path: .autodev/trace.db

artifacts:
  summary_md: true
  ask_md: on_failure   # always | on_failure | never
  per_run_dirs: true   # ./.autodev/runs/<run_id>/* and ./latest symlink
  trace_tail_events: 50

privacy:
  redact_keys: ["api_key", "token", "password", "secret", "auth", "cookie"]
  payload_limit: 2048
  allow_raw_payloads: false

filters:
  include_tags: []          # e.g., ["AAPL","phase5","sim"]
  exclude_tags: []
  include_flows: []         # extra includes beyond profile
  exclude_flows: []
  min_severity: info

performance:
  latency_buckets_ms: [50, 200, 1000]
  sla_overrides:
    "orders/submit": { p95_ms: 1000 }
    "data/fetch/minute_candles": { p95_ms: 800 }

retention:
  rotate_trace: true
  max_trace_bytes: 10485760  # 10 MB
  keep_runs: 20
"""


def write(root: Path, text: str) -> Path:
    path = root / ".autodev" / "ra.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(root: Path, text: str, env: dict[str, str] | None = None
         ) -> tuple[Config, list[Problem]]:
    write(root, text)
    return load_config(root, env or {})


# -- the example and the defaults --------------------------------------------------------

def test_original_example_loads_without_problems(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, EXAMPLE)
    assert problems == []
    assert cfg.path == tmp_path / ".autodev" / "ra.yaml"
    assert cfg.root == tmp_path and cfg.autodev_dir == tmp_path / ".autodev"
    assert cfg.version == 1 and cfg.enabled and cfg.profile == "critical"
    assert cfg.profiles["critical"].include_flows == ("data/**", "indicators/**", "orders/**")
    assert cfg.profiles["all"].min_severity == "debug"
    assert cfg.sinks == (Sink("console"), Sink("jsonl", ".autodev/trace.jsonl"))
    assert cfg.artifacts.summary_md and cfg.artifacts.ask_md == "on_failure"
    assert cfg.artifacts.per_run_dirs and cfg.artifacts.trace_tail_events == 50
    assert cfg.privacy.redact_keys == DEFAULT_REDACT_KEYS
    assert cfg.privacy.payload_limit == 2048 and not cfg.privacy.allow_raw_payloads
    assert cfg.filters.min_severity == "info"
    assert cfg.performance.latency_buckets_ms == (50.0, 200.0, 1000.0)
    assert dict(cfg.performance.sla_overrides) == {
        "orders/submit": 1000.0, "data/fetch/minute_candles": 800.0}
    assert cfg.retention.rotate_trace and cfg.retention.max_trace_bytes == 10485760
    assert cfg.retention.keep_runs == 20


def test_no_config_file_gives_documented_defaults(tmp_path: Path) -> None:
    cfg, problems = load_config(tmp_path, {})
    assert problems == []
    assert cfg.path is None
    example, _ = load(tmp_path / "ex", EXAMPLE)
    # Every value equals the example's, except the implicit profile (see DEFAULT_PROFILE).
    for name in ("version", "enabled", "artifacts", "privacy", "filters", "performance",
                 "retention"):
        assert getattr(cfg, name) == getattr(example, name), name
    assert [s.type for s in cfg.sinks] == ["console", "jsonl"]
    assert cfg.sinks[1].path == ".autodev/trace.jsonl"
    assert set(cfg.profiles) == {"critical", "all"}
    assert cfg.profile == "all"
    # so an app without a config (the quickstart's demo/flow) is recorded
    assert cfg.flow_allowed("demo/flow", [])


def test_config_defaults_classmethod_matches_missing_file(tmp_path: Path) -> None:
    assert Config.defaults(tmp_path) == load_config(tmp_path, {})[0]


def test_empty_file_is_defaults(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, "# nothing yet\n")
    assert problems == [] and cfg.profile == "all"


# -- selection -------------------------------------------------------------------------

def test_critical_profile_selects_domains_and_excludes_debug(tmp_path: Path) -> None:
    cfg, _ = load(tmp_path, EXAMPLE)
    assert cfg.flow_allowed("data/fetch/minute_candles", [])
    assert cfg.flow_allowed("orders/submit", [])
    assert not cfg.flow_allowed("demo/flow", [])
    assert not cfg.flow_allowed("data/debug/dump", [])
    assert not cfg.flow_allowed("premarket/prepare", [])


def test_filters_add_includes_excludes_and_tags(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, """\
        profile: critical
        filters:
          include_flows: ["premarket/*"]
          exclude_flows: ["orders/cancel"]
          include_tags: ["AAPL", "sim"]
          exclude_tags: ["noisy"]
        """)
    assert problems == []
    assert cfg.flow_allowed("premarket/prepare", ["AAPL"])
    assert not cfg.flow_allowed("premarket/prepare", ["MSFT"])  # no include tag
    assert not cfg.flow_allowed("orders/cancel", ["AAPL"])
    assert not cfg.flow_allowed("orders/submit", ["AAPL", "noisy"])
    assert cfg.flow_allowed("orders/submit", ("sim",))


def test_severity_uses_both_profile_and_filters(tmp_path: Path) -> None:
    cfg, _ = load(tmp_path, "profile: all\nfilters: {min_severity: warn}\n")
    assert [cfg.severity_allowed(s) for s in ("debug", "info", "warn", "error", "critical")] \
        == [False, False, True, True, True]
    assert cfg.severity_allowed("WARNING")  # alias, any case
    assert cfg.severity_allowed("something-new")  # unknown severities are kept
    cfg, _ = load(tmp_path, "profile: critical\nfilters: {min_severity: debug}\n")
    assert not cfg.severity_allowed("debug") and cfg.severity_allowed("info")
    assert cfg.severity_allowed(None)  # no severity counts as info


def test_disabled_records_nothing(tmp_path: Path) -> None:
    cfg, _ = load(tmp_path, "enabled: false\n")
    assert not cfg.flow_allowed("anything", [])


def test_custom_profile_and_builtins_stay_available(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, """\
        profile: mine
        profiles:
          mine:
            include_flows: ["demo/**"]
        """)
    assert problems == []
    assert cfg.flow_allowed("demo/flow", []) and not cfg.flow_allowed("orders/submit", [])
    assert {"mine", "all", "critical"} <= set(cfg.profiles)
    assert cfg.profiles["mine"].min_severity == "debug"


def test_sla_override_lookup(tmp_path: Path) -> None:
    cfg, _ = load(tmp_path, """\
        performance:
          sla_overrides:
            "orders/submit": {p95_ms: 1000}
            "data/**": {p95_ms: 500}
            "indicators/ema/compute": 250
        """)
    assert cfg.sla_p95_ms("orders/submit") == 1000.0
    assert cfg.sla_p95_ms("data/fetch/minute_candles") == 500.0
    assert cfg.sla_p95_ms("indicators/ema/compute") == 250.0
    assert cfg.sla_p95_ms("agent/x") is None


def test_sink_paths_resolve_against_root(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, """\
        sinks:
          - type: sqlite
          - type: jsonl
            path: out/trace.jsonl
          - console
        """)
    assert problems == []
    assert cfg.sinks == (Sink("sqlite", ".autodev/trace.db"), Sink("jsonl", "out/trace.jsonl"),
                         Sink("console"))
    assert cfg.resolve(cfg.sinks[1].path or "") == tmp_path / "out" / "trace.jsonl"


def test_user_redact_keys_extend_the_defaults(tmp_path: Path) -> None:
    cfg, _ = load(tmp_path, "privacy:\n  redact_keys: [SSN, 'iban']\n")
    assert cfg.privacy.redact_keys == (*DEFAULT_REDACT_KEYS, "ssn", "iban")


def test_ask_md_accepts_booleans(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, "artifacts:\n  ask_md: false\n")
    assert problems == [] and cfg.artifacts.ask_md == "never"


# -- environment -------------------------------------------------------------------------

def test_env_overrides(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, EXAMPLE, {
        "RA_PROFILE": "all", "RA_TRACE_TAIL": "100", "RA_EXCLUDE": "demo/skip, x/**",
    })
    assert problems == []
    assert cfg.profile == "all" and cfg.artifacts.trace_tail_events == 100
    assert cfg.flow_allowed("demo/flow", []) and not cfg.flow_allowed("demo/skip", [])
    assert not cfg.flow_allowed("x/y/z", [])
    assert cfg.env_applied == ("RA_PROFILE", "RA_EXCLUDE", "RA_TRACE_TAIL")


def test_ra_include_replaces_every_include_list(tmp_path: Path) -> None:
    cfg, _ = load(tmp_path, EXAMPLE, {"RA_INCLUDE": "demo/**,premarket/prepare"})
    assert cfg.flow_allowed("demo/flow", []) and cfg.flow_allowed("premarket/prepare", [])
    assert not cfg.flow_allowed("orders/submit", [])
    assert not cfg.flow_allowed("demo/debug/x", [])  # excludes still apply


def test_ra_tags_replaces_include_tags(tmp_path: Path) -> None:
    cfg, _ = load(tmp_path, "filters: {include_tags: [MSFT]}\n", {"RA_TAGS": "AAPL, sim"})
    assert cfg.flow_allowed("x", ["AAPL"]) and not cfg.flow_allowed("x", ["MSFT"])


@pytest.mark.parametrize(("raw", "enabled"), [("0", False), ("1", True), ("false", False),
                                              ("ON", True), ("no", False)])
def test_ra_enabled(tmp_path: Path, raw: str, enabled: bool) -> None:
    cfg, problems = load(tmp_path, "enabled: true\n" if not enabled else "enabled: false\n",
                         {"RA_ENABLED": raw})
    assert problems == [] and cfg.enabled is enabled


def test_bad_env_values_warn_and_are_ignored(tmp_path: Path) -> None:
    cfg, problems = load_config(tmp_path, {
        "RA_ENABLED": "maybe", "RA_PROFILE": "nope", "RA_TRACE_TAIL": "-3"})
    assert cfg.enabled and cfg.profile == "all" and cfg.artifacts.trace_tail_events == 50
    assert [p.key for p in problems] == ["RA_ENABLED", "RA_PROFILE", "RA_TRACE_TAIL"]
    assert str(problems[1]) == ("environment: RA_PROFILE: unknown profile 'nope' "
                                "(defined: all, critical); ignored")


def test_empty_env_values_are_unset(tmp_path: Path) -> None:
    cfg, problems = load_config(tmp_path, {"RA_INCLUDE": "", "RA_PROFILE": " "})
    assert problems == [] and cfg.env_applied == ()


# -- problems: file, line, column, key; bad value -> default, the rest kept -------------------

def test_bad_enum_names_file_line_column_key(tmp_path: Path) -> None:
    text = EXAMPLE.replace("ask_md: on_failure", "ask_md:  sometimes")
    text = text.replace("trace_tail_events: 50", "trace_tail_events: 77")
    cfg, problems = load(tmp_path, text)
    assert [str(p) for p in problems] == [
        ".autodev/ra.yaml:26:12: artifacts.ask_md: must be one of always, on_failure, never "
        "(got 'sometimes')"]
    assert problems[0].severity == "error"
    assert cfg.artifacts.ask_md == "on_failure"  # the default
    assert cfg.artifacts.trace_tail_events == 77  # everything else kept
    assert cfg.profile == "critical"


def test_wrong_types_fall_back_per_key(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, """\
        enabled: "yes please"
        artifacts:
          trace_tail_events: fifty
          per_run_dirs: false
        privacy:
          payload_limit: 10
          allow_raw_payloads: 1
        performance:
          latency_buckets_ms: [50, fast]
          sla_overrides:
            "orders/submit": {p95_ms: -1}
            "data/x": {p95_ms: 300}
        retention:
          keep_runs: 0
        """)
    by_key = {p.key: p for p in problems}
    assert set(by_key) == {
        "enabled", "artifacts.trace_tail_events", "privacy.payload_limit",
        "privacy.allow_raw_payloads", "performance.latency_buckets_ms",
        "performance.sla_overrides.orders/submit.p95_ms", "retention.keep_runs"}
    assert (by_key["enabled"].line, by_key["enabled"].column) == (1, 10)
    assert (by_key["artifacts.trace_tail_events"].line,
            by_key["artifacts.trace_tail_events"].column) == (3, 22)
    assert cfg.enabled is True
    assert cfg.artifacts.trace_tail_events == 50 and cfg.artifacts.per_run_dirs is False
    assert cfg.privacy.payload_limit == 2048 and cfg.privacy.allow_raw_payloads is False
    assert cfg.performance.latency_buckets_ms == (50.0, 200.0, 1000.0)
    assert dict(cfg.performance.sla_overrides) == {"data/x": 300.0}
    assert cfg.retention.keep_runs == 20


def test_unknown_keys_warn_at_the_key_with_a_suggestion(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, """\
        artifact:
          summary_md: false
        artifacts:
          summary_mb: false
        """)
    assert [(p.line, p.column, p.key, p.severity) for p in problems] == [
        (1, 1, "artifact", "warning"), (4, 3, "artifacts.summary_mb", "warning")]
    assert "did you mean 'artifacts'" in problems[0].message
    assert "did you mean 'summary_md'" in problems[1].message
    assert cfg.artifacts.summary_md is True


def test_unknown_profile_falls_back(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, "profile: fast\n")
    assert str(problems[0]) == (".autodev/ra.yaml:1:10: profile: unknown profile 'fast' "
                                "(defined: all, critical); using 'all'")
    assert cfg.profile == "all"


def test_bad_sinks_are_dropped_others_kept(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, """\
        sinks:
          - type: kafka
          - type: jsonl
            path: 42
          - {path: x.db}
          - 7
        """)
    assert [p.key for p in problems] == ["sinks[0].type", "sinks[1].path", "sinks[2]",
                                         "sinks[3]"]
    assert cfg.sinks == (Sink("jsonl", ".autodev/trace.jsonl"),)


def test_invalid_yaml_gives_one_problem_and_defaults(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, "artifacts:\n  ask_md: [always\nenabled: false\n")
    (p,) = problems
    assert p.file == ".autodev/ra.yaml" and p.line > 0 and p.column > 0
    assert "invalid YAML" in p.message
    assert cfg.path is not None
    assert cfg._replace(path=None) == Config.defaults(tmp_path)


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, "- a\n- b\n")
    assert len(problems) == 1 and "mapping" in problems[0].message
    assert cfg.artifacts == Config.defaults(tmp_path).artifacts


def test_python_tag_is_rejected_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cfg, problems = load(tmp_path, f"""\
        enabled: !!python/object/apply:os.system ["touch {marker}"]
        artifacts:
          ask_md: always
        """)
    assert not marker.exists()
    (p,) = problems
    assert (p.line, p.key) == (1, "enabled") and "!!python" in p.message
    assert cfg.enabled is True and cfg.artifacts.ask_md == "always"


def test_unsupported_version(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "version: 2\n")
    assert problems[0].key == "version" and "unsupported" in problems[0].message


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.write_bytes(b"enabled: \xff\xfe\n")
    cfg, problems = load_config(tmp_path, {})
    assert "UTF-8" in problems[0].message and cfg.enabled
    path.unlink()
    path.mkdir()  # a directory where the file should be
    cfg, problems = load_config(tmp_path, {})
    assert "cannot read" in problems[0].message and cfg.enabled


def test_parse_config_for_unsaved_buffers(tmp_path: Path) -> None:
    path = tmp_path / ".autodev" / "ra.yaml"
    cfg, problems = parse_config("enabled: nope\n", path, env={})
    assert cfg.root == tmp_path
    assert str(problems[0]).startswith(".autodev/ra.yaml:1:10: enabled: must be true or false")


def test_custom_autodev_dir(tmp_path: Path) -> None:
    adir = tmp_path / "artifacts"
    adir.mkdir()
    (adir / "ra.yaml").write_text("sinks: [{type: jsonl}]\n")
    cfg, problems = load_config(tmp_path, {}, autodev_dir=adir)
    assert problems == [] and cfg.autodev_dir == adir
    assert cfg.sinks == (Sink("jsonl", "artifacts/trace.jsonl"),)


def test_problem_str_without_position() -> None:
    assert str(Problem("a.yaml", 0, 0, "", "cannot read")) == "a.yaml: cannot read"
    assert str(Problem("a.yaml", 3, 4, "k", "bad")) == "a.yaml:3:4: k: bad"


# -- the JSON Schema the editor validates ra.yaml with ---------------------------------------

def ra_schema() -> dict[str, Any]:
    import flowscribe

    path = Path(flowscribe.__file__).parent / "schema" / "ra.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_schema_accepts_the_example_and_rejects_what_the_loader_rejects() -> None:
    schema = ra_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(EXAMPLE))) == []
    for bad in ("artifacts: {ask_md: sometimes}", "artifact: {}", "sinks: [{type: kafka}]",
                "privacy: {payload_limit: 10}", "filters: {min_severity: loud}",
                "enabled: 'yes please'", "retention: {keep_runs: 0}"):
        assert list(validator.iter_errors(yaml.safe_load(bad))), bad


def test_schema_knows_every_key_the_loader_reads() -> None:
    from flowscribe import config as c

    props = ra_schema()["properties"]
    assert set(props) == set(c._TOP_KEYS)
    sections = {"artifacts": c._ARTIFACT_KEYS, "privacy": c._PRIVACY_KEYS,
                "filters": c._FILTER_KEYS, "performance": c._PERF_KEYS,
                "retention": c._RETENTION_KEYS}
    for name, keys in sections.items():
        assert set(props[name]["properties"]) == set(keys), name
    profile = ra_schema()["definitions"]["profile"]["properties"]
    assert set(profile) == set(c._PROFILE_KEYS)


def test_redefining_a_builtin_profile_changes_only_the_given_keys(tmp_path: Path) -> None:
    cfg, problems = load(tmp_path, """\
        profile: critical
        profiles:
          critical: {min_severity: warn}
        """)
    assert problems == []
    assert cfg.profiles["critical"].include_flows == ("data/**", "indicators/**", "orders/**")
    assert cfg.profiles["critical"].min_severity == "warn"


def test_problems_carry_the_end_of_the_offending_value(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "artifacts:\n  ask_md: sometimes\n  bogus: 1\n")
    spans = {p.key: (p.line, p.column, p.end_line, p.end_column) for p in problems}
    assert spans == {"artifacts.ask_md": (2, 11, 2, 20), "artifacts.bogus": (3, 3, 3, 8)}
