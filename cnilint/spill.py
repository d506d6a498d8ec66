"""Lists a check keeps past what memory should hold: pickled to an anonymous temporary file.

A log of a million calls has a million records and can have as many findings;
the reports read them back a chunk at a time, so a check's memory does not
grow with the log (cnilint.findings.FindingStore, cnilint.reports.data.RowStore,
the timeline's operations in a KeyedSpill).
"""

from __future__ import annotations

import io
import pickle
import tempfile
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from typing import IO, Any

Run = list[tuple[int, int]]  # (offset, size) of each pickled chunk of one run


class SpillFile:
    """Runs of items written once, read back in order, as often as asked."""

    def __init__(self, chunk: int = 2048) -> None:
        self.chunk = chunk  # items a pickle holds: a run is read back a chunk at a time
        self._file: IO[bytes] | None = None

    def write(self, items: Sequence[Any]) -> Run:
        """Append `items` as one run; what `read` needs to give them back."""
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close(), or with the process
        out = self._file
        out.seek(0, io.SEEK_END)
        run = []
        for start in range(0, len(items), self.chunk):
            data = pickle.dumps(list(items[start : start + self.chunk]), protocol=pickle.HIGHEST_PROTOCOL)
            run.append((out.tell(), len(data)))
            out.write(data)
        return run

    def read(self, run: Run) -> Iterator[Any]:
        for offset, size in run:
            spill = self._file
            assert spill is not None
            spill.seek(offset)  # other readers may have moved it since the last chunk
            yield from pickle.loads(spill.read(size))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class KeyedSpill:
    """Items by key, each key's in the order added; past `limit` held, everything
    held goes to the temporary file as one chunk ({key: items}), and each key
    remembers the chunks it has items in. Reading the keys in about the order
    their items came (the timeline's attachments) reads each chunk about once:
    the last few chunks read are kept."""

    def __init__(self, limit: int = 4096, chunks_kept: int = 8) -> None:
        self.limit = limit
        self._held: dict[Hashable, list[Any]] = {}
        self._holding = 0
        self._in: dict[Hashable, list[int]] = {}  # key -> its chunks, by number
        self._chunks: list[tuple[int, int]] = []  # chunk number -> (offset, size)
        self._read: OrderedDict[int, dict[Hashable, list[Any]]] = OrderedDict()
        self._kept = chunks_kept
        self._spill = SpillFile(chunk=1)

    def add(self, key: Hashable, item: Any) -> None:
        self._held.setdefault(key, []).append(item)
        self._holding += 1
        if self._holding > self.limit:
            number = len(self._chunks)
            (location,) = self._spill.write([self._held])
            self._chunks.append(location)
            for held_key in self._held:
                self._in.setdefault(held_key, []).append(number)
            self._held = {}
            self._holding = 0

    def of(self, key: Hashable) -> list[Any]:
        items: list[Any] = []
        for number in self._in.get(key, ()):
            items += self._chunk(number)[key]
        return items + self._held.get(key, [])

    def _chunk(self, number: int) -> dict[Hashable, list[Any]]:
        chunk = self._read.get(number)
        if chunk is None:
            (chunk,) = self._spill.read([self._chunks[number]])
            self._read[number] = chunk
            if len(self._read) > self._kept:
                self._read.popitem(last=False)
        else:
            self._read.move_to_end(number)
        return chunk

    def close(self) -> None:
        self._spill.close()
