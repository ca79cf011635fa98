"""`layerguard check`: the main job.

The whole project is always analysed (rules such as inbound imports and operation wiring need
every file), from cached facts where files did not change; PATHS only narrow what is reported.
That is what makes pre-commit's file lists and `--changed` give exactly the findings a full
run gives for those files. The flow is the linter's `check` use case; this module turns
options into `CheckOptions` and the result into output.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from layerguard.cli.options import (
    FINDINGS,
    OK,
    CacheDirOption,
    ColorOption,
    ConfigOption,
    JobsOption,
    LegacyFormatOption,
    NoCacheOption,
    QuietOption,
    color_enabled,
    format_option,
    jobs_to_use,
    note,
    open_project,
    output_format,
    parsing_progress,
    project_relative,
    usage_errors,
    warn_unwritten_cache,
)
from layerguard.linter.reporters import FORMAT_MODULES

if TYPE_CHECKING:
    from layerguard.contracts.config.model import ProjectConfig
    from layerguard.linter.check import CheckOptions, CheckResult

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped with Ctrl-C

OUTPUT_FORMATS = tuple(FORMAT_MODULES)  # docs/output.md


def default_output_format(environ: Mapping[str, str]) -> str:
    """`github` annotations inside GitHub Actions (which sets GITHUB_ACTIONS=true), else text."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def split_codes(values: list[str] | None) -> list[str] | None:
    """`--select LG1,LG201 --select LG9` -> ["LG1", "LG201", "LG9"]."""
    if values is None:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


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
    chosen_format: Annotated[
        str | None,
        format_option(
            OUTPUT_FORMATS,
            f"How to print findings: {', '.join(OUTPUT_FORMATS)} (see docs/output.md). "
            "Default: github when GITHUB_ACTIONS=true, else text.",
        ),
    ] = None,
    legacy_format: LegacyFormatOption = None,
    select: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these rules (codes or prefixes, comma-separated; replaces the "
            "configured selection).",
            show_default=False,
        ),
    ] = None,
    extend_select: Annotated[
        list[str] | None,
        typer.Option(
            "--extend-select",
            help="Also these rules (codes or prefixes), on top of the selection.",
            show_default=False,
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(help="Skip these rules (codes or prefixes).", show_default=False),
    ] = None,
    extend_ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--extend-ignore",
            help="Also skip these rules (codes or prefixes): the same as --ignore, which "
            "adds to the configured `rules.ignore` too.",
            show_default=False,
        ),
    ] = None,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Apply the safe fixes first (card drift, LG303 and LG305, as `cards sync` "
            "does), say what changed, then report what remains.",
        ),
    ] = False,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when there are findings.")
    ] = False,
    statistics: Annotated[
        bool,
        typer.Option(
            "--statistics",
            help="Also print counts per rule, how many files were parsed and how many "
            "documents under `cards.paths` were skipped as not cards.",
        ),
    ] = False,
    show_settings: Annotated[
        bool,
        typer.Option(
            "--show-settings",
            help="Print the settings this run would use (the contract with every default, the "
            "enabled rules, the options) and exit without checking.",
        ),
    ] = False,
    show_files: Annotated[
        bool,
        typer.Option(
            "--show-files",
            help="List the files each layer holds and those in no layer (as `layerguard "
            "layers`; JSON with --output-format json), then exit without checking.",
        ),
    ] = False,
    jobs: JobsOption = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
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
            help="The baseline file whose findings are hidden (default: the file "
            "`layerguard baseline create` writes next to the contract file, when it exists).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="Report baselined findings too.")
    ] = False,
    color: ColorOption = None,
    max_file_size_kb: Annotated[
        int | None,
        typer.Option(
            "--max-file-size-kb",
            min=1,
            help="Report Python files and cards larger than this instead of reading them "
            "(overrides `max_file_size_kb` of layerguard.yaml; default 1024).",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOption = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            "-w",
            help="Check, then check again whenever a Python file, card, the baseline or the "
            "contract is saved, printing the report each time (needs the `watch` extra: "
            "pip install 'layerguard[watch]'). Ctrl-C stops.",
        ),
    ] = False,
) -> None:
    """Check imports, transactions and cards against the project's layer contract.

    Prints `path:line:col: CODE message` per finding. Findings recorded in the baseline
    (.layerguard-baseline.json, see `layerguard baseline`) are hidden, and its entries that no
    longer occur are reported (LG904). Exit status: 0 no findings, 1 findings, 2 usage or
    configuration error.
    """
    from layerguard.linter.check import CheckOptions, check
    from layerguard.linter.diagnostics import plural
    from layerguard.linter.reporters import renderer
    from layerguard.linter.reporters.context import ReportContext
    from layerguard.linter.rules.selection import (
        CommandLineSelection,
        UnknownSelectorError,
        enabled_codes,
    )

    fmt = output_format(
        chosen_format, legacy_format, OUTPUT_FORMATS, default_output_format(os.environ)
    )
    project = open_project(config)
    if max_file_size_kb is not None:
        project = dataclasses.replace(project, max_file_size_kb=max_file_size_kb)
    if show_files:
        from layerguard.linter.layers.listing import list_layers
        from layerguard.linter.layers.render import RENDERERS

        with usage_errors():
            listing = list_layers(project)
        typer.echo(RENDERERS["json" if fmt == "json" else "text"](listing), nl=False)
        raise typer.Exit(OK)
    selected = split_codes(select)
    command_line = CommandLineSelection(
        select=None if selected is None else tuple(selected),
        extend_select=tuple(split_codes(extend_select) or ()),
        ignore=tuple(split_codes(ignore) or ()),
        extend_ignore=tuple(split_codes(extend_ignore) or ()),
    )
    try:
        with usage_errors():
            enabled = enabled_codes(project, command_line)
    except UnknownSelectorError as error:
        option = "--" + error.option.replace("_", "-")  # the option the selector was given in
        raise typer.BadParameter(str(error), param_hint=option) from None
    options = CheckOptions(
        enabled=enabled,
        report_paths=project_relative(paths or [], project.root),
        jobs=jobs_to_use(jobs),
        use_cache=not no_cache,
        cache_dir=cache_dir,
        changed_since=base if changed else None,
        baseline=baseline,
        use_baseline=not no_baseline,
        fix=fix,
    )
    colored = fmt == "text" and color_enabled("stdout")
    if show_settings:
        typer.echo(settings_text(project, options, fmt, colored), nl=False)
        raise typer.Exit(OK)
    context = ReportContext(
        project.root, Path.cwd(), statistics=statistics, color=colored, summary=not quiet
    )
    render = renderer(fmt)
    if watch:
        if fix:
            raise typer.BadParameter("--watch does not fix: run --fix once", param_hint="--fix")
        _watch(project, options, lambda result: render(result, context), quiet, colored)
    with usage_errors(), parsing_progress(quiet, fmt == "text") as progress:
        result = check(project, dataclasses.replace(options, progress=progress))
    for card_fix in result.fixes:
        note(f"fixed {card_fix.card}: {'; '.join(card_fix.changes)}", quiet)
    if result.changed is not None:
        scope = result.changed
        note(
            f"--changed: reporting on {plural(scope.files, 'file')} "
            f"({scope.changed} changed since {scope.base}, {scope.files - scope.changed} "
            "affected)",
            quiet,
        )
    if result.baseline is not None and result.baseline.hidden:
        hidden = plural(result.baseline.hidden, "baselined finding")
        note(f"{hidden} hidden ({result.baseline.path.name})", quiet)
    # color=True: click strips escape sequences from what is not a terminal, and --color
    # always (or FORCE_COLOR) asks for them there too.
    typer.echo(render(result, context), nl=False, color=colored)
    warn_unwritten_cache(result.cache_written)
    raise typer.Exit(FINDINGS if result.failing and not exit_zero else OK)


def settings_text(project: ProjectConfig, options: CheckOptions, fmt: str, colored: bool) -> str:
    """`--show-settings`: the run's settings and the contract with every default, as YAML
    (comments say where they come from)."""
    import yaml

    from layerguard.contracts.config.resolved import resolved_data
    from layerguard.linter.baseline.apply import default_baseline_path
    from layerguard.linter.caching.database import cache_directory

    baseline = options.baseline or default_baseline_path(project)
    run = {
        "project_root": str(project.root),
        "enabled_rules": sorted(options.enabled),
        "output_format": fmt,
        "color": colored,
        "jobs": options.jobs,
        "cache": str(cache_directory(project.root, options.cache_dir))
        if options.use_cache
        else None,
        "baseline": str(baseline) if options.use_baseline and baseline.exists() else None,
        "changed_since": options.changed_since,
        "report_paths": list(options.report_paths) or ["."],
        "fix": options.fix,
    }
    source = project.path.resolve() if project.path is not None else project.root
    notes = [
        "# layerguard check --show-settings: what this run would use; nothing was checked.",
        f"# Contract: {source} (every key, defaults filled in).",
    ]
    if "transactions" not in project.sections:
        notes.append("# No `transactions:` section: LG201 and LG202 are off unless selected.")
    data = {"run": run, "contract": resolved_data(project)}
    body = yaml.safe_dump(
        data, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
    )
    return "\n".join(notes) + "\n" + body


def _watch(
    project: ProjectConfig,
    options: CheckOptions,
    render: Callable[[CheckResult], str],
    quiet: bool,
    colored: bool,
) -> NoReturn:
    """`check --watch`: print a report after the first check and after every batch of saves,
    until Ctrl-C (exit status 130, as any interrupted command)."""
    from layerguard.linter.diagnostics import plural
    from layerguard.linter.watch import watch

    try:
        with usage_errors():
            for update in watch(project, options):
                if update.error is not None:
                    typer.echo(update.error, err=True)
                    continue
                assert update.result is not None
                if update.changed:
                    what = (
                        update.changed[0]
                        if len(update.changed) == 1
                        else plural(len(update.changed), "file")
                    )
                    note(
                        f"{what} changed: re-checked in {update.seconds:.3f}s; "
                        f"{plural(update.new, 'new finding')}, {update.fixed} fixed",
                        quiet,
                    )
                typer.echo(render(update.result), nl=False, color=colored)
                if not update.changed:
                    warn_unwritten_cache(update.result.cache_written)
                    note(f"watching {project.root} for changes (Ctrl-C to stop)", quiet)
    except KeyboardInterrupt:
        raise typer.Exit(INTERRUPTED) from None
    raise typer.Exit(OK)
