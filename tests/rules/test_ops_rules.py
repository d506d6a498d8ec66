"""VER, DEL, CHK, GC and STATUS rules: failing and passing cases from real records.

Plugins 1.1.1 predate GC and STATUS, so those records are real DEL records
turned into GC/STATUS calls (CNI_COMMAND, cniVersion, attachment keys).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from rulekit import REMOVE, find, findings, real, set_key, with_env, with_input, with_output

from cnilint import parse
from cnilint.engine import Engine
from cnilint.options import Options
from cnilint.parse import Record
from cnilint.rules import PLANNED, checked_rule_ids
from cnilint.rules.schema import owned_rules, schema_violations

# ---------------------------------------------------------------- real records
VERSION = real("06-version", "bridge", 0)  # asked {"cniVersion":"1.0.0"}, answers 1.0.0
VERSION_040 = real("06-version", "bridge", 3)  # asked 0.4.0, answers 1.0.0 (fine before 1.0.0)
VERSION_999 = real("06-version", "bridge", 4)  # asked 9.9.9, answers 1.0.0 with success
VERSION_EMPTY_STDIN = real("06-version", "bridge", 5)
VERSION_INVALID_STDIN = real("06-version", "tuning", 1)  # {"cniVersion":
VERSION_TTY = real("10-tty", "bridge", 0)  # stdin was a terminal: no INPUT block

DEL = real("02b-bridge-1.0.0", "bridge", 6)
DEL_FAILED = find("07-errors", "macvlan", lambda r: r.command == "DEL")  # E16 "Link not found", code 999
DEL_NO_NETNS = find(  # E7 third DEL: empty CNI_NETNS, no prevResult, succeeds
    "07-errors", "bridge", lambda r: r.command == "DEL" and not r.variable("CNI_NETNS")
)

CHECK = real("02b-bridge-1.0.0", "bridge", 3)
CHECK_FAILED = find("07-errors", "bridge", lambda r: r.command == "CHECK" and '"1.0.0"' in r.input.raw)
CHECK_031 = find("07-errors", "bridge", lambda r: r.command == "CHECK" and '"0.3.1"' in r.input.raw)  # E11, code 1


def _error(code: int, msg: str) -> dict:
    return {"code": code, "msg": msg}


def _attachments(*records: Record) -> list[dict]:
    return [{"containerID": r.variable("CNI_CONTAINERID"), "ifname": r.variable("CNI_IFNAME")} for r in records]


def _as_command(record: Record, command: str, version: str, extra: dict | None = None) -> Record:
    """A real DEL record turned into a GC or STATUS call: no attachment parameters, no prevResult."""
    record = with_env(record, CNI_COMMAND=command, CNI_CONTAINERID="", CNI_NETNS="", CNI_IFNAME="", CNI_ARGS="")

    def edit(config: dict) -> dict:
        config.pop("prevResult", None)
        config["cniVersion"] = version
        config.update(extra or {})
        return config

    return with_input(record, edit)


LIVE = _attachments(real("02b-bridge-1.0.0", "bridge", 7), real("02b-bridge-1.0.0", "bridge", 8))
GC = _as_command(DEL, "GC", "1.1.0", {"cni.dev/valid-attachments": LIVE, "cni.dev/attachments": LIVE})
GC_100 = _as_command(DEL, "GC", "1.0.0")
STATUS = _as_command(DEL, "STATUS", "1.1.0")
STATUS_040 = _as_command(DEL, "STATUS", "0.4.0")

# ---------------------------------------------------------------- cases: rule, failing records, passing records
CASES = [
    (
        "VER001",
        [VERSION_EMPTY_STDIN, VERSION_INVALID_STDIN, with_input(VERSION, {}), with_input(VERSION, ["1.0.0"])],
        [VERSION, VERSION_040, VERSION_TTY],
    ),
    (
        "VER002",
        [
            with_output(VERSION, set_key(("cniVersion",), REMOVE)),
            with_output(VERSION, set_key(("cniVersion",), "")),
            with_output(VERSION, raw=""),
            with_output(VERSION, raw="1.0.0"),
            with_output(VERSION, ["0.3.1", "1.0.0"]),
        ],
        [VERSION, VERSION_999, with_output(VERSION, _error(1, "incompatible CNI versions"))],
    ),
    (
        "VER003",
        [
            with_output(VERSION, set_key(("supportedVersions",), [])),
            with_output(VERSION, set_key(("supportedVersions",), REMOVE)),
            with_output(VERSION, set_key(("supportedVersions",), "0.3.1,1.0.0")),
            with_output(VERSION, set_key(("supportedVersions", 1), 2)),
        ],
        [VERSION, with_output(VERSION, {"cniVersion": "0.2.0"})],  # libcni reads a bare 0.2.0 answer
    ),
    (
        "VER004",
        [VERSION_999, with_output(VERSION, set_key(("cniVersion",), "1.1.0"))],
        [VERSION, VERSION_040, VERSION_EMPTY_STDIN, with_output(VERSION_999, _error(1, "incompatible CNI versions"))],
    ),
    (
        "VER005",
        [
            with_output(VERSION, set_key(("supportedVersions",), ["0.3.1", "0.3.1", "1.0.0"])),
            with_output(VERSION, set_key(("supportedVersions",), ["0.3.1", "1.0"])),
            with_output(VERSION, set_key(("supportedVersions",), ["1.0.0", "1.2.0"])),
        ],
        [VERSION, real("06-version", "firewall", 0)],
    ),
    (
        "VER006",
        [VERSION_999, with_input(VERSION, {"cniVersion": "1.1.0"})],
        [VERSION, with_output(VERSION_999, _error(1, "incompatible CNI versions"))],
    ),
    (
        "DEL001",
        [with_output(DEL, CHECK.input.value["prevResult"]), with_output(DEL, [])],
        [DEL, DEL_NO_NETNS, DEL_FAILED],
    ),
    (
        "DEL002",
        [DEL_FAILED, with_output(DEL, raw="failed to find plugin in path")],
        [DEL, DEL_NO_NETNS],
    ),
    (
        "DEL003",
        [
            with_input(DEL_FAILED, set_key(("prevResult",), REMOVE)),
            with_env(DEL_FAILED, CNI_NETNS=""),
            with_output(DEL_NO_NETNS, _error(4, "required env variables [CNI_NETNS] missing")),
        ],
        [DEL_FAILED, DEL_NO_NETNS, DEL],
    ),
    (
        "CHK001",
        [with_output(CHECK, CHECK.input.value["prevResult"]), with_output(CHECK, raw="ok")],
        [CHECK, CHECK_FAILED],
    ),
    (
        "CHK002",
        [with_output(CHECK_031, raw=""), with_output(CHECK_031, _error(999, "Failed to match addr"))],
        [CHECK_031, with_output(CHECK_031, _error(4, "required env variables [CNI_NETNS] missing"))],
    ),
    (
        "GC001",
        [with_output(GC, {"released": ["10.85.0.17"]}), with_output(GC, raw="done")],
        [GC, with_output(GC, _error(999, "failed to release"))],
    ),
    (
        "GC002",
        [
            with_input(GC, lambda c: {k: v for k, v in c.items() if not k.startswith("cni.dev/")}),
            with_input(GC, set_key(("cni.dev/attachments",), None)),
        ],
        [GC, with_input(GC, set_key(("cni.dev/attachments",), REMOVE))],
    ),
    (
        "GC003",
        [
            with_input(GC, set_key(("cni.dev/valid-attachments", 0), {"containerId": "abc", "ifName": "eth0"})),
            with_input(GC, set_key(("cni.dev/attachments", 1, "ifname"), "eth0-much-too-long")),
            with_input(GC, set_key(("cni.dev/attachments", 0, "containerID"), "-abc")),
            with_input(GC, set_key(("cni.dev/attachments",), ["abc/eth0"])),
        ],
        [GC, with_input(GC, set_key(("cni.dev/attachments",), []))],
    ),
    (
        "GC004",
        [with_input(GC, set_key(("cni.dev/attachments",), LIVE[:1]))],
        [GC, with_input(GC, set_key(("cni.dev/attachments",), list(reversed(LIVE))))],
    ),
    (
        "GC005",
        [GC_100],
        [with_output(GC_100, _error(4, "unknown CNI_COMMAND: GC")), GC],
    ),
    (
        "STATUS001",
        [
            with_output(STATUS, raw="daemon not running"),
            with_output(STATUS, {"code": "50", "msg": "not available"}),
            with_output(STATUS, {"code": 50}),
        ],
        [STATUS, with_output(STATUS, _error(50, "dhcp daemon unreachable"))],
    ),
    (
        "STATUS002",
        [with_output(STATUS, {"status": "ok"})],
        [STATUS, with_output(STATUS, _error(50, "dhcp daemon unreachable"))],
    ),
    (
        "STATUS003",
        [with_output(STATUS, _error(999, "dhcp daemon unreachable"))],
        [STATUS, with_output(STATUS, _error(51, "dhcp daemon unreachable")), with_output(STATUS, _error("50", "x"))],
    ),
    (
        "STATUS004",
        [STATUS_040],
        [with_output(STATUS_040, _error(4, "unknown CNI_COMMAND: STATUS")), STATUS],
    ),
]


@pytest.mark.parametrize(("rule_id", "failing", "passing"), CASES, ids=[case[0] for case in CASES])
def test_ops_rule_fails_and_passes(rule_id: str, failing: list[Record], passing: list[Record]) -> None:
    for record in failing:
        found = findings(record, rule_id)
        stdin = record.input.raw if record.input else None
        assert found, f"{rule_id} should fire on {stdin!r} -> {record.output.raw!r}"
        assert all(f.message and "\n" not in f.message for f in found)
    for record in passing:
        assert findings(record, rule_id) == [], f"{rule_id} should not fire"


def test_every_ops_rule_is_checked_or_planned() -> None:
    ids = {rule_id for rule_id, _, _ in CASES}
    families = ("VER", "DEL", "CHK", "GC", "STATUS")
    from cnilint.catalogue import catalogue

    ops = {rule_id for rule_id, info in catalogue().items() if info.family in families}
    assert ops == ids | {"VER007"}
    assert ids <= checked_rule_ids()
    assert "version record" in PLANNED["VER007"].replace("VERSION", "version")


def test_findings_point_at_the_offending_value() -> None:
    (finding,) = findings(VERSION_999, "VER004")
    line = Path(VERSION_999.file).read_text().split("\n")[finding.line - 1]
    assert line.startswith('{"cniVersion":"1.0.0"') and finding.path == "$.cniVersion"
    (finding,) = findings(DEL_FAILED, "DEL002")
    assert finding.path == "$.code" and '"Link not found"' in finding.message
    (finding,) = findings(with_output(DEL_FAILED, _error(11, "busy")), "DEL002")
    assert "try again later" in finding.message and finding.severity == "info"
    bad_ifname = with_input(GC, set_key(("cni.dev/attachments", 1, "ifname"), "eth0-much-too-long"))
    (finding,) = findings(bad_ifname, "GC003")
    assert finding.path == "$['cni.dev/attachments'][1].ifname" and "18 bytes" in finding.message


def test_known_libcni_deviations_are_lowered_by_the_libcni_profile() -> None:
    assert [f.severity for f in findings(VERSION_999, "VER004")] == ["error"]
    assert [f.severity for f in findings(VERSION_999, "VER006")] == ["warning"]
    for rule_id in ("VER004", "VER006"):
        (finding,) = findings(VERSION_999, rule_id, profile="libcni")
        assert finding.severity == "info" and finding.deviation


# ---------------------------------------------------------------- the VERSION result schema
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "version-result.json"


def test_version_result_schema_is_valid_and_owns_ver002_ver003() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    assert owned_rules("version-result.json") == {"VER002", "VER003"}
    validator = Draft202012Validator(schema)
    assert validator.is_valid(VERSION.output.value)
    assert validator.is_valid({"cniVersion": "0.2.0"})
    assert not validator.is_valid({"supportedVersions": ["0.3.1"]})
    assert not validator.is_valid({"cniVersion": "1.0.0", "supportedVersions": []})


def test_version_result_schema_reports_under_the_right_rule() -> None:
    broken = {"cniVersion": 1, "supportedVersions": ["0.3.1", 4]}
    reported = {(rule_id, v.path) for rule_id, v in schema_violations("version-result.json", broken, "output")}
    assert reported == {("VER002", ("cniVersion",)), ("VER003", ("supportedVersions", 1))}


# ---------------------------------------------------------------- the real captures
# Every finding of these families on fixtures/real (spec profile): (scenario, plugin, line, rule).
EXPECTED_REAL = {
    # 9.9.9 asked, 1.0.0 answered with success: not echoed (VER004), not refused with code 1 (VER006)
    *{("06-version", plugin, 156, rule_id) for plugin in ("bridge", "host-local", "loopback", "portmap")
      for rule_id in ("VER004", "VER006")},
    ("06-version", "bridge", 186, "VER001"),  # empty stdin
    ("06-version", "tuning", 58, "VER001"),  # invalid JSON on stdin
    ("07-errors", "macvlan", 64, "DEL002"),  # E16 DEL fails: "Link not found"
}  # fmt: skip


def test_real_captures_give_exactly_the_expected_findings() -> None:
    engine = Engine(Options(select=("VER", "DEL", "CHK", "GC", "STATUS"), profile="spec"))
    real_dir = Path(__file__).resolve().parents[2] / "fixtures" / "real"
    found = set()
    for log in sorted(real_dir.glob("*/*")):
        if log.suffix in (".json", ".md"):
            continue
        for record in parse(log):
            result = engine.check_record(record)
            assert not result.errors
            found |= {(log.parent.name, log.name, f.line, f.rule) for f in result.findings}
    assert found == EXPECTED_REAL
