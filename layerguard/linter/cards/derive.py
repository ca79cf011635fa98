"""What the code says a file's placement card should hold, read from the project index.

The card rules (LG303-LG305) compare cards with this and `cards generate` / `cards sync` write
it, so a freshly generated or synced card is, by construction, what the rules expect. Pure:
facts and the contract in, plain data out.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from layerguard.contracts.config.model import EXTERNAL_IMPORT_GROUP, ProjectConfig
from layerguard.linter.facts.model import (
    ClassFact,
    FileFacts,
    FunctionFact,
    Scope,
    TransactionCall,
)
from layerguard.linter.project.index import ProjectIndex, SourceFile

_STDLIB = frozenset(sys.stdlib_module_names)


# --- imports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedImport:
    """A module a card lists under `actual_imports`, with the line of its first import."""

    module: str
    line: int
    group: str


def listed_imports(index: ProjectIndex, source: SourceFile) -> tuple[ListedImport, ...]:
    """The imports a card lists in `actual_imports`, in the order the file first imports them
    (as the seed cards list them: a sorted list would rewrite every existing card).

    The convention of the seed cards: imports at module level (under `if TYPE_CHECKING:` and
    in try/if blocks too), not inside functions; no `__future__` and no standard library;
    relative imports resolved; `from X import name` lists `X`, unless `X.name` is a project
    module, which is then listed itself; the file's own module never.
    """
    own = source.module.name if source.module is not None else None
    found: dict[str, ListedImport] = {}
    for resolved in source.imports:
        fact = resolved.fact
        target = resolved.target
        if fact.scope & Scope.LAZY or target in found or target in ("__future__", own):
            continue
        if not _is_project(index, target) and target.split(".")[0] in _STDLIB:
            continue
        layer = resolved.layer.layer if resolved.layer is not None else None
        group = index.config.cards.import_group(layer)
        found[target] = ListedImport(target, fact.line, group)
    return tuple(found.values())


def lazy_imports(index: ProjectIndex, source: SourceFile) -> tuple[tuple[str, str | None], ...]:
    """(module, enclosing function) of the non-stdlib imports made inside functions: a card
    mentions them in its prose, not in `actual_imports`."""
    found: dict[str, str | None] = {}
    for resolved in source.imports:
        target = resolved.target
        if not resolved.fact.scope & Scope.LAZY or target in found or target == "__future__":
            continue
        if not _is_project(index, target) and target.split(".")[0] in _STDLIB:
            continue
        found[target] = resolved.fact.symbol
    return tuple(sorted(found.items()))


def _is_project(index: ProjectIndex, module: str) -> bool:
    return module in index.by_module or module in index.packages


ImportGroups = tuple[tuple[str, tuple[str, ...]], ...]


def group_imports(config: ProjectConfig, imports: Iterable[ListedImport]) -> ImportGroups:
    """`actual_imports` as written: every configured group (empty ones too, in their order),
    then the groups named after other layers that have imports (in layer order), then
    `external` (always)."""
    by_group: dict[str, list[str]] = {}
    for listed in imports:
        by_group.setdefault(listed.group, []).append(listed.module)
    names = [group.name for group in config.cards.import_groups]
    layer_order = {layer.id: i for i, layer in enumerate(config.layers)}
    others = sorted(
        (name for name in by_group if name not in names and name != EXTERNAL_IMPORT_GROUP),
        key=lambda name: (layer_order.get(name, len(layer_order)), name),
    )
    ordered = [*names, *others, EXTERNAL_IMPORT_GROUP]
    return tuple((name, tuple(by_group.get(name, ()))) for name in ordered)


# --- exports ---------------------------------------------------------------------------------


def is_public(name: str, all_names: tuple[str, ...] | None) -> bool:
    """Public: named in `__all__` when the module has a literal one, else no leading `_`."""
    if all_names is not None:
        return name in all_names
    return not name.startswith("_")


def _last_by_name(functions: Iterable[FunctionFact]) -> list[FunctionFact]:
    """One definition per name, in first-definition order; the last one wins (overloads and
    conditional redefinitions end with the implementation)."""
    by_name: dict[str, FunctionFact] = {}
    for function in functions:
        by_name[function.name] = function  # a dict keeps the first insertion's position
    return list(by_name.values())


def public_functions(facts: FileFacts) -> tuple[FunctionFact, ...]:
    """The top-level functions an Export Contract declares."""
    functions = [f for f in facts.functions if is_public(f.name, facts.all_names)]
    return tuple(_last_by_name(functions))


def public_classes(facts: FileFacts) -> tuple[ClassFact, ...]:
    """The top-level classes an Export Contract declares (a class defined twice: the last)."""
    by_name: dict[str, ClassFact] = {}
    for cls in facts.classes:
        if is_public(cls.name, facts.all_names):
            by_name[cls.name] = cls
    return tuple(by_name.values())


def public_methods(cls: ClassFact) -> tuple[str, ...]:
    """The method names an Export Contract lists for a class: no leading underscore (so no
    dunders), each once, in definition order."""
    names: dict[str, None] = {}
    for method in cls.methods:
        if not method.name.startswith("_"):
            names.setdefault(method.name)
    return tuple(names)


_SPACE = re.compile(r"\s+")


def normalise_signature(signature: str) -> str:
    """A signature for comparison: no `async ` prefix, no whitespace, one kind of quote, no
    trailing commas, so that `f(a:int=1,)` and `f(a: int = 1)` are the same signature."""
    text = signature.strip().removeprefix("async ").removeprefix("def ")
    text = _SPACE.sub("", text).replace('"', "'")
    return text.replace(",)", ")").replace(",]", "]")


def signature_matches(declared: str, defined: str) -> bool:
    """Whether a card's signature describes the code's: equal once normalised, or equal but for
    default values the card leaves out. Cards written by other generators often omit defaults
    (`evaluate(policy: str) -> bool` for `evaluate(policy: str = "any") -> bool`), all of them
    or only some (`f(a: int = 1, b: int)`, which is not valid Python, is read all the same);
    names, order, kinds, annotations and the return type are still compared, and a default the
    card does state must be the code's."""
    if normalise_signature(declared) == normalise_signature(defined):
        return True
    card, code = _parameters(declared), _parameters(defined)
    if card is None or code is None or len(card) != len(code) or card[0] != code[0]:
        return False
    return all(
        (kind, name, annotation) == (code_kind, code_name, code_annotation)
        and (default is None or default == code_default)
        for (kind, name, annotation, default), (
            code_kind,
            code_name,
            code_annotation,
            code_default,
        ) in zip(card[1:], code[1:], strict=True)
    )


_Parameter = tuple[str, str, str | None, str | None]  # kind, name, annotation, default
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


def _parameters(signature: str) -> list[_Parameter] | None:
    """`[(name, return annotation), *parameters]` of a card-style signature, None when it is
    not one. Annotations and defaults are compared as `ast.unparse` writes them.

    A signature that is not valid Python only because a parameter without a default follows
    one with a default (a card that leaves some defaults out) is read parameter by parameter.
    """
    import ast

    text = " ".join(signature.split()).removeprefix("async ").removeprefix("def ")
    try:
        tree = ast.parse(f"def {text}:\n    pass\n")
    except _PARSE_ERRORS:
        return _parameters_one_by_one(text)
    function = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(function, ast.FunctionDef):
        return None
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    kinds = ["positional-only"] * len(args.posonlyargs) + ["positional"] * len(args.args)
    found: list[_Parameter] = [("", function.name, _unparse(function.returns), None)]
    found += [
        (kind, arg.arg, _unparse(arg.annotation), _unparse(default))
        for kind, arg, default in zip(kinds, positional, defaults, strict=True)
    ]
    if args.vararg is not None:
        found.append(("*", args.vararg.arg, _unparse(args.vararg.annotation), None))
    found += [
        ("keyword-only", arg.arg, _unparse(arg.annotation), _unparse(default))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg is not None:
        found.append(("**", args.kwarg.arg, _unparse(args.kwarg.annotation), None))
    return found


def _unparse(node: object) -> str | None:
    import ast

    return ast.unparse(node) if isinstance(node, ast.AST) else None


def _parameters_one_by_one(text: str) -> list[_Parameter] | None:
    """`_parameters` of a signature whose parameters are each valid Python but not their order
    of defaults: every parameter is parsed on its own; `/`, `*` and `**` must still be where
    Python allows them."""
    import ast

    split = _split_signature(text)
    if split is None:
        return None
    name, pieces, rest = split
    if rest and not rest.startswith("->"):
        return None
    try:
        returns = ast.unparse(ast.parse(rest[2:].strip(), mode="eval").body) if rest else None
    except _PARSE_ERRORS:
        return None
    found: list[_Parameter] = [("", name, returns, None)]
    keyword_only = slash = False
    for piece in pieces:
        if found[-1][0] == "**":
            return None  # nothing follows **kwargs
        if piece == "/":
            if slash or keyword_only or len(found) == 1:
                return None
            slash = True
            found = [found[0], *(("positional-only", *p[1:]) for p in found[1:])]
            continue
        if piece == "*":
            if keyword_only:
                return None
            keyword_only = True
            continue
        try:
            tree = ast.parse(f"def _({piece}):\n    pass\n")
        except _PARSE_ERRORS:
            return None
        function = tree.body[0]
        if not isinstance(function, ast.FunctionDef):
            return None
        args = function.args
        if args.vararg is not None:
            if keyword_only:
                return None
            keyword_only = True
            found.append(("*", args.vararg.arg, _unparse(args.vararg.annotation), None))
        elif args.kwarg is not None:
            found.append(("**", args.kwarg.arg, _unparse(args.kwarg.annotation), None))
        elif len(args.args) == 1:
            arg = args.args[0]
            default = _unparse(args.defaults[0]) if args.defaults else None
            kind = "keyword-only" if keyword_only else "positional"
            found.append((kind, arg.arg, _unparse(arg.annotation), default))
        else:
            return None
    return found


def _split_signature(text: str) -> tuple[str, list[str], str] | None:
    """(name, parameter texts, what follows the closing parenthesis) of `name(...) -> ...` on
    one line, split at the commas outside brackets and strings; None if it is not that shape."""
    import io
    import keyword
    import tokenize

    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
        ]
    except (tokenize.TokenError, SyntaxError):
        return None
    if len(tokens) < 3 or tokens[0].type != tokenize.NAME or tokens[1].string != "(":
        return None
    name = tokens[0].string
    if keyword.iskeyword(name):
        return None
    pieces: list[str] = []
    depth, start = 0, tokens[1].end[1]
    lambdas = 0  # open `lambda` parameter lists at depth 0: their commas split nothing
    for token in tokens[2:]:
        if token.type == tokenize.NAME and token.string == "lambda" and not depth:
            lambdas += 1
        if token.type != tokenize.OP:
            continue
        if token.string == ":" and lambdas and not depth:
            lambdas -= 1
            continue
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}" and depth:
            depth -= 1
        elif token.string == ")":
            pieces.append(text[start : token.start[1]].strip())
            if pieces == [""]:
                pieces = []  # no parameters
            elif pieces[-1] == "":
                pieces.pop()  # a trailing comma
            if "" in pieces:
                return None
            return name, pieces, text[token.end[1] :].strip()
        elif token.string == "," and not depth and not lambdas:
            pieces.append(text[start : token.start[1]].strip())
            start = token.end[1]
    return None


# --- transactions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransactionUse:
    """The file's transaction calls: the controlled ones (`transactions.calls`) and flushes."""

    controlled: tuple[TransactionCall, ...]
    flushes: tuple[TransactionCall, ...]

    def calls(self, method: str) -> bool:
        return any(call.method == method for call in (*self.controlled, *self.flushes))


def transaction_use(index: ProjectIndex, source: SourceFile) -> TransactionUse:
    controlled = frozenset(index.config.transactions.calls)
    calls = index.transaction_calls(source)
    return TransactionUse(
        controlled=tuple(c for c in calls if c.method in controlled),
        flushes=tuple(c for c in calls if c.method == "flush" and "flush" not in controlled),
    )


class Declared(enum.Enum):
    """What a card's Transaction field claims about the file's code."""

    OWNS = "OWNS COMMIT"  # it controls the unit of work: at least one controlled call
    FORBIDDEN = "Forbidden"  # no controlled call (flush is fine)
    FLUSH_ONLY = "Flush only"  # no controlled call; flushes are what it does
    NONE = "None"  # no transaction call at all, flush included


TRANSACTION_VALUES: dict[str, Declared] = {
    "owns commit": Declared.OWNS,
    "owns commits": Declared.OWNS,
    "owns transaction": Declared.OWNS,
    "owns transactions": Declared.OWNS,
    "owner": Declared.OWNS,
    "commits": Declared.OWNS,
    "forbidden": Declared.FORBIDDEN,
    "must not commit": Declared.FORBIDDEN,
    "never commits": Declared.FORBIDDEN,
    "no commit": Declared.FORBIDDEN,
    "caller owns": Declared.FORBIDDEN,
    "flush only": Declared.FLUSH_ONLY,
    "flushes only": Declared.FLUSH_ONLY,
    "none": Declared.NONE,
    "no": Declared.NONE,
    "n/a": Declared.NONE,
    "read only": Declared.NONE,
    "readonly": Declared.NONE,
}
"""Transaction field values, as `read_transaction_value` normalises them."""

_VALUE_END = re.compile(r"\s+[-\u2013\u2014]\s|[(;,:.]")


def read_transaction_value(value: str) -> Declared | None:
    """The claim of a Transaction field; a note after a dash, parenthesis, colon or comma is
    ignored, as are case, `_` and `-` ("Flush-only (drivers)" is `Flush only`). None: unknown."""
    # Blanks collapsed first: `\s+` tried at each space of a long run is quadratic.
    head = _VALUE_END.split(" ".join(value.split()), maxsplit=1)[0]
    words = " ".join(head.replace("_", " ").replace("-", " ").split()).casefold()
    return TRANSACTION_VALUES.get(words)


def transaction_value(use: TransactionUse, owner: bool) -> Declared:
    """The Transaction value describing the code: what generation writes.

    A file that calls nothing is `Forbidden` where the contract does not let it own the unit of
    work and `None` where it may (it could, but does not).
    """
    if use.controlled:
        return Declared.OWNS
    if use.flushes:
        return Declared.FLUSH_ONLY
    return Declared.NONE if owner else Declared.FORBIDDEN


def is_transaction_owner(index: ProjectIndex, source: SourceFile) -> bool:
    """Whether `transactions.owners` lets this file control the unit of work."""
    module = source.module.name if source.module is not None else ""
    return index.layer_map.allows(index.config.transactions.owners, source.layer, module)


def contradiction(declared: Declared, use: TransactionUse) -> tuple[TransactionCall, ...] | None:
    """The calls contradicting a claim (empty tuple: a missing call does), or None if it holds."""
    if declared is Declared.OWNS:
        return None if use.controlled else ()
    calls = (*use.controlled, *use.flushes) if declared is Declared.NONE else use.controlled
    return tuple(sorted(calls, key=lambda call: (call.line, call.col))) or None


# --- operations, domains, inbound ------------------------------------------------------------


def registered_operations(facts: FileFacts) -> tuple[str, ...]:
    """Operation names this file registers with a literal, each once, in source order."""
    names: dict[str, None] = {}
    for call in facts.registry_calls:
        if call.kind == "register" and call.operation is not None:
            names.setdefault(call.operation)
    return tuple(names)


def other_domains(source: SourceFile) -> tuple[str, ...]:
    """Domains of the modules this file imports (any scope), other than its own."""
    own = source.layer.domain if source.layer is not None else None
    domains = {
        resolved.layer.domain
        for resolved in source.imports
        if resolved.layer is not None and resolved.layer.domain not in (None, own)
    }
    return tuple(sorted(d for d in domains if d is not None))


def importers(index: ProjectIndex) -> dict[str, list[SourceFile]]:
    """Project file -> the other project files importing it (any scope), each once."""
    found: dict[str, dict[str, SourceFile]] = {}
    for source in index.files.values():
        for resolved in source.imports:
            target = resolved.file
            if target is not None and target is not source:
                found.setdefault(target.path, {})[source.path] = source
    return {path: list(by_path.values()) for path, by_path in found.items()}


def is_blank(facts: FileFacts) -> bool:
    """A file with nothing to describe (an empty `__init__.py`): no card is expected for it."""
    return not (
        facts.imports
        or facts.functions
        or facts.classes
        or facts.docstring
        or facts.registry_calls
        or facts.transaction_calls
        or facts.syntax_error
    )
