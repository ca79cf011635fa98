"""The `layerguard init` use case: choose a preset for a tree (or take the one asked for),
write it as `layerguard.yaml` or into `pyproject.toml`, and say what its layers hold and what
`layerguard check` will report with it on the current code.

Nothing is written that would not load: the text is validated first (in pyproject.toml, as
part of the whole file), and written atomically so that an interrupted write leaves the user's
pyproject.toml as it was. A directory never ends up with two contracts.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from layerguard.contracts.config.errors import ConfigError
from layerguard.contracts.config.loader import contracts_in, parse_config
from layerguard.contracts.config.model import CONFIG_FILE_NAME, MAX_CONFIG_BYTES, ProjectConfig
from layerguard.contracts.config.pyproject import PYPROJECT_NAME, TOOL_HEADER
from layerguard.contracts.config.toml_output import yaml_to_toml
from layerguard.contracts.escaping import printable
from layerguard.contracts.file_access import UnreadableFileError, read_regular_file
from layerguard.contracts.layers import LayerMap
from layerguard.linter.cards.output import write_text
from layerguard.linter.diagnostics import plural
from layerguard.linter.errors import UsageError
from layerguard.linter.layers.listing import LayerListing, list_layers
from layerguard.linter.project.discovery import is_python_file_of
from layerguard.linter.setup.drafts import PRESETS, Draft, draft
from layerguard.linter.setup.layouts import main_package, package_shape, top_modules
from layerguard.linter.setup.tree import Tree, scan

if TYPE_CHECKING:
    from layerguard.linter.project.extraction import Progress

PROPOSED_IN_ORDER = ("hoc", "domains", "fastapi")
"""The presets of a known layout, most specific first: `init` proposes the one whose layers
hold the most files (ties go to the earlier); `packages` only when none of them fits."""
_LAYOUTS = f"{', '.join(PROPOSED_IN_ORDER[:-1])} or {PROPOSED_IN_ORDER[-1]}"

_TOOL_HEADER_LINE = re.compile(r"""^[ \t]*\[\[?[ \t]*tool[ \t]*\.[ \t]*["']?layerguard\b""")
_ANY_HEADER_LINE = re.compile(r"^[ \t]*\[")


@dataclass(frozen=True, slots=True)
class InitOptions:
    directory: Path
    preset: str | None = None  # None: propose the preset that fits the tree
    pyproject: bool = False  # write [tool.layerguard] into pyproject.toml
    force: bool = False
    progress: Progress | None = field(default=None, compare=False)  # the check's parsing


@dataclass(frozen=True, slots=True)
class DraftFindings:
    """What `layerguard check` reports on the current code with the drafted contract: the
    count per rule, and how many findings an existing baseline hides."""

    counts: tuple[tuple[str, int], ...]  # (code, findings), in code order
    failing: int  # findings that fail a check (info findings never do)
    hidden: int  # findings an existing baseline file hides
    baseline: Path | None  # that file, when there is one
    names: dict[str, str]  # code -> rule name
    notes: dict[str, str]  # code -> what of the contract the finding is about

    @property
    def total(self) -> int:
        return sum(count for _, count in self.counts)

    def description(self, contract: str) -> str:
        """The summary `init` ends with; `contract` names the file it wrote."""
        hidden = ""
        if self.hidden and self.baseline is not None:
            hidden = f" ({self.hidden} more hidden by {self.baseline.name})"
        if not self.counts:
            return f"`layerguard check` reports no findings with it on the current code{hidden}"
        per_code = ", ".join(
            " ".join(filter(None, (code, self.names.get(code), f"×{count}")))
            + (f" ({self.notes[code]})" if code in self.notes else "")
            for code, count in self.counts
        )
        head = (
            f"`layerguard check` reports {plural(self.total, 'finding')} with it on the current "
            f"code{hidden}: {per_code}"
        )
        if not self.failing:
            return head
        accept = (
            "`layerguard baseline update --allow-new`"
            if self.baseline is not None
            else "`layerguard baseline create`"
        )
        them = "it" if self.failing == 1 else "them"
        return (
            f"{head}\nFix {them}, change {contract} where it does not describe the architecture "
            f"you want, or accept {them} for now with {accept} so that only new ones fail."
        )


@dataclass(frozen=True, slots=True)
class InitResult:
    """What was written where, from which draft; the layers' files (None when the contract
    does not fit the tree, with the problem); the other presets that fit; what `check` reports
    with the contract on the current code (None when it could not run, with the problem)."""

    target: Path
    draft: Draft
    proposed: bool
    listing: LayerListing | None
    problem: str | None
    also_fitting: tuple[str, ...]
    findings: DraftFindings | None = None
    check_problem: str | None = None


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
    if not config.layers:  # a contract that checks nothing is never written
        raise UsageError(_no_layer(chosen.preset, tree, directory))
    if options.pyproject:
        target = directory / PYPROJECT_NAME
        _refuse_link(target)
        text = _pyproject_text(target, yaml_path, chosen.text, options.force)
        config = parse_config(text, target)
    else:
        target = yaml_path
        _refuse_link(target)
        _refuse_second_contract(target, directory / PYPROJECT_NAME, options.force)
        text = chosen.text
    write_text(target, text, target.parent)
    listing, problem = _listing(config)
    findings, check_problem = (
        (None, None) if listing is None else _draft_findings(config, options.progress)
    )
    return InitResult(
        target,
        chosen,
        options.preset is None,
        listing,
        problem,
        others,
        findings,
        check_problem,
    )


def propose(tree: Tree, directory: Path) -> tuple[Draft, tuple[str, ...]]:
    """The draft of the preset that fits `tree` best, and the others that fit too."""
    fitting = [d for d in (draft(p, tree) for p in PROPOSED_IN_ORDER) if d.fits]
    if not fitting:
        fallback = draft("packages", tree)
        if fallback.fits:
            return fallback, ()
        raise UsageError(_nothing_fits(fallback, tree, directory))
    coverage = {d.preset: _claimed(d, tree, directory) for d in fitting}
    best = max(fitting, key=lambda d: coverage[d.preset])  # the first on a tie
    return best, tuple(d.preset for d in fitting if d is not best)


def _nothing_fits(packages: Draft, tree: Tree, directory: Path) -> str:
    """Why no preset fits (what the tree has instead), and the ways on from there."""
    head = (
        f"no preset fits {directory}: it does not have the {_LAYOUTS} layout, and "
        f"{package_shape(tree)}"
    )
    layers = parse_config(packages.text, directory / CONFIG_FILE_NAME).layers
    if not layers:
        return f"{head}; {_ways_on(tree)}"
    held = plural(_claimed(packages, tree, directory), "file")
    return (
        f"{head}, so `packages` would make a single layer ({layers[0].id}, {held}) and no "
        f"other to keep it apart from; {_ways_on(tree)}, or start from that layer with "
        "--preset packages"
    )


def _no_layer(preset: str, tree: Tree, directory: Path) -> str:
    """Why `preset` has no layer to write for the tree, and which presets would."""
    fitting = [name for name in PROPOSED_IN_ORDER if draft(name, tree).fits]
    if fitting:
        way_on = f"presets that fit it: {', '.join(fitting)} (--preset {fitting[0]})"
    else:
        way_on = f"no other preset fits it: {_ways_on(tree)}"
    return (
        f"preset '{preset}' has no layer to write for {directory}: {package_shape(tree)}; "
        f"nothing was written; {way_on}"
    )


def _ways_on(tree: Tree) -> str:
    """Write the layers by hand (with one of the tree's modules as the example); for a tree
    without a package yet, a layout preset is a way too."""
    package = main_package(tree)
    if package is None:
        return (
            "write the layers by hand (docs/configuration.md), or a preset's layout for code "
            "still to come with --preset (`layerguard init --preset list`)"
        )
    modules = top_modules(tree, package)
    public = [m for m in modules if not m.rpartition("/")[2].startswith("_")] or modules
    example = f': `paths: ["{public[0]}"]`' if public else ""
    return (
        f"write the layers by hand (a layer can be single modules{example}; docs/configuration.md)"
    )


def _claimed(candidate: Draft, tree: Tree, directory: Path) -> int:
    """How many of the tree's checked Python files the draft's layers hold."""
    layer_map = LayerMap(parse_config(candidate.text, directory / CONFIG_FILE_NAME))
    return sum(
        1
        for path in tree.files
        if is_python_file_of(path, layer_map) and layer_map.classify_path(path) is not None
    )


def _refuse_link(target: Path) -> None:
    """The contract is written as a file of the directory, never through a link: a link can
    lead anywhere, and the check that follows would take the directory it leads to for the
    project (and write its cache there)."""
    if target.is_symlink():
        try:
            where = f" to {printable(os.readlink(target))}"
        except OSError:
            where = ""
        raise UsageError(
            f"{target} is a symbolic link{where}; init writes a regular file there only: "
            "remove the link, or run init in the directory it leads to"
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
    if os.path.lexists(yaml_path):
        raise UsageError(
            f"{yaml_path} already holds the contract; a directory has one contract: remove it "
            "first, or write it again without --pyproject"
        )
    table = yaml_to_toml(yaml_text)
    if not target.exists():
        return table
    try:
        current = read_regular_file(target, MAX_CONFIG_BYTES).decode("utf-8")
    except (UnreadableFileError, UnicodeDecodeError) as error:
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


def _draft_findings(
    config: ProjectConfig, progress: Progress | None
) -> tuple[DraftFindings | None, str | None]:
    """`layerguard check` with the written contract, as the user will run it next (the
    configured rules, an existing baseline applied). It fills the cache as that check
    would, so the user's next `check` does not parse the project a second time."""
    from layerguard.linter.check import CheckOptions, check
    from layerguard.linter.rules.codes import (
        SESSION_CONSTRUCTION_OUTSIDE_CREATOR,
        TRANSACTION_OUTSIDE_OWNER,
    )
    from layerguard.linter.rules.registry import RULES_BY_CODE
    from layerguard.linter.rules.selection import enabled_codes

    try:
        result = check(config, CheckOptions(enabled=enabled_codes(config), progress=progress))
    except (ConfigError, UsageError) as error:
        return None, str(error)
    counts = Counter(d.code for d in result.diagnostics)
    transactions = config.transactions
    notes = {
        TRANSACTION_OUTSIDE_OWNER: _only(transactions.owners, "commit"),
        SESSION_CONSTRUCTION_OUTSIDE_CREATOR: _only(
            transactions.session_creators, "build sessions"
        ),
    }
    applied = result.baseline
    return DraftFindings(
        counts=tuple(sorted(counts.items())),
        failing=result.failing,
        hidden=applied.hidden if applied is not None else 0,
        baseline=applied.path if applied is not None else None,
        names={code: RULES_BY_CODE[code].name for code in counts if code in RULES_BY_CODE},
        notes={code: note for code, note in notes.items() if code in counts},
    ), None


def _only(names: tuple[str, ...], what: str) -> str:
    """`only crud, core may commit`: who the contract lets do what a finding reports."""
    return f"only {', '.join(names)} may {what}" if names else f"no module may {what}"
