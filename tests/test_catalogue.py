"""The catalogue is the contract: every rule is checked or planned with a reason."""

from __future__ import annotations

import re
from pathlib import Path

from jsonschema import Draft202012Validator

from cnilint.catalogue import catalogue, explanations
from cnilint.resources import data_dir
from cnilint.rules import PLANNED, checked_rule_ids
from cnilint.rules.schema import load_schema, owned_rules

SINGLE_RECORD_FAMILIES = {"ENV", "CONF", "RES", "IPAM", "ERR", "VER", "DEL", "CHK", "GC", "STATUS"}
RULE_TESTS = Path(__file__).parent / "rules"


def test_catalogue_has_its_163_rules() -> None:
    rules = catalogue()
    assert len(rules) == 163
    assert all(re.fullmatch(r"[A-Z]+\d{3}", rule_id) for rule_id in rules)


def test_every_rule_is_checked_or_planned_with_a_reason() -> None:
    checked = checked_rule_ids()
    for rule_id in catalogue():
        assert (rule_id in checked) != (rule_id in PLANNED), rule_id
        if rule_id in PLANNED:
            assert len(PLANNED[rule_id]) > 20


def test_single_record_families_are_checked_except_documented_ones() -> None:
    unchecked = [
        rule_id
        for rule_id, info in catalogue().items()
        if info.family in SINGLE_RECORD_FAMILIES and rule_id not in checked_rule_ids()
    ]
    assert set(unchecked) <= {"VER007"}, unchecked  # VER007 needs a VERSION record beside the others


def test_every_checked_single_record_rule_has_a_rule_test() -> None:
    text = "\n".join(path.read_text() for path in RULE_TESTS.glob("test_*.py"))
    for rule_id in checked_rule_ids():
        if catalogue()[rule_id].family in SINGLE_RECORD_FAMILIES:
            assert f'"{rule_id}"' in text, f"{rule_id} has no test under tests/rules"


def test_schemas_are_valid_and_annotate_catalogue_rules() -> None:
    schemas = sorted(path.name for path in data_dir("schemas").glob("*.json"))
    assert schemas
    for name in schemas:
        Draft202012Validator.check_schema(load_schema(name))
        assert owned_rules(name) <= set(catalogue()), name


def test_every_rule_has_an_explanation_and_a_passing_example() -> None:
    extra = explanations()
    assert set(extra) == set(catalogue())
    assert all(entry["why"] and entry["example_pass"] for entry in extra.values())
