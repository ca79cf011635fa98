"""What every command shares: its options, opening the project, exit codes, error mapping.

Command modules (cli/commands/) import this module and never each other. A command declares
`config: ConfigOption = None`, opens the project with `open_project(config)` and runs its use
case inside `usage_errors()`, so that an invalid contract or a use case that cannot run as
asked ends the command with exit status 2 and a message on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import click
import typer

from layerguard.contracts.config.errors import CONFIG_ERROR_CODE
from layerguard.contracts.escaping import printable

if TYPE_CHECKING:
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.contracts.config.model import ProjectConfig

OK = 0
FINDINGS = 1
USAGE_ERROR = 2
"""Process exit codes, shared by every command (the conventional ruff/flake8 triple)."""

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The contract to use: a layerguard.yaml, or a pyproject.toml with a "
        "\\[tool.layerguard] table (default: the first found in the current directory or above).",
        dir_okay=False,
        show_default=False,
    ),
]

JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help="Processes that parse files (default, and most: one per core available; more "
        "would only compete for the cores, each with its own memory).",
        show_default=False,
    ),
]

NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the cache.")
]

CacheDirOption = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Where the cache lives (default: $LAYERGUARD_CACHE_DIR, else .layerguard_cache/ "
        "in the project root). A cache is keyed by content, not paths: it can be shared "
        "between clones and restored in CI.",
        file_okay=False,
        show_default=False,
    ),
]


QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print only what the command is for (a report, graph, catalogue or diff): no "
        "progress bar, no notes or summary lines. Warnings and errors are still printed.",
    ),
]

PROGRESS_MIN_FILES = 200
"""Fewer files to parse are done before a progress bar would tell anything."""


class ParsingProgress:
    """A progress bar on stderr while a run parses many files: only on a terminal, only when
    the report is text (never beside machine-readable output), never with --quiet. rich (which
    typer already installs) is imported only when a bar is shown."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_MIN_FILES:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("layerguard: parsing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True, no_color=not color_enabled("stderr")),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("parsing", total=total)
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@contextlib.contextmanager
def parsing_progress(quiet: bool, text_output: bool) -> Iterator[ParsingProgress]:
    """The progress feed of a command's run (a no-op unless a bar can be shown)."""
    import sys

    progress = ParsingProgress(not quiet and text_output and sys.stderr.isatty())
    try:
        yield progress
    finally:
        progress.close()


def note(message: str, quiet: bool) -> None:
    """An informational line on stderr (`layerguard: ...`), silenced by --quiet."""
    if not quiet:
        say(message)


COLOR_CHOICES = ("auto", "always", "never")
_COLOR_KEY = "layerguard.color"


def _remember_color(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Keep the choice where every message of the run can find it (`ctx.meta` is shared by the
    whole command chain): `layerguard --color never check` and `check --color never` agree."""
    if value is not None:
        ctx.meta[_COLOR_KEY] = value
    return value


ColorOption = Annotated[
    str | None,
    typer.Option(
        "--color",
        help="Colour the text report and messages: auto (on a terminal, unless NO_COLOR is "
        "set; FORCE_COLOR forces it), always, never. Machine-readable formats are never "
        "coloured.",
        click_type=click.Choice(COLOR_CHOICES),
        callback=_remember_color,
        is_eager=True,
        show_default=False,
    ),
]


def wants_color(choice: str, environ: Mapping[str, str], is_terminal: bool) -> bool:
    """`--color` first; with `auto`, NO_COLOR (any non-empty value) turns colour off, then
    FORCE_COLOR turns it on, else colour goes to terminals only (no-color.org,
    force-color.org)."""
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return is_terminal


def color_enabled(stream: Literal["stdout", "stderr"]) -> bool:
    """Whether this run colours what it writes to `stream`."""
    context = click.get_current_context(silent=True)
    choice = context.meta.get(_COLOR_KEY, "auto") if context is not None else "auto"
    return wants_color(choice, os.environ, click.get_text_stream(stream).isatty())


MessageLevel = Literal["note", "warning", "error"]
_LEVEL_STYLES = {"note": "bold", "warning": "bold yellow", "error": "bold red"}


def say(message: str, level: MessageLevel = "note") -> None:
    """`layerguard: [warning: ]message` on stderr, coloured when the run colours stderr."""
    label = "" if level != "warning" else "warning: "
    if not color_enabled("stderr"):
        typer.echo(f"layerguard: {label}{message}", err=True)
        return
    from layerguard.linter.reporters.ansi import paint

    chunks = [("layerguard:", _LEVEL_STYLES[level]), (" ", "")]
    if label:
        chunks.append((label, _LEVEL_STYLES[level]))
    typer.echo(paint([*chunks, (message, "")]), err=True, color=True)


def format_option(choices: Sequence[str], help: str) -> Any:
    """The `--output-format` option of a command printing one of `choices`."""
    return typer.Option(
        "--output-format", help=help, click_type=click.Choice(choices), show_default=False
    )


LegacyFormatOption = Annotated[
    str | None, typer.Option("--format", hidden=True, show_default=False)
]
"""The old spelling of `--output-format` on the commands that used it; still accepted."""


def output_format(
    chosen: str | None, legacy: str | None, choices: Sequence[str], default: str | None = None
) -> str:
    """The chosen format (`--output-format`, or its old `--format` spelling), else `default`,
    else the first of `choices`; an old-spelling value that is not a choice is a usage error."""
    if chosen is not None:
        return chosen
    if legacy is not None and legacy not in choices:
        raise typer.BadParameter(
            f"'{legacy}' is not one of {', '.join(map(repr, choices))}",
            param_hint="'--format'",
        )
    return legacy or default or choices[0]


def fail(message: str) -> NoReturn:
    """End the command with exit status 2 and `layerguard: message` on stderr."""
    say(message, "error")
    raise typer.Exit(USAGE_ERROR)


def print_config_error(error: ConfigError) -> None:
    """One `path:line: LG003 key: message` line per problem on stderr."""
    if not color_enabled("stderr"):
        typer.echo(str(error), err=True)
        return
    from layerguard.linter.reporters.ansi import paint

    for problem in error.problems:
        location = f"{problem.file}:{problem.line}" if problem.line else str(problem.file)
        subject = f"{problem.key_path}: " if problem.key_path else ""
        chunks = [
            (printable(location), "bold"),
            (": ", ""),
            (CONFIG_ERROR_CODE, "bold red"),
            (" ", ""),
        ]
        text = printable(subject + problem.message)  # as `str(problem)` shows it uncoloured
        typer.echo(paint([*chunks, (text, "")]), err=True, color=True)


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """Map the failures of a use case to exit status 2: an invalid contract (every problem,
    one per line) or a run that cannot be done as asked (UsageError)."""
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.linter.errors import UsageError

    try:
        yield
    except ConfigError as error:
        print_config_error(error)
        raise typer.Exit(USAGE_ERROR) from None
    except UsageError as error:
        fail(str(error))


def open_project(config: Path | None) -> ProjectConfig:
    """The validated contract: `config`, or the first found from the current directory
    upwards (a layerguard.yaml, or a pyproject.toml with [tool.layerguard]); exit 2 saying
    why there is none."""
    from layerguard.contracts.config.errors import ConfigError
    from layerguard.contracts.config.loader import find_config, load_config
    from layerguard.contracts.config.model import CONFIG_FILE_NAME
    from layerguard.linter.rules.selection import selection_problems

    with usage_errors():
        if config is None:
            config = find_config(Path.cwd())
            if config is None:
                fail(
                    f"no {CONFIG_FILE_NAME}, and no pyproject.toml with [tool.layerguard], in "
                    f"{Path.cwd()} or any directory above it; run `layerguard init` to write one"
                )
        project = load_config(config)
        problems = selection_problems(project)  # rule codes are the linter's: checked here
        if problems:
            raise ConfigError(problems)
        for warning in project.warnings:
            say(printable(warning), "warning")
        return project


def project_relative(paths: Sequence[Path], root: Path, hint: str = "PATHS") -> tuple[str, ...]:
    """Paths as project-relative posix strings ("" for the root); a missing path or one
    outside the project is a usage error."""
    relative = []
    real_root = Path(os.path.realpath(root))
    for path in paths:
        try:
            os.stat(path)
        except OSError as error:
            raise typer.BadParameter(
                f"'{path}' {_cannot_look_at(error)}", param_hint=hint
            ) from None
        absolute = Path(os.path.realpath(path))  # never raises: Path.resolve does on a loop
        try:
            relative.append(absolute.relative_to(real_root).as_posix())
        except ValueError:
            raise typer.BadParameter(
                f"'{path}' is outside the project ({root})", param_hint=hint
            ) from None
    return tuple("" if r == "." else r for r in relative)


def _cannot_look_at(error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return "does not exist"
    if error.errno == errno.ELOOP:
        return "is a symbolic link loop"
    return f"cannot be read ({error.strerror or error})"


def jobs_to_use(requested: int | None) -> int:
    """`--jobs`, at most one process per core available. Capped rather than refused, so that
    a shared configuration (`-j 8` in a pre-commit hook) also runs on a smaller CI machine;
    the cap is said on stderr."""
    from layerguard.linter.project.extraction import default_jobs

    cores = default_jobs()
    if requested is None:
        return cores
    if requested > cores:
        say(f"--jobs {requested}: using {cores}, one process per core available", "warning")
        return cores
    return requested


def warn_unwritten_cache(written: bool) -> None:
    if not written:
        say(
            "could not write the cache (see --cache-dir, $LAYERGUARD_CACHE_DIR); the run was "
            "checked in full",
            "warning",
        )
