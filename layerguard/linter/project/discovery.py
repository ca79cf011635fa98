"""Which files a run looks at: the Python files under the source roots and the cards."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from layerguard.contracts.config.errors import ConfigError, ConfigProblem
from layerguard.contracts.config.model import ProjectConfig
from layerguard.contracts.layers import LayerMap
from layerguard.contracts.patterns import PATH, compile_pattern

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


def is_python_file_of(path: str, layer_map: LayerMap) -> bool:
    """Whether discovery picks `path` up as a project Python file (it need not exist: the
    base revision of `--changed` asks about files that are gone)."""
    if not path.endswith(".py"):
        return False
    parts = path.split("/")
    if any(part in ALWAYS_SKIPPED_DIRS for part in parts[:-1]):
        return False
    roots = layer_map.source_roots
    if not any(r in (".", "") or path.startswith(r.rstrip("/") + "/") for r in roots):
        return False
    ancestors = ("/".join(parts[:i]) + "/" for i in range(1, len(parts)))
    return not layer_map.is_excluded(path) and not any(map(layer_map.is_excluded, ancestors))


def card_matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Whether a project-relative path is one `cards.paths` reads (it need not exist)."""
    globs = [compile_pattern(glob, PATH, {}) for glob in patterns]
    return lambda path: any(glob.match("/" + path) is not None for glob in globs)


def discover_cards(root: Path, patterns: tuple[str, ...]) -> list[str]:
    """Card files matching the configured globs (relative to the project root), sorted."""
    found: set[str] = set()
    for pattern in patterns:
        for path in root.glob(pattern):
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
    return sorted(found)


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """What a run reads: the contract's layer map, the Python files and the cards."""

    layer_map: LayerMap
    python: list[str]
    cards: list[str]


def discover(config: ProjectConfig) -> ProjectFiles:
    """The project's files; a missing source root or a file two layers claim is a config error."""
    root = config.root
    layer_map = LayerMap(config)
    for source_root in layer_map.source_roots:
        if not (root / source_root).is_dir():
            key = f"source_roots[{config.source_roots.index(source_root)}]"
            message = f"'{source_root}' is not a directory."
            problem = ConfigProblem(config.path or root, config.line_of(key), key, message)
            raise ConfigError([problem])
    paths = discover_python_files(root, layer_map.source_roots, layer_map.is_excluded)
    problems = layer_map.check_files(paths)
    if problems:
        raise ConfigError(problems)
    return ProjectFiles(layer_map, paths, discover_cards(root, config.cards.paths))


def selected_by(paths: Sequence[str]) -> Callable[[str], bool]:
    """Whether a project-relative path is one of `paths` or below one (every path when none
    are given, or when one is the project root): what PATHS arguments select."""
    if not paths or any(wanted in ("", ".") for wanted in paths):
        return lambda path: True
    exact = frozenset(paths)
    prefixes = tuple(wanted.rstrip("/") + "/" for wanted in paths)
    return lambda path: path in exact or path.startswith(prefixes)
