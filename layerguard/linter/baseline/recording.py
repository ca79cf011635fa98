"""`baseline create` and `baseline update`: recording a project's findings in its baseline.

A team adopting layerguard on a codebase with hundreds of violations records them once
(`create`); from then on `check` fails only on new findings and on baseline entries that no
longer occur (LG904), so the file can only shrink (`update`, which refuses to add findings
unless told to).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.baseline.apply import judged_by
from layerguard.linter.baseline.file import read_baseline, write_baseline
from layerguard.linter.baseline.model import Baseline, match_baseline, updated_baseline
from layerguard.linter.check import CheckOptions, check
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.errors import UsageError
from layerguard.linter.project.extraction import Progress
from layerguard.linter.rules.selection import enabled_codes


@dataclass(frozen=True, slots=True)
class BaselineUpdate:
    """What `update` did: `new` findings it refused (the file is then unchanged), how many
    findings it `removed` and `added`, and the baseline as it now stands."""

    baseline: Baseline
    new: list[Diagnostic]
    removed: int
    added: int
    written: bool
    cache_written: bool = True  # False: the caches could not be written


def _all_findings(
    project: ProjectConfig, use_cache: bool, cache_dir: Path | None, progress: Progress | None
) -> tuple[list[Diagnostic], frozenset[str], bool]:
    """Every finding of the configured rules (the baseline ignores --select-style narrowing),
    without applying any existing baseline; and whether the caches could be written."""
    enabled = enabled_codes(project)
    options = CheckOptions(
        enabled=enabled,
        use_baseline=False,
        use_cache=use_cache,
        cache_dir=cache_dir,
        progress=progress,
    )
    result = check(project, options)
    return result.diagnostics, enabled, result.cache_written


def create_baseline(
    project: ProjectConfig,
    path: Path,
    replace: bool = False,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Baseline, bool]:
    """Record every current finding in a new baseline file at `path` (raises UsageError when
    it exists and `replace` is not set: `update` is the safe way to change a baseline); and
    whether the caches could be written."""
    if os.path.lexists(path) and not replace:
        raise UsageError(
            f"{path} already exists; run `layerguard baseline update` to remove fixed findings "
            "from it, or pass --force to record today's findings instead"
        )
    findings, _, cache_written = _all_findings(project, use_cache, cache_dir, progress)
    baseline = Baseline.from_findings(findings)
    _write(path, baseline)
    return baseline, cache_written


def update_baseline(
    project: ProjectConfig,
    path: Path,
    allow_new: bool = False,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> BaselineUpdate:
    """Remove the entries of `path` that no longer occur; refuse new findings unless
    `allow_new` (entries of rules that are not enabled are kept)."""
    if not os.path.lexists(path):  # a broken link or a loop is read, and said
        raise UsageError(f"{path} does not exist; run `layerguard baseline create` first")
    baseline = read_baseline(path)
    findings, enabled, cache_written = _all_findings(project, use_cache, cache_dir, progress)
    judged = judged_by(project, enabled)
    match = match_baseline(findings, baseline, judged)
    if match.new and not allow_new:
        return BaselineUpdate(baseline, match.new, 0, 0, False, cache_written)
    updated = updated_baseline(baseline, match.occurring, judged, allow_new)
    removed = sum(max(0, n - updated.counts.get(k, 0)) for k, n in baseline.counts.items())
    added = sum(max(0, n - baseline.counts.get(k, 0)) for k, n in updated.counts.items())
    changed = updated.counts != dict(baseline.counts)
    if changed:
        _write(path, updated)
    return BaselineUpdate(updated, [], removed, added, changed, cache_written)


def _write(path: Path, baseline: Baseline) -> None:
    try:
        write_baseline(path, baseline)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
