"""Helpers for rule tests: real records from fixtures/real, edited as little as possible."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from conftest import REAL

from cnilint import parse
from cnilint.engine import Engine
from cnilint.findings import Finding
from cnilint.options import Options
from cnilint.parse import Body, Record
from cnilint.parse.records import Variables

REMOVE = object()


@cache
def _records(scenario: str, plugin: str) -> tuple[Record, ...]:
    return tuple(parse(REAL / scenario / plugin))


def real(scenario: str, plugin: str, index: int = 0) -> Record:
    """Record `index` of a real capture, e.g. real("02b-bridge-1.0.0", "bridge", 0)."""
    return _records(scenario, plugin)[index]


def find(scenario: str, plugin: str, predicate: Callable[[Record], bool]) -> Record:
    """The first record of a real capture for which predicate holds."""
    return next(record for record in _records(scenario, plugin) if predicate(record))


def _body(old: Body | None, value: Any, *, raw: bool) -> Body:
    line = old.line if old is not None else 1
    text = value if raw else json.dumps(value, indent=4)
    return Body.decode(text, line)


def with_input(record: Record, edit: Any = None, *, raw: str | None = None) -> Record:
    """INPUT replaced: `edit` is a function of a deep copy of the decoded INPUT
    (return the new value) or a new value; `raw` sets the exact text."""
    return replace(record, input=_edited(record.input, edit, raw))


def with_output(record: Record, edit: Any = None, *, raw: str | None = None) -> Record:
    return replace(record, output=_edited(record.output, edit, raw))


def _edited(body: Body | None, edit: Any, raw: str | None) -> Body:
    if raw is not None:
        return _body(body, raw, raw=True)
    if callable(edit):
        value = copy.deepcopy(body.value if body is not None else None)
        edit = edit(value)
    return _body(body, edit, raw=False)


def with_env(record: Record, **changes: Any) -> Record:
    """CNI_* variables changed in both blocks (`REMOVE` drops one)."""

    def apply(block: Variables) -> Variables:
        pairs = [(name, changes.get(name, value)) for name, value in block.pairs]
        pairs = [(name, value) for name, value in pairs if value is not REMOVE]
        present = {name for name, _ in block.pairs}
        pairs += [(name, value) for name, value in changes.items() if name not in present and value is not REMOVE]
        return Variables(tuple(pairs))

    return replace(record, params=apply(record.params), env=apply(record.env))


def findings(record: Record, rule_id: str, *, profile: str = "spec") -> list[Finding]:
    """Findings of one rule (selected alone) on one record."""
    engine = Engine(Options(select=(rule_id,), profile=profile))
    result = engine.check_record(record)
    assert not result.errors, result.errors
    return [finding for finding in result.findings if finding.rule == rule_id]


def set_key(path: tuple[str | int, ...], value: Any) -> Callable[[Any], Any]:
    """An edit that sets (or with REMOVE deletes) the value at `path`."""

    def edit(document: Any) -> Any:
        node = document
        for step in path[:-1]:
            node = node[step]
        if value is REMOVE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return document

    return edit


def cross_findings(
    logs: list[list[Record]], rule_id: str, *, profile: str = "spec", conflists: dict | None = None
) -> list[Finding]:
    """Findings of one rule over several logs checked together (each list is one log);
    `conflists` maps network names to cnilint.correlate.conflist.Conflist."""
    from types import SimpleNamespace

    from cnilint.checker import run_checks

    engine = Engine(Options(select=(rule_id,), profile=profile))
    readers = [(SimpleNamespace(file=records[0].file, problems=[]), records) for records in logs if records]
    run = run_checks(readers, engine, conflists)  # type: ignore[arg-type]
    assert not run.errors, run.errors
    return [finding for finding in run.all_findings() if finding.rule == rule_id]


def records_of(scenario: str, plugin: str) -> list[Record]:
    return list(_records(scenario, plugin))
