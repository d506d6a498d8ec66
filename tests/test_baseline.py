"""`--baseline` / `--write-baseline`: CI fails only on new findings of captured logs,
re-captured logs still match, stale entries are reported; the pre-commit hook and
the GitHub workflow example."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, REAL, ROOT

import cnilint
from cnilint.cli import main

PLUGINS = ("bridge", "host-local", "macvlan", "portmap", "tuning")  # the logs of 07-errors
LOGS = "captures/07-errors"  # relative, as a team would give it from its repository root
FINDINGS = 71  # every finding of 07-errors with the default options


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, "check", LOGS, "--format", "json", *argv)
    return code, json.loads(out)


# A re-capture: the same calls made again give fresh container IDs, pod UIDs and
# netns names, new veth names and MACs, other dates, and the lines move (another
# environment, other spacing). The configurations sent are the same.
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
MAC = re.compile(r"\b([0-9a-f]{2})((?::[0-9a-f]{2}){5})\b")
VETH = re.compile(r"\bveth[0-9a-f]{8}\b")
DATE = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} [AP]M UTC \d{4}")
DATE_FORMAT = "%a %b %d %I:%M:%S %p UTC %Y"  # the capture's `date` locale


def _fresh(value: str) -> str:
    return hashlib.sha256(f"re-captured:{value}".encode()).hexdigest()


def recapture(text: str) -> str:
    def uuid(match: re.Match[str]) -> str:
        new = _fresh(match.group())
        return f"{new[:8]}-{new[8:12]}-{new[12:16]}-{new[16:20]}-{new[20:32]}"

    def mac(match: re.Match[str]) -> str:
        new = _fresh(match.group())
        return match.group(1) + "".join(f":{new[i : i + 2]}" for i in range(0, 10, 2))

    def date(match: re.Match[str]) -> str:
        later = datetime.strptime(match.group(), DATE_FORMAT) + timedelta(days=2, hours=3, minutes=4, seconds=5)
        return later.strftime(DATE_FORMAT)

    text = HEX64.sub(lambda match: _fresh(match.group()), text)  # container IDs
    text = UUID.sub(uuid, text)  # netns names, pod UIDs
    text = MAC.sub(mac, text)
    text = VETH.sub(lambda match: "veth" + _fresh(match.group())[:8], text)
    text = DATE.sub(date, text)
    lines: list[str] = []
    for number, line in enumerate(text.split("\n")):
        if number and DATE.fullmatch(line):
            lines.append("")  # one more blank line before each record
        lines.append(line)
        if line == "PWD=/":
            lines.append("NODE_NAME=node-b")  # another node's environment
    return "\n".join(lines)


def edit_cni_args(text: str, record_index: int) -> str:
    """One record (params and env) gets a CNI_ARGS item that is not KEY=VALUE."""
    record = list(cnilint.parse(io.StringIO(text)))[record_index]
    lines = text.split("\n")
    for i in range(record.line - 1, record.end_line):
        if lines[i].startswith("CNI_ARGS="):
            lines[i] = lines[i].replace("IgnoreUnknown=1;", "IgnoreUnknown=1;bogus;")
    return "\n".join(lines)


@pytest.fixture
def captures(tmp_path, monkeypatch) -> Path:
    """07-errors' logs in captures/07-errors of a repository; the current directory is its root."""
    folder = tmp_path / LOGS
    folder.mkdir(parents=True)
    for plugin in PLUGINS:
        (folder / plugin).write_text((REAL / "07-errors" / plugin).read_text())
    monkeypatch.chdir(tmp_path)
    return folder


def write_baseline(capsys, path: str = "baseline.json", *argv: str) -> dict:
    code, _out, err = run(capsys, "check", LOGS, "--write-baseline", path, *argv)
    assert code == 0 and err == ""
    return json.loads(Path(path).read_text())


def test_write_baseline_records_every_finding_and_exits_0(capsys, captures) -> None:
    baseline = write_baseline(capsys)
    assert baseline["cnilint-baseline"] == 1
    entries = baseline["entries"]
    assert sum(entry["count"] for entry in entries) == FINDINGS
    assert all(set(entry) == {"file", "rule", "fingerprint", "count", "line", "message"} for entry in entries)
    keys = [(entry["file"], entry["rule"], entry["fingerprint"]) for entry in entries]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    err005 = [e for e in entries if e["rule"] == "ERR005" and e["file"] == f"{LOGS}/bridge"]
    assert max(e["count"] for e in err005) == 4  # four bridge error objects of one config and command


def test_write_baseline_is_stable(capsys, captures) -> None:
    write_baseline(capsys, "first.json")
    write_baseline(capsys, "second.json")
    assert Path("first.json").read_bytes() == Path("second.json").read_bytes()


def test_baseline_round_trip_suppresses_every_finding(capsys, captures) -> None:
    write_baseline(capsys)
    code, report = check_json(capsys, "--baseline", "baseline.json")
    assert code == 0 and report["findings"] == []
    assert report["baseline"] == {"suppressed": FINDINGS, "stale": []}
    summary = report["summary"]
    assert summary["findings"] == 0 and summary["by_rule"] == {} and summary["records_with_findings"] == 0
    assert summary["records_valid"] == summary["records"] == 73


def test_paths_are_matched_as_given_less_a_leading_dot(capsys, captures) -> None:
    write_baseline(capsys)
    dotted = [f"./{LOGS}/{plugin}" for plugin in PLUGINS]
    code, out, _ = run(capsys, "check", *dotted, "--baseline", "baseline.json", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    # Another name of the same file (absolute) is another file: nothing is suppressed.
    code, out, _ = run(capsys, "check", str(captures / "bridge"), "--baseline", "baseline.json", "--format", "json")
    assert code == 1 and json.loads(out)["baseline"]["suppressed"] == 0


def _edit(path: str, edit) -> None:
    document = json.loads(Path(path).read_text())
    edit(document["entries"])
    Path(path).write_text(json.dumps(document))


def _err005_entry(entries: list[dict]) -> dict:
    return next(e for e in entries if e["rule"] == "ERR005" and e["file"] == f"{LOGS}/bridge" and e["count"] == 4)


def test_an_entry_suppresses_up_to_its_count(capsys, captures) -> None:
    write_baseline(capsys)
    _edit("baseline.json", lambda entries: _err005_entry(entries).update(count=3))
    code, report = check_json(capsys, "--baseline", "baseline.json", "--fail-on", "info")
    assert code == 1  # the fourth occurrence is new
    assert [(f["rule"], f["file"]) for f in report["findings"]] == [("ERR005", f"{LOGS}/bridge")]
    assert report["baseline"] == {"suppressed": FINDINGS - 1, "stale": []}
    assert report["summary"]["by_severity"] == {"error": 0, "warning": 0, "info": 1}


def test_entries_no_longer_found_are_reported_stale(capsys, captures, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich does not wrap the lines
    write_baseline(capsys)
    gone = {"file": f"{LOGS}/gone", "rule": "CONF001", "fingerprint": "0" * 20, "count": 1, "line": 3, "message": "x"}
    elsewhere = {**gone, "file": "README.md"}  # a file that exists but is not checked in this run: not judged
    _edit("baseline.json", lambda entries: [_err005_entry(entries).update(count=6), entries.extend([gone, elsewhere])])
    Path("README.md").write_text("not a log\n")
    code, report = check_json(capsys, "--baseline", "baseline.json")
    assert code == 0 and report["findings"] == []  # stale entries never fail the run
    stale = report["baseline"]["stale"]
    assert [(s["file"], s["rule"], s["count"], s["recorded"]) for s in stale] == [
        (f"{LOGS}/bridge", "ERR005", 2, 6),
        (f"{LOGS}/gone", "CONF001", 1, 1),
    ]
    code, out, _ = run(capsys, "check", LOGS, "--baseline", "baseline.json", "--format", "concise")
    lines = out.splitlines()
    assert lines[-3] == f"Baseline: {FINDINGS} known findings suppressed, 2 baseline entries no longer found (stale)."
    assert lines[-2].startswith(f"{LOGS}/bridge: [baseline] stale: ERR005 no longer found (2 of 6): the error object")
    assert lines[-1] == f"{LOGS}/gone: [baseline] stale: CONF001 no longer found (1 of 1): x (recorded at line 3)"
    code, out, _ = run(capsys, "check", LOGS, "--baseline", "baseline.json", "--format", "rich")
    assert out.splitlines()[-2:] == lines[-2:]
    assert "2 baseline entries no longer found (stale)" in out
    # Entries of rules this run does not select are not judged either.
    code, report = check_json(capsys, "--baseline", "baseline.json", "--select", "ENV")
    assert report["findings"] == [] and report["baseline"] == {"suppressed": 6, "stale": []}  # the six ENV findings


def test_recaptured_logs_still_match_every_entry(capsys, captures) -> None:
    write_baseline(capsys)
    _, before = check_json(capsys)
    for plugin in PLUGINS:
        (captures / plugin).write_text(recapture((captures / plugin).read_text()))
    _, after = check_json(capsys)
    assert "6cd1b485e46af44f" not in (captures / "bridge").read_text()  # E1's container ID is gone
    moved = sum(1 for old, new in zip(before["findings"], after["findings"], strict=True) if old["line"] != new["line"])
    assert moved >= FINDINGS - 1  # nearly every finding sits on another line now
    code, report = check_json(capsys, "--baseline", "baseline.json")
    assert code == 0 and report["findings"] == []
    assert report["baseline"] == {"suppressed": FINDINGS, "stale": []}


def test_a_new_finding_in_a_recaptured_log_fails_the_run(capsys, captures) -> None:
    write_baseline(capsys)
    bridge = captures / "bridge"
    bridge.write_text(edit_cni_args(bridge.read_text(), record_index=4))  # a clean ADD, edited
    for plugin in PLUGINS:
        (captures / plugin).write_text(recapture((captures / plugin).read_text()))
    code, report = check_json(capsys, "--baseline", "baseline.json")
    assert code == 1
    assert report["baseline"] == {"suppressed": FINDINGS, "stale": []}
    new = {(f["rule"], f["file"]) for f in report["findings"]}
    assert ("ENV013", f"{LOGS}/bridge") in new  # the edited record; the others follow from it (DEL, IPAM call)
    assert new <= {("ENV013", f"{LOGS}/bridge"), ("SEQ005", f"{LOGS}/bridge"), ("DLG001", f"{LOGS}/host-local")}


def test_write_baseline_with_a_baseline_writes_every_current_finding(capsys, captures) -> None:
    write_baseline(capsys)
    _edit("baseline.json", lambda entries: entries.pop())
    code, out, _ = run(capsys, "check", LOGS, "--baseline", "baseline.json", "--write-baseline", "new.json")
    assert code == 0 and "Found 1 findings" in out  # the report shows what the refresh accepts
    assert sum(entry["count"] for entry in json.loads(Path("new.json").read_text())["entries"]) == FINDINGS


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "missing.json: cannot read the baseline: No such file or directory"),
        ("{", "not a cnilint baseline: invalid JSON at line 1"),
        ("[]", 'not a cnilint baseline (no "cnilint-baseline" key'),
        ('{"cnilint-baseline": 2, "entries": []}', "baseline format 2 is not supported"),
        ('{"cnilint-baseline": 1}', '"entries" must be a list'),
        ('{"cnilint-baseline": 1, "entries": [{"rule": "ENV010"}]}', "entry 0: 'file' must be a non-empty string"),
        (
            '{"cnilint-baseline": 1, "entries": [{"rule": "A", "file": "f", "fingerprint": "x", "count": 0}]}',
            "entry 0: 'count' must be a positive integer",
        ),
    ],
)
def test_a_bad_baseline_file_exits_2_with_one_line(capsys, captures, content, message) -> None:
    path = "missing.json" if content is None else "bad.json"
    if content is not None:
        Path(path).write_text(content)
    code, out, err = run(capsys, "check", LOGS, "--baseline", path)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert err.startswith(f"cnilint: error: {path}: ")


def test_an_unwritable_baseline_exits_2_with_one_line(capsys, captures) -> None:
    code, _out, err = run(capsys, "check", LOGS, "--write-baseline", "no/such/dir/baseline.json", "--format", "json")
    assert code == 2
    message = "no/such/dir/baseline.json: cannot write the baseline: No such file or directory"
    assert err.strip() == f"cnilint: error: {message}"


def test_no_baseline_is_written_from_logs_partly_read(capsys, captures) -> None:
    code, _out, err = run(capsys, "check", LOGS, "captures/missing", "--write-baseline", "baseline.json")
    assert code == 2 and "captures/missing: no such file or directory" in err
    assert not Path("baseline.json").exists()


# The repository's own CI material.


def test_pre_commit_hook_manifest_is_valid() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    hook = hooks[0]
    assert {"id", "name", "entry", "language", "files"} <= set(hook)
    assert hook["id"] == "cnilint" and hook["entry"] == "cnilint check"
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    logs = [log.relative_to(ROOT).as_posix() for log in REAL.glob("*/*") if "." not in log.name]
    assert len(logs) == 40  # every real capture's log
    for log in [*logs, "bridge", "captures/node-a/tuning"]:
        assert files.search(log), log
    for other in ("fixtures/real/07-errors/truth.json", "README.md", "cnilint/bridge.py", "docs/bridge.md"):
        assert not files.search(other)


def test_committed_baseline_of_07_errors_is_current(capsys, monkeypatch) -> None:
    """The workflow example's baseline: refresh it with the README's command when rules change."""
    monkeypatch.chdir(ROOT)
    baseline = FIXTURES / "baseline" / "07-errors.json"
    code, out, _ = run(
        capsys, "check", "fixtures/real/07-errors", "--baseline", str(baseline.relative_to(ROOT)), "--format", "json"
    )
    report = json.loads(out)
    assert code == 0 and report["findings"] == [] and report["baseline"]["stale"] == []


def test_github_workflow_example_runs_on_this_repository(capsys, tmp_path, monkeypatch) -> None:
    text = (ROOT / "examples" / "github-workflow.yml").read_text()
    assert text in (ROOT / "README.md").read_text()  # the README shows the same workflow
    workflow = yaml.safe_load(text)
    steps = next(iter(workflow["jobs"].values()))["steps"]
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    command = next(step["run"] for step in steps if "cnilint check" in step.get("run", ""))
    argv = shlex.split(command.strip())
    assert argv[:2] == ["cnilint", "check"] and "--baseline" in argv
    sarif = upload["with"]["sarif_file"]
    monkeypatch.chdir(ROOT)
    argv = [str(tmp_path / arg) if arg == sarif else arg for arg in argv]  # keep the checkout clean
    assert main(argv[1:]) == 0
    capsys.readouterr()
    assert json.loads((tmp_path / sarif).read_text())["version"] == "2.1.0"
