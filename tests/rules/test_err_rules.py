"""ERR rules: one failing and one passing case each, from real error records of 07-errors."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from rulekit import REMOVE, findings, real, set_key, with_env, with_input, with_output

from cnilint.rules.schema import load_schema, owned_rules

BAD_SYSCTL = real("07-errors", "tuning", 0)  # ADD 1.0.0 -> {"code":999,"msg":"open /proc/sys/..."}
IFNAME_TOO_LONG = real("07-errors", "bridge", 22)  # ADD 1.0.0 -> code 4 "interface name is too long" + details
NO_CONTAINER_ID = real("07-errors", "bridge", 23)  # ADD 1.0.0 -> code 4 "required env variables [CNI_CONTAINERID]"
BAD_VERSION = real("07-errors", "bridge", 3)  # ADD 9.9.9 -> code 1 "incompatible CNI versions" + details
CHECK_031 = real("07-errors", "bridge", 25)  # CHECK 0.3.1 -> code 1 "config version does not allow CHECK"
TRUNCATED_INPUT = real("07-errors", "bridge", 0)  # ADD with cut-off INPUT -> code 6
MACVLAN_DEL = real("07-errors", "macvlan", 1)  # DEL 1.0.0 -> code 999 "Link not found"
UNKNOWN_COMMAND = real("07-errors", "bridge", 31)  # CNI_COMMAND=FOO -> code 4 "unknown CNI_COMMAND: FOO"
DEL_OK = real("02b-bridge-1.0.0", "bridge", 6)  # DEL 1.0.0, empty OUTPUT
ADD_OK = real("02b-bridge-1.0.0", "bridge", 0)  # ADD 1.0.0 success result


def _at_110(record):
    return with_input(record, set_key(("cniVersion",), "1.1.0"))


def _code(record, code):
    return with_output(record, set_key(("code",), code))


SYSCTL_NAMED = {"code": 2, "msg": "unsupported sysctl", "details": "net.ipv4.conf.eth0.no_such_sysctl=1"}


CASES = [
    # rule, failing record, passing record
    ("ERR001", with_output(DEL_OK, raw='failed to find plugin "host-local" in path [/opt/cni/bin]\n'), MACVLAN_DEL),
    ("ERR001", with_output(BAD_SYSCTL, set_key(("msg",), REMOVE)), BAD_SYSCTL),
    ("ERR001", with_output(MACVLAN_DEL, ["Link not found"]), DEL_OK),
    ("ERR002", with_output(BAD_SYSCTL, set_key(("code",), "7")), BAD_SYSCTL),
    ("ERR002", with_output(BAD_SYSCTL, set_key(("code",), -1)), BAD_SYSCTL),
    ("ERR002", with_output(BAD_SYSCTL, raw='{"code": 7.0, "msg": "invalid config"}'), BAD_SYSCTL),
    ("ERR003", with_output(BAD_SYSCTL, set_key(("msg",), "")), BAD_SYSCTL),
    ("ERR003", with_output(BAD_SYSCTL, set_key(("msg",), " \t")), BAD_SYSCTL),
    ("ERR003", with_output(BAD_SYSCTL, set_key(("msg",), 42)), BAD_SYSCTL),
    ("ERR004", with_output(BAD_VERSION, set_key(("details",), {"field": "subnet"})), BAD_VERSION),
    ("ERR005", BAD_SYSCTL, with_output(BAD_SYSCTL, set_key(("cniVersion",), "1.0.0"))),
    (
        "ERR006",
        with_output(BAD_SYSCTL, set_key(("cniVersion",), "1.1.0")),
        with_output(BAD_SYSCTL, set_key(("cniVersion",), "1.0.0")),
    ),
    ("ERR007", with_output(CHECK_031, set_key(("code",), 7)), CHECK_031),
    ("ERR007", with_input(IFNAME_TOO_LONG, set_key(("cniVersion",), "0.4.0")), IFNAME_TOO_LONG),
    ("ERR007", _code(BAD_SYSCTL, 50), _code(_at_110(BAD_SYSCTL), 50)),
    ("ERR008", BAD_SYSCTL, IFNAME_TOO_LONG),
    ("ERR008", _code(IFNAME_TOO_LONG, 0), _code(IFNAME_TOO_LONG, 150)),
    (
        "ERR009",
        with_output(_at_110(BAD_SYSCTL), set_key(("code",), 51)),
        with_output(with_env(_at_110(BAD_SYSCTL), CNI_COMMAND="STATUS"), set_key(("code",), 51)),
    ),
    (
        "ERR010",
        with_output(IFNAME_TOO_LONG, {"code": 4, "msg": "invalid environment"}),
        IFNAME_TOO_LONG,
    ),
    ("ERR010", with_output(NO_CONTAINER_ID, set_key(("msg",), "required env variables missing")), NO_CONTAINER_ID),
    (
        "ERR011",
        with_output(BAD_SYSCTL, {"code": 2, "msg": "unsupported field"}),
        with_output(BAD_SYSCTL, SYSCTL_NAMED),
    ),
]


@pytest.mark.parametrize(("rule_id", "failing", "passing"), CASES, ids=[case[0] for case in CASES])
def test_err_rule_fails_and_passes(rule_id: str, failing, passing) -> None:
    found = findings(failing, rule_id)
    assert found, f"{rule_id} should fire"
    assert all(f.document in ("output", "env") for f in found)
    assert findings(passing, rule_id) == []


def test_real_error_records_get_their_findings() -> None:
    # Every real libcni error lacks cniVersion (ERR005, info); 999 is libcni's ErrInternal (ERR008).
    (missing_version,) = findings(BAD_SYSCTL, "ERR005")
    assert missing_version.severity == "info" and missing_version.line == BAD_SYSCTL.output.line
    (internal,) = findings(MACVLAN_DEL, "ERR008")
    assert "999" in internal.message and internal.path == "$.code"
    assert internal.line == MACVLAN_DEL.output.line_of(("code",))


def test_err002_message_names_the_value() -> None:
    (finding,) = findings(with_output(BAD_SYSCTL, set_key(("code",), "7")), "ERR002")
    assert finding.path == "$.code" and '"7"' in finding.message


def test_err001_reports_a_missing_msg_once_and_not_as_err003() -> None:
    no_msg = with_output(BAD_SYSCTL, set_key(("msg",), REMOVE))
    assert len(findings(no_msg, "ERR001")) == 1
    assert findings(no_msg, "ERR003") == []


def test_err001_leaves_successful_results_alone() -> None:
    # An ADD result (no code) is not an error record; a non-JSON ADD OUTPUT is RES001's.
    assert findings(ADD_OK, "ERR001") == []
    assert findings(with_output(ADD_OK, raw="oops\n"), "ERR001") == []


def test_err007_codes_per_version() -> None:
    # 0.3.1 defines 1 and 2 only; libcni's 0 and 8 are ERR008's; 100+ is free.
    assert findings(with_output(CHECK_031, set_key(("code",), 2)), "ERR007") == []
    assert findings(with_output(CHECK_031, set_key(("code",), 3)), "ERR007")
    assert findings(with_output(CHECK_031, set_key(("code",), 0)), "ERR007") == []
    assert findings(with_output(CHECK_031, set_key(("code",), 8)), "ERR007") == []
    assert findings(with_output(CHECK_031, set_key(("code",), 100)), "ERR007") == []
    # An unreleased later version (9.9.9) is read as the newest: code 1 is defined.
    assert findings(BAD_VERSION, "ERR007") == []


def test_err007_severity_and_libcni_profile() -> None:
    at_040 = with_input(IFNAME_TOO_LONG, set_key(("cniVersion",), "0.4.0"))
    (spec,) = findings(at_040, "ERR007")
    assert spec.severity == "error"  # 0.4.0: codes 1-99 must not be used otherwise
    (libcni,) = findings(at_040, "ERR007", profile="libcni")
    assert libcni.severity == "info" and libcni.deviation
    (old,) = findings(with_output(CHECK_031, set_key(("code",), 7)), "ERR007")
    assert old.severity == "warning"


def test_err007_skips_a_request_whose_version_is_unreadable() -> None:
    # E1: INPUT is cut off, so the request's version is unknown; code 6 cannot be judged.
    assert TRUNCATED_INPUT.input is not None and not TRUNCATED_INPUT.input.is_json
    assert findings(TRUNCATED_INPUT, "ERR007") == []
    # The same code on a readable 0.4.0 request is reported.
    readable = with_input(TRUNCATED_INPUT, {"cniVersion": "0.4.0", "name": "crio", "type": "bridge"})
    assert findings(readable, "ERR007")


def test_err009_needs_a_110_request() -> None:
    # 50/51 are only defined from 1.1.0: a 1.0.0 record is ERR007's business.
    assert findings(with_output(BAD_SYSCTL, set_key(("code",), 50)), "ERR009") == []


def test_err010_accepts_libcni_phrasings_and_ignores_unknown_commands() -> None:
    assert findings(IFNAME_TOO_LONG, "ERR010") == []  # "interface name" counts as CNI_IFNAME
    container = with_output(IFNAME_TOO_LONG, {"code": 4, "msg": "invalid characters in containerID"})
    assert findings(container, "ERR010") == []
    # CNI_COMMAND=FOO is not a command ERR010 runs on (the catalogue lists ADD-STATUS).
    vague = with_output(UNKNOWN_COMMAND, {"code": 4, "msg": "unknown command"})
    assert findings(vague, "ERR010") == []


def test_err011_needs_key_and_value() -> None:
    key_only = with_output(BAD_SYSCTL, {"code": 2, "msg": "unsupported field sysctl"})
    assert findings(key_only, "ERR011")
    nested = with_output(BAD_SYSCTL, {"code": 2, "msg": 'unsupported field "name": "badchain"'})
    assert findings(nested, "ERR011") == []


def test_error_schema_is_valid_and_owns_its_rules() -> None:
    schema = load_schema("error.json")
    Draft202012Validator.check_schema(schema)
    assert owned_rules("error.json") == {"ERR001", "ERR002", "ERR003", "ERR004", "ERR005"}
    validator = Draft202012Validator(schema)
    real_error = BAD_VERSION.output.value | {"cniVersion": "1.0.0"}
    assert list(validator.iter_errors(real_error)) == []
    broken = json.loads('{"code": -4, "msg": "", "details": 3}')
    assert len(list(validator.iter_errors(broken))) == 4  # code, msg, details, cniVersion
