"""`check --format json`: one JSON document with findings, summary and parse problems."""

from __future__ import annotations

import json
from typing import Any, TextIO

from cnilint.reports.data import ReportData


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
