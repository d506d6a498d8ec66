"""CHAIN rules: failing and passing cases built from the real chains.

03a-chain-1.0.0 is bridge(host-local) -> portmap -> tuning -> bandwidth at 1.0.0;
04-ptp-macvlan's ptpnet is ptp(host-local) -> portmap at 0.4.0, with ADD, CHECK
and DEL a second or more apart (so their order is proven); 07-errors' badchain
is bridge -> tuning (fails, hidden by the wrapper) -> portmap at 1.0.0.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from rulekit import REMOVE, cross_findings, records_of, set_key, with_env, with_input, with_output

from cnilint.parse import Record

CHAIN = "03a-chain-1.0.0"
CHAIN_PLUGINS = ("bridge", "host-local", "portmap", "tuning", "bandwidth")
PTP = "04-ptp-macvlan"
PTP_PLUGINS = ("ptp", "host-local", "portmap")
ERRORS = "07-errors"
BADCHAIN_PLUGINS = ("bridge", "host-local", "tuning", "portmap")


def logs(scenario: str, plugins: tuple[str, ...], **edits: dict[int, Record | None]) -> list[list[Record]]:
    """The real logs of a scenario; `edits[plugin][index]` replaces (or with None drops) one record."""
    found = []
    for plugin in plugins:
        records = records_of(scenario, plugin)
        changes = edits.get(plugin.replace("-", "_"), {})
        found.append([changes.get(r.index, r) for r in records if changes.get(r.index, r) is not None])
    return found


def record(scenario: str, plugin: str, index: int) -> Record:
    return records_of(scenario, plugin)[index]


def shifted(rec: Record, start: int, end: int | None = None) -> Record:
    """The record with its dates moved by whole seconds (end defaults to start)."""
    assert rec.started_at is not None and rec.returned_at is not None
    end = start if end is None else end
    return replace(
        rec,
        started_at=rec.started_at + timedelta(seconds=start),
        returned_at=rec.returned_at + timedelta(seconds=end),
    )


def failed(rec: Record, msg: str = "injected failure") -> Record:
    return with_output(rec, {"code": 999, "msg": msg})


# ---------------------------------------------------------------- CHAIN001


def test_chain001_passes_on_the_real_chain() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN001") == []


def test_chain001_fails_when_the_first_plugin_log_is_missing() -> None:
    # Without bridge's log, portmap opens each ADD operation, with bridge's result as prevResult.
    found = cross_findings(logs(CHAIN, ("portmap", "tuning", "bandwidth")), "CHAIN001")
    assert len(found) == 4 and {f.plugin for f in found} == {"portmap"}
    assert "carries a prevResult" in found[0].message


# ---------------------------------------------------------------- CHAIN002


def test_chain002_passes_on_the_real_chain_whatever_the_order_within_a_second() -> None:
    # All four plugins of an ADD start in one second: the engine's order there is a guess,
    # and pass-through outputs are alike, so any possible predecessor's output is accepted.
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN002") == []
    assert cross_findings(logs(PTP, PTP_PLUGINS), "CHAIN002") == []


def test_chain002_fails_on_a_prev_result_that_no_previous_output_printed() -> None:
    tuning = with_input(record(CHAIN, "tuning", 0), set_key(("prevResult", "ips", 0, "address"), "10.85.0.9/16"))
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS, tuning={0: tuning}), "CHAIN002")
    assert len(found) == 1 and found[0].plugin == "tuning" and found[0].severity == "error"
    assert 'ips[0].address "10.85.0.9/16" where its output has "10.85.0.2/16"' in found[0].message
    assert found[0].path == "$.prevResult" and found[0].related


def test_chain002_accepts_a_cni_version_converted_to_the_request() -> None:
    # ptp prints a 0.4.0 result; portmap may get it with ips[].version dropped and cniVersion 1.0.0
    # only if it speaks 1.0.0: here it speaks 0.4.0, so a 1.0.0 prevResult is a difference.
    def as_100(config: dict) -> dict:
        for ip in config["prevResult"]["ips"]:
            ip.pop("version")
        config["prevResult"]["cniVersion"] = "1.0.0"
        return config

    portmap = with_input(record(PTP, "portmap", 0), as_100)
    found = cross_findings(logs(PTP, PTP_PLUGINS, portmap={0: portmap}), "CHAIN002")
    assert len(found) == 1 and "cniVersion" in found[0].message
    portmap_100 = with_input(portmap, set_key(("cniVersion",), "1.0.0"))
    assert cross_findings(logs(PTP, PTP_PLUGINS, portmap={0: portmap_100}), "CHAIN002") == []


def test_chain002_is_a_wrapper_artefact_after_a_hidden_failure() -> None:
    # E15: tuning failed; libcni read the error as {"cniVersion":"1.0.0","dns":{}} and passed it on.
    found = cross_findings(logs(ERRORS, BADCHAIN_PLUGINS), "CHAIN002")
    assert len(found) == 1 and found[0].plugin == "portmap" and found[0].command == "ADD"
    assert found[0].severity == "info" and "wrapper" in (found[0].deviation or "")
    assert "empty reading of tuning's ADD error" in found[0].message


# ---------------------------------------------------------------- CHAIN003


def test_chain003_passes_when_prev_result_is_kept() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN003") == []


def test_chain003_fails_on_a_lost_address_at_1_0_0_and_is_info_at_0_4_0() -> None:
    lost = with_output(record(CHAIN, "tuning", 0), lambda out: {**out, "ips": out["ips"][:1]})
    found = cross_findings([[lost]], "CHAIN003")
    assert len(found) == 1 and found[0].severity == "error"
    assert 'address "fd00:85::2/64"' in found[0].message
    lost_040 = with_output(record(PTP, "portmap", 0), lambda out: {**out, "routes": []})
    found = cross_findings([[lost_040]], "CHAIN003")
    assert len(found) == 1 and found[0].severity == "info" and 'route "0.0.0.0/0"' in found[0].message


def test_chain003_fails_on_empty_output() -> None:
    found = cross_findings([[with_output(record(CHAIN, "bandwidth", 0), raw="")]], "CHAIN003")
    assert len(found) == 1 and "printed nothing" in found[0].message


# ---------------------------------------------------------------- CHAIN004


def test_chain004_passes_on_real_pass_through_plugins() -> None:
    # tuning changed eth0's mac in the second pod (its runtimeConfig.mac): allowed.
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN004") == []


def test_chain004_fails_when_portmap_changes_the_result() -> None:
    changed = with_output(record(CHAIN, "portmap", 0), set_key(("interfaces", 0, "mac"), "02:00:00:00:00:01"))
    found = cross_findings([[changed]], "CHAIN004")
    assert len(found) == 1 and "may change nothing" in found[0].message
    assert 'interfaces[0].mac "02:00:00:00:00:01"' in found[0].message


def test_chain004_tuning_may_change_only_the_container_interface() -> None:
    tuning = record(CHAIN, "tuning", 0)
    own = with_output(tuning, set_key(("interfaces", 2, "mac"), "02:00:00:00:00:01"))  # eth0
    assert cross_findings([[own]], "CHAIN004") == []
    bridge_side = with_output(tuning, set_key(("interfaces", 0, "mac"), "02:00:00:00:00:01"))  # cni0
    assert len(cross_findings([[bridge_side]], "CHAIN004")) == 1


def test_chain004_bandwidth_may_only_append_interfaces() -> None:
    bandwidth = record(CHAIN, "bandwidth", 1)

    def add_ifb(out: dict) -> dict:
        out["interfaces"].append({"name": "bwp883e5b71", "mac": "02:00:00:00:00:02"})
        return out

    assert cross_findings([[with_output(bandwidth, add_ifb)]], "CHAIN004") == []
    dropped = with_output(bandwidth, lambda out: {**out, "interfaces": out["interfaces"][1:]})
    assert len(cross_findings([[dropped]], "CHAIN004")) == 1


# ---------------------------------------------------------------- CHAIN005


def test_chain005_passes_on_one_version_and_name() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN005") == []


def test_chain005_fails_on_another_cni_version_in_the_operation() -> None:
    portmap = with_input(record(CHAIN, "portmap", 0), set_key(("cniVersion",), "0.4.0"))
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS, portmap={0: portmap}), "CHAIN005")
    assert len(found) == 1 and found[0].plugin == "portmap"
    assert 'cniVersion "0.4.0" differs from "1.0.0" of bridge' in found[0].message


def test_chain005_fails_on_another_name_continuing_the_chain() -> None:
    portmap = with_input(record(CHAIN, "portmap", 0), set_key(("name",), "other-net"))
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS, portmap={0: portmap}), "CHAIN005")
    assert len(found) == 1 and found[0].plugin == "portmap" and found[0].path == "$.name"
    # bridge's, bandwidth's and tuning's outputs are alike here: any of them may be named.
    assert 'name "other-net" differs from "crio-chain" of' in found[0].message and found[0].related


# ---------------------------------------------------------------- CHAIN006


def test_chain006_passes_on_one_environment() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN006") == []


def test_chain006_fails_on_other_cni_args_in_the_operation() -> None:
    tuning = with_env(record(CHAIN, "tuning", 0), CNI_ARGS="IgnoreUnknown=1")
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS, tuning={0: tuning}), "CHAIN006")
    assert len(found) == 1 and found[0].plugin == "tuning" and found[0].path == "CNI_ARGS"


# ---------------------------------------------------------------- CHAIN007


def test_chain007_passes_on_the_real_checks() -> None:
    # 0.4.0 (ptpnet, 02a) and 1.0.0 (03a, 02b): CHECK got the cached final result.
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN007") == []
    assert cross_findings(logs(PTP, PTP_PLUGINS), "CHAIN007") == []
    assert cross_findings(logs("02a-bridge-0.4.0", ("bridge", "host-local")), "CHAIN007") == []


def test_chain007_fails_on_a_prev_result_other_than_the_final_add_result() -> None:
    # Pod 2: tuning set eth0's mac to c2:b0:57:49:47:f1; a CHECK with bridge's original mac is stale.
    stale = with_input(
        record(CHAIN, "bandwidth", 5), set_key(("prevResult", "interfaces", 2, "mac"), "aa:aa:aa:aa:aa:aa")
    )
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS, bandwidth={5: stale}), "CHAIN007")
    assert len(found) == 1 and found[0].plugin == "bandwidth" and found[0].command == "CHECK"
    assert 'interfaces[2].mac "aa:aa:aa:aa:aa:aa" where the final ADD result has "c2:b0:57:49:47:f1"' in (
        found[0].message
    )


# ---------------------------------------------------------------- CHAIN008


def test_chain008_passes_on_the_real_dels() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN008") == []
    assert cross_findings(logs("02b-bridge-1.0.0", ("bridge", "host-local")), "CHAIN008") == []


def test_chain008_fails_on_a_missing_or_different_prev_result() -> None:
    del_record = record("02b-bridge-1.0.0", "bridge", 6)
    missing = with_input(del_record, set_key(("prevResult",), REMOVE))
    found = cross_findings(logs("02b-bridge-1.0.0", ("bridge",), bridge={6: missing}), "CHAIN008")
    assert len(found) == 1 and "carries no prevResult" in found[0].message
    other = with_input(del_record, set_key(("prevResult", "ips", 0, "gateway"), "10.85.0.254"))
    found = cross_findings(logs("02b-bridge-1.0.0", ("bridge",), bridge={6: other}), "CHAIN008")
    assert len(found) == 1 and 'ips[0].gateway "10.85.0.254"' in found[0].message


def test_chain008_needs_the_successful_add_in_the_log() -> None:
    # Without the ADD records the log does not say what the final result was.
    missing = with_input(record("02b-bridge-1.0.0", "bridge", 6), set_key(("prevResult",), REMOVE))
    no_adds = {0: None, 1: None, 2: None, 6: missing}
    assert cross_findings(logs("02b-bridge-1.0.0", ("bridge",), bridge=no_adds), "CHAIN008") == []


# ---------------------------------------------------------------- CHAIN009


def test_chain009_passes_on_reverse_order_and_on_unproven_order() -> None:
    assert cross_findings(logs(PTP, PTP_PLUGINS), "CHAIN009") == []  # portmap 26 → ptp 27
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN009") == []  # same-second DELs


def test_chain009_fails_on_del_in_add_order() -> None:
    # ptp's DEL of the first pod moved from second 27 to 25: ptp → portmap, like the ADD.
    ptp_del = shifted(record(PTP, "ptp", 4), -2)
    found = cross_findings(logs(PTP, PTP_PLUGINS, ptp={4: ptp_del}), "CHAIN009")
    assert len(found) == 1 and found[0].plugin == "ptp"
    assert "DEL must run portmap → ptp" in found[0].message


def test_chain009_fails_on_a_skipped_plugin_but_accepts_a_prefix() -> None:
    no_portmap_del = cross_findings(logs(PTP, PTP_PLUGINS, portmap={4: None}), "CHAIN009")
    assert len(no_portmap_del) == 1 and "never portmap" in no_portmap_del[0].message
    # DEL stopped after portmap (maybe on a failure the wrapper hid): a prefix of the reverse order.
    assert cross_findings(logs(PTP, PTP_PLUGINS, ptp={4: None}), "CHAIN009") == []


# ---------------------------------------------------------------- CHAIN010


def test_chain010_passes_on_add_order() -> None:
    assert cross_findings(logs(PTP, PTP_PLUGINS), "CHAIN010") == []  # ptp 24 → portmap 25


def test_chain010_fails_on_check_in_another_order() -> None:
    # ptp's CHECK of the second pod moved from second 24 to 26, after portmap's (25).
    ptp_check = shifted(record(PTP, "ptp", 3), 2, 1)
    found = cross_findings(logs(PTP, PTP_PLUGINS, ptp={3: ptp_check}), "CHAIN010")
    assert len(found) == 1 and found[0].plugin == "portmap" and found[0].severity == "warning"
    assert "CHECK must run ptp → portmap" in found[0].message


# ---------------------------------------------------------------- CHAIN011


def test_chain011_reports_the_real_hidden_failures_as_wrapper_artefacts() -> None:
    found = cross_findings(logs(ERRORS, BADCHAIN_PLUGINS), "CHAIN011")
    # ADD: portmap ran after tuning failed (its prevResult is the error's empty reading);
    # CHECK at 1.0.0: tuning and portmap ran (second 37) after bridge's CHECK failed (second 36).
    assert sorted((f.plugin, f.command) for f in found) == [
        ("portmap", "ADD"),
        ("portmap", "CHECK"),
        ("tuning", "CHECK"),
    ]
    assert {f.severity for f in found} == {"info"} and all(f.deviation for f in found)


def test_chain011_fails_on_a_del_that_goes_on_after_an_error() -> None:
    portmap_del = failed(record(PTP, "portmap", 4))  # second 26; ptp's DEL follows in 27
    found = cross_findings(logs(PTP, PTP_PLUGINS, portmap={4: portmap_del}), "CHAIN011")
    assert len(found) == 1 and found[0].plugin == "ptp" and found[0].command == "DEL"


def test_chain011_passes_when_nothing_follows_or_the_order_is_unproven() -> None:
    # 04: portmap's CHECK failure is the last plugin. 03a: portmap's CHECK failures share their
    # second with tuning and bandwidth; only where the pod's ADD ran in two seconds does the ADD
    # prove portmap comes first (one pod): the others are not reported without the conflist.
    assert cross_findings(logs(PTP, PTP_PLUGINS), "CHAIN011") == []
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN011")
    assert sorted((f.plugin, f.line) for f in found) == [("bandwidth", 355), ("tuning", 351)]
    assert all(f.deviation and "portmap" in f.message for f in found)


def test_chain011_uses_the_conflist_order_when_the_dates_cannot() -> None:
    # 03a: truth.json shows portmap's CHECK failing (exit 1) and tuning and bandwidth run after it
    # in three of the four pods (the wrapper hid the failure); the conflist proves they come after.
    from cnilint.correlate.conflist import load_conflists

    conflists = load_conflists([str(Path(__file__).resolve().parents[2] / "fixtures/conflists/03a-chain-1.0.0")])
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS), "CHAIN011", conflists=conflists)
    assert sorted({f.plugin for f in found}) == ["bandwidth", "tuning"]
    assert len(found) == 6 and all(f.command == "CHECK" and f.severity == "info" for f in found)


def test_chain011_needs_proof_that_the_empty_prev_result_came_from_the_error() -> None:
    # If bridge itself had printed the empty result, portmap may have run right after it,
    # before tuning failed in the same second: nothing proves portmap ran after the error.
    empty = {"cniVersion": "1.0.0", "dns": {}}
    empty_bridge = with_output(record(ERRORS, "bridge", 32), empty)
    tuning = with_input(record(ERRORS, "tuning", 0), set_key(("prevResult",), empty))
    edited = logs(ERRORS, BADCHAIN_PLUGINS, bridge={32: empty_bridge}, tuning={0: tuning})
    found = cross_findings(edited, "CHAIN011")
    assert [(f.plugin, f.command) for f in found if f.command == "ADD"] == []
    # With bridge's real (full) output, only the error explains portmap's empty prevResult.
    found = cross_findings(logs(ERRORS, BADCHAIN_PLUGINS, tuning={0: tuning}), "CHAIN011")
    assert [(f.plugin, f.command) for f in found if f.command == "ADD"] == [("portmap", "ADD")]


def test_chain011_lets_a_0_4_0_check_go_on() -> None:
    ptp_check = failed(record(PTP, "ptp", 3))  # second 24; portmap's CHECK follows in 25
    assert cross_findings(logs(PTP, PTP_PLUGINS, ptp={3: ptp_check}), "CHAIN011") == []


# ---------------------------------------------------------------- every real capture


EXPECTED = {
    "07-errors": [
        ("CHAIN002", "portmap", "info", 26),  # E15 ADD: prevResult is the empty reading of tuning's error
        ("CHAIN008", "bridge", "error", 131),  # E2 DEL sent directly without prevResult after a successful ADD
        ("CHAIN011", "portmap", "info", 7),  # E15 ADD: portmap ran after tuning failed
        ("CHAIN011", "portmap", "info", 42),  # E15 CHECK: ran after bridge's CHECK failed
        ("CHAIN011", "tuning", "info", 42),
    ],
    "03a-chain-1.0.0": [
        ("CHAIN011", "tuning", "info", 351),  # CHECK went on after portmap's error (ADD order proven by dates)
        ("CHAIN011", "bandwidth", "info", 355),
    ],
}


def test_chain_findings_on_every_real_capture() -> None:
    from conftest import SCENARIOS, log_files

    from cnilint import parse

    for scenario in SCENARIOS:
        captured = [list(parse(path)) for path in log_files(scenario)]
        found = []
        for rule_id in [f"CHAIN{n:03d}" for n in range(1, 12)]:
            found += [(f.rule, f.plugin, f.severity, f.line) for f in cross_findings(captured, rule_id)]
        assert sorted(found) == sorted(EXPECTED.get(scenario, [])), scenario
