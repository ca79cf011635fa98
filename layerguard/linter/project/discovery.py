"""Which files a run looks at: the Python files under the source roots and the cards."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

ALWAYS_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        "node_modules",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".layerguard_cache",
        "site-packages",
    }
)


def _walk(root: Path, start: str, excluded: Callable[[str], bool], suffix: str) -> Iterable[str]:
    """Relative posix paths of files ending in `suffix` below `start`, pruning excluded dirs."""
    stack = [start]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(root / rel_dir if rel_dir else root))
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in ALWAYS_SKIPPED_DIRS and not excluded(rel + "/"):
                    stack.append(rel)
            elif entry.name.endswith(suffix) and not excluded(rel):
                yield rel


def discover_python_files(
    root: Path, source_roots: tuple[str, ...], excluded: Callable[[str], bool]
) -> list[str]:
    """Every `.py` file under the source roots (namespace packages included), sorted."""
    found: set[str] = set()
    for source_root in source_roots:
        start = "" if source_root in (".", "") else source_root.strip("/")
        if start and not (root / start).is_dir():
            continue
        found.update(_walk(root, start, excluded, ".py"))
    return sorted(found)


def discover_cards(root: Path, patterns: tuple[str, ...]) -> list[str]:
    """Card files matching the configured globs (relative to the project root), sorted."""
    found: set[str] = set()
    for pattern in patterns:
        for path in root.glob(pattern):
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
    return sorted(found)
