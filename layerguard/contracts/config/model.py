"""The project contract (`layerguard.yaml`) as plain, immutable data.

Both halves of layerguard read this model; neither parses YAML itself. Every value that a
diagnostic may need to point back at carries the YAML line it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from layerguard.contracts.file_access import DEFAULT_MAX_FILE_BYTES, KIB, MIB

CONFIG_FILE_NAME = "layerguard.yaml"
MAX_CONFIG_BYTES = MIB
"""A contract is a few kilobytes; a file larger than this (`layerguard.yaml`, a
`pyproject.toml`) is not one."""

IMPORT_SCOPE_KINDS = ("type_checking", "lazy", "conditional")
"""Where an import can stand besides plain module level; see `ImportScopePolicy`."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """Constraints on a `{name}` path placeholder (one path segment).

    `{domain}` is special: the segment it matches is the file's domain.
    """

    name: str
    exclude: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # empty = any segment not excluded
    line: int = 0


UNMATCHED_LEVELS = ("error", "warn", "none")
"""What an exception (`allow`, `ignore_imports`) that matches no import gives: a finding of
that severity (LG119), or nothing (`none`); import-linter's words."""


@dataclass(frozen=True, slots=True)
class AllowedImport:
    """An explicit exception to a layer's import rules.

    `module` is a module pattern; `{domain}` in it is bound to the importing file's domain.
    `importer` (optional) narrows the exception to importing modules matching that pattern.
    """

    module: str
    reason: str
    importer: str | None = None
    unmatched: str = "error"  # what matching no import gives (LG119): UNMATCHED_LEVELS
    line: int = 0


@dataclass(frozen=True, slots=True)
class Layer:
    id: str
    name: str
    paths: tuple[str, ...] = ()  # path globs relative to the project root
    modules: tuple[str, ...] = ()  # dotted module patterns
    exclude: tuple[str, ...] = ()  # path globs carved out of `paths`
    forbidden_layers: tuple[str, ...] = ()
    forbidden_modules: tuple[str, ...] = ()  # external packages/modules, by dotted prefix
    forbid_indirect: bool = False  # also chains of imports through other modules
    allow: tuple[AllowedImport, ...] = ()
    requires_cards: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class ImportScopePolicy:
    """Which kinds of import a rule counts. Plain module-level imports always count."""

    type_checking: bool = True
    lazy: bool = True
    conditional: bool = True


@dataclass(frozen=True, slots=True)
class ImportScopeOverride:
    """An `import_scopes` entry: only the kinds it names replace the rule's own default."""

    type_checking: bool | None = None
    lazy: bool | None = None
    conditional: bool | None = None
    line: int = 0

    def apply(self, default: ImportScopePolicy) -> ImportScopePolicy:
        return ImportScopePolicy(
            type_checking=default.type_checking
            if self.type_checking is None
            else self.type_checking,
            lazy=default.lazy if self.lazy is None else self.lazy,
            conditional=default.conditional if self.conditional is None else self.conditional,
        )


@dataclass(frozen=True, slots=True)
class IgnoredImport:
    """A contract's exception: the direct imports from `importer` to `imported` are left out of
    the contract's import graph, so that no chain goes through them.

    Both are module patterns matched exactly, as import-linter's `ignore_imports` are: `a.b`
    names that module alone, `a.b.**` the modules below it.
    """

    importer: str
    imported: str
    reason: str
    unmatched: str | None = None  # None: the contract's `unmatched_ignore_imports`
    line: int = 0


@dataclass(frozen=True, slots=True)
class ContractLayer:
    """One level of a `layers` contract: one module, or sibling modules on the same level.

    With containers, the names are relative to each container. Independent siblings (written
    `a | b`) must not import each other; others (`a : b`) may. `optional` names the siblings
    that may be missing (written `(name)`).
    """

    modules: tuple[str, ...]
    independent: bool = True
    optional: frozenset[str] = frozenset()
    line: int = 0

    @classmethod
    def parse(cls, text: str, line: int = 0) -> ContractLayer:
        """`a | b`, `a : b`, `(a)`: siblings, independent or not, optional when parenthesised.

        The one reading of the text form: the loader, the cross-reference checks and
        `migrate` all use it.
        """
        separator = ":" if ":" in text else "|"
        names = [part.strip() for part in text.split(separator)]
        optional = frozenset(_unparenthesised(n) for n in names if n.startswith("("))
        modules = tuple(_unparenthesised(n) if n.startswith("(") else n for n in names)
        return cls(modules, independent=separator == "|", optional=optional, line=line)

    def text(self) -> str:
        """The one spelling of the layer: `a | b`, `(a) : b` (what `parse` reads back)."""
        separator = " | " if self.independent else " : "
        return separator.join(f"({m})" if m in self.optional else m for m in self.modules)


def _unparenthesised(name: str) -> str:
    return name[1:].removesuffix(")").strip()


@dataclass(frozen=True, slots=True)
class ImportContract:
    """What every contract of `contracts:` has; the subclasses add their type's options."""

    id: str = ""
    name: str = ""
    ignore_imports: tuple[IgnoredImport, ...] = ()
    unmatched_ignore_imports: str = "error"  # one of UNMATCHED_LEVELS
    import_scopes: ImportScopeOverride | None = None
    guidance: str | None = None  # replaces the default advice in the contract's messages
    line: int = 0
    type: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class LayersContract(ImportContract):
    """Higher layers may import lower ones, never the reverse, even indirectly."""

    layers: tuple[ContractLayer, ...] = ()  # from the highest to the lowest
    containers: tuple[str, ...] = ()  # module patterns; layers are relative to each
    exhaustive: bool = False  # every child of a container must be a layer
    exhaustive_ignores: tuple[str, ...] = ()
    type: ClassVar[str] = "layers"


@dataclass(frozen=True, slots=True)
class ForbiddenContract(ImportContract):
    """The source modules must not import the forbidden modules (by default even indirectly)."""

    source_modules: tuple[str, ...] = ()
    forbidden_modules: tuple[str, ...] = ()
    indirect: bool = True
    as_packages: bool = True
    type: ClassVar[str] = "forbidden"


@dataclass(frozen=True, slots=True)
class IndependenceContract(ImportContract):
    """The modules must not import each other, even indirectly."""

    modules: tuple[str, ...] = ()
    type: ClassVar[str] = "independence"


@dataclass(frozen=True, slots=True)
class AcyclicSiblingsContract(ImportContract):
    """The children of each ancestor (and of theirs, down to `depth`) import in no cycle."""

    ancestors: tuple[str, ...] = ()
    depth: int = 10
    skip_descendants: tuple[str, ...] = ()
    type: ClassVar[str] = "acyclic_siblings"


@dataclass(frozen=True, slots=True)
class ProtectedContract(ImportContract):
    """Only the allowed importers (and the protected modules themselves) may directly import
    the protected modules."""

    protected_modules: tuple[str, ...] = ()
    allowed_importers: tuple[str, ...] = ()
    as_packages: bool = True
    type: ClassVar[str] = "protected"


CONTRACT_TYPES: tuple[type[ImportContract], ...] = (
    LayersContract,
    ForbiddenContract,
    IndependenceContract,
    AcyclicSiblingsContract,
    ProtectedContract,
)
"""Every contract type, in the order the documentation lists them."""


@dataclass(frozen=True, slots=True)
class TransactionPolicy:
    calls: tuple[str, ...] = ("commit", "rollback", "begin", "begin_nested")
    owners: tuple[str, ...] = ()  # layer ids or module patterns that may call `calls`
    session_creators: tuple[str, ...] = ()  # layer ids or module patterns that may build sessions
    session_factories: tuple[str, ...] = (
        "AsyncSession",
        "Session",
        "AsyncSessionLocal",
        "SessionLocal",
    )
    session_makers: tuple[str, ...] = (
        "sessionmaker",
        "async_sessionmaker",
        "scoped_session",
        "async_scoped_session",
    )
    line: int = 0


@dataclass(frozen=True, slots=True)
class RegistryNames:
    """Call names that dispatch or register operations, matched on trailing dotted segments,
    and the layers where operation handlers live (LG403)."""

    execute: tuple[str, ...] = ("registry.execute",)
    register: tuple[str, ...] = ("registry.register",)
    lookup: tuple[str, ...] = ("registry.get_handler",)  # calls that fetch a handler directly
    handler_layers: tuple[str, ...] = ()  # layer ids whose `execute` classes are handlers


@dataclass(frozen=True, slots=True)
class CardImportGroup:
    """A group of a card's `actual_imports`: the imports of modules in these layers."""

    name: str
    layers: tuple[str, ...]
    line: int = 0


EXTERNAL_IMPORT_GROUP = "external"
"""The `actual_imports` group of modules in no layer (third-party packages, unlayered code)."""


@dataclass(frozen=True, slots=True)
class CardSettings:
    paths: tuple[str, ...] = ()  # globs of card files, relative to the project root
    root: str = "."  # what a card's **Path:** is relative to, relative to the project root
    import_groups: tuple[CardImportGroup, ...] = ()  # layers without one: grouped by layer id

    def import_group(self, layer_id: str | None) -> str:
        """The `actual_imports` group of an import of a module in `layer_id` (None: no layer)."""
        if layer_id is None:
            return EXTERNAL_IMPORT_GROUP
        for group in self.import_groups:
            if layer_id in group.layers:
                return group.name
        return layer_id


@dataclass(frozen=True, slots=True)
class PerFileIgnore:
    """A `rules.per_file_ignores` entry: findings of `codes` (codes or prefixes) in the files
    `glob` matches are not reported."""

    glob: str
    codes: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True, slots=True)
class RuleSelection:
    """Rule selectors: codes, code prefixes (`LG1`) or `ALL`, as written."""

    select: tuple[str, ...] = ()  # empty = every rule enabled by default
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[PerFileIgnore, ...] = ()


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """A validated `layerguard.yaml`.

    `root` is the directory holding the file: every path in the contract is relative to it.
    """

    root: Path
    source_roots: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    placeholders: tuple[Placeholder, ...] = ()
    layers: tuple[Layer, ...] = ()
    cross_domain_layers: tuple[str, ...] = ()  # LG103: domains may not import each other here
    contracts: tuple[ImportContract, ...] = ()
    transactions: TransactionPolicy = field(default_factory=TransactionPolicy)
    import_scopes: dict[str, ImportScopeOverride] = field(default_factory=dict)
    registry: RegistryNames = field(default_factory=RegistryNames)
    cards: CardSettings = field(default_factory=CardSettings)
    rules: RuleSelection = field(default_factory=RuleSelection)
    max_file_size_kb: int = DEFAULT_MAX_FILE_BYTES // KIB  # larger files: reported, not read
    path: Path | None = None  # the file it was read from, as given (problems name it so)
    sections: frozenset[str] = frozenset()
    """The top-level keys the file has: a project without `transactions:` is not assumed to
    use SQLAlchemy's transactions, one with `registry:` uses the operation registry."""
    lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    """YAML line of every value, by key path (`layers[3].paths[0]`): where problems point."""
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """What is true of a valid contract but worth saying (a check it could not finish); the
    commands print them on stderr."""

    @property
    def file_name(self) -> str:
        """The contract file's path relative to the root (the root is its directory): where
        findings about the contract itself point."""
        return self.path.name if self.path is not None else CONFIG_FILE_NAME

    def layer(self, layer_id: str) -> Layer | None:
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        return None

    def line_of(self, key_path: str) -> int:
        """The line of `key_path`, or of its closest ancestor present in the file (0 if none)."""
        while key_path:
            if key_path in self.lines:
                return self.lines[key_path]
            key_path = key_path[: max(key_path.rfind("."), key_path.rfind("["), 0)]
        return 0

    def scope_policy(self, code: str, default: ImportScopePolicy) -> ImportScopePolicy:
        """The import kinds rule `code` counts: its own `default`, overridden by the file."""
        override = self.import_scopes.get(code)
        return default if override is None else override.apply(default)
