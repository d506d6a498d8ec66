"""Each quirk of real wrapper logs, on a small fixture (fixtures/quirks, cut from real captures)."""

from __future__ import annotations

import io
import json

from conftest import FIXTURES, REAL
from logwriter import SEPARATOR, wrapper_record

from cnilint import parse

QUIRKS = FIXTURES / "quirks"


def records(name: str):
    reader = parse(QUIRKS / name)
    return list(reader), reader


def test_input_ending_with_a_newline_keeps_it_and_pretty_input_decodes() -> None:
    (with_newline, pretty), reader = records("input-newline-and-pretty")
    assert with_newline.input.raw.endswith('"type":"bridge"}\n')
    assert with_newline.input.value["type"] == "bridge"
    assert pretty.input.raw.startswith("{\n  ")
    assert pretty.input.value == with_newline.input.value
    lines = (QUIRKS / "input-newline-and-pretty").read_text().split("\n")
    assert lines[pretty.input.line_of(("ipam", "type")) - 1] == '    "type": "host-local"'
    assert reader.problems == []


def test_empty_output_of_check_and_del() -> None:
    (check, delete), _ = records("empty-output")
    assert (check.command, delete.command) == ("CHECK", "DEL")
    for record in (check, delete):
        assert record.output.raw == "" and record.output.empty
        assert record.output.value is None and record.output.error is None
        assert record.complete


def test_compact_json_output_decodes() -> None:
    (record,), _ = records("compact-output")
    assert "\n" not in record.output.raw
    assert record.output.value["interfaces"][2]["name"] == "eth0"
    assert record.output.line_of(("ips", 0, "interface")) == record.output.line


def test_non_json_output_keeps_text_and_the_error_position() -> None:
    (record,), reader = records("non-json-output")
    assert record.output.raw == "panic: runtime error: invalid memory address\n\ngoroutine 1 [running]:"
    assert not record.output.is_json and record.output.value is None
    assert record.output.error.line == record.output.line and record.output.error.column == 1
    assert record.complete and reader.problems == []


def test_env_values_that_span_lines() -> None:
    (record,), _ = records("multiline-env")
    assert record.env["MOTD"] == "first line\n  second line\nlast line: done"
    assert record.env["PWD"] == "/"
    assert record.env["LANG"] == "en_US.UTF-8"


def test_blank_lines_between_records_are_optional() -> None:
    found, reader = records("blank-lines")
    assert [r.command for r in found] == ["ADD", "CHECK", "DEL"]
    assert reader.problems == [] and all(r.complete for r in found)


def test_dates_in_locale_formats() -> None:
    found, _ = records("locale-dates")
    assert [r.started for r in found] == [
        "Fri Nov 27 20:13:37 UTC 2026",
        "ven. 27 nov. 2026 20:13:37 UTC",
        "2026年 11月 27日 金曜日 20:13:37 UTC",
    ]
    assert len({r.started_at for r in found}) == 1 and found[0].started_at is not None
    assert [r.returned for r in found] == [r.started for r in found]


def test_truncated_last_record_is_incomplete_and_the_others_intact() -> None:
    found, reader = records("truncated")
    assert [r.complete for r in found] == [True, True, False]
    last = found[-1]
    assert last.command == "ADD" and last.returned is None
    assert last.output.value is None and last.output.error is not None
    assert "cut short in its OUTPUT" in last.problems[0].message
    assert last.problems[0].line == last.line
    assert reader.problems == []


def test_text_between_records_is_a_problem_with_its_line() -> None:
    found, reader = records("junk-between")
    assert len(found) == 2 and all(r.complete for r in found)
    (problem,) = reader.problems
    text = (QUIRKS / "junk-between").read_text().split("\n")
    assert text[problem.line - 1] == "some operator note"
    assert "outside a record" in problem.message


def test_terminal_branch_output_glued_to_returned_at() -> None:
    found = list(parse(REAL / "10-tty" / "bridge"))
    version, add, delete = found
    assert all(r.tty and r.input is None for r in found)
    assert version.output.raw.endswith("]}\n")  # VERSION printed a newline
    assert add.output.raw.endswith("}") and add.output.value["cniVersion"] == "1.0.0"
    assert add.returned == "Fri Nov 27 08:16:59 PM UTC 2026"
    assert delete.output.raw == ""


ENV = [("CNI_COMMAND", "ADD"), ("CNI_CONTAINERID", "c1"), ("CNI_IFNAME", "eth0"), ("PATH", "/usr/bin")]


def _record(container: str, started: str = "Fri Nov 27 20:13:37 UTC 2026") -> str:
    env = [(n, container if n == "CNI_CONTAINERID" else v) for n, v in ENV]
    config = json.dumps({"cniVersion": "1.0.0", "name": "n", "type": "bridge"})
    return wrapper_record(started=started, returned=started, env=env, stdin=config, stdout='{"cniVersion":"1.0.0"}')


def test_interleaved_blocks_are_recovered_never_glued_into_one_record() -> None:
    a, b, c, d = (_record(x) for x in ("aaa", "bbb", "ccc", "ddd"))
    # b's env block lands inside a's record, as concurrent appends do.
    a_head, a_tail = a.split("INPUT:\n", 1)
    b_head, b_tail = b.split("env:\n", 1)
    mixed = a_head + b_head + "INPUT:\n" + a_tail + "env:\n" + b_tail
    log = c + mixed + d
    reader = parse(io.StringIO(log))
    found = list(reader)
    expected = [("ccc", False), ("aaa", True), ("bbb", True), ("ddd", False)]
    assert [(r.container_id, r.recovered) for r in found] == expected
    (region,) = reader.regions
    assert region.line == c.count("\n") + 1
    assert region.end_line == (c + mixed).rstrip("\n").count("\n") + 1
    assert region.recovered and reader.problems[0].line == region.line
    assert "2 exact, 0 likely" in reader.problems[0].message
    # Each recovered record is its own call, whole: the order of the blocks decides.
    recovered = {r.container_id: r for r in found if r.recovered}
    for name, text in (("aaa", a), ("bbb", b)):
        alone = next(parse(io.StringIO(text)))
        record = recovered[name]
        assert record.confidence == "exact" and record.complete and record.problems == ()
        assert (record.params, record.env, record.input.raw, record.output.raw) == (
            alone.params,
            alone.env,
            alone.input.raw,
            alone.output.raw,
        )
    lines = log.split("\n")
    assert lines[recovered["bbb"].env_line - 1] == "CNI_COMMAND=ADD" and lines[recovered["bbb"].env_line - 2] == "env:"
    assert recovered["aaa"].line < recovered["bbb"].line < recovered["aaa"].end_line < recovered["bbb"].end_line


def test_a_foreign_params_block_is_caught_by_the_env_cross_check() -> None:
    a, b = _record("aaa"), _record("bbb")
    # Same shape, but the CNI params lines come from another invocation.
    a_params = a.split("CNI params:\n", 1)[1].split("env:\n", 1)[0]
    b_params = b.split("CNI params:\n", 1)[1].split("env:\n", 1)[0]
    swapped = a.replace(a_params, b_params, 1)
    reader = parse(io.StringIO(swapped))
    (record,) = list(reader)
    assert any("may mix two invocations" in p.message for p in record.problems)


def test_separator_only_and_empty_logs_give_no_records() -> None:
    assert list(parse(io.StringIO(""))) == []
    reader = parse(io.StringIO((SEPARATOR + "\n") * 5))
    assert list(reader) == [] and reader.problems


def test_records_stream_one_at_a_time() -> None:
    one = _record("aaa")

    def endless():
        while True:
            yield from one.splitlines(keepends=True)

    reader = parse(io.StringIO(""))
    reader = type(reader)(endless(), file="endless", plugin="bridge")
    first_three = [next(reader) for _ in range(3)]
    assert [r.index for r in first_three] == [0, 1, 2]
