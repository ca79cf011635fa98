"""Where the caches live and how they are stored: one SQLite database in the cache directory.

Why SQLite (the standard library's): a run that parsed one file writes one row, where the JSON
file it replaces was rewritten whole (0.15 s on a 2,000-file project); concurrent runs
(pre-commit in two terminals, CI jobs sharing a directory) are serialised by SQLite's locking,
and in WAL mode readers go on while one run writes.

Everything read from the database is validated by its reader. A damaged file, a lock held past
the timeout or a row of the wrong shape (JSON that does not decode, nests past the recursion
limit or holds a number of too many digits) is a cache miss, never an error: the run does the
work itself, and a damaged database is replaced by the next run that writes. Nothing is written
outside the cache directory: the database, SQLite's `-wal`/`-shm` files beside it, and the
`.gitignore` and `CACHEDIR.TAG` markers other tools' caches also carry. None of them is read or
written through a link: a symbolic link (or a hard link, or a special file) planted under one of
those names would lead the writes out of the tree, so it is removed, with a warning naming it,
and the file is made afresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from layerguard.contracts.escaping import printable
from layerguard.contracts.file_access import kind_of
from layerguard.linter.errors import LayerguardWarning

CACHE_DIR_NAME = ".layerguard_cache"
CACHE_DIR_ENV = "LAYERGUARD_CACHE_DIR"
"""The environment variable that moves the cache (CI caches it between jobs); `--cache-dir`
takes precedence over it."""

DATABASE_NAME = "cache-v1.sqlite3"
_DATABASE_FILES = tuple(f"{DATABASE_NAME}{suffix}" for suffix in ("", "-wal", "-shm", "-journal"))
_MARKERS = {
    ".gitignore": "# Automatically created by layerguard.\n*\n",
    "CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by layerguard.\n",
}
_SCHEMA_VERSION = 1  # PRAGMA user_version of a database this code writes
_BUSY_TIMEOUT = 5.0  # seconds a run waits for another run's write before doing without
_SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED: wait, never delete

_SCHEMA = (
    # Parsed content (facts of Python files, parsed cards) by the hash of the bytes parsed and
    # the fingerprint of what decides the parse (tool code and extraction settings).
    """CREATE TABLE IF NOT EXISTS parses (
        kind TEXT NOT NULL, fingerprint TEXT NOT NULL, digest TEXT NOT NULL,
        data TEXT NOT NULL, used_ns INTEGER NOT NULL,
        PRIMARY KEY (kind, fingerprint, digest)) WITHOUT ROWID""",
    # The stat memo: what a file's stat data was when its bytes had `digest`.
    """CREATE TABLE IF NOT EXISTS stats (
        root TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,
        digest TEXT NOT NULL, recorded_ns INTEGER NOT NULL,
        PRIMARY KEY (root, path)) WITHOUT ROWID""",
    # Findings of whole runs by run key.
    """CREATE TABLE IF NOT EXISTS runs (
        key TEXT NOT NULL PRIMARY KEY, data TEXT NOT NULL, written_ns INTEGER NOT NULL)
        WITHOUT ROWID""",
)


def cache_directory(
    root: Path, explicit: Path | None = None, environ: Mapping[str, str] = os.environ
) -> Path:
    """The cache directory of a project: `--cache-dir`, else $LAYERGUARD_CACHE_DIR, else
    `.layerguard_cache/` in the project root (relative paths are relative to the current
    directory, as ruff's and pytest's are)."""
    if explicit is not None:
        return explicit.absolute()
    configured = environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().absolute()
    return root / CACHE_DIR_NAME


class CacheDatabase:
    """A connection to the cache database, opened on first use; every failure is a miss.

    `unwritable` says whether a write failed for another reason than a concurrent writer
    (the caller warns that the cache could not be written).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / DATABASE_NAME
        self.unwritable = False
        self._connection: sqlite3.Connection | None = None
        self._damaged = False
        self._ready = False  # the schema is known to be there
        # A project's own `.layerguard_cache` that is a link could point anywhere: a checked-out
        # tree never makes layerguard write outside it (--cache-dir can point anywhere).
        self._refused = directory.name == CACHE_DIR_NAME and directory.is_symlink()
        self._unlinked = False  # no link stands where the database files go

    def read(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query; none when the database is absent, damaged or busy."""
        if self._refused or self._damaged or not self._no_links() or not self.path.is_file():
            return []
        try:
            connection = self._connect()
            if not self._ready:
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if version != _SCHEMA_VERSION:
                    return []  # another format (or a fresh file): nothing to read
                self._ready = True
            return connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            self._failed(error)
            return []

    def write(self, statements: Callable[[sqlite3.Connection], None]) -> bool:
        """Run `statements` in one transaction, creating the database if needed. Returns
        False when it could not be written: busy past the timeout (another run is writing
        the same content), or unwritable (`self.unwritable` is then set)."""
        if self._refused or not self._prepare_directory() or not self._no_links():
            self.unwritable = True
            return False
        if self._damaged:
            self._remove_damaged()
        for attempt in (1, 2):
            try:
                self._transaction(statements)
                return True
            except sqlite3.Error as error:
                if _busy(error):
                    return False
                self._remove_damaged()  # a damaged file: start again with a fresh one, once
                if attempt == 2:
                    self.unwritable = True
        return False

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None

    def _transaction(self, statements: Callable[[sqlite3.Connection], None]) -> None:
        connection = self._connect()
        if not self._ready:
            _create_schema(connection)
            self._ready = True
        connection.execute("BEGIN IMMEDIATE")  # take the write lock now, or wait for it
        try:
            statements(connection)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _connect(self) -> sqlite3.Connection:
        """A connection in autocommit mode: transactions are explicit (`_transaction`)."""
        if self._connection is None:
            connection = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            try:
                connection.execute("PRAGMA synchronous=NORMAL")  # WAL: safe, fewer fsyncs
            except sqlite3.Error:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _no_links(self) -> bool:
        """Whether the database files can be opened without following a link (checked once:
        what stands in the way is removed); False when something in the way cannot be."""
        if not self._unlinked:
            self._unlinked = all(_clear(self.directory / name) for name in _DATABASE_FILES)
            self._refused = not self._unlinked
        return self._unlinked

    def _failed(self, error: sqlite3.Error) -> None:
        """A busy database is left alone; anything else means the file cannot be trusted."""
        if not _busy(error):
            self._damaged = True
            self.close()

    def _remove_damaged(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{self.path}{suffix}")
        self._damaged = False
        self._ready = False

    def _prepare_directory(self) -> bool:
        """Create the cache directory with its markers; False if that is impossible."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_markers(self.directory)
        except OSError:
            return False
        return self.directory.is_dir()


def _busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _SQLITE_BUSY_CODES


def _create_schema(connection: sqlite3.Connection) -> None:
    """Create the tables (a database of another format is emptied first)."""
    with contextlib.suppress(sqlite3.Error):  # some file systems cannot; the default is safe
        connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version != _SCHEMA_VERSION:
            for table in ("parses", "stats", "runs"):
                connection.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _write_markers(directory: Path) -> None:
    """Keep the cache out of version control and backups, as other tools' caches do. A marker
    is created, never opened: `O_EXCL` fails on any existing name, a dangling link included."""
    for name, text in _MARKERS.items():
        path = directory / name
        if not _clear(path):
            continue
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o666)
        except FileExistsError:
            continue  # there already (or created meanwhile by another run)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)


def _clear(path: Path) -> bool:
    """Whether `path` is absent or a regular file of its own (not a link to one), removing
    what else stands there with a warning: a symbolic link, a hard link, a FIFO. False when
    that cannot be removed (a directory, a read-only cache)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
        return True
    if stat.S_ISLNK(info.st_mode):
        what = "a symbolic link"
        with contextlib.suppress(OSError):
            what += f" to {os.readlink(path)}"
    elif stat.S_ISREG(info.st_mode):
        what = "a hard link to a file with other names"
    else:
        what = kind_of(info.st_mode)
    try:
        os.unlink(path)
    except OSError as error:
        warnings.warn(
            f"{printable(str(path))}: {what} in the cache directory, where layerguard keeps a "
            f"file of its own; the cache is not used ({printable(str(error.strerror))}: remove "
            "it)",
            LayerguardWarning,
            stacklevel=2,
        )
        return False
    warnings.warn(
        f"{printable(str(path))}: {what} in the cache directory, where layerguard keeps a file "
        "of its own; removed (the cache never reads or writes through a link)",
        LayerguardWarning,
        stacklevel=2,
    )
    return True


def decoded_json(text: object) -> Any:
    """The JSON value of a text read from the database, or None when it is no JSON text a
    run can have written: not a string, not JSON, nested past the recursion limit, a number
    too long to convert, too large for the memory. The caller checks the value's shape."""
    if type(text) is not str:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError, MemoryError):  # JSONDecodeError is a ValueError
        return None


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """`values` in slices that fit SQLite's limit on bound parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
