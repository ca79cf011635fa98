"""The `layerguard migrate import-linter` use case: import-linter's contracts, written into
layerguard.yaml (or returned as text), after checking that the result is a valid contract.

Finds the configuration where import-linter does (or takes a path), reads it with
importlinter.py, translates it with translate.py and writes it with contracts_yaml.py.
Raises MigrationInputError (exit 2) for a file that does not parse, a configuration
import-linter would refuse, or one with nothing to translate; ConfigError when the resulting
layerguard.yaml would be invalid (nothing is written then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layerguard.contracts.config.loader import parse_config
from layerguard.contracts.config.model import CONFIG_FILE_NAME, ProjectConfig
from layerguard.linter.migrate.contracts_toml import render_tables, splice_tables
from layerguard.linter.migrate.contracts_yaml import new_file, render_contracts, splice
from layerguard.linter.migrate.files import (
    CANDIDATES,
    MigrationInputError,
    package_roots,
    read_text,
)
from layerguard.linter.migrate.importlinter import (
    ImportLinterConfig,
    ImportLinterSyntaxError,
    parse,
)
from layerguard.linter.migrate.translate import Problem, translate

_NOT_FOUND = (
    "no import-linter configuration found in {directory} (an `[importlinter]` section in "
    "setup.cfg or .importlinter, or `[tool.importlinter]` in pyproject.toml); pass its path"
)


@dataclass(frozen=True, slots=True)
class Migration:
    """What was migrated, from where, and what could not be."""

    source: Path
    target: Path  # the layerguard.yaml written (or that would be)
    contracts: list[dict[str, Any]]
    untranslated: list[Problem]
    unreachable: list[str] = field(default_factory=list)  # root packages no source root holds
    text: str = ""  # the `contracts:` section (with `write=False`), or the file written
    created: bool = False  # the target did not exist before


def find_source(directory: Path) -> tuple[Path, ImportLinterConfig]:
    """import-linter's configuration in `directory`, where import-linter itself looks."""
    for name in CANDIDATES:
        path = directory / name
        if path.is_file():
            config = _parse(path)
            if config is not None:
                return path, config
    raise MigrationInputError(directory, [(0, _NOT_FOUND.format(directory=directory))])


def _parse(path: Path) -> ImportLinterConfig | None:
    text = read_text(path)
    try:
        return parse(text, path)
    except ImportLinterSyntaxError as error:
        raise MigrationInputError(path, [(error.line, error.message)]) from None


def migrate_importlinter(
    directory: Path, source: Path | None = None, target: Path | None = None, write: bool = True
) -> Migration:
    """Migrate the import-linter configuration `source` (default: found in `directory`) into
    the contract `target` (default: a new `directory`/layerguard.yaml): a layerguard.yaml, or
    a pyproject.toml holding `[tool.layerguard]`, which gets `[[tool.layerguard.contracts]]`
    tables."""
    if source is None:
        source, config = find_source(directory)
    else:
        found = _parse(source)
        if found is None:
            where = "[tool.importlinter]" if source.suffix == ".toml" else "[importlinter]"
            raise MigrationInputError(source, [(0, f"has no {where} configuration")])
        config = found
    translation = translate(config)
    if translation.errors:
        raise MigrationInputError(source, [(p.line, p.message) for p in translation.errors])
    if not translation.contracts:
        problems = [(p.line, p.message) for p in translation.untranslated]
        raise MigrationInputError(
            source, [*problems, (0, "nothing could be translated into layerguard contracts")]
        )
    target = target or directory / CONFIG_FILE_NAME
    origin = shown_path(source, target.parent)
    unreachable: list[str] = []
    missing: list[str] = []  # root packages not found at all: one warning each, not two
    created = not target.exists()
    if created:
        roots = package_roots(target.parent, translation.root_packages)
        for package in translation.root_packages:
            if package not in roots:
                missing.append(package)
                unreachable.append(
                    f"root package `{package}` was not found under {target.parent}: set "
                    "`source_roots` to the directory that holds it"
                )
        text = new_file(sorted(set(roots.values())) or ["."], translation.contracts, origin)
    else:
        existing = read_text(target)
        parse_config(existing, target)  # raises ConfigError: a file to fix before merging into
        in_pyproject = target.suffix == ".toml"
        text = (splice_tables if in_pyproject else splice)(existing, translation.contracts, origin)
    project = parse_config(text, target)  # raises ConfigError: nothing is written
    located = [package for package in translation.root_packages if package not in missing]
    unreachable += _unreachable_roots(project, located)
    if write:
        from layerguard.linter.cards.output import write_text

        write_text(target, text, target.parent)
    elif target.suffix == ".toml":
        text = render_tables(translation.contracts, origin)
    else:
        text = "\n".join(["contracts:", *render_contracts(translation.contracts)]) + "\n"
    return Migration(
        source, target, translation.contracts, translation.untranslated, unreachable, text, created
    )


def shown_path(path: Path, base: Path) -> str:
    """`path` relative to `base` when it is below it (as it is printed), else as given."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def _unreachable_roots(project: ProjectConfig, packages: list[str]) -> list[str]:
    """import-linter's root packages that no source root of the project holds."""
    notes = []
    for package in packages:
        top = package.split(".")[0]
        if not any(
            (project.root / root / top).is_dir() or (project.root / root / f"{top}.py").is_file()
            for root in project.source_roots
        ):
            roots = ", ".join(project.source_roots)
            notes.append(
                f"root package `{package}` is under none of the source roots ({roots}): its "
                "modules are not checked until `source_roots` includes the directory holding it"
            )
    return notes
