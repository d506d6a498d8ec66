"""Data files shipped with the package: grammars/ and schemas/.

In a wheel they live inside the package (pyproject force-includes them as
cnilint/grammars and cnilint/schemas); in a checkout or an editable install
they are read from the repository's top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder `name` (e.g. "grammars"), wherever this install keeps it."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cnilint data folder {name!r} is missing from this installation")


def read_text(folder: str, filename: str) -> str:
    return (data_dir(folder) / filename).read_text(encoding="utf-8")
