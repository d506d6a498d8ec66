"""Output formats: each is one module that writes the same ReportData.

`FORMATS` maps a --format name to its module (imported only when used, so
pandas loads only for CSV and HTML) and says whether it needs every record.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from cnilint.reports.data import ReportData


@dataclass(frozen=True)
class Format:
    module: str
    needs_records: bool = False  # a RecordRow per record (cnilint.reports.data)
    needs_bodies: bool = False  # with its CNI params, INPUT and OUTPUT

    def writer(self) -> Callable[[ReportData, TextIO], None]:
        return importlib.import_module(f"cnilint.reports.{self.module}").write  # type: ignore[no-any-return]


FORMATS: dict[str, Format] = {
    "rich": Format("rich_report"),
    "concise": Format("concise"),
    "json": Format("json_report"),
    "jsonl": Format("jsonl"),
    "csv": Format("csv_report"),
    "html": Format("html_report", needs_records=True, needs_bodies=True),
    "sarif": Format("sarif"),
    "junit": Format("junit", needs_records=True),
    "github": Format("github"),
}
