"""The `layerguard init` use case: choose a preset for a tree (or take the one asked for),
write it as `layerguard.yaml` or into `pyproject.toml`, and say what its layers hold.

Nothing is written that would not load: the text is validated first (in pyproject.toml, as
part of the whole file), and written atomically so that an interrupted write leaves the user's
pyproject.toml as it was. A directory never ends up with two contracts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import contracts_in, parse_config
from layerguard.contracts.config.model import CONFIG_FILE_NAME, ProjectConfig
from layerguard.contracts.config.pyproject import PYPROJECT_NAME, TOOL_HEADER
from layerguard.contracts.config.toml_output import yaml_to_toml
from layerguard.contracts.layers import LayerMap
from layerguard.linter.cards.output import write_text
from layerguard.linter.errors import UsageError
from layerguard.linter.layers.listing import LayerListing, list_layers
from layerguard.linter.project.discovery import is_python_file_of
from layerguard.linter.setup.drafts import PRESETS, Draft, draft
from layerguard.linter.setup.tree import Tree, scan

PROPOSED_IN_ORDER = ("hoc", "domains", "fastapi")
"""The presets of a known layout, most specific first: `init` proposes the one whose layers
hold the most files (ties go to the earlier); `packages` only when none of them fits."""

_TOOL_HEADER_LINE = re.compile(r"""^[ \t]*\[\[?[ \t]*tool[ \t]*\.[ \t]*["']?layerguard\b""")
_ANY_HEADER_LINE = re.compile(r"^[ \t]*\[")


@dataclass(frozen=True, slots=True)
class InitOptions:
    directory: Path
    preset: str | None = None  # None: propose the preset that fits the tree
    pyproject: bool = False  # write [tool.layerguard] into pyproject.toml
    force: bool = False


@dataclass(frozen=True, slots=True)
class InitResult:
    """What was written where, from which draft; the layers' files (None when the contract
    does not fit the tree, with the problem); the other presets that fit."""

    target: Path
    draft: Draft
    proposed: bool
    listing: LayerListing | None
    problem: str | None
    also_fitting: tuple[str, ...]


def init_project(options: InitOptions) -> InitResult:
    directory = options.directory
    if options.preset is not None and options.preset not in PRESETS:
        raise UsageError(
            f"unknown preset '{options.preset}'; available presets: {', '.join(PRESETS)}"
        )
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such directory")
    tree = scan(directory)
    if options.preset is None:
        chosen, others = propose(tree, directory)
    else:
        chosen, others = draft(options.preset, tree), ()
    yaml_path = directory / CONFIG_FILE_NAME
    config = parse_config(chosen.text, yaml_path)  # a preset that does not load is a bug
    if options.pyproject:
        target = directory / PYPROJECT_NAME
        text = _pyproject_text(target, yaml_path, chosen.text, options.force)
        config = parse_config(text, target)
    else:
        target = yaml_path
        _refuse_second_contract(target, directory / PYPROJECT_NAME, options.force)
        text = chosen.text
    write_text(target, text, target.parent)
    listing, problem = _listing(config)
    return InitResult(target, chosen, options.preset is None, listing, problem, others)


def propose(tree: Tree, directory: Path) -> tuple[Draft, tuple[str, ...]]:
    """The draft of the preset that fits `tree` best, and the others that fit too."""
    fitting = [d for d in (draft(p, tree) for p in PROPOSED_IN_ORDER) if d.fits]
    if not fitting:
        fallback = draft("packages", tree)
        if fallback.fits:
            return fallback, ()
        raise UsageError(
            f"no preset fits {directory}: it has no Python package with sub-packages to make "
            "layers of; choose one with --preset (`layerguard init --preset list`)"
        )
    coverage = {d.preset: _claimed(d, tree, directory) for d in fitting}
    best = max(fitting, key=lambda d: coverage[d.preset])  # the first on a tie
    return best, tuple(d.preset for d in fitting if d is not best)


def _claimed(candidate: Draft, tree: Tree, directory: Path) -> int:
    """How many of the tree's checked Python files the draft's layers hold."""
    layer_map = LayerMap(parse_config(candidate.text, directory / CONFIG_FILE_NAME))
    return sum(
        1
        for path in tree.files
        if is_python_file_of(path, layer_map) and layer_map.classify_path(path) is not None
    )


def _refuse_second_contract(target: Path, pyproject: Path, force: bool) -> None:
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it")
    if pyproject in contracts_in(target.parent):
        raise UsageError(
            f"{pyproject} already holds the contract ({TOOL_HEADER}); a directory has one "
            "contract: write there with --pyproject --force, or remove that table first"
        )


def _pyproject_text(target: Path, yaml_path: Path, yaml_text: str, force: bool) -> str:
    """pyproject.toml with the draft as its `[tool.layerguard]` table: appended, or replacing
    the table with --force."""
    if yaml_path.exists():
        raise UsageError(
            f"{yaml_path} already holds the contract; a directory has one contract: remove it "
            "first, or write it again without --pyproject"
        )
    table = yaml_to_toml(yaml_text)
    if not target.exists():
        return table
    try:
        current = target.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{target}: cannot read it ({error})") from None
    if target in contracts_in(target.parent):
        if not force:
            raise UsageError(
                f"{target} already has a {TOOL_HEADER} table; pass --force to replace it"
            )
        current = _without_tool_table(current)
        if "layerguard" in _tables_left(current):
            raise UsageError(
                f"{target} sets {TOOL_HEADER} with dotted keys in another table; remove them "
                "by hand, then run init again"
            )
    text = current.rstrip("\n") + "\n\n" + table if current.strip() else table
    try:
        parse_config(text, target)
    except ConfigError as error:
        raise UsageError(f"{target} would not load with the table added:\n{error}") from None
    return text


def _without_tool_table(text: str) -> str:
    """The text without its `[tool.layerguard]` and `[tool.layerguard.*]` sections."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if _ANY_HEADER_LINE.match(line):
            skipping = _TOOL_HEADER_LINE.match(line) is not None
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _tables_left(text: str) -> set[str]:
    """The `tool` keys the text still defines (or {"layerguard"} if it does not parse)."""
    import tomllib

    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError:
        return {"layerguard"}
    return set(tool) if isinstance(tool, dict) else set()


def _listing(config: ProjectConfig) -> tuple[LayerListing | None, str | None]:
    try:
        return list_layers(config), None
    except ConfigError as error:
        return None, str(error)
