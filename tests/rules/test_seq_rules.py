"""SEQ rules: one failing and one passing case each, from real records, plus the
exact SEQ findings on every real capture and the bounds of the lifecycle state."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REAL, SCENARIOS
from rulekit import REMOVE, cross_findings, real, records_of, set_key, with_env, with_input, with_output

from cnilint.correlate import lifecycle
from cnilint.parse import Record

S02B = "02b-bridge-1.0.0"
ADD = real(S02B, "bridge", 0)  # ADD 4b2e.. eth0 on "crio", 20:13:06-07
ADD_B = real(S02B, "bridge", 1)  # ADD e2f7.. 20:13:07
CHECK = real(S02B, "bridge", 3)  # CHECK 4b2e.. 20:13:07
DEL = real(S02B, "bridge", 6)  # DEL 4b2e.. 20:13:07-08
DEL_B = real(S02B, "bridge", 7)  # DEL e2f7.. 20:13:08
DEL_C = real(S02B, "bridge", 8)  # DEL c421.. 20:13:08
CID = ADD.container_id


def _at(record: Record, start: int = 0, end: int | None = None) -> Record:
    """The record with its dates moved by whole seconds (end: its return, relative to its start)."""
    started = record.started_at + timedelta(seconds=start)
    returned = started + timedelta(seconds=end) if end is not None else record.returned_at + timedelta(seconds=start)
    return replace(record, started_at=started, returned_at=returned)


def _same_container(record: Record, ifname: str = "net1") -> Record:
    """Another attachment of ADD's container: same CNI_CONTAINERID, other interface."""
    return with_env(record, CNI_CONTAINERID=CID, CNI_IFNAME=ifname)


def _as(record: Record, source: Record) -> Record:
    """`record` made a call of `source`'s attachment (container, netns, ifname, args)."""
    return with_env(
        record,
        CNI_CONTAINERID=source.container_id,
        CNI_NETNS=source.netns,
        CNI_IFNAME=source.ifname,
        CNI_ARGS=source.cni_args,
    )


def _gc(record: Record, valid: list | None, version: str = "1.1.0") -> Record:
    """A GC of network "crio" made from a real record (libcni sends no attachment parameters)."""
    gc = with_env(record, CNI_COMMAND="GC", CNI_CONTAINERID="", CNI_NETNS="", CNI_IFNAME="", CNI_ARGS="")
    gc = with_input(gc, set_key(("cniVersion",), version))
    if "prevResult" in gc.input.value:
        gc = with_input(gc, set_key(("prevResult",), REMOVE))
    if valid is not None:
        gc = with_input(gc, set_key(("cni.dev/valid-attachments",), valid))
    return gc


def _with_version(record: Record, version: str) -> Record:
    return with_input(record, set_key(("cniVersion",), version))


def _container_records(scenario: str, plugin: str, container_prefix: str) -> list[Record]:
    return [r for r in records_of(scenario, plugin) if (r.container_id or "").startswith(container_prefix)]


def _log(*records: Record) -> list[list[Record]]:
    return [list(records)]


# 07-errors, one attachment at a time (bridge records only: its delegates are not runtime-issued)
E5 = _container_records("07-errors", "bridge", "293199a79c1e")  # failed ADD, then DEL
E6 = _container_records("07-errors", "bridge", "c2ae1b520e2c")  # ADD, second ADD (fails), DEL
E7 = _container_records("07-errors", "bridge", "a2364e6ed964")  # ADD, DEL, DEL, DEL
E8 = _container_records("07-errors", "bridge", "788a0972e6f6")  # ADD, DEL, CHECK
E3 = _container_records("07-errors", "bridge", "85dd47756d55")  # failed ADD (9.9.9), nothing after

ERROR = {"code": 999, "msg": "failed to find bridge cni0"}
CLASSIC = records_of("01-classic-0.3.1", "bridge")  # the classic 0.3.1 network of 08-concurrency
SAME_ADDRESS = with_output(CLASSIC[1], set_key(("ips", 0, "address"), "10.85.0.2/16"))  # CLASSIC[0]'s address

CASES = [
    # rule, failing logs, passing logs
    ("SEQ001", _log(real("02a-bridge-0.4.0", "bridge", 0), _as(real("02a-bridge-0.4.0", "bridge", 1),
                                                                real("02a-bridge-0.4.0", "bridge", 0))),
     _log(*records_of("02a-bridge-0.4.0", "bridge"))),
    ("SEQ002", _log(*E6), _log(*records_of(S02B, "bridge"))),
    ("SEQ002", _log(ADD, with_input(_as(ADD_B, ADD), set_key(("name",), "other"))),
     _log(ADD, with_input(_same_container(ADD_B), set_key(("name",), "other")))),
    ("SEQ003", _log(*E8), _log(*records_of(S02B, "bridge"))),
    ("SEQ004", _log(ADD, with_env(CHECK, CNI_NETNS="/var/run/netns/other")), _log(ADD, CHECK)),
    ("SEQ005", _log(ADD, with_env(DEL, CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=other")), _log(*E7)),
    ("SEQ006", _log(ADD, with_input(DEL, set_key(("ipam", "ranges", 0, 0, "subnet"), "10.86.0.0/16"))),
     _log(ADD, CHECK, DEL)),
    ("SEQ007", _log(ADD, with_input(ADD_B, set_key(("bridge",), "cni1"))), _log(ADD, ADD_B)),
    # ADD 20:13:06-09 and another ADD of its container 20:13:07-08 / ADD 20:13:06-07 and the other from :07
    ("SEQ008", _log(_at(ADD, end=3), _at(_same_container(ADD_B), end=1)),
     _log(_at(ADD, end=1), _at(_same_container(ADD_B), end=1))),
    ("SEQ009", _log(_at(ADD, end=3), _at(_gc(ADD_B, None), end=1)),
     _log(_at(ADD, end=1), _at(_gc(ADD_B, None), end=1))),
    ("SEQ010", _log(*E3), _log(*E5)),
    ("SEQ011", _log(*E7[:3], with_output(E7[3], ERROR)), _log(*E7)),
    ("SEQ012", _log(CLASSIC[0], SAME_ADDRESS),
     _log(CLASSIC[0], CLASSIC[4], _at(SAME_ADDRESS, start=3))),  # the address came free with the DEL
    ("SEQ013", _log(ADD, _same_container(ADD_B)), _log(ADD, with_env(_same_container(ADD_B), CNI_NETNS=ADD.netns))),
    ("SEQ014", _log(ADD, _gc(DEL_B, [])), _log(ADD, _gc(DEL_B, [{"containerID": CID, "ifname": "eth0"}]))),
    ("SEQ015", _log(ADD, DEL, _gc(DEL_C, [{"containerID": CID, "ifname": "eth0"}])),
     _log(ADD, _gc(DEL_C, [{"containerID": CID, "ifname": "eth0"}]))),
]  # fmt: skip


@pytest.mark.parametrize(("rule_id", "failing", "passing"), CASES, ids=[case[0] for case in CASES])
def test_seq_rule_fails_and_passes(rule_id: str, failing: list[list[Record]], passing: list[list[Record]]) -> None:
    assert cross_findings(failing, rule_id), f"{rule_id} should fire"
    assert cross_findings(passing, rule_id) == []


def test_every_seq_rule_has_a_case() -> None:
    assert {case[0] for case in CASES} == {f"SEQ{number:03d}" for number in range(1, 16)}


def test_second_add_names_the_earlier_add() -> None:
    (finding,) = cross_findings(_log(*E6), "SEQ002")
    assert (finding.record, finding.path) == (E6[1].index, "CNI_CONTAINERID")
    assert [related.line for related in finding.related] == [E6[0].line]
    assert "c2ae1b520e2c/eth0" in finding.message


def test_second_add_on_another_interface_is_allowed() -> None:
    # 1.x keys the attachment by (CNI_CONTAINERID, CNI_IFNAME): another ifname is another attachment.
    assert cross_findings(_log(ADD, _same_container(ADD_B)), "SEQ002") == []


def test_add_again_after_del_is_allowed() -> None:
    assert cross_findings(_log(ADD, DEL, _at(_as(ADD_B, ADD), start=2)), "SEQ002") == []


def test_check_after_a_failed_add_is_put_down_to_the_wrapper() -> None:
    # E15: tuning's ADD failed, the wrapper exited 0, the runtime went on and CHECKed.
    logs = [records_of("07-errors", plugin) for plugin in ("bridge", "tuning", "portmap")]
    found = [f for f in cross_findings(logs, "SEQ003") if "badchain" in f.message]
    assert len(found) == 1 and found[0].severity == "info" and found[0].deviation
    assert "never live" in found[0].message


def test_failed_add_without_del_is_put_down_to_the_wrapper() -> None:
    (finding,) = cross_findings(_log(*E3), "SEQ010")
    assert finding.severity == "info" and "wrapper" in (finding.deviation or "")
    assert "incompatible CNI versions" in finding.message


def test_repeated_del_failure_points_at_its_code() -> None:
    (finding,) = cross_findings(_log(*E7[:3], with_output(E7[3], ERROR)), "SEQ011")
    assert finding.path == "$.code" and finding.severity == "error"
    assert [related.line for related in finding.related] == [E7[2].line]


def test_del_after_add_then_del_again_in_0_4_0_is_a_warning() -> None:
    records = records_of("02a-bridge-0.4.0", "bridge")
    add, delete = records[0], records[6]
    again = _at(with_output(delete, ERROR), start=2)
    (finding,) = cross_findings(_log(add, delete, replace(again, index=99, line=9999)), "SEQ011")
    assert finding.severity == "warning"


def test_del_parameters_may_have_an_empty_netns() -> None:
    assert cross_findings(_log(ADD, with_env(DEL, CNI_NETNS="")), "SEQ005") == []


def test_args_may_vary_before_1_0_0() -> None:
    records = records_of("02a-bridge-0.4.0", "bridge")
    add, delete = records[0], with_input(records[6], set_key(("args",), {"cni": {"ips": ["10.85.0.9"]}}))
    assert cross_findings(_log(add, delete), "SEQ006") == []
    changed = with_input(records[6], set_key(("bridge",), "cni1"))
    (finding,) = cross_findings(_log(add, changed), "SEQ006")
    assert finding.path == "$.bridge" and '"cni1"' in finding.message


def test_one_network_configuration_on_real_loopback() -> None:
    # 05-loopback: the same network "cni-loopback" at 0.3.1 for three pods, then at 1.0.0.
    (finding,) = cross_findings([records_of("05-loopback", "loopback")], "SEQ007")
    assert finding.path == "$.cniVersion" and '"0.3.1"' in finding.message


def test_parallel_operations_need_certain_overlap() -> None:
    (finding,) = cross_findings(_log(_at(ADD, end=3), _at(_same_container(ADD_B), end=1)), "SEQ008")
    assert finding.record == ADD_B.index and "20:13:07" in finding.message
    # Both started in second :06: either may have run first and returned before the other began.
    same_start = _log(_at(ADD, end=3), _at(_same_container(ADD_B), start=-1, end=1))
    assert cross_findings(same_start, "SEQ008") == []
    # A record of another container never counts (the 12 ADDs of 08-concurrency).
    assert cross_findings(_log(_at(ADD, end=3), _at(ADD_B, end=1)), "SEQ008") == []


def test_parallel_operations_from_interleaved_lines() -> None:
    # Records recovered from an interleaved region share lines of one log.
    other = replace(_same_container(ADD_B), file=ADD.file, line=ADD.line + 5, end_line=ADD.end_line + 5)
    other = replace(other, started_at=ADD.started_at, returned_at=ADD.returned_at)
    (finding,) = cross_findings(_log(ADD, other), "SEQ008")
    assert "interleave" in finding.message


def test_gc_overlapping_an_add_is_reported_on_the_later_record() -> None:
    add = _at(_with_version(ADD, "1.1.0"), start=1, end=1)
    gc = _at(_gc(ADD_B, None), start=-1, end=3)  # GC 20:13:06-09, ADD 20:13:07-08
    (finding,) = cross_findings([[gc], [add]], "SEQ009")
    assert finding.command == "ADD" and "GC" in finding.message


def test_gc_of_another_network_is_not_judged() -> None:
    gc = with_input(_gc(ADD_B, None), set_key(("name",), "other"))
    assert cross_findings(_log(_at(ADD, end=3), _at(gc, start=-1, end=1)), "SEQ009") == []


def test_duplicate_address_finding_names_both_records() -> None:
    (finding,) = cross_findings(_log(CLASSIC[0], SAME_ADDRESS), "SEQ012")
    assert finding.path == "$.ips[0].address" and "10.85.0.2" in finding.message
    assert [related.line for related in finding.related] == [CLASSIC[0].line]


def test_loopback_and_other_allocators_are_exempt() -> None:
    loopbacks = records_of("05-loopback", "loopback")
    assert cross_findings([loopbacks], "SEQ012") == []
    other_dir = with_input(SAME_ADDRESS, set_key(("ipam", "dataDir"), "/run/other"))
    assert cross_findings(_log(CLASSIC[0], other_dir), "SEQ012") == []


def test_gc_list_under_the_spec_110_key_is_read_too() -> None:
    gc = with_input(_gc(DEL_B, None), set_key(("cni.dev/attachments",), []))
    (finding,) = cross_findings(_log(ADD, gc), "SEQ014")
    assert "cni.dev/attachments" in finding.message


# -- every real capture: the exact SEQ findings ----------------------------------------

EXPECTED = {
    "05-loopback": [("loopback", 182, "SEQ007")],  # 1.0.0 configuration of the 0.3.1 network
    "07-errors": [
        ("bridge", 138, "SEQ010"),  # E3: failed ADD (9.9.9), never DELeted (wrapper artefact)
        ("bridge", 163, "SEQ007"),  # E3: crio at 9.9.9 after crio at 1.0.0
        ("bridge", 422, "SEQ007"),  # E5: crio back at 1.0.0
        ("bridge", 537, "SEQ002"),  # E6: second ADD without DEL
        ("bridge", 875, "SEQ003"),  # E8: CHECK after DEL
        ("bridge", 904, "SEQ010"),  # E9: failed ADD (ifname too long), never DELeted
        ("bridge", 1137, "SEQ007"),  # E12: crio at 1.0.0 after E11's 0.3.1
        ("bridge", 1382, "SEQ003"),  # E15: CHECK of an attachment whose ADD failed (wrapper artefact)
    ],
}


def _logs(scenario: str) -> list[list[Record]]:
    files = sorted(p for p in (REAL / scenario).iterdir() if p.suffix not in (".json", ".md"))
    return [records_of(scenario, path.name) for path in files]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_seq_findings_on_real_captures(scenario: str) -> None:
    found = []
    for number in range(1, 16):
        rule_id = f"SEQ{number:03d}"
        found += [(Path(f.file).name, f.line, f.rule) for f in cross_findings(_logs(scenario), rule_id)]
    assert sorted(found) == sorted(EXPECTED.get(scenario, []))


# -- the lifecycle state stays bounded ----------------------------------------------


def _call_stream(records: list[Record]):  # a generator of calls
    from cnilint.correlate.calls import merge_in_time
    from cnilint.engine import Engine
    from cnilint.options import Options

    engine = Engine(Options(ignore=("ALL",)))
    return merge_in_time([engine.check(records)])


def test_tombstones_and_history_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "MAX_TOMBSTONES", 3)
    monkeypatch.setattr(lifecycle, "MAX_HISTORY", 2)
    add, check, delete = ADD, CHECK, DEL
    records: list[Record] = []
    for number in range(10):  # ten pods ADDed, CHECKed three times, DELeted; one more left live
        cid = f"{number:064x}"
        shift = 10 * number
        records += [_at(with_env(add, CNI_CONTAINERID=cid), start=shift)]
        records += [_at(with_env(check, CNI_CONTAINERID=cid), start=shift + k) for k in (1, 2, 3)]
        records += [_at(with_env(delete, CNI_CONTAINERID=cid), start=shift + 4)]
    records.append(_at(ADD, start=200))
    records = [replace(record, index=index, line=index + 1) for index, record in enumerate(records)]
    tracker = lifecycle.LifecycleTracker()
    for call in _call_stream(records):
        list(tracker.add(call))
    list(tracker.finish())
    assert len(tracker.attachments) == 3 + 1  # three tombstones and the live attachment
    assert [a.key[1] for a in tracker.live()] == [CID]
    assert all(len(a.history) <= 2 for a in tracker.attachments.values())
    assert sum(len(keys) for keys in tracker._by_container.values()) == 1  # only the live one is indexed


def test_duplicate_address_in_a_delegated_ipam_result() -> None:
    # bridge reports 10.85.0.3 but its host-local call handed out 10.85.0.2, held by the first pod.
    ipam = records_of("01-classic-0.3.1", "host-local")
    duplicate = with_output(ipam[1], set_key(("ips", 0, "address"), "10.85.0.2/16"))
    (finding,) = cross_findings([CLASSIC[:2], [ipam[0], duplicate]], "SEQ012")
    assert finding.plugin == "host-local" and finding.record == 1 and finding.path == "$.ips[0].address"
    assert cross_findings([CLASSIC[:2], ipam[:2]], "SEQ012") == []
