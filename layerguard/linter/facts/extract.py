"""FileFacts extraction: the one place that touches libcst.

Positions without libcst's metadata machinery: `MetadataWrapper` + `PositionProvider` cost about
twice the parse itself, because they deep-copy the tree and record a range for every node.
Instead the module is code-generated once through a `CodegenState` subclass whose hooks see
every node in source order; the hooks recognise the few nodes that make facts and compute a
position only for those, by counting the newlines emitted since the previous fact. Code
generation is lossless, so the emitted text *is* the file and the positions are exact.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

try:
    from libcst._nodes.internal import CodegenState
except ImportError as error:  # pragma: no cover - only with an unsupported libcst
    raise ImportError(
        f"layerguard needs libcst's code generator state (libcst._nodes.internal.CodegenState), "
        f"which libcst {getattr(cst, 'LIBCST_VERSION', '?')} no longer has; install a libcst "
        "version within layerguard's supported range (see pyproject.toml)"
    ) from error

from layerguard.linter.facts.logical_lines import logical_line_ends
from layerguard.linter.facts.model import (
    ClassFact,
    FileFacts,
    FunctionFact,
    ImportFact,
    RegistryCall,
    Scope,
    SessionConstruction,
    Suppression,
    SyntaxErrorFact,
    TransactionCall,
)
from layerguard.linter.facts.nesting import nesting_problem
from layerguard.linter.facts.settings import (
    BASE_TRANSACTION_METHODS,
    SQLALCHEMY_KEYWORDS,
    ExtractionSettings,
)

_NO_OP: contextlib.nullcontext[None] = contextlib.nullcontext()

PRIVATE_API = {
    "libcst._nodes.internal.CodegenState": (
        "__init__(default_indent, default_newline)",
        "tokens",
        "before_codegen",
        "after_codegen",
        "record_syntactic_position",
    ),
    "libcst.Module": ("_codegen",),
}
"""The libcst internals extraction relies on (for speed: see the module docstring). libcst's
version is capped in pyproject.toml, and tests/linter/test_libcst_private_api.py fails with a
clear message when a new libcst changes any of them."""

SUPPRESSION_RE = re.compile(
    r"#\s*layerguard\s*:\s*ignore\b(?:\[(?P<codes>[^\]]*)\])?(?P<reason>.*)$", re.IGNORECASE
)
_REASON_LEADERS = " \t:-—–,;"

_OPERATION_KEYWORDS = ("operation", "op", "name")
_HANDLER_KEYWORDS = ("handler",)


TOO_DEEP = "too deeply nested to analyse"
SPLIT_IT = "split it into smaller expressions, or exclude the file (`exclude` in layerguard.yaml)"


def extract_facts(source: bytes | str, settings: ExtractionSettings) -> FileFacts:
    """Parse `source` and collect its facts; a file that does not parse gets a syntax error,
    one nested too deeply to parse safely is not parsed (see nesting.py).

    A MemoryError propagates: whether a file fits depends on the limits of the process
    parsing it, so the answer must not be cached as the file's facts.
    """
    raw = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    null = -1 if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else raw.find(b"\0")  # UTF-16
    if null >= 0:  # CPython refuses such a file, and libcst cannot evaluate its strings
        line = raw.count(b"\n", 0, null) + 1
        col = null - (raw.rfind(b"\n", 0, null) + 1) + 1
        return FileFacts(
            syntax_error=SyntaxErrorFact(line, col, "source cannot contain null bytes")
        )
    nested = nesting_problem(raw)
    if nested is not None:
        return _too_deep(nested.line, f"{TOO_DEEP} ({nested.message})")
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return FileFacts(syntax_error=_syntax_error(source, error))
    except (SyntaxError, ValueError, LookupError) as error:  # bad encoding, unknown codec
        return FileFacts(syntax_error=SyntaxErrorFact(1, 1, f"cannot decode file: {error}"))
    except RecursionError:
        return _too_deep(1, TOO_DEEP)
    text = source if isinstance(source, str) else raw.decode(module.encoding)  # as libcst did
    try:
        collector = _FactCollector(module, settings, text)
        collector.generate()
        return collector.facts(module)
    except RecursionError:
        return _too_deep(1, TOO_DEEP)


def _too_deep(line: int, message: str) -> FileFacts:
    return FileFacts(syntax_error=SyntaxErrorFact(line, 1, message, SPLIT_IT))


def _syntax_error(source: bytes | str, error: cst.ParserSyntaxError) -> SyntaxErrorFact:
    """Prefer CPython's own diagnosis: its positions and messages are what users know.

    libcst accepts newer syntax than the running interpreter, so CPython may accept or reject
    for its own reasons; its answer is used only when it also fails.
    """
    try:
        compile(source, "<file>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as cpython:
        if cpython.lineno is not None:
            return SyntaxErrorFact(cpython.lineno, cpython.offset or 1, cpython.msg)
    except (ValueError, RecursionError, MemoryError):
        pass
    lines = str(error).splitlines()
    detail = lines[1].removeprefix("parser error: ") if len(lines) > 1 else lines[0]
    return SyntaxErrorFact(error.raw_line, error.raw_column + 1, detail)


def _dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for Name/Attribute chains; calls in the chain keep their parentheses: `f().x`."""
    parts: list[str] = []
    while True:
        if isinstance(node, cst.Name):
            parts.append(node.value)
            break
        if isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        elif isinstance(node, cst.Call):
            inner = _dotted(node.func)
            if inner is None:
                return None
            parts.append(inner + "()")
            break
        else:
            return None
    return ".".join(reversed(parts))


def _fits(node: cst.Call, keywords: frozenset[str]) -> bool:
    """Whether SQLAlchemy's method would take the call's arguments: only `keywords`, and
    `**kwargs` only where it takes a keyword at all."""
    for arg in node.args:
        if arg.keyword is not None:
            if arg.keyword.value not in keywords:
                return False
        elif arg.star != "**" or not keywords:
            return False
    return True


_SESSION_METHODS = frozenset(BASE_TRANSACTION_METHODS)
"""SQLAlchemy's own names among the transaction calls: a receiver that is a module (`git` in
`git.commit()`) is not a session there. Names a project adds to `transactions.calls` are its
own API, whatever their receiver."""


def _call_words(names: Sequence[str]) -> str:
    """A regular expression for a call of one of `names`: the name, then the call's
    parenthesis past whitespace, line continuations, comments and the closing parentheses of
    a parenthesised callee."""
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return rf"(?:{alternatives})(?=(?:[\s\\)]|#[^\r\n]*)*\()"


_TARGETS = (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.NamedExpr, cst.For, cst.CompFor)


def _other_bindings(module: cst.Module) -> frozenset[str]:
    """The names a module binds otherwise than by imports: parameters, definitions, and the
    targets of assignments, `for`, `with ... as`, `except ... as` and `:=`. A walk with a
    stack: a tree that parsed may still be too deep for recursion."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if isinstance(node, (cst.Param, cst.FunctionDef, cst.ClassDef)):
            names.add(node.name.value)
        elif isinstance(node, _TARGETS):
            _add_targets(node.target, names)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            _add_targets(node.asname.name, names)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            _add_targets(node.name.name, names)
    return frozenset(names)


def _add_targets(node: cst.BaseExpression, names: set[str]) -> None:
    if isinstance(node, cst.Name):
        names.add(node.value)
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            _add_targets(element.value, names)
    elif isinstance(node, cst.StarredElement):
        _add_targets(node.value, names)


def _bound_name(asname: cst.AsName | None) -> str | None:
    """The name an import's `as` clause binds."""
    if asname is None or not isinstance(asname.name, cst.Name):
        return None
    return asname.name.value


def _string_literal(node: cst.BaseExpression) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _suffix_patterns(names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(name.split(".")) for name in names)


def _matches_suffix(callee: str, patterns: tuple[tuple[str, ...], ...]) -> bool:
    segments = tuple(callee.split("."))
    return any(len(p) <= len(segments) and segments[-len(p) :] == p for p in patterns)


def _is_type_checking(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Name) and test.value == "TYPE_CHECKING") or (
        isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"
    )


@functools.lru_cache(maxsize=8)
def _fact_words(settings: ExtractionSettings) -> re.Pattern[str]:
    """What the text of a statement holding a fact contains, at least: `import`, a name the
    collector looks for in calls followed by the call's parenthesis (past whitespace, line
    continuations, comments and the closing parentheses of a parenthesised callee), or a
    suppression comment. Also f- and t-strings, whose syntax newer Pythons extended: the
    tokenizer of the running one may see their extent otherwise than libcst."""
    called = {
        *settings.transaction_methods,
        *settings.session_factories,
        *settings.session_makers,
        *(name.rsplit(".", 1)[-1] for name in settings.registry_execute),
        *(name.rsplit(".", 1)[-1] for name in settings.registry_register),
        *(name.rsplit(".", 1)[-1] for name in settings.registry_lookup),
    }
    call = _call_words([name for name in called if name])
    prefix = r"(?<!\w)(?:[fFtT][rRbB]?|[rRbB][fFtT])['\"]"  # not `"tenant"`'s t"
    return re.compile(rf"import|{call}|(?i:layerguard)|{prefix}")


_LONE_CONTINUATION = re.compile(r"^[ \t\f]*\\\r?\n", re.MULTILINE)
"""A line holding only a backslash continuation: libcst drops it from the code it generates
(its one known break of the round trip besides a lone `\\r`), so what was generated before a
statement is no longer the source up to it."""


def _line_ends(text: str) -> dict[int, int] | None:
    """Where the logical lines of `text` end, when the code libcst generates is the source to
    the byte and lines count the same for the tokenizer and for the collector (which counts
    `\\n`: a lone `\\r` ends a line for the tokenizer only)."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    if "\\" in text and _LONE_CONTINUATION.search(text):
        return None
    return logical_line_ends(text)


class _Deferred:
    """A statement as code generation meets it: the collector decides then how to generate
    it (`_FactCollector._deferred`). Not a libcst node: it lives only in the trees the
    collector generates, where libcst's code generation calls `_codegen` on it."""

    __slots__ = ("node",)

    def __init__(self, node: cst.BaseStatement) -> None:
        self.node = node

    def _codegen(self, state: _FactCollector) -> None:
        state._deferred(self.node)


_CLAUSES: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.FunctionDef: ("body",),
    cst.ClassDef: ("body",),
    cst.If: ("body", "orelse"),
    cst.Else: ("body",),
    cst.For: ("body", "orelse"),
    cst.While: ("body", "orelse"),
    cst.Try: ("body", "handlers", "orelse", "finalbody"),
    cst.TryStar: ("body", "handlers", "orelse", "finalbody"),
    cst.ExceptHandler: ("body",),
    cst.ExceptStarHandler: ("body",),
    cst.Finally: ("body",),
    cst.With: ("body",),
    cst.MatchCase: ("body",),
    cst.Match: ("cases",),
}
"""The fields through which each compound statement (or clause of one) holds statements, in
the order code generation emits them. Each but `Match` is generated as its leading lines and
decorators, one logical line up to and including the colon's line, then the statements of
its indented block and the clauses that follow (see `_FactCollector._compound`)."""


@dataclass(slots=True)
class _Frame:
    """What entering a suite adds: scope flags and, for defs and classes, a symbol name."""

    flags: int
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class _Made:
    """A name bound to what a session maker returns: calling it builds a session."""

    origin: str | None  # the maker's, through the file's imports
    symbol: str | None  # the function or class whose body binds it; None at module level
    in_function: bool  # whether that is a function: its nested functions see the name too


@dataclass(slots=True)
class _Pending:
    """A definition whose position is known only once code generation reaches its name."""

    node: cst.FunctionDef | cst.ClassDef
    line: int = 0
    col: int = 0
    methods: list[_Pending] = field(default_factory=list)


class _FactCollector(CodegenState):
    """A code generator that notes facts as it emits the code."""

    def __init__(self, module: cst.Module, settings: ExtractionSettings, text: str) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self._settings = settings
        self._tx_methods = frozenset(settings.transaction_methods)
        self._factories = frozenset(settings.session_factories)
        self._makers = frozenset(settings.session_makers)
        # What the file's imports bind, as met in source order (see `_origin`).
        self._bindings: dict[str, str] = {}  # bound name -> the dotted name it stands for
        self._imported_modules: set[str] = set()  # modules an `import` statement names
        self._factory_calls = set(self._factories)  # the names above, and their import aliases
        self._maker_calls = set(self._makers)
        self._made: dict[str, _Made] = {}  # names bound to a maker's result (see `_on_assign`)
        self._alias_calls: Callable[[str], object] | None = None  # finds calls of the aliases
        self._other_bindings: frozenset[str] | None = None  # see `_rebound`
        self._execute = _suffix_patterns(settings.registry_execute)
        self._register = _suffix_patterns(settings.registry_register)
        self._lookup = _suffix_patterns(settings.registry_lookup)
        self._registry_last = frozenset(
            p[-1] for p in (*self._execute, *self._register, *self._lookup)
        )
        self._module = module
        # Position tracking: tokens before `_scanned` have been counted into (_line, _col).
        self._scanned = 0
        self._line = 1
        self._col = 0
        # Scope tracking.
        self._suite_frames: dict[int, _Frame] = {}
        self._flags: list[int] = [0]
        self._symbols: list[str] = []
        self._entered: list[cst.CSTNode] = []  # suites/lambdas that pushed a frame
        self._watch: cst.CSTNode | None = None  # the innermost of them: its end pops a frame
        self._own_line_comment: cst.Comment | None = None  # the comment of the current EmptyLine
        # Definitions whose positions we wait for, by id of their def/class node.
        self._pending_defs: dict[int, _Pending] = {}
        self._definitions: list[_Pending] = []
        self._collect_definitions(module)
        # Skipping statements that cannot hold facts (see `_statement`).
        self._text = text
        self._line_ends = _line_ends(text)
        self._line_starts: list[int] = []
        if self._line_ends is not None:
            lines = text.split("\n")[:-1]  # each ended by a newline
            self._line_starts = [0, *itertools.accumulate(len(line) + 1 for line in lines)]
        self._may_hold_facts = _fact_words(settings).search
        # Results.
        self.imports: list[ImportFact] = []
        self.transaction_calls: list[TransactionCall] = []
        self.session_constructions: list[SessionConstruction] = []
        self.registry_calls: list[RegistryCall] = []
        self.suppressions: list[Suppression] = []

    # -- positions ------------------------------------------------------------------------

    def record_syntactic_position(  # type: ignore[override]  # any context manager will do
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> contextlib.nullcontext[None]:
        """libcst's hook for its own PositionProvider, entered around most nodes: a shared
        no-op context instead of the base class's generator-based one (a tenth of the time
        of code generation went into creating those)."""
        return _NO_OP

    def _position(self) -> tuple[int, int]:
        """(line, 1-based column) of the next token to be emitted."""
        tokens = self.tokens
        if self._scanned < len(tokens):
            chunk = "".join(tokens[self._scanned :])
            newlines = chunk.count("\n")
            if newlines:
                self._line += newlines
                self._col = len(chunk) - chunk.rfind("\n") - 1
            else:
                self._col += len(chunk)
            tokens.clear()
            tokens.append(chunk[-1:])  # keep pop_trailing_newline() meaningful
            self._scanned = 1
        return self._line, self._col + 1

    # -- skipping what cannot hold facts -------------------------------------------------

    def generate(self) -> None:
        """Generate the module's code, emitting at once the text of each statement, or header
        of a compound statement, that cannot hold a fact (when the tokenizer could say where
        the logical lines end)."""
        module = self._module
        if self._line_ends is None:
            module._codegen(self)
            return
        module.with_changes(body=[_Deferred(s) for s in module.body])._codegen(self)

    def _deferred(self, node: cst.BaseStatement, is_elif: bool = False) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            self._statement(node)
        elif type(node) in _CLAUSES:
            self._compound(node, is_elif)
        else:
            node._codegen(self)

    def _statement(self, statement: cst.SimpleStatementLine) -> None:
        """A simple statement: its text if it cannot hold a fact, else node by node."""
        line, col = self._position()
        if col == 1:
            text = self._span(line, line + len(statement.leading_lines))
            if text is not None:
                self.tokens.append(text)
                return
        statement._codegen(self)

    def _compound(self, node: Any, is_elif: bool = False) -> None:
        """A compound statement or a clause of one: the text of its header if that cannot hold
        a fact, then its block and clauses, each deferred in turn; else node by node, with
        the statements of its blocks deferred."""
        line, col = self._position()
        text = None
        body = getattr(node, "body", None)
        if col == 1 and type(node) is not cst.Match and isinstance(body, cst.IndentedBlock):
            text = self._header(node, line)
        if text is None:
            light = self._lighten(node)
            if is_elif:
                light._codegen(self, is_elif=True)
            else:
                light._codegen(self)
            return
        self.before_codegen(node)
        self.tokens.append(text)
        for name in _CLAUSES[type(node)]:
            value = getattr(node, name)
            if name == "body":
                self._block(value)
            elif isinstance(value, Sequence):
                for clause in value:
                    self._compound(clause)
            elif value is not None:
                self._compound(value, is_elif=isinstance(value, cst.If))
        self.after_codegen(node)

    def _header(self, node: Any, line: int) -> str | None:
        """The text of a compound statement's header from `line` (where its leading lines
        start): its decorators, each a logical line, then the one up to its colon."""
        ends = self._line_ends
        assert ends is not None
        at = line + len(node.leading_lines)
        for decorator in getattr(node, "decorators", ()):
            end = ends.get(at + len(decorator.leading_lines))
            if end is None:
                return None
            at = end + 1
        at += len(getattr(node, "lines_after_decorators", ()))
        return self._span(line, at)

    def _span(self, line: int, first: int) -> str | None:
        """The text from the start of `line` to the end of the logical line whose first token
        is on line `first`, if it cannot hold a fact. The text emitted so far is the source
        up to `line`, and blank and comment lines hold no token: when the tokenizer has a
        logical line start on `first`, the span is exactly what libcst would generate."""
        ends = self._line_ends
        assert ends is not None
        last = ends.get(first)
        starts = self._line_starts
        if last is None or last >= len(starts):  # no logical line starts there; no newline
            return None
        text = self._text[starts[line - 1] : starts[last]]
        if self._may_hold_facts(text) or (self._alias_calls and self._alias_calls(text)):
            return None
        return text

    def _block(self, block: cst.IndentedBlock) -> None:
        """An indented block whose header (the rest of the colon's line) is emitted: as
        libcst's IndentedBlock generates the rest, with its statements deferred."""
        self.before_codegen(block)
        self.increase_indent(self.default_indent if block.indent is None else block.indent)
        for statement in block.body:
            self._deferred(statement)
        for line in block.footer:
            line._codegen(self)
        self.decrease_indent()
        self.after_codegen(block)

    def _lighten(self, node: Any) -> Any:
        """`node` rebuilt (libcst nodes are immutable) with the statements of its blocks, and
        of its clauses' blocks, deferred; a definition's pending position follows it."""
        changes: dict[str, Any] = {}
        for name in _CLAUSES[type(node)]:
            value = getattr(node, name)
            if isinstance(value, cst.IndentedBlock):
                changes[name] = value.with_changes(body=[_Deferred(s) for s in value.body])
            elif isinstance(value, Sequence):
                changes[name] = [self._lighten(clause) for clause in value]
            elif value is not None and type(value) in _CLAUSES:
                changes[name] = self._lighten(value)
        light = node.with_changes(**changes)
        pending = self._pending_defs.pop(id(node), None)
        if pending is not None:
            self._pending_defs[id(light)] = pending  # taken when `light` is generated, next
        return light

    # -- scopes ---------------------------------------------------------------------------

    @property
    def _scope(self) -> int:
        return self._flags[-1]

    @property
    def _symbol(self) -> str | None:
        return ".".join(self._symbols) if self._symbols else None

    def _mark(self, suite: cst.CSTNode | None, flags: int, symbol: str | None = None) -> None:
        if suite is not None:
            self._suite_frames[id(suite)] = _Frame(flags, symbol)

    def _register_suites(self, node: cst.CSTNode) -> None:
        conditional = int(Scope.CONDITIONAL)
        if isinstance(node, cst.FunctionDef):
            self._mark(node.body, int(Scope.LAZY), node.name.value)
            self._locate_definition(node)
        elif isinstance(node, cst.ClassDef):
            self._mark(node.body, 0, node.name.value)
            self._locate_definition(node)
        elif isinstance(node, cst.If):
            flags = int(Scope.TYPE_CHECKING) if _is_type_checking(node.test) else conditional
            self._mark(node.body, flags)
            if isinstance(node.orelse, cst.Else):
                self._mark(node.orelse.body, conditional)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self._mark(node.body, conditional)
            for handler in node.handlers:
                self._mark(handler.body, conditional)
            if node.orelse is not None:
                self._mark(node.orelse.body, conditional)
            if node.finalbody is not None:
                self._mark(node.finalbody.body, conditional)
        elif isinstance(node, (cst.For, cst.While)):
            self._mark(node.body, conditional)
            if node.orelse is not None:
                self._mark(node.orelse.body, conditional)
        elif isinstance(node, cst.Match):
            for case in node.cases:
                self._mark(case.body, conditional)
        elif isinstance(node, cst.With):  # `with suppress(ImportError):` may skip the import
            self._mark(node.body, conditional)

    def _locate_definition(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        """The position of a definition's name, computed before its code is generated.

        Hooking every `Name` node to catch the few that name definitions would cost a call
        per name of the file; the def/class line is instead the current line plus the lines
        of its leading comments, decorators and blank lines, and the column follows from the
        indentation and the keyword.
        """
        pending = self._pending_defs.pop(id(node), None)  # once: ids are reused after a free
        if pending is None:
            return
        line, _ = self._position()
        line += len(node.leading_lines) + len(node.lines_after_decorators)
        for decorator in node.decorators:
            line += self._module.code_for_node(decorator).count("\n")
        col = sum(map(len, self.indent_tokens)) + 1
        if isinstance(node, cst.FunctionDef):
            if node.asynchronous is not None:
                col += len("async") + len(node.asynchronous.whitespace_after.value)
            col += len("def") + len(node.whitespace_after_def.value)
        else:
            col += len("class") + len(node.whitespace_after_class.value)
        pending.line, pending.col = line, col

    def _enter(self, node: cst.CSTNode, frame: _Frame) -> None:
        self._flags.append(self._flags[-1] | frame.flags)
        if frame.symbol is not None:
            self._symbols.append(frame.symbol)
        self._entered.append(node)
        self._watch = node

    def after_codegen(self, node: cst.CSTNode) -> None:
        """Called for every node: only the innermost suite or lambda that opened a scope
        matters, and an identity test is the cheapest way to find it."""
        if node is self._watch:
            self._entered.pop()
            self._flags.pop()
            frame = self._suite_frames.pop(id(node), None)
            if frame is not None and frame.symbol is not None:
                self._symbols.pop()
            self._watch = self._entered[-1] if self._entered else None

    # -- codegen hooks --------------------------------------------------------------------

    def before_codegen(self, node: cst.CSTNode) -> None:
        """Hooks by exact node type: one dict lookup per generated node is the overhead."""
        hook = _BEFORE.get(type(node))
        if hook is not None:
            hook(self, node)

    def _on_suite(self, node: cst.BaseSuite) -> None:
        frame = self._suite_frames.get(id(node))
        if frame is not None:
            self._enter(node, frame)

    def _on_empty_line(self, node: cst.EmptyLine) -> None:
        self._own_line_comment = node.comment

    def _on_lambda(self, node: cst.Lambda) -> None:
        self._enter(node, _Frame(int(Scope.LAZY)))

    # -- facts ----------------------------------------------------------------------------

    def _on_import(self, node: cst.Import | cst.ImportFrom) -> None:
        line, col = self._position()
        scope, symbol = self._scope, self._symbol
        if isinstance(node, cst.Import):
            for alias in node.names:
                module = _dotted(alias.name) or ""
                self.imports.append(ImportFact(line, col, module, None, 0, scope, False, symbol))
                self._bind_module(module, alias.asname)
            return
        from_module = (_dotted(node.module) or "") if node.module is not None else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            self.imports.append(
                ImportFact(line, col, from_module, "*", level, scope, False, symbol)
            )
            return
        prefix = "." * level + (from_module + "." if from_module else "")
        for alias in node.names:
            name = _dotted(alias.name) or ""
            self.imports.append(
                ImportFact(line, col, from_module, name, level, scope, False, symbol)
            )
            bound = _bound_name(alias.asname) or name
            self._bindings[bound] = prefix + name
            if bound != name and (name in self._factories or name in self._makers):
                self._alias(
                    bound, self._factory_calls if name in self._factories else self._maker_calls
                )

    def _bind_module(self, module: str, asname: cst.AsName | None) -> None:
        """`import a.b.c` binds `a`, `import a.b as c` binds `c`; either names modules."""
        if not module:
            return
        parts = module.split(".")
        self._imported_modules.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        bound = _bound_name(asname)
        if bound is not None:
            self._bindings[bound] = module
        else:
            self._bindings[parts[0]] = parts[0]

    def _alias(self, bound: str, calls: set[str]) -> None:
        """`from sqlalchemy.orm import Session as S`: calls of `S` are looked at, also in
        statements the words of `_fact_words` would skip."""
        calls.add(bound)
        self._watch_aliases()

    def _watch_aliases(self) -> None:
        """Look for calls of the names that stand for factories and makers here only."""
        aliases = (
            (self._factory_calls - self._factories)
            | (self._maker_calls - self._makers)
            | self._made.keys()
        )
        self._alias_calls = re.compile(_call_words(sorted(aliases))).search

    def _rebound(self, dotted: str | None) -> bool:
        """Whether the first name of `dotted` is also bound otherwise than by an import
        somewhere in the file (a parameter, an assignment): then the import may not be what
        it names where it is used. Found once per file, when first asked (rarely: a
        transaction call on an imported name), by a walk of the whole tree."""
        if self._other_bindings is None:
            self._other_bindings = _other_bindings(self._module)
        return dotted is not None and dotted.partition(".")[0] in self._other_bindings

    def _origin(self, dotted: str | None) -> str | None:
        """What `dotted` stands for through the imports met so far (see model.py): the dotted
        name its first name was imported as, followed by the rest; None if no import bound it
        (or the chain holds a call)."""
        if dotted is None or "(" in dotted:
            return None
        first, dot, rest = dotted.partition(".")
        bound = self._bindings.get(first)
        return None if bound is None else bound + dot + rest

    def _on_call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in self._tx_methods and (
                attr not in SQLALCHEMY_KEYWORDS or _fits(node, SQLALCHEMY_KEYWORDS[attr])
            ):
                self._transaction_call(func, attr)
            elif attr == "import_module":
                self._dynamic_import(node)
            elif attr in self._factory_calls:
                dotted = _dotted(func)
                self._session_construction(dotted or attr, self._factories, self._origin(dotted))
            elif attr in self._registry_last:
                self._maybe_registry_call(node)
        elif isinstance(func, cst.Name):
            name = func.value
            if name in self._factory_calls:
                self._session_construction(name, self._factories, self._origin(name))
            elif name == "__import__" or name == "import_module":
                self._dynamic_import(node)
            elif name in self._registry_last:
                self._maybe_registry_call(node)
            elif name in self._made:
                self._made_call(name)
        elif isinstance(func, cst.Call):
            maker = _dotted(func.func)
            if maker is not None and maker.rsplit(".", 1)[-1] in self._maker_calls:
                self._session_construction(maker + "()", self._makers, self._origin(maker))

    def _on_assign(self, node: cst.Assign | cst.AnnAssign) -> None:
        """`Maker = sessionmaker(engine)` (or `async_sessionmaker`, `scoped_session`, any of
        `session_makers`): the names bound are session factories from here on, in this
        function (and the functions it holds), or in the whole file at module level. Only
        statements that name a maker get here: others are emitted as text (`_span`)."""
        value = node.value
        if not isinstance(value, cst.Call):
            return
        maker = _dotted(value.func)
        if maker is None or maker.rsplit(".", 1)[-1] not in self._maker_calls:
            return
        targets = (
            [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        )
        made = _Made(self._origin(maker), self._symbol, bool(self._scope & Scope.LAZY))
        names = [target.value for target in targets if isinstance(target, cst.Name)]
        for name in names:
            self._made[name] = made
        if names:
            self._watch_aliases()

    def _made_call(self, name: str) -> None:
        """A call of a name bound to a maker's result, where that binding is visible."""
        made = self._made[name]
        symbol = self._symbol
        if (
            made.symbol is None
            or symbol == made.symbol
            or (made.in_function and symbol is not None and symbol.startswith(made.symbol + "."))
        ):
            self._session_construction(name, self._makers, made.origin)

    def _transaction_call(self, func: cst.Attribute, method: str) -> None:
        """A call of a transaction method; for SQLAlchemy's names, not on a module that an
        `import` statement names (`import transaction; transaction.commit()`), and with the
        receiver's origin, which tells the index about modules `from` imports name."""
        receiver = _dotted(func.value)
        origin = None
        if method in _SESSION_METHODS:
            origin = self._origin(receiver)
            if origin is not None and self._rebound(receiver):
                origin = None  # `def f(db): db.commit()` where the file imports a module `db`
            if origin in self._imported_modules:
                return
        if receiver is None:
            receiver = self._module.code_for_node(func.value)
        line, col = self._position()
        self.transaction_calls.append(
            TransactionCall(line, col, method, receiver, self._symbol, origin)
        )

    def _maybe_registry_call(self, node: cst.Call) -> None:
        callee = _dotted(node.func)
        if callee is None:
            return
        if _matches_suffix(callee, self._execute):
            self._registry_call(node, "execute", callee)
        elif _matches_suffix(callee, self._register):
            self._registry_call(node, "register", callee)
        elif _matches_suffix(callee, self._lookup):
            self._registry_call(node, "lookup", callee)

    def _session_construction(
        self, factory: str, names: frozenset[str], origin: str | None
    ) -> None:
        """A call of `factory` (a maker's call: `sessionmaker()`), if what it stands for is
        one of `names`: an alias counts by its imported name, and a name that an import made
        something else (`from x import Other as Session`) does not."""
        if origin is not None and origin.rsplit(".", 1)[-1] not in names:
            return
        line, col = self._position()
        self.session_constructions.append(
            SessionConstruction(line, col, factory, self._symbol, origin)
        )

    def _dynamic_import(self, node: cst.Call) -> None:
        if not node.args or node.args[0].keyword is not None:
            return
        target = _string_literal(node.args[0].value)
        if target is None:
            return
        level = len(target) - len(target.lstrip("."))
        module = target[level:]
        if level:
            package = next(
                (
                    _string_literal(arg.value)
                    for arg in node.args
                    if arg.keyword is not None and arg.keyword.value == "package"
                ),
                None,
            )
            if package is None:
                return  # relative to a computed package: unknowable
            parts = package.split(".")
            base = parts[: len(parts) - level + 1]
            module = ".".join([*base, module] if module else base)
        line, col = self._position()
        self.imports.append(ImportFact(line, col, module, None, 0, self._scope, True, self._symbol))

    def _registry_call(self, node: cst.Call, kind: str, callee: str) -> None:
        positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
        operation_node = positional[0].value if positional else None
        handler_node = positional[1].value if len(positional) > 1 else None
        for arg in node.args:
            if arg.keyword is None:
                continue
            if arg.keyword.value in _OPERATION_KEYWORDS:
                operation_node = arg.value
            elif arg.keyword.value in _HANDLER_KEYWORDS:
                handler_node = arg.value
        operation = _string_literal(operation_node) if operation_node is not None else None
        handler = None
        if kind == "register" and handler_node is not None:
            target = handler_node.func if isinstance(handler_node, cst.Call) else handler_node
            handler = _dotted(target)
        line, col = self._position()
        self.registry_calls.append(
            RegistryCall(line, col, kind, callee, operation, handler, self._symbol)
        )

    def _on_comment(self, node: cst.Comment) -> None:
        match = SUPPRESSION_RE.search(node.value)
        if match is None:
            return
        codes_text = match.group("codes")
        codes = tuple(c.strip().upper() for c in (codes_text or "").split(",") if c.strip())
        reason = match.group("reason").strip().lstrip(_REASON_LEADERS).strip()
        line, col = self._position()
        self.suppressions.append(
            Suppression(line, col, codes, reason, own_line=node is self._own_line_comment)
        )

    # -- definitions ----------------------------------------------------------------------

    def _collect_definitions(self, module: cst.Module) -> None:
        for statement in module.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                pending = _Pending(statement)
                self._pending_defs[id(statement)] = pending
                self._definitions.append(pending)
                if isinstance(statement, cst.ClassDef) and isinstance(
                    statement.body, cst.IndentedBlock
                ):
                    for member in statement.body.body:
                        if isinstance(member, cst.FunctionDef):
                            method = _Pending(member)
                            self._pending_defs[id(member)] = method
                            pending.methods.append(method)

    def _function_fact(self, pending: _Pending, is_method: bool) -> FunctionFact:
        node = pending.node
        assert isinstance(node, cst.FunctionDef)
        decorators = tuple(
            _dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
            or self._module.code_for_node(d.decorator)
            for d in node.decorators
        )
        drop_first = is_method and "staticmethod" not in decorators
        return FunctionFact(
            name=node.name.value,
            line=pending.line,
            col=pending.col,
            signature=self._signature(node, drop_first),
            is_async=node.asynchronous is not None,
            docstring=node.get_docstring(),
            decorators=decorators,
        )

    def _signature(self, node: cst.FunctionDef, drop_first: bool) -> str:
        code = self._module.code_for_node
        params = node.params

        def render(param: cst.Param, prefix: str = "") -> str:
            text = prefix + param.name.value
            if param.annotation is not None:
                text += ": " + code(param.annotation.annotation)
            if param.default is not None:
                text += (" = " if param.annotation is not None else "=") + code(param.default)
            return text

        parts = [render(p) for p in params.posonly_params]
        if params.posonly_params:
            parts.append("/")
        parts.extend(render(p) for p in params.params)
        if isinstance(params.star_arg, cst.Param):
            parts.append(render(params.star_arg, "*"))
        elif params.kwonly_params:
            parts.append("*")
        parts.extend(render(p) for p in params.kwonly_params)
        if params.star_kwarg is not None:
            parts.append(render(params.star_kwarg, "**"))
        if drop_first and parts and parts[0] not in ("/", "*") and not parts[0].startswith("*"):
            parts.pop(0)
            if parts and parts[0] == "/":
                parts.pop(0)
        signature = f"{node.name.value}({', '.join(parts)})"
        if node.returns is not None:
            signature += " -> " + code(node.returns.annotation)
        return " ".join(signature.split())  # multi-line annotations collapse to one line

    def _definitions_facts(self) -> tuple[tuple[FunctionFact, ...], tuple[ClassFact, ...]]:
        functions: list[FunctionFact] = []
        classes: list[ClassFact] = []
        for pending in self._definitions:
            node = pending.node
            if isinstance(node, cst.FunctionDef):
                functions.append(self._function_fact(pending, is_method=False))
                continue
            bases = tuple(
                _dotted(arg.value) or self._module.code_for_node(arg.value) for arg in node.bases
            )
            classes.append(
                ClassFact(
                    name=node.name.value,
                    line=pending.line,
                    col=pending.col,
                    bases=bases,
                    methods=tuple(self._function_fact(m, is_method=True) for m in pending.methods),
                    docstring=node.get_docstring(),
                )
            )
        return tuple(functions), tuple(classes)

    def facts(self, module: cst.Module) -> FileFacts:
        functions, classes = self._definitions_facts()
        return FileFacts(
            imports=tuple(self.imports),
            transaction_calls=tuple(self.transaction_calls),
            session_constructions=tuple(self.session_constructions),
            registry_calls=tuple(self.registry_calls),
            functions=functions,
            classes=classes,
            suppressions=tuple(self.suppressions),
            docstring=module.get_docstring(),
            all_names=_literal_all(module),
        )


_BEFORE: dict[type[cst.CSTNode], Callable[[_FactCollector, Any], None]] = {
    cst.Call: _FactCollector._on_call,
    cst.IndentedBlock: _FactCollector._on_suite,
    cst.SimpleStatementSuite: _FactCollector._on_suite,
    cst.Import: _FactCollector._on_import,
    cst.ImportFrom: _FactCollector._on_import,
    cst.Comment: _FactCollector._on_comment,
    cst.EmptyLine: _FactCollector._on_empty_line,
    cst.Lambda: _FactCollector._on_lambda,
    cst.Assign: _FactCollector._on_assign,
    cst.AnnAssign: _FactCollector._on_assign,
    cst.FunctionDef: _FactCollector._register_suites,
    cst.ClassDef: _FactCollector._register_suites,
    cst.If: _FactCollector._register_suites,
    cst.Try: _FactCollector._register_suites,
    cst.TryStar: _FactCollector._register_suites,
    cst.For: _FactCollector._register_suites,
    cst.While: _FactCollector._register_suites,
    cst.Match: _FactCollector._register_suites,
    cst.With: _FactCollector._register_suites,
}
"""The collector's hooks. A class-level table of plain functions: bound methods stored on the
instance would make every collector a reference cycle, which extraction workers (running with
the cyclic garbage collector off) would never free."""


def _literal_all(module: cst.Module) -> tuple[str, ...] | None:
    """The names of a literal top-level `__all__ = [...]`, if there is one."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, (cst.Assign, cst.AnnAssign)):
                continue
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            else:
                targets = [small.target]
            if not any(isinstance(t, cst.Name) and t.value == "__all__" for t in targets):
                continue
            value = small.value
            if isinstance(value, (cst.List, cst.Tuple)):
                names = [
                    _string_literal(e.value) for e in value.elements if isinstance(e, cst.Element)
                ]
                if all(n is not None for n in names):
                    return tuple(n for n in names if n is not None)
            return None
    return None
