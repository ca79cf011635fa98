"""The index of `check --changed`'s base revision (adapter: reads git and the facts cache).

The base revision's index is the work tree's with the changed files put back as they were: only
those files are read from git (`git cat-file --batch`) and parsed (from the facts cache when it
knows their content), so the cost grows with the size of the change, not of the project. The
size limit applies as in the work tree: a file larger than it at the base revision is not read
(its size is asked of git first) and is reported there as too large.
"""

from __future__ import annotations

from collections.abc import Collection

from layerguard.contracts.cards.model import CardParseResult
from layerguard.contracts.cards.parser import parse_card_bytes
from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.caching.parses import ParseCache, content_hash
from layerguard.linter.changed.git import GitChanges, files_at, read_at
from layerguard.linter.facts.model import FileFacts
from layerguard.linter.facts.serialize import InvalidFactsDataError, facts_from_data
from layerguard.linter.facts.settings import ExtractionSettings
from layerguard.linter.project.build import (
    described_elsewhere,
    file_status,
    not_read_cards,
    not_read_facts,
)
from layerguard.linter.project.discovery import (
    NotRead,
    card_matcher,
    is_python_file_of,
    too_large_reason,
)
from layerguard.linter.project.index import ProjectIndex


def base_index(index: ProjectIndex, changes: GitChanges, use_cache: bool = True) -> ProjectIndex:
    """The index of the base revision: the changed Python files and cards as they were there."""
    config = index.config
    layer_map = index.layer_map
    is_card = card_matcher(config.cards.paths)
    python = [p for p in changes.paths if is_python_file_of(p, layer_map)]
    cards = [p for p in changes.paths if is_card(p)]
    limit = config.max_file_size_kb * 1024  # as the work tree's files: never read past it
    blobs = read_at(config.root, changes.commit, sorted({*python, *cards}), limit)
    too_large = {
        path: NotRead(too_large_reason(size, limit), size) for path, size in blobs.too_large.items()
    }
    settings = ExtractionSettings.from_config(config)
    cache = ParseCache.open(config.root, settings.fingerprint(), enabled=use_cache)
    facts = {path: source.facts for path, source in index.files.items()}
    for path in python:
        facts.pop(path, None)
    found = {path: blob for path in python if (blob := blobs.content.get(path)) is not None}
    facts.update(_facts(found, settings, cache, limit))
    facts.update(not_read_facts(python, too_large, limit))
    card_results = dict(index.cards)
    for path in cards:
        card_results.pop(path, None)
        blob = blobs.content.get(path)
        parsed = parse_card_bytes(blob, str(config.root / path)) if blob is not None else None
        if parsed is not None and not parsed.document:  # a document was no card there either
            card_results[path] = parsed
    card_results.update(not_read_cards(config.root, cards, too_large))
    other = _card_targets_elsewhere(config, changes, card_results, facts.keys())
    return ProjectIndex(config, layer_map, facts, card_results, other)


def _card_targets_elsewhere(
    config: ProjectConfig,
    changes: GitChanges,
    cards: dict[str, CardParseResult],
    project_files: Collection[str],
) -> frozenset[str]:
    """What `card_targets_elsewhere` finds at the base revision: files the cards describe that
    existed there without being project Python files (changed ones are asked of git)."""
    candidates = described_elsewhere(cards, config.cards.root, project_files)
    changed = candidates & frozenset(changes.paths)
    found = {path for path in candidates - changed if file_status(config.root / path) is True}
    found.update(files_at(config.root, changes.commit, sorted(changed)))
    return frozenset(found)


def _facts(
    blobs: dict[str, bytes], settings: ExtractionSettings, cache: ParseCache, max_bytes: int
) -> dict[str, FileFacts]:
    """Facts of the base revision's files, from the cache or parsed by workers (like the work
    tree's, and as safely: a file that once crashed the parser may lie in the history)."""
    from layerguard.linter.project.extraction import WorkerLimits, default_jobs, extract_all

    facts: dict[str, FileFacts] = {}
    to_parse: dict[str, bytes] = {}
    for path, blob in blobs.items():
        try:
            facts[path] = facts_from_data(cache.get(content_hash(blob)))
        except InvalidFactsDataError:  # not cached, or damaged: parse it
            to_parse[path] = blob
    limits = WorkerLimits(max_file_bytes=max_bytes)
    results = extract_all(list(to_parse.values()), settings, default_jobs(), limits)
    for path, (_, data) in zip(to_parse, results, strict=True):
        facts[path] = facts_from_data(data)
    return facts
