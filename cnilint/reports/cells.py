"""Cells a spreadsheet would run as a formula are neutralised in every CSV."""

from __future__ import annotations

import json
from typing import Any

# What Excel, LibreOffice and Google Sheets take as the start of a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Lists and objects as JSON text; text that would start a formula gets a
    leading apostrophe (shown as text, formula not run)."""
    if isinstance(value, (dict, list, tuple)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
