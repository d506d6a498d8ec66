"""JSON Schema validation whose errors become findings of the catalogue rules.

Schemas live in schemas/ (draft 2020-12). A subschema names the rule that owns
it with the annotation `"x-rule": "RES013"` (and optionally `"x-message"`, a
message template with `{value}` and `{path}`). An error is reported under the
deepest `x-rule` on its schema path, so one validation of a document feeds
many rules. Unannotated errors fall back to the schema's top-level `x-rule`.

Speed: jsonschema costs a few hundred microseconds a document, and most
documents are valid. So each schema is also compiled (`compile_schema`) into
one plain Python function that only answers valid/invalid, for the keywords
our schemas use, with jsonschema's semantics; jsonschema runs only on the
documents that fail, to name every error and its rule. Whole documents (INPUT,
OUTPUT) repeat on a node (the same network configuration on every call), so
their violations are also kept by their text in a bounded LRU.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from cnilint.facts import MEMO_MAX_TEXT
from cnilint.resources import data_dir
from cnilint.rules import JsonPath, TextMemo, Violation, show

if TYPE_CHECKING:  # jsonschema is imported only when a document fails (its import costs 50 ms)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SchemaViolations = tuple[tuple[str, Violation], ...]


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads((data_dir("schemas") / name).read_text(encoding="utf-8"))


@cache
def validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

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


# ---------------------------------------------------------------- the compiled fast path

# Keywords that never change a verdict.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "x-rule", "x-message", "examples"})
# What the compiler understands; a schema with anything else fails to compile
# (loudly, in the tests), rather than being judged by half its keywords.
_KEYWORDS = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "minLength",
        "pattern", "minimum", "maximum", "const", "enum", "not", "allOf", "anyOf", "if", "then", "else",
    }
)  # fmt: skip
_MAX_LOOPS = 8  # nested `for` statements in one generated function (CPython allows 20)


class SchemaCompileError(ValueError):
    """A schema uses a keyword the compiler does not implement."""


def json_equal(one: Any, two: Any) -> bool:
    """JSON Schema equality (jsonschema's `equal`): booleans are not numbers,
    1 equals 1.0, containers compare element by element."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(json_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(key in two and json_equal(value, two[key]) for key, value in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


# jsonschema's draft 2020-12 type checker, as expressions over a variable `{v}`.
_TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "integer": "(isinstance({v}, int) and not isinstance({v}, bool) or isinstance({v}, float) and {v}.is_integer())",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
}


class _Compiler:
    """Writes Python source: one function per subschema that needs its own
    verdict (not, anyOf, if/then/else), everything else inlined as
    `if <broken>: return False`."""

    def __init__(self) -> None:
        self.functions: list[str] = []
        self.constants: dict[str, Any] = {}
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def constant(self, value: Any) -> str:
        name = self.fresh("_c")
        self.constants[name] = value
        return name

    def literal(self, number: Any) -> str:
        """A number as source text (a constant when repr cannot be read back)."""
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise SchemaCompileError(f"{number!r} is not a number")
        if isinstance(number, float) and not math.isfinite(number):
            return self.constant(number)
        return repr(number)

    def function(self, schema: Any) -> str:
        """A function name returning the verdict of `schema` on its argument."""
        name = self.fresh("_v")
        lines = [f"def {name}(v0):"]
        lines += self.node(schema, "v0", 1, 0)
        lines.append("    return True")
        self.functions.append("\n".join(lines))
        return name

    def node(self, schema: Any, v: str, depth: int, loops: int, known: str | None = None) -> list[str]:
        """Lines that `return False` when the instance in variable `v` breaks
        `schema`; `known` is the instance's type when already asserted."""
        pad = "    " * depth
        if schema is True:
            return []
        if schema is False:
            return [f"{pad}return False"]
        if not isinstance(schema, dict):
            raise SchemaCompileError(f"a schema must be an object or a boolean, not {schema!r}")
        unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise SchemaCompileError(f"keyword(s) {sorted(unknown)} are not supported by the compiled validator")
        lines: list[str] = []
        types = schema.get("type")
        if types is not None:
            names = [types] if isinstance(types, str) else list(types)
            if not names or any(t not in _TYPE_TESTS for t in names):
                raise SchemaCompileError(f"type {types!r} is not supported")
            test = " or ".join(_TYPE_TESTS[t].format(v=v) for t in names)
            lines.append(f"{pad}if not ({test}): return False")
            if len(names) == 1:
                known = names[0]

        def guard(kind: str) -> tuple[list[str], str]:
            """Lines that apply only to instances of `kind`: an if block unless known."""
            if known == kind or (kind == "number" and known == "integer"):
                return [], pad
            return [f"{pad}if {_TYPE_TESTS[kind].format(v=v)}:"], pad + "    "

        if "const" in schema:
            const = schema["const"]
            if isinstance(const, str):
                lines.append(f"{pad}if not (isinstance({v}, str) and {v} == {const!r}): return False")
            else:
                lines.append(f"{pad}if not _equal({v}, {self.constant(const)}): return False")
        if "enum" in schema:
            members = schema["enum"]
            if all(isinstance(m, str) for m in members):
                lines.append(
                    f"{pad}if not (isinstance({v}, str) and {v} in {self.constant(frozenset(members))}): return False"
                )
            else:
                lines.append(f"{pad}if not any(_equal(m, {v}) for m in {self.constant(tuple(members))}): return False")
        for keyword, kind, test in (
            ("minLength", "string", "len({v}) < {n}"),
            ("minItems", "array", "len({v}) < {n}"),
            ("minimum", "number", "{v} < {n}"),
            ("maximum", "number", "{v} > {n}"),
        ):
            if keyword in schema:
                head, inner = guard(kind)
                lines += [*head, f"{inner}if {test.format(v=v, n=self.literal(schema[keyword]))}: return False"]
        if "pattern" in schema:
            pattern = self.constant(re.compile(schema["pattern"]))
            head, inner = guard("string")
            lines += [*head, f"{inner}if {pattern}.search({v}) is None: return False"]
        if schema.get("required"):
            head, inner = guard("object")
            missing = " or ".join(f"{key!r} not in {v}" for key in schema["required"])
            lines += [*head, f"{inner}if {missing}: return False"]
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties", True)
        if properties or additional is not True:
            head, inner = guard("object")
            body: list[str] = []
            level = len(inner) // 4
            for key, subschema in properties.items():
                value = self.fresh("v")
                sub_lines = self.node(subschema, value, level + 1, loops)
                if sub_lines:
                    body.append(f"{inner}{value} = {v}.get({key!r}, _MISSING)")
                    body.append(f"{inner}if {value} is not _MISSING:")
                    body += sub_lines
            if additional is not True:
                names = self.constant(frozenset(properties))
                key_var, value = self.fresh("k"), self.fresh("v")
                sub_lines = self.looped(additional, value, level + 2, loops)
                if sub_lines:
                    body.append(f"{inner}for {key_var}, {value} in {v}.items():")
                    body.append(f"{inner}    if {key_var} not in {names}:")
                    body += sub_lines
            if body:
                lines += head + body
        if "items" in schema:
            if isinstance(schema["items"], list):
                raise SchemaCompileError("items as a list (draft 4-2019) is not 2020-12")
            head, inner = guard("array")
            level = len(inner) // 4
            item = self.fresh("v")
            sub_lines = self.looped(schema["items"], item, level + 1, loops)
            if sub_lines:
                lines += [*head, f"{inner}for {item} in {v}:", *sub_lines]
        for subschema in schema.get("allOf", ()):
            lines += self.node(subschema, v, depth, loops, known)
        if "anyOf" in schema:
            names = [self.function(subschema) for subschema in schema["anyOf"]]
            lines.append(f"{pad}if not ({' or '.join(f'{n}({v})' for n in names)}): return False")
        if "not" in schema:
            if not self.node(schema["not"], v, depth, loops, known):  # `not: {}`: the key must be absent
                lines.append(f"{pad}return False")
            else:
                lines.append(f"{pad}if {self.function(schema['not'])}({v}): return False")
        if "if" in schema:
            test = self.function(schema["if"])
            then = self.function(schema.get("then", True))
            otherwise = self.function(schema.get("else", True))
            lines.append(f"{pad}if not ({then}({v}) if {test}({v}) else {otherwise}({v})): return False")
        return lines

    def looped(self, schema: Any, item: str, depth: int, loops: int) -> list[str]:
        """Lines checking `item` inside one more loop: inlined, or a call when loops nest too deep."""
        if loops + 1 < _MAX_LOOPS:
            return self.node(schema, item, depth, loops + 1)
        return [f"{'    ' * depth}if not {self.function(schema)}({item}): return False"]


def compile_schema(schema: Any) -> Callable[[Any], bool]:
    """A function answering whether an instance is valid under `schema`, as
    jsonschema's Draft202012Validator.is_valid would (for the keywords in
    `_KEYWORDS`; any other keyword raises SchemaCompileError)."""
    compiler = _Compiler()
    entry = compiler.function(schema)
    source = "\n\n".join(compiler.functions)
    namespace: dict[str, Any] = {"_MISSING": object(), "_equal": json_equal, **compiler.constants}
    exec(compile(source, "<compiled schema>", "exec"), namespace)
    function: Callable[[Any], bool] = namespace[entry]
    function.source = source  # type: ignore[attr-defined] - for debugging a verdict
    return function


@cache
def is_valid(name: str) -> Callable[[Any], bool]:
    """The compiled verdict of schema `name`."""
    return compile_schema(load_schema(name))


# ---------------------------------------------------------------- detailed errors


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


def _detailed(
    name: str, instance: Any, document: str, base: JsonPath, report_as: str | None
) -> Iterator[tuple[str, Violation]]:
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


def schema_violations(
    name: str, instance: Any, document: str, base: JsonPath = (), report_as: str | None = None
) -> Iterator[tuple[str, Violation]]:
    """Validate `instance` (found at `base` in INPUT or OUTPUT) against schema
    `name`; yield (rule ID, violation) for each error, one per rule and path."""
    if is_valid(name)(instance):
        return iter(())
    return _detailed(name, instance, document, base, report_as)


# Documents kept by their text: a few hundred distinct configurations and
# results cover a node; longer texts are not kept (a hostile megabyte body).

_DOCUMENTS = TextMemo(1024)


def document_violations(name: str, text: str, instance: Any, document: str) -> SchemaViolations:
    """schema_violations of a whole INPUT or OUTPUT (`instance` decoded from
    `text`), kept by the text."""
    if len(text) > MEMO_MAX_TEXT:
        return tuple(schema_violations(name, instance, document))
    key = (name, document, text)
    found = _DOCUMENTS.get(key)
    if found is None:
        found = _DOCUMENTS.put(key, tuple(schema_violations(name, instance, document)))
    return found  # type: ignore[no-any-return]
