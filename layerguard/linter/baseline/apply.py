"""How `check` applies the baseline: hide the accepted findings, report the stale entries.

The baseline is the file named by the run's options (which must exist), else the default file
next to the contract (layerguard.yaml or pyproject.toml) when there is one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.baseline.file import BASELINE_FILE_NAME, BaselineFileError, read_baseline
from layerguard.linter.baseline.model import EntryKey, match_baseline, stale_diagnostics
from layerguard.linter.diagnostics import Diagnostic
from layerguard.linter.rules.codes import ENABLED_BY_DEFAULT, STALE_BASELINE_ENTRY
from layerguard.linter.rules.selection import per_file_ignored


@dataclass(frozen=True, slots=True)
class BaselineApplied:
    """Which baseline file a run applied and how many findings it hid."""

    path: Path
    hidden: int


def default_baseline_path(project: ProjectConfig) -> Path:
    return project.root / BASELINE_FILE_NAME


def judged_by(project: ProjectConfig, enabled: frozenset[str]) -> Callable[[EntryKey], bool]:
    """Entries whose rule ran on their file can be judged (not those of rules the run does not
    enable, or that `rules.per_file_ignores` drops there); entries of unknown (removed) codes
    always can."""
    ignored = per_file_ignored(project)
    return lambda key: (
        key.code not in ENABLED_BY_DEFAULT
        or (key.code in enabled and not ignored(key.path, key.code))
    )


def apply_baseline(
    diagnostics: list[Diagnostic],
    project: ProjectConfig,
    enabled: frozenset[str],
    explicit: Path | None,
    in_scope: Callable[[str], bool],
) -> tuple[list[Diagnostic], BaselineApplied | None]:
    """`diagnostics` without the baselined ones, plus LG904 for stale entries (raises
    BaselineFileError for a missing `explicit` file or a malformed one).

    Only entries of enabled rules on files `in_scope` (the files the run reports on) can be
    stale.
    """
    path = explicit or default_baseline_path(project)
    if not os.path.lexists(path):  # a broken link or a loop is read, and said
        if explicit is None:
            return diagnostics, None
        raise BaselineFileError(str(explicit), 0, "no such baseline file")
    baseline = read_baseline(path)
    judged = judged_by(project, enabled)
    match = match_baseline(diagnostics, baseline, lambda key: judged(key) and in_scope(key.path))
    kept = match.kept
    if STALE_BASELINE_ENTRY in enabled:
        shown = os.path.relpath(path.resolve(), project.root.resolve()).replace(os.sep, "/")
        kept = sorted([*kept, *stale_diagnostics(match.stale, shown)])
    return kept, BaselineApplied(path, match.hidden)
