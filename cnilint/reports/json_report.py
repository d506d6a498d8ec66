"""`check --format json`: one JSON document with findings, summary and parse problems."""

from __future__ import annotations

import json
from typing import Any, TextIO

from cnilint.reports.data import ReportData


def problem_dict(file: str, line: int, end_line: int | None, message: str) -> dict[str, Any]:
    return {"file": file, "line": line, "end_line": end_line or line, "message": message}


def write(data: ReportData, out: TextIO) -> None:
    document: dict[str, Any] = {
        "findings": [finding.to_dict() for finding in data.findings],
        "summary": data.summary.to_dict(),
        "problems": data.problems,
    }
    if data.baseline:
        document["baseline"] = data.baseline
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")
