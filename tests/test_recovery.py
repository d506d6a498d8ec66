"""Records of concurrent calls are put back together (cnilint.parse.recover).

The wrapper appends each block with its own write, so concurrent calls leave
their blocks shuffled. The real capture 08-concurrency is measured against its
truth.json; small synthetic interleavings pin down gluing, ambiguity and
truncation. `python tests/test_recovery.py` prints the exact-match figures.
"""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from conftest import REAL
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from logwriter import SEPARATOR, env_output, wrapper_record

from cnilint import parse
from cnilint.parse.matching import possible_partners

CONCURRENCY = REAL / "08-concurrency"
DATE = "Fri Nov 27 08:13:38 PM UTC 2026"
CONFIG = json.dumps({"cniVersion": "1.0.0", "name": "crio", "type": "bridge"}, separators=(",", ":"))


# --------------------------------------------------------------- 08-concurrency


def _truth() -> list[dict]:
    calls = json.loads((CONCURRENCY / "truth.json").read_text())
    return sorted(calls, key=lambda call: call["started_epoch"])


def _by_call(plugin: str) -> dict[tuple[str, str], list]:
    found: dict[tuple[str, str], list] = {}
    for record in parse(CONCURRENCY / plugin):
        found.setdefault((record.container_id, record.command), []).append(record)
    return found


def _same_parameters(record, call: dict) -> bool:
    return (
        record.container_id == call["containerId"]
        and record.ifname == call["ifName"]
        and record.netns == call["netns"]
        and record.cni_args == call["cniArgs"]
        and record.cni_path == call["cniPath"]
    )


def _bridge_matches(record, call: dict) -> bool:
    """The call exactly as the runtime sent it and the plugin answered."""
    sent = dict(assignment.partition("=")[::2] for assignment in call["env_sent"])
    return (
        record.complete
        and _same_parameters(record, call)
        and record.command == call["command"]
        and record.input.raw == call["stdin"]
        and record.output.raw == call["stdout"].rstrip("\n")  # `$(...)` drops trailing newlines
        and all(record.env.get(name) == value for name, value in sent.items() if name != "SHLVL")
    )


def _host_local_matches(record, call: dict) -> bool:
    """The IPAM call bridge delegated: the parent's parameters and stdin, one
    more shell level, a result for ADD and nothing for DEL."""
    (delegated,) = call["delegated"]
    output = record.output
    answered = output.is_json and "ips" in output.value if call["command"] == "ADD" else output.raw == ""
    return (
        record.complete
        and _same_parameters(record, call)
        and record.command == delegated["command"] == call["command"]
        and record.input.raw == call["stdin"]
        and record.env.get("SHLVL") == "3"
        and answered
    )


def exact_matches(plugin: str) -> tuple[int, int, list[str]]:
    """(calls matched exactly, calls in truth.json, what went wrong)."""
    records = _by_call(plugin)
    matches = _bridge_matches if plugin == "bridge" else _host_local_matches
    matched, wrong = 0, []
    for call in _truth():
        found = records.get((call["containerId"], call["command"]), [])
        if len(found) == 1 and matches(found[0], call):
            matched += 1
        else:
            wrong.append(f"{call['command']} {call['containerId'][:12]}: {len(found)} record(s)")
    return matched, len(_truth()), wrong


@pytest.mark.parametrize("plugin", ["bridge", "host-local"])
def test_every_concurrent_call_is_recovered_exactly(plugin: str) -> None:
    matched, total, wrong = exact_matches(plugin)
    assert wrong == [] and matched == total == 26
    records = list(parse(CONCURRENCY / plugin))
    assert len(records) == 26  # nothing glued, nothing duplicated
    assert sum(record.recovered for record in records) == 24  # the warm-up ADD and DEL stand alone


@pytest.mark.parametrize("plugin", ["bridge", "host-local"])
def test_recovered_records_point_at_their_own_lines(plugin: str) -> None:
    lines = (CONCURRENCY / plugin).read_text().split("\n")
    for record in parse(CONCURRENCY / plugin):
        assert lines[record.line - 1].endswith(record.started)  # a date can follow a glued stdin
        assert lines[record.end_line - 1].endswith(SEPARATOR)
        container = f"CNI_CONTAINERID={record.container_id}"
        assert lines[record.params_line - 1].endswith(container)  # may follow a glued stdin
        assert lines[record.env_line - 1].endswith(container)
        assert lines[record.line_of_variable("CNI_NETNS") - 1].endswith(f"CNI_NETNS={record.netns}")
        assert record.input.raw in lines[record.input.line - 1]
        first_output_line = record.output.raw.split("\n")[0]
        assert lines[record.output.line - 1].endswith(first_output_line)
        if record.output.is_json and "interfaces" in record.output.value:
            sandbox_line = record.output.line_of(("interfaces", 2, "sandbox"))
            assert record.netns in lines[sandbox_line - 1]


def test_recovered_records_are_in_line_order_inside_their_region() -> None:
    reader = parse(CONCURRENCY / "bridge")
    records = list(reader)
    assert [record.index for record in records] == list(range(26))
    assert [record.line for record in records] == sorted(record.line for record in records)
    (region,) = reader.regions
    assert region.recovered and region.invocations == 24
    for record in records:
        inside = region.line <= record.line and record.end_line <= region.end_line
        outside = record.end_line < region.line or record.line > region.end_line
        assert inside if record.recovered else outside
    (problem,) = reader.problems
    assert (problem.line, problem.end_line) == (region.line, region.end_line)
    assert "24 invocations interleave here" in problem.message and "0 exact, 24 likely" in problem.message


def test_ambiguous_blocks_are_named_not_guessed_silently() -> None:
    for record in parse(CONCURRENCY / "bridge"):
        if not record.recovered:
            assert record.confidence is None and record.problems == ()
            continue
        # Every call sent the same configuration: which INPUT block is whose cannot be told.
        assert record.confidence == "likely"
        (problem,) = record.problems
        assert "INPUT" in problem.message or record.command == "DEL"
        if record.command == "DEL":  # empty outputs, all alike
            assert "OUTPUT" in problem.message and "empty lines" in problem.message


def test_host_local_outputs_assigned_by_order_are_flagged() -> None:
    """host-local's results name no sandbox: which result is whose follows
    the order of the writes. Where that disagrees with the addresses bridge
    reported for the same container, the record must say it was a guess."""
    bridge = {key: records[0] for key, records in _by_call("bridge").items()}
    disagreeing = 0
    for key, (record,) in _by_call("host-local").items():
        if record.command != "ADD" or not record.recovered:
            continue
        addresses = sorted(ip["address"] for ip in record.output.value["ips"])
        if addresses != sorted(ip["address"] for ip in bridge[key].output.value["ips"]):
            disagreeing += 1
            assert record.confidence == "likely"
            assert "OUTPUT" in record.problems[-1].message and "assigned by order" in record.problems[-1].message
    assert disagreeing <= 4  # the order of the writes gets 9 of the 13 right on this capture


def test_records_jsonl_carries_recovered_and_confidence() -> None:
    rows = [record.to_dict() for record in parse(CONCURRENCY / "bridge")]
    assert Counter((row["recovered"], row["confidence"]) for row in rows) == {(False, None): 2, (True, "likely"): 24}


# --------------------------------------------------------------- synthetic interleavings


def writes(*, container: str, command: str = "ADD", stdin: str = CONFIG, stdout: str | None = None) -> list[str]:
    """The appends the wrapper makes for one call, in order (stdin a pipe)."""
    netns = f"/var/run/netns/{container}"
    env = [
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", container),
        ("CNI_NETNS", netns),
        ("CNI_IFNAME", "eth0"),
        ("CNI_ARGS", f"K8S_POD_NAME={container}"),
        ("CNI_PATH", "/opt/cni/bin"),
        ("PATH", "/usr/bin"),
        ("SHLVL", "2"),
    ]
    if stdout is None:
        stdout = "" if command == "DEL" else _result(container, sandbox=True)
    env_text = env_output(env)
    params = "".join(line + "\n" for line in env_text.split("\n") if "CNI" in line)
    parts = [f"{DATE}\n", f"{SEPARATOR}\n", "CNI params:\n", params, "env:\n", env_text, "INPUT:\n", stdin, "\n"]
    parts += ["OUTPUT:\n", stdout.rstrip("\n") + "\n", f"Returned at: {DATE}\n", f"{SEPARATOR}\n", "\n", "\n"]
    assert "".join(parts) == wrapper_record(started=DATE, returned=DATE, env=env, stdin=stdin, stdout=stdout)
    return parts


def _result(container: str, *, sandbox: bool) -> str:
    """An ADD result: bridge's names the sandbox, host-local's does not."""
    address = f"10.85.0.{sum(map(ord, container)) % 250 + 2}/16"
    result: dict = {"cniVersion": "1.0.0", "ips": [{"address": address}]}
    if sandbox:
        result["interfaces"] = [{"name": "eth0", "sandbox": f"/var/run/netns/{container}"}]
        result["ips"][0]["interface"] = 0
    return json.dumps(result, indent=4) + "\n"


def interleave(order: str, **calls: list[str]) -> str:
    """Append the calls' writes in `order` (one letter per write, the call's
    name), as concurrent appends to one file do."""
    pending = {name: list(parts) for name, parts in calls.items()}
    text = "".join(pending[name].pop(0) for name in order)
    assert not any(pending.values()), "every write must be placed"
    return text


def round_robin(**calls: list[str]) -> str:
    names = list(calls)
    order = "".join(
        name for index in range(max(map(len, calls.values()))) for name in names if index < len(calls[name])
    )
    return interleave(order, **calls)


def _recover(log: str):
    reader = parse(io.StringIO(log), plugin="bridge")
    return list(reader), reader


def _assert_is(record, parts: list[str]) -> None:
    """The record holds exactly the call these writes came from."""
    alone = next(parse(io.StringIO("".join(parts))))
    assert record.recovered and record.complete
    assert (record.params, record.env) == (alone.params, alone.env)
    assert (record.input.raw, record.output.raw) == (alone.input.raw, alone.output.raw)
    assert (record.started, record.returned) == (alone.started, alone.returned)


def test_two_calls_alternating_write_by_write() -> None:
    a = writes(container="aaa", stdin=CONFIG.replace("crio", "net-a"))
    b = writes(container="bbb", stdin=CONFIG.replace("crio", "net-b"))
    log = round_robin(A=a, B=b)
    assert '"net-a","type":"bridge"}{"cniVersion"' in log  # the two stdins share a line
    records, reader = _recover(log)
    assert [r.container_id for r in records] == ["aaa", "bbb"]
    _assert_is(records[0], a)
    _assert_is(records[1], b)
    # Which stdin is whose cannot be told when the calls alternate: said, not hidden.
    for record in records:
        assert record.confidence == "likely"
        assert "INPUT" in record.problems[-1].message and "assigned by order" in record.problems[-1].message
    assert "2 invocations interleave" in reader.problems[0].message


def test_stdin_with_a_marker_glued_after_it_is_exact_when_the_order_decides() -> None:
    a, b = writes(container="aaa"), writes(container="bbb")
    # b gets to its env block; a writes up to its stdin; b's "INPUT:" lands on
    # a's stdin line; a finishes; then b.
    log = interleave("BBBBBB" + "AAAAAAAA" + "B" + "AAAAAAA" + "BBBBBBBB", A=a, B=b)
    assert CONFIG + "INPUT:\n" in log
    records, reader = _recover(log)
    assert [r.container_id for r in records] == ["bbb", "aaa"]  # in order of their date lines
    _assert_is(records[0], b)
    _assert_is(records[1], a)
    assert [r.confidence for r in records] == ["exact", "exact"]
    assert all(r.problems == () for r in records)
    assert "2 exact, 0 likely" in reader.problems[0].message
    lines = log.split("\n")
    assert lines[records[1].input.line - 1] == CONFIG + "INPUT:"
    assert lines[records[0].line - 1] == DATE and records[0].line == 1


def test_identical_inputs_and_outputs_without_sandbox_are_likely_not_exact() -> None:
    a = writes(container="aaa", stdout=_result("aaa", sandbox=False))
    b = writes(container="bbb", stdout=_result("bbb", sandbox=False))
    records, _ = _recover(round_robin(A=a, B=b))
    assert [r.container_id for r in records] == ["aaa", "bbb"]
    for record in records:
        assert record.confidence == "likely"
        message = record.problems[-1].message
        assert "INPUT" in message and "identical blocks" in message
        assert "OUTPUT" in message and "assigned by order" in message
    # The guess follows the order of the writes, which is right here.
    _assert_is(records[0], a)
    _assert_is(records[1], b)


def test_empty_outputs_of_concurrent_deletes_are_named() -> None:
    a, b = writes(container="aaa", command="DEL"), writes(container="bbb", command="DEL")
    records, _ = _recover(round_robin(A=a, B=b))
    for record, parts in zip(records, (a, b), strict=True):
        _assert_is(record, parts)
        assert record.output.raw == "" and record.confidence == "likely"
        assert "empty lines" in record.problems[-1].message


def test_three_calls_with_stdins_glued_in_a_row() -> None:
    calls = {name: writes(container=name * 3) for name in "ABC"}
    log = round_robin(**calls)
    assert CONFIG * 3 + "\n" in log
    records, reader = _recover(log)
    assert [r.container_id for r in records] == ["AAA", "BBB", "CCC"]
    for record, parts in zip(records, calls.values(), strict=True):
        _assert_is(record, parts)
    assert reader.regions[0].recovered and reader.regions[0].invocations == 3


def test_records_around_a_region_are_parsed_as_before() -> None:
    before, after = writes(container="before"), writes(container="after")
    log = "".join(before) + round_robin(A=writes(container="aaa"), B=writes(container="bbb")) + "".join(after)
    records, _ = _recover(log)
    assert [(r.container_id, r.recovered) for r in records] == [
        ("before", False),
        ("aaa", True),
        ("bbb", True),
        ("after", False),
    ]
    assert [r.index for r in records] == [0, 1, 2, 3]
    assert records[3].line == log[: len(log) - len("".join(after))].count("\n") + 1
    assert records[3].params == next(parse(io.StringIO("".join(after)))).params


def test_blocks_that_cannot_be_put_back_are_reported_not_guessed() -> None:
    a, b = writes(container="aaa"), writes(container="bbb")
    log = round_robin(A=a[1:], B=b)  # a's date line is missing: its blocks belong to no call
    records, reader = _recover(log)
    assert records == []
    (region,) = reader.regions
    assert not region.recovered
    assert "cannot be put back in the wrapper's order" in reader.problems[0].message


def test_a_log_cut_inside_a_burst_keeps_the_cut_records_incomplete() -> None:
    a, b = writes(container="aaa"), writes(container="bbb")
    log = interleave("AAAAAAAA" + "BBBBBB" + "AAAAAAA" + "BB", A=a, B=b[:8])  # b stops after its stdin
    records, reader = _recover(log)
    assert [(r.container_id, r.complete) for r in records] == [("aaa", True), ("bbb", False)]
    _assert_is(records[0], a)
    assert records[1].input.raw == CONFIG and records[1].output is None
    assert "cut short" in records[1].problems[0].message
    assert "1 cut short" in reader.problems[0].message


def test_a_log_cut_inside_an_env_block_leaves_the_partial_block_out() -> None:
    a, b = writes(container="aaa"), writes(container="bbb")
    partial_env = b[5][: b[5].index("CNI_IFNAME")]  # only some of b's variables made it
    log = interleave("AAAAAA" + "BBBBB" + "AAAAAAAAA" + "B", A=a, B=[*b[:5], partial_env])
    records, reader = _recover(log)
    assert [(r.container_id, r.complete) for r in records] == [("aaa", True), ("bbb", False)]
    assert records[1].env == {} and records[1].params["CNI_IFNAME"] == "eth0"
    assert "the log ends inside a block" in reader.problems[0].message


def _burst_orders(names: str, length: int) -> st.SearchStrategy[str]:
    """Random interleavings of `names` calls' writes (`length` each) that
    start together, as calls released by one barrier do."""
    writes_left = list(names * (length - 1))
    return st.permutations(writes_left).map(lambda rest: names + "".join(rest))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["AB", "ABC"]).flatmap(lambda names: _burst_orders(names, 15)))
def test_any_burst_of_calls_is_recovered_exactly(order: str) -> None:
    calls = {name: writes(container=name.lower() * 8) for name in sorted(set(order))}
    # A call whose record was written without another call's text inside is
    # an ordinary record that splits the burst: not what recovery is for.
    assume(all(_interrupted(order, name) for name in calls))
    records, reader = _recover(interleave(order, **calls))
    # Date lines of calls released together are alike: records come in the order of the lines given them.
    assert sorted(record.container_id for record in records) == [name.lower() * 8 for name in calls], reader.problems
    assert [record.line for record in records] == sorted(record.line for record in records)
    for record in records:
        _assert_is(record, calls[record.container_id[0].upper()])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["AB", "ABC"]).flatmap(lambda names: _burst_orders(names, 15)),
    st.lists(st.sampled_from(["ADD", "DEL"]), min_size=3, max_size=3),
)
def test_a_block_assigned_by_order_is_never_called_exact(order: str, commands: list[str]) -> None:
    """Outputs without a sandbox and different stdins can be told apart only
    by the order of the writes: where that order misleads, the record says so."""
    calls = {}
    for name, command in zip(sorted(set(order)), commands, strict=False):
        container = name.lower() * 8
        stdout = _result(container, sandbox=False) if command == "ADD" else ""
        stdin = CONFIG.replace("crio", f"net-{container}")
        calls[name] = writes(container=container, command=command, stdin=stdin, stdout=stdout)
    assume(all(_interrupted(order, name) for name in calls))
    records, reader = _recover(interleave(order, **calls))
    assert len(records) == len(calls), reader.problems
    for record in records:
        alone = next(parse(io.StringIO("".join(calls[record.container_id[0].upper()]))))
        assert (record.params, record.env) == (alone.params, alone.env)  # tied by their CNI_ lines
        doubts = record.problems[-1].message if record.problems else ""
        for block, got, expected in (("INPUT", record.input, alone.input), ("OUTPUT", record.output, alone.output)):
            if got.raw != expected.raw:
                assert record.confidence == "likely" and f"{block} (line {got.line}) was assigned by order" in doubts


_BLANK_WRITES = {8, 13, 14}  # the newline after stdin and the two closing blank lines


def _interrupted(order: str, name: str) -> bool:
    """Whether another call wrote a non-blank line between this call's date
    line and its closing separator."""
    positions = [index for index, letter in enumerate(order) if letter == name]
    seen: Counter[str] = Counter()
    for index, letter in enumerate(order[: positions[12]]):
        if letter != name and index > positions[0] and seen[letter] not in _BLANK_WRITES:
            return True
        seen[letter] += 1
    return False


# --------------------------------------------------------------- the matching behind "likely"


def test_possible_partners_follow_swaps_and_required_partners() -> None:
    # b can only hold 2, so a keeps 1; two slots that fit both can swap.
    assert possible_partners({"a": [1, 2], "b": [2]}, {"a": 1, "b": 2}) == {"a": {1}, "b": {2}}
    assert possible_partners({"a": [1, 2], "b": [1, 2]}, {"a": 1, "b": 2}) == {"a": {1, 2}, "b": {1, 2}}
    # A free partner is possible unless the slot's own must stay taken (a body, a date).
    assert possible_partners({"a": [1, 3]}, {"a": 1}) == {"a": {1, 3}}
    assert possible_partners({"a": [1, 3]}, {"a": 1}, required={1}) == {"a": {1}}
    # ... or another slot can take it over, freeing an optional one.
    edges = {"a": [1, 3], "b": [1, 4]}
    assert possible_partners(edges, {"a": 1, "b": 4}, required={1}) == {"a": {1, 3}, "b": {1, 4}}


if __name__ == "__main__":  # the figures for the note
    for plugin in ("bridge", "host-local"):
        matched, total, wrong = exact_matches(plugin)
        print(f"{plugin}: {matched}/{total} calls of truth.json recovered exactly", *wrong, sep="\n  ")


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "grammar path"])
def test_a_call_whose_date_line_came_before_another_calls_whole_record_is_recovered(fast_path: bool) -> None:
    # Found by hypothesis: A appends its date line, then B its record up to `Returned at:` (A's
    # separator closes it), then A the rest: a lone date line, a well-formed record, dateless lines.
    order = "A" + "B" * 12 + "A" * 12 + "BABAB"
    calls = {name: writes(container=name.lower() * 8) for name in "AB"}
    reader = parse(io.StringIO(interleave(order, **calls)), plugin="bridge", fast_path=fast_path)
    records = list(reader)
    assert sorted(record.container_id for record in records) == ["aaaaaaaa", "bbbbbbbb"]
    for record in records:
        _assert_is(record, calls[record.container_id[0].upper()])
    assert [(region.line, region.end_line, region.recovered) for region in reader.regions] == [(1, 76, True)]
    assert [problem.message.split(";")[0] for problem in reader.problems] == [
        "2 invocations interleave here (concurrent calls appending to one log)"
    ]


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "grammar path"])
def test_a_lone_date_line_before_records_is_reported_and_the_records_read(fast_path: bool) -> None:
    record = "".join(writes(container="aaaaaaaa"))
    log = "Fri Nov 27 08:13:38 PM UTC 2026\n" + record + record.replace("aaaaaaaa", "bbbbbbbb")
    reader = parse(io.StringIO(log), plugin="bridge", fast_path=fast_path)
    records = list(reader)
    assert [(r.container_id, r.line, r.recovered, r.index) for r in records] == [
        ("aaaaaaaa", 2, False, 0),
        ("bbbbbbbb", 2 + record.count("\n"), False, 1),
    ]
    assert [(p.line, p.message) for p in reader.problems] == [(1, "unexpected text outside a record")]
    assert not reader.regions


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "grammar path"])
def test_a_lone_date_line_before_a_record_and_junk_reports_both_and_keeps_the_record(fast_path: bool) -> None:
    record = "".join(writes(container="aaaaaaaa"))
    log = "Fri Nov 27 08:13:38 PM UTC 2026\n" + record + "CNI params:\nno record here\n"
    reader = parse(io.StringIO(log), plugin="bridge", fast_path=fast_path)
    assert [(r.container_id, r.line, r.recovered) for r in reader] == [("aaaaaaaa", 2, False)]
    assert [p.line for p in reader.problems] == [1, 1 + record.count("\n") + 1]
    assert "unexpected text outside a record" in reader.problems[0].message


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "grammar path"])
def test_a_body_end_before_another_calls_separator_is_not_taken_for_a_date_line(fast_path: bool) -> None:
    # B's OUTPUT ends with `}`, then A's separator: the `}` line is no date line, and the stretch is
    # recovered whole (it used to read as a record of A with the date "}").
    order = "A" + "B" * 11 + "A" * 10 + "BBAAABAB"
    calls = {name: writes(container=name.lower() * 8) for name in "AB"}
    records = list(parse(io.StringIO(interleave(order, **calls)), plugin="bridge", fast_path=fast_path))
    assert sorted(record.container_id for record in records) == ["aaaaaaaa", "bbbbbbbb"]
    for record in records:
        _assert_is(record, calls[record.container_id[0].upper()])


@st.composite
def _cut_off_date_lines(draw: st.DrawFn) -> str:
    """A call's date line, then another call's next 10 to 15 writes in a row, then the rest shuffled."""
    names = draw(st.sampled_from(["AB", "ABC"]))
    first, second = draw(st.permutations(names))[:2]
    run = draw(st.integers(10, 14))
    left = dict.fromkeys(names, 15)
    left[first] -= 1
    left[second] -= run
    rest = draw(st.permutations([name for name in names for _ in range(left[name])]))
    return first + second * run + "".join(rest)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cut_off_date_lines())
def test_a_date_line_cut_off_by_another_calls_writes_is_recovered(order: str) -> None:
    calls = {name: writes(container=name.lower() * 8) for name in sorted(set(order))}
    assume(all(_interrupted(order, name) for name in calls))  # else a call's record is an ordinary one
    records, _ = _recover(interleave(order, **calls))
    assert sorted(record.container_id for record in records) == [name.lower() * 8 for name in calls]
    assert [record.line for record in records] == sorted(record.line for record in records)
    for record in records:
        _assert_is(record, calls[record.container_id[0].upper()])
