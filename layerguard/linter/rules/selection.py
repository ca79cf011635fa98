"""Which rules a run enables: the project's defaults, then `layerguard.yaml`'s `rules:`, then
the command line — and which findings `rules.per_file_ignores` drops.

Selectors are codes or code prefixes (`LG1` selects every import rule, `ALL` everything), in
`layerguard.yaml` as on the command line, as in ruff. Each of the two layers (the file, then
the command line) works the same way: its `select`, when given, replaces what was selected
before (including what an earlier layer ignored), its `extend_select` adds, its `ignore`
removes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from layerguard.contracts.config.errors import ConfigError, ConfigProblem
from layerguard.contracts.config.model import ProjectConfig
from layerguard.linter.rules.codes import ENABLED_BY_DEFAULT, ON_WITH_SECTION


class UnknownSelectorError(ValueError):
    """A command-line selector that names no rule: a typo that would silently select nothing.
    `option` is the `CommandLineSelection` field it was given in (`extend_select`), so that the
    error names the option the user typed."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True, slots=True)
class CommandLineSelection:
    """`--select` (None: not given), `--extend-select`, `--ignore` and `--extend-ignore` (which
    does what `--ignore` does: both add to the configured ignores)."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()


def selected(selector: str) -> frozenset[str]:
    """The codes a selector names (empty when it names none)."""
    wanted = selector.strip().upper()
    if not wanted:
        return frozenset()
    return frozenset(
        code for code in ENABLED_BY_DEFAULT if wanted == "ALL" or code.startswith(wanted)
    )


def _expand(selectors: Iterable[str], option: str = "") -> set[str]:
    """The codes the selectors name; a selector that names none is an error, labelled with the
    command-line `option` it came from (the file's are reported with their lines before)."""
    codes: set[str] = set()
    for raw in selectors:
        matched = selected(raw)
        if not matched and raw.strip():
            raise UnknownSelectorError(
                f"unknown rule selector {raw!r}; `layerguard rules` lists every code", option
            )
        codes |= matched
    return codes


def project_defaults(project: ProjectConfig) -> frozenset[str]:
    """The rules a project runs when nothing selects: those on by default, without the ones
    that apply only to projects whose `layerguard.yaml` has their section (LG2xx needs
    `transactions:`: a project that never said who owns transactions is not assumed to use
    SQLAlchemy's)."""

    def applies(code: str) -> bool:
        section = ON_WITH_SECTION.get(code)
        return section is None or section in project.sections

    return frozenset(code for code, on in ENABLED_BY_DEFAULT.items() if on and applies(code))


def selection_problems(project: ProjectConfig) -> list[ConfigProblem]:
    """Every selector of `rules:` that names no rule, at its line."""
    rules = project.rules
    file = project.path or project.root
    listed = [
        (f"rules.{key}[{i}]", selector)
        for key, selectors in (
            ("select", rules.select),
            ("extend_select", rules.extend_select),
            ("ignore", rules.ignore),
        )
        for i, selector in enumerate(selectors)
    ]
    listed += [
        (f"rules.per_file_ignores.{entry.glob}[{i}]", selector)
        for entry in rules.per_file_ignores
        for i, selector in enumerate(entry.codes)
    ]
    return [
        ConfigProblem(
            file,
            project.line_of(key_path),
            key_path,
            f"'{selector}' selects no rule; `layerguard rules` lists every code.",
        )
        for key_path, selector in listed
        if not selected(selector)
    ]


def enabled_codes(
    project: ProjectConfig, command_line: CommandLineSelection | None = None
) -> frozenset[str]:
    """The codes a run enables (raises ConfigError for a `rules:` selector that names no rule,
    UnknownSelectorError for such a command-line selector)."""
    problems = selection_problems(project)
    if problems:
        raise ConfigError(problems)
    configured = project.rules
    codes = set(_expand(configured.select) if configured.select else project_defaults(project))
    codes |= _expand(configured.extend_select)
    codes -= _expand(configured.ignore)
    if command_line is not None:
        if command_line.select is not None:
            codes = _expand(command_line.select, "select")
        codes |= _expand(command_line.extend_select, "extend_select")
        codes -= _expand(command_line.ignore, "ignore")
        codes -= _expand(command_line.extend_ignore, "extend_ignore")
    return frozenset(codes)


def per_file_ignored(project: ProjectConfig) -> Callable[[str, str], bool]:
    """Whether `rules.per_file_ignores` drops a finding of `code` in the project file `path`."""
    entries = project.rules.per_file_ignores
    if not entries:
        return lambda path, code: False
    from layerguard.contracts.patterns import PATH, PlaceholderRule, compile_pattern

    rules = {p.name: PlaceholderRule(p.values, p.exclude) for p in project.placeholders}
    globs = [(compile_pattern(entry.glob, PATH, rules), _expand(entry.codes)) for entry in entries]

    def ignored(path: str, code: str) -> bool:
        return any(code in codes and glob.match("/" + path) for glob, codes in globs)

    return ignored
