"""`cnilint capture`: the wrapper scripts, called as a runtime calls a plugin,
and install / status / uninstall on a temporary plugin folder.

The stand-in plugins are small bash scripts in fixtures/capture/plugins/."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES

import cnilint
from cnilint.capture import scripts
from cnilint.capture.install import plan_install
from cnilint.cli import main

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the wrappers are bash scripts")

PLUGINS = FIXTURES / "capture" / "plugins"
SEPARATOR = "=" * 65
FAKE_DATE = "Fri Nov 27 08:13:37 PM UTC 2026"
CONFIG = b'{"cniVersion":"1.0.0","name":"crio","type":"bridge","bridge":"cni0","ipam":{"type":"host-local"}}'

# The wrapper article's script (../shared/seed/wrapper-article.txt), as printed there.
ARTICLE_SCRIPT = """\
#!/bin/bash
SCRIPT=$(readlink -f $0)
LOG_DIR=/tmp/log
if ! [ -d $LOG_DIR ];then
mkdir -p $LOG_DIR
fi
LOG=${LOG_DIR}/$(basename $0)
date >> $LOG
echo "=================================================================" >> $LOG
echo "CNI params:" >> $LOG
env | grep CNI >> $LOG
echo "env:" >> $LOG
env >> $LOG
if [ ! -t 0 ]; then
{
echo "INPUT:" >> $LOG
output=$(tee -a $LOG | ${SCRIPT}-original "$@" | tee /dev/fd/3)
echo "" >> $LOG
echo "OUTPUT:" >> $LOG
echo "$output" >> $LOG
} 3>&1
else
echo "OUTPUT:" >> $LOG
${SCRIPT}-original "$@" | tee -a $LOG
fi
echo "Returned at: $(date)" >> $LOG
echo "=================================================================" >> $LOG
echo "" >> $LOG
echo "" >> $LOG
"""


# -- helpers -----------------------------------------------------------------


@pytest.fixture
def cni_bin(tmp_path: Path) -> Path:
    """A plugin folder holding the stand-in plugins."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for plugin in sorted(PLUGINS.iterdir()):
        shutil.copyfile(plugin, folder / plugin.name)
        (folder / plugin.name).chmod(0o755)
    return folder


@pytest.fixture
def fake_date(tmp_path: Path) -> Path:
    """A folder whose `date` prints FAKE_DATE (with arguments, the real one runs)."""
    folder = tmp_path / "fakebin"
    folder.mkdir()
    real = shutil.which("date")
    script = folder / "date"
    script.write_text(f'#!/bin/bash\nif [ $# -eq 0 ]; then echo "{FAKE_DATE}"; else exec {real} "$@"; fi\n')
    script.chmod(0o755)
    return folder


def runtime_env(cni_bin: Path, *, container: str = "c0ffee01", path_first: Path | None = None, **extra: str) -> dict:
    """The environment a runtime gives a plugin (libcni: its own, plus CNI_*)."""
    search = os.environ.get("PATH", "/usr/bin:/bin")
    env = {
        "PATH": f"{path_first}:{search}" if path_first else search,
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": container,
        "CNI_NETNS": f"/var/run/netns/{container}",
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0",
        "CNI_PATH": str(cni_bin),
    }
    env.update(extra)
    return env


def call(plugin: Path, env: dict, stdin: bytes | None = CONFIG, **kwargs) -> subprocess.CompletedProcess:
    """Run a plugin as a runtime does: environment, stdin, stdout and stderr captured."""
    return subprocess.run([str(plugin)], input=stdin, env=env, capture_output=True, timeout=60, check=False, **kwargs)


def wrap(cni_bin: Path, log_dir: Path, *plugins: str, fmt: str = "cnilint") -> None:
    argv = ["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(log_dir), "--format", fmt, *plugins]
    assert main(argv) == 0


def listing(folder: Path) -> dict[str, tuple]:
    """Every entry: its bytes, mode, inode, owner and mtime."""
    result = {}
    for entry in sorted(folder.iterdir()):
        info = entry.lstat()
        content = entry.read_bytes() if stat.S_ISREG(info.st_mode) else None
        result[entry.name] = (content, info.st_mode, info.st_ino, info.st_uid, info.st_gid, info.st_mtime_ns)
    return result


def records(log: Path) -> list[cnilint.Record]:
    reader = cnilint.parse(log)
    found = list(reader)
    assert reader.problems == []
    return found


RECORD = re.compile(
    r"(?P<started>[^\n]*)\n"
    rf"{SEPARATOR}\n"
    r"CNI params:\n(?P<params>(?:[^\n]*\n)*?)"
    r"env:\n(?P<env>(?:[^\n]*\n)*?)"
    r"(?:INPUT:\n(?P<input>.*?)\n)?"
    r"OUTPUT:\n(?P<output>.*?)\n"
    r"STDERR:\n(?P<stderr>.*?)\n"
    r"Exit code: (?P<exit>-?\d+)\n"
    r"Invocation: (?P<invocation>[^\n]+)\n"
    r"Monotonic: (?P<mono>\d+\.\d\d \d+\.\d\d|- -)\n"
    r"Wall clock: (?P<wall>\d+\.\d{6} \d+\.\d{6})\n"
    r"Returned at: (?P<returned>[^\n]*)\n"
    rf"{SEPARATOR}\n\n\n",
    re.DOTALL,
)


def split_records(text: str) -> list[re.Match[str]]:
    """The cnilint wrapper's records, each matched whole and in its blocks' order."""
    matches = []
    position = 0
    while position < len(text):
        match = RECORD.match(text, position)
        assert match, f"no well-formed record at offset {position}: {text[position : position + 300]!r}"
        matches.append(match)
        position = match.end()
    return matches


# -- the cnilint wrapper, called as a runtime calls a plugin -----------------


@pytest.mark.parametrize("plugin", ["result", "error", "crash", "binary"])
def test_cnilint_wrapper_passes_stdout_stderr_and_exit_code_through_unchanged(
    cni_bin: Path, tmp_path: Path, plugin: str
) -> None:
    env = runtime_env(cni_bin)
    direct = call(cni_bin / plugin, env)
    wrap(cni_bin, tmp_path / "log", plugin)
    wrapped = call(cni_bin / plugin, env)
    assert (wrapped.stdout, wrapped.stderr) == (direct.stdout, direct.stderr)
    # Killed by a signal (subprocess says -N), the wrapper exits 128+N, as bash reports it.
    assert direct.returncode == {"result": 0, "error": 1, "crash": -6, "binary": 0}[plugin]
    assert wrapped.returncode == (128 - direct.returncode if direct.returncode < 0 else direct.returncode)


def test_cnilint_wrapper_exits_128_plus_the_signal_that_killed_the_plugin(cni_bin: Path, tmp_path: Path) -> None:
    wrap(cni_bin, tmp_path / "log", "crash")
    wrapped = call(cni_bin / "crash", runtime_env(cni_bin))
    assert wrapped.returncode == 128 + 6  # SIGABRT, as bash reports it
    assert wrapped.stderr.startswith(b"panic: runtime error")
    assert b"Aborted" not in wrapped.stderr  # bash's own job report stays out of the plugin's stderr


def test_cnilint_wrapper_keeps_arguments_environment_and_stdin(cni_bin: Path, tmp_path: Path) -> None:
    # Variables named like the classic script's own must reach the plugin untouched.
    env = runtime_env(cni_bin, LOG_DIR="/elsewhere", LOG="x", SCRIPT="y", output="z", tmp="t", TMPDIR=str(tmp_path))
    argv = ["one", "two words", "", "*"]

    def seen(plugin: Path) -> tuple[list[bytes], dict[bytes, bytes], bytes]:
        done = subprocess.run(
            [str(plugin), *argv], input=b"stdin\x00bytes\n", env=env, capture_output=True, check=True, timeout=60
        )
        assert done.stdout.startswith(b"ARGS\0")
        args, rest = done.stdout[len(b"ARGS\0") :].split(b"ENV\0", 1)
        environment, stdin = rest.split(b"STDIN\0", 1)
        variables = dict(item.split(b"=", 1) for item in environment.split(b"\0") if item)
        variables.pop(b"SHLVL")  # one more bash in between, as under the classic wrapper
        return args.split(b"\0")[:-1], variables, stdin

    direct = seen(cni_bin / "args-env")
    wrap(cni_bin, tmp_path / "log", "args-env")
    assert seen(cni_bin / "args-env") == direct
    assert direct[0] == [arg.encode() for arg in argv]


def test_cnilint_record_format_is_exact(cni_bin: Path, tmp_path: Path, fake_date: Path) -> None:
    log_dir = tmp_path / "log"
    wrap(cni_bin, log_dir, "error")
    env = runtime_env(cni_bin, path_first=fake_date)
    assert call(cni_bin / "error", env).returncode == 1
    text = (log_dir / "error").read_bytes().decode()
    [match] = split_records(text)
    env_block = match["env"]
    for name, value in env.items():
        assert f"{name}={value}\n" in env_block
    params = "".join(line + "\n" for line in env_block.splitlines() if "CNI" in line)
    expected_stdout = (
        '{\n    "cniVersion": "1.0.0",\n    "code": 999,\n    "msg": "failed to set up bridge \\"cni0\\"",\n'
        '    "details": "operation not permitted"\n}\n'
    )
    expected = (
        f"{FAKE_DATE}\n{SEPARATOR}\nCNI params:\n{params}env:\n{env_block}"
        f"INPUT:\n{CONFIG.decode()}\n"
        f"OUTPUT:\n{expected_stdout}\n"
        'STDERR:\nfailed to set up bridge "cni0": operation not permitted\n\n'
        f"Exit code: 1\nInvocation: {match['invocation']}\nMonotonic: {match['mono']}\n"
        f"Wall clock: {match['wall']}\nReturned at: {FAKE_DATE}\n{SEPARATOR}\n\n\n"
    )
    assert text == expected
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", match["invocation"])
    start, end = (float(value) for value in match["wall"].split())
    assert 0 <= end - start < 60
    if match["mono"] != "- -":
        mono_start, mono_end = (float(value) for value in match["mono"].split())
        assert 0 <= mono_end - mono_start < 60


def test_cnilint_record_keeps_binary_stdout_without_newline_and_empty_blocks(cni_bin: Path, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    wrap(cni_bin, log_dir, "binary", "crash")
    call(cni_bin / "binary", runtime_env(cni_bin), stdin=b"")
    call(cni_bin / "crash", runtime_env(cni_bin))
    binary = (log_dir / "binary").read_bytes()
    # Empty stdin: INPUT: then the one added newline; stdout bytes then one newline.
    assert (
        b'\nINPUT:\n\nOUTPUT:\n\x00\xff\xfe{"cniVersion": "1.0.0", "ips": [tru\nSTDERR:\nwarning\n\n\n\nExit code: 0\n'
        in binary
    )
    # Empty stdout: OUTPUT: then the added newline; stderr without a final newline gets one.
    crash = (log_dir / "crash").read_bytes()
    panic = b"panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV]"
    assert b"\nOUTPUT:\n\nSTDERR:\n" + panic + b"\nExit code: 134\n" in crash


def test_cnilint_log_parses_into_records_with_exit_code_stderr_duration_and_invocation(
    cni_bin: Path, tmp_path: Path
) -> None:
    log_dir = tmp_path / "log"
    wrap(cni_bin, log_dir, "result", "error", "crash")
    call(cni_bin / "result", runtime_env(cni_bin, container="aaaa0001"))
    call(cni_bin / "result", runtime_env(cni_bin, container="aaaa0002", CNI_COMMAND="DEL"))
    call(cni_bin / "error", runtime_env(cni_bin, container="bbbb0001"))
    call(cni_bin / "crash", runtime_env(cni_bin, container="cccc0001", CNI_COMMAND="CHECK"))

    first, second = records(log_dir / "result")
    assert (first.command, first.container_id, second.command, second.container_id) == (
        "ADD",
        "aaaa0001",
        "DEL",
        "aaaa0002",
    )
    assert first.input.raw == CONFIG.decode()
    assert first.output.value["interfaces"][0]["sandbox"] == "/var/run/netns/aaaa0001"
    assert first.output.raw == call(PLUGINS / "result", runtime_env(cni_bin, container="aaaa0001")).stdout.decode()
    assert (first.exit_code, first.stderr) == (0, "")
    assert isinstance(first.duration_ms, float) and first.duration_ms >= 0
    assert isinstance(first.invocation, str) and first.invocation != second.invocation
    assert first.complete and not first.recovered

    [error] = records(log_dir / "error")
    assert (error.command, error.container_id, error.exit_code) == ("ADD", "bbbb0001", 1)
    assert error.stderr == 'failed to set up bridge "cni0": operation not permitted\n'
    assert error.output.value["code"] == 999

    [crash] = records(log_dir / "crash")
    assert (crash.command, crash.exit_code, crash.output.raw) == ("CHECK", 134, "")
    assert crash.stderr == "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV]"


def test_cnilint_wrapper_with_a_terminal_on_stdin_logs_no_input_block(cni_bin: Path, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    wrap(cni_bin, log_dir, "result")
    master, slave = pty.openpty()
    try:
        os.write(master, b'{"cniVersion": "0.4.0"}\n\x04')  # a line, then ^D: what someone types
        done = subprocess.run(
            [str(cni_bin / "result")], stdin=slave, env=runtime_env(cni_bin), capture_output=True, timeout=60
        )
    finally:
        os.close(slave)
        os.close(master)
    assert done.returncode == 0
    assert json.loads(done.stdout)["cniVersion"] == "0.4.0"
    text = (log_dir / "result").read_text()
    [match] = split_records(text)
    assert match["input"] is None and "INPUT:" not in text
    [record] = records(log_dir / "result")
    assert record.tty and record.input is None and record.exit_code == 0


def test_cnilint_wrapper_with_stdin_closed_runs_the_plugin_with_it_closed(cni_bin: Path, tmp_path: Path) -> None:
    # args-env ends with a plain `cat`, which fails on a closed stdin. (A bash
    # `$(cat)` would hang: its pipe would get fd 0.)
    env = runtime_env(cni_bin)

    def closed_stdin_call() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(cni_bin / "args-env")], env=env, capture_output=True, timeout=60, preexec_fn=lambda: os.close(0)
        )

    direct = closed_stdin_call()
    wrap(cni_bin, tmp_path / "log", "args-env")
    wrapped = closed_stdin_call()
    assert (wrapped.stderr, wrapped.returncode) == (direct.stderr, direct.returncode)
    assert b"Bad file descriptor" in direct.stderr and direct.returncode == 1
    [match] = split_records((tmp_path / "log" / "args-env").read_text())
    assert (match["input"], match["exit"]) == ("", "1")


def test_cnilint_wrapper_runs_the_plugin_when_the_log_cannot_be_written(cni_bin: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    wrap(cni_bin, blocker / "log", "error")  # mkdir fails: a file is in the way
    env = runtime_env(cni_bin)
    wrapped = call(cni_bin / "error", env)
    direct = call(cni_bin / "error-original", env)
    assert (wrapped.stdout, wrapped.stderr, wrapped.returncode) == (direct.stdout, direct.stderr, 1)


def test_cnilint_wrapper_runs_the_plugin_unlogged_without_temp_space_and_leaves_no_temp_files(
    cni_bin: Path, tmp_path: Path
) -> None:
    log_dir = tmp_path / "log"
    wrap(cni_bin, log_dir, "result")
    direct = call(cni_bin / "result-original", runtime_env(cni_bin))
    no_temp = call(cni_bin / "result", runtime_env(cni_bin, TMPDIR=str(tmp_path / "missing")))
    assert (no_temp.stdout, no_temp.returncode) == (direct.stdout, 0)
    assert not log_dir.exists()
    temp = tmp_path / "tmp"
    temp.mkdir()
    for _ in range(2):
        assert call(cni_bin / "result", runtime_env(cni_bin, TMPDIR=str(temp))).stdout == direct.stdout
    assert list(temp.iterdir()) == []
    assert len(split_records((log_dir / "result").read_text())) == 2


def test_cnilint_wrapper_quotes_a_log_dir_with_spaces(cni_bin: Path, tmp_path: Path) -> None:
    log_dir = tmp_path / "my logs $HOME"
    wrap(cni_bin, log_dir, "result")
    call(cni_bin / "result", runtime_env(cni_bin))
    assert len(records(log_dir / "result")) == 1


@pytest.fixture(scope="module")
def concurrent_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """20 calls of one wrapped plugin at once, each sleeping between reading
    stdin and answering, so their records would interleave if they could."""
    tmp_path = tmp_path_factory.mktemp("concurrent")
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copyfile(PLUGINS / "result", folder / "result")
    (folder / "result").chmod(0o755)
    log_dir = tmp_path / "log"
    wrap(folder, log_dir, "result")
    calls = 20
    processes = []
    for index in range(calls):
        env = runtime_env(folder, container=f"pod{index:04d}", STANDIN_SLEEP="0.02")
        processes.append(
            subprocess.Popen(
                [str(folder / "result")],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        )
    for index, process in enumerate(processes):
        assert process.stdin is not None
        process.stdin.write(b'{"cniVersion": "1.0.0", "name": "net-pod%04d"}' % index)
        process.stdin.close()
    for index, process in enumerate(processes):
        assert process.stdout is not None
        stdout = process.stdout.read()
        process.stdout.close()
        assert process.wait(timeout=120) == 0
        assert json.loads(stdout)["interfaces"][0]["sandbox"] == f"/var/run/netns/pod{index:04d}"
    return log_dir / "result", calls


def test_concurrent_calls_append_whole_records_that_never_interleave(concurrent_log: tuple[Path, int]) -> None:
    log, calls = concurrent_log
    matches = split_records(log.read_text())
    assert len(matches) == calls
    containers = set()
    for match in matches:
        container = re.search(r"^CNI_CONTAINERID=(pod\d{4})$", match["params"], re.MULTILINE)[1]
        assert f'"name": "net-{container}"' in match["input"]
        assert f'"sandbox": "/var/run/netns/{container}"' in match["output"]
        containers.add(container)
    assert len(containers) == calls


def test_concurrent_records_parse_without_recovery(concurrent_log: tuple[Path, int]) -> None:
    log, calls = concurrent_log
    found = records(log)
    assert len(found) == calls
    assert not any(record.recovered for record in found)
    assert len({record.invocation for record in found}) == calls
    for record in found:
        assert record.input.value["name"] == f"net-{record.container_id}"
        assert record.exit_code == 0


# -- the classic wrapper -----------------------------------------------------


def test_classic_script_is_the_article_script_with_only_the_log_dir_set() -> None:
    shipped = scripts.template("classic").splitlines(keepends=True)
    assert shipped[1].startswith("# cnilint-capture-wrapper format=classic")
    assert "".join(shipped[:1] + shipped[2:]) == ARTICLE_SCRIPT
    rendered = scripts.render("classic", "/var/log/cni").decode().splitlines(keepends=True)
    assert "".join(rendered[:1] + rendered[2:]) == ARTICLE_SCRIPT.replace("LOG_DIR=/tmp/log", "LOG_DIR=/var/log/cni")


def test_classic_wrapper_writes_byte_for_byte_what_the_article_script_writes(
    cni_bin: Path, tmp_path: Path, fake_date: Path
) -> None:
    # The article's script installed by hand in one folder, `capture install
    # --format classic` in another; the same calls through each.
    by_hand = tmp_path / "by-hand"
    by_hand.mkdir()
    shutil.copy2(cni_bin / "result", by_hand / "result-original")
    (by_hand / "result").write_text(ARTICLE_SCRIPT.replace("LOG_DIR=/tmp/log", f"LOG_DIR={tmp_path}/log-article"))
    (by_hand / "result").chmod(0o755)
    wrap(cni_bin, tmp_path / "log-classic", "result", fmt="classic")
    for folder in (by_hand, cni_bin):
        env = runtime_env(cni_bin, path_first=fake_date)  # same CNI_PATH for both
        first = call(folder / "result", env)
        assert first.returncode == 0 and json.loads(first.stdout)["cniVersion"] == "1.0.0"
        call(folder / "result", runtime_env(cni_bin, path_first=fake_date, CNI_COMMAND="DEL"), stdin=b"{}")
    article = (tmp_path / "log-article" / "result").read_bytes()
    assert article.count(SEPARATOR.encode()) == 4
    assert (tmp_path / "log-classic" / "result").read_bytes() == article
    first, second = records(tmp_path / "log-classic" / "result")
    assert (first.command, second.command, first.input.raw) == ("ADD", "DEL", CONFIG.decode())
    assert first.output.value["cniVersion"] == "1.0.0"


def test_classic_wrapper_refuses_a_log_dir_it_would_split(cni_bin: Path, tmp_path: Path, capsys) -> None:
    argv = ["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path / "a b"), "--format", "classic"]
    assert main([*argv, "result"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "unquoted" in error
    assert not (cni_bin / "result-original").exists()


# -- install -----------------------------------------------------------------


def test_install_keeps_the_plugin_as_original_and_gives_the_wrapper_its_mode_and_owner(
    cni_bin: Path, tmp_path: Path
) -> None:
    (cni_bin / "result").chmod(0o750)
    before = (cni_bin / "result").stat()
    content = (cni_bin / "result").read_bytes()
    wrap(cni_bin, tmp_path / "log", "result")
    original = (cni_bin / "result-original").stat()
    wrapper = (cni_bin / "result").stat()
    assert (original.st_ino, original.st_nlink, (cni_bin / "result-original").read_bytes()) == (
        before.st_ino,
        1,
        content,
    )
    assert stat.S_IMODE(wrapper.st_mode) == 0o750
    assert (wrapper.st_uid, wrapper.st_gid) == (before.st_uid, before.st_gid)
    assert scripts.identify(cni_bin / "result") == scripts.WrapperInfo("cnilint", False, str(tmp_path / "log"))
    assert not [entry.name for entry in cni_bin.iterdir() if entry.name.startswith(".")]  # no temp file left


def test_install_twice_is_refused_and_changes_nothing(cni_bin: Path, tmp_path: Path, capsys) -> None:
    wrap(cni_bin, tmp_path / "log", "result")
    before = listing(cni_bin)
    capsys.readouterr()
    assert main(["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path), "error", "result"]) == 2
    error = capsys.readouterr().err
    assert error == f"cnilint: error: {cni_bin}/result is already wrapped (cnilint wrapper, logs to {tmp_path}/log)\n"
    assert listing(cni_bin) == before  # error, which could be wrapped, was not either


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda folder: (folder / "result-original").write_text("x"), "result-original already exists"),
        (lambda folder: (folder / "result").unlink(), "result: no such plugin"),
        (lambda folder: (folder / "result").chmod(0o644), "result is not executable"),
        (lambda folder: ((folder / "result").unlink(), (folder / "result").mkdir()), "result is not a regular file"),
        (
            lambda folder: ((folder / "result").unlink(), (folder / "result").symlink_to(folder / "error")),
            "result is a symbolic link",
        ),
    ],
    ids=["original-exists", "missing", "not-executable", "directory", "symlink"],
)
def test_install_refuses_and_changes_nothing_for_any_plugin(
    cni_bin: Path, tmp_path: Path, capsys, make, reason
) -> None:
    make(cni_bin)
    before = listing(cni_bin)
    assert main(["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path), "error", "result"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("cnilint: error: ") and reason in error
    assert listing(cni_bin) == before


def test_install_refuses_to_give_the_wrapper_an_owner_it_cannot_give(
    cni_bin: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    owner = (cni_bin / "result").stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)  # not root, not the owner
    assert main(["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path), "result"]) == 2
    assert "(run as root)" in capsys.readouterr().err
    assert not (cni_bin / "result-original").exists()


def test_install_all_wraps_every_executable_but_wrappers_originals_and_other_files(
    cni_bin: Path, tmp_path: Path, capsys
) -> None:
    (cni_bin / "README").write_text("not a plugin\n")
    (cni_bin / ".hidden").write_text("#!/bin/sh\n")
    (cni_bin / ".hidden").chmod(0o755)
    wrap(cni_bin, tmp_path / "log", "result", fmt="classic")
    argv = ["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path / "log"), "--all"]
    assert main(argv) == 0
    wrapped = {entry.name for entry in cni_bin.iterdir() if scripts.identify(entry)}
    assert wrapped == {"args-env", "binary", "crash", "error", "result"}
    assert scripts.identify(cni_bin / "result").format == "classic"  # left as it was
    assert not (cni_bin / "result-original-original").exists()
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().out == f"nothing to wrap in {cni_bin}: its 5 plugins are already wrapped\n"


def test_install_dry_run_prints_every_operation_and_changes_nothing(cni_bin: Path, tmp_path: Path, capsys) -> None:
    before = listing(cni_bin)
    argv = ["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path / "log"), "--dry-run"]
    assert main([*argv, "result", "error"]) == 0
    out = capsys.readouterr().out
    assert listing(cni_bin) == before
    assert not (tmp_path / "log").exists()
    for name in ("result", "error"):
        temp = cni_bin / f".{name}.cnilint-new"
        assert f"  write {temp} (" in out
        assert f"  chown {before[name][3]}:{before[name][4]} {temp}\n" in out
        assert f"  chmod 0755 {temp}\n" in out
        assert f"  link {cni_bin / name} -> {cni_bin / name}-original (" in out
        assert f"  rename {temp} -> {cni_bin / name} (" in out
    assert out.endswith("Dry run: 10 operations on 2 plugins; nothing was changed.\n")


def test_install_failing_half_way_undoes_everything(cni_bin: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    before = listing(cni_bin)
    real_rename = os.rename

    def rename(source, target) -> None:
        if Path(source).name == ".result.cnilint-new":
            raise OSError(28, "No space left on device", str(source))
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", rename)
    argv = ["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path), "error", "result"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert (
        error == f"cnilint: error: rename {cni_bin}/.result.cnilint-new: No space left on device; nothing was changed\n"
    )
    after = listing(cni_bin)
    assert after.keys() == before.keys()
    for name, (content, mode, inode, *_owner_and_mtime) in before.items():
        assert after[name][:3] == (content, mode, inode)


def test_install_plan_bakes_an_absolute_log_dir(cni_bin: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    [change] = plan_install(cni_bin, "relative/logs", ["result"]).changes
    assert f"__cnilint_log_dir={tmp_path}/relative/logs\n".encode() in change.operations[0].content


# -- uninstall ---------------------------------------------------------------


def test_uninstall_restores_every_byte_mode_owner_inode_and_mtime(cni_bin: Path, tmp_path: Path, capsys) -> None:
    (cni_bin / "crash").chmod(0o711)
    os.utime(cni_bin / "crash", ns=(1_000_000_000, 1_500_000_000_000_000_000))
    before = listing(cni_bin)
    wrap(cni_bin, tmp_path / "log", "crash", "result")
    wrap(cni_bin, tmp_path / "log", "error", fmt="classic")
    assert listing(cni_bin) != before
    capsys.readouterr()
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin)]) == 0
    assert capsys.readouterr().out == "crash: original restored\nerror: original restored\nresult: original restored\n"
    assert listing(cni_bin) == before


def test_uninstall_twice_is_fine_and_says_there_is_nothing_to_do(cni_bin: Path, tmp_path: Path, capsys) -> None:
    wrap(cni_bin, tmp_path / "log", "result")
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin), "result"]) == 0
    before = listing(cni_bin)
    capsys.readouterr()
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin), "result"]) == 0
    assert capsys.readouterr().out == "result: not wrapped, nothing to do\n"
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin)]) == 0
    assert capsys.readouterr().out == f"nothing to do: no wrapped plugin in {cni_bin}\n"
    assert listing(cni_bin) == before


def test_uninstall_refuses_to_replace_a_file_that_is_not_a_wrapper(cni_bin: Path, tmp_path: Path, capsys) -> None:
    wrap(cni_bin, tmp_path / "log", "result", "error")
    shutil.copyfile(PLUGINS / "result", cni_bin / "result")  # someone upgraded the plugin since
    before = listing(cni_bin)
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin)]) == 2
    error = capsys.readouterr().err
    assert error == (
        f"cnilint: error: {cni_bin}/result is not a cnilint or classic wrapper: "
        "will not replace it with result-original\n"
    )
    assert listing(cni_bin) == before  # error was not restored either


def test_uninstall_refuses_a_wrapper_whose_original_is_gone(cni_bin: Path, tmp_path: Path, capsys) -> None:
    wrap(cni_bin, tmp_path / "log", "result")
    (cni_bin / "result-original").unlink()
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin), "result"]) == 2
    assert "result-original is missing: nothing to put back" in capsys.readouterr().err
    assert scripts.identify(cni_bin / "result") is not None


def test_uninstall_puts_back_an_original_whose_plugin_name_is_missing(cni_bin: Path, capsys) -> None:
    (cni_bin / "result").rename(cni_bin / "result-original")  # a hand install stopped half-way
    assert main(["capture", "status", "--cni-bin", str(cni_bin)]) == 1
    assert "problem: result is missing" in capsys.readouterr().out
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin)]) == 0
    assert (cni_bin / "result").read_bytes() == (PLUGINS / "result").read_bytes()


def test_uninstall_dry_run_changes_nothing(cni_bin: Path, tmp_path: Path, capsys) -> None:
    wrap(cni_bin, tmp_path / "log", "result")
    before = listing(cni_bin)
    capsys.readouterr()
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin), "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        f"result:\n  rename {cni_bin}/result-original -> {cni_bin}/result (replaces the cnilint wrapper)\n"
        "Dry run: 1 operation on 1 plugin; nothing was changed.\n"
    )
    assert listing(cni_bin) == before


# -- the article's script installed by hand ----------------------------------


def test_a_hand_installed_article_script_is_recognised_refused_and_uninstalled(
    cni_bin: Path, tmp_path: Path, capsys
) -> None:
    before = listing(cni_bin)
    # The article's install: cp the plugin to <name>-original, cp the script over it.
    shutil.copyfile(cni_bin / "result", cni_bin / "result-original")
    (cni_bin / "result-original").chmod(0o755)
    (cni_bin / "result").write_text(ARTICLE_SCRIPT.replace("LOG_DIR=/tmp/log", "LOG_DIR=/var/log/cni"))
    assert scripts.identify(cni_bin / "result") == scripts.WrapperInfo("classic", True, "/var/log/cni")
    assert main(["capture", "status", "--cni-bin", str(cni_bin)]) == 0
    assert "  result  classic (by hand)  logs to /var/log/cni/result (no log yet)" in capsys.readouterr().out
    assert main(["capture", "install", "--cni-bin", str(cni_bin), "--log-dir", str(tmp_path), "result"]) == 2
    assert "already wrapped (classic (by hand) wrapper" in capsys.readouterr().err
    assert main(["capture", "uninstall", "--cni-bin", str(cni_bin)]) == 0
    after = listing(cni_bin)
    assert {name: entry[:2] for name, entry in after.items()} == {name: entry[:2] for name, entry in before.items()}


# -- status ------------------------------------------------------------------


def test_status_lists_wrapped_plugins_their_format_log_and_problems(cni_bin: Path, tmp_path: Path, capsys) -> None:
    log_dir = tmp_path / "log"
    wrap(cni_bin, log_dir, "result", "crash")
    wrap(cni_bin, log_dir, "error", fmt="classic")
    call(cni_bin / "result", runtime_env(cni_bin))
    (cni_bin / "crash-original").unlink()
    size = (log_dir / "result").stat().st_size
    capsys.readouterr()
    assert main(["capture", "status", "--cni-bin", str(cni_bin)]) == 1  # a problem
    assert capsys.readouterr().out == (
        f"{cni_bin}: 3 of 5 plugins wrapped\n"
        f"  crash   cnilint            logs to {log_dir}/crash (no log yet)\n"
        f"  error   classic            logs to {log_dir}/error (no log yet)\n"
        f"  result  cnilint            logs to {log_dir}/result ({size} bytes)\n"
        "not wrapped: args-env, binary\n"
        "problem: crash-original is missing: every call of crash fails\n"
    )
    assert main(["capture", "status", "--cni-bin", str(cni_bin), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["summary"] == {"plugins": 5, "wrapped": 3, "problems": 1}
    plugins = {plugin["name"]: plugin for plugin in document["plugins"]}
    assert plugins["result"] == {
        "name": "result",
        "wrapped": True,
        "format": "cnilint",
        "by_hand": False,
        "log_dir": str(log_dir),
        "log": f"{log_dir}/result",
        "log_bytes": size,
        "original": True,
        "problem": None,
    }
    assert plugins["binary"]["wrapped"] is False and plugins["crash"]["original"] is False


# -- command line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["install", "--cni-bin", "{tmp}/nope", "result"],
            "cnilint: error: --cni-bin {tmp}/nope: No such file or directory",
        ),
        (["status", "--cni-bin", "{tmp}/nope"], "cnilint: error: --cni-bin {tmp}/nope: No such file or directory"),
        (["uninstall", "--cni-bin", "{tmp}/nope"], "cnilint: error: --cni-bin {tmp}/nope: No such file or directory"),
        (["install", "--cni-bin", "{bin}", "nope"], "cnilint: error: {bin}/nope: no such plugin"),
        (
            ["install", "--cni-bin", "{bin}"],
            "cnilint: error: capture install: name the plugins to wrap, or give --all (not both)",
        ),
        (
            ["install", "--cni-bin", "{bin}", "{bin}/result"],
            "cnilint: error: {bin}/result: give plugin names, not paths",
        ),
        (["install", "--format", "json", "result"], "cnilint: error: argument --format: invalid choice"),
        (
            ["install", "--cni-bin", "{bin}", "--log-dir", "{bin}", "result"],
            "cnilint: error: --log-dir {bin}: is the plugin folder",
        ),
    ],
    ids=[
        "install-no-dir",
        "status-no-dir",
        "uninstall-no-dir",
        "no-plugin",
        "no-names",
        "path",
        "bad-format",
        "log-in-bin",
    ],
)
def test_cli_errors_are_one_line_and_exit_2(cni_bin: Path, tmp_path: Path, capsys, argv, message) -> None:
    values = {"tmp": str(tmp_path), "bin": str(cni_bin)}
    try:
        code = main(["capture", *(arg.format(**values) for arg in argv)])
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    assert code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(message.format(**values))
    assert "Traceback" not in error


def test_capture_without_an_action_prints_its_help_and_exits_2(capsys) -> None:
    assert main(["capture"]) == 2
    assert "{install,status,uninstall}" in capsys.readouterr().out


def test_the_wrapper_scripts_ship_inside_the_package() -> None:
    for fmt in scripts.FORMATS:
        text = scripts.template(fmt)
        assert text.startswith("#!/bin/bash\n# cnilint-capture-wrapper format=" + fmt)
