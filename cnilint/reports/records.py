"""`cnilint records`: every parsed invocation as JSON lines, a table or CSV."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from cnilint.parse import Record

# CSV columns, in order; nested values are JSON text in their cell.
CSV_COLUMNS = (
    "file", "plugin", "record", "line", "end_line", "started", "returned", "started_at",
    "returned_at", "command", "container_id", "ifname", "netns", "cni_args", "cni_path",
    "params", "env", "input_raw", "output_raw", "input_error", "output_error", "complete",
    "tty", "exit_code", "stderr", "duration_ms", "invocation", "problems",
)  # fmt: skip


def write_jsonl(records: Iterable[Record], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record.to_dict(), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def write_csv(records: Iterable[Record], out: TextIO) -> int:
    from cnilint.reports.csv_report import write_frames

    def row(record: Record) -> dict[str, Any]:
        values = record.to_dict()
        return {column: values[column] for column in CSV_COLUMNS}

    return write_frames(map(row, records), CSV_COLUMNS, out)


def outcome(record: Record) -> str:
    """What the plugin answered, in a word."""
    output = record.output
    if output is None:
        return "not logged"
    if output.empty:
        return "empty"
    if not output.is_json:
        return "not JSON"
    value = output.value
    if isinstance(value, dict) and "code" in value:
        return f"error {value.get('code')}"
    return "result"


def declared_version(record: Record) -> str | None:
    value = record.input.value if record.input is not None and record.input.is_json else None
    version = value.get("cniVersion") if isinstance(value, dict) else None
    return version if isinstance(version, str) else None


TABLE_RECORDS = 1000  # records a table shows: rich lays a table out whole, in memory


def _table(title: str | None) -> Table:
    table = Table(title=title, show_lines=False)
    for header in ("location", "plugin", "command", "container", "ifname", "cniVersion", "output", "notes"):
        table.add_column(header, overflow="fold")
    return table


def write_table(records: Iterable[Record], console: Console) -> int:
    """The records in tables of TABLE_RECORDS (one table for most logs)."""
    table = _table("CNI plugin invocations")
    count = 0
    for record in records:
        if count and count % TABLE_RECORDS == 0:
            console.print(table)
            table = _table(None)
        notes = []
        if not record.complete:
            notes.append("incomplete")
        if record.tty:
            notes.append("stdin was a terminal")
        notes.extend(f"line {problem.line}: {problem.message}" for problem in record.problems if record.complete)
        table.add_row(
            f"{record.file}:{record.line}",
            record.plugin or "-",
            record.command or "-",
            (record.container_id or "-")[:12],
            record.ifname or "-",
            declared_version(record) or "-",
            outcome(record),
            "; ".join(notes),
        )
        count += 1
    console.print(table)
    return count
