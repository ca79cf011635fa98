"""`layerguard baseline create|update`, and how `check` applies the baseline.

A team adopting layerguard on a codebase with hundreds of violations records them once
(`create`); from then on `check` fails only on new findings and on baseline entries that no
longer occur (LG904), so the file can only shrink (`update`, which refuses to add findings
unless `--allow-new`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from layerguard.cli import exit_codes
from layerguard.cli.config_option import ConfigOption, load_project_config

if TYPE_CHECKING:
    from layerguard.contracts.config.model import ProjectConfig
    from layerguard.linter.baseline.model import Baseline, EntryKey
    from layerguard.linter.diagnostics import Diagnostic
    from layerguard.linter.engine import CheckResult
    from layerguard.linter.reporters.context import ReportContext

baseline_app = typer.Typer(
    help="Record today's findings so that `check` fails only on new ones (legacy adoption).",
    no_args_is_help=True,
)

FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="The baseline file (default: .layerguard-baseline.json next to layerguard.yaml).",
        dir_okay=False,
        show_default=False,
    ),
]


def default_baseline_path(project: ProjectConfig) -> Path:
    from layerguard.linter.baseline.file import BASELINE_FILE_NAME

    return project.root / BASELINE_FILE_NAME


def _read(path: Path) -> Baseline:
    """The baseline in `path`, or exit 2 naming the line that makes it unusable."""
    from layerguard.linter.baseline.file import BaselineFileError, read_baseline

    try:
        return read_baseline(path)
    except BaselineFileError as error:
        typer.echo(f"layerguard: {error}", err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None


def _write(path: Path, baseline: Baseline) -> None:
    from layerguard.linter.baseline.file import write_baseline

    try:
        write_baseline(path, baseline)
    except OSError as error:
        typer.echo(f"layerguard: cannot write {path}: {error.strerror or error}", err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None


def _full_run(project: ProjectConfig) -> tuple[CheckResult, frozenset[str]]:
    """Every finding of the configured rules (the baseline ignores --select-style narrowing)."""
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.linter.engine import CheckOptions, run_check
    from layerguard.linter.rules.selection import enabled_codes

    enabled = enabled_codes(project.rules)
    try:
        return run_check(project, CheckOptions(enabled=enabled)), enabled
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None


def _judged_by(enabled: frozenset[str]) -> Callable[[EntryKey], bool]:
    """Entries whose rule ran can be judged; entries of unknown (removed) codes always can."""
    from layerguard.linter.rules.codes import ENABLED_BY_DEFAULT

    return lambda key: key.code in enabled or key.code not in ENABLED_BY_DEFAULT


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _describe(baseline: Baseline) -> str:
    files = len({key.path for key in baseline.counts})
    return f"{_plural(baseline.findings, 'finding')} in {_plural(files, 'file')}"


@baseline_app.command("create")
def create_command(
    config: ConfigOption = None,
    file: FileOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing baseline file.")
    ] = False,
) -> None:
    """Record every current finding (of the configured rules) in a new baseline file.

    Info findings are not recorded: they never fail a check. Exit status: 0 when written; 2
    when the file exists (without --force: `baseline update` is the safe way to change it) or
    the configuration is invalid.
    """
    from layerguard.linter.baseline.model import Baseline

    project = load_project_config(config)
    path = file or default_baseline_path(project)
    if path.exists() and not force:
        typer.echo(
            f"layerguard: {path} already exists; run `layerguard baseline update` to remove "
            "fixed findings from it, or pass --force to record today's findings instead",
            err=True,
        )
        raise typer.Exit(exit_codes.USAGE_ERROR)
    result, _ = _full_run(project)
    baseline = Baseline.from_findings(result.diagnostics)
    _write(path, baseline)
    typer.echo(
        f"wrote {path}: {_describe(baseline)}; `layerguard check` now reports only new findings"
    )


@baseline_app.command("update")
def update_command(
    config: ConfigOption = None,
    file: FileOption = None,
    allow_new: Annotated[
        bool,
        typer.Option("--allow-new", help="Also record findings the baseline does not have yet."),
    ] = False,
) -> None:
    """Remove the baseline entries that no longer occur.

    New findings are refused: they are printed and the file is left unchanged (exit 1) unless
    --allow-new records them too. Entries of rules that are not enabled are kept. Exit status:
    0 when the baseline is up to date, 1 when new findings were refused, 2 when the file is
    missing or malformed or the configuration is invalid.
    """
    from layerguard.linter.baseline.model import match_baseline, updated_baseline
    from layerguard.linter.reporters.context import ReportContext

    project = load_project_config(config)
    path = file or default_baseline_path(project)
    if not path.exists():
        typer.echo(
            f"layerguard: {path} does not exist; run `layerguard baseline create` first", err=True
        )
        raise typer.Exit(exit_codes.USAGE_ERROR)
    baseline = _read(path)
    result, enabled = _full_run(project)
    judged = _judged_by(enabled)
    match = match_baseline(result.diagnostics, baseline, judged)
    if match.new and not allow_new:
        context = ReportContext(project.root, Path.cwd())
        for finding in match.new:
            typer.echo(_finding_line(finding, context))
        typer.echo(
            f"layerguard: {path} not updated: {_plural(len(match.new), 'finding')} "
            "not in the baseline; fix the new findings, or pass --allow-new to record them",
            err=True,
        )
        raise typer.Exit(exit_codes.FINDINGS)
    updated = updated_baseline(baseline, match.occurring, judged, allow_new)
    removed = sum(max(0, n - updated.counts.get(k, 0)) for k, n in baseline.counts.items())
    added = sum(max(0, n - baseline.counts.get(k, 0)) for k, n in updated.counts.items())
    if updated.counts != dict(baseline.counts):
        _write(path, updated)
    typer.echo(
        f"{path}: {_plural(removed, 'finding')} removed, {added} added; "
        f"{_describe(updated)} remain baselined"
    )


def _finding_line(finding: Diagnostic, context: ReportContext) -> str:
    shown = context.display_path(finding.path)
    return f"{shown}:{finding.line}:{finding.col}: {finding.code} {finding.message}"


def apply_baseline(
    result: CheckResult,
    project: ProjectConfig,
    enabled: frozenset[str],
    option: Path | None,
    disabled: bool,
    in_scope: Callable[[str], bool],
) -> CheckResult:
    """`check`'s findings without the baselined ones, plus LG904 for stale entries.

    The baseline is `option` (which must exist), else the default file when it exists. Only
    entries of enabled rules on files `in_scope` (the files the run reports on) can be stale.
    """
    if disabled:
        return result
    path = option or default_baseline_path(project)
    if not path.exists():
        if option is None:
            return result
        typer.echo(f"layerguard: {option}: no such baseline file", err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR)
    # Only now: the baseline module imports the rules, which a run without one never needs.
    from layerguard.linter.baseline.model import STALE_CODE, match_baseline, stale_diagnostics

    baseline = _read(path)
    judged = _judged_by(enabled)
    match = match_baseline(
        result.diagnostics, baseline, lambda key: judged(key) and in_scope(key.path)
    )
    diagnostics = match.kept
    if STALE_CODE in enabled:
        shown = os.path.relpath(path.resolve(), project.root.resolve()).replace(os.sep, "/")
        diagnostics = sorted([*diagnostics, *stale_diagnostics(match.stale, shown)])
    if match.hidden:
        typer.echo(
            f"layerguard: {_plural(match.hidden, 'baselined finding')} hidden ({path.name})",
            err=True,
        )
    return dataclasses.replace(result, diagnostics=diagnostics)
