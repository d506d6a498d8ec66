"""cnilint: parse and check the logs of CNI plugin logging wrappers."""

from __future__ import annotations

from cnilint.parse import Body, Problem, Record, parse

__version__ = "0.1.0"

__all__ = ["Body", "Problem", "Record", "__version__", "parse"]
