"""The file-system side of `layerguard migrate import-linter`: finding import-linter's
configuration, reading it safely, and finding where its root packages are."""

from __future__ import annotations

import os
from pathlib import Path

from layerguard.contracts.file_access import UnreadableFileError, read_regular_file
from layerguard.linter.errors import UsageError

CANDIDATES = ("setup.cfg", ".importlinter", "pyproject.toml")
"""Where import-linter looks, in its order: an INI file with an `[importlinter]` section
(`setup.cfg`, then `.importlinter`), then `pyproject.toml`."""

MAX_BYTES = 4 * 1024 * 1024
"""A configuration file is small; anything bigger is not one, and is not read whole."""

_SKIPPED = frozenset({"node_modules", "site-packages", "build", "dist", "__pycache__"})


class MigrationInputError(UsageError):
    """The import-linter configuration cannot be used: each problem at its file and line."""

    def __init__(self, path: Path, problems: list[tuple[int, str]]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda problem: problem[0] or 10**9)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"
            for line, message in self.problems
        )


def read_text(path: Path) -> str:
    """The text of a configuration file (raises MigrationInputError saying why not)."""
    try:
        data = read_regular_file(path, MAX_BYTES)
    except UnreadableFileError as error:
        raise MigrationInputError(path, [(0, str(error))]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise MigrationInputError(path, [(line, "not UTF-8 text")]) from None


def package_roots(directory: Path, packages: list[str]) -> dict[str, str]:
    """Package -> the directory holding it, relative to `directory` (`.`, `src`): where a
    source root must be for the package's modules to be the project's. Packages found nowhere
    (within a few levels, hidden and virtualenv directories skipped) are left out."""
    wanted = {package.split(".")[0]: package for package in packages}
    found: dict[str, str] = {}
    for current, directories, _ in os.walk(directory):
        depth = len(Path(current).relative_to(directory).parts)
        directories[:] = sorted(
            d
            for d in directories
            if not d.startswith(".") and d not in _SKIPPED and not _is_virtualenv(Path(current, d))
        )
        for name in directories:
            package = wanted.get(name)
            if (
                package is not None
                and package not in found
                and Path(current, name, "__init__.py").is_file()
            ):
                found[package] = Path(current).relative_to(directory).as_posix()
        if depth >= 3:
            directories[:] = []
    return found


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()
