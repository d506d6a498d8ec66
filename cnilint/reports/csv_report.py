"""`--format csv` (one row per finding) and `--records-csv FILE` (one row per record).

Both are for spreadsheets and notebooks (`pandas.read_csv`), so the columns are
fixed and in a fixed order (documented in the README), lists and objects are
JSON text in their cell, and an absent value is an empty cell.
"""

from __future__ import annotations

from typing import Any, TextIO

from cnilint.reports.cells import csv_cell
from cnilint.reports.data import RecordRow, ReportData

# The JSON finding's fields, in `Finding.to_dict()` order.
FINDING_COLUMNS = (
    "rule", "severity", "title", "message", "file", "line", "record", "document", "path", "url",
    "plugin", "command", "version", "deviation", "related", "fingerprint",
)  # fmt: skip

# One record per row: what was called and how it ended, then its findings and where it is.
RECORD_COLUMNS = (
    "time", "returned", "plugin", "command", "container", "ifname", "netns", "cniVersion", "outcome",
    "failed", "error_code", "error_msg", "addresses", "errors", "warnings", "infos", "file", "line",
    "end_line", "record", "complete", "recovered",
)  # fmt: skip


def _cell(value: Any) -> Any:
    return csv_cell(value)


def _write_frame(rows: list[dict[str, Any]], columns: tuple[str, ...], out: TextIO) -> None:
    import pandas as pd  # slow to import: only when CSV is asked for

    # dtype=object keeps integers as integers where a column also holds empty cells
    # (pandas would turn the column into floats: "4.0").
    rows = [{column: _cell(value) for column, value in row.items()} for row in rows]  # every cell, once
    frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
    frame.to_csv(out, index=False, lineterminator="\n")


def write(data: ReportData, out: TextIO) -> None:
    rows = [{column: _cell(value) for column, value in finding.to_dict().items()} for finding in data.findings]
    _write_frame(rows, FINDING_COLUMNS, out)


def record_row(row: RecordRow) -> dict[str, Any]:
    return {
        "time": row.started,
        "returned": row.returned,
        "plugin": row.plugin,
        "command": row.command,
        "container": row.container_id,
        "ifname": row.ifname,
        "netns": row.netns,
        "cniVersion": row.cni_version,
        "outcome": row.outcome,
        "failed": row.failed,
        "error_code": _cell(row.error_code),
        "error_msg": _cell(row.error_msg),
        "addresses": _cell(list(row.addresses)),
        "errors": row.findings.get("error", 0),
        "warnings": row.findings.get("warning", 0),
        "infos": row.findings.get("info", 0),
        "file": row.file,
        "line": row.line,
        "end_line": row.end_line,
        "record": row.record,
        "complete": row.complete,
        "recovered": row.recovered,
    }


def records_in_file_order(data: ReportData) -> list[RecordRow]:
    """The records by file (input order) then position, as findings are; the
    checker keeps them in the order it merged the logs, which no reader expects."""
    rank = {file: index for index, file in enumerate(data.files)}
    return sorted(data.records or (), key=lambda row: (rank.get(row.file, len(rank)), row.record))


def write_records(data: ReportData, out: TextIO) -> None:
    _write_frame([record_row(row) for row in records_in_file_order(data)], RECORD_COLUMNS, out)
