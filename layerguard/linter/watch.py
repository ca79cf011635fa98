"""`layerguard check --watch`: check once, then again after every save, from an index kept in
memory.

A saved Python file is parsed again (through the parse cache, so that the next plain `check`
finds it there) and its facts are put into the index in place; the rules then run over the
index as they would on a fresh one. That is what makes a re-check cost the parse of one file
and one pass of the rules, not the loading of every file's facts. Files that appear or
disappear, an edited card or contract, rebuild the index (from the caches). The watcher is
watchfiles, an optional extra imported only here.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import load_config
from layerguard.contracts.config.model import CONFIG_FILE_NAME, ProjectConfig
from layerguard.linter.baseline.file import BASELINE_FILE_NAME
from layerguard.linter.caching.database import cache_directory
from layerguard.linter.check import Analysis, CheckOptions, CheckResult, report
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.errors import UsageError
from layerguard.linter.project.discovery import (
    ALWAYS_SKIPPED_DIRS,
    card_matcher,
    discover,
    is_python_file_of,
)

if TYPE_CHECKING:
    from layerguard.linter.project.index import ProjectIndex

WATCH_EXTRA = "pip install 'layerguard[watch]'"


class WatcherMissingError(UsageError):
    """--watch without the watchfiles package."""


@dataclass(frozen=True, slots=True)
class WatchUpdate:
    """One check of a watch session: the first one (`changed` empty), then one per batch of
    saved files. `error` is set instead of a result when the contract became invalid."""

    result: CheckResult | None
    changed: tuple[str, ...]
    seconds: float  # from the saves being noticed to the result
    new: int = 0  # findings the previous check did not report
    fixed: int = 0  # findings the previous check reported and this one does not
    error: str | None = None


def watch(
    project: ProjectConfig, options: CheckOptions, stop: threading.Event | None = None
) -> Iterator[WatchUpdate]:
    """The first check, then one update per batch of saves, until `stop` is set (or the
    process is interrupted). Raises WatcherMissingError without watchfiles.

    The watcher runs on a thread and is watching before the first check starts: a file saved
    during the first check, or just after its report, is never missed."""
    try:
        import watchfiles
    except ImportError:
        raise WatcherMissingError(
            f"--watch needs the watchfiles package, which is not installed: {WATCH_EXTRA}"
        ) from None
    session = _Session(project, options)
    stopping = threading.Event()
    batches: queue.Queue[set[tuple[Any, str]]] = queue.Queue()
    watching = threading.Event()

    def watch_files() -> None:
        for batch in watchfiles.watch(
            project.root,
            watch_filter=lambda _change, path: session.wanted(path) or session.holds_files(path),
            stop_event=stopping,
            debounce=800,
            step=30,
            rust_timeout=200,
            yield_on_timeout=True,  # an empty batch: the watcher is running
            raise_interrupt=False,
        ):
            watching.set()
            if batch:
                batches.put(batch)

    watcher = threading.Thread(target=watch_files, name="layerguard-watch", daemon=True)
    watcher.start()
    try:
        watching.wait(timeout=10)
        previous = session.check_all()
        yield WatchUpdate(previous, (), previous.elapsed)
        while stop is None or not stop.is_set():
            try:
                batch = batches.get(timeout=0.2)
            except queue.Empty:
                continue
            while not batches.empty():  # saves made during the previous re-check
                batch |= batches.get()
            started = time.perf_counter()
            changed = session.changed_files(batch)
            if not changed:  # a directory without a file the check reads
                continue
            try:
                result = session.recheck(changed)
            except ConfigError as error:
                yield WatchUpdate(None, changed, time.perf_counter() - started, error=str(error))
                continue
            new, fixed = _difference(previous.diagnostics, result.diagnostics)
            yield WatchUpdate(result, changed, time.perf_counter() - started, new, fixed)
            previous = result
    finally:
        stopping.set()
        watcher.join(timeout=5)


def _difference(before: list[Diagnostic], after: list[Diagnostic]) -> tuple[int, int]:
    """(new, fixed) findings, by identity (path, code, key), not by line: an edit that moves
    a finding down does not make it new."""
    old = Counter((d.path, d.code, d.key) for d in before)
    now = Counter((d.path, d.code, d.key) for d in after)
    return sum((now - old).values()), sum((old - now).values())


class _Session:
    """The project as the watch session knows it: its contract, files and index."""

    def __init__(self, project: ProjectConfig, options: CheckOptions) -> None:
        self.options = options
        self.root = project.root
        self.cache_dir = cache_directory(project.root, options.cache_dir)
        self.baseline_path = (options.baseline or project.root / BASELINE_FILE_NAME).absolute()
        self._load(project)

    def _load(self, project: ProjectConfig) -> None:
        self.project = project
        self.config_path = project.path or project.root / CONFIG_FILE_NAME
        self.is_card = card_matcher(project.cards.paths)
        self._discover()
        self.index: ProjectIndex | None = None

    def _discover(self) -> None:
        self.files = discover(self.project)
        self.directories = {
            "/".join(parts[:end])
            for path in (*self.files.python, *self.files.cards)
            for parts in [path.split("/")]
            for end in range(1, len(parts))
        }

    def relative(self, path: str) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path

    def wanted(self, path: str) -> bool:
        """Whether a change to `path` can change the findings."""
        if Path(path) in (self.config_path, self.baseline_path):
            return True
        if Path(path).is_relative_to(self.cache_dir):
            return False
        relative = self.relative(path)
        if any(part in ALWAYS_SKIPPED_DIRS for part in relative.split("/")[:-1]):
            return False
        return is_python_file_of(relative, self.files.layer_map) or self.is_card(relative)

    def holds_files(self, path: str) -> bool:
        """Whether `path` is a directory that may hold files the check reads: one that
        appeared (the watcher may report it without the files written into it before it was
        watched: inotify watches a new directory only once it has seen it created) or one
        that held some (moved away, its files are not reported one by one)."""
        relative = self.relative(path)
        if relative in self.directories:
            return True
        if any(part in ALWAYS_SKIPPED_DIRS for part in relative.split("/")):
            return False  # before the system call: most events are in .git, .venv, ...
        return not Path(path).is_relative_to(self.cache_dir) and os.path.isdir(path)

    def changed_files(self, batch: set[tuple[Any, str]]) -> tuple[str, ...]:
        """The project-relative files the check reads among the changes of a batch (watchfiles'
        (Change, path) pairs), a directory that appeared or went standing for every such file
        under it, now or in the index."""
        from watchfiles import Change

        changed: set[str] = set()
        for change, path in batch:
            relative = self.relative(path)
            if os.path.isdir(path):
                if change == Change.modified:  # its metadata: its files report their own
                    continue
                for directory, subdirectories, names in os.walk(path):
                    subdirectories[:] = [d for d in subdirectories if d not in ALWAYS_SKIPPED_DIRS]
                    found = (os.path.join(directory, name) for name in names)
                    changed.update(self.relative(file) for file in found if self.wanted(file))
            elif relative in self.directories:
                inside = relative + "/"
                known = (*self.files.python, *self.files.cards)
                changed.update(file for file in known if file.startswith(inside))
            else:
                changed.add(relative)
        return tuple(sorted(changed))

    def check_all(self) -> CheckResult:
        """A check over a freshly built index (from the caches)."""
        from layerguard.linter.project.build import build_index

        started = time.perf_counter()
        options = self.options
        built = build_index(
            self.project, options.jobs, options.use_cache, self.files, options.cache_dir
        )
        self.index = built.index
        self.extraction = built.extraction
        return self._report(started, built.cache_written)

    def recheck(self, changed: tuple[str, ...]) -> CheckResult:
        """Check again after `changed` (project-relative paths) were saved."""
        if self.config_path.relative_to(self.root).as_posix() in changed:
            self._load(load_config(self.config_path))
            return self.check_all()
        index = self.index
        assert index is not None
        modified = []
        for path in changed:
            entry = self.root / path
            exists = os.path.lexists(entry)  # whatever it is: a FIFO, a device, a link
            plain = exists and not entry.is_symlink() and entry.is_file()
            if self.is_card(path) or exists != (path in index.files) or (exists and not plain):
                if self.is_card(path) or is_python_file_of(path, self.files.layer_map):
                    # Appeared, disappeared, a card, or no regular file (which discovery
                    # reports, and which is never read): as a fresh check sees it.
                    self._discover()
                    return self.check_all()
            elif exists:
                modified.append(path)
        started = time.perf_counter()
        if modified:
            self._reparse(index, modified)
        return self._report(started, True)

    def _reparse(self, index: ProjectIndex, paths: list[str]) -> None:
        from layerguard.linter.caching.parses import ParseCache
        from layerguard.linter.facts.settings import ExtractionSettings
        from layerguard.linter.project.build import not_read_facts
        from layerguard.linter.project.discovery import too_large
        from layerguard.linter.project.extraction import (
            ExtractionStats,
            WorkerLimits,
            collect_facts,
        )

        settings = ExtractionSettings.from_config(self.project)
        options = self.options
        cache = ParseCache.open(
            self.root, settings.fingerprint(), options.use_cache, cache_dir=options.cache_dir
        )
        limit = self.files.max_file_bytes  # as a check reads them: the same size limit
        not_read = too_large(self.root, paths, limit)
        readable = [path for path in paths if path not in not_read]
        limits = WorkerLimits(max_file_bytes=limit)
        facts, stats = collect_facts(self.root, readable, settings, cache, 1, limits)
        facts.update(not_read_facts(paths, not_read, limit))
        cache.save()
        for path, new in facts.items():
            index.replace_facts(path, new)
        files = len(index.files)
        unread = sum(1 for source in index.files.values() if source.facts.unread)
        self.extraction = ExtractionStats(
            files, stats.parsed, files - stats.parsed - unread, 1, unread
        )

    def _report(self, started: float, cache_written: bool) -> CheckResult:
        from layerguard.linter.rules.runner import run_rules

        index = self.index
        assert index is not None
        diagnostics = run_rules(index, self.options.enabled)
        documents = len(index.documents)
        analysis = Analysis(
            diagnostics, self.extraction, len(index.cards), documents, index, cache_written
        )
        return report(self.project, self.options, analysis, started)
