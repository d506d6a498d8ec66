"""Lists a check keeps past what memory should hold: pickled to an anonymous temporary file.

A log of a million calls has a million records and can have as many findings;
the reports read them back a chunk at a time, so a check's memory does not
grow with the log (cnilint.findings.FindingStore, cnilint.reports.data.RowStore).
"""

from __future__ import annotations

import io
import pickle
import tempfile
from collections.abc import Iterator, Sequence
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
