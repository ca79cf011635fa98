"""FileFacts: everything the rules need to know about one Python file, as plain data.

Extraction (the only code that touches libcst) produces it; the cache stores it; the rules read
it. Facts depend only on the file's content and the extraction settings, never on the file's
path: two files with the same bytes share one cache entry, so anything path-dependent (module
names, relative-import resolution, layers) is computed later, by the project index.

Lines are 1-based; columns are 1-based too, as in `path:line:col` diagnostics. The facts are
NamedTuples: a warm run rebuilds tens of thousands of them from the cache, and a tuple is
several times cheaper to create than a frozen dataclass.
"""

from __future__ import annotations

from enum import IntFlag
from typing import Literal, NamedTuple


class Scope(IntFlag):
    """Where a statement stands; 0 means plain module level."""

    TYPE_CHECKING = 1  # under `if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`
    LAZY = 2  # inside a function body
    CONDITIONAL = 4  # inside try/except/else/finally, another `if`, a loop or a `with`


class ImportFact(NamedTuple):
    """One imported name.

    `import a.b as c` -> module "a.b", name None. `from a import b` -> module "a", name "b";
    whether `a.b` is a submodule is project knowledge, decided by the index. `from . import x`
    -> module "", level 1. Star imports have name "*". Dynamic imports
    (`importlib.import_module("x")`, `__import__("x")`) have `dynamic=True`.
    """

    line: int
    col: int
    module: str
    name: str | None = None
    level: int = 0
    scope: int = 0
    dynamic: bool = False
    symbol: str | None = None  # enclosing function/method, e.g. "Repo.save"


TransactionMethod = Literal["commit", "rollback", "begin", "begin_nested", "flush"]


class TransactionCall(NamedTuple):
    """`<receiver>.commit()` and friends, in code (never in strings or comments)."""

    line: int
    col: int
    method: str
    receiver: str  # the receiver as written, e.g. "self._session", "ctx.session"
    symbol: str | None = None
    origin: str | None = None  # what the receiver names through the file's imports (below)


class SessionConstruction(NamedTuple):
    """A call that builds a session: `AsyncSession(...)`, `SessionLocal()`, `sessionmaker()()`."""

    line: int
    col: int
    factory: str  # the factory as written, e.g. "AsyncSessionLocal" or "sessionmaker()"
    symbol: str | None = None
    origin: str | None = None  # what the factory (or maker) names through the file's imports


# An `origin` is the dotted name a receiver or callee stands for through the imports of its file:
# `sqlalchemy.orm.Session` for `S` after `from sqlalchemy.orm import Session as S`, `app.db.git`
# for `git` after `from app.db import git`, with the import's leading dots when it is relative
# (`..db.SessionLocal`). None: its first name is bound by no import of the file (a local
# variable, `self`, a name the file defines).


RegistryCallKind = Literal["execute", "register", "lookup"]


class RegistryCall(NamedTuple):
    """A call of a configured registry name with its literal operation name, if it has one."""

    line: int
    col: int
    kind: str  # RegistryCallKind
    callee: str  # as written, e.g. "registry.execute", "self.registry.register"
    operation: str | None  # the string literal, None when the name is computed
    handler: str | None = None  # register(): the handler expression, e.g. "PolicyQueryHandler"
    symbol: str | None = None


class FunctionFact(NamedTuple):
    """A function or method definition with its card-style signature."""

    name: str
    line: int
    col: int
    signature: str  # "name(a: int, b: str = 'x') -> bool" without self/cls
    is_async: bool = False
    docstring: str | None = None
    decorators: tuple[str, ...] = ()


class ClassFact(NamedTuple):
    name: str
    line: int
    col: int
    bases: tuple[str, ...] = ()
    methods: tuple[FunctionFact, ...] = ()
    docstring: str | None = None


class Suppression(NamedTuple):
    """A `# layerguard: ignore[CODES] reason` comment.

    A comment on a line of its own covers the next line; a trailing comment covers its line.
    """

    line: int
    col: int
    codes: tuple[str, ...]
    reason: str
    own_line: bool = False

    @property
    def target_line(self) -> int:
        return self.line + 1 if self.own_line else self.line


class SyntaxErrorFact(NamedTuple):
    """Why a file yields no facts: a syntax error, or (with `remedy`) a file that is not
    analysed at all: unreadable, not a regular file, too large, too deeply nested."""

    line: int
    col: int
    message: str
    remedy: str | None = None  # what to do about it; None: fix the syntax


UNREAD_MESSAGES = ("not read: ", "too large to analyse ")
"""How the message of a file that was not read begins (project/extraction.py writes them)."""


class FileFacts(NamedTuple):
    imports: tuple[ImportFact, ...] = ()
    transaction_calls: tuple[TransactionCall, ...] = ()
    session_constructions: tuple[SessionConstruction, ...] = ()
    registry_calls: tuple[RegistryCall, ...] = ()
    functions: tuple[FunctionFact, ...] = ()
    classes: tuple[ClassFact, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    docstring: str | None = None
    all_names: tuple[str, ...] | None = None  # a literal `__all__`, if the module has one
    syntax_error: SyntaxErrorFact | None = None

    @property
    def unread(self) -> bool:
        """Whether the file was not read at all (not a regular file, unreadable, too large),
        as opposed to read and not analysed (too deeply nested, a crash) or a syntax error."""
        error = self.syntax_error
        return (
            error is not None
            and error.remedy is not None
            and error.message.startswith(UNREAD_MESSAGES)
        )
