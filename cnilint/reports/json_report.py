"""`check --format json`: one JSON document with findings, summary and parse problems."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from cnilint.findings import Finding
from cnilint.summary import Summary


def problem_dict(file: str, line: int, end_line: int | None, message: str) -> dict[str, Any]:
    return {"file": file, "line": line, "end_line": end_line or line, "message": message}


def write(out: TextIO, findings: Sequence[Finding], summary: Summary, problems: Sequence[dict[str, Any]]) -> None:
    document = {
        "findings": [finding.to_dict() for finding in findings],
        "summary": summary.to_dict(),
        "problems": list(problems),
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")
