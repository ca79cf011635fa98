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

Damage is contained: a write that fails halfway is cut back, a torn last line gets its
newline before the next append, lines that are not valid records (whatever the check raises)
and rows the database refuses are set aside in ``rejected.jsonl`` (counted in ``rejected``,
logged with file and line) instead of blocking their file, a file removed under a running
process (its directory deleted) is written again into a recreated directory, or its records
are counted as lost, and a file whose ``.lock`` was removed is locked again or, if a sibling
claimed it meanwhile, left to that sibling. Standard library only.
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
_REJECTED = "rejected.jsonl"  # not matched by the outbox files' pattern
_NOT_A_RECORD = "is not a valid audit record"
_LOGGED_LINES = 10  # invalid lines logged one by one per file; past that, a count
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
        self._fd: int | None = None  # this process's file, opened for appends and reads
        self._lock_file: IO[bytes] | None = None
        self._path: Path | None = None
        self._size = 0
        self._torn = False  # the file ends in a partial line: the next write starts a new one
        self._generation = 0  # counts the files this process claimed
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

    @property
    def rejected_path(self) -> Path:
        """Where lines that are not valid records are set aside (not replayed)."""
        return self.directory / _REJECTED

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
        """Look for orphaned files now (and make sure this process's file is still in the
        directory); the bytes the orphans hold."""
        with self._lock:
            self._ensure_attached()
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
            except Exception as exc:  # the directory vanished, say: try again later
                self._log.log("rescan", logging.WARNING, "audit outbox %s: %s", self.directory, exc)
                continue
            if orphaned:
                found()

    def check(self) -> None:
        """Make sure rows can be spooled: create the directory, claim this process's file and
        ``fsync`` it and the directory (nothing is written). Raises ``OSError`` if not."""
        with self._lock:
            os.fsync(self._claim())
            _fsync_directory(self.directory)

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
                fd = self._claim()
                if self._size + len(data) > self.max_bytes:
                    self._refuse(rows, "full")
                    self._full = True
                    return False
                self._write(fd, data)
                path = self._path
                if path is not None and self._lock_lost(path):
                    # Removed since _claim() looked: a sibling may have claimed the file
                    # before this write, and would truncate it unread. If one holds it now,
                    # write the rows into a file of our own too (stored once: record_id).
                    self._relock(fd, path)
                    if self._fd is None:
                        self._write(self._claim(), data)
            except OSError as exc:
                self._refuse(rows, f"unwritable ({exc})")
                return False
            self._full = False
            self.spooled += len(rows)
        return True

    def _write(self, fd: int, data: bytes) -> None:
        """Append ``data`` to this process's file and ``fsync`` it. On failure (a full disk
        after a partial write, say), the file is cut back to where it was, so that the next
        append does not continue a half-written line (which would make it unreadable)."""
        if self._torn:  # a line left unfinished (by a dead process, or a failed write)
            data = b"\n" + data
        try:
            _write_all(fd, data)
        except OSError:
            try:
                os.ftruncate(fd, self._size)
            except OSError:
                self._torn = True
            raise
        self._size += len(data)
        self._torn = not data.endswith(b"\n")

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

    def take(self, check: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> list[Batch]:
        """Everything waiting, this process's file and orphaned ones: call ``done()`` on each
        batch once its rows are in the table, ``release()`` if they could not be written.

        ``check(row)`` turns a line's JSON object into the row to replay, or raises an
        exception (any ``Exception``) saying why it is not one. A line that is not a valid
        record (torn, corrupted, edited) is not replayed: when its batch is done it is set
        aside in ``rejected.jsonl``, counted in ``rejected`` and logged with its file and
        line, and the other lines go on. So is a row the database refuses, once the caller
        says so with ``Batch.refuse()``."""
        with self._lock:
            self._ensure_attached()
            batches: list[Batch] = []
            if self._size > 0 and self._fd is not None and self._path is not None:
                try:
                    data = _read_fd(self._fd, self._size)
                except OSError as exc:
                    self._log.log("read", logging.ERROR, "audit outbox %s: %s", self._path, exc)
                else:
                    rows, lines, invalid = _parse(data, check)
                    batch = Batch(self, self._path, rows, self._size, None, invalid, lines)
                    batch.generation = self._generation
                    batches.append(batch)
            for path, _size, handle in self._orphans(claim=True):
                assert handle is not None
                try:
                    data = path.read_bytes()
                except OSError as exc:  # unreadable: leave it, for someone who can read it
                    handle.close()
                    self._log.log("read", logging.ERROR, "audit outbox %s: %s", path, exc)
                    continue
                rows, lines, invalid = _parse(data, check)
                batches.append(Batch(self, path, rows, len(data), handle, invalid, lines))
                self._adopted_bytes += len(data)
            self._scanned_at = time.monotonic()
            self._orphan_bytes = 0
            return batches

    def _consumed(self, batch: Batch) -> None:
        with self._lock:
            if batch.settled:
                return
            batch.settled = True
            if batch.orphan is not None:
                self._adopted_bytes -= batch.size
                try:
                    batch.path.unlink(missing_ok=True)
                finally:
                    batch.orphan.close()  # releases its lock
                self._set_aside(batch)
                return
            if self._fd is not None and self._path is not None and self._lock_lost(self._path):
                self._relock(self._fd, self._path)  # a sibling may have claimed the file
            fd = self._fd
            if fd is None or batch.generation != self._generation:
                # Closed meanwhile (shutdown), its file was removed and its rows written into
                # a new one, or its lock was lost and the file is another process's now:
                # its rows are replayed again from there (and stored once).
                return
            if self._size == batch.size:
                os.ftruncate(fd, 0)
                os.fsync(fd)
                self._size, self._torn = 0, False
                self._set_aside(batch)
                return
            # Appended to meanwhile: keep the tail, atomically.
            assert self._path is not None
            tail = _read_fd(fd, self._size - batch.size, batch.size)
            replacement = self._path.with_suffix(".tmp")
            with open(replacement, "wb") as out:
                out.write(tail)
                out.flush()
                os.fsync(out.fileno())
            os.replace(replacement, self._path)
            os.close(fd)
            self._fd = _open(self._path)
            self._size, self._torn = len(tail), not tail.endswith(b"\n")
            self._set_aside(batch)

    def release(self, batch: Batch) -> None:
        """Give back a batch that could not be replayed (orphans are unlocked for others)."""
        with self._lock:
            if batch.settled:
                return
            batch.settled = True
            if batch.orphan is not None:
                batch.orphan.close()
                self._adopted_bytes -= batch.size
                self._orphan_bytes += batch.size

    def _set_aside(self, batch: Batch) -> None:
        """The lines of a consumed batch that were not records: keep them in
        ``rejected.jsonl`` (bounded by ``max_bytes``), count them, say where they were."""
        if not batch.invalid:
            return
        self.rejected += len(batch.invalid)
        kept = self._keep_rejected(b"".join(line + b"\n" for _n, line, _why in batch.invalid))
        for number, _line, why in batch.invalid[:_LOGGED_LINES]:
            what = "was refused by the database" if number in batch.refused else _NOT_A_RECORD
            logger.warning(
                "audit outbox %s: line %d %s (%s); %s",
                batch.path,
                number,
                what,
                why,
                f"set aside in {self.rejected_path}" if kept else "dropped",
            )
        if len(batch.invalid) > _LOGGED_LINES:
            logger.warning(
                "audit outbox %s: %d more lines are not valid audit records or were refused "
                "by the database; %s",
                batch.path,
                len(batch.invalid) - _LOGGED_LINES,
                f"set aside in {self.rejected_path}" if kept else "dropped",
            )

    def _keep_rejected(self, data: bytes) -> bool:
        path = self.rejected_path
        try:
            kept = path.stat().st_size if path.exists() else 0
            if kept + len(data) > self.max_bytes:
                return False
            descriptor = _open(path)
            try:
                _write_all(descriptor, data)
            finally:
                os.close(descriptor)
        except OSError as exc:
            self._log.log("rejected", logging.ERROR, "audit outbox %s: %s", path, exc)
            return False
        return True

    def close(self) -> None:
        """Release this process's file (its rows stay on disk for the next start) and stop
        watching for orphans."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        with self._lock:
            self._unclaim()

    # ------------------------------------------------------------------ files

    def _claim(self) -> int:
        self._ensure_attached()
        if self._fd is not None:
            return self._fd
        self.directory.mkdir(parents=True, exist_ok=True)
        first_error: OSError | None = None
        for number in range(_MAX_FILES):
            path = self.directory / f"{_PREFIX}{number}{_SUFFIX}"
            try:
                lock = _try_lock(path)
                if lock is None:
                    continue
            except OSError as exc:  # e.g. a lock file of another user: try the next one
                first_error = first_error or exc
                continue
            try:
                fd = _open(path)
                size = os.fstat(fd).st_size
                torn = _ends_torn(fd, size)
            except OSError as exc:
                lock.close()
                first_error = first_error or exc
                continue
            self._lock_file, self._path, self._fd = lock, path, fd
            self._size, self._torn = size, torn
            self._generation += 1
            return fd
        if first_error is not None:  # the directory refuses every file: say why
            raise first_error
        raise OSError(f"no free outbox file among {_MAX_FILES} in {self.directory}")

    def _unclaim(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        if self._lock_file is not None:
            self._lock_file.close()
        self._fd, self._lock_file = None, None
        self._path, self._size, self._torn = None, 0, False

    def _ensure_attached(self) -> None:
        """If this process's file was removed under it (its directory deleted by an operator
        or a cleaner) or replaced, appends would go to a file nobody can find, and be lost at
        exit. Write what it holds into a new file (recreating the directory); if that fails,
        count its records as lost, and say so. If only its ``.lock`` companion was removed or
        replaced, the file is no longer protected from siblings: see ``_relock``."""
        fd, path = self._fd, self._path
        if fd is None or path is None:
            return
        mine = os.fstat(fd)
        if mine.st_nlink > 0 and _same_file(path, mine):
            if self._lock_lost(path):
                self._relock(fd, path)
            return
        try:
            data = _read_fd(fd, self._size)
        except OSError:
            data = b""
        records = sum(1 for line in data.split(b"\n") if line.strip())
        self._unclaim()
        try:
            fd = self._claim()
            if data:
                self._write(fd, data)
            _fsync_directory(self.directory)
        except OSError as exc:
            self.rejected += records
            logger.error(
                "audit outbox file %s was removed while in use, and %s cannot be written "
                "(%s): %d audit records lost (%d in all)",
                path,
                self.directory,
                exc,
                records,
                self.rejected,
            )
            return
        logger.warning(
            "audit outbox file %s was removed while in use; its %d audit records were "
            "written again to %s",
            path,
            records,
            self._path,
        )

    def _lock_lost(self, path: Path) -> bool:
        """Whether the ``.lock`` file this process holds is no longer ``path``'s."""
        assert self._lock_file is not None
        return not _same_file(path.with_suffix(".lock"), os.fstat(self._lock_file.fileno()))

    def _relock(self, fd: int, path: Path) -> None:
        """This process's ``.lock`` file was removed (or replaced) under it: a sibling could
        claim the data file, append to it and truncate it after its replay, with this
        process's later rows in it. Lock the file again if no one holds it (and read its size
        afresh: someone may have used it meanwhile); else it is the sibling's now, with the
        rows in it, which that sibling replays: write the next rows to a file of our own."""
        try:
            lock = _try_lock(path)
        except OSError:
            lock = None
        if lock is not None:
            assert self._lock_file is not None
            self._lock_file.close()
            self._lock_file = lock
            size = os.fstat(fd).st_size
            self._size, self._torn = size, _ends_torn(fd, size)
            self._generation += 1  # a batch taken before is replayed again, not truncated
            logger.warning(
                "audit outbox lock file %s was removed while in use; locked again",
                path.with_suffix(".lock"),
            )
            return
        self._unclaim()
        logger.warning(
            "audit outbox lock file %s was removed while in use and another process claimed "
            "%s: the records in it are that process's to replay; the next ones go to a new file",
            path.with_suffix(".lock"),
            path,
        )

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


def _same_file(path: Path, opened: os.stat_result) -> bool:
    """Whether ``path`` is still the file ``opened`` describes (not removed, not replaced)."""
    try:
        there = os.stat(path)
    except OSError:
        return False
    return (there.st_dev, there.st_ino) == (opened.st_dev, opened.st_ino)


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

    __slots__ = (
        "generation",
        "invalid",
        "lines",
        "orphan",
        "outbox",
        "path",
        "refused",
        "rows",
        "settled",
        "size",
    )

    def __init__(
        self,
        outbox: AuditOutbox,
        path: Path,
        rows: list[dict[str, Any]],
        size: int,
        orphan: IO[bytes] | None,
        invalid: list[tuple[int, bytes, str]] | None = None,
        lines: list[tuple[int, bytes]] | None = None,
    ) -> None:
        self.outbox = outbox
        self.path = path
        self.rows = rows
        self.size = size
        self.orphan = orphan
        self.invalid = invalid or []  # (line number, line, why) of lines that are no record
        self.lines = lines or []  # (line number, line) of each row, in the same order
        self.refused: set[int] = set()  # line numbers of rows the database refused
        self.generation = 0
        self.settled = False  # done() or release() happened: the next call does nothing

    def refuse(self, refused: dict[int, str]) -> None:
        """Rows the database refused (their index in ``rows``, and why): they leave
        ``rows`` and are set aside with the invalid lines when the batch is done."""
        if not refused:
            return
        for index, why in refused.items():
            number, line = self.lines[index]
            self.invalid.append((number, line, _escaped(why)))
            self.refused.add(number)
        self.invalid.sort(key=lambda entry: entry[0])
        kept = [i for i in range(len(self.rows)) if i not in refused]
        self.rows = [self.rows[i] for i in kept]
        self.lines = [self.lines[i] for i in kept]

    def done(self) -> None:
        """The rows are in the table: forget them (and set the invalid lines aside)."""
        self.outbox._consumed(self)

    def release(self) -> None:
        """The rows could not be written: keep them for later. Does nothing after done()."""
        self.outbox.release(self)


def _encode(row: dict[str, Any]) -> bytes:
    encoded = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
    return json.dumps(encoded, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def _parse(
    data: bytes, check: Callable[[dict[str, Any]], dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], list[tuple[int, bytes]], list[tuple[int, bytes, str]]]:
    """The records of a file's bytes, their lines (number, line), and the lines that are
    none (number, line, why). Whatever a line makes ``json.loads`` or ``check`` raise (an
    ``OverflowError`` for a number past a float's range, say) only sets that line aside."""
    rows: list[dict[str, Any]] = []
    lines_of_rows: list[tuple[int, bytes]] = []
    invalid: list[tuple[int, bytes, str]] = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if number == len(lines):  # no newline after it: cut short by a crash or a full disk
            invalid.append((number, line, "a torn line"))
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"a JSON {type(row).__name__}, not an object")
            rows.append(row if check is None else check(row))
        except Exception as exc:  # any failure is the line's, never the replay's
            why = first_line(exc) or type(exc).__name__
            invalid.append((number, line, _escaped(why)))
        else:
            lines_of_rows.append((number, line))
    return rows, lines_of_rows, invalid


def _escaped(why: str) -> str:
    """A reason fit for one log line: its first 200 characters, non-ASCII escaped."""
    return why[:200].encode("unicode_escape").decode("ascii")


def _open(path: Path) -> int:
    """``path`` opened for appends (and reads), created if missing."""
    return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)


def _read_fd(fd: int, size: int, offset: int = 0) -> bytes:
    """``size`` bytes of an open file from ``offset`` (fewer if it is shorter)."""
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.pread(fd, min(size, 1 << 20), offset)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (``os.write`` may write less) and ``fsync``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _ends_torn(fd: int, size: int) -> bool:
    """Whether the file's last line lacks its newline (a write cut short)."""
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, "" if it has none: for one-line logs."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""
