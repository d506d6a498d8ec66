from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from conftest import FIXTURES, REAL

from cnilint.cli import main
from cnilint.reports.records import CSV_COLUMNS
from cnilint.resources import data_dir

CONTRACT = {
    "file", "plugin", "line", "end_line", "started", "returned", "command", "container_id", "ifname",
    "netns", "cni_args", "params", "env", "input", "output", "input_raw", "output_raw", "complete",
    "tty", "recovered", "confidence", "problems",
}  # fmt: skip


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_records_prints_json_lines_with_the_contract_fields(capsys) -> None:
    code, out, err = run(capsys, "records", str(REAL / "01-classic-0.3.1" / "bridge"))
    assert code == 0 and err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 8
    assert set(lines[0]) >= CONTRACT
    assert lines[0]["recovered"] is False and lines[0]["confidence"] is None
    assert lines[0]["plugin"] == "bridge" and lines[0]["command"] == "ADD"
    assert lines[0]["input"]["type"] == "bridge" and lines[0]["output"]["cniVersion"] == "0.3.1"
    assert lines[4]["command"] == "DEL" and lines[4]["output"] is None and lines[4]["output_raw"] == ""


def test_records_of_a_directory_take_the_plugin_from_each_file_name(capsys) -> None:
    code, out, _ = run(capsys, "records", str(REAL / "04-ptp-macvlan"))
    plugins = [json.loads(line)["plugin"] for line in out.splitlines()]
    assert code == 0
    assert {"ptp": 6, "host-local": 12, "macvlan": 9, "static": 3, "tuning": 3, "portmap": 6}.items() <= {
        p: plugins.count(p) for p in set(plugins)
    }.items()


def test_records_from_stdin_use_the_plugin_option(capsys, monkeypatch) -> None:
    text = (FIXTURES / "seed" / "host-local").read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code, out, _ = run(capsys, "records", "-", "--plugin", "host-local")
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and record["plugin"] == "host-local" and record["file"] == "<stdin>"


def test_records_csv_has_the_documented_columns(capsys) -> None:
    code, out, _ = run(capsys, "records", "--format", "csv", str(REAL / "07-errors" / "tuning"))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3
    assert tuple(rows[0]) == CSV_COLUMNS
    assert json.loads(rows[0]["env"])["CNI_COMMAND"] == rows[0]["command"]


def test_records_table_lists_each_invocation(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run(capsys, "records", "--format", "table", str(REAL / "10-tty" / "loopback"))
    assert code == 0 and "loopback" in out and "ADD" in out and "DEL" in out
    assert "stdin was a terminal" in out


def test_records_table_of_a_long_log_comes_in_parts_with_every_record(capsys, monkeypatch) -> None:
    from cnilint.reports import records as records_report

    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setattr(records_report, "TABLE_RECORDS", 2)
    log = REAL / "07-errors" / "bridge"
    code, out, _ = run(capsys, "records", "--format", "table", str(log))
    lines = [record["line"] for record in map(json.loads, run(capsys, "records", str(log))[1].splitlines())]
    assert code == 0 and len(lines) > 10 and out.count("CNI plugin invocations") == 1
    assert out.count("┏") == (len(lines) + 1) // 2  # a table, with its header, every 2 records
    assert all(f"bridge:{line} " in out for line in lines)


def test_default_command_checks_each_file(capsys) -> None:
    code, out, _ = run(capsys, str(FIXTURES / "seed"))
    assert code in (0, 1)
    assert "2 records" in out and "2 files" in out


def test_check_reports_interleaved_regions_with_line_ranges(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    _code, out, _ = run(capsys, "check", "--format", "rich", str(REAL / "08-concurrency" / "bridge"))
    assert "08-concurrency/bridge:73-1318: [parse] 24 invocations interleave here" in out
    assert "their records are recovered (0 exact, 24 likely)" in out
    # Each recovered record says which of its blocks could be another call's.
    assert "08-concurrency/bridge:73-648: [parse] recovered from the interleaved lines 73-1318" in out


def test_records_marks_recovered_records(capsys) -> None:
    code, out, _ = run(capsys, "records", str(REAL / "08-concurrency" / "bridge"))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 26
    assert [row["recovered"] for row in rows].count(True) == 24
    assert {row["confidence"] for row in rows if row["recovered"]} == {"likely"}
    assert all(row["confidence"] is None for row in rows if not row["recovered"])


@pytest.mark.parametrize("argv", [["records", "no/such/log"], ["no/such/log"]])
def test_missing_path_is_one_line_and_exit_2(capsys, argv) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.strip().splitlines() == ["cnilint: error: no/such/log: no such file or directory"]
    assert "Traceback" not in out + err


def test_unreadable_file_is_one_line_and_exit_2(capsys, tmp_path) -> None:
    log = tmp_path / "bridge"
    log.write_text("x")
    log.chmod(0)
    try:
        open(log).close()
        pytest.skip("running with permissions that read anything")
    except PermissionError:
        pass
    code, _, err = run(capsys, "records", str(log))
    assert code == 2 and err.startswith("cnilint: error: ") and len(err.strip().splitlines()) == 1


def test_bad_option_is_a_usage_error(capsys) -> None:
    code = None
    with pytest.raises(SystemExit) as exit_info:
        main(["records", "--format", "xml", "x"])
    code = exit_info.value.code
    assert code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cnilint", "records", str(FIXTURES / "seed" / "bridge")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["container_id"].startswith("9b6e8465")


def test_grammar_ships_with_the_installed_package() -> None:
    assert (data_dir("grammars") / "wrapper_log.lark").is_file()
