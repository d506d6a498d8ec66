"""`cnilint timeline`: per attachment, its operations in time order, outcome and addresses."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import REAL
from rulekit import records_of, with_output

from cnilint.cli import main
from cnilint.reports import timeline as timeline_report

ERRORS = REAL / "07-errors"
ERROR_LOGS = [str(ERRORS / name) for name in ("bridge", "host-local", "tuning", "portmap", "macvlan")]


def _build(scenario: str, plugins: tuple[str, ...], keep=lambda record: True) -> timeline_report.Timeline:
    return timeline_report.build([r for r in records_of(scenario, plugin) if keep(r)] for plugin in plugins)


def _attachment(timeline: timeline_report.Timeline, prefix: str) -> timeline_report.AttachmentTimeline:
    (found,) = [a for a in timeline.attachments if a.container_id.startswith(prefix)]
    return found


@pytest.fixture(scope="module")
def errors() -> timeline_report.Timeline:
    return _build("07-errors", ("bridge", "host-local", "tuning", "portmap", "macvlan"))


def test_operations_of_an_attachment_in_time_order(errors: timeline_report.Timeline) -> None:
    e6 = _attachment(errors, "c2ae1b520e2c")  # ADD, second ADD (fails), DEL
    assert (e6.network, e6.ifname, e6.live) == ("crio", "eth0", False)
    assert [(op.command, op.outcome) for op in e6.operations] == [
        ("ADD", "success"),
        ("ADD", "failed"),
        ("DEL", "success"),
    ]
    first, second, _ = e6.operations
    assert first.addresses == ["10.85.0.3/16", "fd00:85::3/64"]
    assert (second.error_code, second.error_msg) == (999, "container veth name provided (eth0) already exists")
    assert second.failed_at.endswith("07-errors/bridge:534") and second.addresses == []
    assert [op.operation for op in e6.operations] == [1, 2, 3]


def test_attachments_in_order_of_their_first_operation(errors: timeline_report.Timeline) -> None:
    starts = [a.operations[0].started for a in errors.attachments]
    assert starts == sorted(starts)
    assert errors.attachments[0].container_id.startswith("6cd1b485e46a")  # E1, the first call
    assert errors.attachments[0].network is None  # its INPUT is not JSON


def test_failure_hidden_by_the_wrapper(errors: timeline_report.Timeline) -> None:
    badchain = _attachment(errors, "4279c6d71978")
    add, check, delete = badchain.operations
    # tuning and portmap ran in one second and portmap's prevResult is not tuning's error object:
    # nothing in the logs proves which of the two ran first.
    assert add.plugins == ["bridge", "tuning", "portmap"] and not add.order_proven
    assert (add.outcome, add.failed_plugin, add.hidden) == ("failed", "tuning", True)  # portmap still ran
    assert (check.outcome, check.hidden) == ("failed", True)
    assert not check.order_proven  # tuning and portmap CHECK started in the same second
    assert delete.outcome == "success" and not delete.hidden


def test_check_after_a_failed_add_marks_it_hidden() -> None:
    # bridge alone: its ADD failed (edited), then the runtime CHECKed it as if it had worked.
    records = records_of("02b-bridge-1.0.0", "bridge")
    failed = with_output(records[0], {"code": 11, "msg": "try again"})
    timeline = timeline_report.build([[failed, records[3], records[6]]])
    (attachment,) = timeline.attachments
    assert [(op.command, op.outcome, op.hidden) for op in attachment.operations] == [
        ("ADD", "failed", True),
        ("CHECK", "success", False),
        ("DEL", "success", False),
    ]


def test_live_attachments_are_marked() -> None:
    # Without their DELs the three pods of 02b are still live at the end: running pods, or leaks.
    timeline = _build("02b-bridge-1.0.0", ("bridge", "host-local"), keep=lambda r: r.command != "DEL")
    assert len(timeline.live) == 3
    assert all([op.command for op in a.operations] == ["ADD", "CHECK"] for a in timeline.attachments)
    full = _build("02b-bridge-1.0.0", ("bridge", "host-local"))
    assert full.live == [] and full.to_dict()["summary"] == {"attachments": 3, "live": 0, "operations": 9}


def test_delegated_records_are_not_operations() -> None:
    timeline = _build("01-classic-0.3.1", ("bridge", "host-local"))
    assert all(op.plugins == ["bridge"] for a in timeline.attachments for op in a.operations)
    assert [a.operations[0].addresses[0] for a in timeline.attachments] == [
        "10.85.0.2/16",
        "10.85.0.3/16",
        "10.85.0.4/16",
        "10.85.0.5/16",
    ]


def test_old_results_give_their_addresses() -> None:
    timeline = _build("02c-bridge-0.2.0", ("bridge", "host-local"))
    assert timeline.attachments[0].operations[0].addresses == ["10.85.0.2/16", "fd00:85::2/64"]


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", *ERROR_LOGS, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"attachments": 16, "live": 0, "operations": 35}
    assert {"network", "container_id", "ifname", "live", "operations"} <= set(data["attachments"][0])


def test_cli_csv_has_one_row_per_operation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", *ERROR_LOGS, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == list(timeline_report.CSV_COLUMNS)
    assert len(rows) == 35
    failed = [row for row in rows if row["container_id"].startswith("4279c6d71978") and row["command"] == "ADD"]
    assert failed[0]["hidden"] == "true" and json.loads(failed[0]["plugins"]) == ["bridge", "tuning", "portmap"]


def test_cli_table_marks_live_attachments(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    # The log up to its first DEL: the three pods stay live.
    first_del = next(r for r in records_of("02b-bridge-1.0.0", "bridge") if r.command == "DEL")
    lines = (REAL / "02b-bridge-1.0.0" / "bridge").read_text().split("\n")
    log = tmp_path / "bridge"
    log.write_text("\n".join(lines[: first_del.line - 1]))
    assert main(["timeline", str(log)]) == 0
    out = capsys.readouterr().out
    assert "LIVE at end" in out and "still live at the end" in out


def test_cli_timeline_reports_unreadable_paths(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["timeline", str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err


def test_a_long_table_is_printed_in_parts_with_every_attachment(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    outputs = []
    for size in (500, 3):
        monkeypatch.setattr(timeline_report, "TABLE_ATTACHMENTS", size)
        main(["timeline", *ERROR_LOGS])
        outputs.append(capsys.readouterr().out)
    whole, parts = outputs
    assert whole.count("Attachments and their operations") == parts.count("Attachments and their operations") == 1
    assert parts.count("┏") > whole.count("┏") == 1  # several tables, each with its header
    short_ids = {attachment.container_id[:12] for attachment in _build("07-errors", ("bridge",)).attachments}
    assert short_ids and all(short in parts for short in short_ids)
    assert whole.splitlines()[-1] == parts.splitlines()[-1]  # the same summary line


def test_every_format_is_the_same_when_operations_go_to_disk(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    outputs = []
    for held in (4096, 2):
        monkeypatch.setattr(timeline_report, "OPERATIONS_HELD", held)
        for fmt in ("table", "csv", "json"):
            main(["timeline", str(REAL), "--format", fmt])
            outputs.append(capsys.readouterr().out)
    assert outputs[:3] == outputs[3:]
    assert json.loads(outputs[2])["summary"]["operations"] > 100
    assert any(op["hidden"] for a in json.loads(outputs[2])["attachments"] for op in a["operations"])
