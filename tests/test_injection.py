"""What a log holds cannot act on whoever opens a report: CSV formulas are neutralised."""

from __future__ import annotations

import csv
import io
import sys

from conftest import FIXTURES

from cnilint.cli import main
from cnilint.reports.cells import csv_cell

FORMULA = '=HYPERLINK("http://evil.example","x")'


def _log_with_formulas() -> str:
    """A real 02b bridge ADD whose CNI_NETNS and CNI_IFNAME hold spreadsheet formulas."""
    return (FIXTURES / "injection" / "bridge").read_text()


def test_cells_that_start_a_formula_are_shown_as_text() -> None:
    for dangerous in ("=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(dangerous) == "'" + dangerous
    assert csv_cell("eth0") == "eth0" and csv_cell(3) == 3 and csv_cell(["=x"]) == '["=x"]'


def test_records_csv_from_a_hostile_log_has_no_live_formula(capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(_log_with_formulas()))
    main(["records", "-", "--plugin", "bridge", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["netns"] == "'" + FORMULA and rows[0]["ifname"] == "'@SUM(1)"
    for row in rows:
        assert not any(str(cell).startswith(("=", "+", "-", "@")) for cell in row.values())


def test_findings_and_records_csv_have_no_live_formula(capsys, tmp_path, monkeypatch) -> None:
    log = tmp_path / "bridge"
    log.write_text(_log_with_formulas())
    findings, records = tmp_path / "f.csv", tmp_path / "r.csv"
    main(["check", str(log), "--format", "csv", "--output", str(findings), "--records-csv", str(records)])
    for path in (findings, records):
        for row in csv.reader(io.StringIO(path.read_text())):
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), (path.name, row)
    assert "'" + FORMULA in records.read_text().replace('""', '"')
