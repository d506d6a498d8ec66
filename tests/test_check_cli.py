"""`cnilint check`: output, exit codes, selection, configuration, profiles, rules/rule."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES, REAL

from cnilint.cli import main

ERRORS_BRIDGE = str(REAL / "07-errors" / "bridge")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "check", "--format", "json", *argv)
    return code, json.loads(out)


def test_json_findings_carry_the_contract_fields(capsys) -> None:
    code, report = check_json(capsys, "--select", "ENV", ERRORS_BRIDGE)
    assert code == 1
    finding = next(f for f in report["findings"] if f["rule"] == "ENV010")
    assert {"rule", "severity", "file", "line", "record", "path", "message", "url"} <= set(finding)
    assert finding["path"] == "CNI_IFNAME" and finding["severity"] == "error"
    assert finding["url"].startswith("https://github.com/containernetworking/cni/")
    lines = (REAL / "07-errors" / "bridge").read_text().split("\n")
    assert lines[finding["line"] - 1] == "CNI_IFNAME=eth0-too-long-name"
    summary = report["summary"]
    assert summary["records"] == 35 and summary["findings"] == len(report["findings"])
    assert summary["by_rule"]["ENV010"] == 1


def test_rich_output_names_location_rule_and_excerpt(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "--format", "rich", "--select", "ENV010", ERRORS_BRIDGE)
    assert code == 1
    assert f"{ERRORS_BRIDGE}:" in out and "ENV010 [error]" in out
    assert "> " in out and "CNI_IFNAME=eth0-too-long-name" in out
    assert "Findings by rule" in out and "35 records" in out


def test_clean_log_says_so_in_one_line(capsys) -> None:
    code, out, _ = run(capsys, "--format", "rich", "--select", "ENV", str(FIXTURES / "seed" / "bridge"))
    assert code == 0
    assert out.strip().splitlines()[-1].startswith("✓ 1 records in 1 files: no findings")


def test_exit_codes_follow_fail_on_and_exit_zero(capsys) -> None:
    # ENV014 is info: never fails at the default --fail-on error.
    args = ["--select", "ENV014", str(REAL / "01-classic-0.3.1" / "bridge")]
    assert run(capsys, *args)[0] == 0
    assert run(capsys, "--select", "ENV010", ERRORS_BRIDGE)[0] == 1
    assert run(capsys, "--select", "ENV010", "--exit-zero", ERRORS_BRIDGE)[0] == 0
    assert run(capsys, "--select", "ENV010", "--fail-on", "error", ERRORS_BRIDGE)[0] == 1


def test_select_and_ignore_use_prefixes_longest_wins(capsys) -> None:
    _, report = check_json(capsys, "--select", "ENV00,ENV01", "--ignore", "ENV010", ERRORS_BRIDGE)
    rules = {f["rule"] for f in report["findings"]}
    assert rules and all(r.startswith("ENV0") for r in rules)
    assert "ENV010" not in rules
    _, report = check_json(capsys, "--ignore", "ENV", "--select", "ENV010", ERRORS_BRIDGE)
    assert {f["rule"] for f in report["findings"]} == {"ENV010"}


def test_severity_filters_what_is_reported(capsys) -> None:
    _, report = check_json(capsys, "--select", "ENV", "--severity", "error", ERRORS_BRIDGE)
    assert report["findings"] and all(f["severity"] == "error" for f in report["findings"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--select", "NOPE", ERRORS_BRIDGE], "no rule matches 'NOPE'"),
        (["--fail-on", "fatal", ERRORS_BRIDGE], "invalid choice"),
        (["no/such/file"], "no/such/file: no such file or directory"),
    ],
)
def test_bad_options_and_paths_exit_2_with_one_line(capsys, argv, message) -> None:
    try:
        code, _out, err = run(capsys, *argv)
    except SystemExit as exc:
        code, err = exc.code, capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _project(tmp_path, config_name: str, text: str):
    (tmp_path / "logs").mkdir()
    shutil.copy(REAL / "07-errors" / "bridge", tmp_path / "logs" / "bridge")
    (tmp_path / config_name).write_text(text)
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_pyproject_tool_section_is_found_walking_up(capsys, tmp_path, monkeypatch) -> None:
    root = _project(tmp_path, "pyproject.toml", '[tool.cnilint]\nselect = ["ENV010"]\nfail-on = "warning"\n')
    monkeypatch.chdir(root / "sub")
    code, report = check_json(capsys, str(root / "logs"))
    assert {f["rule"] for f in report["findings"]} == {"ENV010"} and code == 1


def test_cnilint_toml_per_file_and_per_plugin_ignores(capsys, tmp_path, monkeypatch) -> None:
    root = _project(
        tmp_path,
        ".cnilint.toml",
        'select = ["ENV"]\n[per-file-ignores]\n"logs/*" = ["ENV010"]\n[per-plugin-ignores]\nbridge = ["ENV002"]\n',
    )
    monkeypatch.chdir(root)
    _, report = check_json(capsys, "logs")
    rules = {f["rule"] for f in report["findings"]}
    assert "ENV010" not in rules and "ENV002" not in rules and "ENV003" in rules


def test_bad_config_file_is_a_usage_error(capsys, tmp_path, monkeypatch) -> None:
    root = _project(tmp_path, ".cnilint.toml", 'selcet = ["ENV"]\n')
    monkeypatch.chdir(root)
    code, _, err = run(capsys, "logs")
    assert code == 2 and "unknown key 'selcet'" in err


def test_rules_lists_every_catalogue_rule_with_status(capsys) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    rules = json.loads(out)
    assert code == 0 and len(rules) == 163
    assert {"id", "title", "severity", "family", "status"} <= set(rules[0])
    by_id = {r["id"]: r for r in rules}
    assert by_id["ENV010"]["status"] == "checked"
    planned = [r for r in rules if r["status"] == "planned"]
    assert all(r.get("reason") for r in planned)


def test_rule_explains_one_rule(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "rule", "env010")
    assert code == 0
    assert "ENV010 — Interface name at most 15 bytes" in out
    assert "What it checks" in out and "Fails on" in out and "https://" in out
    code, out, _ = run(capsys, "rule", "CONF013", "--format", "json")
    data = json.loads(out)
    assert data["profiles"]["libcni"] and data["example_fail"]
    assert run(capsys, "rule", "XYZ999")[0] == 2


def test_severity_follows_the_record_version(capsys) -> None:
    # RES003 is a warning up to 0.3.1 and an error from 0.4.0 (severity_by_version).
    from rulekit import findings, real, set_key, with_output

    old = with_output(real("01-classic-0.3.1", "bridge", 0), set_key(("cniVersion",), "0.4.0"))
    new = with_output(real("02a-bridge-0.4.0", "bridge", 0), set_key(("cniVersion",), "0.3.1"))
    assert [f.severity for f in findings(old, "RES003")] == ["warning"]
    assert [f.severity for f in findings(new, "RES003")] == ["error"]


def test_libcni_profile_marks_known_deviations(capsys) -> None:
    chain = str(REAL / "03a-chain-1.0.0" / "portmap")
    _, default = check_json(capsys, "--select", "CONF013", chain)
    _, spec = check_json(capsys, "--select", "CONF013", "--profile", "spec", chain)
    assert {f["severity"] for f in default["findings"]} == {"info"}
    assert all(f["deviation"] for f in default["findings"])
    assert {f["severity"] for f in spec["findings"]} == {"error"}
    assert len(default["findings"]) == len(spec["findings"]) == 12
