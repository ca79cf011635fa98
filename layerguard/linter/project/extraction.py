"""Facts for every file of a run: from the cache when the content is known, else parsed in
parallel processes. libcst is imported only here, and only when something must be parsed."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layerguard.linter.caching.parses import ParseCache, content_hash
from layerguard.linter.facts.model import FileFacts, SyntaxErrorFact
from layerguard.linter.facts.serialize import facts_from_data, facts_to_data
from layerguard.linter.facts.settings import ExtractionSettings

_IN_PROCESS_LIMIT = 8
"""Below this many files a process pool costs more than it saves."""

_worker_settings: ExtractionSettings | None = None


@dataclass(frozen=True, slots=True)
class ExtractionStats:
    files: int
    parsed: int
    cached: int
    jobs: int


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_COLLECT_EVERY = 64
"""Files a worker extracts between two cyclic garbage collections."""

_extracted = 0


def _init_worker(settings: ExtractionSettings) -> None:
    """Worker set-up. The cyclic garbage collector is switched off: a syntax tree is tens of
    thousands of acyclic objects that reference counting frees, and each collection would walk
    them all (about a fifth of the parse time). A collection every few dozen files bounds
    whatever cycles there are."""
    global _worker_settings, _extracted
    _worker_settings = settings
    _extracted = 0
    gc.disable()


def _extract_one(path: str) -> tuple[str | None, dict[str, Any]]:
    """(hash of the bytes actually parsed, facts data); the hash is None if unreadable."""
    from layerguard.linter.facts.extract import extract_facts

    global _extracted
    assert _worker_settings is not None
    _extracted += 1
    if _extracted % _COLLECT_EVERY == 0:
        gc.collect()
    try:
        source = Path(path).read_bytes()
    except OSError as error:
        return None, facts_to_data(_unreadable(error))
    return content_hash(source), facts_to_data(extract_facts(source, _worker_settings))


def _unreadable(error: OSError) -> FileFacts:
    return FileFacts(syntax_error=SyntaxErrorFact(1, 1, f"cannot read file: {error.strerror}"))


def _parse_all(
    root: Path, paths: list[str], settings: ExtractionSettings, jobs: int
) -> list[tuple[str | None, dict[str, Any]]]:
    work = [str(root / path) for path in paths]
    if jobs <= 1 or len(work) < _IN_PROCESS_LIMIT:
        enabled = gc.isenabled()
        _init_worker(settings)
        try:
            return [_extract_one(job) for job in work]
        finally:
            if enabled:
                gc.enable()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    workers = min(jobs, len(work))
    chunk = max(1, min(32, len(work) // (workers * 8)))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(settings,)
    ) as pool:
        return list(pool.map(_extract_one, work, chunksize=chunk))


def collect_facts(
    root: Path,
    paths: Sequence[str],
    settings: ExtractionSettings,
    cache: ParseCache,
    jobs: int,
) -> tuple[dict[str, FileFacts], ExtractionStats]:
    """Facts for each project-relative path; unreadable files get a syntax-error fact."""
    facts: dict[str, FileFacts] = {}
    to_parse: list[str] = []
    for path in paths:
        try:
            digest, _ = cache.file_hash(root, path)
        except OSError as error:
            facts[path] = _unreadable(error)
            continue
        cached = cache.get(digest)
        if cached is not None:
            facts[path] = facts_from_data(cached)
        else:
            to_parse.append(path)
    results = _parse_all(root, to_parse, settings, jobs)
    for path, (parsed_digest, data) in zip(to_parse, results, strict=True):
        if parsed_digest is not None:  # keyed by what was parsed, even if the file changed since
            cache.put(parsed_digest, data)
        facts[path] = facts_from_data(data)
    stats = ExtractionStats(
        files=len(paths), parsed=len(to_parse), cached=len(paths) - len(to_parse), jobs=jobs
    )
    return facts, stats
