"""flows.yaml -> Catalog: entries with positions, defaults applied, problems at exact spots."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from flowscribe.catalog import Catalog, load_catalog, parse_catalog

# The original description's catalog, verbatim.
ORIGINAL = """\
version: 1
defaults:
  tags: ["phase5"]
  correlation_keys: ["ticker", "date"]
  on_failure: generate_prompt

flows:
  - id: "premarket/prepare"
    enabled: true
    description: "Validate market day, configs, and data sources."
    success:
      criteria:
        - "market_day = true"
        - "configs_loaded = true"
    failure_classes: ["BUSINESS.MARKET_CLOSED", "SYSTEM.CONFIG_MISSING"]
    code_refs:
      - "src/lifecycle/premarket_context.py"
    tags: ["mode", "phase"]

  - id: "data/fetch/minute_candles"
    enabled: true
    description: "Fetch minute candles for the active ticker and date."
    parent: "premarket/prepare"
    success:
      criteria:
        - "rows >= 300"
        - "time_range covers [09:30,16:00]"
    failure_classes: ["DATA.EMPTY", "EXTERNAL.4xx", "EXTERNAL.5xx", "CONTRACT.VALIDATION"]
    correlation_keys: ["ticker", "date", "source"]
    code_refs:
      - "src/data/fetcher.py"
    tags: ["ticker", "mode"]

  - id: "indicators/ema/compute"
    enabled: true
    description: "Compute indicator columns required by agents."
    parent: "data/fetch/minute_candles"
    success:
      criteria:
        - "columns include: ema_9, ema_21, rsi"
    failure_classes: ["CONTRACT.VALIDATION", "DATA.MISSING_COLUMN"]
    code_refs:
      - "features/indicator_utils.py"
    tags: ["ticker", "mode"]

  - id: "agent/decision/evaluate"
    enabled: true
    description: "Produce an action with a confidence score."
    success:
      criteria:
        - "action in {buy, sell, hold}"
        - "score >= threshold"
    failure_classes: ["BUSINESS.NO_ACTION", "DATA.BAD_STATE"]
    code_refs:
      - "src/agent/decision.py"
    tags: ["ticker", "mode"]

  - id: "orders/submit"
    enabled: true
    description: "Submit order to broker and await ack."
    parent: "agent/decision/evaluate"
    success:
      criteria:
        - "ack received with order_id"
    failure_classes: ["EXTERNAL.TIMEOUT", "EXTERNAL.REJECTED"]
    sla:
      p95_ms: 1000
    code_refs:
      - "src/orders/broker_x.py"
    tags: ["ticker", "mode"]
"""

CODE_REFS = ["src/lifecycle/premarket_context.py", "src/data/fetcher.py",
             "features/indicator_utils.py", "src/agent/decision.py", "src/orders/broker_x.py"]


def project(root: Path, text: str, files: list[str] | None = None) -> Path:
    for rel in files or []:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("# code\n")
    path = root / ".autodev" / "flows.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(cat: Catalog) -> list[tuple[int, int, str, str]]:
    return [(p.line, p.column, p.key, p.severity) for p in cat.problems]


def test_original_catalog_loads_clean_with_positions(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, ORIGINAL, CODE_REFS))
    assert cat.problems == []
    assert list(cat.flows) == ["premarket/prepare", "data/fetch/minute_candles",
                               "indicators/ema/compute", "agent/decision/evaluate",
                               "orders/submit"]
    pre = cat.flows["premarket/prepare"]
    assert (pre.line, pre.column, pre.id_line, pre.id_column, pre.end_line) == (8, 3, 8, 9, 18)
    assert pre.description == "Validate market day, configs, and data sources."
    assert pre.success_criteria == ["market_day = true", "configs_loaded = true"]
    assert pre.failure_classes == ["BUSINESS.MARKET_CLOSED", "SYSTEM.CONFIG_MISSING"]
    assert pre.code_refs == ["src/lifecycle/premarket_context.py"]
    assert pre.parent is None and pre.enabled and pre.sla_p95_ms is None
    orders = cat.flows["orders/submit"]
    assert orders.sla_p95_ms == 1000.0
    assert (orders.line, orders.end_line) == (58, 70)
    fetch = cat.flows["data/fetch/minute_candles"]
    assert (fetch.parent, fetch.parent_line, fetch.parent_column) == (
        "premarket/prepare", 23, 13)


def test_defaults_apply(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, ORIGINAL, CODE_REFS))
    pre = cat.flows["premarket/prepare"]
    assert pre.tags == ["phase5", "mode", "phase"]  # default tags added to the entry's
    assert pre.correlation_keys == ["ticker", "date"]  # from defaults
    assert pre.on_failure == "generate_prompt"
    fetch = cat.flows["data/fetch/minute_candles"]
    assert fetch.correlation_keys == ["ticker", "date", "source"]  # the entry's own wins


def test_default_parent_and_enabled(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        defaults: {parent: root, enabled: false}
        flows:
          - id: root
          - id: a
          - id: b
            parent: a
            enabled: true
        """))
    assert cat.problems == []
    assert cat.flows["root"].parent is None  # never its own parent
    assert cat.flows["a"].parent == "root"
    assert cat.flows["b"].parent == "a"
    assert not cat.is_enabled("a") and cat.is_enabled("b")
    assert cat.is_enabled("not/in/catalog")


def test_parent_chain_and_children(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, ORIGINAL, CODE_REFS))
    assert cat.parent_chain("indicators/ema/compute") == [
        "data/fetch/minute_candles", "premarket/prepare"]
    assert cat.parent_chain("premarket/prepare") == []
    assert cat.parent_chain("unknown") == []
    assert cat.children("premarket/prepare") == ["data/fetch/minute_candles"]
    assert cat.get("orders/submit") is cat.flows["orders/submit"]
    assert cat.get("nope") is None
    assert "orders/submit" in cat and len(cat) == 5


def test_disabled_flow(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, "flows:\n  - id: a/b\n    enabled: false\n"))
    assert not cat.is_enabled("a/b") and not cat.flows["a/b"].enabled


def test_missing_file_is_an_empty_catalog(tmp_path: Path) -> None:
    cat = load_catalog(tmp_path / ".autodev" / "flows.yaml")
    assert cat.flows == {} and cat.problems == [] and cat.path is None


def test_invalid_yaml_has_the_parsers_position(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, "flows:\n  - id: a\n    tags: [x\n  - id: b\n"))
    (p,) = cat.problems
    assert p.file == ".autodev/flows.yaml" and p.severity == "error"
    assert "invalid YAML" in p.message and p.line >= 3 and p.column > 0
    assert cat.flows == {}


def test_unknown_keys_and_wrong_types(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        version: 1
        flows:
          - id: a
            colour: red
            enabled: nope
            tags: {x: 1}
            sla: {p95_ms: fast}
            success: {criteria: ["ok"], extra: 1}
        owner: me
        """))
    assert problems_of(cat) == [
        (4, 5, "flows[0].colour", "warning"),
        (5, 14, "flows[0].enabled", "error"),
        (6, 11, "flows[0].tags", "error"),
        (7, 19, "flows[0].sla.p95_ms", "error"),
        (8, 33, "flows[0].success.extra", "warning"),
        (9, 1, "owner", "warning"),
    ]
    a = cat.flows["a"]  # the entry survives with defaults for the bad fields
    assert a.enabled and a.tags == [] and a.sla_p95_ms is None and a.success_criteria == ["ok"]


def test_duplicate_ids_first_wins(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        flows:
          - id: a
            description: first
          - id: a
            description: second
        """))
    (p,) = cat.problems
    assert (p.line, p.column, p.key) == (4, 9, "flows[1].id")
    assert "duplicate flow id 'a'" in p.message and "line 2" in p.message
    assert cat.flows["a"].description == "first"


def test_unknown_parent_with_suggestion(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        flows:
          - id: premarket/prepare
          - id: data/fetch
            parent: premarket/prepar
        """))
    (p,) = cat.problems
    assert (p.line, p.column, p.key, p.severity) == (4, 13, "flows[1].parent", "warning")
    assert "did you mean 'premarket/prepare'" in p.message
    assert cat.parent_chain("data/fetch") == ["premarket/prepar"]


def test_parent_cycles_are_reported_on_each_member(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        flows:
          - id: a
            parent: c
          - id: b
            parent: a
          - id: c
            parent: b
          - id: d
            parent: d
        """))
    assert problems_of(cat) == [
        (3, 13, "flows[0].parent", "error"),
        (5, 13, "flows[1].parent", "error"),
        (7, 13, "flows[2].parent", "error"),
        (9, 13, "flows[3].parent", "error"),
    ]
    assert "parent cycle: a -> c -> b -> a" in cat.problems[0].message
    assert "own parent" in cat.problems[3].message
    assert cat.parent_chain("a") == ["c", "b"]  # stops before repeating


def test_code_refs_to_missing_files(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        flows:
          - id: a
            code_refs:
              - src/here.py
              - src/gone.py
              - src/here.py:12
              - "src/*.py"
              - ../../etc/passwd
        """, ["src/here.py"]))
    assert problems_of(cat) == [(5, 9, "flows[0].code_refs[1]", "warning"),
                                (8, 9, "flows[0].code_refs[4]", "warning")]
    assert "does not exist" in cat.problems[0].message
    assert "outside the project" in cat.problems[1].message


def test_entries_without_id_or_not_mappings(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        flows:
          - description: no id
          - just-a-string
          - id: ""
          - id: ok/flow
        """))
    assert [p.key for p in cat.problems] == ["flows[0]", "flows[1]", "flows[2].id"]
    assert list(cat.flows) == ["ok/flow"]


def test_suspicious_ids_warn(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        flows:
          - id: "orders /submit"
          - id: "data/**"
          - id: "/lead"
        """))
    assert [p.severity for p in cat.problems] == ["warning"] * 3
    assert len(cat.flows) == 3


def test_python_tags_are_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    cat = load_catalog(project(tmp_path, f"""\
        flows:
          - id: a
            description: !!python/object/apply:os.system ["touch {marker}"]
          - id: b
        """))
    assert not marker.exists()
    (p,) = cat.problems
    assert (p.line, p.key) == (3, "flows[0].description") and "!!python" in p.message
    assert set(cat.flows) == {"a", "b"}


def test_parse_catalog_unsaved_buffer(tmp_path: Path) -> None:
    path = tmp_path / ".autodev" / "flows.yaml"
    cat = parse_catalog("flows:\n  - id: x\n    parent: y\n", path)
    assert cat.path == path and cat.root == tmp_path
    assert cat.problems[0].key == "flows[0].parent"


def test_flows_not_a_list_and_empty_document(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, "flows: {a: 1}\n"))
    assert cat.problems[0].key == "flows"
    cat = parse_catalog("", tmp_path / ".autodev" / "flows.yaml")
    assert cat.flows == {} and cat.problems == []


# -- the JSON Schema the editor validates flows.yaml with -------------------------------------

def flows_schema() -> dict[str, Any]:
    import flowscribe

    path = Path(flowscribe.__file__).parent / "schema" / "flows.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_schema_accepts_the_original_and_rejects_what_the_loader_rejects() -> None:
    schema = flows_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(ORIGINAL))) == []
    for bad in ("flows: [{description: no id}]", "flows: [{id: a, colour: red}]",
                "flows: [{id: a, enabled: nope}]", "flows: [{id: a, sla: {p95_ms: -1}}]",
                "owner: me", "flows: [{id: 'a b'}]"):
        assert list(validator.iter_errors(yaml.safe_load(bad))), bad


def test_schema_knows_every_key_the_loader_reads() -> None:
    from flowscribe import catalog as c

    schema = flows_schema()
    assert set(schema["properties"]) == set(c._TOP_KEYS)
    assert set(schema["properties"]["defaults"]["properties"]) == set(c._DEFAULT_KEYS)
    assert set(schema["properties"]["flows"]["items"]["properties"]) == set(c._FLOW_KEYS)


def test_problems_carry_the_end_of_the_offending_value(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, "flows:\n  - id: a\n    parent: nowhere\n"))
    (p,) = cat.problems
    assert (p.line, p.column, p.end_line, p.end_column) == (3, 13, 3, 20)


def test_unknown_default_parent_is_reported_once(tmp_path: Path) -> None:
    cat = load_catalog(project(tmp_path, """\
        defaults: {parent: root}
        flows:
          - id: a
          - id: b
        """))
    assert [(p.line, p.key) for p in cat.problems] == [(1, "defaults.parent")]
    assert cat.flows["a"].parent == "root"
