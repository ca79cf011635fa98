"""Reading the contract: find it, parse it, validate it, build the `ProjectConfig`.

The contract is `layerguard.yaml`, or the `[tool.layerguard]` table of `pyproject.toml`: both
become the same YAML nodes (pyproject.py), and everything after parsing is shared, so the two
files are validated alike and problems name their lines in either. Validation happens in three
passes, each reporting every problem it finds: the structure
against the spec (types, keys), the cross-references (layer ids, placeholders), then the
overlaps between layers. A file with any problem raises one `ConfigError` carrying them all.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import yaml

from layerguard.contracts.config.cross_references import check_references
from layerguard.contracts.config.errors import ConfigError, ConfigProblem, sentence
from layerguard.contracts.config.model import (
    CONFIG_FILE_NAME,
    CONTRACT_TYPES,
    MAX_CONFIG_BYTES,
    AllowedImport,
    CardImportGroup,
    CardSettings,
    ContractLayer,
    IgnoredImport,
    ImportContract,
    ImportScopeOverride,
    Layer,
    PerFileIgnore,
    Placeholder,
    ProjectConfig,
    RegistryNames,
    RuleSelection,
    TransactionPolicy,
)
from layerguard.contracts.config.pyproject import (
    PYPROJECT_NAME,
    TOOL_HEADER,
    contract_node,
    declares_contract,
)
from layerguard.contracts.config.spec import SPEC
from layerguard.contracts.config.structure import check, line_of, type_name
from layerguard.contracts.file_access import (
    NotRegularFileError,
    UnreadableFileError,
    read_regular_file,
)

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MAX_CONFIG_VALUES = 100_000
"""Values a contract may hold, each use of a YAML alias counting what it names again (a
"billion laughs" file expands exponentially); real contracts have a few hundred."""


def find_config(start: Path) -> Path | None:
    """The contract nearest to `start` (a directory, or a file's directory): in `start` or the
    first directory above it holding a `layerguard.yaml` or a `pyproject.toml` with a
    `[tool.layerguard]` table, as ruff finds its settings. Both in one directory is a
    ConfigError: which one is meant cannot be guessed. Any entry named `layerguard.yaml`
    counts, whatever it is: a directory or a broken link of that name is reported (by
    `load_config`), not passed over for a parent's contract."""
    start = start.resolve()
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        found = contracts_in(directory)
        if len(found) > 1:
            yaml_file, pyproject = found
            message = (
                f"{pyproject.name} in the same directory also holds a contract ({TOOL_HEADER}); "
                "keep one of the two, or choose one with --config."
            )
            raise ConfigError([ConfigProblem(yaml_file, 0, "", message)])
        if found:
            return found[0]
    return None


def project_left_by(path: Path) -> tuple[Path, str] | None:
    """(the project root, where `path` really is) when `path` is named inside a project (a
    directory above it, as written, holds a contract) but leads out of it through a link;
    None otherwise. Such a file is not the project's, and is not read (a card linked to
    /etc/passwd)."""
    named = Path(os.path.abspath(path))
    for directory in named.parents:
        if contracts_in(directory):
            root = os.path.realpath(directory)
            real = os.path.realpath(named)
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                return None
            return directory, real
    return None


def contracts_in(directory: Path) -> list[Path]:
    """The contract files of one directory: `layerguard.yaml` (whatever it is), then a
    `pyproject.toml` that has a `[tool.layerguard]` table (a regular file only: a FIFO would
    block the read)."""
    found = []
    candidate = directory / CONFIG_FILE_NAME
    if os.path.lexists(candidate):
        found.append(candidate)
    pyproject = directory / PYPROJECT_NAME
    if pyproject.is_file() and declares_contract(pyproject):
        found.append(pyproject)
    return found


def load_config(path: Path) -> ProjectConfig:
    """Read and validate a contract file (`layerguard.yaml`, or a `.toml` file's
    `[tool.layerguard]`); raise `ConfigError` with every problem."""
    try:
        text = read_regular_file(path, MAX_CONFIG_BYTES).decode("utf-8")
    except NotRegularFileError as error:
        message = f"cannot read: {error}; replace or remove it, or pass --config FILE."
        raise ConfigError([ConfigProblem(path, 0, "", message)]) from None
    except UnreadableFileError as error:
        raise ConfigError([ConfigProblem(path, 0, "", f"cannot read: {error}.")]) from None
    except UnicodeDecodeError as error:
        problem = ConfigProblem(path, 0, "", f"not UTF-8 text: {error.reason}.")
        raise ConfigError([problem]) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> ProjectConfig:
    """Validate the text of a contract read from `path` (its directory is the root): the
    `[tool.layerguard]` table of a `.toml` file, else a `layerguard.yaml`."""
    if path.suffix == ".toml":
        return _validated(contract_node(text, path, MAX_CONFIG_VALUES), path)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        message = " ".join(str(p) for p in (error.context, error.problem) if p)
        problem = ConfigProblem(path, line, "", f"invalid YAML: {sentence(message)}")
        raise ConfigError([problem]) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        line = text.count("\n", 0, error.position) + 1
        message = f"invalid YAML: character #x{error.character:04x}: {sentence(error.reason)}"
        raise ConfigError([ConfigProblem(path, line, "", message)]) from None
    except yaml.YAMLError as error:
        message = f"invalid YAML: {sentence(' '.join(str(error).split()))}"  # on one line
        raise ConfigError([ConfigProblem(path, 0, "", message)]) from None
    if root is None:
        raise ConfigError(
            [ConfigProblem(path, 1, "", "the file is empty; `layerguard init` writes a start.")]
        )
    return _validated(root, path)


def _validated(root: yaml.Node, path: Path) -> ProjectConfig:
    """Every problem of a composed contract, or the `ProjectConfig` it describes."""
    if not isinstance(root, yaml.MappingNode):
        if path.suffix == ".toml":
            message = f"{TOOL_HEADER} must be a table, got {type_name(root)}."
        else:
            message = f"expected a mapping of keys at the top level, got {type_name(root)}."
        raise ConfigError([ConfigProblem(path, line_of(root), "", message)])
    too_many = _too_many_values(root, MAX_CONFIG_VALUES)
    if too_many is not None:
        if too_many == "aliases":
            message = (
                f"the file expands to more than {MAX_CONFIG_VALUES:,} values through YAML "
                "aliases; write the contract out without them."
            )
        else:  # a TOML table is counted before its nodes are built (`contract_node`)
            message = (
                f"the file holds more than {MAX_CONFIG_VALUES:,} values; a contract has a few "
                "hundred."
            )
        raise ConfigError([ConfigProblem(path, line_of(root), "", message)])

    checked = check(root, SPEC, path)
    problems = checked.problems + check_references(checked.data, checked.lines, path)
    config = _build(checked.data, checked.lines, path)
    if not any(p.key_path.startswith(("layers", "placeholders")) for p in problems):
        from layerguard.contracts.layers import MAX_OVERLAP_PAIRS, LayerMap

        layer_map = LayerMap(config)
        problems += layer_map.overlaps()
        stopped_at = layer_map.overlap_search_stopped_at
        if stopped_at is not None and not problems:
            config = replace(
                config,
                warnings=(
                    f"{path}: the search for overlapping layers stopped after "
                    f"{MAX_OVERLAP_PAIRS:,} pairs of layers that may meet; from layer "
                    f"'{stopped_at}' on, layers were not compared with each other (a file two "
                    "layers both claim is still reported). Globs that start with a directory "
                    "(`src/app/x/**` rather than `**/x/**`) let every pair be compared.",
                ),
            )
    if problems:
        raise ConfigError(problems)
    return config


def _too_many_values(root: yaml.Node, limit: int) -> Literal["aliases", "values"] | None:
    """Whether the document has more than `limit` values once its aliases are expanded (an
    alias is the node it names, shared: walking it counts it again): "aliases" when aliases
    took it there, "values" when it holds that many itself (a TOML array of a million items;
    TOML has no aliases), None when it is within the limit."""
    stack = [root]
    count = 0
    distinct: set[int] = set()  # the nodes themselves, without the repeats aliases make
    while stack:
        node = stack.pop()
        count += 1
        distinct.add(id(node))
        if count > limit:
            return "values" if len(distinct) > limit else "aliases"
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _build(data: dict[str, Any], lines: dict[str, int], path: Path) -> ProjectConfig:
    """The model of what is valid in `data`; absent keys keep the model's defaults."""
    fields: dict[str, Any] = {
        # The directory the contract is named in, not the one a link named there leads to: a
        # `layerguard.yaml` linked to a shared file belongs to the project it is linked into,
        # and the cache is written there, never beside the link's target.
        "root": path.absolute().parent.resolve(),
        "path": path,
        "lines": lines,
        "sections": frozenset(data),
    }
    for key in ("source_roots", "exclude", "cross_domain_layers"):
        if key in data:
            fields[key] = _strings(data[key])
    if isinstance(data.get("max_file_size_kb"), int):
        fields["max_file_size_kb"] = data["max_file_size_kb"]
    fields["placeholders"] = tuple(
        Placeholder(
            name=name,
            exclude=_strings(rule.get("exclude")),
            values=_strings(rule.get("values")),
            line=lines.get(f"placeholders.{name}", 0),
        )
        for name, rule in data.get("placeholders", {}).items()
    )
    fields["layers"] = tuple(
        _layer(layer, f"layers[{i}]", lines)
        for i, layer in enumerate(data.get("layers", []))
        if isinstance(layer, dict) and "id" in layer and "name" in layer
    )
    fields["contracts"] = tuple(
        contract
        for i, entry in enumerate(data.get("contracts", []))
        if (contract := _contract(entry, f"contracts[{i}]", lines)) is not None
    )
    fields["import_scopes"] = {
        code: ImportScopeOverride(**policy, line=lines.get(f"import_scopes.{code}", 0))
        for code, policy in data.get("import_scopes", {}).items()
    }
    sections = {
        "transactions": TransactionPolicy,
        "registry": RegistryNames,
        "cards": CardSettings,
        "rules": RuleSelection,
    }
    for key, section in sections.items():
        if key in data:
            values: dict[str, Any] = {
                k: v if isinstance(v, str) else _strings(v) for k, v in data[key].items()
            }
            if section is TransactionPolicy:
                values["line"] = lines.get(key, 0)
            if section is CardSettings and "import_groups" in values:
                values["import_groups"] = _import_groups(data[key]["import_groups"], lines)
            if section is RuleSelection and "per_file_ignores" in values:
                values["per_file_ignores"] = _per_file_ignores(data[key]["per_file_ignores"], lines)
            fields[key] = section(**values)
    return ProjectConfig(**fields)


def _per_file_ignores(data: dict[str, Any], lines: dict[str, int]) -> tuple[PerFileIgnore, ...]:
    return tuple(
        PerFileIgnore(glob, _strings(codes), lines.get(f"rules.per_file_ignores.{glob}", 0))
        for glob, codes in data.items()
    )


def _import_groups(data: list[Any], lines: dict[str, int]) -> tuple[CardImportGroup, ...]:
    return tuple(
        CardImportGroup(
            name=group["name"],
            layers=_strings(group["layers"]),
            line=lines.get(f"cards.import_groups[{i}]", 0),
        )
        for i, group in enumerate(data)
        if isinstance(group, dict) and "name" in group and "layers" in group
    )


_CONTRACT_CLASSES = {kind.type: kind for kind in CONTRACT_TYPES}


def _contract(data: Any, key_path: str, lines: dict[str, int]) -> ImportContract | None:
    """The contract of a structurally valid entry (None for one reported already)."""
    if not isinstance(data, dict) or not all(k in data for k in ("type", "id", "name")):
        return None
    kind = _CONTRACT_CLASSES[data["type"]]
    values: dict[str, Any] = {"line": lines.get(key_path, 0)}
    for key, value in data.items():
        if key == "type":
            continue
        if key == "ignore_imports":
            value = tuple(
                IgnoredImport(**entry, line=lines.get(f"{key_path}.ignore_imports[{k}]", 0))
                for k, entry in enumerate(value)
                if isinstance(entry, dict) and {"importer", "imported", "reason"} <= set(entry)
            )
        elif key == "import_scopes":
            value = ImportScopeOverride(**value, line=lines.get(f"{key_path}.{key}", 0))
        elif key == "layers":
            value = tuple(
                ContractLayer.parse(text, lines.get(f"{key_path}.layers[{k}]", 0))
                for k, text in enumerate(value)
                if isinstance(text, str)
            )
        elif isinstance(value, list):
            value = _strings(value)
        values[key] = value
    contract: ImportContract = kind(**values)
    return contract


def _layer(data: dict[str, Any], key_path: str, lines: dict[str, int]) -> Layer:
    forbid = data.get("forbid", {})
    return Layer(
        id=data["id"],
        name=data["name"],
        paths=_strings(data.get("paths")),
        modules=_strings(data.get("modules")),
        exclude=_strings(data.get("exclude")),
        forbidden_layers=_strings(forbid.get("layers")),
        forbidden_modules=_strings(forbid.get("modules")),
        forbid_indirect=forbid.get("indirect", False),
        allow=tuple(
            AllowedImport(
                module=allow["module"],
                reason=allow["reason"],
                importer=allow.get("importer"),
                unmatched=allow.get("unmatched", "error"),
                line=lines.get(f"{key_path}.allow[{k}]", 0),
            )
            for k, allow in enumerate(data.get("allow", []))
            if isinstance(allow, dict) and "module" in allow and "reason" in allow
        ),
        requires_cards=data.get("requires_cards", False),
        line=lines.get(key_path, 0),
    )
