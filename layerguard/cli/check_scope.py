"""What `check` reports after the rules ran: `--changed` narrowing, then the baseline.

Both only remove findings from a whole-project run (and the baseline adds LG904 for its stale
entries), which is why `check --changed` reports exactly what a full run reports on the same
files. Kept apart from check_cmd.py so that the command stays a list of options.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from layerguard.cli import exit_codes
from layerguard.cli.baseline_cmd import apply_baseline

if TYPE_CHECKING:
    from layerguard.contracts.config.model import ProjectConfig
    from layerguard.linter.engine import CheckOptions, CheckResult


def narrow_result(
    result: CheckResult,
    project: ProjectConfig,
    options: CheckOptions,
    *,
    changed: bool,
    base: str,
    baseline: Path | None,
    no_baseline: bool,
) -> CheckResult:
    """The run's findings as `check` reports them."""
    from layerguard.linter.engine import reported_by

    in_scope = reported_by(options.report_paths)
    if changed:
        from layerguard.linter.changed.affected import CHANGED
        from layerguard.linter.changed.base_index import changed_scope
        from layerguard.linter.changed.git import GitError

        assert result.index is not None, "check --changed asks run_check for the index"
        try:
            affected = changed_scope(
                result.index,
                result.diagnostics,
                base,
                options.enabled,
                options.use_cache,
                in_scope,
            )
        except GitError as error:
            typer.echo(f"layerguard: --changed: {error}", err=True)
            raise typer.Exit(exit_codes.USAGE_ERROR) from None
        files = affected.files
        narrowed = in_scope

        def in_scope(path: str) -> bool:
            return narrowed(path) and (path in files or path in affected.deleted)

        changed_files = sum(1 for reason in affected.reasons.values() if reason == CHANGED)
        typer.echo(
            f"layerguard: --changed: reporting on {len(files)} file{'' if len(files) == 1 else 's'}"
            f" ({changed_files} changed since {base}, {len(files) - changed_files} affected)",
            err=True,
        )
        result = dataclasses.replace(
            result, diagnostics=[d for d in result.diagnostics if d.path in files]
        )
    return apply_baseline(result, project, options.enabled, baseline, no_baseline, in_scope)
