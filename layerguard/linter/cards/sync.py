"""`cards sync`: rewrite the machine-owned parts of existing cards from the code.

Each card is merged with what the code says now (cards/merge.py, pure); everything else of the
card stays as written. With `write=False` nothing is written and the summary carries each
out-of-date card's unified diff (the CI step).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from layerguard.contracts.cards.model import CardError
from layerguard.contracts.cards.parser import decode_card
from layerguard.contracts.config.model import ProjectConfig
from layerguard.contracts.file_access import UnreadableFileError, read_regular_file
from layerguard.linter.caching.cards import open_card_cache, parse_cached
from layerguard.linter.cards.content import card_content
from layerguard.linter.cards.derive import importers
from layerguard.linter.cards.merge import merge_card
from layerguard.linter.cards.output import write_text
from layerguard.linter.cards.render import card_text
from layerguard.linter.project.build import build_index
from layerguard.linter.project.extraction import Progress, default_jobs


class Synced(Enum):
    CURRENT = "up to date"
    CHANGED = "changed"  # rewritten, or out of date when not writing
    NO_FILE = "no file"  # the card describes no project file (LG301)
    FAILED = "failed"  # the card, or its file, could not be read


@dataclass(frozen=True, slots=True)
class SyncedCard:
    """One card's outcome. `changes` say what changed (one per part); `problems` what could not
    be synced (a card may have both); `diff` is set for out-of-date cards when not writing."""

    card: str
    outcome: Synced
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    diff: str = ""


@dataclass(frozen=True, slots=True)
class SyncSummary:
    written: bool
    cards: list[SyncedCard] = field(default_factory=list)
    cache_written: bool = True  # False: the caches could not be written

    def count(self, outcome: Synced) -> int:
        return sum(1 for card in self.cards if card.outcome is outcome)

    @property
    def failed(self) -> int:
        """Cards that could not be synced, wholly or in part."""
        return sum(1 for card in self.cards if card.problems)


def sync_cards(
    project: ProjectConfig,
    selected: Callable[[str], bool],
    write: bool = True,
    jobs: int | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> SyncSummary:
    """Sync every card of `cards.paths` that `selected` holds for (by the card's path or by
    the path of the file it describes)."""
    built = build_index(project, jobs or default_jobs(), use_cache, None, cache_dir, progress)
    index = built.index
    store = open_card_cache(project.root, use_cache, cache_dir)
    inbound = importers(index)
    summary = SyncSummary(written=write)  # cache_written: once the card parses are saved
    for card_path in sorted(index.cards):
        source_path = index.card_sources.get(card_path)
        if not (selected(card_path) or selected(source_path or "")):
            continue
        location = project.root / card_path
        try:
            data = read_regular_file(location, project.max_file_size_kb * 1024)
        except UnreadableFileError as error:
            problem = f"cannot sync: {error}"
            summary.cards.append(SyncedCard(card_path, Synced.FAILED, problems=(problem,)))
            continue
        decoded = decode_card(data, card_path)
        result = parse_cached(store, data, card_path)
        if isinstance(decoded, CardError) or result.card is None or result.errors:
            problem = (
                "cannot sync: the card has errors "
                f"(`layerguard cards parse {card_path}` shows them)"
            )
            summary.cards.append(SyncedCard(card_path, Synced.FAILED, problems=(problem,)))
            continue
        source = index.files.get(source_path) if source_path else None
        if source is None:
            summary.cards.append(SyncedCard(card_path, Synced.NO_FILE))
            continue
        if source.facts.syntax_error is not None:
            problem = f"cannot sync: {source.path} does not parse (see LG001)"
            summary.cards.append(SyncedCard(card_path, Synced.FAILED, problems=(problem,)))
            continue
        text, bom = decoded
        content = card_content(index, source, inbound.get(source.path, []))
        merged = merge_card(text, result.card, content)
        problems = tuple(f"cannot sync part of it: {p}" for p in merged.problems)
        after = card_text(merged.text)
        if after == text:
            summary.cards.append(SyncedCard(card_path, Synced.CURRENT, problems=problems))
            continue
        diff = ""
        if write:
            written = ("\ufeff" if bom else "") + after
            write_text(location, written, project.root)
            # Parsed now, the card is read from the cache by the next `check`.
            parse_cached(store, written.encode("utf-8"), card_path)
        else:
            diff = _diff(card_path, text, after)
        summary.cards.append(
            SyncedCard(card_path, Synced.CHANGED, tuple(merged.changes), problems, diff)
        )
    return dataclasses.replace(summary, cache_written=built.cache_written and store.save())


def _diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
