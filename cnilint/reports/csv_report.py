"""`--format csv` (one row per finding) and `--records-csv FILE` (one row per record).

Both are for spreadsheets and notebooks (`pandas.read_csv`), so the columns are
fixed and in a fixed order (documented in the README), lists and objects are
JSON text in their cell, and an absent value is an empty cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
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


ROWS_A_FRAME = 2048  # rows written a DataFrame at a time: memory stays flat on any log


def _cell(value: Any) -> Any:
    return csv_cell(value)


def write_frames(rows: Iterable[dict[str, Any]], columns: tuple[str, ...], out: TextIO) -> int:
    """Rows as CSV, the header first, a pandas DataFrame per ROWS_A_FRAME rows
    (each cell written as itself: the same text as one frame of them all); every
    cell through csv_cell (no formula runs)."""
    import pandas as pd  # slow to import: only when CSV is asked for

    written = 0
    cells = ({column: _cell(value) for column, value in row.items()} for row in rows)  # every cell, once more
    for chunk in chunked(cells, ROWS_A_FRAME, always_one=True):
        # dtype=object keeps integers as integers where a column also holds empty cells
        # (pandas would turn the column into floats: "4.0").
        frame = pd.DataFrame(chunk, columns=list(columns), dtype=object)
        frame.to_csv(out, index=False, header=written == 0, lineterminator="\n")
        written += len(chunk)
    return written


def chunked(items: Iterable[Any], size: int, always_one: bool = False) -> Iterator[list[Any]]:
    """Lists of up to `size` items; with `always_one`, one empty list when there are none."""
    iterator = iter(items)
    first = True
    while True:
        chunk = list(islice(iterator, size))
        if not chunk and not (first and always_one):
            return
        yield chunk
        first = False
        if len(chunk) < size:
            return


def write(data: ReportData, out: TextIO) -> None:
    write_frames((finding.to_dict() for finding in data.findings), FINDING_COLUMNS, out)


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


def write_records(data: ReportData, out: TextIO) -> None:
    """One row per record, by file (input order) then position, as findings are."""
    write_frames(map(record_row, data.rows()), RECORD_COLUMNS, out)
