"""The wrapper scripts: render them for a log directory, and recognise them
(ours by their marker line, the wrapper article's by its content)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

FORMATS = ("cnilint", "classic")
DEFAULT_FORMAT = "cnilint"

# Line 2 of both our scripts: how `status` and `uninstall` know a file is ours.
MARKER = re.compile(rb"^# cnilint-capture-wrapper format=(cnilint|classic)\b", re.MULTILINE)

# The line holding the log directory in each template (the only line rendering changes).
_LOG_DIR_LINE = {
    "cnilint": re.compile(r"^__cnilint_log_dir=(.*)$", re.MULTILINE),
    "classic": re.compile(r"^LOG_DIR=(.*)$", re.MULTILINE),
}
_LOG_DIR_PREFIX = {"cnilint": "__cnilint_log_dir=", "classic": "LOG_DIR="}

# The classic script uses $LOG_DIR unquoted: only characters that survive word
# splitting, globbing and tilde expansion can be baked into it.
_CLASSIC_SAFE_DIR = re.compile(r"[A-Za-z0-9._/+:@%,=-]+")

# The article's script as people install it by hand (maybe re-indented): the
# lines only that script has together.
_ARTICLE_SIGNS = (
    re.compile(rb"SCRIPT=\$\(readlink -f \"?\$0\"?\)"),
    re.compile(rb"\$\{SCRIPT\}-original \"\$@\""),
    re.compile(rb"echo \"CNI params:\" >> \"?\$\{?LOG\}?\"?"),
)
_ARTICLE_LOG_DIR = re.compile(rb"^\s*LOG_DIR=(\S+)\s*$", re.MULTILINE)

# Enough to hold any of the scripts; plugin binaries are not read further.
_HEAD_BYTES = 64 * 1024


class LogDirError(ValueError):
    """A log directory the chosen wrapper cannot use; the message is one line."""


def template(fmt: str) -> str:
    """The shipped script of format `fmt`, logging to /tmp/log."""
    return resources.files("cnilint.capture").joinpath("wrappers", f"{fmt}.sh").read_text(encoding="utf-8")


def render(fmt: str, log_dir: str) -> bytes:
    """The script of format `fmt` with `log_dir` baked in (an absolute path)."""
    if "\n" in log_dir or "\0" in log_dir:
        raise LogDirError(f"--log-dir {log_dir!r}: a newline cannot be part of the log directory")
    if fmt == "classic":
        if not _CLASSIC_SAFE_DIR.fullmatch(log_dir):
            raise LogDirError(
                f"--log-dir {log_dir!r}: the classic script uses it unquoted, so it may only hold letters, digits "
                "and ._/+:@%,=- (use --format cnilint, or another directory)"
            )
        value = log_dir
    else:
        value = shlex.quote(log_dir)
    text = template(fmt)
    line = _LOG_DIR_LINE[fmt]
    assert len(line.findall(text)) == 1, f"{fmt}.sh must set its log directory on exactly one line"
    return line.sub(lambda _: _LOG_DIR_PREFIX[fmt] + value, text).encode()


@dataclass(frozen=True, slots=True)
class WrapperInfo:
    """What a wrapper script at a plugin's place says about itself."""

    format: str  # "cnilint" or "classic"
    by_hand: bool  # the article's script installed by hand (no marker)
    log_dir: str | None  # None when the script's value cannot be read

    @property
    def label(self) -> str:
        return f"{self.format} (by hand)" if self.by_hand else self.format


def _shell_word(raw: str) -> str | None:
    try:
        words = shlex.split(raw, comments=True)
    except ValueError:
        return None
    return words[0] if len(words) == 1 else None


def identify(path: Path) -> WrapperInfo | None:
    """The wrapper at `path`, or None when it is anything else (a plugin
    binary, another script, unreadable)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(_HEAD_BYTES)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    marker = MARKER.search(head)
    if marker:
        fmt = marker.group(1).decode()
        found = _LOG_DIR_LINE[fmt].search(head.decode("utf-8", "replace"))
        return WrapperInfo(fmt, by_hand=False, log_dir=_shell_word(found.group(1)) if found else None)
    if all(sign.search(head) for sign in _ARTICLE_SIGNS):
        found = _ARTICLE_LOG_DIR.search(head)
        log_dir = _shell_word(found.group(1).decode("utf-8", "replace")) if found else None
        return WrapperInfo("classic", by_hand=True, log_dir=log_dir)
    return None
