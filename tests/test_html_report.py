"""`check --format html`: the page's data and escaping, a golden file, and the page
itself in headless Chromium (tables, sorting, filtering, expanding, no script
from a log runs, thousands of records)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT

from cnilint.cli import main
from cnilint.findings import Finding
from cnilint.options import Options
from cnilint.reports import html_report
from cnilint.reports.data import RecordRow, ReportData
from cnilint.summary import Summary

ERRORS = "fixtures/real/07-errors"
ERROR_LOGS = [f"{ERRORS}/{name}" for name in ("bridge", "host-local", "macvlan", "portmap", "tuning")]
WITH_CONFLISTS = [*ERROR_LOGS, "--conflist", "fixtures/conflists/07-errors"]
START = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
DASH = "\u2013"  # the en dash of the pager: "1-100 of 5000"
GOLDEN = FIXTURES / "html" / "07-errors.html"  # CNILINT_UPDATE_GOLDEN=1 pytest ... rewrites it
XSS_LOG = FIXTURES / "html" / "xss" / "bridge"
PAYLOAD = "<script>alert(1)</script>"  # the pod name in the XSS fixture
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync --window-size=1400,1000"
).split()


def html_of(capsys, *argv: str) -> str:
    main(["check", *argv, "--format", "html", "--exit-zero"])
    return capsys.readouterr().out


def embedded_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="cnilint-data">(.*?)</script>', page, re.DOTALL)
    assert found
    return json.loads(found.group(1))


def table(data: dict, name: str) -> list[dict]:
    return [dict(zip(data[name]["columns"], row, strict=True)) for row in data[name]["data"]]


@pytest.fixture
def in_root(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # relative paths, as the README's command


# --- the page, without a browser ------------------------------------------------


def test_golden_report_of_07_errors(in_root, tmp_path) -> None:
    report = tmp_path / "report.html"
    main(["check", *WITH_CONFLISTS, "--format", "html", "--output", str(report)])
    if os.environ.get("CNILINT_UPDATE_GOLDEN") == "1":
        GOLDEN.write_bytes(report.read_bytes())
    assert report.read_bytes().decode("utf-8") == GOLDEN.read_bytes().decode("utf-8")


def test_embedded_data_holds_every_finding_and_record(capsys, in_root) -> None:
    data = embedded_data(html_of(capsys, *WITH_CONFLISTS))
    findings, records = table(data, "findings"), table(data, "records")
    assert len(findings) == 71 and len(records) == 73
    assert Counter(f["severity"] for f in findings) == {"error": 15, "warning": 3, "info": 53}
    for number, finding in enumerate(findings):  # each finding points at its record, and back
        record = records[finding["rec"]]
        assert (record["file"], record["record"]) == (finding["file"], finding["record"])
        assert number in record["findings"]


def test_a_big_log_shows_its_first_findings_their_records_and_counts_of_everything(
    capsys, in_root, monkeypatch
) -> None:
    monkeypatch.setattr(html_report, "FINDINGS_SHOWN", 5)
    monkeypatch.setattr(html_report, "RECORDS_SHOWN", 8)
    page = html_of(capsys, *WITH_CONFLISTS)
    data = embedded_data(page)
    findings, records = table(data, "findings"), table(data, "records")
    main(["check", *WITH_CONFLISTS, "--format", "json", "--exit-zero"])
    every = json.loads(capsys.readouterr().out)
    assert [(f["file"], f["line"], f["rule"]) for f in findings] == [
        (f["file"], f["line"], f["rule"]) for f in every["findings"][:5]
    ]
    assert len(records) == 8 and all(records[f["rec"]]["record"] == f["record"] for f in findings)
    assert "the first 5 of 71 findings (by file and line) and 8 of 73 records" in page
    files = re.search(r'<table id="files">.*?</table>', page, re.DOTALL)
    assert files and sum(int(n) for n in re.findall(r"<tr><td>[^<]*</td><td class=\"n\">(\d+)</td>", files[0])) == 73
    calls = re.findall(r": (\d+) calls, \d+ failed</title>", page)
    assert sum(map(int, calls)) == 73  # the chart counts every record


def _call(n: int, plugin: str, started: datetime | None, failed: bool) -> RecordRow:
    return RecordRow(
        file=plugin, plugin=plugin, record=n, line=n, end_line=n, started=started.isoformat() if started else "junk",
        returned=None, command="ADD", container_id=None, ifname=None, netns=None, cni_version="1.0.0",
        outcome="result", failed=failed, error_code=None, error_msg=None, addresses=(), params={}, input_raw=None,
        output_raw=None, input_line=None, output_line=None, complete=True, recovered=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("span", "cell"),  # bars of 30 s: cells stay 1 s; of 2 h: 1 h cells; of 7 days: 1 day cells
    [(timedelta(minutes=20), 0), (timedelta(days=3), 2), (timedelta(days=200), 3)],
)
def test_the_chart_is_the_same_from_coarser_time_cells(span, cell, monkeypatch) -> None:
    rng = random.Random(7)
    rows = [
        _call(n, rng.choice(["bridge", "host-local", "portmap"]), START + span * rng.random(), rng.random() < 0.2)
        for n in range(3000)
    ] + [_call(3000, "bridge", None, False)]

    def chart(limit: int) -> tuple[str, int]:
        monkeypatch.setattr(html_report, "CELLS_A_PLUGIN", limit)
        calls = html_report.CallCounts()
        for start in range(0, len(rows), 500):
            calls.add(rows[start : start + 500])
        return html_report.chart_svg(calls), calls.cell

    fine, coarse = chart(10**9), chart(10)
    assert (fine[1], coarse[1]) == (0, cell) and coarse[0] == fine[0]
    assert sum(map(int, re.findall(r": (\d+) calls, \d+ failed</title>", fine[0]))) == 3000
    assert "1 records without a date that parses are left out" in fine[0]


def test_input_is_pretty_printed_with_the_finding_line_marked(capsys, in_root) -> None:
    data = embedded_data(html_of(capsys, f"{ERRORS}/portmap"))
    findings, records = table(data, "findings"), table(data, "records")
    add = records[0]
    lines = add["input"]["lines"]
    assert add["input"]["json"] and lines[0][:2] == [26, "{"]  # the log line of the compact INPUT
    marked = {text.strip(): [findings[i]["rule"] for i in ids] for _, text, ids in lines if ids}
    assert marked == {'"capabilities": {': ["CONF013"], '"prevResult": {': ["CHAIN001"]}
    assert '        "hostPort": 18080,' in [text for _, text, _ in lines]
    output = add["output"]["lines"]  # pretty in the log already: each line keeps its log line
    assert [gutter for gutter, _, _ in output] == [28, 29, 30, None]


def test_body_lines_fall_back_to_the_nearest_ancestor_and_to_log_lines() -> None:
    body = html_report.body_lines('{"a": {"b": [1, 2]}}', 10, [(0, "$.a.b[5]", 10), (1, "$.zz", 10)])
    assert body is not None
    assert body["lines"][2] == [None, '    "b": [', [0]]  # $.a.b[5] does not exist: $.a.b is marked
    assert body["lines"][0][2] == [1]  # $.zz: the document itself
    raw = html_report.body_lines("not\nJSON", 40, [(3, "$", 41)])
    assert raw == {"line": 40, "json": False, "lines": [[40, "not", []], [41, "JSON", [3]]]}
    assert html_report.body_lines(None, None, []) is None


def test_embedded_json_cannot_close_its_script_element() -> None:
    value = {"pod": "</script><script>alert(1)</script><!-- & \u2028\u2029 \udc80"}
    text = html_report.embed_json(value)
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == value


def test_log_content_never_reaches_the_page_as_markup(capsys, in_root) -> None:
    page = html_of(capsys, str(XSS_LOG.relative_to(ROOT)))
    assert page.count("<script") == 2  # the data element and the page's own script
    assert "<img" not in page and "</script><script>" not in page
    data = embedded_data(page)
    assert PAYLOAD in json.dumps(table(data, "records")[0]["params"], ensure_ascii=False)


def test_csp_allows_only_the_pages_own_script_and_style(capsys, in_root) -> None:
    import base64
    import hashlib

    page = html_of(capsys, f"{ERRORS}/tuning")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL).group(1)  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp


# --- the page in headless Chromium ----------------------------------------------

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cnilint-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("unhandledPromptBehavior", "ignore")  # an alert stays open, for us to see
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path) -> None:
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.body.getAttribute('data-ready')") == "true"


def rows(driver, table_id: str, css: str = "tbody tr") -> list:
    return driver.find_elements("css selector", f"#{table_id} {css}")


def column(driver, table_id: str, number: int) -> list[str]:
    return [row.text for row in rows(driver, table_id, f"tbody tr td:nth-child({number})")]


def choose(driver, select_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", select_id)).select_by_value(value)


def severe_console_messages(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@needs_chromium
def test_browser_tables_render_sort_filter_and_expand(browser, capsys, in_root, tmp_path) -> None:
    report = tmp_path / "report.html"
    main(["check", *WITH_CONFLISTS, "--format", "html", "--output", str(report)])
    open_page(browser, report)
    assert len(rows(browser, "findings-table")) == 71
    assert len(rows(browser, "records-table", "tbody tr.record")) == 73
    assert f"1{DASH}71 of 71" in browser.find_element("id", "findings-pager").text

    rule_header = browser.find_element("css selector", "#findings-table th[data-key=rule]")
    rule_header.click()
    rules = column(browser, "findings-table", 2)
    assert rules == sorted(rules) and rules[0] == "CHAIN002"
    rule_header.click()
    assert column(browser, "findings-table", 2) == sorted(rules, reverse=True)

    choose(browser, "findings-filter-rule", "ERR005")
    assert set(column(browser, "findings-table", 2)) == {"ERR005"}
    assert len(rows(browser, "findings-table")) == 20
    choose(browser, "findings-filter-plugin", "tuning")
    assert column(browser, "findings-table", 3) == [f"{ERRORS}/tuning:28", f"{ERRORS}/tuning:63"]

    record = next(r for r in rows(browser, "records-table", "tbody tr.record") if r.text.endswith("portmap:1"))
    record.click()
    detail = browser.find_element("css selector", "#records-table tr.detail")
    body = detail.find_element("css selector", ".body-input")
    assert '"name": "badchain",' in body.text and '"hostPort": 18080,' in body.text
    marked = detail.find_elements("css selector", ".body-input .ln.mark a.tag")
    assert [tag.text for tag in marked] == ["CONF013", "CHAIN002"]
    assert marked[0].get_attribute("href").endswith("#rule-CONF013")
    assert browser.find_element("id", "rule-CONF013").find_element("css selector", "h3").text.startswith("CONF013")
    assert "CNI_COMMAND=ADD" in detail.find_element("css selector", ".body-params .ln.mark").text

    # A finding's location opens its record, whatever page and filters the records table had.
    choose(browser, "records-filter-plugin", "macvlan")
    link = browser.find_element("css selector", "#findings-table tbody tr a[href^='#rec-']")
    link.click()
    opened = browser.find_elements("css selector", "#records-table tr.record.open")
    assert [row.text.split()[-1] for row in opened][-1] == "fixtures/real/07-errors/tuning:1"

    # A rule's explanation shows that rule's findings.
    browser.find_element("css selector", "#rule-CONF013 button.show-rule").click()
    assert column(browser, "findings-table", 2) == ["CONF013"] * 3
    assert severe_console_messages(browser) == []


@needs_chromium
def test_browser_runs_no_script_from_the_log(browser, capsys, tmp_path, monkeypatch) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    # The plugin name is the file's name: one that is markup too.
    evil = tmp_path / "<img src=x onerror=alert(9)>"
    evil.write_text(XSS_LOG.read_text())
    shutil.copy(XSS_LOG, tmp_path / "bridge")
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "report.html"
    main(["check", "bridge", evil.name, "--format", "html", "--output", str(report)])
    open_page(browser, report)
    time.sleep(0.3)  # an onerror handler would fire after the failed image load
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018
    assert browser.find_elements("css selector", "img") == []
    assert len(browser.find_elements("css selector", "script")) == 2
    findings_text = browser.find_element("id", "findings-table").text
    assert 'name "</script><script>alert(3)</script>" must start' in findings_text
    assert 'CNI_IFNAME="<img src=x onerror=alert(2)>" is 28 bytes long' in findings_text
    assert "<img src=x onerror=alert(9)>" in browser.find_element("id", "files").text
    for number in range(4):  # each click draws the page again: find the row afresh
        rows(browser, "records-table", "tbody tr.record")[number].click()
    details = browser.find_elements("css selector", "#records-table tr.detail")
    assert len(details) == 4
    assert all(f"K8S_POD_NAME={PAYLOAD}" in detail.text for detail in details)
    inputs = [detail.find_element("css selector", ".body-input").text for detail in details]
    assert all('"name": "</script><script>alert(3)</script>",' in text for text in inputs)
    outputs = [detail.find_element("css selector", ".body-output").text for detail in details]
    assert sum("<script>alert(7)</script> not JSON" in text for text in outputs) == 2
    assert browser.find_elements("css selector", "img") == []
    assert len(browser.find_elements("css selector", "script")) == 2
    assert severe_console_messages(browser) == []


def big_report(records: int) -> ReportData:
    """`records` records and as many findings, without running the checker."""
    input_raw = json.dumps({"cniVersion": "1.0.0", "name": "net", "type": "bridge", "ipam": {"type": "host-local"}})
    rows_, findings = [], []
    for n in range(records):
        rows_.append(
            RecordRow(
                file="bridge", plugin="bridge", record=n, line=n * 30 + 1, end_line=n * 30 + 29,
                started=(START + timedelta(seconds=n)).isoformat(), returned=None,
                command="ADD", container_id=f"{n:064x}", ifname="eth0", netns=f"/var/run/netns/{n}",
                cni_version="1.0.0", outcome="result", failed=n % 7 == 0, error_code=None, error_msg=None,
                addresses=("10.0.0.2/24",), params={"CNI_COMMAND": "ADD", "CNI_IFNAME": "eth0"},
                input_raw=input_raw, output_raw="{}", input_line=n * 30 + 20, output_line=n * 30 + 22,
                complete=True, recovered=False, findings={"info": 1},
            )
        )  # fmt: skip
        findings.append(
            Finding("CONF013", "info", "capabilities", f"message {n}", "bridge", n * 30 + 20, n, "input", "$.name",
                    "https://example.invalid", "bridge", "ADD", "1.0.0")
        )  # fmt: skip
    summary = Summary(files=1, records=records, records_with_findings=records)
    summary.by_rule["CONF013"] = summary.by_severity["info"] = records
    summary.titles["CONF013"], summary.severities["CONF013"] = "capabilities", "info"
    return ReportData(findings, summary, [], ["bridge"], Options(), rows_)


@needs_chromium
def test_browser_opens_thousands_of_records_quickly(browser, tmp_path) -> None:
    report = tmp_path / "big.html"
    with open(report, "w", encoding="utf-8") as out:
        html_report.write(big_report(5000), out)
    started = time.perf_counter()
    open_page(browser, report)
    seconds = time.perf_counter() - started
    assert seconds < 5, f"the page took {seconds:.1f} s to open"
    assert len(rows(browser, "findings-table")) == 100  # one page in the DOM, not 5000 rows
    assert len(rows(browser, "records-table", "tbody tr.record")) == 100
    assert f"1{DASH}100 of 5000 · page 1 of 50" in browser.find_element("id", "records-pager").text
    browser.find_element("css selector", "#records-pager button.next").click()
    assert f"101{DASH}200 of 5000" in browser.find_element("id", "records-pager").text
    assert severe_console_messages(browser) == []
