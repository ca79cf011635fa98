"""Cross-reference checks of a structurally valid `layerguard.yaml`.

What the spec (and so the JSON Schema) cannot say: layer ids are unique and every reference
names one, placeholders with constraints are used, `{domain}` is only relied on where a layer
captures it, no glob goes below a file. Works on the plain data of `structure.check`,
skipping values already reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from layerguard.contracts.config.errors import ConfigProblem, sentence, unknown_name
from layerguard.contracts.config.model import EXTERNAL_IMPORT_GROUP, ContractLayer
from layerguard.contracts.config.spec import MODULE_PATTERN
from layerguard.contracts.patterns import (
    ANY_DEPTH,
    DOMAIN,
    MODULE,
    PATH,
    PYTHON_SUFFIX,
    Syntax,
    placeholders_in,
)


def check_references(
    data: dict[str, Any], lines: dict[str, int], file: Path
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []

    def report(key_path: str, message: str) -> None:
        problems.append(ConfigProblem(file, lines.get(key_path, 0), key_path, message))

    layers: list[Any] = data.get("layers", [])
    ids: dict[str, str] = {}  # id -> key path of its first definition
    for i, layer in enumerate(layers):
        layer_id = layer.get("id") if isinstance(layer, dict) else None
        if not isinstance(layer_id, str):
            continue
        if layer_id in ids:
            first = lines.get(ids[layer_id], 0)
            report(f"layers[{i}].id", f"duplicate layer id '{layer_id}' (first on line {first}).")
        else:
            ids[layer_id] = f"layers[{i}].id"

    def unknown_layer(key_path: str, name: str) -> None:
        report(key_path, unknown_name("layer id", name, list(ids), "Layer ids"))

    capturing = set()
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            continue
        if any(DOMAIN in placeholders_in(p, s) for p, s in _layer_patterns(layer)):
            capturing.add(layer.get("id"))
        for j, name in _strings(layer.get("forbid", {}).get("layers")):
            if name not in ids:
                unknown_layer(f"layers[{i}].forbid.layers[{j}]", name)
            elif name == layer.get("id"):
                report(f"layers[{i}].forbid.layers[{j}]", "a layer cannot forbid importing itself.")

    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or layer.get("id") in capturing:
            continue
        for k, allow in enumerate(layer.get("allow", [])):
            module = allow.get("module") if isinstance(allow, dict) else None
            if isinstance(module, str) and DOMAIN in placeholders_in(module, MODULE):
                report(
                    f"layers[{i}].allow[{k}].module",
                    f"uses {{domain}}, but layer '{layer.get('id')}' has no {{domain}} in its "
                    "paths or modules to bind it to.",
                )

    for j, name in _strings(data.get("cross_domain_layers")):
        if name not in ids:
            unknown_layer(f"cross_domain_layers[{j}]", name)
        elif name not in capturing:
            report(
                f"cross_domain_layers[{j}]",
                f"layer '{name}' has no {{domain}} in its paths or modules: it has no domains "
                "to keep apart.",
            )

    for j, name in _strings(data.get("registry", {}).get("handler_layers")):
        if name not in ids:
            unknown_layer(f"registry.handler_layers[{j}]", name)

    _check_import_groups(data.get("cards", {}).get("import_groups"), ids, report, unknown_layer)

    transactions = data.get("transactions", {})
    module_pattern = re.compile(MODULE_PATTERN.pattern or "")
    for key in ("owners", "session_creators"):
        for j, entry in _strings(transactions.get(key)):
            key_path = f"transactions.{key}[{j}]"
            if entry in ids:
                continue
            if "." not in entry and "*" not in entry:
                unknown_layer(key_path, entry)
            elif not module_pattern.match(entry):
                report(key_path, f"expected a layer id or {MODULE_PATTERN.hint}, got '{entry}'.")

    for key_path, glob in _python_file_globs(data):
        message = _below_a_file(glob)
        if message is not None:
            report(key_path, sentence(message))

    _check_contracts(data.get("contracts"), report)

    used = {name for text, syntax in _all_patterns(data) for name in placeholders_in(text, syntax)}
    for name in data.get("placeholders", {}):
        if name not in used:
            report(
                f"placeholders.{name}",
                f"placeholder '{{{name}}}' is never used in a layer path or module pattern.",
            )
    return problems


def _check_import_groups(
    groups: Any,
    ids: dict[str, str],
    report: Callable[[str, str], None],
    unknown_layer: Callable[[str, str], None],
) -> None:
    """Group names are unique and not `external`; each layer is in one group at most."""
    if not isinstance(groups, list):
        return
    names: dict[str, int] = {}
    grouped: dict[str, str] = {}  # layer id -> group name
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            continue
        name = group.get("name")
        if isinstance(name, str):
            if name == EXTERNAL_IMPORT_GROUP:
                report(
                    f"cards.import_groups[{i}].name",
                    f"'{EXTERNAL_IMPORT_GROUP}' is the group of modules in no layer; choose "
                    "another name.",
                )
            elif name in names:
                report(
                    f"cards.import_groups[{i}].name",
                    f"duplicate import group '{name}' (also cards.import_groups[{names[name]}]).",
                )
            else:
                names[name] = i
        for j, layer in _strings(group.get("layers")):
            key_path = f"cards.import_groups[{i}].layers[{j}]"
            if layer not in ids:
                unknown_layer(key_path, layer)
            elif layer in grouped and grouped[layer] != name:
                report(key_path, f"layer '{layer}' is already in import group '{grouped[layer]}'.")
            else:
                grouped[layer] = str(name)


def _python_file_globs(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key path, glob) of every glob that selects Python files: top-level and layer
    `exclude`, layer `paths`."""
    for j, glob in _strings(data.get("exclude")):
        yield f"exclude[{j}]", glob
    for i, layer in enumerate(data.get("layers", [])):
        if isinstance(layer, dict):
            for key in ("paths", "exclude"):
                for j, glob in _strings(layer.get(key)):
                    yield f"layers[{i}].{key}[{j}]", glob


def _below_a_file(glob: str) -> str | None:
    """Why a glob with segments after one ending in `.py` is refused, or None.

    `**/*.py/**` reads as "below a directory named like a Python file", but `**` also matches
    nothing, so it matches every Python file: as an `exclude` it silently empties the layers.
    """
    segments = PATH.split(glob)
    for index, segment in enumerate(segments[:-1]):
        if not segment.endswith(PYTHON_SUFFIX):
            continue
        if ANY_DEPTH in segments[index + 1 :]:
            return (
                f"'{segment}' names a Python file and nothing is below a file; with '**' after "
                "it the glob matches every such file itself. Globs ending in `.py` match files "
                "only, so no directory named like a Python file needs excluding: drop the "
                f"glob, or end it at '{segment}' to mean the files"
            )
        rest = PATH.sep.join(segments[index + 1 :])
        return (
            f"'{segment}' names a Python file and nothing is below a file: '{rest}' would match "
            f"only inside a directory named like one, which is no package; end the glob at "
            f"'{segment}'"
        )
    return None


_REQUIRED_MODULES = {
    "forbidden": ("source_modules", "forbidden_modules"),
    "independence": ("modules",),
    "acyclic_siblings": ("ancestors",),
    "protected": ("protected_modules",),
}
"""The module lists each contract type needs at least one entry in."""


def _check_contracts(contracts: Any, report: Callable[[str, str], None]) -> None:
    """Contract ids are unique; each contract names what it needs; a `layers` contract puts a
    module on one level only, and no level inside another."""
    if not isinstance(contracts, list):
        return
    ids: dict[str, int] = {}
    for i, contract in enumerate(contracts):
        if not isinstance(contract, dict):
            continue
        key_path = f"contracts[{i}]"
        contract_id = contract.get("id")
        if isinstance(contract_id, str):
            if contract_id in ids:
                report(
                    f"{key_path}.id",
                    f"duplicate contract id '{contract_id}' (also contracts[{ids[contract_id]}]).",
                )
            else:
                ids[contract_id] = i
        kind = contract.get("type")
        for key in _REQUIRED_MODULES.get(str(kind), ()):
            if contract.get(key) == []:
                report(f"{key_path}.{key}", "needs at least one module.")
        if kind == "layers":
            _check_contract_layers(contract, key_path, report)
        if kind == "acyclic_siblings":
            ancestors = {text for _, text in _strings(contract.get("ancestors"))}
            for j, text in _strings(contract.get("skip_descendants")):
                if text in ancestors:
                    report(
                        f"{key_path}.skip_descendants[{j}]",
                        f"'{text}' is also an ancestor: it cannot be skipped.",
                    )


def _check_contract_layers(
    contract: dict[str, Any], key_path: str, report: Callable[[str, str], None]
) -> None:
    seen: dict[str, int] = {}
    for j, text in _strings(contract.get("layers")):
        for name in ContractLayer.parse(text).modules:
            if name in seen:
                report(
                    f"{key_path}.layers[{j}]",
                    f"'{name}' is already in layers[{seen[name]}]: a module is on one level only.",
                )
                continue
            for other, where in seen.items():
                if name.startswith(other + ".") or other.startswith(name + "."):
                    outer, inner = (other, name) if name.startswith(other + ".") else (name, other)
                    report(
                        f"{key_path}.layers[{j}]",
                        f"'{outer}' contains '{inner}' (layers[{where}]): a level cannot hold "
                        "another.",
                    )
                    break
            seen[name] = j
    if contract.get("exhaustive") is True and not contract.get("containers"):
        report(f"{key_path}.exhaustive", "needs `containers`: their children are what it checks.")


def _strings(value: Any) -> Iterator[tuple[int, str]]:
    """The valid string items of a list value, with their indices in the file."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield index, item


def _layer_patterns(layer: dict[str, Any]) -> Iterator[tuple[str, Syntax]]:
    for _, text in _strings(layer.get("paths")):
        yield text, PATH
    for _, text in _strings(layer.get("modules")):
        yield text, MODULE


def _all_patterns(data: dict[str, Any]) -> Iterator[tuple[str, Syntax]]:
    """Every glob and module pattern of the file: where placeholders may be used."""
    for _, text in _strings(data.get("exclude")):
        yield text, PATH
    for layer in data.get("layers", []):
        if not isinstance(layer, dict):
            continue
        yield from _layer_patterns(layer)
        for _, text in _strings(layer.get("exclude")):
            yield text, PATH
        for allow in layer.get("allow", []):
            if isinstance(allow, dict):
                for key in ("module", "importer"):
                    if isinstance(allow.get(key), str):
                        yield allow[key], MODULE
    transactions = data.get("transactions", {})
    for key in ("owners", "session_creators"):
        for _, text in _strings(transactions.get(key)):
            yield text, MODULE
    for contract in data.get("contracts", []):
        if not isinstance(contract, dict):
            continue
        for key, value in contract.items():
            if key in _CONTRACT_PATTERN_KEYS:
                for _, text in _strings(value):
                    yield text, MODULE
        for entry in contract.get("ignore_imports", []):
            if isinstance(entry, dict):
                for key in ("importer", "imported"):
                    if isinstance(entry.get(key), str):
                        yield entry[key], MODULE


_CONTRACT_PATTERN_KEYS = frozenset(
    {
        "containers",
        "source_modules",
        "forbidden_modules",
        "modules",
        "ancestors",
        "skip_descendants",
        "protected_modules",
        "allowed_importers",
    }
)
"""The keys of a contract that hold module patterns (where placeholders may be used)."""
