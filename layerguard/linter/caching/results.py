"""The results cache: a run over a tree nothing changed in reuses the previous findings.

The findings of a run are a pure function of layerguard's code, the contract file, the enabled
rules and the content of every Python file and card. The parse cache already spares the
parsing; this spares loading the facts, indexing and running the rules too, which is most of
a warm run.

The run key holds each input file's stat data (size, nanosecond mtime, ctime, inode), so it
needs no file read, except for "racy" files: a file modified within the timestamp granularity
of now may change again within the same tick, leaving equal stat data over other bytes, so its
content hash goes into the key instead (git's index has the same rule). A racy file larger than
the size limit is not read: it is reported as too large whatever it holds, so its size is key
enough. An edit that keeps the
size and puts the old mtime back (`touch -r`) still moves the ctime.

An entry read back is checked field by field: anything `put` cannot have written is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any

from layerguard.contracts.file_access import (
    DEFAULT_MAX_FILE_BYTES,
    UnreadableFileError,
    read_regular_file,
)
from layerguard.linter.caching.database import CacheDatabase, cache_directory, decoded_json
from layerguard.linter.caching.fingerprint import code_fingerprint
from layerguard.linter.caching.parses import RACY_NS, content_hash
from layerguard.linter.diagnostics import Diagnostic, Severity

_KEPT_RUNS = 8  # a few selections (e.g. pre-commit's and CI's) can stay warm side by side
_SEVERITIES = frozenset(severity.value for severity in Severity)


@dataclass(frozen=True, slots=True)
class CachedRun:
    """A run's findings (before any report filtering) and what they depended on besides the
    key: whether each file a card describes outside the project's Python files exists."""

    diagnostics: list[Diagnostic]
    files: int
    cards: int
    described_elsewhere: dict[str, bool]
    documents: int = 0  # markdown files under `cards.paths` that are not cards
    not_read: int = 0  # of the `files`: not read at all (reported as LG001)


class ResultCache:
    """Findings by run key, in the cache database; `enabled=False` disables it."""

    def __init__(
        self,
        project_root: Path,
        enabled: bool = True,
        cache_dir: Path | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.root = project_root
        self.max_file_bytes = max_file_bytes  # larger files are not read (nor hashed)
        self.database = CacheDatabase(cache_directory(project_root, cache_dir)) if enabled else None

    @property
    def enabled(self) -> bool:
        return self.database is not None

    def key(
        self,
        contract: bytes,
        enabled: Iterable[str],
        python_files: Iterable[str],
        cards: Iterable[str],
    ) -> str | None:
        """The run key, or None when an input file cannot be read (such a run is neither
        answered from nor stored in the cache)."""
        digest = _run_digest(contract, enabled)
        trusted_before = time.time_ns() - RACY_NS
        root = os.fspath(self.root)
        limit = self.max_file_bytes
        parts = []
        for group in (python_files, cards):
            parts.append("\0")
            for path in group:
                full = f"{root}/{path}"  # os.stat of a string: pathlib costs more than the stat
                try:
                    stat = os.stat(full)
                    if not S_ISREG(stat.st_mode):  # never opened (a FIFO would block)
                        return None
                    if max(stat.st_mtime_ns, stat.st_ctime_ns) >= trusted_before:  # racy
                        if stat.st_size > limit:  # "too large" whatever it holds: by its size
                            parts.append(f"{path}\0>{stat.st_size}\n")
                        else:
                            data = read_regular_file(full, limit)  # it may have grown since
                            parts.append(f"{path}\0={content_hash(data)}\n")
                    else:
                        parts.append(
                            f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ctime_ns}\0"
                            f"{stat.st_ino}\n"
                        )
                except (OSError, UnreadableFileError):
                    return None
        digest.update("".join(parts).encode("utf-8", "surrogateescape"))  # undecodable names
        return digest.hexdigest()

    def meaning_key(
        self, contract: bytes, enabled: Iterable[str], meanings: Mapping[str, str]
    ) -> str:
        """The run key by what every input means to the rules (see ProjectLoading.meanings):
        equal for two trees whose facts and cards are equal, whatever their bytes."""
        digest = _run_digest(contract, enabled)
        digest.update(b"\0meanings\0")
        text = "".join(f"{p}\0{meanings[p]}\n" for p in sorted(meanings))
        digest.update(text.encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def get(self, key: str) -> CachedRun | None:
        """The run stored under `key`, if there is one that is whole and still applies."""
        if self.database is None:
            return None
        rows = self.database.read("SELECT data FROM runs WHERE key = ?", (key,))
        self.database.close()
        if not rows:
            return None
        try:
            run = _decode(decoded_json(rows[0][0]))
        except (ValueError, TypeError, KeyError):
            return None
        root = os.fspath(self.root)
        described = run.described_elsewhere
        # os.path.isfile: any name (too long, a NUL in it) is an answer, never an error
        if any(os.path.isfile(f"{root}/{p}") != exists for p, exists in described.items()):
            return None
        return run

    def put(self, key: str, run: CachedRun) -> None:
        """Store a run's findings (keeping the most recent runs)."""
        if self.database is None:
            return
        data = json.dumps(
            {
                "files": run.files,
                "cards": run.cards,
                "documents": run.documents,
                "not_read": run.not_read,
                "described_elsewhere": run.described_elsewhere,
                "diagnostics": [
                    [d.path, d.line, d.col, d.code, d.message, d.severity.value, d.key]
                    for d in run.diagnostics
                ],
            },
            separators=(",", ":"),
        )

        def statements(connection: Any) -> None:
            connection.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (key, data, time.time_ns())
            )
            connection.execute(
                "DELETE FROM runs WHERE key NOT IN "
                "(SELECT key FROM runs ORDER BY written_ns DESC LIMIT ?)",
                (_KEPT_RUNS,),
            )

        self.database.write(statements)  # the parse cache reports an unwritable directory
        self.database.close()


def _decode(data: Any) -> CachedRun:
    """A stored run, checked field by field (ValueError, TypeError or KeyError otherwise)."""
    files, cards, documents = data["files"], data["cards"], data["documents"]
    not_read = data["not_read"]
    if not all(_count(n) for n in (files, cards, documents, not_read)) or not_read > files:
        raise ValueError("bad counts")
    described = data["described_elsewhere"]
    if type(described) is not dict or any(type(v) is not bool for v in described.values()):
        raise ValueError("bad described_elsewhere")
    rows = data["diagnostics"]
    if type(rows) is not list:
        raise ValueError("bad diagnostics")
    diagnostics = []
    for row in rows:
        if type(row) is not list or len(row) != 7:
            raise ValueError("bad diagnostic")
        path, line, col, code, message, severity, finding_key = row
        texts = (path, code, message, finding_key)
        if not (_count(line) and _count(col) and all(type(t) is str for t in texts)):
            raise ValueError("bad diagnostic")
        if severity not in _SEVERITIES:
            raise ValueError("bad severity")
        diagnostics.append(
            Diagnostic(path, line, col, code, message, Severity(severity), finding_key)
        )
    return CachedRun(diagnostics, files, cards, described, documents, not_read)


def _count(value: object) -> bool:
    return type(value) is int and value >= 0


def _run_digest(contract: bytes, enabled: Iterable[str]) -> hashlib.blake2b:
    """What every run key starts with: layerguard's code, the contract, the rules enabled."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(code_fingerprint("contracts", "linter").encode())
    digest.update(hashlib.blake2b(contract, digest_size=16).digest())
    digest.update(",".join(sorted(enabled)).encode())
    return digest
