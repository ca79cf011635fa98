"""The on-disk facts cache (`.layerguard_cache/`): JSON, never pickle.

Entries are keyed by the blake2b hash of a file's bytes, under a file name that carries the
tool version and the fingerprint of the extraction settings, so a new version or a new session
factory name starts a fresh cache while edits to layer paths keep it. A stat memo (size,
mtime) saves re-reading unchanged files, as git's index does; a file modified within the
timestamp granularity of the previous run is always re-hashed ("racy" entries).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerguard._version import __version__

CACHE_DIR_NAME = ".layerguard_cache"
_FORMAT = 1
RACY_SECONDS = 2.0
"""A file modified this close to the moment its stat data was recorded may change again within
the same timestamp tick: its stat data cannot vouch for its content ("racy", as in git)."""


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(slots=True)
class ParseCache:
    """Facts data by content hash, plus the stat memo; `save()` keeps only what was used."""

    path: Path | None  # None: caching disabled
    kind: str = "facts"
    entries: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, list[Any]] = field(default_factory=dict)  # path -> [size, mtime_ns, hash]
    written_at: float = 0.0
    used: set[str] = field(default_factory=set)
    used_stats: dict[str, list[Any]] = field(default_factory=dict)
    dirty: bool = False

    @staticmethod
    def open(
        project_root: Path, settings_fingerprint: str, enabled: bool = True, kind: str = "facts"
    ) -> ParseCache:
        """The cache of one `kind` of entry (`facts` of Python files, parsed `cards`): each
        kind has its own file, replaced when its fingerprint changes."""
        if not enabled:
            return ParseCache(None)
        name = f"{kind}-v{__version__}-f{_FORMAT}-{settings_fingerprint}.json"
        path = project_root / CACHE_DIR_NAME / name
        cache = ParseCache(path, kind=kind)
        try:
            with path.open("rb") as handle:
                data = json.load(handle)
            cache.entries = data["entries"]
            cache.stats = data["stats"]
            cache.written_at = float(data["written_at"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # absent or unreadable: start empty, the next save repairs it
        return cache

    def file_hash(self, root: Path, rel_path: str) -> tuple[str, bytes | None]:
        """The content hash of a file, read only when its stat changed (returns the bytes read)."""
        full = root / rel_path
        stat = full.stat()
        memo = self.stats.get(rel_path)
        racy = stat.st_mtime_ns / 1e9 >= self.written_at - RACY_SECONDS
        unchanged = memo is not None and [memo[0], memo[1]] == [stat.st_size, stat.st_mtime_ns]
        if memo is not None and unchanged and not racy:
            digest: str = memo[2]
            data = None
        else:
            data = full.read_bytes()
            digest = content_hash(data)
            self.dirty = True
        self.used_stats[rel_path] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest, data

    def get(self, digest: str) -> Any:
        entry = self.entries.get(digest)
        if entry is not None:
            self.used.add(digest)
        return entry

    def put(self, digest: str, data: Any) -> None:
        self.entries[digest] = data
        self.used.add(digest)
        self.dirty = True

    def save(self) -> bool:
        """Write atomically, keeping only the entries this run used (so it cannot grow stale).

        Returns False when the cache directory is not writable.
        """
        if self.path is None:
            return True
        if not self.dirty and set(self.entries) == self.used and self.stats == self.used_stats:
            return True
        payload = {
            "written_at": time.time(),
            "entries": {digest: self.entries[digest] for digest in sorted(self.used)},
            "stats": self.used_stats,
        }
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            _write_markers(directory)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self.kind}-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # dumps, not dump: only dumps uses the C encoder (dump streams through
                # the pure-Python one, ~5x slower on a cache of a few megabytes).
                handle.write(json.dumps(payload, separators=(",", ":")))
            os.replace(tmp, self.path)
            for stale in directory.glob(f"{self.kind}-*.json"):
                if stale != self.path:
                    stale.unlink(missing_ok=True)
        except OSError:
            return False  # a read-only tree still gets checked, just not cached
        return True


def _write_markers(directory: Path) -> None:
    """Keep the cache out of version control and backups, as other tools' caches do."""
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("# Automatically created by layerguard.\n*\n", encoding="utf-8")
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by layerguard.\n",
            encoding="utf-8",
        )
