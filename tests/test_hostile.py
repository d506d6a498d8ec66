"""Hostile input gives an answer, never a blow-up."""

from __future__ import annotations

import io
import json

from conftest import REAL

from cnilint import check, parse
from cnilint.parse.jsonpos import value_positions


def _deep_record() -> str:
    text = (REAL / "02b-bridge-1.0.0" / "bridge").read_text()
    first = text.split("=" * 65 + "\n\n\n")[0] + "=" * 65 + "\n\n\n"
    deep = "[" * 100_000 + "]" * 100_000
    return first.replace('"type":"bridge"}', '"type":"bridge","x":' + deep + "}", 1)


def test_json_nested_100000_deep_is_a_finding_not_a_crash() -> None:
    (record,) = list(parse(io.StringIO(_deep_record()), plugin="bridge"))
    assert record.input.error is not None and "recursion" in record.input.error.message
    findings = list(check(io.StringIO(_deep_record()), plugin="bridge"))
    assert [f.rule for f in findings if f.rule == "CONF001"] == ["CONF001"]


def test_positions_of_deep_documents_stay_small() -> None:
    positions = value_positions("[" * 50_000 + "]" * 50_000)
    assert 0 < len(positions) <= 300  # recorded down to a bounded depth only
    assert value_positions(json.dumps({"a": [1, {"b": 2}]}))[("a", 1, "b")] == (1, 17)
