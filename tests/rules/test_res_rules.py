"""RES rules, IPAM003 and CONF022: one failing and one passing case each, from real records."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from rulekit import REMOVE, find, findings, real, set_key, with_env, with_input, with_output

from cnilint.engine import Engine
from cnilint.options import Options
from cnilint.rules import checked_rule_ids
from cnilint.rules.schema import load_schema, owned_rules

ADD_100 = real("02b-bridge-1.0.0", "bridge", 0)  # bridge ADD, 1.0.0: interfaces cni0, veth, eth0
ADD_040 = real("02a-bridge-0.4.0", "bridge", 0)
ADD_031 = real("01-classic-0.3.1", "bridge", 0)
ADD_020 = real("02c-bridge-0.2.0", "bridge", 0)  # ip4/ip6 shape
IPAM_031 = real("01-classic-0.3.1", "host-local", 0)  # delegated by bridge
IPAM_100 = real("02b-bridge-1.0.0", "host-local", 0)
STATIC_100 = real("04-ptp-macvlan", "static", 0)  # delegated, with dns and a route gw
LOOPBACK_031 = real("05-loopback", "loopback", 0)  # real 0.3.1 result without ips[].version
TUNING_100 = real("03a-chain-1.0.0", "tuning", 0)  # ADD with prevResult, 1.0.0
CHECK_040 = find("02a-bridge-0.4.0", "bridge", lambda r: r.command == "CHECK")  # prevResult, 0.4.0


def edit(*changes: tuple[tuple[str | int, ...], Any]):
    """An edit applying several set_key changes in turn."""

    def apply(document: Any) -> Any:
        for path, value in changes:
            document = set_key(path, value)(document)
        return document

    return apply


def as_version(record, version: str):
    """The record with INPUT and OUTPUT both speaking `version`."""
    record = with_input(record, set_key(("cniVersion",), version))
    return with_output(record, set_key(("cniVersion",), version))


ADD_110 = as_version(ADD_100, "1.1.0")


def appended(key: str, entry: Any):
    def apply(document: dict) -> dict:
        document[key].append(entry)
        return document

    return apply


CASES = [
    # rule, failing record, passing record
    ("RES001", with_output(ADD_100, raw=""), ADD_100),
    ("RES002", with_output(ADD_100, set_key(("cniVersion",), REMOVE)), ADD_100),
    ("RES003", with_output(ADD_031, set_key(("cniVersion",), "1.0.0")), ADD_031),
    ("RES004", with_output(ADD_040, set_key(("ip4",), {"ip": "10.85.0.2/16"})), ADD_040),
    ("RES005", with_output(ADD_100, set_key(("ip",), [{"address": "10.85.0.2/16"}])), ADD_100),
    ("RES006", with_output(ADD_100, set_key(("interfaces", 0, "name"), REMOVE)), ADD_100),
    ("RES007", with_output(ADD_100, set_key(("interfaces", 2, "mac"), "99:88:77:66:55")), ADD_100),
    ("RES008", with_output(ADD_100, set_key(("interfaces", 2, "sandbox"), "/proc/1234/ns/net")), ADD_100),
    ("RES009", with_output(ADD_100, set_key(("interfaces", 2, "name"), "veth1")), ADD_100),
    (
        "RES010",
        with_output(ADD_110, set_key(("interfaces", 2, "socketPath"), "vhost.sock")),
        with_output(ADD_110, edit((("interfaces", 2, "mtu"), 1500), (("interfaces", 2, "socketPath"), "/run/v.sock"))),
    ),
    ("RES011", with_output(ADD_040, set_key(("interfaces", 2, "mtu"), 9000)), ADD_040),
    ("RES012", with_output(ADD_100, lambda out: appended("interfaces", dict(out["interfaces"][2]))(out)), ADD_100),
    ("RES013", with_output(ADD_100, set_key(("ips", 0, "address"), "10.85.0.2")), ADD_100),
    ("RES014", with_output(ADD_100, set_key(("ips", 0, "gateway"), "10.85.0.1/16")), ADD_100),
    ("RES015", with_output(ADD_031, set_key(("ips", 0, "version"), "6")), ADD_031),
    ("RES016", with_output(ADD_100, set_key(("ips", 0, "version"), "4")), ADD_100),
    ("RES017", with_output(ADD_100, set_key(("ips", 0, "gateway"), "fd00:85::1")), ADD_100),
    ("RES018", with_output(ADD_100, set_key(("ips", 0, "interface"), 3)), ADD_100),
    ("RES019", with_output(ADD_100, set_key(("ips", 0, "interface"), REMOVE)), ADD_100),
    ("RES020", with_output(ADD_100, set_key(("ips", 0, "interface"), 0)), ADD_100),
    ("RES021", with_output(ADD_100, set_key(("ips", 1, "address"), "10.85.0.2/24")), ADD_100),
    ("RES022", with_output(ADD_100, set_key(("routes", 0, "dst"), "0.0.0.0")), ADD_100),
    ("RES023", with_output(ADD_100, set_key(("routes", 0, "gw"), "gateway")), ADD_100),
    ("RES024", with_output(ADD_040, set_key(("routes", 0, "gw"), "fe80::1")), ADD_040),
    (
        "RES025",
        with_output(ADD_110, edit((("routes", 0, "priority"), -1), (("routes", 0, "scope"), "link"))),
        with_output(ADD_110, edit((("routes", 0, "table"), 100), (("routes", 0, "scope"), 253))),
    ),
    ("RES026", with_output(ADD_100, set_key(("routes", 0, "dst"), "10.1.2.3/16")), ADD_100),
    (
        "RES027",
        with_output(ADD_100, set_key(("dns",), {"nameservers": ["dns.example.com"], "search": "svc.local"})),
        with_output(ADD_100, set_key(("dns",), {"nameservers": ["10.85.0.1", "fd00::53"], "search": ["svc"]})),
    ),
    ("RES028", with_output(ADD_020, edit((("ip4",), REMOVE), (("ip6",), REMOVE))), ADD_020),
    ("RES029", with_output(ADD_020, set_key(("ip4", "ip"), "fd00::5/64")), ADD_020),
    ("RES030", with_output(ADD_020, set_key(("ip4", "gateway"), "10.85.0.1/16")), ADD_020),
    ("RES031", with_output(ADD_020, set_key(("ip4", "routes", 0, "dst"), "::/0")), ADD_020),
]


@pytest.mark.parametrize(("rule_id", "failing", "passing"), CASES, ids=[case[0] for case in CASES])
def test_res_rule_fails_and_passes(rule_id: str, failing, passing) -> None:
    found = findings(failing, rule_id)
    assert found, f"{rule_id} should fire"
    assert all(f.document == "output" and f.message for f in found)
    assert findings(passing, rule_id) == []


def test_every_res_rule_has_a_case() -> None:
    assert {case[0] for case in CASES} == {f"RES{n:03d}" for n in range(1, 32)}
    assert {f"RES{n:03d}" for n in range(1, 32)} | {"IPAM003", "CONF022"} <= checked_rule_ids()


# The other half of rules split between the schema (structure) and Python
# (syntax, families, ranges): each half must fire on its own.
SECOND_HALF = [
    ("RES006", with_output(ADD_100, set_key(("interfaces",), {"name": "eth0"})), "$.interfaces"),
    ("RES010", with_output(ADD_110, set_key(("interfaces", 2, "mtu"), 1500.0)), "$.interfaces[2].mtu"),
    ("RES013", with_output(ADD_100, set_key(("ips", 0, "address"), REMOVE)), "$.ips[0]"),
    ("RES014", with_output(ADD_100, set_key(("ips", 0, "gateway"), 167837697)), "$.ips[0].gateway"),
    ("RES015", with_output(ADD_040, set_key(("ips", 0, "version"), 4)), "$.ips[0].version"),
    ("RES018", with_output(ADD_100, set_key(("ips", 0, "interface"), -1)), "$.ips[0].interface"),
    ("RES022", with_output(ADD_100, set_key(("routes", 0), "0.0.0.0/0")), "$.routes[0]"),
    ("RES023", with_output(ADD_100, set_key(("routes", 0, "gw"), ["10.85.0.1"])), "$.routes[0].gw"),
    ("RES025", with_output(ADD_110, set_key(("routes", 0, "mtu"), 1e3)), "$.routes[0].mtu"),
    ("RES027", with_output(ADD_100, set_key(("dns",), ["10.85.0.1"])), "$.dns"),
    ("RES027", with_output(ADD_100, set_key(("dns",), {"nameservers": ["ns1.example"]})), "$.dns.nameservers[0]"),
    ("RES029", with_output(ADD_020, set_key(("ip4", "ip"), REMOVE)), "$.ip4"),
    ("RES030", with_output(ADD_020, set_key(("ip6", "gateway"), "10.85.0.1")), "$.ip6.gateway"),
    ("RES030", with_output(ADD_020, set_key(("ip4", "gateway"), 5)), "$.ip4.gateway"),
    ("RES031", with_output(ADD_020, set_key(("ip4", "routes", 0), {"gw": "10.85.0.1"})), "$.ip4.routes[0]"),
]


@pytest.mark.parametrize(("rule_id", "failing", "path"), SECOND_HALF, ids=[case[2] for case in SECOND_HALF])
def test_split_rule_fires_on_its_other_half(rule_id: str, failing, path: str) -> None:
    assert path in {f.path for f in findings(failing, rule_id)}


# ----------------------------------------------------------------- details of single rules


@pytest.mark.parametrize("raw", ["", "\n", "done", '["10.1.0.5/16"]', '"ok"'])
def test_res001_wants_one_json_object(raw: str) -> None:
    (finding,) = findings(with_output(ADD_100, raw=raw), "RES001")
    assert finding.path == "$"


def test_res001_leaves_error_objects_to_err_rules() -> None:
    failed = with_output(ADD_100, {"code": 7, "msg": "bad config"})
    assert findings(failed, "RES001") == []


def test_res002_lets_a_010_result_omit_cniversion() -> None:
    old = with_input(ADD_020, set_key(("cniVersion",), "0.1.0"))
    old = with_output(old, set_key(("cniVersion",), REMOVE))
    assert findings(old, "RES002") == []
    assert findings(with_output(ADD_100, set_key(("cniVersion",), "")), "RES002")


def test_res003_compares_with_0_1_0_when_input_has_no_cniversion() -> None:
    record = with_input(ADD_020, set_key(("cniVersion",), REMOVE))
    (finding,) = findings(record, "RES003")
    assert '"0.2.0"' in finding.message and '"0.1.0"' in finding.message
    assert findings(with_output(record, set_key(("cniVersion",), "0.1.0")), "RES003") == []


def test_res003_severity_follows_the_version() -> None:
    (old,) = findings(with_output(ADD_031, set_key(("cniVersion",), "1.0.0")), "RES003")
    (new,) = findings(with_output(ADD_100, set_key(("cniVersion",), "0.4.0")), "RES003")
    assert (old.severity, new.severity) == ("warning", "error")


def test_res004_in_a_020_result() -> None:
    record = with_output(ADD_020, set_key(("ips",), []))
    (finding,) = findings(record, "RES004")
    assert finding.path == "$.ips"
    assert findings(record, "RES005") == []  # the other family's keys are RES004's only


def test_res015_fires_on_the_real_loopback_result() -> None:
    # loopback 1.1.1 prints its 1.0.0-typed result labelled 0.3.1, without ips[].version.
    found = findings(LOOPBACK_031, "RES015")
    assert [f.path for f in found] == ["$.ips[0]", "$.ips[1]"]
    assert all("version" in f.message for f in found)


def test_res015_checks_the_gateway_too() -> None:
    record = with_output(ADD_040, set_key(("ips", 0, "gateway"), "fd00:85::1"))
    (finding,) = findings(record, "RES015")
    assert finding.path == "$.ips[0].gateway"


def test_res018_refuses_a_whole_float_and_an_index_without_interfaces() -> None:
    assert findings(with_output(ADD_100, set_key(("ips", 0, "interface"), 2.0)), "RES018")
    no_interfaces = with_output(ADD_100, set_key(("interfaces",), REMOVE))
    assert len(findings(no_interfaces, "RES018")) == 2
    assert findings(no_interfaces, "RES019") == []  # nothing to point at


def test_res011_is_not_reported_at_1_1_0() -> None:
    assert findings(with_output(ADD_110, set_key(("interfaces", 2, "mtu"), 9000)), "RES011") == []


def test_res024_is_a_warning_from_1_0_0() -> None:
    (finding,) = findings(with_output(ADD_100, set_key(("routes", 0, "gw"), "fe80::1")), "RES024")
    assert finding.severity == "warning"


def test_res026_covers_ip4_routes() -> None:
    record = with_output(ADD_020, set_key(("ip4", "routes", 0, "dst"), "10.1.2.3/16"))
    (finding,) = findings(record, "RES026")
    assert finding.path == "$.ip4.routes[0].dst" and "10.1.0.0/16" in finding.message


def test_finding_points_at_the_offending_line() -> None:
    failing = with_output(ADD_100, set_key(("ips", 0, "address"), "10.85.0.2"))
    (finding,) = findings(failing, "RES013")
    lines = json.dumps(failing.output.value, indent=4).split("\n")
    assert lines[finding.line - failing.output.line].strip() == '"address": "10.85.0.2",'
    assert finding.path == "$.ips[0].address" and '"10.85.0.2"' in finding.message


def test_real_clean_results_have_no_findings() -> None:
    engine = Engine(Options(select=("RES", "IPAM003", "CONF022"), profile="spec"))
    for record in (ADD_100, ADD_040, ADD_031, ADD_020, IPAM_031, IPAM_100, STATIC_100, TUNING_100, CHECK_040):
        result = engine.check_record(record)
        assert not result.errors and result.findings == [], record.file


def test_a_result_without_logged_input_is_not_judged_by_version() -> None:
    # stdin was a terminal: INPUT is not in the log, so the request's version is unknown.
    tty = real("10-tty", "bridge", 1)
    assert tty.input is None and tty.command == "ADD"
    engine = Engine(Options(select=("RES",), profile="spec"))
    assert engine.check_record(tty).findings == []
    assert findings(with_output(tty, raw="oops"), "RES001")


# ----------------------------------------------------------------- IPAM003: delegated IPAM results


def test_ipam003_delegated_results_are_reported_under_res_ids() -> None:
    failing = with_output(IPAM_031, set_key(("cniVersion",), "1.0.0"))  # the catalogue's example
    (finding,) = findings(failing, "RES003")
    assert finding.message.startswith("delegated IPAM result: ")
    assert findings(IPAM_031, "RES003") == []


@pytest.mark.parametrize(
    ("rule_id", "change"),
    [
        ("RES001", None),
        ("RES013", set_key(("ips", 0, "address"), "10.85.0.2")),
        ("RES015", set_key(("ips", 0, "version"), REMOVE)),
        ("RES022", set_key(("routes", 0, "dst"), "default")),
        ("RES027", set_key(("dns",), {"nameservers": "10.0.0.1"})),
    ],
)
def test_ipam003_subset_runs_on_delegated_results(rule_id: str, change) -> None:
    failing = with_output(IPAM_031, raw="") if change is None else with_output(IPAM_031, change)
    found = findings(failing, rule_id)
    assert found and all(f.message.startswith("delegated IPAM result: ") for f in found)


def test_ipam003_leaves_out_the_interface_rules() -> None:
    # interfaces and ips[].interface in a delegated result are IPAM001/IPAM002's.
    record = with_output(IPAM_100, set_key(("interfaces",), [{"mac": "zz"}]))
    record = with_output(record, set_key(("ips", 0, "interface"), 7))
    for rule_id in ("RES006", "RES007", "RES009", "RES018", "RES019", "RES020"):
        assert findings(record, rule_id) == [], rule_id
    assert findings(IPAM_100, "RES019") == []  # IPAM results carry no interface index
    assert findings(record, "IPAM003") == []  # findings carry the RES IDs


def test_ipam003_runs_the_020_rules_on_a_delegated_020_result() -> None:
    ipam_020 = real("02c-bridge-0.2.0", "host-local", 0)
    assert findings(ipam_020, "RES028") == []
    (finding,) = findings(with_output(ipam_020, set_key(("ip6", "ip"), "10.85.0.2/16")), "RES029")
    assert finding.message.startswith("delegated IPAM result: ")


# ----------------------------------------------------------------- CONF022: prevResult


def test_conf022_catalogue_example_020_shaped_prev_result() -> None:
    failing = with_input(CHECK_040, set_key(("prevResult",), {"cniVersion": "0.4.0", "ip4": {"ip": "10.1.0.3/16"}}))
    found = findings(failing, "CONF022")
    assert found and all(f.document == "input" for f in found)
    assert "$.prevResult.ip4" in {f.path for f in found}
    assert findings(CHECK_040, "CONF022") == []


@pytest.mark.parametrize(
    ("record", "change", "path"),
    [
        (TUNING_100, set_key(("prevResult", "ips", 0, "interface"), 5), "$.prevResult.ips[0].interface"),
        (TUNING_100, set_key(("prevResult", "ips", 0, "address"), "10.85.0.2"), "$.prevResult.ips[0].address"),
        (TUNING_100, set_key(("prevResult", "interfaces", 0, "name"), ""), "$.prevResult.interfaces[0].name"),
        (CHECK_040, set_key(("prevResult", "ips", 0, "version"), REMOVE), "$.prevResult.ips[0]"),
        (CHECK_040, set_key(("prevResult", "routes", 0, "gw"), "fe80::1"), "$.prevResult.routes[0].gw"),
        (TUNING_100, set_key(("prevResult",), ["not", "a", "result"]), "$.prevResult"),
    ],
)
def test_conf022_reuses_the_structural_result_rules(record, change, path: str) -> None:
    found = findings(with_input(record, change), "CONF022")
    assert path in {f.path for f in found}, [f.message for f in found]
    assert all(f.severity == "error" for f in found)


def test_conf022_names_the_broken_res_rule() -> None:
    failing = with_input(TUNING_100, set_key(("prevResult", "ips", 0, "interface"), 5))
    (finding,) = findings(failing, "CONF022")
    assert "RES018" in finding.message and finding.message.startswith("$.prevResult.ips[0].interface 5")


def test_conf022_does_not_escalate_advisories() -> None:
    # A stray 1.x ips[].version (RES016, warning), a gw of the other family at 1.x
    # (RES024, warning there), unknown keys (RES005, info): not CONF022 errors.
    record = with_input(TUNING_100, set_key(("prevResult", "ips", 0, "version"), "4"))
    record = with_input(record, set_key(("prevResult", "routes", 0, "gw"), "fe80::1"))
    record = with_input(record, set_key(("prevResult", "extra"), True))
    assert findings(record, "CONF022") == []


def test_conf022_ignores_a_null_prev_result_and_old_versions() -> None:
    assert findings(with_input(TUNING_100, set_key(("prevResult",), None)), "CONF022") == []
    old = with_input(TUNING_100, edit((("cniVersion",), "0.2.0"), (("prevResult",), {"ip4": 5})))
    assert findings(old, "CONF022") == []  # prevResult is not defined before 0.3.0 (CONF026)


def test_conf022_runs_on_del() -> None:
    delete = find("03a-chain-1.0.0", "tuning", lambda r: r.command == "DEL")
    assert findings(delete, "CONF022") == []
    assert findings(with_input(delete, set_key(("prevResult", "routes", 0, "dst"), "0/0")), "CONF022")


# ----------------------------------------------------------------- schemas

SCHEMAS = {
    "result-0.2.json": ADD_020,
    "result-0.4.json": ADD_040,
    "result-1.0.json": ADD_100,
    "result-1.1.json": ADD_110,
}


@pytest.mark.parametrize(("name", "record"), SCHEMAS.items(), ids=list(SCHEMAS))
def test_result_schema_is_valid_and_accepts_a_real_result(name: str, record) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert list(validator.iter_errors(record.output.value)) == []
    broken = copy.deepcopy(record.output.value)
    if name == "result-0.2.json":
        broken["ip4"]["ip"] = 10
    else:
        broken["ips"][0]["address"] = 10
    assert list(validator.iter_errors(broken))
    assert owned_rules(name) <= {f"RES{n:03d}" for n in range(1, 32)}


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in _keys(value)}
    if isinstance(node, list):
        return {key for value in node for key in _keys(value)}
    return set()


def test_schemas_have_no_refs() -> None:
    # schema.py finds an error's rule by walking its schema path, and jsonschema
    # leaves "$ref" steps out of that path: every subschema is inlined.
    for name in SCHEMAS:
        assert "$ref" not in _keys(load_schema(name)), name


def test_env_changes_only_touch_env_rules() -> None:
    # RES008/RES009 read CNI_NETNS and CNI_IFNAME; an absent variable is the ENV rules' business.
    assert findings(with_env(ADD_100, CNI_NETNS=""), "RES008") == []
    assert findings(with_env(ADD_100, CNI_IFNAME=""), "RES009") == []
    assert findings(with_env(ADD_100, CNI_IFNAME="net1"), "RES009")
