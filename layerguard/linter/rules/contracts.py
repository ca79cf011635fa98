"""LG111–LG119: the import contracts of `contracts:` (import-linter's contract types), checked
on the project import graph (graph/contracts.py), and the exceptions that excuse nothing.

A violation is reported at the first import of its chain, in the importing file, with the
whole chain and each import's `path:line`. Chains that start at one import statement and reach
the same module of the contract (the same higher layer, the same forbidden package) are one
finding; its baseline key is the contract, the importing module and that module — never lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import TYPE_CHECKING, ClassVar

from layerguard.contracts.config.model import ImportContract
from layerguard.linter.diagnostics import Diagnostic, Severity
from layerguard.linter.project.index import ProjectIndex
from layerguard.linter.rules import codes
from layerguard.linter.rules.base import Example, ImportRule, Rule

if TYPE_CHECKING:
    from layerguard.linter.graph.contracts import ContractCheck, Violation


def contract_checks(index: ProjectIndex, kind: str | None = None) -> Iterator[ContractCheck]:
    """The checks of the contracts of `kind` (every contract when None), in file order."""
    if not any(kind is None or c.type == kind for c in index.config.contracts):
        return
    from layerguard.linter.graph.contracts import check_contracts

    for check in check_contracts(index).values():
        if kind is None or check.contract.type == kind:
            yield check


COMMON_OPTIONS = """\
- `contracts[].ignore_imports`, `contracts[].import_scopes`, `contracts[].guidance`: what
  every contract has ([contracts.md](contracts.md)).
"""


def _describe(contract: ImportContract) -> str:
    return f"{contract.type} contract '{contract.name}'"


class ContractRule(ImportRule):
    """The rule of one contract type: a finding per import statement and module reached."""

    contract_type: ClassVar[str]
    advice: ClassVar[str]

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        for check in contract_checks(index, self.contract_type):
            contract = check.contract
            advice = contract.guidance or self.advice
            ordered = sorted(check.violations, key=_grouping)
            for (_, upstream), group in groupby(ordered, key=_grouping):
                violations = list(group)
                first = violations[0]
                others = [f"`{v.imported}`" for v in violations[1:]]
                also = f"; also reaches {', '.join(others)} from there" if others else ""
                yield Diagnostic(
                    first.site.path,
                    first.site.line,
                    first.site.col,
                    self.code,
                    f"{_describe(contract)}: {first.what}: {first.text()}{also}; {advice}",
                    self.severity,
                    f"{contract.id}:{first.importer}->{upstream}",
                )
            yield from self.more(index, check)

    def more(self, index: ProjectIndex, check: ContractCheck) -> Iterator[Diagnostic]:
        """Findings a contract type has besides its chains."""
        return iter(())


_SEVERITIES = {"error": Severity.ERROR, "warn": Severity.WARNING}


def _grouping(violation: Violation) -> tuple[tuple[str, int, int], str]:
    site = violation.site
    return (site.path, site.line, site.col), violation.upstream


CONTRACT_CONFIG = """
    version: 1
    contracts:
"""
LOW = "shop/low.py"
MIDDLE = "shop/middle.py"
HIGH = "shop/high.py"
LAYERED = (
    CONTRACT_CONFIG
    + """
      - id: layered
        name: Shop layers
        type: layers
        layers: [shop.high, shop.middle, shop.low]
"""
)


class LayersContractBroken(ContractRule):
    code = codes.LAYERS_CONTRACT_BROKEN
    contract_type = "layers"
    summary = "A module depends on a higher layer of a `layers` contract, even indirectly."
    advice = (
        "a lower layer must not depend on a higher one: remove an import of the chain, or "
        "accept it under the contract's `ignore_imports` with a reason"
    )
    catches = """
A chain of imports from a module of a layer of a `layers` contract to a module of a higher
layer, as import-linter's `layers` contract reports it: directly, or through modules that are
in no layer of the contract (a chain through another layer is that layer's violation). With
`containers`, the layers are looked for in each container; sibling modules on one level
written `a | b` must not import each other either. An `exhaustive` contract also reports each
child of a container that is not one of its layers, at its file.
"""
    why = """
Layers keep dependencies pointing one way: a high layer (the HTTP surface, the command line)
may use what is below it, and a low layer (the domain, the storage) must not know what uses
it. One import upwards, even through a helper module, makes the low layer depend on the high
one, so that changing the HTTP surface can break the domain.
"""
    instead = """
Move the code the low layer needs down into its own layer or one below it, or invert the
dependency (the high layer passes a callable or an object in). An exception that is
intended goes under the contract's `ignore_imports` with a reason.
"""
    options = (
        """
- `contracts[].layers`: the layers, highest first: `a | b` for independent siblings, `a : b`
  for siblings that may import each other, `(a)` for a layer that may be missing.
- `contracts[].containers`, `contracts[].exhaustive`, `contracts[].exhaustive_ignores`.
"""
        + COMMON_OPTIONS
    )
    valid = (
        Example(
            {HIGH: "from shop import middle\n", MIDDLE: "from shop import low\n", LOW: ""},
            config=LAYERED,
            title="Each layer imports the one below it",
        ),
    )
    invalid = (
        Example(
            {
                HIGH: "",
                MIDDLE: "",
                LOW: "import shop.helpers\n",
                "shop/helpers.py": "def render():\n    from shop.high import page\n",
                "shop/__init__.py": "",
            },
            expected=(
                (
                    LOW,
                    1,
                    1,
                    "`shop.low` is below `shop.high`: `shop.low` → `shop.helpers` "
                    "(shop/low.py:1) → `shop.high` (shop/helpers.py:2)",
                ),
            ),
            config=LAYERED,
            title="The lowest layer reaches the highest through a helper",
        ),
    )

    def more(self, index: ProjectIndex, check: ContractCheck) -> Iterator[Diagnostic]:
        for undeclared in check.undeclared:
            source = index.by_module.get(undeclared.module)
            contract = check.contract
            yield Diagnostic(
                source.path if source is not None else index.config.file_name,
                1 if source is not None else contract.line,
                1,
                self.code,
                f"{_describe(contract)} is exhaustive, but `{undeclared.module}` (in container "
                f"`{undeclared.container}`) is none of its layers; add it to `layers` or to "
                "`exhaustive_ignores`",
                self.severity,
                f"{contract.id}:undeclared:{undeclared.module}",
            )


FORBIDDEN = (
    CONTRACT_CONFIG
    + """
      - id: no-db-in-api
        name: The API never reaches the database
        type: forbidden
        source_modules: [shop.api]
        forbidden_modules: [shop.db, sqlalchemy]
"""
)


class ForbiddenContractBroken(ContractRule):
    code = codes.FORBIDDEN_CONTRACT_BROKEN
    contract_type = "forbidden"
    summary = "A module imports a module a `forbidden` contract keeps from it, even indirectly."
    advice = (
        "remove an import of the chain, or accept it under the contract's `ignore_imports` "
        "with a reason"
    )
    catches = """
A chain of imports from one of a `forbidden` contract's `source_modules` to one of its
`forbidden_modules` (project modules or external packages), as import-linter's `forbidden`
contract reports it: the shortest chain from each importing module to each forbidden module
it reaches, through modules outside both. With `indirect: false`, direct imports only.
"""
    why = """
Some dependencies must not exist at all, however they come about: the HTTP layer reaching the
database, a library core importing its optional integrations. A direct import is easy to see
in review; the same dependency through a helper module is not, and has the same effect.
"""
    instead = """
Depend on something the source modules may use instead, or move the code that needs the
forbidden module out of the source modules. An intended exception goes under the contract's
`ignore_imports` with a reason.
"""
    options = (
        """
- `contracts[].source_modules`, `contracts[].forbidden_modules`: module patterns; an external
  package is named by its package (`sqlalchemy`) or a module in it (`sqlalchemy.orm`).
- `contracts[].indirect`: `false` for direct imports only.
- `contracts[].as_packages`: `false` to leave out the modules below each named module.
"""
        + COMMON_OPTIONS
    )
    valid = (
        Example(
            {"shop/api.py": "from shop import service\n", "shop/service.py": "", "shop/db.py": ""},
            config=FORBIDDEN,
            title="The API uses a service that does not touch the database",
        ),
    )
    invalid = (
        Example(
            {
                "shop/api.py": "from shop import service\nimport sqlalchemy\n",
                "shop/service.py": "from shop.db import session\n",
                "shop/db.py": "",
            },
            expected=(
                (
                    "shop/api.py",
                    1,
                    1,
                    "`shop.api` → `shop.service` (shop/api.py:1) → `shop.db` (shop/service.py:1)",
                ),
                ("shop/api.py", 2, 1, "`shop.api` must not import `sqlalchemy`"),
            ),
            config=FORBIDDEN,
            title="The API reaches the database through a service, and imports SQLAlchemy",
        ),
    )


INDEPENDENCE = (
    CONTRACT_CONFIG
    + """
      - id: domains
        name: Domains are independent
        type: independence
        modules: ["shop.domains.*"]
"""
)


class IndependenceContractBroken(ContractRule):
    code = codes.INDEPENDENCE_CONTRACT_BROKEN
    contract_type = "independence"
    summary = "Modules an `independence` contract keeps apart depend on each other."
    advice = (
        "independent modules must not depend on each other: move what they share to a module "
        "both may use, or accept the import under the contract's `ignore_imports` with a reason"
    )
    catches = """
A chain of imports from one of an `independence` contract's modules (with what is below it)
to another, directly or through modules that are none of them, as import-linter's
`independence` contract reports it. A pattern's matches are separate modules:
`shop.domains.*` keeps every domain apart from every other.
"""
    why = """
Modules meant to change independently (the domains of an application, the command modules of
a command line, the plugins of a host) stop being so with the first import between them:
changes ripple, tests of one need the other, and they can no longer be split off.
"""
    instead = """
Move what they share into a module outside the independent set, or have them talk through
an interface of that shared module (events, a registry) instead of importing each other.
"""
    options = (
        """
- `contracts[].modules`: the modules that must be independent (patterns; each match is one).
"""
        + COMMON_OPTIONS
    )
    valid = (
        Example(
            {
                "shop/domains/orders/service.py": "from shop import events\n",
                "shop/domains/billing/service.py": "from shop import events\n",
                "shop/events.py": "",
            },
            config=INDEPENDENCE,
            title="Two domains share a module outside the set",
        ),
    )
    invalid = (
        Example(
            {
                "shop/domains/orders/service.py": (
                    "from shop.domains.billing.service import charge\n"
                ),
                "shop/domains/billing/service.py": "",
            },
            expected=(
                (
                    "shop/domains/orders/service.py",
                    1,
                    1,
                    "`shop.domains.orders` and `shop.domains.billing` must be independent",
                ),
            ),
            config=INDEPENDENCE,
            title="The orders domain imports billing",
        ),
    )


ACYCLIC = (
    CONTRACT_CONFIG
    + """
      - id: acyclic
        name: No cycles between the packages of shop
        type: acyclic_siblings
        ancestors: [shop]
"""
)


class AcyclicSiblingsContractBroken(ContractRule):
    code = codes.ACYCLIC_SIBLINGS_CONTRACT_BROKEN
    contract_type = "acyclic_siblings"
    summary = "Sibling packages of an `acyclic_siblings` contract import each other in a cycle."
    advice = "remove this import (or another of the cycle) so that the dependency goes one way"
    catches = """
A cycle of imports between the children of one of an `acyclic_siblings` contract's ancestors
(and of their children, down to `depth` levels), as import-linter reports it: grimp nominates
the fewest imports whose removal would break every cycle, and each of them is reported, with
the chain that closes the cycle.
"""
    why = """
Packages that import each other cannot be understood, tested or moved one at a time, and a
cycle is where import-time errors come from. Without a declared order between siblings, this
contract still keeps their dependencies a directed graph.
"""
    instead = """
Decide which of the two packages depends on the other, and move the code that goes the other
way (or invert it: pass a callable, use an event).
"""
    options = (
        """
- `contracts[].ancestors`: the packages whose children are checked.
- `contracts[].depth`: how many levels below them are checked too (default 10).
- `contracts[].skip_descendants`: packages left out.
"""
        + COMMON_OPTIONS
    )
    valid = (
        Example(
            {"shop/orders/service.py": "import shop.billing.api\n", "shop/billing/api.py": ""},
            config=ACYCLIC,
            title="Orders depend on billing, not the reverse",
        ),
    )
    invalid = (
        Example(
            {
                "shop/orders/service.py": "import shop.billing.api\n",
                "shop/billing/api.py": "def refund():\n    from shop.orders import service\n",
            },
            expected=(
                (
                    "shop/orders/service.py",
                    1,
                    1,
                    "`shop.orders` and `shop.billing` (in `shop`) import each other (back "
                    "through `shop.billing.api` → `shop.orders.service`)",
                ),
            ),
            config=ACYCLIC,
            title="Billing imports orders back, lazily: reported at the import grimp nominates "
            "to break the cycle",
        ),
    )


PROTECTED = (
    CONTRACT_CONFIG
    + """
      - id: db
        name: Only repositories touch the database
        type: protected
        protected_modules: [shop.db]
        allowed_importers: [shop.repositories]
"""
)


class ProtectedContractBroken(ContractRule):
    code = codes.PROTECTED_CONTRACT_BROKEN
    contract_type = "protected"
    summary = "A module imports a module a `protected` contract lets only some modules import."
    advice = "import it through one of the allowed importers, or add this module to them"
    catches = """
A direct import of one of a `protected` contract's modules (or of a module below it) by a
module that is neither one of its `allowed_importers` nor itself protected, as import-linter's
`protected` contract reports it.
"""
    why = """
Some modules are an implementation detail of a few others: the database session of the
repositories, a vendored client of its wrapper. Everything else should go through those few,
so that the detail can change in one place.
"""
    instead = """
Use what the allowed importers offer instead of the protected module. If this module should
be one of them, add it to `allowed_importers`.
"""
    options = (
        """
- `contracts[].protected_modules`, `contracts[].allowed_importers`: module patterns.
- `contracts[].as_packages`: `false` to leave out the modules below each named module.
"""
        + COMMON_OPTIONS
    )
    valid = (
        Example(
            {"shop/repositories.py": "from shop.db import session\n", "shop/db.py": ""},
            config=PROTECTED,
            title="A repository uses the database",
        ),
    )
    invalid = (
        Example(
            {
                "shop/api.py": "from shop.db import session, engine\n",
                "shop/db.py": "",
                "shop/repositories.py": "",
            },
            expected=(("shop/api.py", 1, 1, "only the allowed importers may import `shop.db`"),),
            config=PROTECTED,
            title="The API imports the database session (one finding for the statement)",
        ),
    )


class ContractModuleMissing(Rule):
    code = codes.CONTRACT_MODULE_MISSING
    summary = "A contract names a module the project does not have."
    reports_in_contract = True
    catches = """
A module, pattern or layer of a contract under `contracts:` that names no module of the
project, at its line in `layerguard.yaml`: a source or forbidden module, a layer (in each
container; a layer written `(name)` may be missing), an ancestor. import-linter stops with an
error on these; layerguard reports them and checks the rest.
"""
    why = """
A contract about a module that does not exist checks nothing, and passes: after a rename or a
typo, the architecture it describes is no longer enforced, and nothing says so.
"""
    instead = """
Fix the name or the pattern, or remove it if the module is gone. A layer that only some
containers have is written `(name)`.
"""
    options = """
- Every module list of `contracts[]`.
"""
    valid = (
        Example(
            {"shop/api.py": "", "shop/db.py": ""},
            config=CONTRACT_CONFIG
            + """
      - id: f
        name: F
        type: forbidden
        source_modules: [shop.api]
        forbidden_modules: [shop.db]
""",
            title="Both modules exist",
        ),
    )
    invalid = (
        Example(
            {"shop/api.py": "", "shop/db.py": ""},
            expected=(("layerguard.yaml", 7, 1, "`shop.apis` matches no module"),),
            config=CONTRACT_CONFIG
            + """
      - id: f
        name: F
        type: forbidden
        source_modules: [shop.apis]
        forbidden_modules: [shop.db]
""",
            title="A misspelt source module",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        path = index.config.file_name
        for check in contract_checks(index):
            contract = check.contract
            for missing in check.missing:
                yield Diagnostic(
                    path,
                    max(index.config.line_of(missing.key_path), 1),
                    1,
                    self.code,
                    f"{_describe(contract)}: {missing.message}; fix the name or remove it",
                    self.severity,
                    f"{contract.id}:{missing.text}",
                )


class UnmatchedImportException(Rule):
    code = codes.UNMATCHED_IMPORT_EXCEPTION
    summary = "An `ignore_imports` or `allow` entry matches no import."
    reports_in_contract = True
    catches = """
An exception that excuses nothing, at its line in `layerguard.yaml`: an `ignore_imports` entry
of a contract that matches no import of the project (as import-linter reports it), and an
`allow` entry of a layer that no import of the layer matches. The severity is the entry's
`unmatched` (for `ignore_imports`, by default its contract's `unmatched_ignore_imports`):
`error` by default, `warn`, or `none` for no finding.
"""
    why = """
Exceptions outlive what they excused: the import is removed, and the exception stays,
ready to excuse the next import that matches it without anyone reviewing it. An exception
that matches nothing is also often a typo, which then excuses nothing it was meant to.
"""
    instead = """
Remove the entry, or correct its patterns so that it names the import it is meant for. An
`allow` entry that states a standing rule rather than an exception for some imports (the hoc
preset's "routes may use their own domain's schemas") says so with `unmatched: none`.
"""
    options = """
- `contracts[].unmatched_ignore_imports`: `error` (default), `warn` or `none`, per contract;
  `contracts[].ignore_imports[].unmatched` per entry.
- `layers[].allow[].unmatched`: the same, per `allow` entry.
"""
    valid = (
        Example(
            {"shop/api.py": "from shop import db\n", "shop/db.py": ""},
            config=CONTRACT_CONFIG
            + """
      - id: f
        name: F
        type: forbidden
        source_modules: [shop.api]
        forbidden_modules: [shop.db]
        ignore_imports:
          - {importer: shop.api, imported: shop.db, reason: the migration script}
""",
            title="An exception in use",
        ),
    )
    invalid = (
        Example(
            {"shop/api.py": "", "shop/db.py": "", "shop/models.py": ""},
            expected=(
                ("layerguard.yaml", 10, 1, "`shop.api -> shop.db`"),
                ("layerguard.yaml", 17, 1, "`allow` entry `shop.db`"),
            ),
            config=CONTRACT_CONFIG
            + """
      - id: f
        name: F
        type: forbidden
        source_modules: [shop.api]
        forbidden_modules: [shop.db]
        ignore_imports:
          - {importer: shop.api, imported: shop.db, reason: the migration script}
    layers:
      - id: models
        name: Models
        modules: [shop.models]
        forbid: {layers: [db]}
        allow:
          - {module: shop.db, reason: type annotations}
      - id: db
        name: Database
        modules: [shop.db]
""",
            title="Exceptions for imports that are gone",
        ),
    )

    def check(self, index: ProjectIndex) -> Iterator[Diagnostic]:
        path = index.config.file_name
        for check in contract_checks(index):
            contract = check.contract
            for entry in check.unmatched:
                level = entry.unmatched or contract.unmatched_ignore_imports
                if level == "none":
                    continue
                expression = f"{entry.importer} -> {entry.imported}"
                yield Diagnostic(
                    path,
                    max(entry.line, 1),
                    1,
                    self.code,
                    f"`ignore_imports` entry `{expression}` of {_describe(contract)} matches no "
                    "import; remove it, or correct its patterns",
                    _SEVERITIES[level],
                    f"{contract.id}:{expression}",
                )
        yield from self.unused_allows(index, path)

    def unused_allows(self, index: ProjectIndex, path: str) -> Iterator[Diagnostic]:
        from layerguard.linter.rules.imports import allow_covers

        used: set[tuple[str, int]] = set()
        allowing = {
            layer.id: layer
            for layer in index.config.layers
            if any(allowed.unmatched != "none" for allowed in layer.allow)
        }
        if not allowing:
            return
        for source in index.files.values():
            match = source.layer
            layer = allowing.get(match.layer) if match is not None else None
            if layer is None:
                continue
            for resolved in source.imports:
                for number, allowed in enumerate(layer.allow):
                    if (layer.id, number) not in used and allow_covers(
                        index, allowed, source, resolved.names
                    ):
                        used.add((layer.id, number))
        for layer in allowing.values():
            for number, allowed in enumerate(layer.allow):
                if (layer.id, number) in used or allowed.unmatched == "none":
                    continue
                importer = f" (importer `{allowed.importer}`)" if allowed.importer else ""
                yield Diagnostic(
                    path,
                    max(allowed.line, 1),
                    1,
                    self.code,
                    f"`allow` entry `{allowed.module}`{importer} of layer '{layer.id}' matches no "
                    "import of the layer; remove it, or correct its patterns (or mark a standing "
                    "rule `unmatched: none`)",
                    _SEVERITIES[allowed.unmatched],
                    f"{layer.id}:allow:{allowed.module}",
                )
