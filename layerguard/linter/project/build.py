"""Building the project index: facts of every file (cached, parsed in parallel), the cards, and
what the cards describe outside the project's Python files.

The adapter between the file system and the index: the index and the rules never see a path
on disk. Facts, cards and the index are imported here, inside the function, so that a run
answered by the results cache never imports them.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.project.discovery import NotRead, ProjectFiles, discover, too_large
from layerguard.linter.project.extraction import ExtractionStats

if TYPE_CHECKING:
    from layerguard.contracts.cards.model import CardParseResult
    from layerguard.linter.facts.model import FileFacts
    from layerguard.linter.project.index import ProjectIndex


@dataclass(frozen=True, slots=True)
class IndexBuild:
    """The index of a project, how its facts were obtained, and whether the caches could be
    written (a read-only tree is still checked)."""

    index: ProjectIndex
    extraction: ExtractionStats
    cache_written: bool


def build_index(
    config: ProjectConfig, jobs: int, use_cache: bool, files: ProjectFiles | None = None
) -> IndexBuild:
    """Facts of every project file (cached), the cards, and the index joining them."""
    from layerguard.linter.caching.cards import read_cards_cached
    from layerguard.linter.caching.parses import ParseCache
    from layerguard.linter.facts.settings import ExtractionSettings
    from layerguard.linter.project.extraction import WorkerLimits, collect_facts
    from layerguard.linter.project.index import ProjectIndex

    root = config.root
    files = files or discover(config)
    settings = ExtractionSettings.from_config(config)
    cache = ParseCache.open(root, settings.fingerprint(), enabled=use_cache)
    limits = WorkerLimits(max_file_bytes=files.max_file_bytes)
    candidates = [path for path in (*files.python, *files.cards) if path not in files.not_read]
    not_read = {**files.not_read, **too_large(root, candidates, files.max_file_bytes)}
    readable = [path for path in files.python if path not in not_read]
    facts, stats = collect_facts(root, readable, settings, cache, jobs, limits)
    facts.update(_not_read_facts(files.python, not_read, files.max_file_bytes))
    stats = dataclasses.replace(stats, files=len(files.python))
    written = cache.save()
    readable = [path for path in files.cards if path not in not_read]
    parsed, cards_written = read_cards_cached(root, readable, use_cache)
    cards = {path: result for path, result in parsed.items() if not result.document}
    cards.update(_not_read_cards(root, files.cards, not_read))
    documents = frozenset(path for path, result in parsed.items() if result.document)
    other = card_targets_elsewhere(root, config, cards, facts.keys())
    index = ProjectIndex(config, files.layer_map, facts, cards, other, documents)
    return IndexBuild(index, stats, written and cards_written)


def _not_read_facts(
    python: list[str], not_read: Mapping[str, NotRead], limit: int
) -> dict[str, FileFacts]:
    """The facts of the Python files that are not read: why, and what to do."""
    from layerguard.linter.project.extraction import too_large_facts, unreadable_facts

    return {
        path: too_large_facts(why.size, limit) if why.too_large else unreadable_facts(why.reason)
        for path in python
        if (why := not_read.get(path)) is not None
    }


def _not_read_cards(
    root: Path, cards: list[str], not_read: Mapping[str, NotRead]
) -> dict[str, CardParseResult]:
    """The cards that are not read, each with its LG002 error."""
    from layerguard.contracts.cards.model import CardError, CardParseResult

    results = {}
    for path in cards:
        why = not_read.get(path)
        if why is not None:
            remedy = "narrow `cards.paths` or raise `max_file_size_kb`"
            message = f"not read: {why.reason}; {remedy if why.too_large else 'fix or remove it'}"
            error = CardError(str(root / path), 1, message)
            results[path] = CardParseResult(card=None, errors=(error,))
    return results


def described_elsewhere(
    cards: Mapping[str, CardParseResult], cards_root: str, project_files: Collection[str]
) -> set[str]:
    """The files cards describe that are not project Python files (they may not exist)."""
    from layerguard.contracts.cards.location import card_source_file

    found = set()
    for result in cards.values():
        if result.card is not None:
            source = card_source_file(result.card.source_path.value, cards_root)
            if source is not None and source not in project_files:
                found.add(source)
    return found


def card_targets_elsewhere(
    root: Path,
    config: ProjectConfig,
    cards: Mapping[str, CardParseResult],
    project_files: Collection[str],
) -> frozenset[str]:
    """Files described by cards that exist but are not project Python files (so that rules,
    which never touch the disk, can tell a stale card from one describing an excluded file)."""
    candidates = described_elsewhere(cards, config.cards.root, project_files)
    return frozenset(path for path in candidates if file_status(root / path) is True)


def file_status(path: Path) -> bool | None:
    """Whether a file a card names exists: True, False, or None when the file system cannot
    even say (a name too long, a directory that may not be read): a card can name anything."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError):
        return None
