"""The parse cache: what a file's bytes parse to (facts of Python files, parsed cards), keyed by
the blake2b hash of the bytes and a fingerprint of what decides the parse (layerguard's code,
the extraction settings), so that a new version or a new session factory name misses while
edits to layer paths, another checkout path or another install of the same code hit.

A stat memo spares reading unchanged files, with the rules git's index follows: an entry is
trusted only when the file's size, nanosecond mtime, ctime and inode are all unchanged, and
only when the file had not been modified within the timestamp granularity of the moment its
entry was recorded ("racy": it may have changed again within the same tick, leaving equal stat
data over other bytes). `touch -r` can put an old mtime back, but it sets the ctime, which
nothing but the kernel can set. Racy entries are read and hashed again until a later run can
trust them.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any, NamedTuple

from layerguard.contracts.file_access import (
    DEFAULT_MAX_FILE_BYTES,
    UnreadableFileError,
    read_regular_file,
)
from layerguard.linter.caching.database import (
    CacheDatabase,
    cache_directory,
    chunks,
    decoded_json,
)

RACY_SECONDS = 2.0
"""A file modified this close to the moment its stat data was recorded may change again within
the same timestamp tick (coarse file systems tick every 2 s): its stat data cannot vouch for
its content."""
RACY_NS = int(RACY_SECONDS * 1e9)
_REFRESH_NS = 24 * 3600 * 10**9  # an entry's last use is recorded at most once a day...
_UNUSED_NS = 7 * _REFRESH_NS  # ...and an entry unused for a week is deleted


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class FileStat(NamedTuple):
    """The stat data the memo compares (git's index compares the same, and more)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @staticmethod
    def of(stat: os.stat_result) -> FileStat:
        return FileStat(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)

    def racy_at(self, recorded_ns: int) -> bool:
        """Whether the file was modified within the racy window before `recorded_ns`."""
        return max(self.mtime_ns, self.ctime_ns) >= recorded_ns - RACY_NS


class _Memo(NamedTuple):
    stat: FileStat
    digest: str
    recorded_ns: int


@dataclass(slots=True)
class ParseCache:
    """Parsed data by content hash, plus the stat memo of one project root; `save()` writes
    only what this run added."""

    database: CacheDatabase | None  # None: caching disabled
    root: str = ""
    fingerprint: str = ""
    kind: str = "facts"
    started_ns: int = field(default_factory=time.time_ns)
    _entries: dict[str, tuple[str, int]] | None = None  # digest -> (JSON text, used_ns)
    _memo: dict[str, _Memo] | None = None
    _hashed: set[str] = field(default_factory=set)
    _new_entries: dict[str, str] = field(default_factory=dict)
    _new_stats: dict[str, _Memo] = field(default_factory=dict)
    _refresh: set[str] = field(default_factory=set)

    @staticmethod
    def open(
        project_root: Path,
        fingerprint: str,
        enabled: bool = True,
        kind: str = "facts",
        cache_dir: Path | None = None,
    ) -> ParseCache:
        """The cache of one `kind` of entry (`facts` of Python files, parsed `cards`) in the
        project's cache directory (`cache_dir`, $LAYERGUARD_CACHE_DIR or .layerguard_cache/)."""
        if not enabled:
            return ParseCache(None)
        database = CacheDatabase(cache_directory(project_root, cache_dir))
        return ParseCache(database, os.fspath(project_root), fingerprint, kind)

    @property
    def enabled(self) -> bool:
        return self.database is not None

    def file_hash(
        self, root: Path, rel_path: str, limit: int = DEFAULT_MAX_FILE_BYTES
    ) -> tuple[str, bytes | None]:
        """The content hash of a file, read only when the memo cannot vouch for it (returns
        the bytes read, if any). Raises OSError when the file cannot be read."""
        digest, stat = self.vouched(root, rel_path)
        if digest is not None:
            return digest, None
        return self.read_hash(root, rel_path, stat, limit)

    def vouched(self, root: Path, rel_path: str) -> tuple[str | None, FileStat]:
        """The file's stat data, and its content hash when the memo vouches for it (None: only
        reading it can tell). Raises OSError when it is not a regular file."""
        full = f"{os.fspath(root)}/{rel_path}"  # os.stat of a string: cheaper than pathlib's
        status = os.stat(full)
        if not S_ISREG(status.st_mode):  # never opened (a FIFO would block)
            raise OSError(errno.EINVAL, "not a regular file", full)
        stat = FileStat.of(status)
        memo = self._memos().get(rel_path)
        self._hashed.add(rel_path)
        if memo is not None and memo.stat == stat and not memo.stat.racy_at(memo.recorded_ns):
            return memo.digest, stat
        return None, stat

    def read_hash(
        self, root: Path, rel_path: str, stat: FileStat, limit: int = DEFAULT_MAX_FILE_BYTES
    ) -> tuple[str, bytes]:
        """Read a file whose stat data `vouched` gave: its content hash and bytes. Raises
        OSError when it cannot be read, or holds more than `limit` bytes (it was no larger
        when the caller checked its size: never more than the limit is read, however it grew
        or whatever replaced it since)."""
        try:
            data = read_regular_file(f"{os.fspath(root)}/{rel_path}", limit)
        except UnreadableFileError as error:
            raise OSError(errno.EINVAL, str(error)) from None
        digest = content_hash(data)
        self.remember(rel_path, stat, digest)
        return digest, data

    def remember(self, rel_path: str, stat: FileStat, digest: str) -> None:
        """Record that the file had `digest` when it had `stat`: taken before the bytes were
        read (here or by a worker process), so that a change in between leaves stat data the
        next run does not find (ctime moves on every write; within one tick, it is racy)."""
        if self.database is not None and _storable(rel_path):
            # Recorded at the start of the run, before the read: the safe side of racy.
            self._new_stats[rel_path] = _Memo(stat, digest, self.started_ns)

    def holds_any(self) -> bool:
        """Whether any entry is stored: when none is, hashing a file cannot find its parse."""
        return bool(self._loaded())

    def has(self, digest: str) -> bool:
        """Whether an entry is stored for `digest` (it may still turn out damaged)."""
        return digest in self._loaded()

    def meaning(self, digest: str) -> str | None:
        """A digest of what is stored for `digest` (the parse result, not the bytes): two
        files whose facts are equal mean the same to the rules."""
        entry = self._loaded().get(digest)
        return None if entry is None else content_hash(entry[0].encode())

    def get(self, digest: str) -> Any:
        """The JSON data stored for `digest`, or None (the caller validates its shape)."""
        entry = self._loaded().get(digest)
        if entry is None:
            return None
        text, used_ns = entry
        data = decoded_json(text)
        if data is None:
            return None
        if used_ns < self.started_ns - _REFRESH_NS:
            self._refresh.add(digest)
        return data

    def put(self, digest: str, data: Any) -> None:
        if self.database is not None:
            text = json.dumps(data, separators=(",", ":"))
            self._new_entries[digest] = text
            self._loaded()[digest] = (text, self.started_ns)

    def save(self) -> bool:
        """Write what this run added or refreshed. Returns False when the cache directory is
        not writable (a concurrent writer holding the lock is no failure: the rows are the
        same)."""
        database = self.database
        if database is None:
            return True
        stale_paths = []
        if self._hashed and self._memo is not None:
            stale_paths = [path for path in self._memo if path not in self._hashed]
        if not (self._new_entries or self._new_stats or self._refresh or stale_paths):
            return True
        now = time.time_ns()

        def statements(connection: Any) -> None:
            connection.executemany(
                "INSERT OR REPLACE INTO parses VALUES (?, ?, ?, ?, ?)",
                [
                    (self.kind, self.fingerprint, digest, text, now)
                    for digest, text in self._new_entries.items()
                ],
            )
            for batch in chunks(sorted(self._refresh)):
                marks = ",".join("?" * len(batch))
                connection.execute(
                    f"UPDATE parses SET used_ns = ? WHERE kind = ? AND fingerprint = ? "
                    f"AND digest IN ({marks})",
                    (now, self.kind, self.fingerprint, *batch),
                )
            connection.executemany(
                "INSERT OR REPLACE INTO stats VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (self.root, f"{self.kind}:{path}", *memo.stat, memo.digest, memo.recorded_ns)
                    for path, memo in self._new_stats.items()
                ],
            )
            connection.executemany(
                "DELETE FROM stats WHERE root = ? AND path = ?",
                [(self.root, f"{self.kind}:{path}") for path in stale_paths],
            )
            if self._new_entries:
                connection.execute(
                    "DELETE FROM parses WHERE kind = ? AND used_ns < ?",
                    (self.kind, now - _UNUSED_NS),
                )

        written = database.write(statements)
        database.close()
        return written or not database.unwritable

    def _memos(self) -> dict[str, _Memo]:
        """The stat memo of this root and kind, read on first use (rows of the wrong shape
        are left out: their files are read again)."""
        if self._memo is None:
            self._memo = {}
            if self.database is not None:
                prefix = f"{self.kind}:"
                rows = self.database.read(
                    "SELECT path, size, mtime_ns, ctime_ns, inode, digest, recorded_ns "
                    "FROM stats WHERE root = ? AND path >= ? AND path < ?",
                    (self.root, prefix, f"{self.kind};"),
                )
                for path, size, mtime, ctime, inode, digest, recorded in rows:
                    if (
                        _all_ints(size, mtime, ctime, inode, recorded)
                        and type(digest) is str
                        and type(path) is str
                    ):
                        stat = FileStat(size, mtime, ctime, inode)
                        self._memo[path[len(prefix) :]] = _Memo(stat, digest, recorded)
        return self._memo

    def _loaded(self) -> dict[str, tuple[str, int]]:
        if self._entries is None:
            self._entries = {}
            if self.database is not None:
                rows = self.database.read(
                    "SELECT digest, data, used_ns FROM parses WHERE kind = ? AND fingerprint = ?",
                    (self.kind, self.fingerprint),
                )
                self._entries = {
                    digest: (data, used)
                    for digest, data, used in rows
                    if type(data) is str and type(used) is int
                }
        return self._entries


def _storable(path: str) -> bool:
    """Whether SQLite can hold the path (a name undecodable in UTF-8 cannot be: such a file is
    simply read every time)."""
    try:
        path.encode()
    except UnicodeEncodeError:
        return False
    return True


def _all_ints(*values: object) -> bool:
    return all(type(value) is int for value in values)
