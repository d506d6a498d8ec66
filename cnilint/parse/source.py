"""Opening logs: the one place the parser touches files and streams.

Logs are read as bytes, one line at a time and never more than the size limit
of a line, and decoded line by line: a byte that is not UTF-8 becomes U+FFFD
and a note with its line and column (the reader puts it on the record holding
that line), never an exception. A UTF-8 byte order mark at the start is
dropped. Compressed logs (rotated logs: gzip, bzip2, xz) are recognised by
their first bytes, whatever their name, on files and on stdin alike.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import io
import lzma
import os
import re
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO

from cnilint.parse.fast import CleanText, scan
from cnilint.parse.lexer import DEFAULT_MAX_BYTES
from cnilint.parse.reader import LogReader
from cnilint.parse.records import BAD_UTF8, CUT_STREAM, LONG_LINE, MORE_DAMAGE, NUL, LineNote

ENCODING = "utf-8"
BLOCK_SIZE = 1 << 18  # bytes read at a time for the fast path (several copies live per open log)
# What makes a block go line by line: characters the line reader notes (NUL),
# and every line break but LF (str.splitlines and the lexer would see other lines).
_UNCLEAN_ASCII = "\x00\r\x0b\x0c\x1c\x1d\x1e"
_UNCLEAN = _UNCLEAN_ASCII + "\x85\u2028\u2029"
DEFAULT_MAX_RECORD_BYTES = DEFAULT_MAX_BYTES
MAX_NOTED_LINES = 100  # damaged lines noted one by one per log; the rest are counted
KEPT_OF_LONG_LINE = 4096  # bytes kept of a line over the limit: enough to classify it

_COMPRESSED: tuple[tuple[bytes, Callable[[IO[bytes]], IO[bytes]]], ...] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")),
    (b"BZh", lambda raw: bz2.BZ2File(raw)),  # type: ignore[arg-type]
    (b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw)),  # type: ignore[arg-type]  # noqa: SIM115
)  # closed with the stream they wrap, by the LineSource
_MAGIC_BYTES = max(len(magic) for magic, _ in _COMPRESSED)
# A cut or corrupt compressed stream: the lines before the damage are kept.
_STREAM_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError)
# logrotate's names: `bridge.1`, `bridge.2.gz`, `bridge-20261127.gz` (dateext, hourly too).
_ROTATED = re.compile(r"(?P<plugin>.+?)(?:\.\d+|-\d{8}(?:\d{2})?)?(?:\.(?:gz|bz2|xz))?")


def plugin_name(path: str | os.PathLike[str]) -> str:
    """The plugin a log belongs to: its file name without the suffixes log
    rotation adds (`bridge.1.gz`, `bridge.gz` and `bridge-20261127` are `bridge`)."""
    name = Path(path).name
    match = _ROTATED.fullmatch(name)
    return match.group("plugin") if match else name


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff them) from a pipe."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    @classmethod
    def reader(cls, head: bytes, rest: IO[bytes]) -> IO[bytes]:
        return io.BufferedReader(cls(head, rest))  # type: ignore[arg-type]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        read = getattr(self._rest, "read1", self._rest.read)
        data = read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _sniffable(stream: IO[bytes]) -> tuple[bytes, IO[bytes]]:
    """The first bytes of a binary stream, and a stream that still starts with them."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(_MAGIC_BYTES)
        stream.seek(start)
        return head, stream
    peek = getattr(stream, "peek", None)
    head = peek(_MAGIC_BYTES)[:_MAGIC_BYTES] if peek is not None else b""
    if len(head) >= _MAGIC_BYTES:
        return head, stream
    head = stream.read(_MAGIC_BYTES)  # a short pipe, or a stream that cannot peek
    return head, io.BufferedReader(_Prefixed(head, stream))  # type: ignore[arg-type]


def decompressed(stream: IO[bytes]) -> tuple[IO[bytes], bool]:
    """The stream, decompressed when its first bytes say so (and whether they did)."""
    head, stream = _sniffable(stream)
    for magic, opener in _COMPRESSED:
        if head.startswith(magic):
            return opener(stream), True
    return stream, False


class LineSource:
    """The lines of a log, each at most `max_line` long (bytes, or characters
    for a stream opened as text), decoded one by one.

    Damage found while reading (invalid UTF-8, NUL bytes, a line over the
    limit, a cut compressed stream) collects in `notes`, in line order.
    """

    def __init__(
        self,
        stream: IO[bytes] | IO[str],
        *,
        max_line: int,
        close: Callable[[], None],
        compressed: bool = False,
        text: bool = False,
    ) -> None:
        self.notes: deque[LineNote] = deque()
        self._stream = stream
        self._max_line = max_line
        self._close = close
        self._compressed = compressed
        self._text = text
        self._newline: str | bytes = "\n" if text else b"\n"
        self.lines = 0  # lines read so far
        self.tell: Callable[[], int] | None = None  # bytes of the stored file read so far, when known
        self._told = 0
        self._finished = False
        self._noted = 0
        self._unnoted: list[int] = []  # [first line, count] of damaged lines past MAX_NOTED_LINES

    def __iter__(self) -> Iterator[str]:
        return self._text_lines() if self._text else self._binary_lines()

    def bytes_read(self) -> int | None:
        """Bytes of the stored file read so far, or None for a stream."""
        if self.tell is None:
            return None
        with contextlib.suppress(ValueError, OSError):  # closed: the last position stands
            self._told = self.tell()
        return self._told

    def blocks(self) -> Iterator[str | CleanText]:
        """The log as CleanText blocks of whole lines where a block decodes
        cleanly (the fast path may read them), and line by line elsewhere,
        exactly as iterating gives them."""
        if self._text or self._max_line < 2 * BLOCK_SIZE:  # small limits: every line is measured
            return iter(self)
        return self._binary_blocks()

    def _binary_blocks(self) -> Iterator[str | CleanText]:
        lineno = 0
        carry = b""
        error: BaseException | None = None
        try:
            data, error = self._read_block()
            if data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            while data:
                data = carry + data if carry else data
                cut = data.rfind(b"\n") + 1
                block, carry = data[:cut], data[cut:]
                if len(carry) > BLOCK_SIZE and error is None:  # a very long line: the line reader cuts it
                    yield from self._binary_lines(_Prefixed.reader(carry, self._stream), lineno, block=block)
                    return
                lineno = yield from self._block(block, lineno)
                if error is not None:
                    break
                data, error = self._read_block()
            if error is not None:
                raise error  # the unfinished last line is lost, as with readline
            lineno = yield from self._block(carry, lineno)
        except (*_STREAM_ERRORS, OSError) as exc:
            self._broken(exc, lineno)
        finally:
            self._finish(lineno)

    def _read_block(self) -> tuple[bytes, BaseException | None]:
        """About BLOCK_SIZE bytes, and the error that stopped the reading if
        any. Compressed streams are read as the line reader reads them (one
        buffer at a time), so a cut stream loses the same lines either way."""
        if not self._compressed:
            return self._stream.read(BLOCK_SIZE), None  # type: ignore[return-value]
        pieces: list[bytes] = []
        size = 0
        read1 = self._stream.read1  # type: ignore[union-attr]
        try:
            while size < BLOCK_SIZE:
                piece = read1(io.DEFAULT_BUFFER_SIZE)
                if not piece:
                    break
                pieces.append(piece)
                size += len(piece)
        except _STREAM_ERRORS as exc:
            return b"".join(pieces), exc
        return b"".join(pieces), None

    def _block(self, block: bytes, lineno: int) -> Iterator[str | CleanText]:
        """Lines of a block, as one CleanText when nothing in it needs a note."""
        if not block:
            return lineno
        try:
            text = block.decode(ENCODING)
        except UnicodeDecodeError:
            text = None
        if text is not None and _clean(text):
            yield CleanText(text)
            return lineno + text.count("\n") + (0 if text.endswith("\n") else 1)
        for raw in _split_lines(block):
            lineno += 1
            yield self._line(raw, lineno)
        return lineno

    def _line(self, raw: bytes, lineno: int) -> str:
        try:
            line = raw.decode(ENCODING)
        except UnicodeDecodeError as exc:
            line = self._undecodable(raw, exc, lineno)
        if "\x00" in line:
            self._nul(line, lineno)
        return line

    def _binary_lines(self, stream: IO[bytes] | None = None, lineno: int = 0, block: bytes = b"") -> Iterator[str]:
        # The hot loop of a log read line by line: one readline, one decode and one search per line.
        readline = (stream or self._stream).readline
        limit = self._max_line + 1
        try:
            if block:
                lineno = yield from self._block(block, lineno)
            raw: bytes = readline(limit)  # type: ignore[assignment]
            if lineno == 0 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            while raw:
                lineno += 1
                if len(raw) >= limit and raw[-1] != 10:  # 10: b"\n"
                    raw = self._cut(raw, lineno, readline)  # type: ignore[assignment]
                yield self._line(raw, lineno)
                raw = readline(limit)  # type: ignore[assignment]
        except (*_STREAM_ERRORS, OSError) as exc:
            self._broken(exc, lineno)
        finally:
            self._finish(lineno)

    def _text_lines(self) -> Iterator[str]:
        readline = self._stream.readline
        limit = self._max_line + 1
        lineno = 0
        try:
            line: str = readline(limit)  # type: ignore[assignment]
            if line.startswith("\ufeff"):
                line = line[1:]
            while line:
                lineno += 1
                if len(line) >= limit and not line.endswith("\n"):
                    line = self._cut(line, lineno)  # type: ignore[assignment]
                if "\x00" in line:
                    self._nul(line, lineno)
                yield line
                line = readline(limit)  # type: ignore[assignment]
        finally:
            self._finish(lineno)

    def _undecodable(self, raw: bytes, exc: UnicodeDecodeError, lineno: int) -> str:
        column = len(raw[: exc.start].decode(ENCODING)) + 1
        detail = f"(byte 0x{raw[exc.start]:02x}): read as U+FFFD, the rest of the line is decoded"
        self._note(LineNote(lineno, column, BAD_UTF8, "invalid UTF-8", detail))
        return raw.decode(ENCODING, "replace")

    def _nul(self, line: str, lineno: int) -> None:
        self._note(LineNote(lineno, line.index("\x00") + 1, NUL, "NUL bytes", NUL_DETAIL))

    def _broken(self, exc: BaseException, lineno: int) -> None:
        if isinstance(exc, OSError) and not self._compressed:
            raise exc  # a real read error: the caller reports it
        what = "compressed data cut short or corrupt"
        self._note(LineNote(lineno + 1, 0, CUT_STREAM, what, f"({exc or type(exc).__name__}): the log ends here"))

    def _cut(self, head: bytes | str, lineno: int, readline: Callable[[int], bytes | str] | None = None) -> bytes | str:
        """Skip the rest of a line over the limit; keep its start (to classify it)."""
        size, chunk = len(head), head[:0]
        readline = readline or self._stream.readline
        while True:
            chunk = readline(self._max_line + 1)
            size += len(chunk)
            if not chunk or chunk.endswith(self._newline):  # type: ignore[arg-type]
                break
        unit = "characters" if self._text else "bytes"
        detail = f"({size:,} {unit}, the limit is {self._max_line:,}): the rest of the line is not read"
        self._note(LineNote(lineno, 0, LONG_LINE, "line over the size limit", detail))
        kept = head[:KEPT_OF_LONG_LINE]
        if isinstance(kept, bytes):  # not cut inside a character
            kept = kept.decode(ENCODING, "ignore").encode(ENCODING)
        return kept + self._newline if chunk.endswith(self._newline) else kept  # type: ignore[operator,arg-type]

    def _note(self, note: LineNote) -> None:
        if self._noted < MAX_NOTED_LINES or note.kind in (LONG_LINE, CUT_STREAM):
            self._noted += 1
            self.notes.append(note)
        elif self._unnoted:
            self._unnoted[1] += 1
        else:
            self._unnoted = [note.line, 1]

    def _finish(self, lines: int) -> None:
        if self._finished:  # the block reader handed over to the line reader, which finished
            return
        self._finished = True
        self.bytes_read()  # the last position, before the file closes
        self.lines = lines
        self._close()
        if self._unnoted:
            first, count = self._unnoted
            what = f"{count:,} more lines with invalid UTF-8 or NUL bytes"
            self.notes.append(LineNote(first, 0, MORE_DAMAGE, what, "(not reported one by one)"))
            self._unnoted = []


NUL_DETAIL = "(a crash can leave a log padded with zeros)"


def _clean(text: str) -> bool:
    """No character that needs the line reader (str searches are memchr; isascii is a flag)."""
    for char in _UNCLEAN_ASCII if text.isascii() else _UNCLEAN:  # noqa: SIM110 - no generator per block
        if char in text:
            return False
    return True


def _split_lines(block: bytes) -> list[bytes]:
    """Lines ending at LF only, as readline splits them (bytes.splitlines also splits at CR)."""
    lines = block.split(b"\n")
    last = lines.pop()
    return [line + b"\n" for line in lines] + ([last] if last else [])


def _closer(*streams: IO[bytes] | IO[str]) -> Callable[[], None]:
    def close() -> None:
        for stream in streams:
            stream.close()

    return close


def _is_binary(stream: IO[str] | IO[bytes]) -> bool:
    return isinstance(stream, (io.RawIOBase, io.BufferedIOBase)) or "b" in getattr(stream, "mode", "")


def _binary_lines(raw: IO[bytes], max_line: int) -> LineSource:
    stream, compressed = decompressed(raw)
    source = LineSource(stream, max_line=max_line, close=_closer(stream, raw), compressed=compressed)
    if raw.seekable():
        source.tell = raw.tell  # bytes of the file read so far (compressed ones for a compressed log)
    return source


def _path_lines(path: str | os.PathLike[str], max_line: int) -> LineSource:
    raw = open(path, "rb")  # noqa: SIM115 - closed by the LineSource
    try:
        return _binary_lines(raw, max_line)
    except BaseException:
        raw.close()
        raise


def parse(
    source: str | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    plugin: str | None = None,
    name: str | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    fast_path: bool = True,
) -> LogReader:
    """Records of one wrapper log, streamed one at a time.

    `source` is a path or an open stream (text or binary; binary ones may be
    compressed). The plugin is the log's file name without rotation suffixes
    unless `plugin` is given; `name` overrides the file name shown in records
    (streams default to "<stdin>"). A record larger than `max_record_bytes`
    (its characters, plus 64 per line: what holding it costs) is reported and
    skipped. Opening errors (missing file, permissions) are raised here,
    before any record is read. `fast_path=False` reads every record through
    the grammar (the same records, slower: see cnilint.parse.fast).
    """
    if max_record_bytes < 1:
        raise ValueError(f"max_record_bytes must be positive, not {max_record_bytes}")
    if isinstance(source, (str, os.PathLike)):
        lines = _path_lines(source, max_record_bytes)
        file = name or str(source)
        plugin = plugin if plugin is not None else plugin_name(source)
    else:
        if _is_binary(source):
            lines = _binary_lines(source, max_record_bytes)  # type: ignore[arg-type]
        else:
            lines = LineSource(source, max_line=max_record_bytes, close=source.close, text=True)
        file = name or getattr(source, "name", None) or "<stdin>"
        if not isinstance(file, str):
            file = "<stdin>"
    items = scan(lines.blocks(), max_record_bytes) if fast_path else iter(lines)
    reader = LogReader(items, file=file, plugin=plugin, notes=lines.notes, max_record_bytes=max_record_bytes)
    reader.position = lines.bytes_read
    return reader


def read_lines(
    path: str | os.PathLike[str], wanted: set[int], max_line: int = DEFAULT_MAX_RECORD_BYTES
) -> dict[int, str]:
    """Lines `wanted` of a log file (for excerpts around findings), read as the
    parser reads them: decompressed, decoded line by line, bounded in length."""
    found: dict[int, str] = {}
    if not wanted:
        return found
    last = max(wanted)
    lines = _numbered_lines(str(path), max_line)
    try:
        for number, line in lines:
            if number in wanted:
                found[number] = line
            if number >= last:
                break
    finally:
        lines.close()
    return found


def _numbered_lines(path: str, max_line: int) -> Generator[tuple[int, str], None, None]:
    """(number, line) of a log file as the parser reads it; none when it cannot be read."""
    try:
        with open(path, "rb") as raw:
            lines = iter(_binary_lines(raw, max_line))
            try:
                yield from enumerate(lines, start=1)
            finally:
                lines.close()  # type: ignore[attr-defined]
    except OSError:
        return


class LineExcerpts:
    """`read_lines` for a report that asks for one file's lines a chunk at a time,
    in increasing order: the file stays open where the last call stopped (with
    its last few lines), so a big file is read once, not once per chunk. Any
    other call (another file, earlier lines) starts that file again."""

    KEEP = 16  # lines before the position kept: chunks of excerpts overlap by a line or two

    def __init__(self, max_line: int = DEFAULT_MAX_RECORD_BYTES) -> None:
        self.max_line = max_line
        self._path: str | None = None
        self._lines: Generator[tuple[int, str], None, None] | None = None
        self._recent: deque[tuple[int, str]] = deque(maxlen=self.KEEP)
        self._at = 0  # number of the last line read

    def __call__(self, path: str | os.PathLike[str], wanted: set[int]) -> dict[int, str]:
        if not wanted:
            return {}
        first, last = min(wanted), max(wanted)
        if str(path) != self._path or first <= self._at - self.KEEP or self._lines is None:
            self._open(str(path))
        found = {number: line for number, line in self._recent if number in wanted}
        while self._at < last and self._lines is not None:
            item = next(self._lines, None)
            if item is None:
                self.close()
                break
            self._at, line = item
            self._recent.append(item)
            if self._at in wanted:
                found[self._at] = line
        return found

    def _open(self, path: str) -> None:
        self.close()
        self._path = path
        self._lines = _numbered_lines(path, self.max_line)

    def close(self) -> None:
        if self._lines is not None:
            self._lines.close()
        self._lines = None
        self._recent.clear()
        self._at = 0
