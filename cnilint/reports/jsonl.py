"""`--format jsonl`: one JSON finding per line (the `json` format's finding objects)."""

from __future__ import annotations

import json
from typing import TextIO

from cnilint.reports.data import ReportData


def write(data: ReportData, out: TextIO) -> None:
    for finding in data.findings:
        out.write(json.dumps(finding.to_dict(), ensure_ascii=False))
        out.write("\n")
