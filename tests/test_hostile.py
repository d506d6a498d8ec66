"""Hostile input gives an answer, never a blow-up (fixtures/hostile, written by its make.py)."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import sys
import tracemalloc
from pathlib import Path

import pytest
from conftest import FIXTURES, REAL

from cnilint import check, parse
from cnilint.cli import main
from cnilint.parse import reader as reader_module
from cnilint.parse import source as source_module
from cnilint.parse.jsonpos import value_positions
from cnilint.parse.source import LineExcerpts, plugin_name, read_lines

HOSTILE = FIXTURES / "hostile"
CLEAN = HOSTILE / "plain-named.gz"  # the three records every fixture damages, undamaged (and not gzip)
FILES = sorted(p for p in HOSTILE.rglob("*") if p.is_file() and p.suffix != ".py" and p.name != "README.md")


def records(name: str, **options: int):
    reader = parse(HOSTILE / name, **options)
    return list(reader), reader


def essence(record) -> dict:
    """A record as the checks see it, without where it sits in its file."""
    data = record.to_dict()
    for key in ("file", "plugin", "record", "line", "end_line"):
        data.pop(key)
    return data


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fixtures_are_what_make_py_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make.py")
    assert spec is not None and spec.loader is not None
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    written = make.fixtures()
    assert sorted(written) == sorted(str(p.relative_to(HOSTILE)) for p in FILES)
    for name, data in written.items():
        assert (HOSTILE / name).read_bytes() == data, name


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(HOSTILE)))
def test_every_hostile_file_gives_an_answer(path: Path) -> None:
    reader = parse(path, max_record_bytes=16 * 1024)
    found = list(reader)
    assert found or reader.problems or path.name == "empty"
    list(check(path))  # the checks run too


# --- one test per kind of damage --------------------------------------------


def test_empty_file_has_no_record_and_no_problem(capsys) -> None:
    found, reader = records("empty")
    assert found == [] and reader.problems == []
    code, out, err = run(capsys, "check", "--format", "concise", str(HOSTILE / "empty"))
    assert code == 0 and "Traceback" not in out + err


def test_binary_data_is_one_problem() -> None:
    found, reader = records("binary")
    assert found == []
    (problem,) = reader.problems
    assert problem.line == 1 and problem.end_line is not None and problem.end_line > 1
    assert "no wrapper records found" in problem.message and "not UTF-8 text" in problem.message


def test_invalid_utf8_is_reported_where_and_the_rest_decoded() -> None:
    (add, check_, delete), reader = records("invalid-utf8")
    assert add.env["LANG"] == "en_US.\ufffdUTF-8"
    (problem,) = add.problems
    assert problem.line == 15 and "in the env value of LANG at column 12 (byte 0xff)" in problem.message
    assert check_.input.value["name"] == "cr\ufffd(io" and check_.input.value["type"] == "bridge"
    (problem,) = check_.problems
    assert problem.line == check_.input.line and "invalid UTF-8 in INPUT at $.name" in problem.message
    assert delete.problems == () and reader.problems == []
    clean = list(parse(CLEAN))
    assert essence(delete) == essence(clean[2])


def test_crlf_line_endings_read_like_lf() -> None:
    found, reader = records("crlf")
    clean = list(parse(CLEAN))
    assert reader.problems == [] and all(r.complete and not r.problems for r in found)
    for crlf, lf in zip(found, clean, strict=True):
        assert (crlf.command, crlf.started_at, crlf.returned_at) == (lf.command, lf.started_at, lf.returned_at)
        assert dict(crlf.env) == dict(lf.env) and dict(crlf.params) == dict(lf.params)
        assert crlf.input.value == lf.input.value and crlf.output.value == lf.output.value
        assert (crlf.line, crlf.end_line) == (lf.line, lf.end_line)


def test_utf8_byte_order_mark_is_dropped() -> None:
    found, reader = records("bom")
    assert reader.problems == []
    assert [essence(r) for r in found] == [essence(r) for r in parse(CLEAN)]


def test_nul_bytes_are_reported_and_the_record_after_them_read() -> None:
    (add, check_, delete), reader = records("nul-bytes")
    (problem,) = check_.problems
    assert problem.line == check_.line and "NUL bytes in the date line" in problem.message
    assert check_.started == "Fri Nov 27 08:13:07 PM UTC 2026" and check_.started_at is not None
    clean = list(parse(CLEAN))
    assert essence(add) == essence(clean[0]) and essence(delete) == essence(clean[2])
    assert reader.problems == []


def test_a_five_megabyte_input_line_is_read_whole() -> None:
    (_, check_, _), reader = records("long-line.gz")
    assert len(check_.input.value["pad"]) == 5_000_000 and check_.problems == ()
    assert reader.problems == []
    assert [f.rule for f in check(HOSTILE / "long-line.gz") if f.rule.startswith("CONF001")] == []


def test_json_nested_100000_deep_is_a_decode_error() -> None:
    (add, check_, delete), reader = records("deep-json.gz")
    assert check_.input.error is not None and "recursion" in check_.input.error.message
    assert add.input.is_json and delete.input.is_json and reader.problems == []


def test_huge_numbers_are_decode_errors_that_say_so_and_where() -> None:
    (add, check_, delete), _ = records("huge-numbers")
    lines = (HOSTILE / "huge-numbers").read_text().split("\n")
    for record, number in ((add, "9" * 5000), (check_, "1e400")):
        error = record.input.error
        assert error is not None and error.message.startswith("number too large")
        assert lines[error.line - 1][error.column - 1 :].startswith(number)
    assert "5,000 digits" in add.input.error.message
    assert delete.input.is_json


def test_duplicate_json_keys_are_a_problem_and_the_last_value_wins() -> None:
    (add, check_, delete), _ = records("duplicate-keys")
    assert add.input.value["ipMasq"] is False  # as Go's encoding/json reads it
    (problem,) = add.problems
    assert problem.line == add.input.line
    assert problem.message.startswith(f"duplicate key 'ipMasq' in INPUT at line {add.input.line}")
    assert "Go keeps the last value" in problem.message
    assert check_.problems == () and delete.problems == ()


def test_nested_duplicates_name_their_path_and_lines() -> None:
    text = (HOSTILE / "plain-named.gz").read_text()
    pretty = '{\n  "a": {"x": 1,\n    "x": 2},\n  "type": "bridge"\n}'
    first = text.split("INPUT:\n", 1)[0] + "INPUT:\n"
    log = first + pretty + "\nOUTPUT:\n\nReturned at: Fri Nov 27 08:13:07 PM UTC 2026\n" + "=" * 65 + "\n"
    (record,) = list(parse(io.StringIO(log)))
    (problem,) = record.problems
    assert problem.line == record.input.line + 2 and "($.a.x, first at line" in problem.message


def test_a_file_of_separators_is_one_problem() -> None:
    found, reader = records("only-separators")
    assert found == []
    (problem,) = reader.problems
    assert (problem.line, problem.end_line) == (1, 50) and "no wrapper records found" in problem.message


def test_tens_of_thousands_of_blank_lines_are_skipped() -> None:
    found, reader = records("many-blank-lines")
    assert [r.command for r in found] == ["ADD", "CHECK", "DEL"] and reader.problems == []
    assert found[0].line == 20_001 and all(not r.problems for r in found)


# --- directories -------------------------------------------------------------


def _log_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    (folder / "sub").mkdir(parents=True)
    (folder / "bridge").write_bytes((HOSTILE / "rotated" / "bridge").read_bytes())
    (folder / "sub" / "host-local").write_bytes(
        gzip.decompress((HOSTILE / "rotated" / "host-local-20261127.gz").read_bytes())
    )
    (folder / "loop").symlink_to("loop")  # a symlink to itself
    (folder / "ping").symlink_to("pong")
    (folder / "pong").symlink_to("ping")
    (folder / "sub" / "up").symlink_to("..")  # a directory loop: symlinked directories are not followed
    (folder / "unreadable").write_bytes((HOSTILE / "rotated" / "bridge.1").read_bytes())
    (folder / "unreadable").chmod(0)
    return folder


def _deny(monkeypatch, name: str) -> None:
    """Make one file unreadable even for root (who reads anything)."""
    real_open = open

    def guarded(path, *args, **kwargs):
        if Path(path).name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(source_module, "open", guarded, raising=False)


def test_symlink_loops_and_unreadable_files_are_one_line_each(capsys, monkeypatch, tmp_path) -> None:
    folder = _log_dir(tmp_path)
    _deny(monkeypatch, "unreadable")
    code, out, err = run(capsys, "records", str(folder))
    found = [json.loads(line) for line in out.splitlines()]
    assert [(r["plugin"], r["command"]) for r in found] == [("bridge", "DEL"), ("host-local", "ADD")]
    errors = sorted(err.strip().splitlines())
    assert errors == [
        f"cnilint: error: {folder / 'loop'}: Too many levels of symbolic links",
        f"cnilint: error: {folder / 'ping'}: Too many levels of symbolic links",
        f"cnilint: error: {folder / 'pong'}: Too many levels of symbolic links",
        f"cnilint: error: {folder / 'unreadable'}: Permission denied",
    ]
    assert code == 2


def test_an_unreadable_subdirectory_is_reported_and_the_rest_read(capsys, monkeypatch, tmp_path) -> None:
    folder = _log_dir(tmp_path)
    for name in ("loop", "ping", "pong"):
        (folder / name).unlink()
    _deny(monkeypatch, "unreadable")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "sub":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = run(capsys, "check", "--format", "concise", str(folder))
    assert f"cnilint: error: {folder / 'sub'}: Permission denied" in err.splitlines()
    assert "in 1 records of 1 files" in out and code == 2


def test_a_symlink_loop_given_as_path_says_so(capsys, tmp_path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    code, _, err = run(capsys, "records", str(tmp_path / "loop"))
    assert code == 2 and err == f"cnilint: error: {tmp_path / 'loop'}: Too many levels of symbolic links\n"


# --- compressed logs ---------------------------------------------------------


def test_gzip_is_recognised_by_its_magic_bytes_not_its_name() -> None:
    clean = [essence(r) for r in parse(CLEAN)]
    found, reader = records("gzip-without-suffix")
    assert [essence(r) for r in found] == clean and reader.problems == []
    assert len(clean) == 3  # plain-named.gz is plain text, read as such


@pytest.mark.parametrize("name", ["bridge.bz2", "bridge.xz"])
def test_bzip2_and_xz_logs_are_read_too(name: str) -> None:
    found, reader = records(name)
    assert [essence(r) for r in found] == [essence(r) for r in parse(CLEAN)]
    assert reader.plugin == "bridge" and reader.problems == []


def test_a_cut_gzip_keeps_the_records_before_the_cut() -> None:
    (record,), reader = records("cut.gz")
    assert record.command == "ADD" and not record.complete
    (problem,) = reader.problems
    assert problem.line == record.end_line + 1 and "compressed data cut short or corrupt" in problem.message


def test_rotated_logs_are_named_after_their_plugin(capsys) -> None:
    names = ["bridge", "bridge.1", "bridge.2.gz", "bridge.gz", "host-local-20261127.gz", "host-local.10.xz"]
    assert [plugin_name(name) for name in names] == ["bridge"] * 4 + ["host-local"] * 2
    code, out, err = run(capsys, "records", str(HOSTILE / "rotated"))
    found = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and err == ""
    assert [(Path(r["file"]).name, r["plugin"], r["command"]) for r in found] == [
        ("bridge", "bridge", "DEL"),
        ("bridge.1", "bridge", "CHECK"),
        ("bridge.2.gz", "bridge", "ADD"),
        ("host-local-20261127.gz", "host-local", "ADD"),
    ]


class _Pipe(io.RawIOBase):
    """A pipe that hands out its bytes a few at a time (stdin cannot seek)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = min(3, len(buffer))
        chunk, self._data = self._data[:count], self._data[count:]
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("name", ["rotated/bridge.2.gz", "rotated/bridge.1"])
def test_logs_piped_on_stdin_may_be_gzip(capsys, monkeypatch, name: str) -> None:
    stdin = io.TextIOWrapper(io.BufferedReader(_Pipe((HOSTILE / name).read_bytes()), buffer_size=2))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = run(capsys, "records", "-", "--plugin", "bridge")
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and err == "" and record["file"] == "<stdin>" and record["plugin"] == "bridge"
    assert record["command"] == ("ADD" if name.endswith(".gz") else "CHECK")


def test_excerpt_lines_are_read_as_the_parser_reads_them() -> None:
    lines = read_lines(HOSTILE / "rotated" / "bridge.2.gz", {1, 26})
    assert lines[1] == "Fri Nov 27 08:13:06 PM UTC 2026\n" and lines[26].startswith('{"bridge":"cni0"')
    assert read_lines(HOSTILE / "invalid-utf8", {15}) == {15: "LANG=en_US.\ufffdUTF-8\n"}
    assert read_lines(HOSTILE / "no-such-file", {1}) == {}


def test_excerpts_read_a_chunk_at_a_time_give_read_lines_answers_in_one_pass(monkeypatch) -> None:
    opened: list[str] = []
    real_open = LineExcerpts._open
    monkeypatch.setattr(LineExcerpts, "_open", lambda self, path: opened.append(path) or real_open(self, path))
    excerpts = LineExcerpts()
    gz, bridge = HOSTILE / "rotated" / "bridge.2.gz", str(REAL / "07-errors" / "bridge")
    chunks = [{1, 2, 3}, {3, 4, 30}, {29, 30, 31}, {200, 201}, {199, 250}]  # increasing, overlapping by a line
    for wanted in chunks:
        assert excerpts(bridge, wanted) == read_lines(bridge, wanted)
    assert opened == [bridge]  # one pass
    assert excerpts(gz, {26}) == read_lines(gz, {26}) and excerpts(bridge, {5}) == read_lines(bridge, {5})
    assert opened == [bridge, str(gz), bridge]  # another file, or lines already passed: read again
    assert excerpts(bridge, {10**6}) == {} and excerpts(HOSTILE / "no-such-file", {1}) == {}


def test_the_rich_report_is_the_same_read_a_few_findings_at_a_time(capsys, monkeypatch) -> None:
    from cnilint.reports import rich_report

    monkeypatch.setenv("COLUMNS", "160")
    argv = ["check", str(REAL / "07-errors"), "--format", "rich"]
    outputs = []
    for chunk in (1000, 2):
        monkeypatch.setattr(rich_report, "CHUNK", chunk)
        main(argv)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and outputs[0].count(" │ ") > 100


# --- limits ------------------------------------------------------------------


def test_a_record_over_the_limit_is_skipped_and_the_rest_read() -> None:
    (add, delete), reader = records("big-record", max_record_bytes=16 * 1024)
    (problem,) = reader.problems
    assert (problem.line, problem.end_line) == (add.end_line + 3, delete.line - 3)
    assert "record larger than the size limit (16,384 bytes" in problem.message and "skipped" in problem.message
    clean = list(parse(CLEAN))
    assert essence(add) == essence(clean[0]) and essence(delete) == essence(clean[2])
    assert len(records("big-record")[0]) == 3  # under the default limit it is read


def test_a_line_over_the_limit_skips_its_record_only() -> None:
    (add, delete), reader = records("long-line.gz", max_record_bytes=1024 * 1024)
    assert [r.command for r in (add, delete)] == ["ADD", "DEL"]
    (problem,) = reader.problems
    assert "record larger than the size limit (1 MiB" in problem.message and problem.line == add.end_line + 3


def test_text_streams_are_bounded_too() -> None:
    log = gzip.decompress((HOSTILE / "long-line.gz").read_bytes()).decode()
    reader = parse(io.StringIO("\ufeff" + log), max_record_bytes=1024 * 1024)
    assert [r.command for r in reader] == ["ADD", "DEL"]
    assert "record larger than the size limit (1 MiB" in reader.problems[0].message


@pytest.mark.parametrize("command", ["check", "records", "timeline"])
def test_max_record_bytes_option(capsys, command: str) -> None:
    code, out, err = run(capsys, command, "--max-record-bytes", "16KiB", str(HOSTILE / "big-record"))
    assert "record larger than the size limit (16,384 bytes" in out + err and code in (0, 1)


def test_a_bad_max_record_bytes_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["records", "--max-record-bytes", "lots", str(CLEAN)])
    assert exit_info.value.code == 2 and "expected a size like 16MiB" in capsys.readouterr().err


def test_a_large_interleaved_region_is_reported_without_recovery() -> None:
    log = REAL / "08-concurrency" / "bridge"
    before = [essence(r) for r in parse(log)][:1]  # the warm-up ADD, before the region
    reader = parse(log, max_record_bytes=16 * 1024)
    found = list(reader)
    assert [essence(r) for r in found][:1] == before and not any(r.recovered for r in found)
    assert any("too large to put back (over 16,384 bytes)" in p.message for p in reader.problems)
    assert reader.regions and not any(region.recovered for region in reader.regions)


def test_regions_of_too_many_lines_are_not_searched(monkeypatch) -> None:
    monkeypatch.setattr(reader_module, "MAX_RECOVERED_LINES", 100)
    reader = parse(REAL / "08-concurrency" / "bridge")
    list(reader)
    (region,) = reader.regions
    assert not region.recovered and "1,246 lines, over 100" in reader.problems[0].message


class _Endless(io.RawIOBase):
    """`size` bytes of one pattern, made as they are read (never held whole)."""

    def __init__(self, pattern: bytes, size: int) -> None:
        self._pattern, self._left = pattern, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = min(len(buffer), self._left)
        chunk = (self._pattern * (count // len(self._pattern) + 1))[:count]
        buffer[:count] = chunk
        self._left -= count
        return count


def _peak_bytes(stream: io.RawIOBase, limit: int) -> tuple[int, list]:
    list(parse(io.StringIO("x\n")))  # the grammar's parser is built once per process: not counted
    tracemalloc.start()
    try:
        reader = parse(io.BufferedReader(stream), max_record_bytes=limit)
        found = list(reader)
        return tracemalloc.get_traced_memory()[1], [*found, *reader.problems]
    finally:
        tracemalloc.stop()


SEP = b"=" * 65 + b"\n"


@pytest.mark.parametrize(
    "pattern",
    [
        b"\x00",  # zeros without a newline: one endless line
        b"junk text between records\n",  # an endless gap
        b"\n",  # endless blank lines
        b"INPUT:\n",  # endless stray markers: units in trouble
        b"Fri Nov 27 08:13:06 PM UTC 2026\n" + SEP + b"CNI params:\nA=1\n",  # endless broken records
        b"Fri Nov 27 08:13:06 PM UTC 2026\n" + SEP + b"env:\n" + b"X=1\n" * 50,  # records cut, regions
        b'{"a":[' * 20 + b"\n",  # an endless INPUT-like body with no separator
    ],
    ids=["zeros", "gap", "blank", "markers", "broken", "interleaved", "body"],
)
def test_memory_stays_bounded_whatever_the_stream(pattern: bytes) -> None:
    limit, size = 4096, 128 * 1024
    peak, answer = _peak_bytes(_Endless(pattern, size), limit)
    assert answer or pattern == b"\n"  # something was said (blank lines are nothing to say)
    assert peak < size // 2, f"peak {peak:,} bytes reading {size:,} with a {limit:,}-byte limit"
    assert len(answer) <= 2  # one problem for the whole stretch, not one per piece


# --- kept from before --------------------------------------------------------


def _deep_record() -> str:
    text = (REAL / "02b-bridge-1.0.0" / "bridge").read_text()
    first = text.split("=" * 65 + "\n\n\n")[0] + "=" * 65 + "\n\n\n"
    deep = "[" * 100_000 + "]" * 100_000
    return first.replace('"type":"bridge"}', '"type":"bridge","x":' + deep + "}", 1)


def test_json_nested_100000_deep_is_a_finding_not_a_crash() -> None:
    (record,) = list(parse(io.StringIO(_deep_record()), plugin="bridge"))
    assert record.input.error is not None and "recursion" in record.input.error.message
    findings = list(check(io.StringIO(_deep_record()), plugin="bridge"))
    assert [f.rule for f in findings if f.rule == "CONF001"] == ["CONF001"]


def test_positions_of_deep_documents_stay_small() -> None:
    positions = value_positions("[" * 50_000 + "]" * 50_000)
    assert 0 < len(positions) <= 300  # recorded down to a bounded depth only
    assert value_positions(json.dumps({"a": [1, {"b": 2}]}))[("a", 1, "b")] == (1, 17)
