"""A check's findings and records go to a temporary file past a limit, and
every report is the same as when they all stay in memory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from cnilint import findings as findings_module
from cnilint.cli import main
from cnilint.findings import Finding, FindingList, FindingStore
from cnilint.reports import data as data_module
from cnilint.reports.data import RecordRows, RowStore, SeverityCounts

FORMATS = ("rich", "concise", "json", "jsonl", "csv", "html", "sarif", "junit", "github")


def _finding(file: str, line: int, rule: str, message: str) -> Finding:
    return Finding(rule, "error", "t", message, file, line, 0, "input", "", "u", "bridge", "ADD", "1.0.0")


def test_findings_come_back_sorted_by_line_and_rule_equal_ones_in_the_order_added() -> None:
    store = FindingStore(limit=3)
    added = [
        _finding("a", line, rule, f"#{number}")
        for number, (line, rule) in enumerate([(9, "X"), (2, "B"), (9, "A"), (2, "B"), (5, "C"), (2, "B"), (1, "Z")])
    ]
    for start in range(0, len(added), 2):  # in pieces: runs spilled past 3
        store.add("a", added[start : start + 2])
        store.add("b", [_finding("b", 1, "R", f"b{start}")])
    assert store._runs  # some went to the file
    assert list(store.of("a")) == sorted(added, key=lambda f: (f.line, f.rule))  # sorted() is stable
    assert [f.message for f in store.of("b")] == ["b0", "b2", "b4", "b6"]
    assert (len(store), store.files()) == (11, ["a", "b"])
    assert list(store) == [*store.of("a"), *store.of("b")]


def test_a_finding_list_is_read_again_on_each_pass_and_maps_lazily() -> None:
    passes = []

    def source():
        passes.append(1)
        return iter([_finding("a", 1, "R", "m")])

    view = FindingList(source, 1)
    shouted = view.map(lambda f: dataclasses.replace(f, message=f.message.upper()))
    assert [f.message for f in shouted] == ["M"] and [f.message for f in view] == ["m"]
    assert len(passes) == 2 and len(shouted) == 1 and bool(view)
    assert view[0].message == "m" and view == [_finding("a", 1, "R", "m")]


def _reports(capsys, folder: Path) -> tuple[int, str, dict[str, bytes]]:
    folder.mkdir()
    argv = ["check", "fixtures/real", "--conflist", "fixtures/conflists", "--format", "concise"]
    for fmt in FORMATS:
        argv += ["--format", fmt, "--output", str(folder / f"report.{fmt}")]
    argv += ["--records-csv", str(folder / "records.csv")]
    code = main(argv)
    out = capsys.readouterr().out
    return code, out, {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_every_report_is_the_same_when_findings_and_records_go_to_a_temporary_file(
    capsys, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.chdir(ROOT)
    in_memory = _reports(capsys, tmp_path / "memory")
    spilled = []
    real_write = FindingStore._write_runs

    def counted(self: FindingStore) -> None:
        spilled.append(self._holding)
        real_write(self)

    stores: list[RowStore] = []
    real_init = RowStore.__init__

    def kept(self: RowStore, limit: int | None = None, *, bodies: bool = True) -> None:
        real_init(self, limit, bodies=bodies)
        stores.append(self)

    monkeypatch.setattr(findings_module, "SPILL_AFTER", 7)
    monkeypatch.setattr(FindingStore, "_write_runs", counted)
    monkeypatch.setattr(data_module, "ROWS_HELD", 5)
    monkeypatch.setattr(RowStore, "__init__", kept)
    on_disk = _reports(capsys, tmp_path / "disk")
    assert len(spilled) > 10  # the real captures have hundreds of findings
    assert len(stores) == 1 and len(stores[0]._runs) > 5 and stores[0].bodies  # and hundreds of records (HTML)
    assert on_disk == in_memory
    assert in_memory[0] == 1 and len(in_memory[2]) == len(FORMATS) + 1


def test_records_come_back_by_file_then_index_whatever_the_order_they_came_in() -> None:
    def row(file: str, index: int) -> data_module.RecordRow:
        return data_module.RecordRow(
            file, "bridge", index, index, index, None, None, "ADD", None, None, None, "1.0.0", "result",
            False, None, None, (), {}, None, None, None, None, True, False,
        )  # fmt: skip

    store = RowStore(limit=2)
    for file, index in [("a", 0), ("b", 0), ("a", 1), ("a", 3), ("a", 2), ("b", 1)]:
        store.add(row(file, index))
    assert store._runs and (len(store), store.count("a")) == (6, 4)
    rows = RecordRows.stored(store, ["b", "a"])
    assert [(r.file, r.record) for r in rows] == [("b", 0), ("b", 1), ("a", 0), ("a", 1), ("a", 2), ("a", 3)]
    keys = [("a", 3), ("b", 0), ("a", 0), ("a", 2), ("z", 0), ("a", 9), ("b", 1)]
    assert [(r.file, r.record) if r else None for r in rows.pick(keys)] == [*keys[:4], None, None, ("b", 1)]
    listed = RecordRows.of([row("a", 1), row("c", 0), row("a", 0)], ["a"])
    assert [r and r.record for r in listed.map(lambda r: r).pick([("c", 0), ("a", 1), ("c", 1)])] == [0, 1, None]
    assert [(r.file, r.record) for r in listed] == [("a", 0), ("a", 1), ("c", 0)] and len(listed) == 3


def test_one_files_findings_are_read_without_the_others() -> None:
    store = FindingStore(limit=2)
    store.add("a", [_finding("a", 2, "R", "a2"), _finding("a", 1, "R", "a1")])
    store.add("b", [_finding("b", 1, "R", "b1")])
    read: list[str] = []
    real_of = store.of
    view = FindingList(lambda: iter(store), len(store), lambda file: read.append(file) or real_of(file))
    assert [f.message for f in view.map(lambda f: f).of_file("a")] == ["a1", "a2"] and read == ["a"]
    assert [f.message for f in FindingList.of(list(store)).of_file("b")] == ["b1"]


def test_severity_counts_are_kept_per_record_index_and_severity() -> None:
    counts = SeverityCounts()
    for record, severity in [(0, "error"), (5, "info"), (5, "info"), (3, "error"), (100, "warning")]:
        counts.add(record, severity)
    assert [counts.of(n) for n in (0, 5, 3, 100, 7, 10_000)] == [
        {"error": 1}, {"info": 2}, {"error": 1}, {"warning": 1}, {}, {},
    ]  # fmt: skip


def test_junit_and_records_csv_are_the_same_from_rows_kept_without_bodies(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    stores: list[RowStore] = []
    real_init = RowStore.__init__

    def kept(self: RowStore, limit: int | None = None, *, bodies: bool = True) -> None:
        real_init(self, limit, bodies=bodies)
        stores.append(self)

    monkeypatch.setattr(RowStore, "__init__", kept)
    outputs = []
    for extra in ([], ["--format", "html", "--output", str(tmp_path / "report.html")]):
        folder = tmp_path / f"run{len(outputs)}"
        folder.mkdir()
        argv = ["check", "fixtures/real", "--format", "junit", "--output", str(folder / "junit.xml"), *extra]
        main([*argv, "--records-csv", str(folder / "records.csv")])
        outputs.append({path.name: path.read_bytes() for path in folder.iterdir()})
    capsys.readouterr()
    assert [store.bodies for store in stores] == [False, True]  # only the HTML report shows bodies
    assert outputs[0] == outputs[1] and len(outputs[0]) == 2


def test_a_kept_record_is_found_by_its_key_in_memory_or_in_its_chunk_on_disk() -> None:
    def row(index: int) -> data_module.RecordRow:
        return data_module.RecordRow(
            "c", "bridge", index, index, index, None, None, "ADD", None, None, None, "1.0.0", "result",
            False, None, None, (), {}, None, None, None, None, True, False,
        )  # fmt: skip

    store = RowStore(limit=10)
    store._spill.chunk = 3  # runs of 11 rows in chunks of 3
    for index in range(25):
        store.add(row(index))
    assert len(store._chunks["c"]) == 8 and len(store._held["c"]) == 3
    keys = [("c", n) for n in (7, 0, 24, 13, 13, 22, 21, 3)] + [("c", 25), ("d", 0)]
    assert [r.record if r else None for r in store.pick(keys)] == [7, 0, 24, 13, 13, 22, 21, 3, None, None]


def test_a_keyed_spill_gives_each_keys_items_in_order_across_chunks_and_its_cache() -> None:
    from cnilint.spill import KeyedSpill

    spill = KeyedSpill(limit=3, chunks_kept=1)  # a chunk every 4 items, one chunk kept when read
    for item in range(22):
        spill.add(item % 5, item)
    assert len(spill._chunks) == 5 and spill._held
    assert [spill.of(key) for key in (4, 0, 3, 9)] == [[4, 9, 14, 19], [0, 5, 10, 15, 20], [3, 8, 13, 18], []]
    assert spill.of(0) == [0, 5, 10, 15, 20] and len(spill._read) == 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from("abc"), max_size=60),
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=1, max_value=4),
    st.lists(st.tuples(st.sampled_from("abcd"), st.integers(min_value=-1, max_value=30)), max_size=20),
)
def test_kept_rows_read_back_as_they_were_added_wherever_they_are(files, limit, chunk, keys) -> None:
    def row(file: str, index: int) -> data_module.RecordRow:
        return data_module.RecordRow(
            file, "bridge", index, index, index, None, None, "ADD", None, None, None, "1.0.0", "result",
            False, None, None, (), {}, None, None, None, None, True, False,
        )  # fmt: skip

    store = RowStore(limit=limit)
    store._spill.chunk = chunk
    added = []
    for file in files:
        added.append(row(file, sum(1 for earlier in added if earlier.file == file)))
        store.add(added[-1])
    assert list(store.as_checked()) == added
    for file in "abcd":
        assert list(store.of(file)) == [r for r in added if r.file == file]
    by_key = {(r.file, r.record): r for r in added}
    assert list(store.pick(keys)) == [by_key.get(key) for key in keys]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), max_size=80), st.integers(1, 9), st.integers(1, 3))
def test_a_keyed_spill_reads_back_what_was_added(keys, limit, kept) -> None:
    from cnilint.spill import KeyedSpill

    spill = KeyedSpill(limit=limit, chunks_kept=kept)
    for number, key in enumerate(keys):
        spill.add(key, number)
    for key in [*range(8), *reversed(range(8))]:
        assert spill.of(key) == [number for number, k in enumerate(keys) if k == key]
