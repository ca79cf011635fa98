"""Run import-linter on a project and print what it found, as JSON (for the differential tests).

Usage: python importlinter_report.py PROJECT_DIR CONFIG_FILE

Runs in its own process, with PROJECT_DIR first on sys.path, so that import-linter (through
grimp's package finder) scans the copy of a package in PROJECT_DIR rather than the installed
one (a slice of a package must not be imported before). Prints every contract's violations
in plain data:

- `direct`: [importer, imported, line] of each violating direct import statement;
- `chains`: [first importer, last imported] of each violating chain of three modules or more;
- `undeclared`: modules an exhaustive layers contract does not list;
- `warnings`: import-linter's warnings (unmatched ignored imports);
and the graph's edges, [importer, imported, line], to compare graphs.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _links(chain: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [
        (link["importer"], link["imported"], line)
        for link in chain
        for line in link["line_numbers"]
        if line is not None
    ]


def _detailed(found: dict[str, set[Any]], detailed: dict[str, Any]) -> None:
    """A layers/independence route: its heads and tails come as extra firsts and lasts."""
    chain = detailed["chain"]
    heads = [chain[0]["importer"]] + [link["importer"] for link in detailed["extra_firsts"]]
    tails = [chain[-1]["imported"]] + [link["imported"] for link in detailed["extra_lasts"]]
    if len(chain) == 1 and not detailed["extra_firsts"] and not detailed["extra_lasts"]:
        found["direct"].update(_links(chain))
        return
    for head in heads:
        for tail in tails:
            found["chains"].add((head, tail))


def _plain(chain: list[dict[str, Any]], found: dict[str, set[Any]]) -> None:
    if len(chain) == 1:
        found["direct"].update(_links(chain))
    else:
        found["chains"].add((chain[0]["importer"], chain[-1]["imported"]))


def main(project: str, config_file: str) -> None:
    # import-linter first: when the project is a copy of grimp or of import-linter, the
    # installed package must run (the copy lacks grimp's compiled part), and grimp then scans
    # the installed one, whose Python files are the same.
    from importlinter import configuration
    from importlinter.application import use_cases

    sys.path.insert(0, project)

    configuration.configure()
    options = use_cases.read_user_options(config_filename=config_file)
    use_cases._register_built_in_contract_types()
    report = use_cases.create_report(options, cache_dir=None)
    contracts = []
    for contract, check in report.get_contracts_and_checks():
        found: dict[str, set[Any]] = {"direct": set(), "chains": set(), "undeclared": set()}
        metadata = check.metadata or {}
        kind = type(contract).type_name
        if kind == "layers":
            for dependency in metadata["invalid_dependencies"]:
                for route in dependency["routes"]:
                    _detailed(found, route)
            found["undeclared"].update(metadata["undeclared_modules"])
        elif kind == "independence":
            for dependency in metadata["invalid_chains"]:
                for route in dependency["chains"]:
                    _detailed(found, route)
        elif kind == "forbidden":
            for dependency in metadata["invalid_chains"]:
                for chain in dependency["chains"]:
                    _plain(chain, found)
        elif kind == "protected":
            for broken in metadata["illegal_imports"]:
                found["direct"].update(_links(broken.illegal_links))
        elif kind == "acyclic_siblings":
            for breakers in metadata["cycle_breakers_by_package"].values():
                for importer, imported in breakers:
                    details = report.graph.get_import_details(importer=importer, imported=imported)
                    found["direct"].update(
                        (importer, imported, detail["line_number"]) for detail in details
                    )
        contracts.append(
            {
                "name": contract.name,
                "type": kind,
                "kept": check.kept,
                "warnings": list(check.warnings),
                **{key: sorted(values) for key, values in found.items()},
            }
        )
    graph = report.graph
    edges = sorted(
        (importer, imported, detail["line_number"])
        for importer in graph.modules
        if not graph.is_module_squashed(importer)
        for imported in graph.find_modules_directly_imported_by(importer)
        for detail in graph.get_import_details(importer=importer, imported=imported)
    )
    json.dump({"contracts": contracts, "edges": edges}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:3])
