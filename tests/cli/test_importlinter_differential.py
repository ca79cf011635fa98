"""layerguard against import-linter, in the same test run, on real code nobody here wrote.

Each case copies a package installed from PyPI (or a slice of it) into a project, writes an
import-linter configuration with contracts of every type — reversed layers among them, so that
there are many violations — and then:

1. runs import-linter on it (in a process of its own: tests/cli/importlinter_report.py);
2. runs `layerguard migrate import-linter` on it (exit 0; the written layerguard.yaml loads);
3. checks that layerguard's import graph has every import of grimp's, line for line;
4. checks that layerguard reports every violation import-linter reports — a direct import by
   (importer, imported, line), a chain by (first importer, last imported) — both in its own
   results and as findings of `layerguard check` at the importing file's line;
5. checks that every violation only layerguard reports goes through an import only layerguard
   sees, for a documented reason (docs/import-linter.md): a dynamic import with a literal name,
   or a module in a directory without `__init__.py`. Each case states which it expects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from layerguard.contracts.config.loader import load_config
from layerguard.linter.graph.contracts import (
    Violation,
    check_contracts,
    contract_policy,
    named_externals,
)
from layerguard.linter.graph.import_graph import Hop, build_graph
from layerguard.linter.project.build import build_index
from layerguard.linter.project.index import ProjectIndex
from tests.helpers import Run

REPORT = Path(__file__).parent / "importlinter_report.py"

DYNAMIC = "dynamic import"
NAMESPACE = "directory without __init__.py"
MISSING = "import of a module the project does not have"
DISJOINT = "hidden by grimp's chain search"
"""Why layerguard reports a violation import-linter does not (docs/import-linter.md). The first
three are imports grimp does not see. The last is grimp's search for chains, which removes
each chain it finds (or its middle) before looking for the next, so that a shared import
hides other modules behind it, and which ones depends on the order grimp meets modules (it
changes with PYTHONHASHSEED): layerguard reports every pair of modules that has a chain."""


def site_packages() -> Path:
    import grimp

    return Path(grimp.__file__).parent.parent


@dataclass
class Case:
    package: str
    config_file: str  # .importlinter, setup.cfg or pyproject.toml
    config: str
    parts: tuple[str, ...] = ()  # copy only these files and directories of the package
    # Violations only layerguard reports, by contract name and reason (DISJOINT, whose
    # number varies from one import-linter run to the next, is not counted).
    only_layerguard: dict[str, dict[str, int]] = field(default_factory=dict)


def copy_package(case: Case, root: Path) -> None:
    source = site_packages() / case.package
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so")
    if not case.parts:
        shutil.copytree(source, root / case.package, ignore=ignore)
        return
    for part in case.parts:
        target = root / case.package / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source / part).is_dir():
            shutil.copytree(source / part, target, ignore=ignore)
        else:
            shutil.copy(source / part, target)


def run_importlinter(root: Path, config_file: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(REPORT), str(root), config_file],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},  # the copy comes first
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


Edge = tuple[str, str, int]


def layerguard_edges(index: ProjectIndex, externals: bool) -> set[Edge]:
    """Every import of layerguard's graph with its line (of the imports the contracts count:
    import-linter's `exclude_type_checking_imports` became their `import_scopes`); external
    ones on their top-level package, as grimp squashes them, or none when import-linter leaves
    them out."""
    config = index.config
    policy = contract_policy(config, config.contracts[0])
    graph = build_graph(index, policy, named_externals(config, ()))
    return {
        (importer, imported if imported in graph.internal else imported.split(".")[0], s.line)
        for importer, imported in graph.edges
        if externals or imported in graph.internal
        for s in graph.sites(importer, imported)
    }


def why_only_layerguard(index: ProjectIndex, edge: Edge, grimp_modules: set[str]) -> str | None:
    """The documented reason grimp does not have an import layerguard has, if there is one."""
    importer, imported, line = edge
    source = index.by_module.get(importer)
    if source is None:
        return None
    for module in (importer, imported):
        source_file = index.by_module.get(module)
        if (
            module not in grimp_modules
            and source_file is not None
            and _in_namespace_directory(index, source_file.path)
        ):
            return NAMESPACE
    statement = [r for r in source.imports if r.fact.line == line]
    if statement and all(r.fact.dynamic for r in statement):
        return DYNAMIC
    known = {*index.by_module, *index.packages}
    if statement and all(r.target not in known for r in statement):
        return MISSING
    return None


def _in_namespace_directory(index: ProjectIndex, path: str) -> bool:
    parts = path.split("/")[:-1]
    root = index.config.root
    return any(
        not root.joinpath(*parts[:depth], "__init__.py").is_file()
        for depth in range(1, len(parts) + 1)
    )


def assert_parity(case: Case, root: Path, run_cli: Callable[..., Run]) -> None:
    copy_package(case, root)
    (root / case.config_file).write_text(textwrap.dedent(case.config).lstrip(), "utf-8")
    theirs = run_importlinter(root, case.config_file)

    migrated = run_cli(["migrate", "import-linter"], cwd=root)
    assert migrated.exit_code == 0, migrated.stderr + migrated.stdout
    config = load_config(root / "layerguard.yaml")  # the written contract is valid
    assert [c.name for c in config.contracts] == [c["name"] for c in theirs["contracts"]]
    index = build_index(config, jobs=1, use_cache=False).index

    # The graphs: every import grimp sees, layerguard sees on the same line.
    grimp_edges = {tuple(e) for e in theirs["edges"] if e[0] != e[1]}  # grimp keeps self-imports
    externals = any(e[1].split(".")[0] != case.package for e in grimp_edges)
    grimp_modules = {m for e in grimp_edges for m in e[:2]}
    ours = layerguard_edges(index, externals)
    assert grimp_edges - ours == set()
    reasons = {e: why_only_layerguard(index, e, grimp_modules) for e in ours - grimp_edges}
    assert [edge for edge, reason in reasons.items() if reason is None] == []

    checks = check_contracts(index)
    findings = run_cli(
        ["check", "--no-cache", "--output-format", "json", "--select", "LG11"], cwd=root
    ).report["findings"]
    only: dict[str, dict[str, int]] = {}
    for contract, expected in zip(config.contracts, theirs["contracts"], strict=True):
        violations = checks[contract.id].violations
        direct = {(v.chain[0], v.chain[1], v.site.line) for v in violations if len(v.chain) == 2}
        pairs = {(v.importer, v.imported) for v in violations}
        their_direct = {tuple(d) for d in expected["direct"]}
        their_chains = {tuple(c) for c in expected["chains"]}
        label = f"{case.package}: {contract.name}"
        assert their_direct - direct == set(), label
        assert their_chains - pairs == set(), label  # a dependency, direct or not
        assert [u.module for u in checks[contract.id].undeclared] == expected["undeclared"], label
        assert len(checks[contract.id].unmatched) == len(expected["warnings"]), label
        for violation in violations:
            key = (violation.chain[0], violation.chain[1], violation.site.line)
            if key in their_direct or (violation.importer, violation.imported) in their_chains:
                continue
            reason = _reason(violation, reasons)
            if reason is None and len(violation.chain) > 2:
                reason = (
                    DISJOINT if all(_seen(hop, grimp_edges) for hop in violation.hops) else None
                )
            assert reason is not None, f"{label}: unexplained {violation.chain}"
            if reason != DISJOINT:
                tally = only.setdefault(contract.name, {})
                tally[reason] = tally.get(reason, 0) + 1
        _assert_reported(index, contract.id, their_direct, their_chains, findings, label)
    assert only == case.only_layerguard


def _seen(hop: Hop, edges: set[Edge]) -> bool:
    return any((hop.importer, hop.imported, site.line) in edges for site in hop.sites)


def _reason(violation: Violation, reasons: dict[Edge, str | None]) -> str | None:
    for hop in violation.hops:
        imported = hop.imported
        for site in hop.sites:
            for edge in (
                (hop.importer, imported, site.line),
                (hop.importer, imported.split(".")[0], site.line),
            ):
                if reasons.get(edge) is not None:
                    return reasons[edge]
    return None


def _assert_reported(
    index: ProjectIndex,
    contract_id: str,
    direct: Iterable[tuple[str, str, int]],
    chains: Iterable[tuple[str, str]],
    findings: list[dict[str, Any]],
    label: str,
) -> None:
    """`layerguard check` reports each of import-linter's violations at the importing file:
    a direct import at its line, a chain at some line of its first module, naming the last."""
    by_place: dict[tuple[str, int], list[dict[str, Any]]] = {}
    by_file: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_place.setdefault((finding["path"], finding["line"]), []).append(finding)
        by_file.setdefault(finding["path"], []).append(finding)

    def names(finding: dict[str, Any], first: str, last: str) -> bool:
        return finding["key"].startswith(f"{contract_id}:{first}->") and (
            f"`{last}`" in finding["message"]
        )

    for importer, imported, line in direct:
        path = index.by_module[importer].path
        assert any(names(f, importer, imported) for f in by_place.get((path, line), [])), (
            f"{label}: {importer} -> {imported} (l.{line}) not reported"
        )
    for first, last in chains:
        path = index.by_module[first].path
        assert any(names(f, first, last) for f in by_file.get(path, [])), (
            f"{label}: chain {first} -> ... -> {last} not reported"
        )


IMPORTLINTER = Case(
    "importlinter",
    ".importlinter",
    """
    [importlinter]
    root_package = importlinter
    include_external_packages = True

    # import-linter's own layering, as its package is laid out.
    [importlinter:contract:own-layers]
    name = Layered architecture
    type = layers
    containers =
        importlinter
    layers =
        cli
        api
        configuration
        adapters
        contracts
        application
        domain

    [importlinter:contract:reversed]
    name = Reversed layers
    type = layers
    containers = importlinter
    layers =
        domain
        application
        (missing_layer)
        contracts : configuration
        adapters
        api
        cli
    ignore_imports =
        # The contracts render through the application's output.
        importlinter.contracts.* -> importlinter.application.output
    exhaustive = true
    exhaustive_ignores =
        api

    [importlinter:contract:contracts-independent]
    name = Contract types are independent
    type = independence
    modules =
        importlinter.contracts.*

    [importlinter:contract:contracts-bare]
    name = Contract types need neither the application nor rich
    type = forbidden
    source_modules =
        importlinter.contracts
    forbidden_modules =
        importlinter.application.output
        importlinter.configuration
        rich

    [importlinter:contract:no-cycles]
    name = No cycles
    type = acyclic_siblings
    ancestors =
        importlinter.application
        importlinter.contracts

    [importlinter:contract:output]
    name = Output through the application
    type = protected
    protected_modules =
        importlinter.application.output
    allowed_importers =
        importlinter.application
    """,
)


GRIMP = Case(
    "grimp",
    "setup.cfg",
    """
    [metadata]
    name = not-grimp

    [importlinter]
    root_packages =
        grimp

    [importlinter:contract:reversed]
    name = Reversed layers
    type = layers
    layers =
        grimp.domain
        grimp.application
        grimp.adaptors
        grimp.main

    [importlinter:contract:adaptors]
    name = Adaptors are independent
    type = independence
    modules =
        grimp.adaptors.*

    [importlinter:contract:domain]
    name = The domain knows no adaptor, directly
    type = forbidden
    source_modules =
        grimp.application.graph
        grimp.application.usecases
    forbidden_modules =
        grimp.domain.valueobjects
    allow_indirect_imports = true
    as_packages = false

    [importlinter:contract:graph]
    name = Only the application builds graphs
    type = protected
    protected_modules =
        grimp.application.graph
    allowed_importers =
        grimp.application.usecases
    as_packages = false
    """,
)

CLICK = Case(
    "click",
    "pyproject.toml",
    """
    [tool.importlinter]
    root_packages = ["click"]
    exclude_type_checking_imports = true

    [[tool.importlinter.contracts]]
    name = "Reversed layers"
    type = "layers"
    layers = [
        "click._compat",
        "click.utils | click.exceptions",
        "click.types : click.parser",
        "click.core",
        "click.decorators",
        "click.testing",
    ]

    [[tool.importlinter.contracts]]
    name = "Independent modules"
    type = "independence"
    modules = ["click.core", "click.types", "click.termui", "click.utils"]
    ignore_imports = [
        # The core formats its own help.
        "click.core -> click.formatting",
    ]

    [[tool.importlinter.contracts]]
    name = "No cycles"
    id = "acyclic"
    type = "acyclic_siblings"
    ancestors = ["click"]

    [[tool.importlinter.contracts]]
    name = "Terminal helpers stay out of the core"
    type = "forbidden"
    source_modules = ["click.core", "click.types"]
    forbidden_modules = ["click.termui", "click._termui_impl", "click.testing"]

    [[tool.importlinter.contracts]]
    name = "Compat is private"
    type = "protected"
    protected_modules = ["click._compat"]
    allowed_importers = ["click.utils"]
    """,
)

STARLETTE = Case(
    "starlette",
    ".importlinter",
    """
    [importlinter]
    root_package = starlette

    [importlinter:contract:reversed]
    name = Reversed layers
    type = layers
    layers =
        starlette.types
        starlette.datastructures | starlette._utils
        starlette.requests : starlette.responses
        starlette.routing
        starlette.middleware
        starlette.applications

    [importlinter:contract:middleware]
    name = Middleware are independent
    type = independence
    modules =
        starlette.middleware.*
        starlette.routing

    [importlinter:contract:cycles]
    name = No cycles
    type = acyclic_siblings
    ancestors = starlette
    depth = 1

    [importlinter:contract:responses]
    name = Responses need no request
    type = forbidden
    source_modules =
        starlette.responses
        starlette.datastructures
    forbidden_modules =
        starlette.requests
        starlette.routing

    [importlinter:contract:concurrency]
    name = Concurrency through its module
    type = protected
    protected_modules =
        starlette.concurrency
    allowed_importers =
        starlette.routing
    """,
)

FASTAPI = Case(
    "fastapi",
    ".importlinter",
    """
    [importlinter]
    root_package = fastapi
    include_external_packages = True

    [importlinter:contract:json]
    name = No optional JSON libraries
    type = forbidden
    source_modules =
        fastapi
    forbidden_modules =
        orjson
        ujson
        email_validator

    [importlinter:contract:reversed]
    name = Reversed layers
    type = layers
    layers =
        fastapi.exceptions
        fastapi.params : fastapi.param_functions
        fastapi.dependencies
        fastapi.routing
        fastapi.applications

    [importlinter:contract:security]
    name = Security schemes are independent
    type = independence
    modules =
        fastapi.security.*
    """,
    # fastapi.responses loads orjson and ujson with importlib.import_module("...").
    only_layerguard={"No optional JSON libraries": {DYNAMIC: 2}},
)

SQLALCHEMY = Case(
    "sqlalchemy",
    "pyproject.toml",
    """
    [tool.importlinter]
    root_package = "sqlalchemy"
    include_external_packages = true

    [[tool.importlinter.contracts]]
    name = "Reversed layers"
    type = "layers"
    layers = [
        "sqlalchemy.util",
        "sqlalchemy.exc | sqlalchemy.log",
        "sqlalchemy.event",
        "sqlalchemy.pool",
        "(sqlalchemy.engine)",
        "sqlalchemy.connectors",
    ]
    ignore_imports = ["sqlalchemy.util.** -> sqlalchemy.exc"]

    [[tool.importlinter.contracts]]
    name = "Utilities are independent"
    type = "independence"
    modules = ["sqlalchemy.util.*"]
    unmatched_ignore_imports_alerting = "warn"
    ignore_imports = ["sqlalchemy.util._has_cython -> sqlalchemy.nothing"]

    [[tool.importlinter.contracts]]
    name = "No cycles"
    type = "acyclic_siblings"
    ancestors = ["sqlalchemy"]
    skip_descendants = ["sqlalchemy.connectors"]

    [[tool.importlinter.contracts]]
    name = "No database drivers"
    type = "forbidden"
    source_modules = ["sqlalchemy.connectors"]
    forbidden_modules = ["pyodbc", "aioodbc", "asyncio"]
    """,
    # A slice: modules it imports outside the slice land on the closest package, as in grimp
    # with external packages included. The connectors load their drivers with __import__().
    parts=(
        "__init__.py",
        "exc.py",
        "log.py",
        "inspection.py",
        "events.py",
        "types.py",
        "schema.py",
        "util",
        "event",
        "pool",
        "connectors",
        "future",
    ),
    only_layerguard={"No database drivers": {DYNAMIC: 3}},
)

LIBCST = Case(
    "libcst",
    ".importlinter",
    """
    [importlinter]
    root_package = libcst
    include_external_packages = True

    [importlinter:contract:tests]
    name = Tests need nothing but the standard library and libcst
    type = forbidden
    source_modules =
        libcst.tests
    forbidden_modules =
        typing
    """,
    # libcst/tests/pyre/ has no __init__.py: grimp does not see simple_class.py at all.
    parts=("__init__.py", "_add_slots.py", "tests", "testing"),
    only_layerguard={"Tests need nothing but the standard library and libcst": {NAMESPACE: 1}},
)

CASES = [IMPORTLINTER, GRIMP, CLICK, STARLETTE, FASTAPI, SQLALCHEMY, LIBCST]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.package)
def test_layerguard_reports_what_import_linter_reports(
    case: Case, tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    assert_parity(case, tmp_path, run_cli)
