"""Which files a run looks at: the Python files under the source roots and the cards."""

from __future__ import annotations

import errno
import os
import stat
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from layerguard.contracts.config.errors import ConfigError, ConfigProblem
from layerguard.contracts.config.model import ProjectConfig
from layerguard.contracts.escaping import printable
from layerguard.contracts.file_access import DEFAULT_MAX_FILE_BYTES, kind_of, size_text
from layerguard.contracts.layers import LayerMap
from layerguard.contracts.patterns import PATH, compile_pattern
from layerguard.linter.errors import LayerguardWarning

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
_WILDCARDS = frozenset("*?[{")
_FIX_IT = "fix or remove it, or exclude it (`exclude` in layerguard.yaml)"


class NotRead(NamedTuple):
    """A project file that is reported instead of read, and why."""

    reason: str
    size: int = -1  # too large: its size in bytes

    @property
    def too_large(self) -> bool:
        return self.size >= 0


class Skipped(NamedTuple):
    """A directory entry that is not looked into, reported once (a warning): a symbolic link
    out of the project or in a loop, a directory that cannot be listed."""

    path: str  # project-relative; a directory's ends in "/"
    why: str  # what is wrong and what to do

    @classmethod
    def outside(cls, path: str, target: str) -> Skipped:
        return cls(
            path,
            f"not followed: a symbolic link to {printable(target)}, outside the project "
            "(remove the link, or `exclude` it)",
        )

    @classmethod
    def failed(cls, path: str, full: str, error: OSError) -> Skipped:
        """An entry the system refused to look at (a link loop, no permission, a name too
        long): said with the path, the run goes on without what lies below it."""
        verb = "not followed" if os.path.islink(full) else "not read"
        return cls(path, f"{verb}: {_stat_failure(full, error)}; {_FIX_IT}")

    @classmethod
    def unlisted(cls, directory: str, error: OSError) -> Skipped:
        reason = printable(str(error.strerror or error))
        return cls(
            f"{directory}/", f"not read: the directory cannot be listed ({reason}); {_FIX_IT}"
        )


@dataclass(slots=True)
class _Inspection:
    """What discovery learns about the files it finds, without reading any: whether each is
    a regular file inside the project and no larger than the limit."""

    root: Path
    limit: int
    real_root: str = ""
    not_read: dict[str, NotRead] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    _real_dirs: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.real_root = os.path.realpath(self.root)

    def inside(self, real: str) -> bool:
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def dir_inside(self, rel_dir: str) -> bool:
        """Whether a directory (reached through links, perhaps) is inside the project."""
        known = self._real_dirs.get(rel_dir)
        if known is None:
            known = self._real_dirs[rel_dir] = self.inside(os.path.realpath(self.root / rel_dir))
        return known

    def admit(self, rel: str, entry: os.DirEntry[str]) -> bool:
        """Whether `rel` is a project file (what cannot be read of it is in `not_read`); a
        link out of the project is not, and is reported once in `skipped`.

        A regular file costs nothing here (the directory entry says what it is): its size is
        checked only when it is about to be read (`too_large`), which a run answered by the
        results cache never is.
        """
        if not entry.is_symlink():
            if not entry.is_file(follow_symlinks=False):  # a FIFO, a device, a socket
                kind = kind_of(entry.stat(follow_symlinks=False).st_mode)
                self.not_read[rel] = NotRead(f"{kind}, not a regular file")
            return True
        full = entry.path
        try:
            info = os.stat(full)
        except OSError as error:
            self.not_read[rel] = NotRead(_stat_failure(full, error))
            return True
        real = os.path.realpath(full)
        if not self.inside(real):
            self.skipped.append(Skipped.outside(rel, real))
            return False
        if not stat.S_ISREG(info.st_mode):
            self.not_read[rel] = NotRead(f"{kind_of(info.st_mode)}, not a regular file")
        elif info.st_size > self.limit:
            self.not_read[rel] = NotRead(too_large_reason(info.st_size, self.limit), info.st_size)
        return True


def too_large(root: Path, paths: Iterable[str], limit: int) -> dict[str, NotRead]:
    """The files of `paths` larger than `limit` bytes: looked at just before they would be
    read (a file that cannot be looked at is left to the reader, which says why)."""
    found = {}
    prefix = os.path.join(root, "")
    for path in paths:
        try:
            size = os.stat(prefix + path).st_size
        except OSError:
            continue
        if size > limit:
            found[path] = NotRead(too_large_reason(size, limit), size)
    return found


def too_large_reason(size: int, limit: int) -> str:
    return f"too large ({size_text(size)}; `max_file_size_kb` is {limit // 1024:,})"


def _stat_failure(full: str, error: OSError) -> str:
    """Why a file cannot even be looked at, said for the links it usually is."""
    if error.errno == errno.ELOOP:
        return f"a symbolic link loop: {_link_chain(full)}"
    if error.errno == errno.ENOENT and os.path.islink(full):
        return f"a symbolic link to a missing file: {_link_chain(full)}"
    return str(error.strerror or error)


def _link_chain(full: str) -> str:
    """`a.py -> b.py -> a.py`: the links followed from `full` until one repeats or breaks."""
    chain = [os.path.basename(full)]
    seen = {os.path.normpath(full)}
    current = full
    for _ in range(40):  # the kernel gives up after as many
        try:
            target = os.readlink(current)
        except OSError:
            break
        chain.append(target)
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
        if current in seen:
            break
        seen.add(current)
    return printable(" -> ".join(chain))


def _walk(
    inspection: _Inspection,
    start: str,
    excluded: Callable[[str], bool],
    wanted: Callable[[str], bool],
) -> Iterable[str]:
    """Relative posix paths of the files below `start` that `wanted` holds for, pruning
    excluded and always-skipped directories; links to directories are not followed (those
    leading out of the project are reported as skipped)."""
    stack = [start]
    root = inspection.root
    while stack:
        rel_dir = stack.pop()
        directory = os.path.join(root, rel_dir)
        try:
            entries = list(os.scandir(directory))
        except OSError as error:  # no permission, a path too long: what lies below is unknown
            inspection.skipped.append(Skipped.unlisted(rel_dir or ".", error))
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in ALWAYS_SKIPPED_DIRS and not excluded(rel + "/"):
                        stack.append(rel)
                elif wanted(rel) and not excluded(rel):
                    if inspection.admit(rel, entry):
                        yield rel
                elif entry.is_symlink() and not excluded(rel + "/") and not excluded(rel):
                    _other_link(inspection, rel, entry)
            except OSError as error:  # gone since listed, or refused: said, never a traceback
                inspection.skipped.append(Skipped.failed(rel, entry.path, error))


def _other_link(inspection: _Inspection, rel: str, entry: os.DirEntry[str]) -> None:
    """A link that is no wanted file: a link to a directory is never followed (one out of the
    project is reported); a loop is reported; a link to a missing file is nothing."""
    try:
        info = os.stat(entry.path)
    except OSError as error:
        if error.errno != errno.ENOENT:  # a loop, a name too long, no permission
            inspection.skipped.append(Skipped.failed(rel, entry.path, error))
        return
    if stat.S_ISDIR(info.st_mode) and entry.name not in ALWAYS_SKIPPED_DIRS:
        real = os.path.realpath(entry.path)
        if not inspection.inside(real):
            inspection.skipped.append(Skipped.outside(rel + "/", real))


def discover_python_files(
    root: Path,
    source_roots: tuple[str, ...],
    excluded: Callable[[str], bool],
    inspection: _Inspection | None = None,
) -> list[str]:
    """Every `.py` file under the source roots (namespace packages included), sorted; links
    out of the project are left out (`inspection` keeps them, and what is not to be read)."""
    inspection = inspection or _Inspection(root, DEFAULT_MAX_FILE_BYTES)
    found: set[str] = set()
    for source_root in source_roots:
        start = "" if source_root in (".", "") else source_root.strip("/")
        if start and not (inspection.root / start).is_dir():
            continue
        found.update(_walk(inspection, start, excluded, lambda rel: rel.endswith(".py")))
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


def fixed_directory(pattern: str) -> str:
    """The directory part of a glob before its first wildcard (where to start looking)."""
    fixed: list[str] = []
    for segment in pattern.split("/")[:-1]:
        if _WILDCARDS & set(segment):
            break
        fixed.append(segment)
    return "/".join(fixed)


def discover_cards(inspection: _Inspection, patterns: tuple[str, ...]) -> list[str]:
    """Card files matching the configured globs (relative to the project root), sorted."""
    matches = card_matcher(patterns)
    found: set[str] = set()
    for start in sorted({fixed_directory(pattern) for pattern in patterns}):
        if start and not inspection.dir_inside(start):
            real = os.path.realpath(inspection.root / start)
            inspection.skipped.append(Skipped.outside(start + "/", real))
            continue
        if not start or (inspection.root / start).is_dir():
            found.update(_walk(inspection, start, lambda rel: False, matches))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """What a run reads: the contract's layer map, the Python files and the cards.

    `python` and `cards` hold every project file, those in `not_read` included (they are
    reported instead of read); `skipped` are the links out of the project.
    """

    layer_map: LayerMap
    python: list[str]
    cards: list[str]
    not_read: dict[str, NotRead] = field(default_factory=dict)
    skipped: tuple[Skipped, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


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
    inspection = _Inspection(root, config.max_file_size_kb * 1024)
    paths = discover_python_files(root, layer_map.source_roots, layer_map.is_excluded, inspection)
    problems = layer_map.check_files(paths)
    if problems:
        raise ConfigError(problems)
    cards = discover_cards(inspection, config.cards.paths)
    skipped = tuple(sorted(set(inspection.skipped)))
    for entry in skipped:
        warnings.warn(f"{printable(entry.path)}: {entry.why}", LayerguardWarning, stacklevel=2)
    return ProjectFiles(layer_map, paths, cards, inspection.not_read, skipped, inspection.limit)


def selected_by(paths: Sequence[str]) -> Callable[[str], bool]:
    """Whether a project-relative path is one of `paths` or below one (every path when none
    are given, or when one is the project root): what PATHS arguments select."""
    if not paths or any(wanted in ("", ".") for wanted in paths):
        return lambda path: True
    exact = frozenset(paths)
    prefixes = tuple(wanted.rstrip("/") + "/" for wanted in paths)
    return lambda path: path in exact or path.startswith(prefixes)
