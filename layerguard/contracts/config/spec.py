"""The format of `layerguard.yaml`, declared once.

The loader's structural checks (`structure.py`), the JSON Schema shipped for editors
(`schema.py`) and the key reference of docs/configuration.md (`key_table.py`) are all derived
from `SPEC`, so they cannot disagree. Cross-references (layer ids, placeholders, overlaps) are
checked by the loader on top of this.

Defaults are read from the model's own defaults, so documentation and behaviour agree too.
The node types are NamedTuples rather than dataclasses: they are created at import time of
every command that reads the file, and a dataclass costs about a millisecond to create.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple, TypeAlias

from layerguard.contracts.config.model import (
    UNMATCHED_LEVELS,
    AcyclicSiblingsContract,
    AllowedImport,
    CardSettings,
    ForbiddenContract,
    LayersContract,
    ProjectConfig,
    ProtectedContract,
    RegistryNames,
    TransactionPolicy,
)

SUPPORTED_VERSIONS = (1,)


class Text(NamedTuple):
    """A string, optionally constrained by a regex (`hint` says in words what it must be)."""

    pattern: str | None = None
    hint: str = "a string"
    label: str = "string"  # its type, in the reference table


class Integer(NamedTuple):
    choices: tuple[int, ...] = ()
    what: str = "value"  # named in "unsupported <what> 2 (supported: 1)"
    minimum: int | None = None


class Boolean(NamedTuple):
    """`true` or `false`."""


class ListOf(NamedTuple):
    item: Node
    unique: bool = True


class Key(NamedTuple):
    """One property of a `Record`."""

    name: str
    node: Node
    description: str
    required: bool = False
    default: object = None  # None: no default (required, or absent means "none")


class Record(NamedTuple):
    """A mapping with a fixed set of keys.

    `require_any` names keys of which at least one must be present and non-empty; `renamed`
    says what to write instead of keys known from elsewhere (import-linter's).
    """

    keys: tuple[Key, ...]
    require_any: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()

    def key(self, name: str) -> Key | None:
        return next((k for k in self.keys if k.name == name), None)


class Variant(NamedTuple):
    """One kind of a `Tagged` mapping: the tag value that selects it and its own keys."""

    name: str
    keys: tuple[Key, ...]
    description: str


class Tagged(NamedTuple):
    """A mapping whose `tag` key says which variant it is, and so which keys it may have:
    the `common` ones and its variant's."""

    tag: str
    common: tuple[Key, ...]
    variants: tuple[Variant, ...]
    renamed: tuple[tuple[str, str], ...] = ()

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    def tag_key(self) -> Key:
        names = ", ".join(f"`{v.name}`" for v in self.variants)
        pattern = "^(?:" + "|".join(re.escape(v.name) for v in self.variants) + ")$"
        return Key(
            self.tag,
            Text(pattern=pattern, hint=f"one of {names}", label="contract type"),
            f"Which kind of contract this is: {names}.",
            required=True,
        )

    def record(self, variant: Variant) -> Record:
        """The keys a mapping of `variant` may have, as a plain record."""
        return Record(keys=(self.tag_key(), *self.common, *variant.keys), renamed=self.renamed)


class MapOf(NamedTuple):
    """A mapping whose keys are chosen by the user (placeholder names, rule codes, globs)."""

    key: Text
    value: Record | ListOf
    key_label: str  # how the key is shown in docs: `<name>`, `<code>`
    value_description: str


Node: TypeAlias = Text | Integer | Boolean | ListOf | Record | MapOf | Tagged

# --- value grammars ------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = rf"{_IDENT}(?:\.{_IDENT})*"
_PLACEHOLDER = r"\{" + _IDENT + r"\}"

LAYER_ID = Text(
    pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$",
    hint="a layer id (letters, digits, `_`, `.`, `-`; e.g. `L4_handlers`, `L2.1`)",
    label="layer id",
)
PATH_GLOB = Text(
    pattern=(
        r"^(?!/)(?:\*\*|" + _PLACEHOLDER + r"|(?!\.\.?(?:/|$))(?:[^/*{}\\]|\*(?!\*))+)"
        r"(?:/(?:\*\*|" + _PLACEHOLDER + r"|(?!\.\.?(?:/|$))(?:[^/*{}\\]|\*(?!\*))+))*$"
    ),
    hint=(
        "a path glob relative to the project root: `/`-separated segments, `*` within a "
        "segment, `**` and `{name}` as whole segments, no leading `/`, no `.` or `..` segment"
    ),
    label="path glob",
)
MODULE_PATTERN = Text(
    pattern=(
        r"^(?:\*\*|" + _PLACEHOLDER + r"|(?:[A-Za-z0-9_]|\*(?!\*))+)"
        r"(?:\.(?:\*\*|" + _PLACEHOLDER + r"|(?:[A-Za-z0-9_]|\*(?!\*))+))*$"
    ),
    hint=(
        "a dotted module pattern: `*` within a segment, `**` and `{name}` as whole segments "
        "(e.g. `app.hoc.cus.{domain}.L5_schemas.**`)"
    ),
    label="module pattern",
)
MODULE_NAME = Text(
    pattern=rf"^{_DOTTED}$",
    hint="a dotted module name (e.g. `sqlalchemy`)",
    label="module name",
)
CALL_NAME = Text(
    pattern=rf"^{_DOTTED}$",
    hint="a dotted call name (e.g. `registry.execute`)",
    label="call name",
)
IDENTIFIER = Text(pattern=rf"^{_IDENT}$", hint="a Python identifier", label="identifier")
SEGMENT_NAME = Text(
    pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$",
    hint="a directory or package name (letters, digits, `_`, `-`)",
    label="directory name",
)
RULE_CODE = Text(pattern=r"^LG[0-9]{3}$", hint="a rule code such as `LG101`", label="rule code")
RULE_SELECTOR = Text(
    pattern=r"^(?:[Aa][Ll][Ll]|[Ll][Gg][0-9]{0,3})$",
    hint="a rule code or prefix (`LG101`, `LG1`) or `ALL`",
    label="rule code or prefix",
)
RELATIVE_DIR = Text(
    pattern=r"^(?!/)(?:\.|(?:(?!\.\.(?:/|$))[^/*{}\\]+)(?:/(?!\.\.(?:/|$))[^/*{}\\]+)*)/?$",
    hint="a directory relative to the project root, without wildcards or `..` (e.g. `backend`)",
    label="directory",
)
_LAYER_MODULE = rf"(?:{_DOTTED}|\(\s*{_DOTTED}\s*\))"
CONTRACT_LAYER = Text(
    pattern=(
        rf"^\s*{_LAYER_MODULE}(?:\s*\|\s*{_LAYER_MODULE})*\s*$"
        rf"|^\s*{_LAYER_MODULE}(?:\s*:\s*{_LAYER_MODULE})+\s*$"
    ),
    hint=(
        "a module name, or sibling module names on one level separated by `|` (independent: "
        "they must not import each other) or by `:` (they may); `(name)` marks a module that "
        "may be missing"
    ),
    label="layer",
)
CONTRACT_ID = Text(
    pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$",
    hint="a contract id (letters, digits, `_`, `.`, `-`; e.g. `layered`)",
    label="contract id",
)
ALERT_LEVEL = Text(
    pattern="^(?:" + "|".join(UNMATCHED_LEVELS) + ")$",
    hint=" or ".join(f"`{level}`" for level in UNMATCHED_LEVELS),
    label=" \\| ".join(UNMATCHED_LEVELS),
)
LAYER_OR_MODULE = Text(
    pattern=r"^[A-Za-z0-9_*{}][A-Za-z0-9_.*{}\-]*$",
    hint="a layer id or a dotted module pattern",
    label="layer id or module pattern",
)


def _strings(item: Text) -> ListOf:
    return ListOf(item=item)


_PROJECT = ProjectConfig(root=Path())
_TX = TransactionPolicy()
_REGISTRY = RegistryNames()
_CARDS = CardSettings()

_ALLOW = Record(
    keys=(
        Key(
            "module",
            MODULE_PATTERN,
            "The module pattern this layer may import despite `forbid`; `{domain}` is bound to "
            "the importing file's domain.",
            required=True,
        ),
        Key("reason", Text(), "Why the exception exists (shown in explanations).", required=True),
        Key(
            "importer",
            MODULE_PATTERN,
            "Narrow the exception to importing modules matching this pattern.",
        ),
        Key(
            "unmatched",
            ALERT_LEVEL,
            "What it gives when no import of the layer matches it (LG119): a finding of that "
            "severity, or nothing (`none`, for a standing rule rather than an exception).",
            default=AllowedImport(module="", reason="").unmatched,
        ),
    )
)

_IMPORT_GROUP = Record(
    keys=(
        Key(
            "name",
            IDENTIFIER,
            "The group's key under `actual_imports` (e.g. `spine_internal`).",
            required=True,
        ),
        Key(
            "layers",
            _strings(LAYER_ID),
            "Ids of the layers whose modules this group lists.",
            required=True,
        ),
    )
)

_LAYER = Record(
    keys=(
        Key("id", LAYER_ID, "Short, stable id used everywhere else in the file.", required=True),
        Key("name", Text(), "Human-readable name, shown in messages.", required=True),
        Key(
            "paths",
            _strings(PATH_GLOB),
            "Path globs of the files in this layer, relative to the project root (`*` within a "
            "directory, `**` any depth, `{placeholder}` one directory). A glob also covers "
            "everything below what it matches.",
            default=[],
        ),
        Key(
            "modules",
            _strings(MODULE_PATTERN),
            "Dotted module patterns of the modules in this layer, with the same wildcards; a "
            "pattern also covers its submodules.",
            default=[],
        ),
        Key(
            "exclude",
            _strings(PATH_GLOB),
            "Path globs carved out of this layer (they may belong to another layer).",
            default=[],
        ),
        Key(
            "forbid",
            Record(
                keys=(
                    Key(
                        "layers",
                        _strings(LAYER_ID),
                        "Ids of layers this layer must not import (LG101).",
                        default=[],
                    ),
                    Key(
                        "modules",
                        _strings(MODULE_NAME),
                        "External packages or modules this layer must not import, by dotted "
                        "prefix: `sqlalchemy` also forbids `sqlalchemy.ext.asyncio` (LG102).",
                        default=[],
                    ),
                    Key(
                        "indirect",
                        Boolean(),
                        "Also forbid depending on them through other modules: a chain of "
                        "imports from this layer to a forbidden layer or module is reported "
                        "(LG101, LG102) at its first import, with the whole chain.",
                        default=False,
                    ),
                )
            ),
            "What this layer must not import.",
        ),
        Key(
            "allow",
            ListOf(item=_ALLOW, unique=False),
            "Explicit exceptions to `forbid`, each with a reason.",
            default=[],
        ),
        Key(
            "requires_cards",
            Boolean(),
            "Every file of this layer must have a placement card (LG302; files with nothing to "
            "describe, such as an empty `__init__.py`, are exempt).",
            default=False,
        ),
    ),
    require_any=("paths", "modules"),
)

_PLACEHOLDER_RULE = Record(
    keys=(
        Key(
            "values",
            _strings(SEGMENT_NAME),
            "The only directory names the placeholder may stand for (empty: any).",
            default=[],
        ),
        Key(
            "exclude",
            _strings(SEGMENT_NAME),
            "Directory names the placeholder never stands for.",
            default=[],
        ),
    )
)

_SCOPE_POLICY = Record(
    keys=(
        Key(
            "type_checking",
            Boolean(),
            "Count imports under `if TYPE_CHECKING:`. Absent: the rule's own default.",
        ),
        Key(
            "lazy",
            Boolean(),
            "Count imports inside a function body. Absent: the rule's own default.",
        ),
        Key(
            "conditional",
            Boolean(),
            "Count imports inside try/except, another `if`, a loop or a `with`. Absent: the "
            "rule's own default.",
        ),
    )
)

_LAYERS = LayersContract()
_FORBIDDEN = ForbiddenContract()
_ACYCLIC = AcyclicSiblingsContract()
_PROTECTED = ProtectedContract()


def _modules(name: str, description: str, default: list[str] | None = None) -> Key:
    """A contract's list of module patterns: required, unless it has a default."""
    patterns = _strings(MODULE_PATTERN)
    return Key(name, patterns, description, required=default is None, default=default)


_IGNORED_IMPORT = Record(
    keys=(
        Key(
            "importer",
            MODULE_PATTERN,
            "The importing modules, matched exactly: `a.b` is that module alone, `a.b.**` "
            "what is below it.",
            required=True,
        ),
        Key("imported", MODULE_PATTERN, "The imported modules, matched exactly.", required=True),
        Key("reason", Text(), "Why the exception exists.", required=True),
        Key(
            "unmatched",
            ALERT_LEVEL,
            "What it gives when it matches no import (LG119); absent: the contract's "
            "`unmatched_ignore_imports`.",
        ),
    )
)

CONTRACT = Tagged(
    tag="type",
    common=(
        Key("id", CONTRACT_ID, "Short, stable id: findings and baselines name it.", required=True),
        Key("name", Text(), "Human-readable name, shown in messages.", required=True),
        Key(
            "ignore_imports",
            ListOf(item=_IGNORED_IMPORT, unique=False),
            "Direct imports left out of this contract's import graph (so that no chain goes "
            "through them), each with a reason.",
            default=[],
        ),
        Key(
            "unmatched_ignore_imports",
            ALERT_LEVEL,
            "What an `ignore_imports` entry that matches no import gives (LG119): a finding of "
            "that severity, or nothing.",
            default=_LAYERS.unmatched_ignore_imports,
        ),
        Key(
            "import_scopes",
            _SCOPE_POLICY,
            "Which kinds of import this contract counts besides plain module-level ones "
            "(absent: every import, as import-linter counts them).",
        ),
        Key(
            "guidance",
            Text(),
            "How to fix a broken contract, shown in its findings instead of the default advice.",
        ),
    ),
    variants=(
        Variant(
            "layers",
            (
                Key(
                    "layers",
                    ListOf(item=CONTRACT_LAYER, unique=False),
                    "The layers, from the highest to the lowest: a module may import the layers "
                    "below its own, never those above, even indirectly (LG111).",
                    required=True,
                ),
                _modules(
                    "containers",
                    "Packages holding the layers: each layer is then a name relative to "
                    "each container.",
                    default=[],
                ),
                Key(
                    "exhaustive",
                    Boolean(),
                    "Every child of every container must be one of the layers (LG111).",
                    default=_LAYERS.exhaustive,
                ),
                Key(
                    "exhaustive_ignores",
                    _strings(IDENTIFIER),
                    "Children of the containers that need not be layers.",
                    default=[],
                ),
            ),
            "Layers, from the highest to the lowest.",
        ),
        Variant(
            "forbidden",
            (
                _modules(
                    "source_modules", "The modules that must not import the forbidden ones (LG112)."
                ),
                _modules(
                    "forbidden_modules",
                    "The modules they must not import: project modules or external "
                    "packages (`sqlalchemy`, `sqlalchemy.orm`).",
                ),
                Key(
                    "indirect",
                    Boolean(),
                    "Also forbid chains of imports through other modules (`false`: direct "
                    "imports only, import-linter's `allow_indirect_imports = True`).",
                    default=_FORBIDDEN.indirect,
                ),
                Key(
                    "as_packages",
                    Boolean(),
                    "Each module also stands for the modules below it.",
                    default=_FORBIDDEN.as_packages,
                ),
            ),
            "Some modules must not import others.",
        ),
        Variant(
            "independence",
            (
                _modules(
                    "modules",
                    "Modules that must not import each other, even indirectly (LG113); a "
                    "pattern's matches are separate modules, each with what is below it.",
                ),
            ),
            "Modules independent of each other.",
        ),
        Variant(
            "acyclic_siblings",
            (
                _modules(
                    "ancestors", "Packages whose children must not import each other in a cycle."
                ),
                Key(
                    "depth",
                    Integer(minimum=0, what="depth"),
                    "How many levels below each ancestor are checked too (0: its children only).",
                    default=_ACYCLIC.depth,
                ),
                _modules(
                    "skip_descendants", "Packages below the ancestors not to check.", default=[]
                ),
            ),
            "No import cycles between sibling packages (LG114).",
        ),
        Variant(
            "protected",
            (
                _modules(
                    "protected_modules",
                    "Modules only the allowed importers may import directly (LG115).",
                ),
                _modules(
                    "allowed_importers",
                    "The modules that may import them (an empty list: none may).",
                ),
                Key(
                    "as_packages",
                    Boolean(),
                    "Each module also stands for the modules below it.",
                    default=_PROTECTED.as_packages,
                ),
            ),
            "Modules only some others may import.",
        ),
    ),
    renamed=(
        ("allow_indirect_imports", "write `indirect: false` for import-linter's `true`"),
        ("unmatched_ignore_imports_alerting", "it is `unmatched_ignore_imports` here"),
        ("broken_contract_guidance", "it is `guidance` here"),
    ),
)

SPEC = Record(
    keys=(
        Key(
            "version",
            Integer(choices=SUPPORTED_VERSIONS, what="version"),
            "Version of this file format.",
            required=True,
        ),
        Key(
            "source_roots",
            _strings(RELATIVE_DIR),
            "Directories whose sub-directories are top-level packages: with `backend`, the "
            "file `backend/app/x.py` is the module `app.x`.",
            default=list(_PROJECT.source_roots),
        ),
        Key(
            "exclude",
            _strings(PATH_GLOB),
            "Path globs never checked (e.g. `**/migrations/**`).",
            default=[],
        ),
        Key(
            "placeholders",
            MapOf(
                key=IDENTIFIER,
                value=_PLACEHOLDER_RULE,
                key_label="<name>",
                value_description="Constraints on the `{<name>}` placeholder.",
            ),
            "Constraints on the `{name}` placeholders of layer paths. A placeholder matches one "
            "directory name; `{domain}` also names the file's domain. Placeholders used without "
            "an entry here match any directory name.",
            default={},
        ),
        Key("layers", ListOf(item=_LAYER, unique=False), "The layers, in any order.", default=[]),
        Key(
            "contracts",
            ListOf(item=CONTRACT, unique=False),
            "Import contracts over the project's import graph, as import-linter writes them "
            "(docs/contracts.md): `layers`, `forbidden`, `independence`, `acyclic_siblings`, "
            "`protected`. Unlike `forbid` in `layers`, they see indirect imports.",
            default=[],
        ),
        Key(
            "cross_domain_layers",
            _strings(LAYER_ID),
            "Layers (with `{domain}` in their paths) whose files may not import these layers "
            "in another domain (LG103).",
            default=[],
        ),
        Key(
            "transactions",
            Record(
                keys=(
                    Key(
                        "calls",
                        _strings(IDENTIFIER),
                        "Method names that commit, roll back or open a transaction, whatever "
                        "the receiver is called (LG201).",
                        default=list(_TX.calls),
                    ),
                    Key(
                        "owners",
                        _strings(LAYER_OR_MODULE),
                        "Layer ids or module patterns (an entry with a `.` or `*` that is not "
                        "a layer id) that may make those calls. Empty: only the runtime's "
                        "session dependency owns the unit of work.",
                        default=list(_TX.owners),
                    ),
                    Key(
                        "session_creators",
                        _strings(LAYER_OR_MODULE),
                        "Layer ids or module patterns that may construct sessions (LG202).",
                        default=list(_TX.session_creators),
                    ),
                    Key(
                        "session_factories",
                        _strings(CALL_NAME),
                        "Names whose call constructs a session (LG202): SQLAlchemy's, "
                        "SQLModel's or the project's own, by the name they were imported as; "
                        "another package's (`requests.Session`) never counts.",
                        default=list(_TX.session_factories),
                    ),
                    Key(
                        "session_makers",
                        _strings(CALL_NAME),
                        "Names that build session factories: `sessionmaker(...)()` constructs a "
                        "session, and so does calling a name the file binds to a maker's "
                        "result (`Maker = sessionmaker(...)`).",
                        default=list(_TX.session_makers),
                    ),
                )
            ),
            "Who owns the unit of work.",
        ),
        Key(
            "import_scopes",
            MapOf(
                key=RULE_CODE,
                value=_SCOPE_POLICY,
                key_label="<code>",
                value_description="Which imports rule `<code>` counts.",
            ),
            "Per rule, which kinds of import it counts besides plain module-level imports. "
            "Unlisted rules, and unlisted kinds, keep the rule's own default.",
            default={},
        ),
        Key(
            "registry",
            Record(
                keys=(
                    Key(
                        "execute",
                        _strings(CALL_NAME),
                        "Calls that dispatch an operation by name, matched on trailing dotted "
                        "names.",
                        default=list(_REGISTRY.execute),
                    ),
                    Key(
                        "register",
                        _strings(CALL_NAME),
                        "Calls that register an operation handler.",
                        default=list(_REGISTRY.register),
                    ),
                    Key(
                        "lookup",
                        _strings(CALL_NAME),
                        "Calls that fetch a handler directly, bypassing dispatch.",
                        default=list(_REGISTRY.lookup),
                    ),
                    Key(
                        "handler_layers",
                        _strings(LAYER_ID),
                        "Layers whose files hold operation handlers: there, a class with an "
                        "`execute` method that no other class derives from is a handler even "
                        "when no registration names it (LG403). Registered classes are handlers "
                        "wherever they live.",
                        default=list(_REGISTRY.handler_layers),
                    ),
                )
            ),
            "The operation registry's call names, and where its handlers live.",
        ),
        Key(
            "cards",
            Record(
                keys=(
                    Key(
                        "paths",
                        _strings(PATH_GLOB),
                        "Globs of placement card files, relative to the project root.",
                        default=list(_CARDS.paths),
                    ),
                    Key(
                        "root",
                        RELATIVE_DIR,
                        "The directory a card's `**Path:**` is relative to.",
                        default=_CARDS.root,
                    ),
                    Key(
                        "import_groups",
                        ListOf(item=_IMPORT_GROUP, unique=False),
                        "How a card's `actual_imports` are grouped, in this order. An import of "
                        "a layer in no group goes to a group named after the layer id; an "
                        "import of a module in no layer (a third-party package, unlayered "
                        "code) goes to `external`.",
                        default=[],
                    ),
                )
            ),
            "Where the placement cards are, and how generated cards group imports.",
        ),
        Key(
            "max_file_size_kb",
            Integer(minimum=1, what="a size in kilobytes"),
            "Python files and cards larger than this many kilobytes are not read: each is "
            "reported (LG001, LG002) instead. Parsing takes about 2.4 s and 400 MB per "
            "megabyte of ordinary code, and far more on dense literals; the default is twice "
            "the largest hand-written module in the standard library and common packages. "
            "`check --max-file-size-kb` overrides it for one run.",
            default=_PROJECT.max_file_size_kb,
        ),
        Key(
            "rules",
            Record(
                keys=(
                    Key(
                        "select",
                        _strings(RULE_SELECTOR),
                        "Run only these rules (codes or prefixes: `LG1` is every import rule, "
                        "`ALL` every rule). Empty: every rule enabled by default.",
                        default=[],
                    ),
                    Key(
                        "extend_select",
                        _strings(RULE_SELECTOR),
                        "Also run these rules (codes or prefixes), e.g. opt-in rules.",
                        default=[],
                    ),
                    Key(
                        "ignore",
                        _strings(RULE_SELECTOR),
                        "Never run these rules (codes or prefixes).",
                        default=[],
                    ),
                    Key(
                        "per_file_ignores",
                        MapOf(
                            key=PATH_GLOB,
                            value=_strings(RULE_SELECTOR),
                            key_label="<glob>",
                            value_description="Rules (codes or prefixes) not reported in the "
                            "files the glob matches.",
                        ),
                        "Rules not reported in some files, by path glob (relative to the "
                        "project root; a glob also covers everything below what it matches): "
                        '`"backend/app/legacy/**": [LG101]`. Applies to cards too.',
                        default={},
                    ),
                )
            ),
            "Which rules run (the command line can narrow this further).",
        ),
    )
)
