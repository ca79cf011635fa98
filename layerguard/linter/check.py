"""The check use case: one `layerguard check`, from the contract to the findings it reports.

discover → index (facts cached, parsed in parallel) → rules → suppressions → `--changed`
narrowing → path filter → baseline (→ with `--fix`, the safe fixes, then all of it again). The
command line hands its options to `check` and prints the result; failures are exceptions
(`ConfigError`, `UsageError`), never exits. A run over a
tree where no input changed is answered by the results cache, which is why facts, cards, the
index and the rules are imported only when the run is not: a warm run imports little more than
the contract.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import CONFIG_FILE_NAME, MAX_CONFIG_BYTES, ProjectConfig
from layerguard.contracts.file_access import UnreadableFileError, read_regular_file
from layerguard.linter.caching.results import CachedRun, ResultCache
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.discovery import ProjectFiles, discover, selected_by
from layerguard.linter.project.extraction import ExtractionStats, Progress, default_jobs

if TYPE_CHECKING:
    from layerguard.linter.baseline.apply import BaselineApplied
    from layerguard.linter.project.index import ProjectIndex


@dataclass(frozen=True, slots=True)
class CheckOptions:
    enabled: frozenset[str]
    report_paths: tuple[str, ...] = ()  # project-relative files/dirs; empty = everything
    jobs: int = field(default_factory=default_jobs)
    use_cache: bool = True
    cache_dir: Path | None = None  # None: $LAYERGUARD_CACHE_DIR, else .layerguard_cache/
    changed_since: str | None = None  # report only what changed since this revision
    baseline: Path | None = None  # None: the default baseline file, when it exists
    use_baseline: bool = True
    fix: bool = False  # apply the safe fixes to what the run reports, then report what remains
    progress: Progress | None = field(default=None, compare=False)  # parsing, as it goes


@dataclass(frozen=True, slots=True)
class CardFix:
    """A card `--fix` rewrote, and what changed in it (as `cards sync` says it)."""

    card: str
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChangedFiles:
    """What `--changed` reported on: `files` in all, `changed` of them changed since `base`
    (the others are affected by those changes)."""

    base: str
    files: int
    changed: int


@dataclass(frozen=True, slots=True)
class CheckResult:
    diagnostics: list[Diagnostic]
    extraction: ExtractionStats
    cards: int
    elapsed: float
    documents: int = 0  # markdown files under `cards.paths` that are not cards, skipped
    fixed: int = 0  # findings `--fix` removed (the diagnostics are the remaining ones)
    fixes: tuple[CardFix, ...] = ()  # what `--fix` changed, card by card
    cache_written: bool = True
    changed: ChangedFiles | None = None
    baseline: BaselineApplied | None = None

    @property
    def failing(self) -> int:
        """The findings that fail the run (exit status 1): all but the informational ones."""
        return sum(1 for d in self.diagnostics if d.severity.value != "info")


@dataclass(frozen=True, slots=True)
class Analysis:
    """Every finding of the enabled rules over the whole project, before any narrowing."""

    diagnostics: list[Diagnostic]
    extraction: ExtractionStats
    cards: int
    documents: int
    index: ProjectIndex | None  # None when the findings came from the results cache
    cache_written: bool


def check(project: ProjectConfig, options: CheckOptions) -> CheckResult:
    """The findings of `options.enabled` that the run reports (raises ConfigError for a
    contract that does not fit the tree, UsageError when git or the baseline cannot answer)."""
    with _collector_paused():
        return _check(project, options)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for one check, as in the parse workers. A check builds
    a heap of hundreds of thousands of small objects (facts, cards, the index) that it keeps to
    the end and reference counting frees; the collector would walk all of it again each time
    the heap grew by a quarter (measured: 40 ms of the 2,000-file benchmark's run after an
    import edit). What cycles a check leaves are collected after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _check(project: ProjectConfig, options: CheckOptions) -> CheckResult:
    started = time.perf_counter()
    files = discover(project)
    analysis = _analyse(project, files, options, need_index=options.changed_since is not None)
    return report(project, options, analysis, started)


def report(
    project: ProjectConfig, options: CheckOptions, analysis: Analysis, started: float
) -> CheckResult:
    """What a run reports of `analysis`: `--changed` narrowing, the path filter, the baseline
    (`check --watch` hands in the analysis of the index it keeps in memory)."""
    in_scope = selected_by(options.report_paths)
    changed = None
    if options.changed_since is not None:
        from layerguard.linter.changed.affected import CHANGED
        from layerguard.linter.changed.git import GitError
        from layerguard.linter.changed.scope import changed_scope

        assert analysis.index is not None
        try:
            affected = changed_scope(
                analysis.index,
                analysis.diagnostics,
                options.changed_since,
                options.enabled,
                options.use_cache,
                in_scope,
            )
        except GitError as error:
            raise GitError(f"--changed: {error}") from None
        reported = in_scope
        shown = affected.files | affected.deleted

        def in_scope(path: str) -> bool:
            return reported(path) and path in shown

        changed_count = sum(1 for reason in affected.reasons.values() if reason == CHANGED)
        changed = ChangedFiles(options.changed_since, len(affected.files), changed_count)
    diagnostics = [d for d in analysis.diagnostics if in_scope(d.path)]
    applied = None
    if options.use_baseline:
        # Only now: applying a baseline imports the baseline model, which a run without one
        # never needs.
        from layerguard.linter.baseline.apply import apply_baseline

        diagnostics, applied = apply_baseline(
            diagnostics, project, options.enabled, options.baseline, in_scope
        )
    result = CheckResult(
        diagnostics=sorted(diagnostics),
        extraction=analysis.extraction,
        cards=analysis.cards,
        documents=analysis.documents,
        elapsed=time.perf_counter() - started,
        cache_written=analysis.cache_written,
        changed=changed,
        baseline=applied,
    )
    return _fixed(project, options, result, started) if options.fix else result


def _fixed(
    project: ProjectConfig, options: CheckOptions, result: CheckResult, started: float
) -> CheckResult:
    """Apply the safe fixes to the findings `result` reports, then check again.

    Today the safe fixes are the cards' drift (FIXED_BY_CARD_SYNC): `cards sync` rewrites the
    machine-owned parts of the reported cards exactly as the rules expect them, keeping every
    hand-written byte. Only reported findings are fixed: a baselined, suppressed or unselected
    one, or one outside PATHS, is left alone.
    """
    from layerguard.linter.cards.sync import Synced, sync_cards
    from layerguard.linter.rules.codes import FIXED_BY_CARD_SYNC

    cards = {d.path for d in result.diagnostics if d.code in FIXED_BY_CARD_SYNC}
    if not cards:
        return result
    summary = sync_cards(
        project, cards.__contains__, write=True, jobs=options.jobs, use_cache=options.use_cache
    )
    fixes = tuple(
        CardFix(card.card, card.changes) for card in summary.cards if card.outcome is Synced.CHANGED
    )
    if not fixes:
        return result
    after = check(project, replace(options, fix=False))
    remaining = Counter((d.path, d.code, d.key) for d in after.diagnostics)
    fixed = 0
    for finding in result.diagnostics:
        key = (finding.path, finding.code, finding.key)
        if remaining[key]:
            remaining[key] -= 1
        else:
            fixed += 1
    return replace(after, fixed=fixed, fixes=fixes, elapsed=time.perf_counter() - started)


def _analyse(
    project: ProjectConfig, files: ProjectFiles, options: CheckOptions, need_index: bool
) -> Analysis:
    """The whole project's findings: from the results cache when no input changed (and the
    caller needs no index), else from the rules over a fresh index."""
    read = _contract_bytes(project)
    usable = options.use_cache and read is not None
    results = ResultCache(project.root, usable, options.cache_dir, files.max_file_bytes)
    contract = read or b""  # unread, the results cache is off
    key = None
    if results.enabled:
        key = results.key(contract, options.enabled, files.python, files.cards)
    cached = results.get(key) if key is not None and not need_index else None
    if cached is not None:
        stats = ExtractionStats(
            cached.files,
            parsed=0,
            cached=cached.files - cached.not_read,
            jobs=options.jobs,
            not_read=cached.not_read,
        )
        return Analysis(cached.diagnostics, stats, cached.cards, cached.documents, None, True)

    from layerguard.linter.project.build import ProjectLoading
    from layerguard.linter.rules.runner import run_rules

    loading = ProjectLoading(
        project, options.jobs, options.use_cache, files, options.cache_dir, options.progress
    )
    try:
        # Something changed, yet maybe nothing the rules read: an edit inside a function that
        # moves no line leaves every fact as it was, and so every finding. The workers parse
        # what changed while the rest is loaded; their answers say whether it is needed.
        meaning = None
        if key is not None:
            loading.work_ahead(until=loading.answered)
            meanings = loading.meanings()
            if meanings is not None:
                meaning = results.meaning_key(contract, options.enabled, meanings)
                cached = results.get(meaning) if not need_index else None
                if cached is not None:
                    written = loading.save()
                    if key == results.key(contract, options.enabled, files.python, files.cards):
                        results.put(key, cached)
                    return Analysis(
                        cached.diagnostics,
                        loading.extraction,
                        cached.cards,
                        cached.documents,
                        None,
                        written,
                    )
        built = loading.index()
    finally:
        loading.close()
    index = built.index
    diagnostics = run_rules(index, options.enabled)
    run = CachedRun(
        diagnostics,
        built.extraction.files,
        len(index.cards),
        _elsewhere(index),
        len(index.documents),
        built.extraction.not_read,
    )
    # Stored only if no input changed while the run read them: the findings are then those of
    # the key's inputs, and of the meanings read on the way (a card is hashed for its meaning
    # before it is parsed; saved in between, its new findings would stand for its old meaning).
    if key is not None and key == results.key(contract, options.enabled, files.python, files.cards):
        if meaning is not None:
            results.put(meaning, run)
        results.put(key, run)
    return Analysis(
        diagnostics,
        built.extraction,
        len(index.cards),
        len(index.documents),
        index,
        built.cache_written,
    )


def _contract_bytes(config: ProjectConfig) -> bytes | None:
    """The contract as the results cache keys it: the file, and what the command line
    overrides of it (`--max-file-size-kb`); None when it cannot be read again (replaced since
    it was loaded: the run is not cached)."""
    try:
        written = read_regular_file(config.path or config.root / CONFIG_FILE_NAME, MAX_CONFIG_BYTES)
    except UnreadableFileError:
        return None
    return written + f"\0max_file_size_kb={config.max_file_size_kb}".encode()


def _elsewhere(index: ProjectIndex) -> dict[str, bool]:
    """Files cards describe that are not project Python files, and whether each exists:
    the one input of the rules besides Python files and cards (stale cards, LG301)."""
    from layerguard.linter.project.build import file_status

    root = index.config.root
    return {
        source: source in index.other_files
        for source in index.card_sources.values()
        if source is not None
        and source not in index.files
        # A name the file system cannot hold (too long) never changes; one it cannot answer
        # for cannot be watched: the results cache only looks at the others.
        and file_status(root / source) is not None
    }
