"""Reading the project's cards, through a cache of parsed cards.

Every `check` reads every card, and parsing them is the larger share of a warm run. Measured
on the benchmark's synthetic hoc project (2,000 Python files, 1,650 generated cards of ~150
lines, 2 cores): parsing takes 1.15 s of CPU; rebuilding the cards from this cache 0.56 s, of
which JSON decoding is a third and building the model objects the rest (a positional JSON
encoding instead of `Card.to_data()` saved only 15 %, so the documented format is kept). So
parsed cards are cached like facts: by the content hash of the card's bytes, with the same
stat memo that spares reading unchanged files. The cache file's fingerprint is a hash of the
parser's own source, so any change to how cards are read starts a fresh cache.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from layerguard.contracts.cards.model import Card, CardError, CardParseResult
from layerguard.linter.caching.store import FactsCache, content_hash


@cache
def parser_fingerprint() -> str:
    """A digest of the modules that decide what a card parses to."""
    from layerguard.contracts.cards import model, parser, serialize

    digest = hashlib.blake2b(digest_size=8)
    for module in (model, parser, serialize):
        if module.__file__ is not None:
            digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _to_data(result: CardParseResult) -> dict[str, Any]:
    return {
        "card": None if result.card is None else result.card.to_data(),
        "errors": [[error.line, error.message] for error in result.errors],
    }


def _from_data(data: dict[str, Any], label: str) -> CardParseResult:
    """A cached result, labelled with this card's path (equal cards share one entry)."""
    card = None if data["card"] is None else Card.from_data(data["card"])._replace(path=label)
    errors = tuple(CardError(label, int(line), str(message)) for line, message in data["errors"])
    return CardParseResult(card, errors)


def open_card_cache(root: Path, use_cache: bool = True) -> FactsCache:
    return FactsCache.open(root, parser_fingerprint(), enabled=use_cache, kind="cards")


def parse_cached(store: FactsCache, data: bytes, label: str) -> CardParseResult:
    """The parse of a card's bytes, from `store` when it has them (`cards sync` reads each card
    again to rewrite it, moments after the index read it through the same cache)."""
    from layerguard.contracts.cards.parser import parse_card_bytes

    digest = content_hash(data)
    entry = store.get(digest)
    if entry is not None:
        try:
            return _from_data(entry, label)
        except (KeyError, TypeError, ValueError):
            pass
    result = parse_card_bytes(data, label)
    store.put(digest, _to_data(result))
    return result


def read_cards_cached(
    root: Path, paths: list[str], use_cache: bool = True
) -> tuple[dict[str, CardParseResult], bool]:
    """Parsed cards by project-relative path (labelled `root / path`, as `read_card` labels
    them), and whether the cache could be written."""
    from layerguard.contracts.cards.parser import parse_card_bytes, read_card

    store = open_card_cache(root, use_cache)
    results: dict[str, CardParseResult] = {}
    for path in paths:
        label = str(root / path)
        try:
            digest, data = store.file_hash(root, path)
            if data is None and digest not in store.entries:
                data = (root / path).read_bytes()  # the memo knew the file, the cache did not
                digest = content_hash(data)
        except OSError:
            results[path] = read_card(root / path)  # reports why it cannot be read
            continue
        entry = store.get(digest)
        if entry is not None:
            try:
                results[path] = _from_data(entry, label)
                continue
            except (KeyError, TypeError, ValueError):
                pass  # a damaged entry: parse again
        if data is None:
            try:
                data = (root / path).read_bytes()
            except OSError:
                results[path] = read_card(root / path)
                continue
            digest = content_hash(data)
        result = parse_card_bytes(data, label)
        store.put(digest, _to_data(result))
        results[path] = result
    return results, store.save()
