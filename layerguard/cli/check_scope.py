"""What `check` reports after the rules ran: the findings the baseline does not hide.

It only removes findings from a whole-project run (and adds LG904 for stale baseline entries).
Kept apart from check_cmd.py so that the command stays a list of options.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.cli.baseline_cmd import apply_baseline

if TYPE_CHECKING:
    from layerguard.contracts.config.model import ProjectConfig
    from layerguard.linter.engine import CheckOptions, CheckResult


def reported_by(report_paths: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a path is one PATHS select (every path when none are given)."""
    if not report_paths or any(wanted in ("", ".") for wanted in report_paths):
        return lambda path: True
    prefixes = tuple(wanted.rstrip("/") + "/" for wanted in report_paths)
    return lambda path: path in report_paths or path.startswith(prefixes)


def narrow_result(
    result: CheckResult,
    project: ProjectConfig,
    options: CheckOptions,
    *,
    baseline: Path | None,
    no_baseline: bool,
) -> CheckResult:
    """The run's findings as `check` reports them."""
    in_scope = reported_by(options.report_paths)
    return apply_baseline(result, project, options.enabled, baseline, no_baseline, in_scope)
