"""Frame the token stream into records with lark's LALR parser.

The grammar (grammars/wrapper_log.lark) decides what a well-formed record is.
Tokens are fed one at a time to lark's interactive parser; when a record rule
is reduced the tokens read since the previous unit form a record. When the
parser rejects a token, the tokens read so far become a broken unit and the
parser restarts, so one damaged record never hides the records after it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput
from lark.lexer import Lexer

from cnilint.parse.lexer import PrebuiltRun
from cnilint.resources import read_text

GRAMMAR_FILE = "wrapper_log.lark"


class UnitKind(Enum):
    RECORD = "record"  # a record the grammar accepts
    GAP = "gap"  # text between records
    BROKEN = "broken"  # tokens of a record the grammar rejected (cut short or mixed)
    STRAY = "stray"  # a marker that cannot start anything


@dataclass(frozen=True, slots=True)
class Unit:
    kind: UnitKind
    tokens: tuple[Token, ...]

    @property
    def line(self) -> int:
        return self.tokens[0].line or 0

    @property
    def end_line(self) -> int:
        return self.tokens[-1].end_line or self.line


_events = threading.local()


class _Signals(Transformer):
    """Reductions the framer cares about; every other rule keeps nothing, so
    memory does not grow with the log."""

    def _signal(self, kind: UnitKind) -> None:
        _events.pending.append(kind)

    def record(self, _children: list) -> None:
        self._signal(UnitKind.RECORD)

    def gap(self, _children: list) -> None:
        self._signal(UnitKind.GAP)

    def __default__(self, *_args: object) -> None:
        return None


class _NoLexer(Lexer):
    """Tokens come from cnilint.parse.lexer, never from lark's lexer."""

    def __init__(self, _conf: object) -> None:
        pass

    def lex(self, *_args: object) -> Iterator[Token]:  # pragma: no cover - never called
        raise NotImplementedError


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        read_text("grammars", GRAMMAR_FILE),
        parser="lalr",
        lexer=_NoLexer,
        transformer=_Signals(),
        maybe_placeholders=False,
    )


def frame(tokens: Iterable[Token | PrebuiltRun]) -> Iterator[Unit | PrebuiltRun]:
    """Group tokens into units, in log order. Records the fast path read end
    the unit in progress, as the next record's date line would, and pass
    through as is."""
    parser = _parser()
    _events.pending = []
    interactive = parser.parse_interactive()
    current: list[Token] = []

    def emitted(keep_last: bool) -> Iterator[Unit]:
        nonlocal current
        for kind in _events.pending:
            body = current[:-1] if keep_last else current
            if body:
                yield Unit(kind, tuple(body))
            current = current[-1:] if keep_last else []
        _events.pending = []

    for token in tokens:
        if type(token) is PrebuiltRun:
            if current:
                yield from _close(interactive, current)
                current = []
                _events.pending = []
                interactive = parser.parse_interactive()
            yield token  # type: ignore[misc]  # as is: the reader knows it
            continue
        current.append(token)
        try:
            interactive.feed_token(token)
        except UnexpectedInput:
            current.pop()
            yield from _close(interactive, current)
            current = [token]
            _events.pending = []
            interactive = parser.parse_interactive()
            try:
                interactive.feed_token(token)
            except UnexpectedInput:
                yield Unit(UnitKind.STRAY, (token,))
                current = []
                _events.pending = []
                interactive = parser.parse_interactive()
            continue
        yield from emitted(keep_last=True)
    yield from _close(interactive, current)


def _close(interactive: object, current: list[Token]) -> Iterator[Unit]:
    """End the units in progress: a finished record whose reduction was waiting
    for a lookahead, or else a broken one."""
    if not current:
        return
    _events.pending = []
    try:
        interactive.feed_eof(current[-1])  # type: ignore[attr-defined]
    except UnexpectedInput:
        _events.pending = []
        yield Unit(UnitKind.BROKEN, tuple(current))
        return
    kinds = _events.pending
    _events.pending = []
    if kinds == [UnitKind.RECORD] or kinds == [UnitKind.GAP]:
        yield Unit(kinds[0], tuple(current))
    else:  # pragma: no cover - the grammar reduces one item at a time
        yield Unit(UnitKind.BROKEN, tuple(current))
