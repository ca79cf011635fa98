"""A validated contract back as the data of `layerguard.yaml`, every default filled in.

`layerguard check --show-settings` prints it (as ruff's `--show-settings` prints the settings it
resolved): what the run will use, key by key, in the file's own format and order, so that it
can be read against the file or the reference of docs/configuration.md.
"""

from __future__ import annotations

from typing import Any

from layerguard.contracts.config.model import (
    ContractLayer,
    IgnoredImport,
    ImportContract,
    ImportScopeOverride,
    Layer,
    ProjectConfig,
)


def resolved_data(config: ProjectConfig) -> dict[str, Any]:
    """The contract's keys in the order of the spec, defaults included (a `layerguard.yaml`
    with exactly this content is the same contract, but for the sections it would add)."""
    transactions = config.transactions
    return {
        "version": 1,
        "source_roots": list(config.source_roots),
        "exclude": list(config.exclude),
        "placeholders": {
            p.name: {"values": list(p.values), "exclude": list(p.exclude)}
            for p in config.placeholders
        },
        "layers": [_layer(layer) for layer in config.layers],
        "contracts": [_contract(contract) for contract in config.contracts],
        "cross_domain_layers": list(config.cross_domain_layers),
        "transactions": {
            "calls": list(transactions.calls),
            "owners": list(transactions.owners),
            "session_creators": list(transactions.session_creators),
            "session_factories": list(transactions.session_factories),
            "session_makers": list(transactions.session_makers),
        },
        "import_scopes": {
            code: _scope(override) for code, override in sorted(config.import_scopes.items())
        },
        "registry": {
            "execute": list(config.registry.execute),
            "register": list(config.registry.register),
            "lookup": list(config.registry.lookup),
            "handler_layers": list(config.registry.handler_layers),
        },
        "cards": {
            "paths": list(config.cards.paths),
            "root": config.cards.root,
            "import_groups": [
                {"name": group.name, "layers": list(group.layers)}
                for group in config.cards.import_groups
            ],
        },
        "rules": {
            "select": list(config.rules.select),
            "extend_select": list(config.rules.extend_select),
            "ignore": list(config.rules.ignore),
            "per_file_ignores": {
                entry.glob: list(entry.codes) for entry in config.rules.per_file_ignores
            },
        },
    }


def _layer(layer: Layer) -> dict[str, Any]:
    allow = []
    for entry in layer.allow:
        item = {"module": entry.module, "reason": entry.reason}
        if entry.importer is not None:
            item["importer"] = entry.importer
        item["unmatched"] = entry.unmatched
        allow.append(item)
    return {
        "id": layer.id,
        "name": layer.name,
        "paths": list(layer.paths),
        "modules": list(layer.modules),
        "exclude": list(layer.exclude),
        "forbid": {
            "layers": list(layer.forbidden_layers),
            "modules": list(layer.forbidden_modules),
            "indirect": layer.forbid_indirect,
        },
        "allow": allow,
        "requires_cards": layer.requires_cards,
    }


def _contract(contract: ImportContract) -> dict[str, Any]:
    """A contract's keys in the spec's order: its type, what every contract has, its own."""
    from layerguard.contracts.config.spec import CONTRACT

    variant = CONTRACT.variant(contract.type)
    assert variant is not None
    data: dict[str, Any] = {}
    for key in CONTRACT.record(variant).keys:
        value = getattr(contract, key.name)
        if value is None:
            continue
        data[key.name] = _value(value)
    return data


def _value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_value(item) for item in value]
    if isinstance(value, ContractLayer):
        return value.text()
    if isinstance(value, IgnoredImport):
        item = {"importer": value.importer, "imported": value.imported, "reason": value.reason}
        return item if value.unmatched is None else {**item, "unmatched": value.unmatched}
    if isinstance(value, ImportScopeOverride):
        return _scope(value)
    return value


def _scope(override: ImportScopeOverride) -> dict[str, bool]:
    kinds = {
        "type_checking": override.type_checking,
        "lazy": override.lazy,
        "conditional": override.conditional,
    }
    return {kind: value for kind, value in kinds.items() if value is not None}
