"""Fuzzing: mutated real captures never make the parser raise, and lose nothing.

Logs are windows of the real captures (fixtures/real) damaged by random edits:
flipped and inserted bytes, wrapper markers and separators dropped in, lines
cut, duplicated or moved (as concurrent appends do), the file cut short. The
budget is fixed and the examples derandomized, so CI runs the same cases fast.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from conftest import REAL
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cnilint import check, parse
from cnilint.parse import Record

SEPARATOR = b"=" * 65 + b"\n"
END = SEPARATOR + b"\n\n"  # a record's closing separator and the two blank lines after it
FUZZ = settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _records(path) -> list[bytes]:
    text = path.read_bytes()
    return [part + END for part in text.split(END) if part.strip()]


def _logs() -> dict[str, list[bytes]]:
    logs = {}
    for path in sorted(REAL.glob("*/*")):
        if path.suffix not in (".json", ".md"):
            logs[f"{path.parent.name}/{path.name}"] = _records(path)
    return logs


LOGS = _logs()
# Captures whose records each parse alone (the concurrent one interleaves).
SEQUENTIAL = {name: records for name, records in LOGS.items() if not name.startswith("08-") and len(records) >= 3}

COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")  # magic bytes cnilint decompresses
PIECES = [
    SEPARATOR,
    b"CNI params:\n",
    b"env:\n",
    b"INPUT:\n",
    b"OUTPUT:\n",
    b"Returned at: Fri Nov 27 08:13:07 PM UTC 2026\n",
    b"Fri Nov 27 08:13:06 PM UTC 2026\n",
    b"\n" * 3,
    b"\r\n",
    b"\x00" * 64,
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b'"type":"bridge","type":"ptp",',
    b"9" * 5000,
    b"1e999",
    b"NaN",
    b"[" * 3000,
    b"CNI_CONTAINERID=intruder\n",
]


@st.composite
def _edit(draw: st.DrawFn, low: int, high: int) -> Callable[[bytes], bytes]:
    """One random edit of the bytes between offsets low and high (high excluded)."""
    kind = draw(st.sampled_from(["flip", "insert", "piece", "delete", "copy", "cut"]))
    event(f"edit: {kind}")
    at = draw(st.integers(low, max(low, high - 1)))
    size = draw(st.integers(1, 400))
    if kind == "flip":
        byte = draw(st.integers(0, 255))
        return lambda data: data[:at] + bytes([byte]) + data[at + 1 :]
    if kind == "insert":
        extra = draw(st.binary(min_size=1, max_size=40))
        return lambda data: data[:at] + extra + data[at:]
    if kind == "piece":
        piece = draw(st.sampled_from(PIECES))
        return lambda data: data[:at] + piece + data[at:]
    if kind == "delete":
        return lambda data: data[:at] + data[min(at + size, high) :]
    if kind == "copy":  # a run of bytes written again elsewhere, as concurrent appends interleave
        to = draw(st.integers(low, max(low, high - 1)))
        return lambda data: data[:to] + data[at : min(at + size, high)] + data[to:]
    return lambda data: data[:at] + data[high:]  # cut short (a whole log: its end is lost)


@st.composite
def mutated_logs(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(LOGS)))
    event(f"capture: {name.split('/')[0]}")
    records = LOGS[name]
    start = draw(st.integers(0, len(records) - 1))
    data = b"".join(records[start : start + draw(st.integers(1, 4))])
    for _ in range(draw(st.integers(1, 6))):
        data = draw(_edit(0, len(data)))(data)
    return data


def _covered_lines(reader, records: list[Record]) -> set[int]:
    covered: set[int] = set()
    spans = [(r.line, r.end_line) for r in records]
    problems = [*reader.problems, *(p for r in records for p in r.problems)]
    spans += [(p.line, p.end_line or p.line) for p in problems]
    for first, last in spans:
        covered.update(range(first, last + 1))
    return covered


def _text_lines(data: bytes) -> list[str]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", "replace").split("\n")


@FUZZ
@given(mutated_logs(), st.sampled_from([16 * 1024 * 1024, 4096, 1024]))
def test_mutated_logs_never_raise_and_every_line_is_accounted_for(data: bytes, limit: int) -> None:
    reader = parse(io.BytesIO(data), plugin="bridge", max_record_bytes=limit)
    records = list(reader)
    covered = _covered_lines(reader, records)
    if data.startswith(COMPRESSED):  # an edit made it look compressed: it is read as such, and is corrupt
        assert any("compressed data cut short or corrupt" in p.message for p in reader.problems)
        return
    for number, line in enumerate(_text_lines(data), start=1):
        assert number in covered or line.strip() == "", f"line {number} {line[:60]!r} is in no record or problem"
    for record in records:  # whatever the log holds, the JSON written stays valid UTF-8
        json.dumps(record.to_dict(), ensure_ascii=False).encode("utf-8")
    for problem in reader.problems:
        assert problem.message and problem.line >= 1


@settings(FUZZ, max_examples=60)
@given(mutated_logs())
def test_checks_never_raise_on_mutated_logs(data: bytes) -> None:
    for finding in check(io.BytesIO(data), plugin="bridge"):
        assert finding.rule and finding.line >= 1


def _essence(record: Record) -> dict:
    data = record.to_dict()
    for key in ("file", "record", "line", "end_line"):
        data.pop(key)
    return data


@FUZZ
@given(st.data())
def test_records_around_a_damaged_one_parse_as_they_do_alone(data: st.DataObject) -> None:
    records = SEQUENTIAL[data.draw(st.sampled_from(sorted(SEQUENTIAL)), label="capture")]
    damaged = data.draw(st.integers(1, len(records) - 2), label="damaged record")
    before, after = b"".join(records[:damaged]), b"".join(records[damaged + 1 :])
    target = records[damaged]
    inside = len(target) - len(END)  # its closing separator and blank lines stay: the next record starts clean
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        target = data.draw(_edit(0, inside), label="edit")(target)
        inside = len(target) - len(END)
    log = before + target + after
    found = list(parse(io.BytesIO(log), plugin="bridge"))

    alone_before = list(parse(io.BytesIO(before), plugin="bridge"))
    assert [_essence(r) for r in found[: len(alone_before)]] == [_essence(r) for r in alone_before]
    assert [(r.line, r.end_line) for r in found[: len(alone_before)]] == [(r.line, r.end_line) for r in alone_before]

    alone_after = list(parse(io.BytesIO(after), plugin="bridge"))
    first_after = (before + target).count(b"\n") + 1
    tail = [r for r in found if r.line >= first_after]
    assert [_essence(r) for r in tail] == [_essence(r) for r in alone_after]
    assert [r.line - first_after + 1 for r in tail] == [r.line for r in alone_after]
