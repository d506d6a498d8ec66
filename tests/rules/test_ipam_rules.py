"""IPAM rules: delegated IPAM results (host-local, static) from real records, edited as little as possible."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from rulekit import REMOVE, findings, real, set_key, with_env, with_input, with_output

from cnilint.rules.ipam import host_local_range_sets
from cnilint.rules.schema import load_schema, owned_rules

HL_100 = real("02b-bridge-1.0.0", "host-local", 0)  # 1.0.0, 10.85.0.2/16 + fd00:85::2/64, two routes
HL_040 = real("02a-bridge-0.4.0", "host-local", 0)  # 0.4.0 with ips[].version
HL_020 = real("02c-bridge-0.2.0", "host-local", 0)  # 0.2.0: ip4/ip6 blocks
HL_GATEWAY = real("04-ptp-macvlan", "host-local", 4)  # 1.0.0, range with an explicit gateway 10.87.0.1
HL_TINY = real("07-errors", "host-local", 2)  # 1.0.0, 10.99.0.0/30, no routes -> 10.99.0.2/30
HL_EXHAUSTED = real("07-errors", "host-local", 3)  # the same /30 exhausted: code 999
STATIC = real("04-ptp-macvlan", "static", 0)  # static IPAM under macvlan
TOP_LEVEL_ADD = real("02b-bridge-1.0.0", "bridge", 0)  # not delegated


def _edit_ip(index: int, key: str, value):
    return set_key(("ips", index, key), value)


CASES = [
    # rule, failing record, passing record
    ("IPAM001", with_output(HL_100, set_key(("interfaces",), [{"name": "eth0"}])), HL_100),
    ("IPAM002", with_output(HL_040, _edit_ip(0, "interface", 2)), HL_040),
    ("IPAM004", with_output(HL_100, {"cniVersion": "1.0.0", "dns": {}}), HL_100),
    ("IPAM004", with_output(HL_100, set_key(("ips",), [])), STATIC),
    ("IPAM005", with_output(HL_100, set_key(("ips",), HL_100.output.value["ips"][:1])), HL_100),
    ("IPAM006", with_output(HL_100, _edit_ip(0, "address", "10.85.0.1/16")), HL_100),
    ("IPAM006", with_output(HL_TINY, _edit_ip(0, "address", "10.99.0.3/30")), HL_TINY),
    ("IPAM006", with_output(HL_100, _edit_ip(0, "address", "10.85.0.9/24")), HL_GATEWAY),
    ("IPAM006", with_output(HL_100, _edit_ip(1, "gateway", "fd00:85::fe")), HL_100),
    ("IPAM006", with_output(HL_020, set_key(("ip4", "ip"), "10.86.0.2/16")), HL_020),
    ("IPAM007", with_env(HL_100, CNI_ARGS="IgnoreUnknown=1;IP=10.85.0.42"), with_env(HL_100, CNI_ARGS="IP=10.85.0.2")),
    ("IPAM008", with_output(HL_100, set_key(("routes",), [])), HL_100),
    ("IPAM008", with_output(HL_TINY, set_key(("routes",), [{"dst": "0.0.0.0/0"}])), HL_TINY),
    ("IPAM008", with_output(HL_020, set_key(("ip6", "routes"), [])), HL_020),
]


@pytest.mark.parametrize(("rule_id", "failing", "passing"), CASES, ids=[case[0] for case in CASES])
def test_ipam_rule_fails_and_passes(rule_id: str, failing, passing) -> None:
    found = findings(failing, rule_id)
    assert found, f"{rule_id} should fire"
    assert findings(passing, rule_id) == []


def test_ipam_rules_only_judge_successful_delegated_results() -> None:
    # A top-level plugin's result has interfaces; a failed host-local ADD is ERR's business.
    for rule_id in ("IPAM001", "IPAM004", "IPAM005", "IPAM006", "IPAM008"):
        assert findings(TOP_LEVEL_ADD, rule_id) == []
        assert findings(HL_EXHAUSTED, rule_id) == []


def test_ipam001_and_ipam002_severity_per_version() -> None:
    (old,) = findings(with_output(HL_040, set_key(("interfaces",), [{"name": "eth0"}])), "IPAM001")
    assert old.severity == "warning" and old.path == "$.interfaces"  # 0.4.0: "should"
    (new,) = findings(with_output(HL_100, _edit_ip(1, "interface", 0)), "IPAM002")
    assert new.severity == "error" and new.path == "$.ips[1].interface"


def test_host_local_rules_skip_other_ipam_plugins() -> None:
    # static is not host-local: its addresses come from runtimeConfig, not ranges.
    broken = with_output(STATIC, set_key(("ips",), []))
    for rule_id in ("IPAM005", "IPAM006", "IPAM007", "IPAM008"):
        assert findings(broken, rule_id) == []


def test_ipam005_counts_legacy_subnet_and_runtime_ranges() -> None:
    def legacy_and_runtime(config):
        config["ipam"]["subnet"] = "10.90.0.0/24"
        config["runtimeConfig"] = {"ipRanges": [[{"subnet": "10.91.0.0/24"}]]}
        return config

    config = legacy_and_runtime(HL_100.input.value.copy() | {"ipam": dict(HL_100.input.value["ipam"])})
    sets = host_local_range_sets(config)
    assert [str(s[0].subnet) for s in sets] == ["10.91.0.0/24", "10.90.0.0/24", "10.85.0.0/16", "fd00:85::/64"]
    (finding,) = findings(with_input(HL_100, legacy_and_runtime), "IPAM005")
    assert "2 address(es) for 4 range set(s)" in finding.message


def test_ipam006_defaults_and_explicit_bounds() -> None:
    # IPv4 default rangeEnd is broadcast - 1; IPv6 default rangeEnd is the last address.
    assert findings(with_output(HL_100, _edit_ip(0, "address", "10.85.255.254/16")), "IPAM006") == []
    assert findings(with_output(HL_100, _edit_ip(0, "address", "10.85.255.255/16")), "IPAM006")
    last_v6 = "fd00:85::ffff:ffff:ffff:ffff/64"
    assert findings(with_output(HL_100, _edit_ip(1, "address", last_v6)), "IPAM006") == []
    # An explicit rangeStart moves the lower bound.
    narrowed = with_input(HL_TINY, set_key(("ipam", "ranges", 0, 0, "rangeStart"), "10.99.0.2"))
    assert findings(narrowed, "IPAM006") == []
    too_low = with_input(HL_GATEWAY, set_key(("ipam", "ranges", 0, 0, "rangeStart"), "10.87.0.10"))
    (finding,) = findings(too_low, "IPAM006")
    assert "outside rangeStart-rangeEnd" in finding.message and finding.path == "$.ips[0].address"


def test_ipam006_gateway_must_be_the_range_gateway() -> None:
    missing = with_output(HL_GATEWAY, set_key(("ips", 0, "gateway"), REMOVE))
    (finding,) = findings(missing, "IPAM006")
    assert "10.87.0.1" in finding.message
    moved = with_input(HL_GATEWAY, set_key(("ipam", "ranges", 0, 0, "gateway"), "10.87.0.254"))
    (finding,) = findings(moved, "IPAM006")
    assert finding.path == "$.ips[0].gateway"


def test_ipam007_reads_args_and_runtime_config() -> None:
    wanted = with_input(HL_100, set_key(("args",), {"cni": {"ips": ["10.85.0.77"]}}))
    (finding,) = findings(wanted, "IPAM007")
    assert finding.document == "input" and finding.path == "$.args.cni.ips[0]"
    runtime = with_input(HL_100, set_key(("runtimeConfig",), {"ips": ["fd00:85::2/64", "10.85.0.2"]}))
    assert findings(runtime, "IPAM007") == []
    (finding,) = findings(with_env(HL_100, CNI_ARGS="IP=10.85.0.42"), "IPAM007")
    assert finding.path == "CNI_ARGS"


def test_ipam008_compares_dst_and_gw_as_a_set() -> None:
    reordered = with_output(HL_100, lambda out: out | {"routes": out["routes"][::-1]})
    assert findings(reordered, "IPAM008") == []
    with_gateway = with_output(HL_100, set_key(("routes", 0, "gw"), "10.85.0.1"))
    assert len(findings(with_gateway, "IPAM008")) == 2  # one extra route, one configured route missing


def test_ipam_result_schema() -> None:
    schema = load_schema("ipam-result.json")
    Draft202012Validator.check_schema(schema)
    assert owned_rules("ipam-result.json") == {"IPAM001", "IPAM002", "IPAM004"}
    validator = Draft202012Validator(schema)
    assert list(validator.iter_errors(HL_100.output.value)) == []
    broken = {"cniVersion": "1.0.0", "interfaces": [], "ips": [{"address": "10.1.0.5/16", "interface": 0}]}
    assert len(list(validator.iter_errors(broken))) == 2


def test_host_local_reads_its_config_like_go() -> None:
    # encoding/json matches keys case-insensitively; host-local refuses host bits and tiny subnets.
    assert [str(s[0].subnet) for s in host_local_range_sets({"IPAM": {"Ranges": [[{"SUBNET": "10.1.0.0/24"}]]}})] == [
        "10.1.0.0/24"
    ]
    assert host_local_range_sets({"ipam": {"ranges": [[{"subnet": "10.85.0.5/16"}]]}}) is None
    assert host_local_range_sets({"ipam": {"ranges": [[{"subnet": "10.85.0.0/31"}]]}}) is None
    assert host_local_range_sets({"ipam": {"ranges": []}}) is None  # "no IP ranges specified"
    # A config host-local would refuse cannot be judged: no IPAM006 finding then.
    refused = with_input(HL_100, set_key(("ipam", "ranges", 0, 0, "subnet"), "10.85.0.5/16"))
    assert findings(with_output(refused, _edit_ip(0, "address", "10.85.0.1/16")), "IPAM006") == []
