"""One `check` run: discover, extract (cached, parallel), index, run rules, suppress, filter.

This is the adapter between the file system and the pure parts: rules and the index never
see a path on disk. Facts, cards, the index and the rules are imported only when the run is
not answered by the results cache: a warm run imports little more than the contract.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.contracts.config.errors import ConfigError, ConfigProblem
from layerguard.contracts.config.model import CONFIG_FILE_NAME, ProjectConfig
from layerguard.contracts.layers import LayerMap
from layerguard.linter.caching.results import CachedRun, ResultCache
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.project.discovery import discover_cards, discover_python_files
from layerguard.linter.project.extraction import ExtractionStats, default_jobs

if TYPE_CHECKING:
    from layerguard.contracts.cards.model import CardParseResult
    from layerguard.linter.project.index import ProjectIndex


@dataclass(frozen=True, slots=True)
class CheckOptions:
    enabled: frozenset[str]
    report_paths: tuple[str, ...] = ()  # project-relative files/dirs; empty = everything
    jobs: int = field(default_factory=default_jobs)
    use_cache: bool = True
    need_index: bool = False  # the caller reads `CheckResult.index` (never from the results cache)


@dataclass(frozen=True, slots=True)
class CheckResult:
    diagnostics: list[Diagnostic]
    extraction: ExtractionStats
    cards: int
    elapsed: float
    index: ProjectIndex | None  # None when the findings came from the results cache
    cache_written: bool = True


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """What a run reads: the contract's layer map, the Python files and the cards."""

    layer_map: LayerMap
    python: list[str]
    cards: list[str]


def discover(config: ProjectConfig) -> ProjectFiles:
    """The project's files; a missing source root or a file two layers claim is a config error."""
    root = config.root
    layer_map = LayerMap(config)
    for source_root in layer_map.source_roots:
        if not (root / source_root).is_dir():
            key = f"source_roots[{config.source_roots.index(source_root)}]"
            problem = ConfigProblem(
                config.path or root, config.line_of(key), key, f"'{source_root}' is not a directory"
            )
            raise ConfigError([problem])
    paths = discover_python_files(root, layer_map.source_roots, layer_map.is_excluded)
    problems = layer_map.check_files(paths)
    if problems:
        raise ConfigError(problems)
    return ProjectFiles(layer_map, paths, discover_cards(root, config.cards.paths))


def build_index(
    config: ProjectConfig, jobs: int, use_cache: bool, files: ProjectFiles | None = None
) -> tuple[ProjectIndex, ExtractionStats, bool]:
    """Facts of every project file (cached), the cards, and the index joining them."""
    from layerguard.linter.caching.cards import read_cards_cached
    from layerguard.linter.caching.store import FactsCache
    from layerguard.linter.facts.settings import ExtractionSettings
    from layerguard.linter.project.extraction import collect_facts
    from layerguard.linter.project.index import ProjectIndex

    root = config.root
    files = files or discover(config)
    settings = ExtractionSettings.from_config(config)
    cache = FactsCache.open(root, settings.fingerprint(), enabled=use_cache)
    facts, stats = collect_facts(root, files.python, settings, cache, jobs)
    written = cache.save()
    cards, cards_written = read_cards_cached(root, files.cards, use_cache)
    other = card_targets_elsewhere(root, config, cards, facts.keys())
    index = ProjectIndex(config, files.layer_map, facts, cards, other)
    return index, stats, written and cards_written


def card_targets_elsewhere(
    root: Path,
    config: ProjectConfig,
    cards: dict[str, CardParseResult],
    project_files: Collection[str],
) -> frozenset[str]:
    """Files described by cards that exist but are not project Python files (so that rules,
    which never touch the disk, can tell a stale card from one describing an excluded file)."""
    from layerguard.contracts.cards.location import card_source_file

    found = set()
    for result in cards.values():
        if result.card is None:
            continue
        source = card_source_file(result.card.source_path.value, config.cards.root)
        if source is not None and source not in project_files and (root / source).is_file():
            found.add(source)
    return frozenset(found)


def run_rules(index: ProjectIndex, enabled: frozenset[str]) -> list[Diagnostic]:
    from layerguard.linter.rules.registry import INDEX_RULES, RULES_BY_CODE, SUPPRESSION_RULES
    from layerguard.linter.rules.suppressions import apply_suppressions

    findings: list[Diagnostic] = []
    for rule_class in INDEX_RULES:
        if rule_class.code in enabled:
            findings.extend(rule_class().check(index))
    outcome = apply_suppressions(index, findings, enabled, frozenset(RULES_BY_CODE))
    kept = outcome.kept
    for suppression_rule in SUPPRESSION_RULES:
        if suppression_rule.code in enabled:
            kept.extend(suppression_rule().check_suppressions(index, outcome))
    return kept


def reported_by(report_paths: Sequence[str]) -> Callable[[str], bool]:
    """Whether a project-relative path is one PATHS select (every path when none are given, or
    when one is the project root)."""
    if not report_paths or any(wanted in ("", ".") for wanted in report_paths):
        return lambda path: True
    exact = frozenset(report_paths)
    prefixes = tuple(wanted.rstrip("/") + "/" for wanted in report_paths)
    return lambda path: path in exact or path.startswith(prefixes)


def _contract_bytes(config: ProjectConfig) -> bytes:
    try:
        return (config.path or config.root / CONFIG_FILE_NAME).read_bytes()
    except OSError:
        return b""


def _described_elsewhere(index: ProjectIndex) -> dict[str, bool]:
    """Files cards describe that are not project Python files, and whether each exists:
    the one input of the rules besides Python files and cards (stale cards, LG301)."""
    return {
        source: source in index.other_files
        for source in index.card_sources.values()
        if source is not None and source not in index.files
    }


def run_check(config: ProjectConfig, options: CheckOptions) -> CheckResult:
    started = time.perf_counter()
    files = discover(config)
    results = ResultCache(config.root, enabled=options.use_cache)
    key = None
    if results.path is not None:
        key = results.key(_contract_bytes(config), options.enabled, files.python, files.cards)
    cached = results.get(key) if key is not None and not options.need_index else None
    index: ProjectIndex | None = None
    written = True
    if cached is not None:
        diagnostics = cached.diagnostics
        stats = ExtractionStats(
            files=cached.files, parsed=0, cached=cached.files, jobs=options.jobs
        )
        cards = cached.cards
    else:
        index, stats, written = build_index(config, options.jobs, options.use_cache, files)
        diagnostics = run_rules(index, options.enabled)
        cards = len(index.cards)
        if key is not None:
            run = CachedRun(diagnostics, stats.files, cards, _described_elsewhere(index))
            results.put(key, run)
    if options.report_paths:
        reported = reported_by(options.report_paths)
        diagnostics = [d for d in diagnostics if reported(d.path)]
    return CheckResult(
        diagnostics=sorted(diagnostics),
        extraction=stats,
        cards=cards,
        elapsed=time.perf_counter() - started,
        index=index,
        cache_written=written,
    )
