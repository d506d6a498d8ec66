"""`check --format json`: one JSON document with findings, summary and parse problems."""

from __future__ import annotations

import json
from typing import Any, TextIO

from cnilint.reports.data import ReportData

_FINDINGS = "\x00findings\x00"  # where the findings go in the document's text


def write(data: ReportData, out: TextIO) -> None:
    """The document as `json.dump(..., indent=2)` writes it, with the findings
    written one at a time: a log with a million findings is never one object."""
    document: dict[str, Any] = {
        "findings": _FINDINGS,
        "summary": data.summary.to_dict(),
        "problems": data.problems,
    }
    if data.baseline:
        document["baseline"] = data.baseline
    head, tail = json.dumps(document, ensure_ascii=False, indent=2).split(json.dumps(_FINDINGS), 1)
    out.write(head)
    out.write("[")
    separator = "\n    "
    for finding in data.findings:
        out.write(separator)
        out.write(json.dumps(finding.to_dict(), ensure_ascii=False, indent=2).replace("\n", "\n    "))
        separator = ",\n    "
    out.write("]" if separator == "\n    " else "\n  ]")
    out.write(tail)
    out.write("\n")
