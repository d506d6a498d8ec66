"""Put the logging wrapper in front of CNI plugins, say which are wrapped, and
put the originals back.

The layout is the one people already use by hand: the plugin's file is kept as
`<name>-original` beside the wrapper at `<name>`. Everything is checked before
anything changes, so a refusal leaves the folder as it was; a failure half-way
(a full disk) undoes what the run did.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnilint.capture.scripts import DEFAULT_FORMAT, LogDirError, WrapperInfo, identify, render

ORIGINAL_SUFFIX = "-original"
TEMP_SUFFIX = ".cnilint-new"
DEFAULT_CNI_BIN = "/opt/cni/bin"
DEFAULT_LOG_DIR = "/tmp/log"


class CaptureError(Exception):
    """A refusal or failure the user can act on; the message is one line."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One file operation, as a dry run prints it."""

    action: str  # "write", "chown", "chmod", "link", "rename"
    path: Path
    target: Path | None = None  # link and rename: the new name
    mode: int | None = None  # chmod
    owner: tuple[int, int] | None = None  # chown: uid, gid
    content: bytes = b""  # write
    note: str = ""

    def describe(self) -> str:
        if self.action == "write":
            text = f"write {self.path} ({len(self.content)} bytes"
            return text + (f", {self.note})" if self.note else ")")
        if self.action == "chown":
            assert self.owner is not None
            return f"chown {self.owner[0]}:{self.owner[1]} {self.path}"
        if self.action == "chmod":
            assert self.mode is not None
            return f"chmod {self.mode:04o} {self.path}"
        text = f"{self.action} {self.path} -> {self.target}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True, slots=True)
class PluginChange:
    """What a run does to one plugin."""

    name: str
    operations: tuple[Operation, ...]
    done: str  # one line for people, once it is done


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[PluginChange, ...]
    unchanged: tuple[str, ...] = ()  # one line per plugin left alone, and why


# -- checks ------------------------------------------------------------------


def _folder(cni_bin: str | os.PathLike[str], *, writable: bool) -> Path:
    folder = Path(cni_bin)
    try:
        info = folder.stat()
    except OSError as exc:
        raise CaptureError(f"--cni-bin {folder}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise CaptureError(f"--cni-bin {folder}: not a directory")
    if writable and not os.access(folder, os.W_OK | os.X_OK):
        raise CaptureError(f"--cni-bin {folder}: cannot create files there (permission denied; run as root?)")
    return folder


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None


def _valid_name(name: str) -> str | None:
    """Why `name` cannot be a plugin name, or None."""
    if "/" in name:
        return "give plugin names, not paths (the folder is --cni-bin)"
    if not name or name.startswith(".") or "\0" in name or "\n" in name:
        return "not a plugin name"
    if name.endswith(ORIGINAL_SUFFIX):
        return f"names ending in {ORIGINAL_SUFFIX} are the originals of wrapped plugins"
    return None


def _is_executable_file(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and bool(info.st_mode & 0o111)


def wrapper_at(path: Path) -> WrapperInfo | None:
    """The wrapper at `path` (a regular file), or None."""
    info = _lstat(path)
    if info is None or not stat.S_ISREG(info.st_mode):
        return None
    return identify(path)


def _can_own(uid: int, gid: int) -> bool:
    """Can this process give a file it creates this owner?"""
    if os.geteuid() == 0:
        return True
    return uid == os.geteuid() and (gid == os.getegid() or gid in os.getgroups())


def _owner_name(uid: int, gid: int) -> str:
    try:
        import grp
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}:{grp.getgrgid(gid).gr_name}"
    except (KeyError, ImportError):
        return f"{uid}:{gid}"


# -- install -----------------------------------------------------------------


def _candidates(folder: Path) -> list[str]:
    """`--all`: every executable regular file that is not a wrapper, an
    `-original` or hidden."""
    names = []
    for entry in sorted(os.scandir(folder), key=lambda entry: entry.name):
        if _valid_name(entry.name) is not None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if _is_executable_file(info) and identify(Path(entry.path)) is None:
            names.append(entry.name)
    return names


def _install_refusal(folder: Path, name: str) -> str | None:
    """Why `name` cannot be wrapped, or None."""
    invalid = _valid_name(name)
    if invalid:
        return f"{name}: {invalid}"
    path = folder / name
    original = folder / f"{name}{ORIGINAL_SUFFIX}"
    info = _lstat(path)
    if info is None:
        if _lstat(original) is not None:
            return f"{path} is missing but {original.name} exists: put it back with `cnilint capture uninstall {name}`"
        return f"{path}: no such plugin"
    if stat.S_ISLNK(info.st_mode):
        return f"{path} is a symbolic link (to {os.readlink(path)}): wrap the file it points to instead"
    if not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file"
    if not info.st_mode & 0o111:
        return f"{path} is not executable"
    wrapper = identify(path)
    if wrapper is not None:
        where = f", logs to {wrapper.log_dir}" if wrapper.log_dir else ""
        return f"{path} is already wrapped ({wrapper.label} wrapper{where})"
    if _lstat(original) is not None:
        return f"{original} already exists: will not overwrite it"
    if not _can_own(info.st_uid, info.st_gid):
        return f"{path}: cannot give the wrapper its owner {_owner_name(info.st_uid, info.st_gid)} (run as root)"
    return None


def _log_dir(log_dir: str | os.PathLike[str], folder: Path) -> str:
    path = os.path.abspath(log_dir)  # the wrapper runs in the runtime's working directory
    if os.path.lexists(path) and not os.path.isdir(path):
        raise CaptureError(f"--log-dir {path}: exists and is not a directory")
    if os.path.realpath(path) == os.path.realpath(folder):
        raise CaptureError(f"--log-dir {path}: is the plugin folder (each log would overwrite its wrapper)")
    return path


def plan_install(
    cni_bin: str | os.PathLike[str],
    log_dir: str | os.PathLike[str],
    plugins: Sequence[str] | None,
    fmt: str = DEFAULT_FORMAT,
) -> Plan:
    """The operations that wrap `plugins` (None: every plugin not yet
    wrapped). Raises CaptureError listing every refusal, one per line."""
    folder = _folder(cni_bin, writable=True)
    log_path = _log_dir(log_dir, folder)
    try:
        script = render(fmt, log_path)
    except LogDirError as exc:
        raise CaptureError(str(exc)) from None
    if plugins is None:
        names = _candidates(folder)
        if not names:
            wrapped = [name for name in sorted(os.listdir(folder)) if wrapper_at(folder / name)]
            if wrapped:
                return Plan((), (f"nothing to wrap in {folder}: its {len(wrapped)} plugins are already wrapped",))
            raise CaptureError(f"--cni-bin {folder}: no executable plugin found there")
    else:
        names = list(dict.fromkeys(plugins))  # a name given twice is wrapped once
    refusals = [refusal for name in names if (refusal := _install_refusal(folder, name))]
    if refusals:
        raise CaptureError("\n".join(refusals))
    changes = []
    for name in names:
        path = folder / name
        info = path.lstat()
        temp = folder / f".{name}{TEMP_SUFFIX}"
        original = folder / f"{name}{ORIGINAL_SUFFIX}"
        log = os.path.join(log_path, name)
        operations = (
            Operation("write", temp, content=script, note=f"{fmt} wrapper, logs to {log}"),
            # chown before chmod: chown clears set-user-ID bits
            Operation("chown", temp, owner=(info.st_uid, info.st_gid)),
            Operation("chmod", temp, mode=stat.S_IMODE(info.st_mode)),
            Operation("link", path, target=original, note="the plugin's file under a second name"),
            Operation(
                "rename", temp, target=path, note=f"the wrapper takes its place; the plugin stays {original.name}"
            ),
        )
        done = f"{name}: wrapped ({fmt} wrapper, logs to {log}), the plugin is now {original.name}"
        changes.append(PluginChange(name, operations, done))
    return Plan(tuple(changes))


# -- uninstall ---------------------------------------------------------------


def _wrapped_names(folder: Path) -> list[str]:
    """Every plugin with a wrapper or an `-original` in `folder`."""
    names = set()
    for entry in os.listdir(folder):
        if entry.startswith("."):
            continue
        if entry.endswith(ORIGINAL_SUFFIX) and len(entry) > len(ORIGINAL_SUFFIX):
            names.add(entry[: -len(ORIGINAL_SUFFIX)])  # beside a file that is not a wrapper: refused
        elif wrapper_at(folder / entry):
            names.add(entry)
    return sorted(names)


def plan_uninstall(cni_bin: str | os.PathLike[str], plugins: Sequence[str] | None) -> Plan:
    """The operations that put back the originals of `plugins` (None: every
    wrapped plugin). Plugins already unwrapped are left alone."""
    folder = _folder(cni_bin, writable=True)
    names = _wrapped_names(folder) if plugins is None else list(dict.fromkeys(plugins))
    refusals: list[str] = []
    changes: list[PluginChange] = []
    unchanged: list[str] = []
    for name in names:
        invalid = _valid_name(name)
        if invalid:
            refusals.append(f"{name}: {invalid}")
            continue
        path = folder / name
        original = folder / f"{name}{ORIGINAL_SUFFIX}"
        present = _lstat(path) is not None
        wrapper = wrapper_at(path)
        has_original = _lstat(original) is not None
        if has_original and (wrapper is not None or not present):
            what = f"replaces the {wrapper.label} wrapper" if wrapper else f"{name} was missing"
            operation = Operation("rename", original, target=path, note=what)
            changes.append(PluginChange(name, (operation,), f"{name}: original restored"))
        elif has_original:
            refusals.append(f"{path} is not a cnilint or classic wrapper: will not replace it with {original.name}")
        elif wrapper is not None:
            refusals.append(f"{path} is a wrapper but {original.name} is missing: nothing to put back")
        elif present:
            unchanged.append(f"{name}: not wrapped, nothing to do")
        else:
            refusals.append(f"{path}: no such plugin")
    if refusals:
        raise CaptureError("\n".join(refusals))
    if not names:
        unchanged.append(f"nothing to do: no wrapped plugin in {folder}")
    return Plan(tuple(changes), tuple(unchanged))


# -- applying a plan ---------------------------------------------------------


def _write(path: Path, content: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o600)
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)  # never a wrapper of zero bytes at the plugin's place after a crash
    finally:
        os.close(fd)


def _link(source: Path, target: Path) -> Callable[[], None]:
    """Give `source`'s file a second name; where links are not allowed,
    rename it (the plugin's name is then missing until the wrapper is in)."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP, errno.ENOTSUP):
            raise
        if _lstat(target) is not None:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.rename(source, target)
        return lambda: os.rename(target, source)
    return lambda: target.unlink(missing_ok=True)


def _perform(operation: Operation) -> Callable[[], None]:
    """Do one operation; return what undoes it."""
    path = operation.path
    if operation.action == "write":
        _write(path, operation.content)
        return lambda: path.unlink(missing_ok=True)
    if operation.action == "chown":
        assert operation.owner is not None
        os.chown(path, *operation.owner, follow_symlinks=False)
        return lambda: None
    if operation.action == "chmod":
        assert operation.mode is not None
        os.chmod(path, operation.mode)
        return lambda: None
    assert operation.target is not None
    target = operation.target
    if operation.action == "link":
        return _link(path, target)
    if operation.action == "rename":
        displaced = target.with_name(f"{target.name}{ORIGINAL_SUFFIX}")
        os.rename(path, target)
        # undoing the wrapper's rename puts the original (kept at -original) back
        return lambda: os.rename(displaced, target) if _lstat(displaced) else None
    raise ValueError(f"unknown operation {operation.action!r}")


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)  # one line per plugin changed, or left alone
    changed: int = 0  # plugins changed
    error: str | None = None


def apply(plan: Plan, *, undo_on_failure: bool = True) -> Outcome:
    """Run the plan's operations in order. On a failure, undo everything the
    run did when `undo_on_failure` (install), else stop there (uninstall: what
    is restored stays restored)."""
    outcome = Outcome()
    undo: list[Callable[[], None]] = []
    for change in plan.changes:
        for operation in change.operations:
            try:
                undo.append(_perform(operation))
            except OSError as exc:
                reason = exc.strerror or str(exc)
                where = exc.filename or operation.path
                if undo_on_failure:
                    for step in reversed(undo):
                        with contextlib.suppress(OSError):  # best effort; the error names the failing file
                            step()
                    outcome.done.clear()
                    outcome.changed = 0
                    outcome.error = f"{operation.action} {where}: {reason}; nothing was changed"
                else:
                    outcome.error = f"{operation.action} {where}: {reason}"
                return outcome
        if not undo_on_failure:
            undo.clear()
        outcome.done.append(change.done)
        outcome.changed += 1
    return outcome


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def install(
    cni_bin: str | os.PathLike[str],
    log_dir: str | os.PathLike[str],
    plugins: Sequence[str] | None,
    fmt: str = DEFAULT_FORMAT,
) -> Outcome:
    plan = plan_install(cni_bin, log_dir, plugins, fmt)
    outcome = apply(plan, undo_on_failure=True)
    outcome.done.extend(plan.unchanged)
    _fsync_dir(Path(cni_bin))
    return outcome


def uninstall(cni_bin: str | os.PathLike[str], plugins: Sequence[str] | None) -> Outcome:
    plan = plan_uninstall(cni_bin, plugins)
    outcome = apply(plan, undo_on_failure=False)
    outcome.done.extend(plan.unchanged)
    _fsync_dir(Path(cni_bin))
    return outcome


# -- status ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PluginStatus:
    name: str
    wrapper: WrapperInfo | None
    original: bool  # `<name>-original` exists
    log: str | None  # the log file the wrapper appends to
    log_bytes: int | None  # its size, None when it does not exist (yet)
    problem: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "wrapped": self.wrapper is not None,
            "format": self.wrapper.format if self.wrapper else None,
            "by_hand": self.wrapper.by_hand if self.wrapper else None,
            "log_dir": self.wrapper.log_dir if self.wrapper else None,
            "log": self.log,
            "log_bytes": self.log_bytes,
            "original": self.original,
            "problem": self.problem,
        }


def _size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def status(cni_bin: str | os.PathLike[str]) -> list[PluginStatus]:
    """Every plugin of the folder (executables, wrappers, lone originals), by name."""
    folder = _folder(cni_bin, writable=False)
    bases = set()
    for entry in os.listdir(folder):
        if entry.startswith("."):
            continue
        is_original = entry.endswith(ORIGINAL_SUFFIX) and len(entry) > len(ORIGINAL_SUFFIX)
        bases.add(entry[: -len(ORIGINAL_SUFFIX)] if is_original else entry)
    result = []
    for name in sorted(bases):
        path = folder / name
        original = f"{name}{ORIGINAL_SUFFIX}"
        info = _lstat(path)
        has_original = _lstat(folder / original) is not None
        wrapper = wrapper_at(path)
        log = problem = None
        if wrapper is not None:
            log = os.path.join(wrapper.log_dir, name) if wrapper.log_dir else None
            if not has_original:
                problem = f"{original} is missing: every call of {name} fails"
        elif has_original and info is None:
            problem = f"{name} is missing: `cnilint capture uninstall {name}` puts {original} back"
        elif has_original:
            problem = f"{original} exists beside {name}, which is not a wrapper"
        elif info is None or not (_is_executable_file(info) or stat.S_ISLNK(info.st_mode)):
            continue  # not a plugin: a README, a folder
        result.append(PluginStatus(name, wrapper, has_original, log, _size(log) if log else None, problem))
    return result
