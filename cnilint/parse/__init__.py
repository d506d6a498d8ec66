"""Parsing wrapper logs: lexer (lines to tokens), framer (lark LALR), reader
(records and damaged regions)."""

from __future__ import annotations

from cnilint.parse.reader import InterleavedRegion, LogReader
from cnilint.parse.records import Body, JsonError, Problem, Record, Variables
from cnilint.parse.source import parse

__all__ = ["Body", "InterleavedRegion", "JsonError", "LogReader", "Problem", "Record", "Variables", "parse"]
