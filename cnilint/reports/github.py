"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error file=F,line=N,title=RULE title::message` (warning and notice for the
other severities), escaped as GitHub's toolkit does, so a message that holds a
newline, `%`, or (in a property) `:` or `,` cannot end the command early or
inject another one. Parse problems follow as notices on their lines.
"""

from __future__ import annotations

from typing import TextIO

from cnilint.reports.data import ReportData

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
PARSE_TITLE = "cnilint parse problem"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(command: str, message: str, **properties: object) -> str:
    fields = ",".join(f"{name}={escape_property(str(value))}" for name, value in properties.items())
    return f"::{command} {fields}::{escape_data(message)}\n"


def write(data: ReportData, out: TextIO) -> None:
    for finding in data.findings:
        title = f"{finding.rule} {finding.title}"
        out.write(
            annotation(COMMANDS[finding.severity], finding.message, file=finding.file, line=finding.line, title=title)
        )
    # After the findings: GitHub shows only the first few annotations of each kind per step.
    for problem in data.problems:
        span = {"endLine": problem["end_line"]} if problem["end_line"] != problem["line"] else {}
        out.write(
            annotation(
                "notice", problem["message"], file=problem["file"], line=problem["line"], **span, title=PARSE_TITLE
            )
        )
