"""The results cache: a run over a tree nothing changed in reuses the previous findings.

The findings of a run are a pure function of the tool version, the contract file, the enabled
rules and the content of every Python file and card. The facts cache already spares the
parsing; this spares loading the facts, indexing and running the rules too, which is most of
a warm run. The key holds each input file's size and mtime, so it needs no file read; a file
modified within the timestamp granularity of the run that wrote the entry makes the entry
untrustworthy ("racy", as in git's index) and the run is done in full.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerguard._version import __version__
from layerguard.linter.caching.fingerprint import code_fingerprint
from layerguard.linter.caching.parses import CACHE_DIR_NAME, RACY_SECONDS
from layerguard.linter.diagnostics import Diagnostic, Severity

_FILE_NAME = f"results-v{__version__}.json"
_KEPT_ENTRIES = 4  # a few selections (e.g. pre-commit's and CI's) can stay warm side by side


@dataclass(frozen=True, slots=True)
class CachedRun:
    """A run's findings (before any report filtering) and what they depended on besides the
    key: whether each file a card describes outside the project's Python files exists."""

    diagnostics: list[Diagnostic]
    files: int
    cards: int
    described_elsewhere: dict[str, bool]
    documents: int = 0  # markdown files under `cards.paths` that are not cards


class ResultCache:
    """Findings by run key; `None` path disables it."""

    def __init__(self, project_root: Path, enabled: bool = True) -> None:
        self.path = project_root / CACHE_DIR_NAME / _FILE_NAME if enabled else None
        self.root = project_root
        self._entries: dict[str, Any] = {}
        if self.path is None:
            return
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            # absent or unreadable: every lookup misses, the next run rewrites it
            self._entries = dict(json.loads(self.path.read_bytes())["entries"])

    def key(
        self,
        contract: bytes,
        enabled: Iterable[str],
        python_files: Iterable[str],
        cards: Iterable[str],
    ) -> str | None:
        """The run key, or None when an input file is racy or unreadable (always run).

        A file modified in the last seconds could change again within the same mtime tick
        after this run read it; such a run is neither answered from nor stored in the cache.
        """
        digest = hashlib.blake2b(digest_size=16)
        digest.update(code_fingerprint("contracts", "linter").encode())
        digest.update(hashlib.blake2b(contract, digest_size=16).digest())
        digest.update(",".join(sorted(enabled)).encode())
        trusted_before = time.time() - RACY_SECONDS
        for group in (python_files, cards):
            digest.update(b"\0")
            for path in group:
                try:
                    stat = os.stat(self.root / path)
                except OSError:
                    return None
                if stat.st_mtime_ns / 1e9 >= trusted_before:
                    return None
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def get(self, key: str) -> CachedRun | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        described = entry["described_elsewhere"]
        if any((self.root / path).is_file() != exists for path, exists in described.items()):
            return None
        diagnostics = [
            Diagnostic(path, line, col, code, message, Severity(severity), finding_key)
            for path, line, col, code, message, severity, finding_key in entry["diagnostics"]
        ]
        return CachedRun(diagnostics, entry["files"], entry["cards"], described, entry["documents"])

    def put(self, key: str, run: CachedRun) -> None:
        """Store a run's findings (keeping the most recent entries) and write the file."""
        if self.path is None:
            return
        self._entries.pop(key, None)
        self._entries[key] = {
            "files": run.files,
            "cards": run.cards,
            "documents": run.documents,
            "described_elsewhere": run.described_elsewhere,
            "diagnostics": [
                [d.path, d.line, d.col, d.code, d.message, d.severity.value, d.key]
                for d in run.diagnostics
            ],
        }
        while len(self._entries) > _KEPT_ENTRIES:
            del self._entries[next(iter(self._entries))]
        payload = {"entries": self._entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(payload, separators=(",", ":")))
            os.replace(tmp, self.path)
        except OSError:
            pass  # the facts cache reports an unwritable cache directory already
