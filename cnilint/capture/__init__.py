"""Capturing CNI calls: install the logging wrapper in front of plugins
(`<name>` becomes `<name>-original`), report which are wrapped, and put the
originals back. The wrapper scripts live in `wrappers/` (`cnilint.sh`, the
default, and `classic.sh`, the wrapper article's script)."""

from __future__ import annotations

from cnilint.capture.install import (
    DEFAULT_CNI_BIN,
    DEFAULT_LOG_DIR,
    ORIGINAL_SUFFIX,
    CaptureError,
    Outcome,
    Plan,
    PluginStatus,
    install,
    plan_install,
    plan_uninstall,
    status,
    uninstall,
)
from cnilint.capture.scripts import FORMATS, WrapperInfo, identify, render

__all__ = [
    "DEFAULT_CNI_BIN",
    "DEFAULT_LOG_DIR",
    "FORMATS",
    "ORIGINAL_SUFFIX",
    "CaptureError",
    "Outcome",
    "Plan",
    "PluginStatus",
    "WrapperInfo",
    "identify",
    "install",
    "plan_install",
    "plan_uninstall",
    "render",
    "status",
    "uninstall",
]
