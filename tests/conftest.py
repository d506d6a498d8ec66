from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

# In CI every property test draws the same examples each run, so a red build is a regression, never
# a new random draw; run locally, they keep exploring (and keep what failed in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

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
