"""CONF rules: failing and passing cases from real records, the netconf schema,
and every CONF finding on the real captures."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest
from conftest import REAL, SCENARIOS, log_files
from jsonschema import Draft202012Validator
from rulekit import REMOVE, find, findings, real, set_key, with_env, with_input

from cnilint import parse
from cnilint.engine import Engine
from cnilint.options import Options
from cnilint.rules.schema import load_schema, owned_rules, schema_violations

ADD = real("02b-bridge-1.0.0", "bridge", 0)  # runtime-issued 1.0.0 ADD (bridge + host-local)
CHECK = real("02b-bridge-1.0.0", "bridge", 3)  # 1.0.0 CHECK with prevResult
DEL = real("02b-bridge-1.0.0", "bridge", 6)  # 1.0.0 DEL with prevResult
DELEGATED_CHECK = real("02b-bridge-1.0.0", "host-local", 3)  # host-local run by bridge
ADD_031 = real("01-classic-0.3.1", "bridge", 0)
DEL_031 = real("01-classic-0.3.1", "bridge", 4)
ADD_020 = real("02c-bridge-0.2.0", "bridge", 0)
VERSION = real("06-version", "bridge", 0)  # stdin {"cniVersion":"1.0.0"}
VERSION_999 = real("06-version", "bridge", 4)  # stdin {"cniVersion":"9.9.9"}
TTY_ADD = real("10-tty", "loopback", 0)  # stdin was a terminal: no INPUT block
E1_INVALID_JSON = real("07-errors", "bridge", 0)
E2_NO_TYPE = real("07-errors", "bridge", 1)
E3_VERSION_999 = real("07-errors", "bridge", 3)
E7_DEL_NO_PREV = real("07-errors", "bridge", 17)
E8_CHECK_NO_PREV = real("07-errors", "bridge", 21)


def _has_runtime_config(plugin: str, scenario: str = "03a-chain-1.0.0"):
    return find(scenario, plugin, lambda r: r.command == "ADD" and "runtimeConfig" in r.input.value)


PORTMAP = _has_runtime_config("portmap")  # capabilities + runtimeConfig.portMappings
TUNING = _has_runtime_config("tuning")  # runtimeConfig.mac
BANDWIDTH = _has_runtime_config("bandwidth")  # runtimeConfig.bandwidth
MACVLAN = _has_runtime_config("macvlan", "04-ptp-macvlan")  # runtimeConfig.ips
PORTMAP_040 = _has_runtime_config("portmap", "04-ptp-macvlan")  # capabilities at 0.4.0


def _gc_or_status(command: str, base=ADD):
    record = with_env(base, CNI_COMMAND=command, CNI_CONTAINERID="", CNI_NETNS="", CNI_IFNAME="", CNI_ARGS="")
    return with_input(record, set_key(("cniVersion",), "1.1.0"))


GC = _gc_or_status("GC")
STATUS = _gc_or_status("STATUS")


def edit(record, path, value):
    return with_input(record, set_key(path, value))


def _prev_from(source):
    """An edit adding `source`'s prevResult to a configuration."""

    def add(config):
        config["prevResult"] = copy.deepcopy(source.input.value["prevResult"])
        return config

    return add


def _with_args(args):
    return edit(ADD, ("args",), args)


GOOD_ARGS = {"cni": {"labels": [{"key": "app", "value": "web"}], "ips": ["10.85.0.42/16", "fd00:85::42"]}}

CASES = [
    # rule, failing record, passing record
    ("CONF001", E1_INVALID_JSON, ADD),
    ("CONF001", with_input(ADD, raw=""), ADD),
    ("CONF001", with_input(ADD, raw='[{"cniVersion": "1.0.0"}]'), ADD),
    ("CONF001", with_input(ADD, raw='"bridge"'), ADD),
    ("CONF002", edit(ADD, ("cniVersion",), REMOVE), ADD),
    ("CONF002", edit(ADD, ("cniVersion",), ""), ADD),
    ("CONF003", edit(ADD, ("cniVersion",), "1.0"), ADD),
    ("CONF003", edit(ADD, ("cniVersion",), 1.0), ADD),
    ("CONF003", edit(ADD, ("cniVersion",), "v1.0.0"), ADD),
    ("CONF003", with_input(VERSION, {"cniVersion": "0.1"}), VERSION),
    ("CONF004", E3_VERSION_999, ADD),
    ("CONF004", VERSION_999, VERSION),
    ("CONF004", edit(ADD, ("cniVersion",), "1.0.0-rc1"), ADD),
    ("CONF005", edit(ADD, ("name",), REMOVE), ADD),
    ("CONF005", edit(ADD, ("name",), ""), ADD),
    ("CONF006", edit(ADD, ("name",), "my net"), ADD),
    ("CONF006", edit(ADD, ("name",), "-crio"), edit(ADD, ("name",), "crio_net-1.v2")),
    ("CONF006", edit(ADD, ("name",), "crio\n"), ADD),
    ("CONF007", E2_NO_TYPE, ADD),
    ("CONF007", edit(ADD, ("type",), ""), ADD),
    ("CONF008", edit(ADD, ("type",), "../bin/bridge"), ADD),
    ("CONF008", edit(ADD, ("type",), "bin\\bridge"), ADD),
    ("CONF008", edit(ADD, ("type",), ".."), ADD),
    ("CONF009", edit(ADD, ("type",), "ipvlan"), DELEGATED_CHECK),
    ("CONF010", edit(ADD, ("ipam",), {"subnet": "10.1.0.0/16"}), ADD),
    ("CONF010", edit(ADD, ("ipam",), "host-local"), ADD),
    ("CONF010", edit(ADD, ("ipam", "type"), "/opt/cni/bin/host-local"), ADD),
    ("CONF011", edit(ADD, ("dns",), {"nameservers": "10.1.0.1"}), edit(ADD, ("dns",), {"nameservers": ["10.1.0.1"]})),
    ("CONF011", edit(ADD, ("dns",), {"nameservers": ["10.1.0.300"]}), ADD),
    ("CONF011", edit(ADD, ("dns",), {"domain": 5, "search": ["a"], "options": ["ndots:5"]}), ADD),
    ("CONF012", edit(ADD, ("ipMasq",), "true"), ADD),
    ("CONF013", PORTMAP, edit(PORTMAP, ("capabilities",), REMOVE)),
    ("CONF014", edit(PORTMAP, ("capabilities",), ["portMappings"]), PORTMAP),
    ("CONF014", edit(PORTMAP, ("capabilities", "portMappings"), "true"), PORTMAP),
    ("CONF015", edit(PORTMAP, ("runtimeConfig",), [{"hostPort": 8080}]), PORTMAP),
    ("CONF016", edit(PORTMAP, ("runtimeConfig", "bandwidth"), {"ingressRate": 1}), PORTMAP),
    ("CONF016", edit(PORTMAP, ("capabilities", "portMappings"), False), PORTMAP_040),
    ("CONF017", edit(PORTMAP, ("runtimeConfig", "portMappings", 0, "hostPort"), "8080"), PORTMAP),
    ("CONF017", edit(PORTMAP, ("runtimeConfig", "portMappings", 0, "protocol"), REMOVE), PORTMAP),
    ("CONF017", edit(PORTMAP, ("runtimeConfig", "portMappings", 0, "hostIP"), "localhost"), PORTMAP),
    ("CONF017", edit(TUNING, ("runtimeConfig", "mac"), "c2:b0:57:49:47"), TUNING),
    ("CONF017", edit(MACVLAN, ("runtimeConfig", "ips", 1), "fd00:88:1::10/129"), MACVLAN),
    ("CONF017", edit(MACVLAN, ("runtimeConfig", "ips"), "10.88.1.10/24"), MACVLAN),
    ("CONF017", edit(BANDWIDTH, ("runtimeConfig", "bandwidth", "ingressRate"), -1), BANDWIDTH),
    ("CONF017", edit(MACVLAN, ("runtimeConfig", "ipRanges"), [[{"subnet": "10.1.2.0"}]]), MACVLAN),
    ("CONF017", edit(MACVLAN, ("runtimeConfig", "ipRanges"), [{"subnet": "10.1.2.0/24"}]), MACVLAN),
    (
        "CONF017",
        edit(MACVLAN, ("runtimeConfig", "ipRanges"), [[{"subnet": "10.1.2.0/24", "gateway": "10.1.2"}]]),
        edit(MACVLAN, ("runtimeConfig", "ipRanges"), [[{"subnet": "10.1.2.0/24", "rangeStart": "10.1.2.3"}]]),
    ),
    ("CONF017", edit(MACVLAN, ("runtimeConfig", "dns"), {"servers": "8.8.8.8"}), MACVLAN),
    ("CONF017", edit(MACVLAN, ("runtimeConfig", "aliases"), ["db", 1]), MACVLAN),
    ("CONF018", _with_args("labels=app"), _with_args(GOOD_ARGS)),
    ("CONF019", _with_args({"cni": {"ips": "10.2.2.42"}}), _with_args(GOOD_ARGS)),
    ("CONF019", _with_args({"cni": {"ips": ["10.2.2.300"]}}), _with_args(GOOD_ARGS)),
    ("CONF019", _with_args({"cni": {"labels": [{"key": "app"}]}}), _with_args(GOOD_ARGS)),
    ("CONF019", _with_args({"cni": {"labels": [{"key": "app", "value": 1}]}}), _with_args(GOOD_ARGS)),
    (
        "CONF020",
        edit(ADD, ("cni.dev/attachments",), [{"containerID": "x", "ifname": "eth0"}]),
        edit(GC, ("cni.dev/valid-attachments",), [{"containerID": "x", "ifname": "eth0"}]),
    ),
    ("CONF020", edit(GC, ("cni.dev/other",), True), edit(GC, ("cni.dev/attachments",), [])),
    ("CONF021", edit(ADD, ("plugins",), [{"type": "bridge"}]), ADD),
    ("CONF021", edit(ADD, ("cniVersions",), ["1.0.0"]), ADD),
    ("CONF023", edit(CHECK, ("prevResult", "cniVersion"), "0.4.0"), CHECK),
    ("CONF023", edit(CHECK, ("prevResult", "cniVersion"), "1.1.0"), CHECK),
    ("CONF024", E8_CHECK_NO_PREV, CHECK),
    ("CONF024", edit(CHECK, ("prevResult",), None), CHECK),
    ("CONF025", E7_DEL_NO_PREV, DEL),
    ("CONF025", edit(DEL, ("prevResult",), REMOVE), DEL),
    ("CONF026", with_input(ADD_020, _prev_from(DEL)), ADD_020),
    ("CONF026", with_input(DEL_031, _prev_from(DEL)), with_input(ADD_031, _prev_from(DEL))),
    ("CONF027", _gc_or_status("GC", CHECK), GC),
    ("CONF027", edit(STATUS, ("runtimeConfig",), {}), STATUS),
]


@pytest.mark.parametrize(("rule_id", "failing", "passing"), CASES, ids=[case[0] for case in CASES])
def test_conf_rule_fails_and_passes(rule_id: str, failing, passing) -> None:
    found = findings(failing, rule_id)
    assert found, f"{rule_id} should fire"
    assert all(f.document in ("input", "record") for f in found)
    assert all(f.line >= failing.line for f in found)
    assert findings(passing, rule_id) == []


def test_every_conf_rule_but_conf022_is_tested() -> None:
    tested = {case[0] for case in CASES}
    assert tested == {f"CONF{n:03d}" for n in range(1, 28)} - {"CONF022"}


# ---------------------------------------------------------------- locations and messages


def _input_line(record, number: int) -> str:
    """Log line `number` of the record's (possibly edited) INPUT."""
    return record.input.raw.split("\n")[number - record.input.line]


def test_invalid_json_points_at_the_decode_error_line() -> None:
    (finding,) = findings(E1_INVALID_JSON, "CONF001")
    assert finding.line == E1_INVALID_JSON.input.error.line
    assert "Unterminated string" in finding.message
    # INPUT spread over several lines: the finding moves to the error's line.
    broken = with_input(ADD, raw='{\n    "cniVersion": "1.0.0",\n    "name": "crio",\n    "type": "bridge" "x"\n}')
    (finding,) = findings(broken, "CONF001")
    assert finding.line == broken.input.error.line == broken.input.line + 3


def test_terminal_stdin_is_not_judged_the_log_cannot_show_it() -> None:
    assert TTY_ADD.input is None
    assert findings(TTY_ADD, "CONF001") == []


def test_non_object_input_is_named() -> None:
    (finding,) = findings(with_input(ADD, raw="[1, 2]"), "CONF001")
    assert finding.message == "INPUT is [1, 2], not a JSON object"


def test_schema_findings_point_at_the_offending_value() -> None:
    failing = edit(PORTMAP, ("runtimeConfig", "portMappings", 1, "hostPort"), "8443")
    (finding,) = findings(failing, "CONF017")
    assert finding.path == "$.runtimeConfig.portMappings[1].hostPort"
    assert '"hostPort": "8443"' in _input_line(failing, finding.line)
    assert '"8443"' in finding.message


def test_missing_key_is_reported_on_the_object() -> None:
    (finding,) = findings(E2_NO_TYPE, "CONF007")
    assert finding.path == "$" and finding.message.startswith("INPUT has no type")


def test_conf009_names_the_plugin_and_ignores_delegated_records() -> None:
    (finding,) = findings(edit(ADD, ("type",), "ipvlan"), "CONF009")
    assert '"ipvlan"' in finding.message and '"bridge"' in finding.message
    assert finding.severity == "info"
    # host-local's record holds bridge's configuration: a delegated call.
    assert findings(real("02b-bridge-1.0.0", "host-local", 0), "CONF009") == []
    assert findings(real("04-ptp-macvlan", "static", 0), "CONF009") == []


def test_conf016_needs_capabilities_in_input() -> None:
    without = edit(PORTMAP, ("capabilities",), REMOVE)
    assert findings(edit(without, ("runtimeConfig", "bandwidth"), {}), "CONF016") == []
    (finding,) = findings(edit(PORTMAP, ("runtimeConfig", "mac"), "c2:b0:57:49:47:f1"), "CONF016")
    assert finding.path == "$.runtimeConfig.mac" and "not declared" in finding.message


def test_conf023_tells_result_families_apart() -> None:
    (other_family,) = findings(edit(CHECK, ("prevResult", "cniVersion"), "0.4.0"), "CONF023")
    (same_family,) = findings(edit(CHECK, ("prevResult", "cniVersion"), "1.1.0"), "CONF023")
    assert "fail to parse" in other_family.message
    assert "same result family" in same_family.message
    assert other_family.path == "$.prevResult.cniVersion"


def test_prev_result_presence_is_not_judged_on_delegated_records() -> None:
    # The upper record carries it; a cleanup DEL of a failed ADD rightly has none.
    assert findings(edit(DELEGATED_CHECK, ("prevResult",), REMOVE), "CONF024") == []
    cleanup_del = real("07-errors", "host-local", 4)  # bridge cleaning up its failed ADD
    assert cleanup_del.command == "DEL" and "prevResult" not in cleanup_del.input.value
    assert findings(cleanup_del, "CONF025") == []


# ---------------------------------------------------------------- versions, commands, severities, profiles


def test_conf013_is_a_known_libcni_deviation() -> None:
    (spec,) = findings(PORTMAP, "CONF013")
    (libcni,) = findings(PORTMAP, "CONF013", profile="libcni")
    assert spec.severity == "error" and spec.deviation is None
    assert libcni.severity == "info" and libcni.deviation
    # Before 1.0.0 the SPEC did not ask the runtime to remove it.
    assert findings(PORTMAP_040, "CONF013") == []


def test_conf026_severity_follows_the_version() -> None:
    (old,) = findings(with_input(ADD_020, _prev_from(DEL)), "CONF026")
    (chained,) = findings(with_input(DEL_031, _prev_from(DEL)), "CONF026")
    assert old.severity == "warning" and "0.3.0" in old.message
    assert chained.severity == "info" and "DEL" in chained.message
    # From 0.4.0 prevResult on DEL is expected.
    assert findings(DEL, "CONF026") == []


def test_rules_respect_their_commands_and_versions() -> None:
    assert findings(with_input(VERSION, raw=""), "CONF001") == []  # skel ignores VERSION stdin
    assert findings(edit(ADD, ("cniVersion",), "0.3.1"), "CONF024") == []
    assert "prevResult" not in DEL_031.input.value
    assert findings(DEL_031, "CONF025") == []  # no prevResult on DEL before 0.4.0
    assert findings(_gc_or_status("GC", CHECK), "CONF024") == []
    assert findings(edit(CHECK, ("cniVersion",), "0.3.1"), "CONF023")  # 1.0.0 prevResult under 0.3.1
    assert findings(edit(ADD_020, ("ipMasq",), "yes"), "CONF012")


def test_malformed_version_still_gets_the_open_ended_rules() -> None:
    broken = edit(edit(ADD, ("cniVersion",), "1.0"), ("name",), "my net")
    assert findings(broken, "CONF003") and findings(broken, "CONF006")
    assert findings(edit(broken, ("capabilities",), {}), "CONF013") == []  # >=1.0.0 cannot be decided


# ---------------------------------------------------------------- the schema


def test_netconf_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(load_schema("netconf.json"))
    assert owned_rules("netconf.json") <= {f"CONF{n:03d}" for n in range(1, 28)} - {"CONF022"}


def _real_configs():
    for scenario in SCENARIOS:
        for path in log_files(scenario):
            for record in parse(path):
                body = record.input
                if body is not None and body.is_json and record.command not in (None, "VERSION"):
                    yield record, body.value


def test_netconf_schema_accepts_real_configurations() -> None:
    checked = 0
    for record, config in _real_configs():
        problems = list(schema_violations("netconf.json", config, "input"))
        if "type" in config:  # E2 omits type on purpose
            assert problems == [], (record.file, record.line, problems)
        checked += 1
    assert checked > 200


def test_netconf_schema_rejects_a_broken_configuration() -> None:
    broken = copy.deepcopy(PORTMAP.input.value)
    broken["ipMasq"] = "true"
    broken["capabilities"] = {"portMappings": 1}
    del broken["name"]
    rules = {rule for rule, _ in schema_violations("netconf.json", broken, "input")}
    assert rules == {"CONF005", "CONF012", "CONF014"}
    assert [rule for rule, _ in schema_violations("netconf.json", json.loads("3"), "input")] == ["CONF001"]


def _full_config() -> dict:
    """The real portmap request with every section the schema knows, all valid."""
    config = copy.deepcopy(PORTMAP.input.value)
    config["ipam"] = {"type": "host-local", "ranges": [[{"subnet": "10.85.0.0/16"}]]}
    config["dns"] = {"nameservers": ["10.1.0.1"], "domain": "cluster.local", "search": ["svc"], "options": ["ndots:5"]}
    config["ipMasq"] = True
    config["args"] = copy.deepcopy(GOOD_ARGS)
    config["runtimeConfig"].update(
        ipRanges=[
            [{"subnet": "10.1.2.0/24", "rangeStart": "10.1.2.3", "rangeEnd": "10.1.2.99", "gateway": "10.1.2.1"}]
        ],
        bandwidth={"ingressRate": 2048, "ingressBurst": 1600, "egressRate": 4096, "egressBurst": 1600},
        dns={"servers": ["8.8.8.8"], "searches": ["corp.example"], "options": ["ndots:2"]},
        ips=["10.1.2.5/24"],
        mac="c2:11:22:33:44:55",
        infinibandGUID="c2:11:22:33:44:55:66:77",
        deviceID="0000:04:00.5",
        cgroupPath="/kubepods.slice",
        aliases=["db"],
    )
    return config


RC = ("runtimeConfig",)
# (path set to a wrong value, the rule that owns it, where the error is reported)
SHAPES = [
    (("cniVersion",), "", "CONF002", ("cniVersion",)),
    (("name",), 7, "CONF005", ("name",)),
    (("type",), None, "CONF007", ("type",)),
    (("type",), "/bridge", "CONF008", ("type",)),
    (("type",), ".", "CONF008", ("type",)),
    (("ipam",), [], "CONF010", ("ipam",)),
    (("ipam", "type"), REMOVE, "CONF010", ("ipam",)),
    (("ipam", "type"), "", "CONF010", ("ipam", "type")),
    (("ipam", "type"), "a\\b", "CONF010", ("ipam", "type")),
    (("dns",), "10.1.0.1", "CONF011", ("dns",)),
    (("dns", "nameservers", 0), 10, "CONF011", ("dns", "nameservers", 0)),
    (("dns", "domain"), ["a"], "CONF011", ("dns", "domain")),
    (("dns", "search"), "svc", "CONF011", ("dns", "search")),
    (("dns", "search", 0), 1, "CONF011", ("dns", "search", 0)),
    (("dns", "options"), "ndots:5", "CONF011", ("dns", "options")),
    (("dns", "options", 0), {}, "CONF011", ("dns", "options", 0)),
    (("ipMasq",), 1, "CONF012", ("ipMasq",)),
    (("capabilities",), "portMappings", "CONF014", ("capabilities",)),
    (("capabilities", "portMappings"), 1, "CONF014", ("capabilities", "portMappings")),
    (RC, "portMappings", "CONF015", RC),
    ((*RC, "portMappings"), {}, "CONF017", (*RC, "portMappings")),
    ((*RC, "portMappings", 0), 8080, "CONF017", (*RC, "portMappings", 0)),
    ((*RC, "portMappings", 0, "hostPort"), 80.5, "CONF017", (*RC, "portMappings", 0, "hostPort")),
    ((*RC, "portMappings", 0, "containerPort"), "80", "CONF017", (*RC, "portMappings", 0, "containerPort")),
    ((*RC, "portMappings", 0, "protocol"), 6, "CONF017", (*RC, "portMappings", 0, "protocol")),
    ((*RC, "portMappings", 0, "hostIP"), None, "CONF017", (*RC, "portMappings", 0, "hostIP")),
    ((*RC, "ipRanges"), {}, "CONF017", (*RC, "ipRanges")),
    ((*RC, "ipRanges", 0, 0), "10.1.2.0/24", "CONF017", (*RC, "ipRanges", 0, 0)),
    ((*RC, "ipRanges", 0, 0, "subnet"), 24, "CONF017", (*RC, "ipRanges", 0, 0, "subnet")),
    ((*RC, "ipRanges", 0, 0, "rangeStart"), 3, "CONF017", (*RC, "ipRanges", 0, 0, "rangeStart")),
    ((*RC, "ipRanges", 0, 0, "rangeEnd"), 99, "CONF017", (*RC, "ipRanges", 0, 0, "rangeEnd")),
    ((*RC, "ipRanges", 0, 0, "gateway"), 1, "CONF017", (*RC, "ipRanges", 0, 0, "gateway")),
    ((*RC, "bandwidth"), 2048, "CONF017", (*RC, "bandwidth")),
    ((*RC, "bandwidth", "ingressBurst"), "1600", "CONF017", (*RC, "bandwidth", "ingressBurst")),
    ((*RC, "bandwidth", "egressRate"), 1.5, "CONF017", (*RC, "bandwidth", "egressRate")),
    ((*RC, "bandwidth", "egressBurst"), -1, "CONF017", (*RC, "bandwidth", "egressBurst")),
    ((*RC, "dns"), [], "CONF017", (*RC, "dns")),
    ((*RC, "dns", "servers", 0), 8, "CONF017", (*RC, "dns", "servers", 0)),
    ((*RC, "dns", "searches"), "corp", "CONF017", (*RC, "dns", "searches")),
    ((*RC, "dns", "searches", 0), None, "CONF017", (*RC, "dns", "searches", 0)),
    ((*RC, "dns", "options"), "ndots:2", "CONF017", (*RC, "dns", "options")),
    ((*RC, "dns", "options", 0), 2, "CONF017", (*RC, "dns", "options", 0)),
    ((*RC, "ips", 0), 10, "CONF017", (*RC, "ips", 0)),
    ((*RC, "mac"), 12, "CONF017", (*RC, "mac")),
    ((*RC, "infinibandGUID"), 1, "CONF017", (*RC, "infinibandGUID")),
    ((*RC, "deviceID"), 5, "CONF017", (*RC, "deviceID")),
    ((*RC, "cgroupPath"), ["/a"], "CONF017", (*RC, "cgroupPath")),
    ((*RC, "aliases"), "db", "CONF017", (*RC, "aliases")),
    (("args",), [], "CONF018", ("args",)),
    (("args", "cni"), "labels", "CONF019", ("args", "cni")),
    (("args", "cni", "labels"), {}, "CONF019", ("args", "cni", "labels")),
    (("args", "cni", "labels", 0), "app=web", "CONF019", ("args", "cni", "labels", 0)),
    (("args", "cni", "labels", 0, "key"), 1, "CONF019", ("args", "cni", "labels", 0, "key")),
    (("args", "cni", "ips", 0), 42, "CONF019", ("args", "cni", "ips", 0)),
]


def test_full_configuration_passes_the_schema() -> None:
    assert list(schema_violations("netconf.json", _full_config(), "input")) == []


@pytest.mark.parametrize(("path", "value", "rule_id", "where"), SHAPES, ids=[str(s[0][-1]) for s in SHAPES])
def test_each_schema_part_reports_under_its_rule(path, value, rule_id, where) -> None:
    broken = set_key(path, value)(_full_config())
    found = [(rule, violation.path) for rule, violation in schema_violations("netconf.json", broken, "input")]
    assert found == [(rule_id, where)]


# ---------------------------------------------------------------- every real capture


EXPECTED_ON_REAL_CAPTURES = {
    # capabilities left in by the libcni-style runtime (1.0.0)
    ("03a-chain-1.0.0", "CONF013"): 36,
    ("04-ptp-macvlan", "CONF013"): 9,
    ("07-errors", "CONF013"): 3,
    # VERSION asked in 9.9.9; E3 ADD at 9.9.9
    ("06-version", "CONF004"): 4,
    ("07-errors", "CONF004"): 1,
    # E1 truncated JSON
    ("07-errors", "CONF001"): 1,
    # E2 without type (bridge ADD and DEL, and host-local running them)
    ("07-errors", "CONF007"): 4,
    # E8 CHECK after DEL: no cached result
    ("07-errors", "CONF024"): 1,
    # E2 cleanup DEL, E7 second and third DEL
    ("07-errors", "CONF025"): 3,
}


def test_conf_findings_on_the_real_captures() -> None:
    engine = Engine(Options(select=tuple(f"CONF{n:03d}" for n in range(1, 28) if n != 22), profile="spec"))
    counts: Counter[tuple[str, str]] = Counter()
    for scenario in SCENARIOS:
        for path in log_files(scenario):
            for record in parse(path):
                result = engine.check_record(record)
                assert not result.errors, result.errors
                counts.update((scenario, finding.rule) for finding in result.findings)
    assert dict(counts) == EXPECTED_ON_REAL_CAPTURES
    assert REAL.is_dir()
