"""JSON Schema validation whose errors become findings of the catalogue rules.

Schemas live in schemas/ (draft 2020-12). A subschema names the rule that owns
it with the annotation `"x-rule": "RES013"` (and optionally `"x-message"`, a
message template with `{value}` and `{path}`). An error is reported under the
deepest `x-rule` on its schema path, so one validation of a document feeds
many rules. Unannotated errors fall back to the schema's top-level `x-rule`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from cnilint.resources import data_dir
from cnilint.rules import JsonPath, Violation, show


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads((data_dir("schemas") / name).read_text(encoding="utf-8"))


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def owned_rules(name: str) -> frozenset[str]:
    """Every rule ID a schema can report under."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("x-rule"), str):
                found.add(node["x-rule"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(load_schema(name))
    return frozenset(found)


def _resolve(root: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
    return node


def _owner(root: dict[str, Any], error: ValidationError) -> tuple[str | None, str | None]:
    """(rule, message template) of the deepest annotated subschema on the
    error's schema path, following local $refs."""
    node: Any = root
    rule, template = root.get("x-rule"), root.get("x-message")
    for step in error.absolute_schema_path:
        # jsonschema leaves "$ref" out of the path: follow a reference before
        # stepping into what it points at.
        while isinstance(node, dict) and step not in node and isinstance(node.get("$ref"), str):
            node = _resolve(root, node["$ref"])
            if isinstance(node, dict) and isinstance(node.get("x-rule"), str):
                rule, template = node["x-rule"], node.get("x-message")
        if isinstance(node, dict) and step == "$ref" and isinstance(node.get("$ref"), str):
            node = _resolve(root, node["$ref"])
        elif isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            break
        if isinstance(node, dict) and isinstance(node.get("x-rule"), str):
            rule, template = node["x-rule"], node.get("x-message")
    return rule, template


def _message(error: ValidationError, path: JsonPath, template: str | None) -> str:
    from cnilint.parse.jsonpos import format_path

    where = format_path(path)
    if template:
        return template.format(value=show(error.instance), path=where)
    message = error.message
    if len(message) > 160:
        message = message[:159] + "…"
    return f"{where}: {message}"


def schema_violations(
    name: str, instance: Any, document: str, base: JsonPath = (), report_as: str | None = None
) -> Iterator[tuple[str, Violation]]:
    """Validate `instance` (found at `base` in INPUT or OUTPUT) against schema
    `name`; yield (rule ID, violation) for each error, one per rule and path."""
    root = load_schema(name)
    seen: set[tuple[str, JsonPath]] = set()
    for error in validator(name).iter_errors(instance):
        rule, template = _owner(root, error)
        if rule is None:
            continue
        path = (*base, *error.absolute_path)
        rule = report_as or rule
        if (rule, path) in seen:
            continue
        seen.add((rule, path))
        yield rule, Violation(_message(error, path, template), document, path)
