"""The migrated contracts as `[[tool.layerguard.contracts]]` tables of a `pyproject.toml` that
holds the project's contract, spliced in without touching the rest of the file.

The tables are the YAML rendering (contracts_yaml.py) rewritten by the same converter
`layerguard init --pyproject` uses. Contracts already in the file are kept, unless a migrated
one has the same id: its table (and its sub-tables) is replaced. Pure: text in, text out.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from layerguard.contracts.config.toml_output import yaml_to_toml
from layerguard.linter.errors import UsageError
from layerguard.linter.migrate.contracts_yaml import render_contracts

CONTRACTS_TABLE = "tool.layerguard.contracts"
_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def render_tables(contracts: list[dict[str, Any]], origin: str) -> str:
    """The contracts as arrays of tables of `[tool.layerguard]`, with where they come from."""
    block = "\n".join(["contracts:", f"  # From {origin}.", *render_contracts(contracts)]) + "\n"
    toml = yaml_to_toml(block)
    return toml.split("\n", 1)[1]  # without the `[tool.layerguard]` header the file has


def splice_tables(text: str, contracts: list[dict[str, Any]], origin: str) -> str:
    """`text` (a pyproject.toml whose `[tool.layerguard]` is valid) with the migrated contracts
    at its end, in place of the contracts with their ids."""
    table = tomllib.loads(text).get("tool", {}).get("layerguard", {})
    existing = table.get("contracts", [])
    lines = text.splitlines()
    headers = [
        (number, found.group("name").replace(" ", ""))
        for number, line in enumerate(lines)
        if (found := _HEADER.match(line))
    ]
    starts = [number for number, name in headers if name == CONTRACTS_TABLE]
    if existing and len(starts) != len(existing):
        raise UsageError(
            "the contracts of [tool.layerguard] are not written as [[tool.layerguard.contracts]] "
            "tables: print the migrated ones with --stdout and add them by hand"
        )
    replaced = {contract["id"] for contract in contracts}
    dropped: set[int] = set()
    for start, contract in zip(starts, existing, strict=False):
        if isinstance(contract, dict) and contract.get("id") in replaced:
            end = next(
                (
                    number
                    for number, name in headers
                    if number > start and not name.startswith(CONTRACTS_TABLE + ".")
                ),
                len(lines),
            )
            while start > 0 and lines[start - 1].lstrip().startswith("#"):
                start -= 1  # the comments just above a table are its own
            dropped.update(range(start, end))
    kept = [line for number, line in enumerate(lines) if number not in dropped]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, "", render_tables(contracts, origin).rstrip("\n")]) + "\n"
