"""LIST rules: the real logs against the network configuration lists they came from
(fixtures/conflists/<scenario>/), each list or record edited as little as possible."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from conftest import FIXTURES, log_files
from rulekit import cross_findings, records_of, set_key, with_env, with_input

from cnilint import parse
from cnilint.cli import main
from cnilint.correlate.conflist import Conflist, load_conflists
from cnilint.parse import Record

CONFLISTS = FIXTURES / "conflists"
CHAIN = "03a-chain-1.0.0"
CHAIN_PLUGINS = ("bridge", "host-local", "portmap", "tuning", "bandwidth")
PTP = "04-ptp-macvlan"
PTP_PLUGINS = ("ptp", "host-local", "portmap")
LIST_RULES = [f"LIST{n:03d}" for n in range(1, 10)]


def logs(scenario: str, plugins: tuple[str, ...], **edits: dict[int, Record | None]) -> list[list[Record]]:
    found = []
    for plugin in plugins:
        changes = edits.get(plugin.replace("-", "_"), {})
        records = [changes.get(r.index, r) for r in records_of(scenario, plugin)]
        found.append([r for r in records if r is not None])
    return found


def lists(scenario: str) -> dict[str, Conflist]:
    return load_conflists([str(CONFLISTS / scenario)])


def edited(scenario: str, name: str, edit) -> dict[str, Conflist]:
    """The scenario's lists with one list's data edited (a function of a deep copy)."""
    found = lists(scenario)
    conflist = found[name]
    found[name] = Conflist(conflist.path, edit(copy.deepcopy(conflist.data)))
    return found


def plugin_entry(data: dict, plugin_type: str) -> dict:
    return next(p for p in data["plugins"] if p["type"] == plugin_type)


def as_gc(rec: Record, version: str = "1.1.0") -> Record:
    """A real DEL record turned into a GC call: no attachment parameters, no prevResult."""
    rec = with_env(rec, CNI_COMMAND="GC", CNI_CONTAINERID="", CNI_NETNS="", CNI_IFNAME="", CNI_ARGS="")

    def edit(config: dict) -> dict:
        config.pop("prevResult", None)
        config.pop("runtimeConfig", None)
        config["cniVersion"] = version
        return config

    return with_input(rec, edit)


# ---------------------------------------------------------------- the fixtures


def test_the_fixture_lists_reproduce_every_real_request() -> None:
    # Each scenario's lists, read as libcni reads them, give exactly the INPUTs of its logs.
    for scenario in sorted(p.name for p in CONFLISTS.iterdir() if p.is_dir()):
        captured = [list(parse(path)) for path in log_files(scenario)]
        for rule_id in LIST_RULES:
            assert cross_findings(captured, rule_id, conflists=lists(scenario)) == [], (scenario, rule_id)


def test_list_rules_are_silent_without_a_conflist() -> None:
    captured = logs("02a-bridge-0.4.0", ("bridge", "host-local"))
    assert cross_findings(captured, "LIST005") == []
    assert len(cross_findings(captured, "LIST005", conflists=lists("01-classic-0.3.1"))) == 9


# ---------------------------------------------------------------- LIST001


def test_list001_fails_on_check_of_a_network_with_disable_check() -> None:
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "disableCheck": True})
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST001", conflists=conflists)
    assert len(found) == 16 and {f.command for f in found} == {"CHECK"}  # 4 pods x 4 plugins
    assert "disableCheck true" in found[0].message
    as_string = edited(CHAIN, "crio-chain", lambda d: {**d, "disableCheck": "TRUE"})  # libcni: true
    assert len(cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST001", conflists=as_string)) == 16


def test_list001_passes_when_check_is_enabled() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST001", conflists=lists(CHAIN)) == []
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "disableCheck": False})
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST001", conflists=conflists) == []


# ---------------------------------------------------------------- LIST002


def test_list002_fails_on_gc_of_a_network_with_disable_gc() -> None:
    gc = as_gc(records_of(CHAIN, "bridge")[8])
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "cniVersion": "1.1.0", "disableGC": True})
    found = cross_findings([[gc]], "LIST002", conflists=conflists)
    assert len(found) == 1 and found[0].command == "GC" and "disableGC true" in found[0].message


def test_list002_passes_without_disable_gc() -> None:
    gc = as_gc(records_of(CHAIN, "bridge")[8])
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "cniVersion": "1.1.0"})
    assert cross_findings([[gc]], "LIST002", conflists=conflists) == []


# ---------------------------------------------------------------- LIST003


def test_list003_reports_a_disable_check_that_is_not_a_boolean() -> None:
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "disableCheck": "false"})
    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST003", conflists=conflists)
    assert len(found) == 4 and {f.severity for f in found} == {"info"}  # once per CHECK operation
    assert 'disableCheck to "false", not a boolean: libcni reads it as false' in found[0].message


def test_list003_reports_a_disable_gc_that_is_not_a_boolean() -> None:
    gc = as_gc(records_of(CHAIN, "bridge")[8])
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "cniVersion": "1.1.0", "disableGC": "yes"})
    found = cross_findings([[gc]], "LIST003", conflists=conflists)
    assert len(found) == 1 and "libcni refuses such a list" in found[0].message


def test_list003_passes_on_booleans() -> None:
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "disableCheck": False})
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST003", conflists=conflists) == []


# ---------------------------------------------------------------- LIST004


def test_list004_fails_on_a_dropped_or_altered_key() -> None:
    bridge = with_input(records_of(CHAIN, "bridge")[0], set_key(("hairpinMode",), False))
    found = cross_findings(logs(CHAIN, ("bridge",), bridge={0: bridge}), "LIST004", conflists=lists(CHAIN))
    assert len(found) == 1 and found[0].path == "$.hairpinMode"
    assert "hairpinMode is false but true in the bridge entry" in found[0].message
    portmap = with_input(records_of(CHAIN, "portmap")[0], lambda c: {k: v for k, v in c.items() if k != "snat"})
    found = cross_findings([[portmap]], "LIST004", conflists=lists(CHAIN))
    assert len(found) == 1 and "snat true of the portmap entry" in found[0].message


def test_list004_fails_on_an_added_key_or_an_unknown_type() -> None:
    tuning = with_input(records_of(CHAIN, "tuning")[0], set_key(("promisc",), True))
    found = cross_findings([[tuning]], "LIST004", conflists=lists(CHAIN))
    assert len(found) == 1 and "the runtime added it" in found[0].message
    firewall = with_input(records_of(CHAIN, "tuning")[0], set_key(("type",), "firewall"))
    found = cross_findings([[firewall]], "LIST004", conflists=lists(CHAIN))
    assert len(found) == 1 and 'type "firewall" is not a plugin of the list' in found[0].message


def test_list004_passes_on_runtime_inserted_keys() -> None:
    # args and cni.dev/* are the runtime's to add; runtimeConfig, prevResult, capabilities too.
    def runtime_keys(config: dict) -> dict:
        return {**config, "args": {"cni": {"ips": ["10.85.0.9"]}}, "cni.dev/attachments": []}

    portmap = with_input(records_of(CHAIN, "portmap")[0], runtime_keys)
    assert cross_findings([[portmap]], "LIST004", conflists=lists(CHAIN)) == []


# ---------------------------------------------------------------- LIST005


def test_list005_fails_on_a_version_other_than_the_list() -> None:
    # 02a's runtime forced 0.4.0; the classic file says 0.3.1.
    captured = logs("02a-bridge-0.4.0", ("bridge", "host-local"))
    found = cross_findings(captured, "LIST005", conflists=lists("01-classic-0.3.1"))
    assert len(found) == 9 and found[0].path == "$.cniVersion"
    assert 'cniVersion "0.4.0" is not the list\'s cniVersion "0.3.1"' in found[0].message


def test_list005_accepts_any_version_of_cni_versions() -> None:
    conflists = edited("02a-bridge-0.4.0", "crio", lambda d: {**d, "cniVersion": "0.3.1", "cniVersions": ["0.4.0"]})
    captured = logs("02a-bridge-0.4.0", ("bridge", "host-local"))
    assert cross_findings(captured, "LIST005", conflists=conflists) == []
    assert cross_findings(captured, "LIST005", conflists=lists("02a-bridge-0.4.0")) == []


def test_list005_fails_on_another_name() -> None:
    # The list of a record is found by name, so only a list handed over under another name differs.
    conflists = lists(CHAIN)
    conflists["crio-chain"] = Conflist("renamed", {**conflists["crio-chain"].data, "name": "crio-chain-2"})
    found = cross_findings([records_of(CHAIN, "tuning")[:1]], "LIST005", conflists=conflists)
    assert len(found) == 1 and found[0].path == "$.name"


# ---------------------------------------------------------------- LIST006


def _at(rec: Record, version: str) -> Record:
    def edit(config: dict) -> dict:
        config["cniVersion"] = version
        if isinstance(config.get("prevResult"), dict):
            config["prevResult"]["cniVersion"] = version
        return config

    return with_input(rec, edit)


def _version_reply(plugin: str, versions: list[str]) -> Record:
    """06-version's VERSION record of a plugin, answering `versions`."""
    from rulekit import with_output

    rec = next(r for r in records_of("06-version", plugin) if r.command == "VERSION")
    return with_output(rec, {"cniVersion": "1.1.0", "supportedVersions": versions})


def _list006_logs(supported: list[str]) -> list[list[Record]]:
    # A day before the chain's second pod, every plugin of the list answered VERSION and the
    # runtime spoke 1.2.0 (another pod); then the pod's ADD chain went out at 1.1.0.
    chain = [_at(records_of(CHAIN, p)[1], "1.1.0") for p in ("bridge", "portmap", "tuning", "bandwidth")]
    day_before = chain[0].started_at - timedelta(days=1)

    def early(rec: Record) -> Record:
        return replace(rec, started_at=day_before, returned_at=day_before)

    replies = [early(_version_reply(p, supported)) for p in ("bridge", "portmap", "tuning", "bandwidth")]
    spoken = early(with_env(_at(records_of(CHAIN, "bridge")[0], "1.2.0"), CNI_CONTAINERID="0" * 64))
    by_plugin: dict[str, list[Record]] = {}
    for rec in [*replies, spoken, *chain]:
        by_plugin.setdefault(rec.plugin or "", []).append(rec)
    return [sorted(records, key=lambda r: r.started_at) for records in by_plugin.values()]


def test_list006_fails_when_a_higher_listed_version_works_for_all() -> None:
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "cniVersion": "1.1.0", "cniVersions": ["1.1.0", "1.2.0"]})
    found = cross_findings(_list006_logs(["1.0.0", "1.1.0", "1.2.0"]), "LIST006", conflists=conflists)
    assert len(found) == 4 and {f.version for f in found} == {"1.1.0"}
    assert 'offers "1.2.0"' in found[0].message


def test_list006_passes_when_a_plugin_lacks_the_higher_version() -> None:
    conflists = edited(CHAIN, "crio-chain", lambda d: {**d, "cniVersion": "1.1.0", "cniVersions": ["1.1.0", "1.2.0"]})
    assert cross_findings(_list006_logs(["1.0.0", "1.1.0"]), "LIST006", conflists=conflists) == []


# ---------------------------------------------------------------- LIST007


def test_list007_fails_on_a_proven_order_other_than_the_list() -> None:
    # The list reversed: the ADD's first record (ptp, no prevResult) ran before portmap.
    conflists = edited(PTP, "ptpnet", lambda d: {**d, "plugins": d["plugins"][::-1]})
    found = cross_findings(logs(PTP, PTP_PLUGINS), "LIST007", conflists=conflists)
    commands = sorted(f.command for f in found)
    # ADD (both pods: opener proven first), CHECK of pod 2 (24 → 25), DEL of pod 1 (26 → 27).
    assert commands == ["ADD", "ADD", "CHECK", "DEL"]


def test_list007_fails_on_a_check_out_of_list_order() -> None:
    ptp_check = records_of(PTP, "ptp")[3]  # second 24; portmap's CHECK is in 25
    later = replace(
        ptp_check,
        started_at=ptp_check.started_at + timedelta(seconds=2),
        returned_at=ptp_check.returned_at + timedelta(seconds=1),
    )
    found = cross_findings(logs(PTP, PTP_PLUGINS, ptp={3: later}), "LIST007", conflists=lists(PTP))
    assert len(found) == 1 and found[0].command == "CHECK" and found[0].plugin == "portmap"


def test_list007_passes_on_list_order() -> None:
    assert cross_findings(logs(PTP, PTP_PLUGINS), "LIST007", conflists=lists(PTP)) == []
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST007", conflists=lists(CHAIN)) == []


def test_list007_judges_only_the_order_the_dates_prove() -> None:
    # 03a with portmap, tuning and bandwidth listed in reverse: most operations run them within
    # one second (order unproven, no finding); only the third pod's ADD (portmap 11 → tuning 12)
    # and DEL (bandwidth 15 → portmap 16) prove an order, and it is not the list's.
    def reverse_tail(data: dict) -> dict:
        return {**data, "plugins": [data["plugins"][0], *data["plugins"][:0:-1]]}

    found = cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST007", conflists=edited(CHAIN, "crio-chain", reverse_tail))
    assert sorted((f.plugin, f.command) for f in found) == [("bandwidth", "DEL"), ("portmap", "ADD")]


# ---------------------------------------------------------------- LIST008


def test_list008_fails_on_runtime_config_without_the_capability() -> None:
    def no_capability(data: dict) -> dict:
        plugin_entry(data, "portmap")["capabilities"] = {"portMappings": False}
        return data

    found = cross_findings(logs(CHAIN, ("portmap",)), "LIST008", conflists=edited(CHAIN, "crio-chain", no_capability))
    # Pods 1, 3 and 4 had port mappings (ADD, CHECK, DEL each).
    assert len(found) == 9 and found[0].path == "$.runtimeConfig.portMappings"


def test_list008_passes_on_declared_capabilities() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST008", conflists=lists(CHAIN)) == []


# ---------------------------------------------------------------- LIST009


def test_list009_warns_on_reserved_keys_in_the_list() -> None:
    def reserved(data: dict) -> dict:
        plugin_entry(data, "bandwidth")["args"] = {"cni": {"labels": []}}
        return data

    found = cross_findings(logs(CHAIN, ("bandwidth",)), "LIST009", conflists=edited(CHAIN, "crio-chain", reserved))
    assert len(found) == 12 and {f.severity for f in found} == {"warning"}
    assert "reserved key args" in found[0].message


def test_list009_passes_on_the_real_list() -> None:
    assert cross_findings(logs(CHAIN, CHAIN_PLUGINS), "LIST009", conflists=lists(CHAIN)) == []


# ---------------------------------------------------------------- the command line


def _check_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["check", "--format", "json", "--select", "LIST", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_cli_conflist_file_and_folder(capsys) -> None:
    logs_02a = [str(path) for path in log_files("02a-bridge-0.4.0")]
    code, report = _check_json(capsys, *logs_02a)
    assert code == 0 and report["findings"] == []  # no --conflist: silent
    wrong = str(CONFLISTS / "01-classic-0.3.1" / "100-crio-bridge.conf")
    code, report = _check_json(capsys, *logs_02a, "--conflist", wrong)
    assert code == 1 and {f["rule"] for f in report["findings"]} == {"LIST005"} and len(report["findings"]) == 9
    code, report = _check_json(capsys, *logs_02a, "--conflist", str(CONFLISTS / "02a-bridge-0.4.0"))
    assert code == 0 and report["findings"] == []


def test_cli_conflist_on_the_real_chain(capsys, tmp_path: Path) -> None:
    chain_logs = [str(path) for path in log_files(CHAIN)]
    right = str(CONFLISTS / CHAIN / "crio-chain.conflist")
    code, report = _check_json(capsys, *chain_logs, "--conflist", right)
    assert code == 0 and report["findings"] == []
    data = json.loads(Path(right).read_text())
    data["disableCheck"] = True
    no_check = tmp_path / "crio-chain.conflist"
    no_check.write_text(json.dumps(data))
    code, report = _check_json(capsys, *chain_logs, "--conflist", str(no_check))
    assert code == 1 and {f["rule"] for f in report["findings"]} == {"LIST001"}
