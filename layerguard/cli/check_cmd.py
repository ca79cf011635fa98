"""`layerguard check`: the main job.

The whole project is always analysed (rules such as inbound imports and operation wiring need
every file), from cached facts where files did not change; PATHS only narrow what is reported.
That is what makes pre-commit's file lists and `--changed` give exactly the findings a full
run gives for those files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from layerguard.cli import exit_codes
from layerguard.cli.config_option import ConfigOption, load_project_config
from layerguard.cli.index_options import JobsOption, NoCacheOption
from layerguard.linter.reporters import FORMAT_MODULES, renderer

OUTPUT_FORMATS = tuple(FORMAT_MODULES)  # docs/output.md


def default_output_format(environ: Mapping[str, str]) -> str:
    """`github` annotations inside GitHub Actions (which sets GITHUB_ACTIONS=true), else text."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def split_codes(values: list[str] | None) -> list[str] | None:
    """`--select LG1,LG201 --select LG9` -> ["LG1", "LG201", "LG9"]."""
    if values is None:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def project_relative(paths: list[Path], root: Path) -> tuple[str, ...]:
    """PATHS as project-relative posix strings; a missing or outside path is a usage error."""
    relative = []
    for path in paths:
        absolute = path.resolve()
        if not absolute.exists():
            raise typer.BadParameter(f"'{path}' does not exist", param_hint="PATHS")
        try:
            relative.append(absolute.relative_to(root.resolve()).as_posix())
        except ValueError:
            raise typer.BadParameter(
                f"'{path}' is outside the project ({root})", param_hint="PATHS"
            ) from None
    return tuple("" if r == "." else r for r in relative)


def check_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or directories to report on (default: the whole project). The whole "
            "project is analysed either way.",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            help=f"How to print findings: {', '.join(OUTPUT_FORMATS)} (see docs/output.md). "
            "Default: github when GITHUB_ACTIONS=true, else text.",
            show_default=False,
        ),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these rules (codes or prefixes, comma-separated; replaces the "
            "configured selection).",
            show_default=False,
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(help="Skip these rules (codes or prefixes).", show_default=False),
    ] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")
    ] = False,
    statistics: Annotated[
        bool,
        typer.Option(
            "--statistics", help="Also print counts per rule and how many files were parsed."
        ),
    ] = False,
    jobs: JobsOption = None,
    no_cache: NoCacheOption = False,
    changed: Annotated[
        bool,
        typer.Option(
            "--changed",
            help="Report only on the files git says changed since --base (work tree, index, "
            "untracked) and the files whose findings those changes can alter.",
        ),
    ] = False,
    base: Annotated[
        str,
        typer.Option("--base", help="The revision --changed compares with (its merge base)."),
    ] = "HEAD",
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="The baseline file whose findings are hidden (default: "
            ".layerguard-baseline.json next to layerguard.yaml, when it exists).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Report baselined findings too.")
    ] = False,
) -> None:
    """Check imports, transactions and cards against the project's layer contract.

    Prints `path:line:col: CODE message` per finding. Findings recorded in the baseline
    (.layerguard-baseline.json, see `layerguard baseline`) are hidden, and its entries that no
    longer occur are reported (LG904). Exit status: 0 no findings, 1 findings, 2 usage or
    configuration error.
    """
    from layerguard.cli.check_scope import narrow_result
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.linter.engine import CheckOptions, run_check
    from layerguard.linter.project.extraction import default_jobs
    from layerguard.linter.reporters.context import ReportContext
    from layerguard.linter.rules.selection import UnknownSelectorError, enabled_codes

    if output_format is None:
        output_format = default_output_format(os.environ)
    if output_format not in FORMAT_MODULES:
        raise typer.BadParameter(
            f"unknown format '{output_format}'; choose one of {', '.join(FORMAT_MODULES)}",
            param_hint="--output-format",
        )
    project = load_project_config(config)
    try:
        enabled = enabled_codes(project.rules, split_codes(select), split_codes(ignore) or ())
    except UnknownSelectorError as error:
        raise typer.BadParameter(str(error), param_hint="--select/--ignore") from None
    options = CheckOptions(
        enabled=enabled,
        report_paths=project_relative(paths or [], project.root),
        jobs=jobs or default_jobs(),
        use_cache=not no_cache,
        need_index=changed,
    )
    try:
        result = run_check(project, options)
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR) from None
    result = narrow_result(
        result,
        project,
        options,
        changed=changed,
        base=base,
        baseline=baseline,
        no_baseline=no_baseline,
    )
    context = ReportContext(project.root, Path.cwd(), statistics=statistics)
    typer.echo(renderer(output_format)(result, context), nl=False)
    if not result.cache_written:
        typer.echo("layerguard: warning: could not write .layerguard_cache/", err=True)
    failing = any(d.severity.value != "info" for d in result.diagnostics)
    raise typer.Exit(exit_codes.FINDINGS if failing and not exit_zero else exit_codes.OK)
