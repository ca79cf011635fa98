"""Building the project index: facts of every file (cached, parsed in parallel), the cards, and
what the cards describe outside the project's Python files.

The adapter between the file system and the index: the index and the rules never see a path
on disk. Facts, cards and the index are imported here, inside the function, so that a run
answered by the results cache never imports them.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import stat
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.facts.model import FileFacts
from layerguard.linter.project.discovery import NotRead, ProjectFiles, discover, too_large
from layerguard.linter.project.extraction import ExtractionStats, Progress

if TYPE_CHECKING:
    from layerguard.contracts.cards.model import CardParseResult
    from layerguard.linter.project.index import ProjectIndex


@dataclass(frozen=True, slots=True)
class IndexBuild:
    """The index of a project, how its facts were obtained, and whether the caches could be
    written (a read-only tree is still checked)."""

    index: ProjectIndex
    extraction: ExtractionStats
    cache_written: bool


class ProjectLoading:
    """Reading every input of the rules, in two steps: first what they mean (once the files
    that changed are parsed: `meanings()`), then, unless the findings of those meanings are
    known, the index of the inputs themselves (`index()`).

    The workers start parsing at once. Whatever does not need their answers (decoding the
    cached facts, reading the cards, indexing every file but the ones being parsed) is done
    meanwhile, a step at a time, by `work_ahead`: the caller stops it as soon as the answers
    are in, to look the findings up by meaning; `index()` does what is left."""

    def __init__(
        self,
        config: ProjectConfig,
        jobs: int,
        use_cache: bool,
        files: ProjectFiles | None = None,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        from layerguard.linter.caching.cards import open_card_cache
        from layerguard.linter.caching.parses import ParseCache
        from layerguard.linter.facts.settings import ExtractionSettings
        from layerguard.linter.project.extraction import Collecting, WorkerLimits

        self.config = config
        self.root = root = config.root
        self.files = files = files or discover(config)
        settings = ExtractionSettings.from_config(config)
        self.cache = ParseCache.open(root, settings.fingerprint(), use_cache, cache_dir=cache_dir)
        limits = WorkerLimits(max_file_bytes=files.max_file_bytes)
        candidates = [path for path in (*files.python, *files.cards) if path not in files.not_read]
        self.not_read = {**files.not_read, **too_large(root, candidates, files.max_file_bytes)}
        readable = [path for path in files.python if path not in self.not_read]
        self.readable_cards = [path for path in files.cards if path not in self.not_read]
        self.card_store = open_card_cache(root, use_cache, cache_dir)
        # The workers start here, last: nothing that can fail comes between them and the
        # caller's `close()`, and everything that needs them not is done meanwhile.
        self.collecting = Collecting(root, readable, settings, self.cache, jobs, limits, progress)
        self._known: dict[str, str] | None = None  # meanings that need no parse
        self._known_done = False
        self._card_hashes: dict[str, tuple[str, bytes | None]] = {}
        """Cards hashed for their meaning, not read yet: their reading takes the same digest
        and bytes (one hash per card, and the parse is of the bytes the meaning names)."""
        self._cards: dict[str, CardParseResult] = {}
        self._index: ProjectIndex | None = None
        self._waiting: list[str] = []  # files indexed before their facts were known
        # A long parse (a cold run, a switch of branches) gains little from indexing while it
        # goes, and its workers are at their largest then: the cards and the index wait.
        steps = [self._decoding(), self._indexing()]
        short = len(self.collecting.to_parse) <= _PARSED_AHEAD
        self._ahead = itertools.chain(*steps) if short else steps[0]
        self._after = iter(()) if short else steps[1]

    def _decoding(self) -> Iterator[None]:
        """Decoding the cached facts, and the meanings that need no parse, a step at a time."""
        while self.collecting.decode_some(_STEP_FILES):
            yield
        self._known_meanings()
        yield

    def _indexing(self) -> Iterator[None]:
        """Reading the cards and indexing, a step at a time."""
        for start in range(0, len(self.readable_cards), _STEP_CARDS):
            self._read_cards(self.readable_cards[start : start + _STEP_CARDS])
            yield
        self._cards.update(not_read_cards(self.root, self.files.cards, self.not_read))
        # The files being parsed (and any damaged cache entry) have no facts yet: their place
        # in the index waits for them.
        facts = self.collecting.facts
        facts.update(not_read_facts(self.files.python, self.not_read, self.files.max_file_bytes))
        self._waiting = [path for path in self.files.python if path not in facts]
        for path in self._waiting:
            facts[path] = _WAITING
        self._index = _index(self.config, self.files, facts, self._cards)

    def work_ahead(self, until: Callable[[], bool]) -> None:
        """Do the work that needs no worker's answer, step by step, until `until()` says to
        stop or there is none left."""
        for _ in self._ahead:
            if until():
                return

    def answered(self) -> bool:
        """Whether the workers have answered (never waits)."""
        return self.collecting.answered()

    def close(self) -> None:
        """Stop the workers if the run ends without their answers."""
        self.collecting.close()

    def _known_meanings(self) -> None:
        """The meanings of the cards and of the files not being parsed (once)."""
        if self._known_done:
            return
        self._known_done = True
        if not self.cache.enabled or self.not_read:
            return
        known = {}
        for path in self.readable_cards:
            try:
                limit = self.files.max_file_bytes
                hashed = self._card_hashes[path] = self.card_store.file_hash(self.root, path, limit)
            except OSError:
                return
            known[f"card:{path}"] = hashed[0]
        parsing = set(self.collecting.to_parse)
        for path in self.files.python:
            if path not in parsing:
                meaning = self.collecting.meaning(path)
                if meaning is None:
                    return
                known[path] = meaning
        self._known = known

    def meanings(self) -> dict[str, str] | None:
        """What each input means to the rules, by path: a digest of a Python file's facts (not
        of its bytes: an edit that changes no fact means the same) and of a card's content.
        None when some input is not read, or the caches are off. Waits for the workers."""
        if not self.cache.enabled or self.not_read:
            return None
        self.collecting.parsed()
        self._known_meanings()
        if self._known is None:
            return None
        meanings = dict(self._known)
        for path in self.collecting.to_parse:
            meaning = self.collecting.meaning(path)
            if meaning is None:
                return None
            meanings[path] = meaning
        return meanings

    @property
    def extraction(self) -> ExtractionStats:
        """The counts of every Python file: those not read at all are neither parsed nor
        cached."""
        stats = self.collecting.stats
        skipped = sum(path in self.not_read for path in self.files.python)
        return dataclasses.replace(
            stats, files=len(self.files.python), not_read=stats.not_read + skipped
        )

    def save(self) -> bool:
        """Write what the caches learnt; False if they could not be written."""
        written = self.cache.save()
        return self.card_store.save() and written

    def _read_cards(self, paths: list[str]) -> None:
        from layerguard.linter.caching.cards import read_cards_cached

        parsed, _ = read_cards_cached(
            self.root,
            paths,
            store=self.card_store,
            hashed=self._card_hashes,
            limit=self.files.max_file_bytes,
        )
        self._cards.update(parsed)

    def index(self) -> IndexBuild:
        """The index of every input (waits for the workers)."""
        self.work_ahead(lambda: False)
        facts, _ = self.collecting.result()
        for _ in self._after:
            pass
        assert self._index is not None
        for path in self._waiting:
            self._index.replace_facts(path, facts[path])
        return IndexBuild(self._index, self.extraction, self.save())


_PARSED_AHEAD = 64
"""The most files to parse for which the cards are read and the index built meanwhile."""
_STEP_FILES = 250
"""Cached facts decoded in one step of `ProjectLoading.work_ahead` (about 8 ms)."""
_STEP_CARDS = 100
"""Cards read in one step (about 8 ms)."""

_WAITING: FileFacts = FileFacts()
"""The facts of a file in an index built before its parse came in: replaced by then."""


def _index(
    config: ProjectConfig,
    files: ProjectFiles,
    facts: dict[str, FileFacts],
    parsed: Mapping[str, CardParseResult],
) -> ProjectIndex:
    """The index joining the facts and the cards (the markdown files under `cards.paths` that
    are not cards are counted as documents)."""
    from layerguard.linter.project.index import ProjectIndex

    cards = {path: result for path, result in parsed.items() if not result.document}
    documents = frozenset(path for path, result in parsed.items() if result.document)
    other = card_targets_elsewhere(config.root, config, cards, facts.keys())
    return ProjectIndex(config, files.layer_map, facts, cards, other, documents)


def build_index(
    config: ProjectConfig,
    jobs: int,
    use_cache: bool,
    files: ProjectFiles | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> IndexBuild:
    """Facts of every project file (cached in `cache_dir`, by default $LAYERGUARD_CACHE_DIR or
    .layerguard_cache/), the cards, and the index joining them."""
    loading = ProjectLoading(config, jobs, use_cache, files, cache_dir, progress)
    try:
        return loading.index()
    finally:
        loading.close()


def not_read_facts(
    python: list[str], not_read: Mapping[str, NotRead], limit: int
) -> dict[str, FileFacts]:
    """The facts of the Python files that are not read: why, and what to do."""
    from layerguard.linter.project.extraction import too_large_facts, unreadable_facts

    return {
        path: too_large_facts(why.size, limit) if why.too_large else unreadable_facts(why.reason)
        for path in python
        if (why := not_read.get(path)) is not None
    }


def not_read_cards(
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
