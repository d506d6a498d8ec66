"""ENV rules: one failing and one passing case each, from real records."""

from __future__ import annotations

from pathlib import Path

import pytest
from rulekit import REMOVE, findings, real, set_key, with_env, with_input

ADD = real("02b-bridge-1.0.0", "bridge", 0)  # 1.0.0 ADD
CHECK = real("02b-bridge-1.0.0", "bridge", 3)
DEL = real("02b-bridge-1.0.0", "bridge", 6)
ADD_031 = real("01-classic-0.3.1", "bridge", 0)
VERSION = real("06-version", "bridge", 0)


def _gc() -> object:
    record = with_env(ADD, CNI_COMMAND="GC", CNI_CONTAINERID="", CNI_NETNS="", CNI_IFNAME="", CNI_ARGS="")
    return with_input(record, set_key(("cniVersion",), "1.1.0"))


GC = _gc()

CASES = [
    # rule, failing record, passing record
    ("ENV001", with_env(ADD, CNI_COMMAND=REMOVE), ADD),
    ("ENV002", with_env(ADD, CNI_COMMAND="add"), ADD),
    ("ENV003", with_env(ADD_031, CNI_COMMAND="CHECK"), CHECK),
    ("ENV004", with_env(DEL, CNI_CONTAINERID=""), DEL),
    ("ENV005", with_env(ADD, CNI_NETNS=REMOVE), with_env(DEL, CNI_NETNS="")),
    ("ENV006", with_env(DEL, CNI_IFNAME=""), DEL),
    ("ENV007", with_env(GC, CNI_PATH=""), GC),
    ("ENV008", with_env(ADD_031, CNI_PATH=REMOVE), ADD_031),
    ("ENV009", with_env(ADD, CNI_CONTAINERID="_abc/def"), ADD),
    ("ENV010", with_env(ADD, CNI_IFNAME="eth0-too-long-name"), ADD),
    ("ENV011", with_env(ADD, CNI_IFNAME=".."), ADD),
    ("ENV012", with_env(ADD, CNI_IFNAME="eth 0"), ADD),
    ("ENV013", with_env(ADD, CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=web;"), ADD),
    ("ENV014", with_env(ADD, CNI_ARGS="IgnoreUnknown=1;pod-name=web"), ADD),
    ("ENV015", with_env(ADD, CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=a;K8S_POD_NAME=b"), ADD),
    ("ENV016", with_env(ADD, CNI_ARGS="IgnoreUnknown=1;IP=10.0.0.300"), with_env(ADD, CNI_ARGS="IP=10.85.0.9/16")),
    ("ENV017", with_env(ADD, CNI_NETNS="netns-3526ea0f"), ADD),
    ("ENV018", with_env(GC, CNI_IFNAME="eth0"), GC),
]


@pytest.mark.parametrize(("rule_id", "failing", "passing"), CASES, ids=[case[0] for case in CASES])
def test_env_rule_fails_and_passes(rule_id: str, failing, passing) -> None:
    found = findings(failing, rule_id)
    assert found, f"{rule_id} should fire"
    assert all(f.document == "env" and f.path.startswith("CNI_") for f in found)
    assert findings(passing, rule_id) == []


def test_env_finding_points_at_the_variable_line() -> None:
    failing = with_env(ADD, CNI_IFNAME="eth0-too-long-name")
    (finding,) = findings(failing, "ENV010")
    lines = Path(failing.file).read_text().split("\n")
    assert lines[finding.line - 1].startswith("CNI_IFNAME=")
    assert finding.path == "CNI_IFNAME" and "18 bytes" in finding.message


def test_real_version_record_gets_no_env_findings() -> None:
    for rule_id, _, _ in CASES:
        assert findings(VERSION, rule_id) == []


def test_rules_skip_records_outside_their_versions() -> None:
    # ENV006 starts at 1.0.0: the same empty ifname on a 0.3.1 DEL is not its business.
    old_del = with_env(real("01-classic-0.3.1", "bridge", 4), CNI_IFNAME="")
    assert findings(old_del, "ENV006") == []
    assert findings(old_del, "ENV008")  # but libcni's skel still refuses it
