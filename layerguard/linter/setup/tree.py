"""What `layerguard init` looks at: the Python files of a directory tree, its packages, and
whether the code talks to a database.

The adapter half of choosing a preset (layouts.py is the pure half): it walks the tree the
way `check` discovers files (the usual virtualenv, cache and VCS directories skipped) and reads
file heads only as far as needed to tell whether SQLAlchemy or SQLModel is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from layerguard.linter.project.discovery import discover_python_files

_DATABASE_IMPORT = re.compile(rb"^[ \t]*(?:from|import)[ \t]+(?:sqlalchemy|sqlmodel)\b", re.M)
_READ_LIMIT = 256 * 1024  # imports are at the top; a generated 50 MB module is not read whole


@dataclass(frozen=True, slots=True)
class Tree:
    """The Python side of a directory: its `.py` files (relative POSIX paths, sorted), the
    directories holding an `__init__.py`, and whether any file imports SQLAlchemy/SQLModel."""

    files: tuple[str, ...]
    packages: frozenset[str]
    uses_database: bool

    def is_dir(self, path: str) -> bool:
        """Whether some Python file lies below `path` (a relative POSIX directory)."""
        prefix = path.rstrip("/") + "/"
        return any(f.startswith(prefix) for f in self.files)


def scan(root: Path) -> Tree:
    files = tuple(discover_python_files(root, (".",), lambda path: False))
    packages = frozenset(f.rpartition("/")[0] for f in files if f.endswith("/__init__.py"))
    return Tree(files, packages, any(_imports_database(root / f) for f in files))


def _imports_database(path: Path) -> bool:
    if not path.is_file():  # a FIFO named x.py would block the read
        return False
    try:
        with path.open("rb") as stream:
            head = stream.read(_READ_LIMIT)
    except OSError:
        return False
    return _DATABASE_IMPORT.search(head) is not None
