"""`cnilint timeline`: per attachment (network, container, ifname), its ADD,
CHECK and DEL operations in time order, with their outcome and addresses.

The operations are those of the lifecycle tracker (the same the SEQ rules
judge): the logs are merged in time order and grouped exactly as `check`
does. Attachments still live at the end of the logs are marked: on a real
node they are running pods, or leaks.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cnilint.correlate.calls import Call, merge_in_time
from cnilint.correlate.conflist import Conflist
from cnilint.correlate.engine import CrossEngine, canonical
from cnilint.correlate.lifecycle import AttachmentKey, Operation, OperationDone
from cnilint.engine import Engine
from cnilint.options import Options
from cnilint.parse import Record
from cnilint.reports.cells import csv_cell
from cnilint.spill import KeyedSpill

CSV_COLUMNS = (
    "network", "container_id", "ifname", "live", "operation", "command", "started", "returned",
    "plugins", "order_proven", "outcome", "error_code", "error_msg", "failed_plugin", "failed_at", "hidden",
    "addresses", "records",
)  # fmt: skip


@dataclass(slots=True)
class OperationRow:
    operation: int  # 1-based position among the attachment's operations
    command: str
    started: str | None  # ISO 8601 of the first record's date line
    returned: str | None  # ISO 8601 of the last record's Returned at
    plugins: list[str]  # in the order they ran
    order_proven: bool  # false: records of different logs in one second, whose order the dates cannot tell
    outcome: str  # "success" or "failed"
    error_code: Any = None  # of the first failure's error object
    error_msg: Any = None
    failed_plugin: str | None = None
    failed_at: str | None = None  # file:line of the first failed record
    hidden: bool = False  # the runtime went on after the failure: the wrapper's exit 0 hid it
    addresses: list[str] = field(default_factory=list)  # ADD: the addresses of its result
    records: list[str] = field(default_factory=list)  # file:line of each record


OPERATIONS_HELD = 4096  # operation rows kept in memory (~1 KB each); the others go to disk


class _Operations:
    """Every attachment's operation rows, on disk past a few thousand (KeyedSpill),
    and the rows a later CHECK showed hidden: a row once written is not changed."""

    def __init__(self) -> None:
        self.rows = KeyedSpill(limit=OPERATIONS_HELD)
        self.hidden: set[tuple[int, int]] = set()  # (attachment number, operation position)

    def of(self, number: int) -> list[OperationRow]:
        rows = self.rows.of(number)
        for row in rows:
            if (number, row.operation) in self.hidden:
                row.hidden = True
        return rows


@dataclass(slots=True)
class AttachmentTimeline:
    network: str | None
    container_id: str
    ifname: str
    live: bool = False  # still live at the end of the logs: a running pod or a leak
    number: int = 0  # in order of first operation, as the timeline lists them
    count: int = 0  # operations
    last: tuple[str, str] | None = None  # the last operation's command and outcome
    store: _Operations | None = field(default=None, repr=False, compare=False)

    @property
    def operations(self) -> list[OperationRow]:
        """Its operations in time order (read from where they are kept)."""
        return self.store.of(self.number) if self.store is not None else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "container_id": self.container_id,
            "ifname": self.ifname,
            "live": self.live,
            "operations": [asdict(row) for row in self.operations],
        }


@dataclass(slots=True)
class Timeline:
    attachments: list[AttachmentTimeline]

    @property
    def live(self) -> list[AttachmentTimeline]:
        return [attachment for attachment in self.attachments if attachment.live]

    def summary(self) -> dict[str, int]:
        return {
            "attachments": len(self.attachments),
            "live": len(self.live),
            "operations": sum(attachment.count for attachment in self.attachments),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"attachments": [attachment.to_dict() for attachment in self.attachments], "summary": self.summary()}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def result_addresses(result: Any) -> list[str]:
    """The addresses of an ADD result as written: ips[].address, or ip4/ip6.ip before 0.3.0."""
    found: list[str] = []
    if not isinstance(result, dict):
        return found
    ips = result.get("ips")
    if isinstance(ips, list):
        found += [
            entry["address"] for entry in ips if isinstance(entry, dict) and isinstance(entry.get("address"), str)
        ]
    for key in ("ip4", "ip6"):
        section = result.get(key)
        if isinstance(section, dict) and isinstance(section.get("ip"), str):
            found.append(section["ip"])
    return found


def _where(call: Call) -> str:
    return f"{call.record.file}:{call.record.line}"


def _pair_ordered(a: Call, b: Call) -> bool:
    """The logs prove `a` ran before `b`: one log (kept in order), different
    seconds, or `b` got `a`'s output as prevResult and `a` had changed it."""
    if a.record.file == b.record.file or a.start is None or b.start is None or int(a.start) != int(b.start):
        return True
    if b.command != "ADD":
        return False
    prev_b = (b.facts.config or {}).get("prevResult")
    prev_a = (a.facts.config or {}).get("prevResult")
    return canonical(prev_b) == canonical(a.facts.result) and canonical(prev_a) != canonical(a.facts.result)


def _order_proven(operation: Operation) -> bool:
    """Whether the dates and links of the records prove the order they are listed in."""
    return all(_pair_ordered(a, b) for a, b in pairwise(operation.calls))


def _row(operation: Operation, position: int) -> OperationRow:
    first, last = operation.calls[0], operation.calls[-1]
    row = OperationRow(
        operation=position,
        command=operation.command,
        started=_iso(first.record.started_at),
        returned=_iso(last.record.returned_at),
        plugins=[call.record.plugin or "-" for call in operation.calls],
        order_proven=_order_proven(operation),
        outcome="failed" if operation.failed else "success",
        records=[_where(call) for call in operation.calls],
    )
    failure = operation.first_failure
    if failure is not None:
        error = failure.facts.error or {}
        row.error_code, row.error_msg = error.get("code"), error.get("msg")
        if failure.facts.error is None:
            row.error_msg = "OUTPUT is not JSON"
        row.failed_plugin, row.failed_at = failure.record.plugin, _where(failure)
        row.hidden = failure is not last  # a next plugin ran after the failure
    elif operation.command == "ADD":
        row.addresses = result_addresses(operation.final_result)
    return row


class _Collector:
    """Listens to the lifecycle tracker and keeps one small row per operation (on
    disk past a few thousand) and a few facts per attachment."""

    def __init__(self) -> None:
        self.by_key: dict[AttachmentKey, AttachmentTimeline] = {}
        self.first_seq: dict[AttachmentKey, int] = {}  # when the attachment's first operation started
        self.operations = _Operations()

    def __call__(self, done: OperationDone) -> None:
        operation = done.operation
        network, container, ifname = operation.attachment
        timeline = self.by_key.get(operation.attachment)
        if timeline is None:
            number = len(self.by_key)
            timeline = AttachmentTimeline(network, container, ifname, number=number, store=self.operations)
            self.by_key[operation.attachment] = timeline
            self.first_seq[operation.attachment] = operation.seq
        if operation.command == "CHECK" and timeline.last == ("ADD", "failed"):
            # CHECKing an ADD that failed: the runtime took the failure for a success.
            self.operations.hidden.add((timeline.number, timeline.count))
        timeline.count += 1
        row = _row(operation, timeline.count)
        self.operations.rows.add(timeline.number, row)
        timeline.last = (row.command, row.outcome)


def build(logs: Iterable[Iterable[Record]], conflists: dict[str, Conflist] | None = None) -> Timeline:
    """The timeline of every attachment in `logs` (each an iterable of one log's records);
    conflists order the plugins where one-second dates cannot."""
    engine = Engine(Options(ignore=("ALL",)))  # no rule runs: only the operations are wanted
    cross = CrossEngine(engine, conflists)
    collector = _Collector()
    cross.lifecycle.listeners.append(collector)
    for _ in cross.run(merge_in_time([engine.check(records) for records in logs])):
        pass
    for attachment in cross.lifecycle.live():
        if attachment.key in collector.by_key:
            collector.by_key[attachment.key].live = True
    ordered = sorted(collector.by_key, key=lambda key: collector.first_seq[key])
    return Timeline([collector.by_key[key] for key in ordered])


def write_json(timeline: Timeline, out: TextIO) -> None:
    """`json.dump(timeline.to_dict(), indent=2)`, an attachment at a time."""
    if not timeline.attachments:
        json.dump(timeline.to_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    out.write('{\n  "attachments": [')
    for number, attachment in enumerate(timeline.attachments):
        lines = json.dumps(attachment.to_dict(), ensure_ascii=False, indent=2).split("\n")
        out.write(("," if number else "") + "\n" + "\n".join("    " + line for line in lines))
    summary = json.dumps(timeline.summary(), ensure_ascii=False, indent=2).replace("\n", "\n  ")
    out.write(f'\n  ],\n  "summary": {summary}\n}}\n')


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else csv_cell(value)


def write_csv(timeline: Timeline, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for attachment in timeline.attachments:
        for row in attachment.operations:
            values = {**asdict(row), **_attachment_columns(attachment)}
            writer.writerow([_cell(values[column]) for column in CSV_COLUMNS])


def _attachment_columns(attachment: AttachmentTimeline) -> dict[str, Any]:
    return {
        "network": attachment.network,
        "container_id": attachment.container_id,
        "ifname": attachment.ifname,
        "live": attachment.live,
    }


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _outcome_text(row: OperationRow) -> str:
    if row.outcome == "success":
        return "[green]success[/]"
    text = f"[red]failed[/] {escape(_shorten(f'{row.failed_plugin}: code {row.error_code} {row.error_msg}'))}"
    if row.hidden:
        text += " [yellow](hidden: the runtime went on)[/]"
    return text


def _clock(iso: str | None) -> str:
    return iso[11:19] if iso is not None and len(iso) >= 19 else "-"


def _plugins_text(row: OperationRow) -> str:
    if row.order_proven:
        return " → ".join(row.plugins)
    return ", ".join(row.plugins) + " (order within one second not proven)"


def _short_where(where: str) -> str:
    """`plugin:line` for the table (the log's file name is the plugin's)."""
    file, _, line = where.rpartition(":")
    return f"{file.rsplit('/', 1)[-1]}:{line}"


TABLE_ATTACHMENTS = 500  # attachments a table shows: rich lays a table out whole, in memory


def _table(title: str | None) -> Table:
    table = Table(title=title, show_lines=True)
    table.add_column("attachment", overflow="fold", min_width=12)
    table.add_column("#", justify="right")
    table.add_column("command", no_wrap=True)
    table.add_column("started", no_wrap=True)
    for header in ("plugins", "outcome", "addresses", "records"):
        table.add_column(header, overflow="fold")
    return table


def print_table(timeline: Timeline, console: Console) -> None:
    """The attachments in tables of TABLE_ATTACHMENTS (one table for most logs)."""
    attachments = timeline.attachments
    for start in range(0, max(len(attachments), 1), TABLE_ATTACHMENTS):
        table = _table("Attachments and their operations" if start == 0 else None)
        for attachment in attachments[start : start + TABLE_ATTACHMENTS]:
            _add_rows(table, attachment)
        console.print(table)
    summary = timeline.summary()
    console.print(
        f"{summary['attachments']} attachments, {summary['operations']} operations; "
        f"{summary['live']} still live at the end of the logs (running pods, or leaks)",
        highlight=False,
    )


def _add_rows(table: Table, attachment: AttachmentTimeline) -> None:
    names = (attachment.network or "-", attachment.container_id[:12] or "-", attachment.ifname or "-")
    label = escape("\n".join(names))
    if attachment.live:
        label += "\n[bold yellow]LIVE at end[/]"
    for index, row in enumerate(attachment.operations):
        table.add_row(
            label if index == 0 else "",
            str(row.operation),
            row.command,
            _clock(row.started),
            escape(_plugins_text(row)),
            _outcome_text(row),
            escape("\n".join(row.addresses)),
            escape("\n".join(_short_where(where) for where in row.records)),
        )
