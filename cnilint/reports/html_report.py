"""`--format html`: one self-contained page (CSS and script inline, no network).

The findings are a pandas DataFrame and the records a table of the same shape
(written a row at a time), serialised to JSON inside a
`<script type="application/json">` element; a small inline script renders the
tables from it, 100 rows a page, with DOM nodes and textContent only. The parts
built here (summary, chart, rule explanations) are escaped HTML. A
Content-Security-Policy allows only the page's own script and style (by hash),
so even an escaping mistake could not run a script from a log.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from itertools import islice
from typing import TYPE_CHECKING, Any, TextIO

from cnilint import __version__
from cnilint.catalogue import SEVERITIES, catalogue, explanations
from cnilint.findings import Finding
from cnilint.parse.jsonpos import format_path, value_positions
from cnilint.reports.data import RecordRow, ReportData, counted, finding_counts

if TYPE_CHECKING:
    import pandas as pd

PAGE_SIZE = 100  # rows a table page shows: the DOM stays small whatever the log
SEVERITY_ORDER = tuple(reversed(SEVERITIES))  # error, warning, info
FINDING_COLUMNS = (
    "rule", "severity", "title", "message", "file", "line", "record", "document", "path", "url",
    "plugin", "command", "version", "deviation", "related", "fingerprint", "rec",
)  # fmt: skip
RECORD_COLUMNS = (
    "file", "plugin", "record", "line", "end_line", "started", "returned", "command", "container_id",
    "ifname", "netns", "cni_version", "outcome", "failed", "error_code", "error_msg", "addresses",
    "complete", "recovered", "errors", "warnings", "infos", "findings", "params", "input", "output",
)  # fmt: skip
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
_LAST_STEP = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\['(?:[^'\\]|\\.)*'\])$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CHART_WIDTH, _CHART_ROW, _CHART_LABEL = 720, 40, 150
_BUCKETS = [
    timedelta(seconds=s)
    for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800)
]


# A page embeds the first findings (by file and line), the records they are on and the
# first other records, up to these: a browser opens it in seconds (tests/test_html_report.py).
FINDINGS_SHOWN = 5_000
RECORDS_SHOWN = 5_000
CHUNK = 512  # records turned into chart data at a time (rows with bodies: ~2 MB)


# The chart counts calls per plugin in time cells of one of these sizes (seconds): every bar
# it may draw at least a cell wide is a whole number of cells (see CallCounts.coarsen).
CELLS = (1, 60, 3600, 86400)
CELLS_A_PLUGIN = 10_000  # past it, the cells are made the next size up


class CallCounts:
    """Calls and failed calls per plugin and time cell, counted as the records
    go by: the chart is drawn from them, so its memory does not grow with the log."""

    def __init__(self) -> None:
        self.cell = 0  # index into CELLS
        self.counts: dict[str, dict[int, list[int]]] = {}  # plugin -> cell -> [calls, failed], dated calls only
        self.first: int | None = None  # microseconds since the epoch, UTC
        self.last: int | None = None
        self.records = 0
        self.undated = 0

    def add(self, rows: list[RecordRow]) -> None:
        import pandas as pd

        if not rows:
            return
        started = pd.Series([row.started for row in rows], dtype=object)
        times = pd.to_datetime(started, errors="coerce", utc=True, format="ISO8601")
        dated = times.notna().to_numpy()
        micros = times.dt.tz_localize(None).to_numpy().astype("datetime64[us]").astype("int64")
        self.records += len(rows)
        self.undated += int((~dated).sum())
        if not dated.any():
            return
        first, last = int(micros[dated].min()), int(micros[dated].max())
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        width = CELLS[self.cell] * 1_000_000
        for row, at, known in zip(rows, micros.tolist(), dated.tolist(), strict=True):
            if known:
                cell = self.counts.setdefault(row.plugin or "(stdin)", {}).setdefault(at // width, [0, 0])
                cell[0] += 1
                cell[1] += bool(row.failed)
        while (
            self.cell < len(CELLS) - 1
            and max(map(len, self.counts.values())) > CELLS_A_PLUGIN
            and self.bucket().total_seconds() >= CELLS[self.cell + 1]
        ):
            self.coarsen()

    def bucket(self) -> timedelta:
        """The chart's bar width for the times seen so far (it only grows)."""
        span = timedelta(microseconds=(self.last or 0) - (self.first or 0))
        return next((b for b in _BUCKETS if span / b < 60), _BUCKETS[-1])

    def coarsen(self) -> None:
        """Cells of the next size, once the bar is at least that wide: every bar of
        60 s or more is whole minutes, of an hour or more whole hours, of a day or
        more whole days. Without it a plugin has at most 1,800 cells of 1 s (bars
        under 60 s: under 30 min of log), 7,200 of 60 s or 720 of an hour."""
        ratio = CELLS[self.cell + 1] // CELLS[self.cell]
        self.cell += 1
        for plugin, cells in self.counts.items():
            merged: dict[int, list[int]] = {}
            for cell, (calls, failed) in cells.items():
                into = merged.setdefault(cell // ratio, [0, 0])
                into[0] += calls
                into[1] += failed
            self.counts[plugin] = merged


@dataclass
class _Totals:
    """What the summary shows of every record and finding, counted in one pass
    each (the tables show only the first ones)."""

    files: dict[str, Counter[str]] = field(default_factory=dict)  # file -> records, failed, per severity
    rules: Counter[str] = field(default_factory=Counter)
    calls: CallCounts = field(default_factory=CallCounts)


def write(data: ReportData, out: TextIO) -> None:
    import pandas as pd  # slow to import: only when HTML is asked for

    shown = list(islice(data.findings, FINDINGS_SHOWN))
    wanted = {(finding.file, finding.record) for finding in shown}
    totals = _Totals(files={file: Counter() for file in data.files})
    for finding in data.findings:
        totals.files.setdefault(finding.file, Counter())[finding.severity] += 1
        totals.rules[finding.rule] += 1
    records = _records_shown(data, wanted, totals)
    index = {key: number for number, key in enumerate(records)}
    findings = pd.DataFrame(
        [{**finding.to_dict(), "rec": index.get((finding.file, finding.record))} for finding in shown],
        columns=list(FINDING_COLUMNS),
        dtype=object,
    )
    by_record: dict[int, list[int]] = {}
    for number, rec in enumerate(findings["rec"]):
        if rec is not None:
            by_record.setdefault(rec, []).append(number)
    mark = f"cnilint-data-{uuid.uuid4().hex}"  # where the data goes: no log can hold it
    values = {
        "title": html.escape(_title(data)),
        "summary": _summary_html(data, totals, len(shown), len(records)),
        "rules": _rules_html(totals.rules),
        "data": mark,
    }
    head, tail = render(_template(), values).split(mark)
    out.write(head)
    counts = finding_counts(data.findings, set(records))
    rows = (counted(_found(row), counts) for row in data.records.pick(records)) if data.records else ()
    for piece in _payload(findings, rows, by_record, shown):  # a record at a time: ~10 KB as cells
        out.write(piece)
    out.write(tail)


def _payload(
    findings: pd.DataFrame, records: Iterable[RecordRow], by_record: dict[int, list[int]], shown: list[Finding]
) -> Iterator[str]:
    """embed_json of {findings, records, page_size, severities}, the records
    table (split orientation, as the findings') written row by row."""
    yield '{"findings":' + embed_json(findings.to_dict(orient="split", index=False))
    yield ',"records":{"columns":' + embed_json(list(RECORD_COLUMNS)) + ',"data":['
    for number, row in enumerate(records):
        cells = _record_cells(row, by_record.get(number, []), shown)
        yield ("," if number else "") + embed_json([cells[column] for column in RECORD_COLUMNS])
    yield ']},"page_size":' + embed_json(PAGE_SIZE) + ',"severities":' + embed_json(list(SEVERITY_ORDER)) + "}"


def _found(row: RecordRow | None) -> RecordRow:
    if row is None:  # the keys came from the same rows
        raise LookupError("a record the HTML report shows is missing from the kept records")
    return row


def _records_shown(data: ReportData, wanted: set[tuple[str, int]], totals: _Totals) -> list[tuple[str, int]]:
    """The (file, record) of the records a shown finding is on and of the first
    others, RECORDS_SHOWN in all (or as many as the findings shown are on), in
    the order the check met them (time order across files); every record
    counted into `totals`. Only their keys are kept: the rows are read again."""
    kept: list[tuple[str, int]] = []
    chunk: list[RecordRow] = []
    others = max(RECORDS_SHOWN - len(wanted), 0)  # records shown besides those of the findings shown
    for row in data.records.as_checked_unmapped() if data.records is not None else ():
        counts = totals.files.setdefault(row.file, Counter())
        counts["records"] += 1
        counts["failed"] += bool(row.failed)
        key = (row.file, row.record)
        if key in wanted:
            kept.append(key)
        elif others:
            kept.append(key)
            others -= 1
        chunk.append(row)
        if len(chunk) == CHUNK:
            totals.calls.add(chunk)
            chunk = []
    totals.calls.add(chunk)
    return kept


def _template() -> str:
    return resources.files(__package__).joinpath("templates/report.html").read_text(encoding="utf-8")


def render(template: str, values: dict[str, str]) -> str:
    """Fill `{{name}}` placeholders in one pass (inserted text is never re-read),
    then pin the page's own script and style by hash in its CSP."""
    names = _PLACEHOLDER.findall(template)
    missing = {"csp", *values} - set(names)
    if missing:
        raise ValueError(f"the HTML template lacks {sorted(missing)}")
    # Hashes of the template's own blocks only: nothing a log brings can be allowed.
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_hashes(template, r"<script>(.*?)</script>")),
            "style-src " + " ".join(_hashes(template, r"<style>(.*?)</style>")),
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    page = _PLACEHOLDER.sub(lambda m: csp if m.group(1) == "csp" else values[m.group(1)], template)
    # Invalid bytes in file names reach us as lone surrogates: UTF-8 cannot hold them.
    return _SURROGATE.sub("\ufffd", page)


def _hashes(page: str, pattern: str) -> list[str]:
    blocks = re.findall(pattern, page, flags=re.DOTALL)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks]


def embed_json(value: Any) -> str:
    """JSON that is safe as the text of a <script type="application/json">:
    no `<`, `>` or `&` (so no `</script>` or `<!--`), no U+2028/2029, no lone
    surrogates; each stays a JSON escape that JSON.parse reads back."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _title(data: ReportData) -> str:
    summary = data.summary
    return f"cnilint report: {summary.findings} findings in {summary.records} records"


# --- records -----------------------------------------------------------------


def _record_cells(row: RecordRow, finding_ids: list[int], shown: list[Finding]) -> dict[str, Any]:
    found = [shown[i] for i in finding_ids]
    marks: dict[str, list[int]] = {}
    for number, finding in zip(finding_ids, found, strict=True):
        if finding.document == "env" and finding.path in row.params:
            marks.setdefault(finding.path, []).append(number)
    cells: dict[str, Any] = {column: getattr(row, column, None) for column in RECORD_COLUMNS}
    cells.update(
        addresses=list(row.addresses),
        errors=row.findings.get("error", 0),
        warnings=row.findings.get("warning", 0),
        infos=row.findings.get("info", 0),
        findings=finding_ids,
        params=[[key, value, marks.get(key, [])] for key, value in row.params.items()],
        input=body_lines(row.input_raw, row.input_line, _marks_of("input", finding_ids, found)),
        output=body_lines(row.output_raw, row.output_line, _marks_of("output", finding_ids, found)),
    )
    return cells


def _marks_of(document: str, finding_ids: list[int], found: list[Any]) -> list[tuple[int, str, int]]:
    return [(number, f.path, f.line) for number, f in zip(finding_ids, found, strict=True) if f.document == document]


def body_lines(raw: str | None, line: int | None, marks: list[tuple[int, str, int]]) -> dict[str, Any] | None:
    """INPUT or OUTPUT as display lines `[log line or null, text, [finding ids]]`:
    JSON pretty-printed (2 spaces), each line numbered with the log line its value
    starts on and marked where a finding's JSON path (or its nearest ancestor)
    starts; other text as logged, marked by the finding's log line."""
    if raw is None or line is None:
        return None
    try:
        value = json.loads(raw) if raw.strip() else None
        lines = _pretty(value) if value is not None else None
    except (ValueError, RecursionError):
        lines = None
    if lines is None:
        shown: list[list[Any]] = [[line + n, text, []] for n, text in enumerate(raw.split("\n"))] if raw else []
        for number, _path, at in marks:
            if shown:
                shown[min(max(at - line, 0), len(shown) - 1)][2].append(number)
        return {"line": line, "json": False, "lines": shown}
    positions = value_positions(raw)
    starts: dict[str, int] = {}
    shown, previous = [], None
    for n, (path, text) in enumerate(lines):
        at = positions.get(path) if path is not None else None
        log_line = line + at[0] - 1 if at else None
        if path is not None:
            starts.setdefault(format_path(path), n)
        shown.append([log_line if log_line != previous else None, text, []])
        previous = log_line if log_line is not None else previous
    for number, path, _at in marks:
        where = path or "$"
        while where not in starts and _LAST_STEP.search(where):
            where = _LAST_STEP.sub("", where)
        shown[starts.get(where, 0)][2].append(number)
    return {"line": line, "json": True, "lines": shown}


def _pretty(value: Any) -> list[tuple[tuple[str | int, ...] | None, str]]:
    """json.dumps(indent=2) line by line, each with the path of the value it opens."""
    lines: list[tuple[tuple[str | int, ...] | None, str]] = []

    def emit(item: Any, path: tuple[str | int, ...], depth: int, prefix: str, suffix: str) -> None:
        pad = "  " * depth
        if isinstance(item, (dict, list)) and item:
            opening, closing = ("{", "}") if isinstance(item, dict) else ("[", "]")
            lines.append((path, f"{pad}{prefix}{opening}"))
            entries = list(item.items()) if isinstance(item, dict) else list(enumerate(item))
            for n, (key, child) in enumerate(entries):
                label = f"{_scalar(key)}: " if isinstance(item, dict) else ""
                emit(child, (*path, key), depth + 1, label, "," if n < len(entries) - 1 else "")
            lines.append((None, f"{pad}{closing}{suffix}"))
        else:
            lines.append((path, f"{pad}{prefix}{_scalar(item)}{suffix}"))

    emit(value, (), 0, "", "")
    return lines


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- summary -----------------------------------------------------------------


def _summary_html(data: ReportData, totals: _Totals, findings_shown: int, records_shown: int) -> str:
    summary, options = data.summary, data.options
    e = html.escape
    severity_cards = "".join(
        f'<div class="card sev-{s}"><span class="num">{summary.by_severity.get(s, 0)}</span> {s}</div>'
        for s in SEVERITY_ORDER
    )
    facts = [
        f"{summary.records} records in {summary.files} files",
        f"{summary.records_valid} valid, {summary.records_with_findings} with findings",
        f"{summary.failed_calls} failed calls",
    ]
    if summary.incomplete_records:
        facts.append(f"{summary.incomplete_records} incomplete")
    if summary.parse_problems:
        facts.append(f"{summary.parse_problems} parse problems")
    settings = (
        f"profile {e(options.profile)} · findings at or above {e(options.severity)} · "
        f"fails on {e(options.fail_on)} · {summary.rules_checked} rules checked · cnilint {e(__version__)}"
    )
    parts = [
        '<div class="cards">',
        f'<div class="card"><span class="num">{summary.findings}</span> findings</div>',
        severity_cards,
        f'<div class="card"><span class="num">{summary.records}</span> records</div>',
        f'<div class="card fail"><span class="num">{summary.failed_calls}</span> failed calls</div>',
        "</div>",
        f'<p class="facts">{e("; ".join(facts))}.</p>',
        f'<p class="settings">{settings}</p>',
    ]
    findings_total, records_total = len(data.findings), totals.calls.records
    if findings_shown < findings_total or records_shown < records_total:
        parts.append(
            f'<p class="settings">The tables below hold the first {findings_shown:,} of {findings_total:,} findings '
            f"(by file and line) and {records_shown:,} of {records_total:,} records (those findings are on, then "
            "the first in time order), so that the page opens quickly; the counts and the chart are of them all. "
            "The JSON, CSV and SARIF reports have every finding, --records-csv every record.</p>"
        )
    if data.baseline:
        stale = len(data.baseline.get("stale", []))
        parts.append(
            f'<p class="settings">Baseline: {int(data.baseline.get("suppressed", 0))} known findings suppressed'
            + (f", {stale} baseline entries no longer found (stale)" if stale else "")
            + ".</p>"
        )
    parts.append('<div class="panels">')
    chart = chart_svg(totals.calls)
    parts.append(f'<div class="panel"><h3>Calls and failures over time, per plugin</h3>{chart}</div>')
    parts.append(_by_rule_html(summary))
    parts.append(_files_html(data, totals))
    parts.append("</div>")
    parts.append(_problems_html(data))
    return "\n".join(parts)


def _by_rule_html(summary: Any) -> str:
    e = html.escape
    if not summary.by_rule:
        return '<div class="panel"><h3>Findings by rule</h3><p>No findings.</p></div>'
    rows = "".join(
        f'<tr><td class="n">{count}</td><td><a href="#rule-{e(rule)}">{e(rule)}</a></td>'
        f'<td><span class="sev sev-{e(summary.severities[rule])}">{e(summary.severities[rule])}</span></td>'
        f"<td>{e(title)}</td></tr>"
        for rule, count, title in summary.statistics()
    )
    return (
        '<div class="panel"><h3>Findings by rule</h3><div class="scroll"><table id="by-rule">'
        f"<thead><tr><th>count</th><th>rule</th><th>severity</th><th>title</th></tr></thead><tbody>{rows}</tbody>"
        "</table></div></div>"
    )


def _files_html(data: ReportData, totals: _Totals) -> str:
    """Per log file: records, failed calls, findings per severity."""
    import pandas as pd

    e = html.escape
    columns = ["records", "failed", *SEVERITY_ORDER]
    per_file = pd.DataFrame(
        [[totals.files.get(file, Counter()).get(column, 0) for column in columns] for file in data.files],
        index=pd.Index(data.files, name="file"),
        columns=columns,
        dtype=int,
    )
    rows = "".join(
        f"<tr><td>{e(file)}</td>" + "".join(f'<td class="n">{value}</td>' for value in values) + "</tr>"
        for file, values in zip(per_file.index, per_file.to_numpy().tolist(), strict=True)
    )
    head = "".join(f"<th>{column}</th>" for column in ("file", *columns))
    return (
        '<div class="panel wide"><h3>Files</h3><div class="scroll"><table id="files">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></div>"
    )


def _problems_html(data: ReportData) -> str:
    if not data.problems:
        return ""
    e = html.escape
    items = "".join(
        f"<li><code>{e(p['file'])}:{p['line']}"
        + (f"-{p['end_line']}" if p["end_line"] != p["line"] else "")
        + f"</code> {e(p['message'])}</li>"
        for p in data.problems
    )
    return f'<div class="panel problems"><h3>Parse problems</h3><ul>{items}</ul></div>'


def chart_svg(calls: CallCounts) -> str:
    """Small multiples: per plugin, calls (grey) and failed calls (red) per time
    bucket, on one shared time axis; each bar has a tooltip."""
    import pandas as pd

    e = html.escape
    if not calls.records:
        return "<p>No records.</p>"
    undated = calls.undated
    if calls.first is None or calls.last is None:
        return f"<p>No record has a date that parses ({undated} records).</p>"
    bucket = calls.bucket()
    first = pd.Timestamp(calls.first, unit="us", tz="UTC")
    start = first.floor(pd.Timedelta(bucket)) if bucket <= timedelta(days=1) else first.floor("D")
    origin, width, cell = start.value // 1000, int(bucket.total_seconds()) * 1_000_000, CELLS[calls.cell] * 1_000_000
    bins = (calls.last - origin) // width + 1
    plot = _CHART_WIDTH - _CHART_LABEL - 10
    step = plot / bins
    height = len(calls.counts) * _CHART_ROW + 30
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{_CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_CHART_WIDTH} {height}" role="img" aria-label="calls and failures over time per plugin">'
    ]
    for row, (plugin, cells) in enumerate(calls.counts.items()):  # in order of appearance
        ours: dict[int, list[int]] = {}
        for number, (count, fails) in cells.items():
            into = ours.setdefault((number * cell - origin) // width, [0, 0])  # whole cells: exact
            into[0] += count
            into[1] += fails
        top = row * _CHART_ROW + 4
        peak = max(count for count, _ in ours.values())
        total, failed = sum(count for count, _ in ours.values()), sum(fails for _, fails in ours.values())
        out.append(
            f'<text class="label" x="0" y="{top + 16}">{e(plugin)}</text>'
            f'<text class="sub" x="0" y="{top + 30}">{total} calls, {failed} failed</text>'
            f'<line class="base" x1="{_CHART_LABEL}" x2="{_CHART_WIDTH - 10}" y1="{top + 34}" y2="{top + 34}"/>'
        )
        for number, (count, fails) in sorted(ours.items()):
            x = _CHART_LABEL + number * step
            bar = max(step - 1, 1)
            tall = 32 * count / peak
            low = 32 * fails / peak
            moment = (start + pd.Timedelta(bucket) * int(number)).strftime("%Y-%m-%d %H:%M:%S")
            out.append(
                f"<g><title>{e(plugin)} {moment} UTC: {int(count)} calls, {int(fails)} failed</title>"
                f'<rect class="calls" x="{x:.1f}" y="{top + 34 - tall:.1f}" width="{bar:.1f}" height="{tall:.1f}"/>'
                + (
                    f'<rect class="failed" x="{x:.1f}" y="{top + 34 - low:.1f}" width="{bar:.1f}" height="{low:.1f}"/>'
                    if fails
                    else ""
                )
                + "</g>"
            )
    bottom = len(calls.counts) * _CHART_ROW + 18
    last = start + pd.Timedelta(bucket) * bins
    out.append(
        f'<text class="sub" x="{_CHART_LABEL}" y="{bottom}">{start.strftime("%Y-%m-%d %H:%M:%S")} UTC</text>'
        f'<text class="sub" x="{_CHART_WIDTH - 10}" y="{bottom}" text-anchor="end">'
        f"{last.strftime('%H:%M:%S')} · one bar = {_duration(bucket)}</text></svg>"
    )
    legend = '<p class="legend"><span class="key calls"></span> calls <span class="key failed"></span> failed calls'
    legend += f" · {undated} records without a date that parses are left out</p>" if undated else "</p>"
    return "".join(out) + legend


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# --- rules -------------------------------------------------------------------


def _rules_html(counts: Counter[str]) -> str:
    """One section per rule that has findings: what it checks, why, the SPEC."""
    e = html.escape
    rules = catalogue()
    why = explanations()
    found = [rule_id for rule_id in rules if rule_id in counts]
    found += sorted(set(counts) - set(found))
    if not found:
        return "<p>No findings, so no rule to explain.</p>"
    parts = []
    for rule_id in found:
        info = rules.get(rule_id)
        parts.append(f'<section class="rule" id="rule-{e(rule_id)}">')
        if info is None:
            parts.append(f"<h3>{e(rule_id)}</h3><p>Not in the catalogue.</p></section>")
            continue
        url = info.url if info.url.startswith("https://") else ""
        extra = why.get(rule_id, {})
        parts.append(
            f"<h3>{e(rule_id)} {e(info.title)}</h3>"
            f'<p class="meta"><button type="button" class="show-rule" data-rule="{e(rule_id)}">'
            f"show its {int(counts[rule_id])} findings</button> · catalogue severity {e(info.severity)}"
            f" · versions {e(str(info.versions))} · commands {e(', '.join(info.commands))}</p>"
            f"<h4>What it checks</h4><p>{e(info.checks)}</p>"
        )
        if extra.get("why"):
            parts.append(f"<h4>Why it matters</h4><p>{e(extra['why'])}</p>")
        if info.example_fail:
            parts.append(f"<h4>Fails on</h4><pre>{e(info.example_fail)}</pre>")
        if extra.get("example_pass"):
            parts.append(f"<h4>Passes on</h4><pre>{e(extra['example_pass'])}</pre>")
        parts.append(f'<p class="spec">SPEC: <a href="{e(url)}" rel="noopener noreferrer">{e(info.section)}</a></p>')
        parts.append("</section>")
    return "\n".join(parts)
