"""`--jobs N` gives what `--jobs 1` gives, byte for byte: every format, the
records CSV, baselines, redaction, error lines and exit codes; a worker that
dies is one error line, and memory is bounded by batches, not by the logs."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REAL, ROOT, log_files

from cnilint import parallel, parse
from cnilint.cli import main
from cnilint.inputs import DEFAULT_MAX_RECORD_BYTES, expand
from cnilint.parallel import DEPTH, OrderedLogs, RemoteLog, WorkerError, WorkerPool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the error paths use Linux's /proc")

FORMATS = ("rich", "concise", "json", "jsonl", "csv", "html", "sarif", "junit", "github")


@pytest.fixture(autouse=True)
def remote_logs(monkeypatch) -> list:
    """The logs workers opened: with --jobs 2 the files must go to them (an
    equality of --jobs 1 with itself would prove nothing)."""
    opened: list = []
    real_open = WorkerPool.open

    def spied(self, inputs):
        found = real_open(self, inputs)
        opened.extend(log for log in found if isinstance(log, RemoteLog))
        return found

    monkeypatch.setattr(WorkerPool, "open", spied)
    return opened


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _both(capsys, tmp_path: Path, argv: list[str], outputs: dict[str, str] | None = None) -> dict[int, tuple]:
    """The same command with --jobs 1 and --jobs 2: exit code, stdout, stderr and
    the bytes of every file it wrote ({placeholder name: file name} in `outputs`)."""
    results = {}
    for jobs in (1, 2):
        folder = tmp_path / f"jobs{jobs}"
        folder.mkdir(parents=True)
        named = {key: str(folder / name) for key, name in (outputs or {}).items()}
        code, out, err = _run(capsys, [named.get(arg, arg) for arg in argv] + ["--jobs", str(jobs)])
        files = {name: (folder / name).read_bytes() for name in sorted(p.name for p in folder.iterdir())}
        results[jobs] = (code, out, err, files)
    return results


def test_every_format_and_the_records_csv_are_byte_identical_with_two_jobs(
    capsys, tmp_path, monkeypatch, remote_logs
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.chdir(ROOT)  # relative paths, as users give them
    argv = ["check", "fixtures/real", "--conflist", "fixtures/conflists"]
    outputs = {}
    for fmt in FORMATS:
        argv += ["--format", fmt, "--output", f"@{fmt}"]
        outputs[f"@{fmt}"] = f"report.{fmt}"
    argv += ["--records-csv", "@records", "--format", "concise"]  # and one to stdout
    outputs["@records"] = "records.csv"
    results = _both(capsys, tmp_path, argv, outputs)
    assert results[1] == results[2]
    code, out, err, files = results[2]
    assert code == 1 and err == ""
    assert len(files) == len(FORMATS) + 1 and all(files.values())
    assert "fixtures/real/07-errors/bridge" in out  # every scenario, together
    assert len(remote_logs) == len([path for path in REAL.rglob("*") if path.is_file()])


def test_error_paths_give_the_same_lines_and_exit_code_with_two_jobs(
    capsys, tmp_path, monkeypatch, remote_logs
) -> None:
    """Hostile and quirky logs, a symlink loop and a dangling link (listing
    errors), a file whose first read fails (opened by a worker: /proc/self/mem),
    a missing path and stdin (read here, between the workers' logs)."""
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "bridge").write_bytes((REAL / "02b-bridge-1.0.0" / "bridge").read_bytes())
    (folder / "loop").symlink_to("loop")
    (folder / "dangling").symlink_to("nowhere")
    stdin = (FIXTURES / "seed" / "bridge").read_bytes()
    argv = ["check", str(FIXTURES / "hostile"), "/proc/self/mem", str(folder), "-", str(FIXTURES / "quirks")]
    argv += [str(tmp_path / "missing"), "--plugin", "bridge", "--format", "concise"]
    results = {}
    for jobs in (1, 2):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        results[jobs] = _run(capsys, [*argv, "--jobs", str(jobs)])
    assert results[1] == results[2]
    code, out, err = results[2]
    assert code == 2
    assert "cnilint: error: /proc/self/mem: Input/output error" in err.splitlines()
    assert f"cnilint: error: {folder / 'loop'}: Too many levels of symbolic links" in err.splitlines()
    assert f"cnilint: error: {tmp_path / 'missing'}: no such file or directory" in err.splitlines()
    assert "<stdin>:" in out and f"{folder / 'bridge'}:" in out
    assert len(remote_logs) > 20 and "<stdin>" not in [log.file for log in remote_logs]


def test_baselines_are_written_and_applied_the_same_with_two_jobs(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the committed baseline names relative paths
    applied = _both(
        capsys,
        tmp_path,
        ["check", "fixtures/real/07-errors", "--baseline", "fixtures/baseline/07-errors.json", "--format", "json"],
    )
    assert applied[1] == applied[2]
    assert '"suppressed": 71' in applied[2][1]
    written = _both(
        capsys,
        tmp_path / "write",
        ["check", "fixtures/real/07-errors", "--write-baseline", "@baseline", "--format", "concise"],
        {"@baseline": "baseline.json"},
    )
    assert written[1] == written[2]
    assert written[2][3]["baseline.json"] == (FIXTURES / "baseline" / "07-errors.json").read_bytes()


def test_secrets_learned_by_the_workers_are_hidden_everywhere(capsys, tmp_path, remote_logs) -> None:
    """A value is secret because of its variable's name (DB_PASSWORD), and is
    hidden where it shows under another name: the workers find it, the report
    here hides it."""
    log = (FIXTURES / "secrets" / "bridge").read_text()
    secret = "hunter2-correct-horse"
    assert f"DB_PASSWORD={secret}" in log
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "bridge").write_text(log.replace("K8S_POD_NAME=", f"K8S_POD_NAME={secret}-"))
    argv = ["check", str(folder), "--format", "html", "--output", "@html", "--format", "json"]
    results = _both(capsys, tmp_path, argv, {"@html": "report.html"})
    assert results[1] == results[2]
    _, out, _, files = results[2]
    html = files["report.html"].decode()
    assert secret not in out and secret not in html
    assert "K8S_POD_NAME=[REDACTED]-" in html  # hidden where it appeared under a harmless name
    assert [log.secrets for log in remote_logs] != [[]]


def test_records_come_out_the_same_with_two_jobs(capsys, remote_logs) -> None:
    argv = ["records", str(REAL), str(FIXTURES / "quirks"), "/proc/self/mem", "--format", "jsonl"]
    results = {jobs: _run(capsys, [*argv, "--jobs", str(jobs)]) for jobs in (1, 2)}
    assert results[1] == results[2]
    code, out, err = results[2]
    assert code == 2 and err.endswith("cnilint: error: /proc/self/mem: Input/output error\n")
    assert len(out.splitlines()) > 300 and len(remote_logs) > 20


def test_jobs_zero_is_every_core_and_a_negative_count_is_a_usage_error(capsys) -> None:
    assert parallel.resolve_jobs(0) == parallel.available_cores() >= 1
    with pytest.raises(SystemExit) as exited:
        main(["check", str(FIXTURES / "seed"), "--jobs", "-1"])
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == ""
    assert err == "cnilint: error: argument -j/--jobs: expected a number of processes (0: one per core), got '-1'\n"
    code, out, _ = _run(capsys, ["check", str(FIXTURES / "seed"), "--jobs", "0", "--format", "concise"])
    assert code == 0 and "2 records of 2 files" in out


def _inputs(*paths: Path) -> list:
    return [log for path in paths for log in expand([str(path)])]


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    logs = _inputs(REAL / "08-concurrency" / "bridge", REAL / "08-concurrency" / "host-local")
    dead = r"a worker process stopped unexpectedly \(exit code -9\)"
    with pytest.raises(WorkerError, match=dead), WorkerPool(2, None, DEFAULT_MAX_RECORD_BYTES) as pool:
        opened = pool.open(logs)
        for worker in pool._workers:
            worker.process.kill()
            worker.process.join()
        for log in opened:
            list(log)


def test_other_logs_wait_with_at_most_depth_batches_asked_for(monkeypatch) -> None:
    """Reading one log to its end asks nothing more of the others than the
    first DEPTH batches: what waits in memory does not grow with the logs."""
    monkeypatch.setattr(parallel, "MIN_BATCH", 4)  # 4 records a batch: many batches per log
    monkeypatch.setattr(parallel, "MAX_BATCH", 4)
    logs = _inputs(*log_files("08-concurrency"), *log_files("07-errors"))
    with WorkerPool(2, None, DEFAULT_MAX_RECORD_BYTES) as pool:
        first, *others = pool.open(logs)
        records = list(first)
        assert len(records) > 4 * (DEPTH + 2)
        assert first.batches_asked > DEPTH + 2
        assert [log.batches_asked for log in others] == [DEPTH] * len(others)
        for log in others:
            assert len(list(log)) > 0


class _Failing:
    """A reader whose file fails after some records (a disk error mid-file)."""

    def __init__(self, records: list) -> None:
        self.file = "bridge"
        self.problems: list = []
        self._records = records

    def __iter__(self):
        yield from self._records
        raise OSError(5, "Input/output error")


def test_a_read_error_in_a_worker_ends_the_log_with_the_error_line_of_one_job() -> None:
    """The worker sends the records read before the error, then the error;
    here the log ends with the OSError a LogReader raises, which gives the
    same error line as without --jobs."""
    records = list(parse(REAL / "07-errors" / "bridge"))[:5]
    messages = list(parallel._batches(_Failing(records), None, None, 2))  # type: ignore[arg-type]
    assert [kind for kind, _ in messages] == ["batch", "batch", "batch", "end"]
    assert sum(len(payload[0]) for kind, payload in messages if kind == "batch") == 5
    assert messages[-1][1].error == "Input/output error"

    class Pool:
        def _stream(self, log):
            return WorkerPool._stream(self, log)  # type: ignore[arg-type]

        def _ask(self, log) -> None:
            pass

    log = RemoteLog(Pool(), 0, next(iter(expand([str(REAL / "07-errors" / "bridge")]))), 0)  # type: ignore[arg-type]
    for kind, payload in messages:
        log._inbox.append((kind, payload[0] if kind == "batch" else payload))
    logs = OrderedLogs([], None, DEFAULT_MAX_RECORD_BYTES)
    assert len(list(logs.read(log))) == 5
    assert logs.io_errors == [f"{REAL / '07-errors' / 'bridge'}: Input/output error"]


def test_facts_cross_to_the_main_process_with_what_the_worker_worked_out() -> None:
    import pickle

    from cnilint.facts import Facts

    record = next(iter(parse(REAL / "03a-chain-1.0.0" / "portmap")))
    facts = Facts(record)
    worked_out = (facts.conditions, facts.version, facts.prev_result_span, len(facts.variables))
    received = pickle.loads(pickle.dumps(facts))
    assert {"conditions", "version", "prev_result_span", "config"} <= set(vars(received))
    assert "variables" not in vars(received)  # a dict of the env: worked out again where needed
    assert received.config is received.record.input.value  # a reference, not a second copy
    assert (received.conditions, received.version, received.prev_result_span, len(received.variables)) == worked_out
