"""The compiled schema validators give jsonschema's verdict on every document.

cnilint answers valid/invalid with a compiled function and asks jsonschema for
the detailed errors only when a document fails (cnilint.rules.schema), so the
two must agree: on every JSON body of the fixture logs and every value inside
them, and on documents mutated from those by hypothesis.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnilint
from cnilint.resources import data_dir
from cnilint.rules.schema import (
    SchemaCompileError,
    compile_schema,
    document_violations,
    is_valid,
    json_equal,
    load_schema,
    schema_violations,
    validator,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCHEMAS = sorted(path.name for path in data_dir("schemas").glob("*.json"))
NOT_LOGS = {".json", ".md", ".html", ".csv", ".sarif", ".xml", ".png", ".txt", ".toml", ".jsonl", ".sh", ".py"}


def _values(node: Any) -> list[Any]:
    """A document and every value inside it."""
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += _values(value)
    elif isinstance(node, list):
        for value in node:
            found += _values(value)
    return found


@cache
def fixture_documents() -> tuple[Any, ...]:
    """Every decoded INPUT and OUTPUT of the logs under fixtures/."""
    documents = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.suffix in NOT_LOGS or path.name.startswith("."):
            continue
        for record in cnilint.parse(path):
            for body in (record.input, record.output):
                if body is not None and body.is_json:
                    documents.append(body.value)
    return tuple(documents)


def _same_verdict(name: str, document: Any) -> None:
    expected = validator(name).is_valid(document)
    assert is_valid(name)(document) is expected, (name, document)


def test_fixture_logs_hold_documents_of_every_shape() -> None:
    documents = fixture_documents()
    assert len(documents) > 500
    # Both verdicts occur, so the comparison below can tell them apart (most
    # logged error objects lack cniVersion, ERR005: error.json's valid
    # documents may come only from the mutations and the small schema below).
    for name in SCHEMAS:
        verdicts = {validator(name).is_valid(value) for document in documents for value in _values(document)}
        assert False in verdicts, name
        assert True in verdicts or name == "error.json", name


@pytest.mark.parametrize("name", SCHEMAS)
def test_compiled_verdict_is_jsonschemas_on_every_fixture_value(name: str) -> None:
    for document in fixture_documents():
        for value in _values(document):
            _same_verdict(name, value)


# ---------------------------------------------------------------- mutated documents


def _schema_keys(node: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for key in ("properties",):
            keys |= set(node.get(key, {}))
        keys |= set(node.get("required", []))
        for value in node.values():
            keys |= _schema_keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= _schema_keys(value)
    return keys


KEYS = sorted({key for name in SCHEMAS for key in _schema_keys(load_schema(name))})
# Values next to the schemas' boundaries: empty and path-like strings, versions,
# whole floats, negatives, booleans (not numbers), huge integers.
EDGE_VALUES = st.sampled_from(
    ["", " ", ".", "..", "a/b", "/abs", "0.2.0", "1.0.0", "4", "6", "x", 0, 1, -1, 1.0, 1.5, -0.5,
     2**64 - 1, 2**64, True, False, None, [], {}, [""], ["1.0.0"], {"type": ""}]
)  # fmt: skip
SCALARS = st.one_of(EDGE_VALUES, st.text(max_size=5), st.integers(), st.floats(allow_nan=False, allow_infinity=False))
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def _containers(node: Any) -> list[Any]:
    return [value for value in _values(node) if isinstance(value, (dict, list))]


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(draw(st.sampled_from(fixture_documents())))
    for _ in range(draw(st.integers(1, 4))):
        containers = _containers(document)
        if not containers:
            return copy.deepcopy(draw(JSON_VALUES))
        target = draw(st.sampled_from(containers))
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if isinstance(target, dict):
            if action == "delete" and target:
                del target[draw(st.sampled_from(sorted(target)))]
            else:
                key = (
                    draw(st.sampled_from(sorted(target))) if action == "set" and target else draw(st.sampled_from(KEYS))
                )
                target[key] = copy.deepcopy(draw(JSON_VALUES))
        elif target:
            index = draw(st.integers(0, len(target) - 1))
            if action == "delete":
                del target[index]
            else:
                target[index] = copy.deepcopy(draw(JSON_VALUES))
        else:
            target.append(copy.deepcopy(draw(JSON_VALUES)))
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_compiled_verdict_is_jsonschemas_on_mutated_documents(document: Any) -> None:
    for name in SCHEMAS:
        for value in _values(document):
            _same_verdict(name, value)


# ---------------------------------------------------------------- the compiler itself


def test_every_keyword_of_a_small_schema_decides_as_jsonschema() -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {
            "a": {"type": "integer", "minimum": 0, "maximum": 10},
            "b": {"enum": [1, "x", None]},
            "c": {"const": [1, {"k": True}]},
            "d": {"anyOf": [{"type": "string", "pattern": "^z"}, {"type": "array", "minItems": 2}]},
            "e": {"if": {"const": "yes"}, "then": {"minLength": 3}, "else": {"type": "number"}},
        },
        "additionalProperties": {"not": {"type": "null"}},
    }
    compiled = compile_schema(schema)
    from jsonschema import Draft202012Validator

    reference = Draft202012Validator(schema)
    cases = [
        {"a": 1}, {"a": 1.0}, {"a": 1.5}, {"a": True}, {"a": -1}, {"a": 11}, {}, [], {"a": 0, "b": 1.0},
        {"a": 0, "b": True}, {"a": 0, "c": [1.0, {"k": True}]}, {"a": 0, "c": [True, {"k": 1}]},
        {"a": 0, "d": "zed"}, {"a": 0, "d": "bed"}, {"a": 0, "d": [1, 2]}, {"a": 0, "d": [1]},
        {"a": 0, "e": "yes"}, {"a": 0, "e": 5}, {"a": 0, "e": "no"}, {"a": 0, "x": None}, {"a": 0, "x": 0},
    ]  # fmt: skip
    for case in cases:
        assert compiled(case) is reference.is_valid(case), case


def test_a_keyword_the_compiler_does_not_know_is_refused() -> None:
    with pytest.raises(SchemaCompileError, match="uniqueItems"):
        compile_schema({"type": "array", "uniqueItems": True})
    with pytest.raises(SchemaCompileError, match="not 2020-12"):
        compile_schema({"items": [{"type": "string"}]})


def test_json_equality_keeps_booleans_apart_from_numbers() -> None:
    assert json_equal(1, 1.0) and json_equal([1, {"a": 2}], [1.0, {"a": 2.0}])
    assert not json_equal(True, 1) and not json_equal(0, False) and not json_equal([True], [1])
    assert not json_equal("1", 1) and not json_equal({"a": 1}, {"a": 1, "b": 2})


def test_a_valid_document_has_no_violations_and_an_invalid_one_keeps_its_details() -> None:
    # The compiled fast path must not lose the rule-by-rule errors of a failing document.
    config = {"cniVersion": "1.0.0", "name": "net", "type": "bridge"}
    assert list(schema_violations("netconf.json", config, "input")) == []
    broken = {"cniVersion": "", "type": "a/b", "ipMasq": "yes"}
    rules = sorted(rule for rule, _ in schema_violations("netconf.json", broken, "input"))
    assert rules == ["CONF002", "CONF005", "CONF008", "CONF012"]


def test_document_violations_are_those_of_the_schema_whatever_the_memo_holds() -> None:
    broken = {"cniVersion": "", "type": "a/b"}
    text = '{"cniVersion": "", "type": "a/b"}'
    first = document_violations("netconf.json", text, broken, "input")
    again = document_violations("netconf.json", text, broken, "input")
    assert first == again == tuple(schema_violations("netconf.json", broken, "input"))
    # The same text judged as another document keeps its own locations.
    assert {v.document for _, v in document_violations("netconf.json", text, broken, "output")} == {"output"}
