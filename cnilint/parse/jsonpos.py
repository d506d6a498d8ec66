"""Where each value of a JSON document starts, by JSON path.

The json module decodes fast but forgets positions; findings need the log line
of, say, `$.ips[0].interface`. This scanner walks the raw text once, only when
a position is asked for, and maps every path to its line and column.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

# Positions are recorded down to this depth only: a path is a tuple as long as
# its depth, so a hostile document nested 100,000 deep would otherwise need
# memory quadratic in its size. Deeper values point at their ancestor.
MAX_DEPTH = 256

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<punct>[{}\[\]:,])
  | (?P<scalar>[^\s{}\[\]:,"]+)
    """,
    re.VERBOSE | re.DOTALL,
)


def format_path(path: Path) -> str:
    """`$.ips[0].interface` style; keys that are not identifiers are quoted."""
    out = ["$"]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)


def value_positions(text: str) -> dict[Path, tuple[int, int]]:
    """Map each JSON path to the (line, column) where its value starts, 1-based.

    Best effort on malformed text: positions found before the error are kept.
    """
    import json

    positions: dict[Path, tuple[int, int]] = {}
    # Stack frames: [container kind, current key or index, expecting key?]
    stack: list[list] = []
    line, line_start = 1, 0

    def current_path() -> Path:
        return tuple(frame[1] for frame in stack)

    def value_starts(pos: int) -> None:
        if len(stack) <= MAX_DEPTH:
            positions.setdefault(current_path(), (line, pos - line_start + 1))

    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        token = match.group()
        pos = match.start()
        if kind == "ws":
            newlines = token.count("\n")
            if newlines:
                line += newlines
                line_start = pos + token.rindex("\n") + 1
            continue
        top = stack[-1] if stack else None
        if kind == "punct":
            if token in "{[" and (top is None or not (top[0] == "{" and top[2])):
                value_starts(pos)  # a container is a value too (unless where a key belongs)
            _punct(stack, top, token)  # ':' needs no action: the key was recorded when read
            continue
        if top is not None and top[0] == "{" and top[2] and kind == "string":
            try:
                top[1] = json.loads(token)
            except ValueError:
                top[1] = token[1:-1]
            top[2] = False
            continue
        value_starts(pos)
    return positions


def duplicate_keys(text: str, limit: int = 21) -> list[tuple[Path, tuple[int, int], tuple[int, int]]]:
    """Keys an object of a JSON document has twice, in text order: the path of
    the later one, its (line, column) and those of the first one, 1-based.
    At most `limit` are returned. Only called on documents known to have some."""
    import json

    found: list[tuple[Path, tuple[int, int], tuple[int, int]]] = []
    stack: list[list] = []  # [container kind, current key or index, expecting key?, keys seen]
    line, line_start = 1, 0
    for match in _TOKEN.finditer(text):
        kind, token, pos = match.lastgroup, match.group(), match.start()
        if kind == "ws":
            newlines = token.count("\n")
            if newlines:
                line += newlines
                line_start = pos + token.rindex("\n") + 1
            continue
        top = stack[-1] if stack else None
        if kind == "punct":
            _punct(stack, top, token)
            continue
        if top is not None and top[0] == "{" and top[2] and kind == "string":
            try:
                key = json.loads(token)
            except ValueError:
                key = token[1:-1]
            here = (line, pos - line_start + 1)
            first = top[3].setdefault(key, here)
            if first != here:
                found.append(((*(frame[1] for frame in stack[:-1]), key), here, first))
                if len(found) >= limit:
                    return found
            top[1], top[2] = key, False
    return found


def _punct(stack: list[list], top: list | None, token: str) -> None:
    if token in "{[":
        stack.append([token, 0 if token == "[" else None, token == "{", {}])
    elif token in "}]":
        if stack:
            stack.pop()
    elif token == "," and top is not None:
        if top[0] == "[":
            top[1] += 1
        else:
            top[2] = True
