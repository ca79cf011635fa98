"""A durable local spool for audit rows the database could not take.

When the audit table cannot be written (database down, INSERT revoked, connection lost), the
table sink appends the rows here instead of dropping them, and replays them when the table is
back. The file is append-only JSON lines, each write flushed and ``fsync``'d before the sink
considers the rows safe; it is bounded (``max_bytes``): past that, rows are refused, counted
and logged (``rejected``, ``full``), because a full disk must not take the service down.

Exactly once: every row carries a ``record_id``, unique in the table, and replays insert with
"on conflict do nothing", so a replay interrupted between the INSERT and the truncation of the
file (a crash, a kill) cannot duplicate anything.

Several processes (``uvicorn --workers N``) share one directory: each claims a file of its own
by holding an exclusive ``flock`` on its ``.lock`` companion, and a process that finds an
unclaimed file (its owner died) adopts it and replays it too. Running processes look for such
files again at most every ``rescan_interval`` (``watch()`` does it in the background), so a
worker that exits with rows spooled does not leave them waiting for the next start.
Standard library only.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from layerguard.runtime.throttle import ThrottledLog

logger = logging.getLogger("layerguard.runtime.audit")

DIRECTORY_VARIABLE = "LAYERGUARD_AUDIT_OUTBOX"
"""Overrides the default directory of every table sink's outbox."""

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_PREFIX = "outbox-"
_SUFFIX = ".jsonl"
_MAX_FILES = 4096
DEFAULT_RESCAN_INTERVAL = 1.0


def default_directory(name: str) -> Path:
    """``$LAYERGUARD_AUDIT_OUTBOX/<name>``, else ``$XDG_STATE_HOME`` (``~/.local/state``)
    ``/layerguard/audit-outbox/<name>``: a place that survives a reboot, unlike /tmp."""
    base = os.environ.get(DIRECTORY_VARIABLE)
    if base:
        return Path(base) / name
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "layerguard" / "audit-outbox" / name


class AuditOutbox:
    """Append-only, fsync'd, bounded spool of audit rows (dicts of JSON-able values)."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        rescan_interval: float = DEFAULT_RESCAN_INTERVAL,
    ) -> None:
        """``rescan_interval``: how often, at most, ``has_pending()`` looks for files that
        other processes left (a directory listing; between two, it answers from memory)."""
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes!r}")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.rejected = 0
        self.spooled = 0
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._lock_file: IO[bytes] | None = None
        self._path: Path | None = None
        self._size = 0
        self._full = False
        self._log = ThrottledLog(logger)
        self.rescan_interval = rescan_interval
        self._orphan_bytes = 0  # in unclaimed files, at the last look
        self._adopted_bytes = 0  # in orphaned files taken for a replay, not yet done
        self._scanned_at: float | None = None  # time.monotonic() of the last look
        self._watcher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ state

    @property
    def path(self) -> Path | None:
        """This process's file, once claimed."""
        return self._path

    @property
    def full(self) -> bool:
        """Whether the last append was refused for lack of room."""
        return self._full

    def pending_bytes(self) -> int:
        """Bytes waiting: in this process's file, and in orphaned files found at the last
        look (or adopted and not replayed yet). Answers from memory."""
        return self._size + self._orphan_bytes + self._adopted_bytes

    def has_pending(self) -> bool:
        """Whether this process's file or an orphaned one holds rows. Orphans are looked for
        at the first call, then at most every ``rescan_interval`` (and by ``take()``)."""
        scanned = self._scanned_at
        if scanned is None or time.monotonic() - scanned >= self.rescan_interval:
            self.rescan()
        return self.pending_bytes() > 0

    def rescan(self) -> int:
        """Look for orphaned files now; the bytes they hold."""
        with self._lock:
            self._scanned_at = time.monotonic()
            self._orphan_bytes = sum(size for _path, size, _lock in self._orphans())
            return self._orphan_bytes

    def watch(self, interval: float, found: Callable[[], object]) -> None:
        """Look for orphaned files every ``interval`` seconds in a task of the running loop
        and call ``found()`` when one holds rows, until ``close()``. Idempotent."""
        if self._watcher is not None and not self._watcher.done():
            return
        self.rescan_interval = interval
        self._watcher = asyncio.get_running_loop().create_task(self._watch(interval, found))

    async def _watch(self, interval: float, found: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                orphaned = self.rescan()
            except OSError as exc:  # the directory vanished, say: try again later
                self._log.log("rescan", logging.WARNING, "audit outbox %s: %s", self.directory, exc)
                continue
            if orphaned:
                found()

    def check(self) -> None:
        """Make sure rows can be spooled: create the directory, claim this process's file and
        ``fsync`` it and the directory (nothing is written). Raises ``OSError`` if not."""
        with self._lock:
            handle = self._claim()
            os.fsync(handle.fileno())
            descriptor = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    # ------------------------------------------------------------------ writing

    def append(self, rows: Iterable[dict[str, Any]]) -> bool:
        """Write ``rows`` durably; False (and counted in ``rejected``) if they do not fit or
        the file cannot be written."""
        rows = list(rows)
        if not rows:
            return True
        data = b"".join(_encode(row) for row in rows)
        with self._lock:
            try:
                handle = self._claim()
                if self._size + len(data) > self.max_bytes:
                    self._refuse(rows, "full")
                    self._full = True
                    return False
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                self._refuse(rows, f"unwritable ({exc})")
                return False
            self._size += len(data)
            self._full = False
            self.spooled += len(rows)
        return True

    def _refuse(self, rows: list[dict[str, Any]], why: str) -> None:
        self.rejected += len(rows)
        self._log.log(
            f"refused:{why}",
            logging.ERROR,
            "audit outbox %s is %s: %d audit records lost (%d in all)",
            self.directory,
            why,
            len(rows),
            self.rejected,
        )

    # ------------------------------------------------------------------ replaying

    def take(self) -> list[Batch]:
        """Everything waiting, this process's file and orphaned ones: call ``done()`` on each
        batch once its rows are in the table."""
        with self._lock:
            batches: list[Batch] = []
            if self._size > 0 and self._path is not None:
                batches.append(Batch(self, self._path, _read(self._path), self._size, None))
            for path, size, handle in self._orphans(claim=True):
                assert handle is not None
                batches.append(Batch(self, path, _read(path), size, handle))
                self._adopted_bytes += size
            self._scanned_at = time.monotonic()
            self._orphan_bytes = 0
            return batches

    def _consumed(self, batch: Batch) -> None:
        with self._lock:
            if batch.orphan is not None:
                batch.path.unlink(missing_ok=True)
                batch.orphan.close()  # releases its lock
                self._adopted_bytes -= batch.size
                return
            if self._file is None:  # closed meanwhile (shutdown): the next start replays it
                return
            if self._size == batch.size:
                self._file.truncate(0)
                os.fsync(self._file.fileno())
                self._size = 0
                return
            # Appended to meanwhile: keep the tail, atomically.
            with open(batch.path, "rb") as source:
                source.seek(batch.size)
                tail = source.read()
            replacement = batch.path.with_suffix(".tmp")
            with open(replacement, "wb") as out:
                out.write(tail)
                out.flush()
                os.fsync(out.fileno())
            os.replace(replacement, batch.path)
            self._reopen(batch.path)
            self._size = len(tail)

    def release(self, batch: Batch) -> None:
        """Give back a batch that could not be replayed (orphans are unlocked for others)."""
        if batch.orphan is not None:
            with self._lock:
                batch.orphan.close()
                self._adopted_bytes -= batch.size
                self._orphan_bytes += batch.size

    def close(self) -> None:
        """Release this process's file (its rows stay on disk for the next start) and stop
        watching for orphans."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        with self._lock:
            for handle in (self._file, self._lock_file):
                if handle is not None:
                    handle.close()
            self._file = self._lock_file = None
            self._path, self._size = None, 0

    # ------------------------------------------------------------------ files

    def _claim(self) -> IO[bytes]:
        if self._file is not None:
            return self._file
        self.directory.mkdir(parents=True, exist_ok=True)
        first_error: OSError | None = None
        for number in range(_MAX_FILES):
            path = self.directory / f"{_PREFIX}{number}{_SUFFIX}"
            try:
                lock = _try_lock(path)
            except OSError as exc:  # e.g. a lock file of another user: try the next one
                first_error = first_error or exc
                continue
            if lock is None:
                continue
            self._lock_file, self._path = lock, path
            self._file = open(path, "ab")  # noqa: SIM115  (kept open for appends)
            self._size = self._file.seek(0, os.SEEK_END)
            return self._file
        if first_error is not None:  # the directory refuses every file: say why
            raise first_error
        raise OSError(f"no free outbox file among {_MAX_FILES} in {self.directory}")

    def _reopen(self, path: Path) -> None:
        assert self._file is not None
        self._file.close()
        self._file = open(path, "ab")  # noqa: SIM115

    def _orphans(self, claim: bool = False) -> list[tuple[Path, int, IO[bytes] | None]]:
        """Non-empty files no live process holds (their owner died), with their size; their
        lock is kept (and returned) if ``claim``."""
        if not self.directory.is_dir():
            return []
        found: list[tuple[Path, int, IO[bytes] | None]] = []
        for path in sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}")):
            if path == self._path:
                continue
            try:
                lock = _try_lock(path) if path.stat().st_size else None
            except OSError:
                continue
            if lock is None:
                continue
            try:  # its size now that no one can append to it
                size = path.stat().st_size
            except OSError:
                lock.close()
                continue
            if not claim:
                lock.close()
            found.append((path, size, lock if claim else None))
        return found


def _try_lock(path: Path) -> IO[bytes] | None:
    """The exclusively locked ``.lock`` companion of ``path``, or None if someone holds it
    (``OSError`` if it cannot be opened)."""
    lock = open(path.with_suffix(".lock"), "ab")  # noqa: SIM115  (held open: the lock)
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None
    return lock


class Batch:
    """Rows taken from one outbox file; ``done()`` removes them from it."""

    __slots__ = ("orphan", "outbox", "path", "rows", "size")

    def __init__(
        self,
        outbox: AuditOutbox,
        path: Path,
        rows: list[dict[str, Any]],
        size: int,
        orphan: IO[bytes] | None,
    ) -> None:
        self.outbox = outbox
        self.path = path
        self.rows = rows
        self.size = size
        self.orphan = orphan

    def done(self) -> None:
        """The rows are in the table: forget them."""
        self.outbox._consumed(self)

    def release(self) -> None:
        """The rows could not be written: keep them for later."""
        self.outbox.release(self)


def _encode(row: dict[str, Any]) -> bytes:
    encoded = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
    return json.dumps(encoded, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def _read(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        data = path.read_bytes()
    except OSError:
        return rows
    for number, line in enumerate(data.splitlines(), 1):
        try:
            row = json.loads(line)
        except ValueError:  # a torn last line (killed mid-write, before fsync): skip it
            logger.warning("audit outbox %s: line %d is not a record; skipped", path, number)
            continue
        if isinstance(row, dict):
            recorded_at = row.get("recorded_at")
            if isinstance(recorded_at, str):
                row["recorded_at"] = datetime.fromisoformat(recorded_at)
            rows.append(row)
    return rows
