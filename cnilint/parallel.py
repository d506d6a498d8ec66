"""`--jobs N`: logs read and checked alone on N worker processes, the
cross-record stage in this one.

Why this split: cross-record rules relate records of different files (a
`bridge` record and the `host-local` record it delegated to), so they need
every log merged in time order in one place; reading and single-record rules
(most of the work) need one record at a time, so they run where the file is
read. Each worker sends back what the cross stage and the reports use of a
record: its RecordResult (record, facts, findings), pickled.

A LogReader keeps state (where it is in its file), so each file stays with
the worker that opened it: files are dealt out largest first to the least
loaded worker. This process asks for one batch of a file at a time and keeps
at most DEPTH batches of each file asked for or waiting, so memory is bounded
by files x DEPTH x batch size, never by the length of the logs; the merge in
time order pulls every file along at the pace of its dates, so every worker
keeps busy while the logs overlap in time.

Workers start from a fresh interpreter ("forkserver" where there is one, else
"spawn"): nothing of this process is inherited, the Engine is rebuilt from the
Options in each, so a script running them needs the `if __name__ ==
"__main__":` guard. Each worker writes to its own pipe from its main thread
(a Queue's feeder thread would fight the parser for the GIL). A file that
cannot be opened or read gives the same one-line error as without --jobs: the
worker sends the message back and this process reports it in the same place.
A worker that dies closes its pipe: a WorkerError here, never a hang.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import multiprocessing
import os
import pickle
import signal
import traceback
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from cnilint.findings import StringPool
from cnilint.inputs import InputError, LogInput, expand
from cnilint.options import Options
from cnilint.parse import LogReader, Problem, Record

DEPTH = 4  # batches of one file asked for ahead of the one being consumed
BUDGET_RECORDS = 16_384  # records in flight over all files (the batch size follows)
# Records per batch: small batches keep the pipeline full (the merge needs the first batch
# of every log before it yields anything); a message costs about 0.1 ms.
MIN_BATCH, MAX_BATCH = 8, 64
MAX_BATCH_CHARS = 4 << 20  # a batch also ends past this much log text
WAIT_SECONDS = 1.0  # how long a dead worker's exit code is waited for
PIPE_BYTES = 1 << 20  # each worker's reply pipe


class WorkerError(RuntimeError):
    """A worker process died (killed, out of memory) or hit a cnilint bug."""


def available_cores() -> int:
    """The cores this process may run on (`--jobs 0`)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve_jobs(jobs: int) -> int:
    """`--jobs` as a number of processes: 0 means every core."""
    return available_cores() if jobs == 0 else max(jobs, 1)


@dataclass(frozen=True)
class _Setup:
    """What a worker needs; pickled into each worker."""

    options: Options | None  # None: read records only (`cnilint records`)
    max_record_bytes: int
    batch_records: int


@dataclass(frozen=True)
class _End:
    """The last message of a file: what its LogReader knows only at the end."""

    problems: list[Problem]
    error: str | None  # a read error, as `exc.strerror or exc`
    bytes_read: int | None


class RemoteLog:
    """A log read by a worker: a LogReader's `file`, `plugin` and `problems`
    (complete once its records are exhausted) and, iterated once, its records
    (RecordResults when checking). A read error ends the iteration with the
    OSError a LogReader raises."""

    def __init__(self, pool: WorkerPool, fid: int, log: LogInput, size: int) -> None:
        self.file = log.name
        self.plugin = log.plugin
        self.problems: list[Problem] = []
        self.size = size  # bytes on disk when opened
        self.bytes_read: int | None = 0  # as the worker's reader last said; None when it cannot tell
        # When checking: the secret-looking (name, value) pairs of its records' env, each once,
        # so this process's Redactor learns them without looking at every variable again.
        self.secrets: list[tuple[str, str]] = []
        self.done = False
        self.batches_asked = 0  # by this process: at most DEPTH ahead of those it has taken
        self._pool = pool
        self._fid = fid
        self._inbox: deque[tuple[str, Any]] = deque()  # ("batch", [...]) or ("end", _End)
        self._ended = False  # the end message has arrived

    def __iter__(self) -> Iterator[Any]:
        return self._pool._stream(self)


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process
    requests: Any  # multiprocessing.Queue: putting never blocks this process
    replies: Any  # the read end of its pipe (multiprocessing.connection.Connection)
    load: int = 0  # bytes of the files given to it


class WorkerPool:
    """N worker processes reading (and with `options`, checking alone) the
    logs given to `open`; use as a context manager (workers stop on exit)."""

    def __init__(self, jobs: int, options: Options | None, max_record_bytes: int) -> None:
        self.jobs = jobs
        self.options = options
        self.max_record_bytes = max_record_bytes
        self._context = _context()
        self._workers: list[_Worker] = []
        self._logs: dict[int, RemoteLog] = {}
        self._owner: dict[int, _Worker] = {}
        self._strings = StringPool()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:  # interrupted, or stopped early: replies nobody will read must not hold the workers
            self.kill()

    def open(self, inputs: Sequence[LogInput]) -> list[RemoteLog | LogReader | InputError]:
        """Each input opened, in order: a RemoteLog for a file a worker reads, a
        LogReader for stdin (read here), or the InputError that opening raised
        (as LogInput.open raises it)."""
        opened: list[RemoteLog | LogReader | InputError] = []
        remote: list[tuple[int, LogInput, int]] = []
        for position, log in enumerate(inputs):
            if log.path is None or log.error is not None:  # stdin, or an error known from listing
                try:
                    opened.append(log.open(self.max_record_bytes))
                except InputError as exc:
                    opened.append(exc)
                continue
            opened.append(InputError(f"{log.name}: not opened"))  # replaced below
            remote.append((position, log, _size(log)))
        if not remote:
            return opened
        self.start(len(remote))
        for position, log, size in sorted(remote, key=lambda item: -item[2]):  # largest first: balanced loads
            worker = min(self._workers, key=lambda w: w.load)
            worker.load += size
            self._logs[position] = RemoteLog(self, position, log, size)
            self._owner[position] = worker
            worker.requests.put(("open", position, log))
        waiting = {position for position, _, _ in remote}
        while waiting:
            kind, fid, payload = self._receive()
            if kind != "opened":  # pragma: no cover - a worker answers opens first
                raise WorkerError(f"unexpected message {kind!r} from a worker")
            waiting.discard(fid)
            opened[fid] = InputError(payload) if payload is not None else self._logs[fid]
        # Round by round: every log's first batch is asked for before any log's second,
        # so the merge, which needs the first records of every log, starts early.
        for _ in range(DEPTH):
            for fid, log in self._logs.items():
                if opened[fid] is log:
                    self._ask(log)
        return opened

    def close(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):  # already closed
                worker.requests.put(None)
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():  # pragma: no cover - stuck: do not hang the command
                worker.process.kill()
                worker.process.join()
        for worker in self._workers:
            worker.requests.close()
            worker.requests.cancel_join_thread()
            worker.replies.close()
        self._workers = []

    def kill(self) -> None:
        """Stop every worker now (interrupted, or an error in this process)."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.kill()
        self.close()

    def start(self, files: int) -> None:
        """Start the workers for `files` logs (at most one each), if not yet
        started: early, they boot while this process does its own setup."""
        if self._workers or files == 0:
            return
        batch = max(MIN_BATCH, min(MAX_BATCH, BUDGET_RECORDS // (files * (DEPTH + 1))))
        setup = _Setup(self.options, self.max_record_bytes, batch)
        for _ in range(min(self.jobs, files)):
            requests = self._context.Queue()
            # A pipe per worker, written by the worker's main thread: a Queue's feeder thread
            # would fight the parser for the GIL, and this process would wait for each chunk.
            replies, sender = self._context.Pipe(duplex=False)
            _widen(replies)
            process = self._context.Process(target=_serve, args=(setup, requests, sender), daemon=True)
            process.start()
            sender.close()  # the worker holds it: its death closes the pipe
            self._workers.append(_Worker(process, requests, replies))

    def _ask(self, log: RemoteLog) -> None:
        if not log._ended:
            log.batches_asked += 1
            self._owner[log._fid].requests.put(("more", log._fid, None))

    def _receive(self) -> tuple[str, int, Any]:
        """The next message of any worker; a dead worker is an error, not a hang."""
        ready = wait([worker.replies for worker in self._workers])[0]
        try:
            raw = ready.recv_bytes()  # type: ignore[union-attr]
        except (EOFError, OSError):  # its pipe closed: the worker died (it never stops on its own)
            worker = next(w for w in self._workers if w.replies is ready)
            worker.process.join(timeout=WAIT_SECONDS)
            code = worker.process.exitcode
            raise WorkerError(f"a worker process stopped unexpectedly (exit code {code})") from None
        collecting = gc.isenabled()
        gc.disable()  # unpickling makes many objects that all live on: collecting now is wasted time
        try:
            kind, fid, payload = pickle.loads(raw)
        finally:
            if collecting:
                gc.enable()
        if kind == "crash":
            name = self._logs[fid].file if fid in self._logs else "a log"
            raise WorkerError(f"{name}: a worker process failed:\n{payload}")
        return kind, fid, payload

    def _stream(self, log: RemoteLog) -> Iterator[Any]:
        while True:
            while not log._inbox:
                kind, fid, payload = self._receive()
                target = self._logs[fid]
                if kind == "batch":
                    items, target.bytes_read, secrets = payload
                    target.secrets.extend(secrets)
                    target._inbox.append(("batch", items))
                else:  # "end"
                    target._ended = True
                    target._inbox.append(("end", payload))
            kind, payload = log._inbox.popleft()
            if kind == "end":
                log.problems = list(payload.problems)
                log.bytes_read = payload.bytes_read
                log.done = True
                if payload.error is not None:
                    raise OSError(payload.error)
                return
            self._ask(log)  # keep DEPTH batches coming while this one is consumed
            for item in payload:
                findings = getattr(item, "findings", None)
                if findings:  # unpickled strings are all new objects: share them as the engine does
                    item.findings = [self._strings.finding(finding) for finding in findings]
                yield item


class OrderedLogs:
    """The logs PATH arguments name, opened in order: all at once by a pool's
    workers (--jobs), else one by one as they are read. `io_errors` collects the
    one-line errors of paths that cannot be listed, opened or read, in the order
    reading the logs one by one gives, whichever way they were opened."""

    def __init__(
        self, paths: Sequence[str], plugin: str | None, max_record_bytes: int, pool: WorkerPool | None = None
    ) -> None:
        self.io_errors: list[str] = []
        self.readers: list[LogReader | RemoteLog] = []  # those opened, in order
        self.max_record_bytes = max_record_bytes
        self._pool = pool
        # Every input with the listing errors met just before it; then those after the last.
        self._listed: list[tuple[list[str], LogInput]] = []
        pending: list[str] = []
        for raw in paths:
            try:
                for log in expand([raw], plugin=plugin):
                    self._listed.append((pending, log))
                    pending = []
            except InputError as exc:
                pending.append(str(exc))
        self._after = pending
        self.total_bytes = sum(_size(log) for _, log in self._listed if log.error is None)
        self.files = sum(1 for _, log in self._listed if log.path is not None and log.error is None)

    def opened(self) -> Iterator[LogReader | RemoteLog]:
        inputs = [log for _, log in self._listed]
        if self._pool is not None:
            opened: Iterator[LogReader | RemoteLog | InputError] = iter(self._pool.open(inputs))
        else:
            opened = (_open(log, self.max_record_bytes) for log in inputs)
        for (errors, _), reader in zip(self._listed, opened, strict=True):
            self.io_errors.extend(errors)
            if isinstance(reader, InputError):
                self.io_errors.append(str(reader))
                continue
            self.readers.append(reader)
            yield reader
        self.io_errors.extend(self._after)

    def read(self, reader: LogReader | RemoteLog) -> Iterator[Any]:
        """A log's records (RecordResults from a checking pool); a read error ends them."""
        try:
            yield from reader
        except OSError as exc:
            self.io_errors.append(f"{reader.file}: {exc.strerror or exc}")


def _open(log: LogInput, max_record_bytes: int) -> LogReader | InputError:
    try:
        return log.open(max_record_bytes)
    except InputError as exc:
        return exc


def _widen(connection: Any) -> None:
    """A pipe that holds several batches (Linux: 64 KiB by default, up to
    /proc/sys/fs/pipe-max-size, 1 MiB by default): a worker seldom waits to write."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):  # not Linux, or a lower limit: the default size works too
        pass


def _context() -> Any:
    """forkserver where there is one (Linux, macOS): a clean process that has
    imported cnilint once, forked for each worker; else spawn. Neither inherits
    this process's state (threads, open files)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["cnilint.parallel", "cnilint.engine", "cnilint.rules.families"])
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _size(log: LogInput) -> int:
    try:
        return os.stat(log.path).st_size if log.path is not None else 0
    except OSError:
        return 0


# Worker side ------------------------------------------------------------------


def _serve(setup: _Setup, requests: Any, replies: Any) -> None:
    """A worker: open files, then send a batch of a file per request, until None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the main process, which stops us
    from cnilint.checker import COLLECT_AFTER_ALLOCATIONS
    from cnilint.engine import Engine

    gc.set_threshold(COLLECT_AFTER_ALLOCATIONS, *gc.get_threshold()[1:])  # as in run_checks: a worker only checks

    engine = Engine(setup.options) if setup.options is not None else None
    secrets = _Secrets(setup.options) if setup.options is not None else None
    batches: dict[int, Iterator[tuple[str, Any]]] = {}

    def send(kind: str, fid: int, payload: Any) -> None:
        buffer = io.BytesIO()
        _Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump((kind, fid, payload))
        replies.send_bytes(buffer.getbuffer())

    while (request := requests.get()) is not None:
        kind, fid, log = request
        try:
            if kind == "open":
                try:
                    reader = log.open(setup.max_record_bytes)
                except InputError as exc:
                    send("opened", fid, str(exc))
                    continue
                batches[fid] = _batches(reader, engine, secrets, setup.batch_records)
                send("opened", fid, None)
            elif fid in batches:  # "more"; a file already ended has nothing more
                message = next(batches[fid])
                if message[0] == "end":
                    del batches[fid]
                send(message[0], fid, message[1])
        except Exception:  # a cnilint bug: the main process raises it
            send("crash", fid, traceback.format_exc())
            batches.pop(fid, None)


def _batches(reader: LogReader, engine: Any, secrets: _Secrets | None, size: int) -> Iterator[tuple[str, Any]]:
    """("batch", (items, bytes_read, new secrets)) messages of a reader, then ("end", _End).
    Items are RecordResults with an engine (checked as Engine.check does), else Records."""
    batch: list[Any] = []
    found: list[tuple[str, str]] = []
    chars = 0
    error: str | None = None
    items: Iterator[Any] = engine.check(reader) if engine is not None else reader
    try:
        for item in items:
            batch.append(item)
            record = item.record if engine is not None else item
            if secrets is not None:
                found.extend(secrets.new(record))
            chars += _chars(record)
            if len(batch) >= size or chars >= MAX_BATCH_CHARS:
                yield "batch", (batch, getattr(reader, "bytes_read", None), found)
                batch, found, chars = [], [], 0
    except OSError as exc:
        error = exc.strerror or str(exc)
    if batch:
        yield "batch", (batch, getattr(reader, "bytes_read", None), found)
    yield "end", _End(list(reader.problems), error, getattr(reader, "bytes_read", None))


class _Secrets:
    """The env pairs a Redactor would learn from (see Redactor.observe), each sent once."""

    def __init__(self, options: Options) -> None:
        from cnilint.redact import Redactor

        self._redactor = Redactor(enabled=options.redact, extra_names=options.redact_names)
        self._secret_name: dict[str, bool] = {}  # names repeat in every record: judge each once
        self._sent: set[tuple[str, str]] = set()

    def new(self, record: Record) -> list[tuple[str, str]]:
        if not self._redactor.enabled:
            return []
        found = []
        for name, value in record.env.items():
            secret = self._secret_name.get(name)
            if secret is None:
                secret = self._secret_name[name] = self._redactor.secret_name(name)
            if secret and value and (name, value) not in self._sent:
                self._sent.add((name, value))
                found.append((name, value))
        return found


class _Pickler(pickle.Pickler):
    """Frozen slotted dataclasses (Record, Body, Finding...) pickled as a call
    of their generated __init__ with every field: dataclasses' own pickling of
    slotted classes looks the fields up again for every object, twice as slow
    here and a third slower in the main process, which unpickles everything."""

    def reducer_override(self, obj: Any) -> Any:
        names = _init_fields(type(obj))
        if names is None:
            return NotImplemented
        return type(obj), tuple([getattr(obj, name) for name in names])


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _init_fields(cls: type) -> tuple[str, ...] | None:
    """A slotted dataclass's fields when its generated __init__ takes them all
    and does nothing else (no __post_init__, no init=False field), else None."""
    try:
        return _FIELDS[cls]
    except KeyError:
        pass
    names = None
    init = getattr(cls, "__init__", None)
    generated = getattr(getattr(init, "__code__", None), "co_filename", None) == "<string>"  # dataclasses' exec
    if (
        dataclasses.is_dataclass(cls)
        and "__slots__" in cls.__dict__
        and generated
        and not hasattr(cls, "__post_init__")
        and all(field.init for field in dataclasses.fields(cls))
    ):
        names = tuple(field.name for field in dataclasses.fields(cls))
    _FIELDS[cls] = names
    return names


def _chars(record: Record) -> int:
    """About how much log text a record holds (its bodies and 64 per line)."""
    size = (record.end_line - record.line + 1) * 64
    for body in (record.input, record.output):
        if body is not None:
            size += len(body.raw)
    return size
