"""One `check` run: discover, extract (cached, parallel), index, run rules, suppress, filter.

This is the adapter between the file system and the pure parts: rules and the index never
see a path on disk.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from layerguard.contracts.cards.model import CardParseResult
from layerguard.contracts.config.errors import ConfigError, ConfigProblem
from layerguard.contracts.config.model import ProjectConfig
from layerguard.contracts.layers import LayerMap
from layerguard.linter.cache import FactsCache
from layerguard.linter.card_reading import read_cards_cached
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.discovery import discover_cards, discover_python_files
from layerguard.linter.extraction import ExtractionStats, collect_facts, default_jobs
from layerguard.linter.facts.settings import ExtractionSettings
from layerguard.linter.index import ProjectIndex
from layerguard.linter.rules import INDEX_RULES, RULES_BY_CODE, SUPPRESSION_RULES
from layerguard.linter.rules.suppressions import apply_suppressions


@dataclass(frozen=True, slots=True)
class CheckOptions:
    enabled: frozenset[str]
    report_paths: tuple[str, ...] = ()  # project-relative files/dirs; empty = everything
    jobs: int = field(default_factory=default_jobs)
    use_cache: bool = True


@dataclass(frozen=True, slots=True)
class CheckResult:
    diagnostics: list[Diagnostic]
    extraction: ExtractionStats
    cards: int
    elapsed: float
    index: ProjectIndex
    cache_written: bool = True


def build_index(
    config: ProjectConfig, jobs: int, use_cache: bool
) -> tuple[ProjectIndex, ExtractionStats, bool]:
    """Facts of every project file (cached), the cards, and the index joining them."""
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
    settings = ExtractionSettings.from_config(config)
    cache = FactsCache.open(root, settings.fingerprint(), enabled=use_cache)
    facts, stats = collect_facts(root, paths, settings, cache, jobs)
    written = cache.save()
    cards, cards_written = read_cards_cached(
        root, discover_cards(root, config.cards.paths), use_cache
    )
    other = card_targets_elsewhere(root, config, cards, facts.keys())
    index = ProjectIndex(config, layer_map, facts, cards, other)
    return index, stats, written and cards_written


def read_cards(
    root: Path, config: ProjectConfig, use_cache: bool = True
) -> dict[str, CardParseResult]:
    """Every card of `cards.paths`, parsed (from the card cache when unchanged)."""
    return read_cards_cached(root, discover_cards(root, config.cards.paths), use_cache)[0]


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


def _reported(path: str, report_paths: Sequence[str]) -> bool:
    return any(
        path == wanted or wanted in ("", ".") or path.startswith(wanted.rstrip("/") + "/")
        for wanted in report_paths
    )


def run_check(config: ProjectConfig, options: CheckOptions) -> CheckResult:
    started = time.perf_counter()
    index, stats, written = build_index(config, options.jobs, options.use_cache)
    diagnostics = run_rules(index, options.enabled)
    if options.report_paths:
        diagnostics = [d for d in diagnostics if _reported(d.path, options.report_paths)]
    diagnostics.sort()
    return CheckResult(
        diagnostics=diagnostics,
        extraction=stats,
        cards=len(index.cards),
        elapsed=time.perf_counter() - started,
        index=index,
        cache_written=written,
    )
