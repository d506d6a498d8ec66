"""The single-record engine's shortcuts never change a finding.

The engine calls a check only on records that meet the conditions it `needs`,
reuses the violations of `input_only` checks for every record with the same
INPUT text, command and plugin, finds log lines and fingerprints by text, and
keeps what it worked out from documents' text (never from a record). Each test
holds one shortcut to the plain definition, on every record of the fixture
logs and on records put together from their parts.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnilint
from cnilint.engine import Engine, _line_of, clear_caches
from cnilint.facts import Facts
from cnilint.findings import fingerprint
from cnilint.options import Options
from cnilint.parse import Body, Record
from cnilint.parse.jsonpos import value_positions
from cnilint.parse.records import Variables
from cnilint.rules import CHECKS, load_all

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOT_LOGS = {".json", ".md", ".html", ".csv", ".sarif", ".xml", ".png", ".txt", ".toml", ".jsonl", ".sh", ".py"}


@cache
def fixture_records() -> tuple[Record, ...]:
    records = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.suffix not in NOT_LOGS and not path.name.startswith("."):
            records.extend(cnilint.parse(path))
    return tuple(records)


# Outputs no capture holds: JSON that is no object, error objects a schema or a rule refuses.
MADE_UP_OUTPUTS = (
    '["10.1.0.2/24"]',
    '"done"',
    '{"code": 7.0, "msg": ""}',
    '{"code": 50, "msg": "not ready"}',
    '{"ips": []}',
)


def _outputs() -> list[object]:
    """One OUTPUT of each kind the logs hold (none, empty, not JSON, an error,
    a result, a VERSION reply), and the made-up ones."""
    kinds: dict[str, object] = {"none": None}
    for record in fixture_records():
        body = record.output
        if body is None:
            continue
        if body.empty:
            kind = "empty"
        elif not body.is_json:
            kind = "not json"
        elif not isinstance(body.value, dict):
            kind = "not an object"
        else:
            kind = "error" if "code" in body.value else "version" if "supportedVersions" in body.value else "result"
        kinds.setdefault(kind, body)
    return [*kinds.values(), *(Body.decode(text, 1) for text in MADE_UP_OUTPUTS)]


def _with_command(pairs: tuple[tuple[str, str], ...], command: str | None) -> Variables:
    kept = tuple(pair for pair in pairs if pair[0] != "CNI_COMMAND")
    return Variables(kept + ((("CNI_COMMAND", command),) if command is not None else ()))


def test_the_fixture_logs_hold_every_kind_of_output() -> None:
    assert len(fixture_records()) > 300
    assert len(_outputs()) == 6 + len(MADE_UP_OUTPUTS)


def test_a_check_never_reports_on_a_record_without_the_conditions_it_needs() -> None:
    load_all()
    guarded = [check for check in CHECKS if check.needs]
    assert len(guarded) > 40
    records = list(fixture_records())
    # Every record again with each kind of OUTPUT: DEL with a result, ADD with an error...
    records += [replace(record, output=output) for record in fixture_records() for output in _outputs()]
    skipped = 0
    for record in records:
        facts = Facts(record)
        for check in guarded:
            if check.needs & facts.conditions != check.needs:
                skipped += 1
                assert list(check.run(facts)) == [], (check.name, record.file, record.line)
    assert skipped > 10_000


def _violations(check_run: object, facts: Facts) -> list[tuple[str, object]]:
    return list(check_run(facts))  # type: ignore[operator]


def test_input_only_checks_report_the_same_whatever_else_the_record_holds() -> None:
    load_all()
    input_only = [check for check in CHECKS if check.input_only]
    assert len(input_only) > 20
    records = fixture_records()
    compared = 0
    for position, record in enumerate(records):
        other = records[(position * 7 + 3) % len(records)]
        command = record.command
        # Same INPUT text, command and plugin; another environment, OUTPUT and place.
        twin = replace(
            record,
            file="elsewhere/" + record.file,
            index=record.index + 1000,
            line=record.line + 5000,
            env=_with_command(other.env.pairs, command),
            params=_with_command(other.params.pairs, command),
            output=other.output,
        )
        first, second = Facts(record), Facts(twin)
        for check in input_only:
            if check.needs & first.conditions == check.needs:
                assert second.conditions & check.needs == check.needs, check.name
                assert _violations(check.run, first) == _violations(check.run, second), (check.name, record.line)
                compared += 1
    assert compared > 3000


def test_checks_that_ignore_prev_result_report_the_same_whatever_it_holds() -> None:
    load_all()
    config_only = [check for check in CHECKS if check.input_only and not check.reads_prev_result]
    assert len(config_only) > 10
    records = [r for r in fixture_records() if Facts(r).prev_result_span is not None]
    assert len(records) > 20
    other_results = [r.input.raw[slice(*Facts(r).prev_result_span)] for r in records[::5]]  # type: ignore[union-attr, misc]
    compared = 0
    for position, record in enumerate(records):
        start, end = Facts(record).prev_result_span  # type: ignore[misc]
        raw = record.input.raw  # type: ignore[union-attr]
        for other in (other_results[position % len(other_results)], '{"cniVersion": "9.9.9", "ips": 7}', "[]"):
            twin = replace(record, input=Body.decode(raw[:start] + other + raw[end:], record.input.line))  # type: ignore[union-attr]
            first, second = Facts(record), Facts(twin)
            assert first.input_without_prev_result == second.input_without_prev_result
            for check in config_only:
                if check.needs & first.conditions == check.needs:
                    assert _violations(check.run, first) == _violations(check.run, second), (check.name, record.line)
                    compared += 1
    assert compared > 1000


def _findings(engine: Engine, records: list[Record]) -> dict[tuple[str, int], list[dict[str, object]]]:
    return {(r.file, r.index): [f.to_dict() for f in engine.check_record(r).findings] for r in records}


@pytest.mark.parametrize("options", [Options(), Options(profile="spec", severity="warning")], ids=["default", "spec"])
def test_findings_do_not_depend_on_what_earlier_records_left_kept(options: Options) -> None:
    records = list(fixture_records())
    clear_caches()
    cold = _findings(Engine(options), records)
    engine = Engine(options)
    _findings(engine, records)
    warm = _findings(engine, records)  # every document already seen
    backwards = _findings(Engine(options), records[::-1])
    assert cold == warm == backwards
    assert sum(len(found) for found in cold.values()) > 80


def test_the_line_of_a_json_path_is_the_parsers() -> None:
    compared = 0
    for record in fixture_records():
        for body in (record.input, record.output):
            if body is None or body.empty:
                continue
            paths = list(value_positions(body.raw))
            # Paths that are not there point at their nearest ancestor.
            paths += [(*path, "missing") for path in paths] + [(*path, 0) for path in paths]
            paths += [(*path, 99) for path in paths] + [("missing",), (0,), ()]
            for path in paths:
                assert _line_of(body, path) == body.line_of(path), (record.file, body.line, path)
                compared += 1
    assert compared > 20_000


def _first_fingerprint(
    rule: str, path: str, plugin: str | None, command: str | None, config: object, version: str
) -> str:
    """The fingerprint as first defined: one json.dumps of everything."""
    volatile = {"prevResult", "runtimeConfig", "args", "cni.dev/valid-attachments", "cni.dev/attachments"}
    stable = {k: v for k, v in config.items() if k not in volatile} if isinstance(config, dict) else None
    text = json.dumps([rule, path, plugin, command, version, stable], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def test_fingerprints_are_those_of_the_first_definition() -> None:
    for record in fixture_records():
        facts = Facts(record)
        for rule, path in (("CONF013", "$.capabilities"), ("ENV010", "CNI_IFNAME"), ("RES001", "")):
            arguments = (rule, path, record.plugin, record.command, facts.config, facts.version_label)
            assert fingerprint(*arguments) == _first_fingerprint(*arguments)
    engine = Engine()
    for record in fixture_records():
        for finding in engine.check_record(record).findings:
            expected = _first_fingerprint(
                finding.rule, finding.path, record.plugin, record.command, Facts(record).config, finding.version
            )
            assert finding.fingerprint == expected


# ---------------------------------------------------------------- the ENV fast path

ENGINE = Engine()
ENV_VALUES = {
    "CNI_COMMAND": st.sampled_from(["ADD", "CHECK", "DEL", "GC", "STATUS", "VERSION", "FOO", "add", ""]),
    "CNI_CONTAINERID": st.sampled_from(["abc123", "a" * 64, "_abc", "a/b", "ab c", "é1", ""]) | st.text(max_size=8),
    "CNI_NETNS": st.sampled_from(["/var/run/netns/x", "netns-1", "", "/"]) | st.text(max_size=8),
    "CNI_IFNAME": st.sampled_from(["eth0", ".", "..", "eth 0", "a:b", "a/b", "x" * 15, "x" * 16, "é" * 8, ""])
    | st.text(max_size=17),
    "CNI_PATH": st.sampled_from(["/opt/cni/bin", ""]),
    "CNI_ARGS": st.lists(
        st.sampled_from(["K8S_POD_NAME=web", "IgnoreUnknown=1", "IP=10.0.0.300", "IP=10.1.0.2/24", "a-b=1", "x", "",
                         "k=v=w", "=v", "K8S_POD_NAME=again"]) | st.text(max_size=6),
        max_size=4,
    ).map(";".join),
}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_an_environment_judged_ordinary_breaks_no_env_rule(data: st.DataObject) -> None:
    from cnilint.rules.env import _ENV_RULES, _ordinary

    record = data.draw(st.sampled_from(fixture_records()))
    changes = data.draw(st.dictionaries(st.sampled_from(sorted(ENV_VALUES)), st.just(None), max_size=4))
    env = dict(record.env.pairs)
    for name in changes:
        value = data.draw(ENV_VALUES[name] | st.just(None), label=name)
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    facts = Facts(replace(record, env=Variables(tuple(env.items())), params=Variables(())))
    if _ordinary(facts):
        for rule_id, function in _ENV_RULES:
            # The rules that run on the record (ENV018 is GC's and STATUS's only).
            if ENGINE.rule_applies(rule_id, facts):
                assert list(function(facts)) == [], rule_id


def test_most_captured_environments_are_ordinary() -> None:
    from cnilint.rules.env import _ordinary

    records = fixture_records()
    assert sum(_ordinary(Facts(record)) for record in records) > len(records) // 2


# ---------------------------------------------------------------- the result fast path


@cache
def fixture_results() -> tuple[dict[str, object], ...]:
    """Every result object of the fixture logs: ADD OUTPUTs and INPUT prevResults."""
    found = []
    for record in fixture_records():
        facts = Facts(record)
        if isinstance(facts.result, dict) and "code" not in facts.result and "supportedVersions" not in facts.result:
            found.append(facts.result)
        previous = facts.config.get("prevResult") if facts.config else None
        if isinstance(previous, dict):
            found.append(previous)
    return tuple(found)


RESULT_EDGES = st.sampled_from(
    ["10.1.0.2/24", "10.1.0.2", "fd00::2/64", "fd00::1", "10.1.0.0/24", "10.1.0.1/24", "1.0.0", "0.4.0", "4", "6",
     "eth0", "cni0", "/var/run/netns/x", "", "0a:58:0a:01:00:02", "zz", 0, 1, 2, 5, -1, 1.0, True, None, {}, []]
)  # fmt: skip
RESULT_KEYS = ["cniVersion", "interfaces", "ips", "routes", "dns", "ip4", "name", "mac", "sandbox", "mtu", "address",
               "gateway", "interface", "version", "dst", "gw", "scope", "nameservers", "other"]  # fmt: skip


@st.composite
def mutated_results(draw: st.DrawFn) -> dict[str, object]:
    result = copy.deepcopy(draw(st.sampled_from(fixture_results())))
    for _ in range(draw(st.integers(0, 3))):
        containers = [v for v in _walk(result) if isinstance(v, (dict, list))]
        target = draw(st.sampled_from(containers))
        if isinstance(target, dict):
            key = draw(st.sampled_from(sorted(target) + RESULT_KEYS))
            if draw(st.booleans()) and key in target:
                del target[key]
            else:
                target[key] = copy.deepcopy(draw(RESULT_EDGES))
        elif target:
            index = draw(st.integers(0, len(target) - 1))
            if draw(st.booleans()):
                target.append(copy.deepcopy(target[index]))  # a duplicate entry
            else:
                target[index] = copy.deepcopy(draw(RESULT_EDGES))
    return result


def _walk(node: object) -> list[object]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def _assert_ordinary_means_clean(result: dict[str, object], version: object, expected: object, delegated: bool,
                                 ifname: str, netns: str) -> None:  # fmt: skip
    from cnilint.rules.res import RESULT_RULES, ResultView, _ordinary_result, _plan

    view = ResultView(result, version, expected_version=expected, delegated=delegated, ifname=ifname, netns=netns)  # type: ignore[arg-type]
    if _ordinary_result(view):
        for rule_id, check in _plan(RESULT_RULES, version)[1]:
            assert list(check(view)) == [], (rule_id, result)


VERSIONS = [(0, 2, 0), (0, 3, 1), (0, 4, 0), (1, 0, 0), (1, 1, 0), None]


def test_a_captured_result_judged_ordinary_breaks_no_result_check() -> None:
    for result in fixture_results():
        sandboxes = [v for v in _walk(result) if isinstance(v, str) and v[:1] == "/"]
        for version in VERSIONS:
            for expected in (result.get("cniVersion"), "1.0.0", None):
                for netns in ("", "/var/run/netns/x", *sandboxes[:1]):
                    for ifname, delegated in (("eth0", False), ("", True), ("net1", False)):
                        _assert_ordinary_means_clean(result, version, expected, delegated, ifname, netns)


@settings(max_examples=500, deadline=None)
@given(mutated_results(), st.data())
def test_a_mutated_result_judged_ordinary_breaks_no_result_check(
    result: dict[str, object], data: st.DataObject
) -> None:
    sandboxes = [v for v in _walk(result) if isinstance(v, str) and v[:1] == "/"]
    _assert_ordinary_means_clean(
        result,
        data.draw(st.sampled_from(VERSIONS)),
        data.draw(st.sampled_from([result.get("cniVersion"), "1.0.0", None])),
        data.draw(st.booleans()),
        data.draw(st.sampled_from(["eth0", "net1", ""])),
        data.draw(st.sampled_from(["", "/var/run/netns/x", *sandboxes])),
    )


def test_most_captured_results_are_ordinary() -> None:
    from cnilint.rules.res import ResultView, _ordinary_result

    modern = [r for r in fixture_results() if r.get("cniVersion") in ("0.3.1", "0.4.0", "1.0.0", "1.1.0")]
    ordinary = [
        r for r in modern if _ordinary_result(ResultView(value=r, version=(1, 0, 0), expected_version=r["cniVersion"]))
    ]
    assert len(ordinary) > len(modern) // 2 > 20
