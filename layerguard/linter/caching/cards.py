"""Reading the project's cards, through a cache of parsed cards.

Every `check` reads every card, and parsing them is the larger share of a warm run. Measured
on the benchmark's synthetic hoc project (2,000 Python files, 1,650 generated cards of ~150
lines, 2 cores): parsing takes 1.15 s of CPU; rebuilding the cards from this cache 0.56 s, of
which JSON decoding is a third and building the model objects the rest (a positional JSON
encoding instead of `Card.to_data()` saved only 15 %, so the documented format is kept). So
parsed cards are cached like facts: by the content hash of the card's bytes, with the same
stat memo that spares reading unchanged files. The cache file's fingerprint is a hash of the
card model's own source, so any change to how cards are read starts a fresh cache.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from layerguard.contracts.cards.model import CardError, CardParseResult
from layerguard.contracts.cards.serialize import card_from_data, card_to_data
from layerguard.contracts.file_access import (
    DEFAULT_MAX_FILE_BYTES,
    UnreadableFileError,
    read_regular_file,
)
from layerguard.linter.caching.fingerprint import code_fingerprint
from layerguard.linter.caching.parses import ParseCache, content_hash


def _to_data(result: CardParseResult) -> dict[str, Any]:
    return {
        "card": None if result.card is None else card_to_data(result.card),
        "errors": [[error.line, error.message] for error in result.errors],
        "document": result.document,
    }


def _from_data(data: Any, label: str) -> CardParseResult:
    """A cached result, labelled with this card's path (equal cards share one entry); raises
    KeyError, TypeError or ValueError for data `_to_data` cannot have written."""
    card = None if data["card"] is None else card_from_data(data["card"])._replace(path=label)
    errors = []
    for line, message in data["errors"]:
        if type(line) is not int or type(message) is not str:
            raise TypeError("a card error of the wrong shape")
        errors.append(CardError(label, line, message))
    document = data["document"]
    if type(document) is not bool:
        raise TypeError("document: not a boolean")
    return CardParseResult(card, tuple(errors), document)


def open_card_cache(
    root: Path, use_cache: bool = True, cache_dir: Path | None = None
) -> ParseCache:
    fingerprint = code_fingerprint("contracts/cards")  # the modules deciding what a card parses to
    return ParseCache.open(root, fingerprint, enabled=use_cache, kind="cards", cache_dir=cache_dir)


def parse_cached(store: ParseCache, data: bytes, label: str) -> CardParseResult:
    """The parse of a card's bytes, from `store` when it has them (`cards sync` reads each card
    again to rewrite it, moments after the index read it through the same cache)."""
    from layerguard.contracts.cards.parser import parse_card_bytes

    digest = content_hash(data)
    entry = store.get(digest)
    if entry is not None:
        with contextlib.suppress(KeyError, TypeError, ValueError):  # damaged: parse again
            return _from_data(entry, label)
    result = parse_card_bytes(data, label)
    store.put(digest, _to_data(result))
    return result


def read_cards_cached(
    root: Path,
    paths: list[str],
    use_cache: bool = True,
    cache_dir: Path | None = None,
    store: ParseCache | None = None,
    hashed: dict[str, tuple[str, bytes | None]] | None = None,
    limit: int = DEFAULT_MAX_FILE_BYTES,
) -> tuple[dict[str, CardParseResult], bool]:
    """Parsed cards by project-relative path (labelled `root / path`, as `read_card` labels
    them), and whether the cache could be written (through `store` if given, which the caller
    then saves: the second value is then True). `hashed` holds what `store.file_hash` gave
    earlier in the run for some of the paths: those are not hashed again (and leave it). No
    card is read past `limit` bytes (the project's size limit)."""
    from layerguard.contracts.cards.parser import read_card

    own = store is None
    store = store if store is not None else open_card_cache(root, use_cache, cache_dir)
    results: dict[str, CardParseResult] = {}
    for path in paths:
        label = str(root / path)
        try:
            known = hashed.pop(path, None) if hashed else None
            digest, data = known if known is not None else store.file_hash(root, path, limit)
            entry = store.get(digest)
            if entry is not None:
                with contextlib.suppress(KeyError, TypeError, ValueError):  # damaged: parse
                    results[path] = _from_data(entry, label)
                    continue
            if data is None:  # the stat memo knew the file, the cache not its parse
                data = read_regular_file(root / path, limit)
        except (OSError, UnreadableFileError):
            results[path] = read_card(root / path, limit)  # reports why it cannot be read
            continue
        results[path] = parse_cached(store, data, label)
    return results, store.save() if own else True
