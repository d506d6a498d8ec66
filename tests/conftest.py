from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
REAL = FIXTURES / "real"
SCENARIOS = sorted(p.name for p in REAL.iterdir() if p.is_dir())


def log_files(scenario: str) -> list[Path]:
    folder = REAL / scenario
    expected = json.loads((folder / "expected.json").read_text())
    return [folder / name for name in expected["expected_records_per_log_file"]]


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
