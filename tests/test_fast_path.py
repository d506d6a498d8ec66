"""The fast path (cnilint.parse.fast) reads exactly what the grammar path reads.

Every record it takes is one the lark grammar accepts, and every log gives the
same records, problems and regions with and without it: on every fixture, on
mutated real captures, whatever the block size cuts through.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from conftest import FIXTURES, REAL
from hypothesis import given, settings
from lark import Token
from test_fuzz import FUZZ, mutated_logs

from cnilint.parse import Record, fast, parse, source
from cnilint.parse.framer import _parser
from cnilint.parse.lexer import PrebuiltRun

NOT_LOGS = {".json", ".md", ".toml", ".yaml", ".yml", ".html", ".py", ".csv", ".sarif", ".xml", ".txt", ".jsonl"}
LOGS = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix not in NOT_LOGS)


def _read(data: Path | bytes, **options: object) -> tuple[list, list, list]:
    reader = parse(io.BytesIO(data) if isinstance(data, bytes) else data, plugin="bridge", **options)  # type: ignore[arg-type]
    return list(reader), reader.problems, reader.regions


def _same_both_ways(data: Path | bytes, **options: object) -> None:
    fast_read = _read(data, **options)
    grammar_read = _read(data, fast_path=False, **options)
    assert fast_read == grammar_read


@pytest.mark.parametrize("log", LOGS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_reads_the_same_with_and_without_the_fast_path(log: Path) -> None:
    _same_both_ways(log)


@pytest.mark.parametrize(
    "log",
    [
        REAL / "02b-bridge-1.0.0" / "bridge",
        REAL / "10-tty" / "bridge",  # stdin a terminal: no INPUT, "Returned at:" glued to unended output
        REAL / "10-tty" / "loopback",
        FIXTURES / "cnilint-wrapper" / "bridge",
    ],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_the_fast_path_reads_every_well_formed_record_of_real_captures(log: Path) -> None:
    items = list(fast.scan([fast.CleanText(log.read_text())], 16 << 20))
    prebuilt = [record for item in items if type(item) is PrebuiltRun for record in item.records]
    assert len(prebuilt) == len(list(parse(log)))
    assert not [item for item in items if type(item) is str and item.strip()]  # nothing left for the grammar


def test_blank_lines_before_text_that_is_no_record_go_with_that_text_to_the_grammar_path() -> None:
    # Found by hypothesis: a record, its two blank lines, then a date line glued to its separator.
    record = (REAL / "02b-bridge-1.0.0" / "bridge").read_text().split("\n\n\n")[0] + "\n\n\n"
    damaged = record.replace("=\nCNI params:", "=\nCNI params:", 1)
    date, rest = damaged.split("\n", 1)
    _same_both_ways((record + date + "\x01" + rest).encode())


def test_a_marker_glued_to_output_before_returned_at_is_left_to_the_grammar_path() -> None:
    text = (REAL / "10-tty" / "bridge").read_text().replace("}Returned at:", "}OUTPUT:Returned at:", 1)
    _same_both_ways(text.encode())


def test_records_cut_by_any_block_boundary_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    log = REAL / "07-errors" / "bridge"
    expected = _read(log, fast_path=False)
    for size in (64, 1000, 4093):
        monkeypatch.setattr(source, "BLOCK_SIZE", size)
        assert _read(log, max_record_bytes=16 << 20) == expected, size


@pytest.mark.parametrize("name", fast.SHAPES)
def test_the_shapes_the_fast_path_reads_are_records_of_the_grammar(name: str) -> None:
    shape = fast.SHAPES[name]
    interactive = _parser().parse_interactive()
    for line, kind in enumerate(shape, start=1):
        interactive.feed_token(Token(kind, "x", line=line, end_line=line))
    interactive.feed_eof()  # raises if the grammar does not accept the shape


@settings(FUZZ, max_examples=200)
@given(mutated_logs())
def test_mutated_logs_read_the_same_with_and_without_the_fast_path(data: bytes) -> None:
    _same_both_ways(data)


@pytest.mark.parametrize("char", list("\x00\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), ids=repr)
def test_a_line_break_other_than_lf_or_a_nul_sends_its_block_to_the_grammar_path(char: str) -> None:
    text = (REAL / "02b-bridge-1.0.0" / "bridge").read_text()
    data = text.replace("PWD=/", f"PWD=/{char}x", 1).encode()
    _same_both_ways(data)


def test_the_fast_path_builds_records_in_the_order_of_their_fields() -> None:
    # fast.build passes Record's fields by position: this is the order it was written for.
    assert [field.name for field in dataclasses.fields(Record)] == [
        "file", "plugin", "index", "line", "end_line", "started", "returned", "started_at", "returned_at",
        "params", "env", "input", "output", "complete", "tty", "problems", "params_line", "env_line",
        "recovered", "confidence", "exit_code", "stderr", "duration_ms", "invocation",
    ]  # fmt: skip
